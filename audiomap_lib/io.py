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

import math
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from .utils import check_positive_int, check_real

__all__ = [
    "Waveform",
    "check_waveform",
    "check_mono",
    "check_batch",
    "check_sample_rate",
    "check_same_rate",
    "load_audio",
    "save_audio",
    "MAX_CHANNELS",
    "pcm_to_float",
    "to_mono",
    "resample",
    "normalize_peak",
    "normalize_rms",
    "compute_rms",
    "pad_or_crop",
    "trim_silence",
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
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32).reshape(x.shape))  # keeps 0-d as 0-d
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


def check_batch(
    waveforms: object, lengths: object = None, name: str = "waveforms", allow_2d: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Check a batch of mono clips and their lengths, as the models take them (Chapters 4-6).

    Args:
        waveforms: float tensor ``(batch, 1, samples)`` (``(batch, samples)`` too when
            ``allow_2d``); float16 and float64 are accepted and converted to ``float32``,
            the models' dtype.
        lengths: real samples per clip, an integer tensor ``(batch,)`` with values in
            ``1 .. samples``; ``None`` means every clip fills all ``samples``.
        name: the argument's name, used in error messages.

    Returns:
        ``(waveforms, lengths)``: ``float32`` ``(batch, 1, samples)`` (or ``(batch, samples)``),
        and ``int64`` ``(batch,)`` on the waveforms' device.

    Raises:
        TypeError: not a float tensor, or lengths not integers (a float length would be
            truncated silently).
        ValueError: wrong shape, no samples, NaN/Inf samples, lengths of the wrong shape or
            outside ``1 .. samples``.
    """
    if not isinstance(waveforms, torch.Tensor) or not waveforms.is_floating_point():
        what = f"a tensor of dtype {waveforms.dtype}" if isinstance(waveforms, torch.Tensor) else type(waveforms).__name__
        raise TypeError(f"{name} must be a floating-point torch.Tensor (batch, 1, samples); got {what}")
    ok_2d = allow_2d and waveforms.ndim == 2
    if not ok_2d and (waveforms.ndim != 3 or waveforms.shape[1] != 1):
        wanted = "(batch, 1, samples) or (batch, samples)" if allow_2d else "(batch, 1, samples)"
        raise ValueError(f"{name} must have shape {wanted} (mono clips); got {tuple(waveforms.shape)}")
    if waveforms.shape[0] == 0 or waveforms.shape[-1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(waveforms.shape)}); expected at least one clip and sample")
    if not bool(torch.isfinite(waveforms).all()):
        raise ValueError(f"{name} contains NaN or infinite samples; expected finite values")
    x = waveforms if waveforms.dtype == torch.float32 else waveforms.to(torch.float32)
    b, t = x.shape[0], x.shape[-1]
    if lengths is None:
        return x, torch.full((b,), t, dtype=torch.int64, device=x.device)
    if not isinstance(lengths, torch.Tensor) or lengths.is_floating_point() or lengths.is_complex() \
            or lengths.dtype == torch.bool:
        got = f"dtype {lengths.dtype}" if isinstance(lengths, torch.Tensor) else type(lengths).__name__
        raise TypeError(f"lengths must be an integer tensor (batch,) of samples per clip; got {got}")
    if lengths.shape != (b,):
        raise ValueError(f"lengths must have shape (batch={b},); got {tuple(lengths.shape)}")
    if b and (int(lengths.min()) < 1 or int(lengths.max()) > t):
        raise ValueError(
            f"lengths must lie in 1..{t} (the samples of {name}); got {int(lengths.min())}..{int(lengths.max())}"
        )
    return x, lengths.to(device=x.device, dtype=torch.int64)


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


def _wav_announced_frames(path: Path) -> int | None:
    """Frames a RIFF/WAVE file's header announces, or None (not a WAV, or a streamed size)."""
    import struct

    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        block_align = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if kind == b"fmt ":
                fmt = f.read(size + (size & 1))
                if len(fmt) < 14:
                    return None
                block_align = struct.unpack("<H", fmt[12:14])[0]
            elif kind == b"data":
                if block_align in (None, 0) or size in (0, 0xFFFFFFFF):
                    return None  # no format yet, or a size left open by a streaming writer
                return size // block_align
            else:
                f.seek(size + (size & 1), 1)


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
        FileNotFoundError, ValueError (unreadable, empty, truncated -- a WAV whose header
        announces more frames than the file holds --, wrong rate).
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
    announced = _wav_announced_frames(path)
    if announced is not None and announced > data.shape[0]:
        raise ValueError(
            f"path: {path} is truncated: its WAV header announces {announced} frames, the file holds "
            f"{data.shape[0]}; the copy is incomplete (download or copy it again)"
        )
    wav = torch.from_numpy(np.ascontiguousarray(data.T))
    if sr is not None:
        check_same_rate(file_sr, sr, names=(f"the file's rate ({path.name})", "sr"))
    if mono:
        wav = to_mono(wav)
    return wav, int(file_sr)


MAX_CHANNELS = 8
"""More channels than this, and more than samples, is taken for a channels-last mistake in :func:`save_audio`."""


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
    if wav.ndim == 2 and wav.shape[0] > MAX_CHANNELS and wav.shape[0] > wav.shape[1]:
        raise ValueError(
            f"waveform has shape {tuple(wav.shape)}, which looks like (samples, channels); the course's "
            f"layout is (channels, samples): pass waveform.T (or .T of the array)"
        )
    if not isinstance(subtype, str) or subtype.upper() not in sf.available_subtypes():
        raise ValueError(f"subtype must be one of soundfile's subtypes, e.g. 'PCM_16' or 'FLOAT'; got {subtype!r}")
    subtype = subtype.upper()
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
    return wav.double().pow(2).mean(dim=-1).sqrt().to(torch.float32)  # float64: no overflow for large samples


def normalize_peak(waveform: Waveform, peak: float = 0.99) -> torch.Tensor:
    """Scale so that the largest absolute sample equals ``peak``.

    Returns:
        ``float32`` tensor, same shape.

    Raises:
        ValueError: ``peak`` not in (0, 1], or the signal is all zeros.
    """
    wav = check_waveform(waveform)
    if isinstance(peak, bool) or not isinstance(peak, (int, float, np.integer, np.floating)) or not 0 < peak <= 1:
        raise ValueError(f"peak must be a number in (0, 1]; got {peak!r}")
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
    if isinstance(rms, bool) or not isinstance(rms, (int, float, np.integer, np.floating)) or not 0 < rms < math.inf:
        raise ValueError(f"rms must be a positive finite number; got {rms!r}")
    level = float(wav.double().pow(2).mean().sqrt())  # float64: squares of large samples overflow float32
    if level == 0:
        raise ValueError("waveform is all zeros (silent); it cannot be RMS-normalised")
    out = (wav.double() * (float(rms) / level)).to(torch.float32)
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
    length = check_positive_int(length, "length")
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


def trim_silence(waveform: torch.Tensor, sr: int, threshold_db: float = -40.0, frame_ms: float = 10.0,
                 margin_ms: float = 0.0) -> torch.Tensor:
    """Cut leading and trailing silence with a frame-energy threshold (Chapter 1; the corpus
    builders; Chapter 6 cuts the digits to their words with a margin).

    A frame is *active* when its RMS lies within ``threshold_db`` of the loudest
    frame; everything before the first and after the last active frame is cut,
    except ``margin_ms`` of the clip's own samples on each side.

    Args:
        waveform: shape ``(samples,)``.
        sr: sample rate in Hz (sets the frame length).
        threshold_db: level in dB relative to the loudest frame (<= 0).
        frame_ms: frame length in milliseconds.
        margin_ms: milliseconds of the clip kept before the first and after the last
            active frame (>= 0). The margin is taken from the clip and never padded: near
            the clip's start or end it is shorter.

    Returns:
        ``float32`` tensor of shape ``(kept_samples,)``; empty if all is silent.
    """
    waveform = check_waveform(waveform, ndim=(1,))
    sr = check_sample_rate(sr)
    threshold_db = check_real(threshold_db, "threshold_db", None, 0.0, unit="dB")
    frame_ms = check_real(frame_ms, "frame_ms", 0.0, low_open=True, unit="ms")
    margin_ms = check_real(margin_ms, "margin_ms", 0.0, unit="ms")
    frame = max(1, int(sr * frame_ms / 1000))
    margin = int(sr * margin_ms / 1000)
    n = waveform.shape[0]
    n_frames = -(-n // frame)
    frames = torch.nn.functional.pad(waveform, (0, n_frames * frame - n)).view(n_frames, frame)
    rms = frames.pow(2).mean(dim=1).sqrt()
    if float(rms.max()) <= 1e-6:
        return waveform[:0]
    active = torch.nonzero(rms >= rms.max() * 10 ** (threshold_db / 20)).flatten()
    start, stop = int(active[0]) * frame, min(n, (int(active[-1]) + 1) * frame)
    return waveform[max(0, start - margin): min(n, stop + margin)]
