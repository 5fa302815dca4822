"""Audio in and out, and the checks every waveform passes (Chapter 1).

Conventions used across the course:

* a *waveform* is a ``torch.float32`` tensor of shape ``(samples,)`` (mono) or
  ``(channels, samples)``, with values nominally in ``[-1, 1]``;
* a *sample rate* ``sr`` is a positive ``int`` in hertz (samples per second);
* nothing is silently resampled, clipped or dropped: functions raise a
  ``ValueError`` (or ``TypeError``) naming the argument and what was expected.

Files are read and written with :mod:`soundfile` (never ``torchaudio.load``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch

__all__ = [
    "Waveform",
    "check_waveform",
    "check_mono",
    "check_sample_rate",
    "check_same_rate",
    "load_audio",
    "save_audio",
    "pcm_to_float",
    "to_mono",
    "resample",
    "normalize_peak",
    "normalize_rms",
    "compute_rms",
    "pad_or_crop",
]

Waveform = torch.Tensor | np.ndarray
PathLike = str | Path

_PCM_LIMITS = {np.dtype("int16"): 2**15, np.dtype("int32"): 2**31, np.dtype("int8"): 2**7}


def check_sample_rate(sr: object, name: str = "sr") -> int:
    """Check that ``sr`` is a positive integer sample rate in Hz.

    Returns:
        ``sr`` as an ``int``.

    Raises:
        TypeError / ValueError naming ``name``.
    """
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)):
        if isinstance(sr, float) and sr.is_integer():
            sr = int(sr)
        else:
            raise TypeError(f"{name} must be a positive integer sample rate in Hz; got {sr!r}")
    if sr <= 0:
        raise ValueError(f"{name} must be a positive sample rate in Hz; got {sr}")
    return int(sr)


def check_same_rate(sr_a: int, sr_b: int, names: tuple[str, str] = ("sr_a", "sr_b")) -> int:
    """Check that two sample rates are equal (nothing is resampled behind your back).

    Returns:
        The common rate in Hz.

    Raises:
        ValueError: the rates differ; the message says to call :func:`resample`.
    """
    a = check_sample_rate(sr_a, names[0])
    b = check_sample_rate(sr_b, names[1])
    if a != b:
        raise ValueError(
            f"sample rates differ: {names[0]}={a} Hz, {names[1]}={b} Hz; "
            f"resample one of them first (audiomap_lib.io.resample)"
        )
    return a


def check_waveform(
    x: Waveform,
    name: str = "waveform",
    ndim: tuple[int, ...] = (1, 2),
    allow_empty: bool = False,
) -> torch.Tensor:
    """Check a waveform and return it as a ``float32`` tensor (no copy if it is one).

    Args:
        x: a tensor or array of shape ``(samples,)`` or ``(channels, samples)``.
        name: the argument's name, used in error messages.
        ndim: the ranks that are accepted.
        allow_empty: accept zero samples.

    Returns:
        ``torch.float32`` tensor with the same shape as ``x``.

    Raises:
        TypeError: not a tensor/array, or an integer/complex/bool dtype
            (use :func:`pcm_to_float` for integer PCM).
        ValueError: wrong rank, no samples, or NaN / infinite values.
    """
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "iu":
            raise TypeError(
                f"{name} has integer dtype {x.dtype}; convert PCM with "
                f"audiomap_lib.io.pcm_to_float first"
            )
        if x.dtype.kind not in "f":
            raise TypeError(f"{name} must hold real floating-point samples; got dtype {x.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    elif isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise TypeError(
                f"{name} must hold real floating-point samples; got dtype {x.dtype}"
                + ("; convert PCM with audiomap_lib.io.pcm_to_float" if not x.is_complex() else "")
            )
        t = x if x.dtype == torch.float32 else x.to(torch.float32)
    else:
        raise TypeError(f"{name} must be a torch.Tensor or numpy array; got {type(x).__name__}")
    if t.ndim not in ndim:
        shapes = " or ".join({1: "(samples,)", 2: "(channels, samples)", 3: "(batch, channels, samples)"}.get(d, f"{d}-D") for d in ndim)
        raise ValueError(f"{name} must have shape {shapes}; got shape {tuple(t.shape)}")
    if not allow_empty and (t.numel() == 0 or t.shape[-1] == 0):
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)}); expected at least one sample")
    if t.numel() and not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite samples; expected finite values")
    return t


def check_mono(waveform: Waveform, name: str = "waveform") -> torch.Tensor:
    """Check a mono waveform and return it flat.

    Args:
        waveform: shape ``(samples,)`` or ``(1, samples)``.
        name: the argument's name, used in error messages.

    Returns:
        ``float32`` tensor of shape ``(samples,)``.

    Raises:
        ValueError: more than one channel (call :func:`to_mono` first), or any
            error of :func:`check_waveform`.
    """
    wav = check_waveform(waveform, name)
    if wav.ndim == 2:
        if wav.shape[0] != 1:
            raise ValueError(
                f"{name} must be mono, shape (samples,) or (1, samples); got {tuple(wav.shape)} "
                f"(use audiomap_lib.io.to_mono)"
            )
        wav = wav[0]
    return wav


def pcm_to_float(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Convert integer PCM (int8 / int16 / int32) to float32 in ``[-1, 1)``.

    Returns:
        ``torch.float32`` tensor, same shape, ``x / 2**(bits-1)``.

    Raises:
        TypeError: ``x`` is not integer PCM.
        ValueError: a value lies outside the dtype's PCM range (e.g. an int32
            array holding 24-bit data shifted wrongly is still accepted; an int64
            array must fit in int32).
    """
    arr = x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"x must hold integer PCM samples; got dtype {arr.dtype}")
    if arr.dtype == np.int64:
        if arr.size and (arr.min() < -(2**31) or arr.max() >= 2**31):
            raise ValueError("x (int64) holds values outside the int32 PCM range [-2**31, 2**31)")
        arr = arr.astype(np.int32)
    if arr.dtype not in _PCM_LIMITS:
        raise TypeError(f"x must be int8, int16 or int32 PCM; got dtype {arr.dtype}")
    scale = _PCM_LIMITS[arr.dtype]
    return torch.from_numpy(arr.astype(np.float64) / scale).to(torch.float32)


def load_audio(path: PathLike, sr: int | None = None, mono: bool = False) -> tuple[torch.Tensor, int]:
    """Read an audio file (WAV, FLAC, OGG, AIFF...) with soundfile.

    Args:
        path: the file.
        sr: the sample rate you expect; if given and the file has another rate a
            ``ValueError`` is raised (call :func:`resample` yourself).
        mono: average the channels into one.

    Returns:
        ``(waveform, sr)``: ``float32`` tensor of shape ``(channels, samples)``
        (``(1, samples)`` when ``mono``), and the file's rate in Hz.

    Raises:
        FileNotFoundError, ValueError (unreadable, empty, wrong rate).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no audio file at {path}")
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own LibsndfileError
        raise ValueError(f"path: could not read {path} as audio ({exc})") from exc
    if data.shape[0] == 0:
        raise ValueError(f"path: {path} holds no samples")
    wav = torch.from_numpy(np.ascontiguousarray(data.T))
    if sr is not None:
        check_same_rate(file_sr, sr, names=(f"the file's rate ({path.name})", "sr"))
    if mono:
        wav = to_mono(wav)
    return wav, int(file_sr)


def save_audio(path: PathLike, waveform: Waveform, sr: int, subtype: str = "PCM_16") -> Path:
    """Write a waveform to a file with soundfile (format from the extension).

    Args:
        path: where to write; parent folders are created.
        waveform: shape ``(samples,)`` or ``(channels, samples)``, values in [-1, 1].
        sr: sample rate in Hz.
        subtype: soundfile subtype, e.g. ``"PCM_16"`` or ``"FLOAT"``.

    Returns:
        The path written.

    Raises:
        ValueError: samples outside [-1, 1] for an integer subtype (they would
            be clipped; normalise first with :func:`normalize_peak`).
    """
    wav = check_waveform(waveform, "waveform")
    sr = check_sample_rate(sr)
    if subtype.startswith("PCM") or subtype.startswith("ULAW") or subtype.startswith("ALAW"):
        peak = float(wav.abs().max())
        if peak > 1.0:
            raise ValueError(
                f"waveform peaks at {peak:.3f} > 1.0 and would be clipped when written as "
                f"{subtype}; normalise it first (audiomap_lib.io.normalize_peak)"
            )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = wav.detach().cpu().numpy()
    data = data if data.ndim == 1 else data.T
    sf.write(str(path), data, sr, subtype=subtype)
    return path


def to_mono(waveform: Waveform) -> torch.Tensor:
    """Average the channels of a waveform.

    Returns:
        ``(1, samples)`` for ``(channels, samples)`` input; ``(samples,)``
        input is returned unchanged.
    """
    wav = check_waveform(waveform)
    return wav if wav.ndim == 1 else wav.mean(dim=0, keepdim=True)


def resample(waveform: Waveform, orig_sr: int, new_sr: int) -> torch.Tensor:
    """Change the sample rate with torchaudio's band-limited sinc interpolation.

    Returns:
        ``float32`` tensor with the same leading shape and
        ``ceil(samples * new_sr / orig_sr)`` samples.
    """
    import torchaudio.functional as AF

    wav = check_waveform(waveform)
    orig_sr = check_sample_rate(orig_sr, "orig_sr")
    new_sr = check_sample_rate(new_sr, "new_sr")
    if orig_sr == new_sr:
        return wav.clone()
    return AF.resample(wav, orig_sr, new_sr)


def compute_rms(waveform: Waveform) -> torch.Tensor:
    """Root-mean-square level along the last axis.

    Returns:
        Tensor of shape ``waveform.shape[:-1]`` (a 0-d tensor for mono).
    """
    wav = check_waveform(waveform)
    return wav.pow(2).mean(dim=-1).sqrt()


def normalize_peak(waveform: Waveform, peak: float = 0.99) -> torch.Tensor:
    """Scale so that the largest absolute sample equals ``peak``.

    Returns:
        ``float32`` tensor, same shape.

    Raises:
        ValueError: ``peak`` not in (0, 1], or the signal is all zeros.
    """
    wav = check_waveform(waveform)
    if not 0 < peak <= 1:
        raise ValueError(f"peak must lie in (0, 1]; got {peak}")
    m = wav.abs().max()
    if m == 0:
        raise ValueError("waveform is all zeros (silent); it cannot be peak-normalised")
    return wav * (peak / m)


def normalize_rms(waveform: Waveform, rms: float = 0.1) -> torch.Tensor:
    """Scale so that the RMS level equals ``rms`` (whole signal, all channels).

    Returns:
        ``float32`` tensor, same shape.

    Raises:
        ValueError: ``rms`` not positive, the signal is silent, or the result
            would exceed 1.0 somewhere (it would clip when saved): lower ``rms``.
    """
    wav = check_waveform(waveform)
    if rms <= 0:
        raise ValueError(f"rms must be positive; got {rms}")
    level = wav.pow(2).mean().sqrt()
    if level == 0:
        raise ValueError("waveform is all zeros (silent); it cannot be RMS-normalised")
    out = wav * (rms / level)
    peak = float(out.abs().max())
    if peak > 1.0:
        raise ValueError(
            f"normalising to rms={rms} makes the peak {peak:.3f} > 1.0; choose a smaller rms"
        )
    return out


def pad_or_crop(
    waveform: Waveform, length: int, mode: str = "center", allow_crop: bool = True
) -> torch.Tensor:
    """Bring a waveform to exactly ``length`` samples.

    Args:
        waveform: shape ``(..., samples)``.
        length: the target number of samples (> 0).
        mode: ``"center"`` (pad or crop equally on both sides), ``"start"``
            (keep the start: pad / crop at the end) or ``"end"``.
        allow_crop: if ``False``, a waveform longer than ``length`` raises a
            ``ValueError`` instead of being cropped.

    Returns:
        ``float32`` tensor of shape ``(..., length)``; padding is zeros.
    """
    wav = check_waveform(waveform, ndim=(1, 2, 3))
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length <= 0:
        raise ValueError(f"length must be a positive number of samples; got {length!r}")
    if mode not in ("center", "start", "end"):
        raise ValueError(f"mode must be 'center', 'start' or 'end'; got {mode!r}")
    n = wav.shape[-1]
    if n > length and not allow_crop:
        raise ValueError(
            f"waveform has {n} samples, more than length={length}, and allow_crop=False"
        )
    diff = length - n
    if mode == "center":
        left = diff // 2 if diff >= 0 else -((-diff) // 2)
    elif mode == "start":
        left = 0
    else:
        left = diff
    right = diff - left
    # F.pad with negative amounts crops
    return torch.nn.functional.pad(wav, (left, right))
