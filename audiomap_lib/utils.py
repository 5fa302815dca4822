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
from typing import TypeVar

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
    "check_positive_int",
    "check_non_negative_int",
    "check_real",
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


def get_device(prefer: str | None = None) -> torch.device:
    """Choose the compute device: a CUDA GPU when present, else Apple MPS, else CPU.

    Args:
        prefer: force a device (``"cpu"``, ``"cuda"``, ``"mps"``); ``None``
            also reads the ``AUDIOMAP_DEVICE`` environment variable.

    Returns:
        A :class:`torch.device`.

    Raises:
        ValueError: the requested device is not available on this machine.
    """
    choice = prefer or os.environ.get("AUDIOMAP_DEVICE") or None
    if choice is not None:
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {choice!r} was asked for, but no CUDA GPU is available")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"device {choice!r} was asked for, but MPS is not available")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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
