"""Recorded background sounds for noise augmentation and for a noisy test (Chapter 6).

White noise is the easy case: a flat spectrum that no voice has. What spoils a recording in the
wild is other sound: a hum, music in the room, a record's hiss, other people talking (babble,
:func:`audiomap_lib.augment.make_babble`). This module reads a few recordings of the first kind
from the Debian package ``sonic-pi-samples`` (``/usr/share/sonic-pi/samples``; each file's
licence, CC0 here, is read from the package's copyright file) and splits them in two sets that
share no recording: :data:`TRAIN_NOISES` for augmentation and :data:`TEST_NOISES` for a test
condition, so that a network passes the test only if it learned to ignore background sound, not
one background.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import torch

from ..io import check_sample_rate, load_audio, resample
from .drums import SONIC_PI_DIR, _sonic_pi_licences

__all__ = [
    "APT_HINT",
    "TEST_NOISES",
    "TRAIN_NOISES",
    "list_recorded_noises",
    "load_noise_bank",
    "load_recorded_noise",
]

APT_HINT = "sudo apt-get install sonic-pi-samples"
#: Recordings for training (names of ``sonic-pi-samples`` files): a glass hum, an ambient drone
#: and three music loops.
TRAIN_NOISES: tuple[str, ...] = ("ambi_glass_hum", "ambi_lunar_land", "loop_compus", "loop_garzul", "loop_mika")
#: Recordings for the noisy test, none of them in :data:`TRAIN_NOISES`: a record's hiss, a hum and
#: two music loops.
TEST_NOISES: tuple[str, ...] = ("vinyl_hiss", "ambi_haunted_hum", "loop_safari", "loop_tabla")


def list_recorded_noises() -> list[dict[str, str | float]]:
    """The recordings of :data:`TRAIN_NOISES` and :data:`TEST_NOISES`, with their licences (Chapter 6).

    Returns:
        One dict per recording: ``name``, ``set`` (``"train"`` / ``"test"``), ``file``,
        ``licence`` (from ``/usr/share/doc/sonic-pi-samples/copyright``) and ``duration_s``.

    Raises:
        RuntimeError: ``sonic-pi-samples`` is not installed (the message names the package).
    """
    import soundfile as sf

    licences = _sonic_pi_licences()
    rows: list[dict[str, str | float]] = []
    for which, names in (("train", TRAIN_NOISES), ("test", TEST_NOISES)):
        for name in names:
            path = _path_of(name)
            rows.append({"name": name, "set": which, "file": str(path), "licence": licences.get(name, "unknown"),
                         "duration_s": round(float(sf.info(str(path)).duration), 3)})
    return rows


def _path_of(name: str) -> Path:
    known = TRAIN_NOISES + TEST_NOISES
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"name must be one of the recorded noises {list(known)}; got {name!r}")
    path = SONIC_PI_DIR / f"{name}.flac"
    if not path.is_file():
        raise RuntimeError(f"the recording {path} is missing; install it with: {APT_HINT}")
    return path


@functools.lru_cache(maxsize=64)
def _load(name: str, sr: int) -> torch.Tensor:
    wav, file_sr = load_audio(_path_of(name), mono=True)
    return resample(wav[0], file_sr, sr)


def load_recorded_noise(name: str, sr: int) -> torch.Tensor:
    """One recording of :data:`TRAIN_NOISES` or :data:`TEST_NOISES`, mono, at ``sr`` (Chapter 6).

    The files are stereo at 44.1 kHz: the channels are averaged and the result resampled to
    ``sr`` with :func:`audiomap_lib.io.resample` (this function's job, so nothing is changed behind
    your back: ask for the rate your clips have).

    Args:
        name: a recording's name, e.g. ``"vinyl_hiss"``.
        sr: the rate to return, in Hz.

    Returns:
        ``(samples,)`` float32 at ``sr`` (a new tensor on every call).

    Raises:
        ValueError: an unknown name (the message lists the names) or a bad rate.
        RuntimeError: ``sonic-pi-samples`` is not installed.
    """
    return _load(name, check_sample_rate(sr, "sr")).clone()


def load_noise_bank(names: Sequence[str], sr: int) -> tuple[torch.Tensor, ...]:
    """Several recordings at ``sr``, e.g. ``load_noise_bank(TEST_NOISES, 16000)`` (Chapter 6).

    Returns:
        A tuple of ``(samples_i,)`` float32 tensors (their lengths differ: nothing is cropped), the
        ``noise_bank`` that :func:`audiomap_lib.augment.make_noise_segments` draws from.

    Raises:
        ValueError: ``names`` is empty, not a sequence of names, or holds an unknown name.
    """
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise ValueError(f"names must be a non-empty sequence of recorded noise names; got {names!r}")
    return tuple(load_recorded_noise(n, sr) for n in names)
