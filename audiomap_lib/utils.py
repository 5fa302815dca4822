"""Shared utilities: device choice, seeding, run profiles and the data cache.

Used by every chapter. The profile (``AUDIOMAP_PROFILE``) decides only *sizes*
(clips, epochs, widths), never which code runs:

* ``quick``    -- continuous integration: each notebook in about a minute;
* ``standard`` -- the default, a 2-core laptop: each chapter within ~5 minutes;
* ``full``     -- a GPU, paper-scale runs.
"""
from __future__ import annotations

import os
import random
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
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
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
