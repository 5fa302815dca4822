"""Shared utilities: device choice, seeding, run profiles and the data cache.

Used by every chapter. The profile (``AUDIOMAP_PROFILE``) decides only *sizes*
(clips, epochs, widths), never which code runs:

* ``quick``    -- continuous integration: each notebook in about a minute;
* ``standard`` -- the default, a 2-core laptop: each chapter within ~5 minutes;
* ``full``     -- a GPU, paper-scale runs.

Names across the course say their units: ``_s`` seconds, ``_ms`` milliseconds,
``_hz`` hertz, ``_db`` decibels; a plain count (``length``, ``n_fft``,
``hop_length``, ``delay``) is in **samples**. ``sr`` is the course's one name for
a sample rate, always an ``int`` in Hz. Code spells "center" the American way
(as torch's ``center=`` does); the prose may say "centre". A ``check_`` function
validates its argument and raises a ``ValueError`` (or ``TypeError``) naming it;
the argument checks shared by every module (:func:`check_positive_int`,
:func:`check_non_negative_int`) live here.
"""
from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

__all__ = [
    "PROFILES",
    "get_profile",
    "by_profile",
    "get_device",
    "set_seed",
    "get_cache_dir",
    "make_plain_text",
    "promote_floats",
    "check_positive_int",
    "check_non_negative_int",
    "check_real",
    "check_tensor",
    "compute_median_time_s",
]

PROFILES: tuple[str, ...] = ("quick", "standard", "full")
"""The run profiles, smallest first."""

T = TypeVar("T")


def get_profile() -> str:
    """Return the active run profile, read from ``AUDIOMAP_PROFILE``.

    Returns:
        One of ``"quick"``, ``"standard"`` (the default when the variable is
        unset or empty) or ``"full"``.

    Raises:
        ValueError: the variable holds any other value.
    """
    value = os.environ.get("AUDIOMAP_PROFILE", "").strip().lower() or "standard"
    if value not in PROFILES:
        raise ValueError(
            f"AUDIOMAP_PROFILE must be one of {', '.join(PROFILES)}; got {value!r}"
        )
    return value


def by_profile(quick: T, standard: T, full: T, profile: str | None = None) -> T:
    """Pick the value that belongs to a profile.

    Example: ``n_clips = by_profile(quick=300, standard=5000, full=20000)``.

    Args:
        quick, standard, full: the value for each profile.
        profile: the profile to use; ``None`` means :func:`get_profile`.

    Returns:
        The argument named by the profile.
    """
    name = get_profile() if profile is None else profile
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}; got {name!r}")
    return {"quick": quick, "standard": standard, "full": full}[name]


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """Choose the compute device: a CUDA GPU when present, else Apple MPS, else CPU.

    Args:
        prefer: force a device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a
            :class:`torch.device`; ``None`` reads the ``AUDIOMAP_DEVICE`` environment
            variable, and without it picks the best device present.

    Returns:
        A :class:`torch.device`.

    Raises:
        TypeError: ``prefer`` is neither a string nor a ``torch.device``.
        ValueError: ``prefer`` (or ``AUDIOMAP_DEVICE``) names no device this course runs on
            (``"gpu"`` says which name to use), or the device is not available on this machine.
    """
    where = "prefer"
    choice: object = prefer
    if choice is None and os.environ.get("AUDIOMAP_DEVICE", "").strip():
        where, choice = "AUDIOMAP_DEVICE", os.environ["AUDIOMAP_DEVICE"].strip()
    if choice is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(choice, (str, torch.device)):
        raise TypeError(f"{where} must be a device name such as 'cpu', 'cuda' or 'mps' (or a torch.device); got {choice!r}")
    if isinstance(choice, str) and choice.strip().lower() in ("gpu", "nvidia", "metal", "apple"):
        raise ValueError(f"{where}={choice!r} is not a PyTorch device name; use 'cuda' for an NVIDIA GPU "
                         f"or 'mps' for Apple's GPU (or 'cpu')")
    try:
        dev = torch.device(choice)
    except RuntimeError:
        raise ValueError(f"{where}={choice!r} is not a device name; expected 'cpu', 'cuda', 'cuda:<index>' or 'mps'") from None
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{where}={choice!r}: the course runs on 'cpu', 'cuda' or 'mps'; got device type {dev.type!r}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{where}={choice!r} asks for a CUDA GPU, but no CUDA GPU is available to PyTorch here; "
                             f"use 'cpu' (or None to pick the best device present)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{where}={choice!r}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                             f"numbered from 0")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{where}={choice!r} asks for Apple's GPU, but MPS is not available on this machine; use 'cpu'")
    return dev


def set_seed(seed: int = 0, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so runs repeat.

    Args:
        seed: a non-negative integer.
        deterministic: also ask PyTorch for deterministic kernels where it has
            them (``warn_only`` so that no operation is refused).

    Returns:
        A CPU :class:`torch.Generator` seeded with ``seed``, for a DataLoader.
    """
    seed = check_non_negative_int(seed, "seed")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def get_cache_dir(*parts: str, create: bool = True) -> Path:
    """Return the course's data folder (or a sub-folder of it).

    The folder is ``$AUDIOMAP_DATA`` when set, else ``$XDG_CACHE_HOME/audiomap``
    (``~/.cache/audiomap`` on Linux and macOS, ``%LOCALAPPDATA%\\audiomap`` on
    Windows).

    Args:
        parts: sub-folders below the cache root.
        create: make the folder if it does not exist.

    Returns:
        An absolute :class:`pathlib.Path`.
    """
    root = os.environ.get("AUDIOMAP_DATA")
    if root:
        base = Path(root).expanduser()
    elif os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"]) / "audiomap"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "audiomap"
    path = base.joinpath(*parts).resolve()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


class _PlainText(str):
    """A ``str`` whose ``repr`` is the text itself (no quotes)."""

    def __repr__(self) -> str:
        return str(self)


def make_plain_text(text: object) -> str:
    """Wrap a value for ``myst_nb.glue`` so that prose shows it without quotes.

    ``glue("voice", "rms")`` shows ``'rms'`` in the book (the ``repr`` of a string);
    ``glue("voice", make_plain_text("rms"))`` shows ``rms``. Used by every chapter.

    Returns:
        A ``str`` (subclass) equal to ``str(text)``.
    """
    return _PlainText(str(text))


def _check_int(value: object, name: str, minimum: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a {what} int; got {value!r}")
    return int(value)


def check_positive_int(value: object, name: str) -> int:
    """Check that ``value`` is an integer >= 1 (a count, a length in samples, a size).

    Python and NumPy integers are accepted; ``bool`` and ``float`` (even ``3.0``)
    are refused, so that ``True`` or ``2.5`` never passes as a count.

    Args:
        value: the value to check.
        name: the argument's name, used in the error message.

    Returns:
        ``value`` as a Python ``int``.

    Raises:
        ValueError: ``value`` is not an integer, is a bool, or is < 1; the
            message names ``name``.
    """
    return _check_int(value, name, 1, "positive")


def check_non_negative_int(value: object, name: str) -> int:
    """Check that ``value`` is an integer >= 0 (a seed, a number of retries or workers).

    Same rules as :func:`check_positive_int`, but 0 is accepted.

    Returns:
        ``value`` as a Python ``int``.

    Raises:
        ValueError: not an integer, a bool, or negative; the message names ``name``.
    """
    return _check_int(value, name, 0, "non-negative")


def check_real(
    value: object,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    unit: str = "",
) -> float:
    """Check that ``value`` is a finite real number in a range (a duration, a level, a frequency).

    Python and NumPy ints and floats are accepted; ``bool``, ``None``, strings, complex
    numbers, tensors and arrays are refused, and so are NaN and the infinities.

    Args:
        value: the value to check.
        name: the argument's name, used in the error message.
        low, high: the allowed range (``None``: unbounded on that side).
        low_open, high_open: exclude the bound itself (``low_open=True``: ``value > low``).
        unit: said after the number in the message, e.g. ``"s"`` or ``"Hz"``.

    Returns:
        ``value`` as a Python ``float``.

    Raises:
        ValueError: not a real number, not finite, or out of range; the message names ``name``.
    """
    lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
    hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
    wanted = " and ".join(p for p in (lo, hi) if p)
    what = f"a finite number{' ' + wanted if wanted else ''}{' ' + unit if unit else ''}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    x = float(value)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    if low is not None and (x < low or (low_open and x == low)):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    if high is not None and (x > high or (high_open and x == high)):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return x


_KINDS = {"real": "real numbers (float, or integers converted to float)", "int": "integers",
          "bool": "booleans (True = keep)"}


def check_tensor(
    value: object,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    kind: str = "real",
    allow_empty: bool = False,
    allow_sequence: bool = False,
    shape: str = "",
) -> torch.Tensor:
    """Check a tensor argument of a from-scratch primitive (Chapters 3-5) and return it as a tensor.

    NumPy arrays are taken as tensors (no copy); Python lists only with ``allow_sequence``.
    ``kind="real"`` accepts floating point tensors as they are and converts integer ones to
    the default float dtype (exact for the sizes used here); it refuses ``bool`` and complex
    values, which would otherwise be cast silently (dropping the imaginary part). ``"int"``
    accepts integer dtypes only (a float length or label would be truncated); ``"bool"``
    accepts boolean masks only. NaN and infinities are not looked for: a primitive passes
    them through, as its PyTorch counterpart does.

    Args:
        value: the argument.
        name: its name, used in the error message.
        ndim: the allowed rank(s) (``None``: any).
        kind: ``"real"``, ``"int"`` or ``"bool"``.
        allow_empty: accept a tensor with a zero-sized dimension.
        allow_sequence: accept (nested) lists and tuples of numbers.
        shape: the expected shape in words, for the message, e.g. ``"(B, T, input_size)"``.

    Returns:
        A :class:`torch.Tensor` (``value`` itself when it already is one of an accepted dtype).

    Raises:
        TypeError: not a tensor / array (or sequence), or a dtype of the wrong kind.
        ValueError: the wrong rank, or empty.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {sorted(_KINDS)}; got {kind!r}")
    wanted = f" of shape {shape}" if shape else ""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise TypeError(f"{name} must be a tensor of {_KINDS[kind]}{wanted}; got an array of dtype {value.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(value))
    elif isinstance(value, torch.Tensor):
        t = value
    elif allow_sequence and isinstance(value, (list, tuple)):
        try:
            t = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{name} must be a tensor (or a list) of {_KINDS[kind]}{wanted}; got {value!r:.80}") from None
    else:
        what = "a torch.Tensor or numpy array" + (" (or a list)" if allow_sequence else "")
        raise TypeError(f"{name} must be {what} of {_KINDS[kind]}{wanted}; got {type(value).__name__}")
    dtype = t.dtype
    if kind == "bool":
        ok = dtype == torch.bool
    elif kind == "int":
        ok = dtype != torch.bool and not dtype.is_floating_point and not dtype.is_complex
    else:
        ok = dtype != torch.bool and not dtype.is_complex
    if not ok:
        raise TypeError(f"{name} must hold {_KINDS[kind]}; got dtype {dtype}")
    if kind == "real" and not dtype.is_floating_point:
        t = t.to(torch.get_default_dtype())
    if ndim is not None:
        ranks = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if t.ndim not in ranks:
            raise ValueError(f"{name} must be {' or '.join(f'{r}-D' for r in ranks)}{wanted}; got shape {tuple(t.shape)}")
    if not allow_empty and t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)}); expected at least one value{wanted and ','}{wanted}")
    return t


def promote_floats(*tensors: torch.Tensor | None) -> list[Any]:
    """Bring float tensors to one dtype, the widest among them (float32 with float64: float64).

    ``None`` entries stay ``None``. Used after :func:`check_tensor` so that a learner's
    float64 tensor meets the course's float32 weights without a dtype error from deep in torch.
    """
    present = [t for t in tensors if t is not None]
    if not present:
        return list(tensors)
    dtype = present[0].dtype
    for t in present[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return [None if t is None else t.to(dtype) for t in tensors]


def compute_median_time_s(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock time of calls of ``fn``, in seconds (Chapters 3 and 4, the benchmarks).

    Args:
        fn: a function of no arguments (wrap yours in a ``lambda``).
        repeats: timed calls (>= 1).
        warmup: untimed calls first (caches, lazy initialisation; >= 0).

    Returns:
        The median of ``repeats`` times measured with :func:`time.perf_counter`, in s.
    """
    repeats = check_positive_int(repeats, "repeats")
    for _ in range(check_non_negative_int(warmup, "warmup")):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
