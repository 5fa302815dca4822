"""Spectra: the short-time Fourier transform, mel scale, MFCC, Griffin-Lim (Chapter 2).

Chapter 2 builds the STFT from scratch (framing, windowing, FFT); the
from-scratch functions here (:func:`frame_signal`, :func:`compute_stft`) give the
chapter's values on the cases of ``tests/test_twins.py`` (values, dtypes and gradients), and
are checked against :func:`torch.stft` and librosa in the tests. The
mel, MFCC and Griffin-Lim helpers wrap torchaudio's transforms, so they run
on the GPU and pass gradients.

Units are explicit: window and hop lengths are in **samples** (use
:func:`seconds_to_samples`), frequencies in Hz, times in seconds.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .io import check_sample_rate, check_waveform
from .utils import check_positive_int, check_real

__all__ = [
    "seconds_to_samples",
    "make_window",
    "frame_signal",
    "compute_stft",
    "compute_istft",
    "compute_magnitude",
    "amplitude_to_db",
    "compute_fft_frequencies",
    "compute_frame_times",
    "compute_spectrogram",
    "compute_mel_spectrogram",
    "compute_log_mel_spectrogram",
    "compute_mfcc",
    "invert_griffin_lim",
    "hz_to_mel",
    "mel_to_hz",
    "MEL_SETTINGS",
    "make_mel_transform",
    "make_mel_filterbank",
]

MEL_SETTINGS: dict[str, str] = {"norm": "slaney", "mel_scale": "slaney"}
"""The course's mel settings, passed to torchaudio: Slaney's mel scale (linear below
1 kHz, logarithmic above) and Slaney's filter normalisation (each triangle has unit
area), as librosa's defaults (Chapter 2). Every mel filter bank of the course uses them."""


def seconds_to_samples(seconds: float, sr: int) -> int:
    """Convert a duration in seconds to a whole number of samples (rounded).

    Returns:
        ``round(seconds * sr)``, at least 1.
    """
    sr = check_sample_rate(sr)
    seconds = check_real(seconds, "seconds", 0.0, low_open=True, unit="s")
    return max(1, int(round(seconds * sr)))


def make_window(length: int, kind: str = "hann") -> torch.Tensor:
    """A periodic analysis window (the kind used for STFTs).

    Args:
        length: window length in samples.
        kind: ``"hann"``, ``"hamming"`` or ``"rectangular"``.

    Returns:
        ``float32`` tensor of shape ``(length,)``. The periodic Hann window is
        ``0.5 - 0.5 cos(2 pi n / length)``, equal to ``torch.hann_window(length)``.
    """
    length = check_positive_int(length, "length")
    n = torch.arange(length, dtype=torch.float64)
    if kind == "hann":
        w = 0.5 - 0.5 * torch.cos(2 * math.pi * n / length)
    elif kind == "hamming":
        w = 0.54 - 0.46 * torch.cos(2 * math.pi * n / length)
    elif kind in ("rectangular", "boxcar"):
        w = torch.ones(length, dtype=torch.float64)
    else:
        raise ValueError(f"kind must be 'hann', 'hamming' or 'rectangular'; got {kind!r}")
    return w.to(torch.float32)


def frame_signal(waveform: torch.Tensor, frame_length: int, hop_length: int) -> torch.Tensor:
    """Cut a signal into overlapping frames (no padding: only whole frames).

    Frame ``m`` holds samples ``m*hop_length ... m*hop_length + frame_length - 1``.

    Args:
        waveform: shape ``(..., samples)`` with ``samples >= frame_length``.
        frame_length, hop_length: in samples.

    Returns:
        Tensor of shape ``(..., n_frames, frame_length)`` with
        ``n_frames = 1 + (samples - frame_length) // hop_length`` (a view).
    """
    x = check_waveform(waveform, ndim=(1, 2, 3))
    frame_length = check_positive_int(frame_length, "frame_length")
    hop_length = check_positive_int(hop_length, "hop_length")
    if x.shape[-1] < frame_length:
        raise ValueError(
            f"waveform has {x.shape[-1]} samples, fewer than frame_length={frame_length}"
        )
    return x.unfold(-1, frame_length, hop_length)


def _check_center_padding(x: torch.Tensor, n_fft: int) -> None:
    """Reflect padding of ``n_fft // 2`` samples needs more samples than that."""
    if x.shape[-1] <= n_fft // 2:
        raise ValueError(
            f"waveform has {x.shape[-1]} samples; centred frames (reflect padding of n_fft//2={n_fft // 2}) "
            f"need more than n_fft//2: use a longer waveform or a smaller n_fft"
        )


def compute_stft(
    waveform: torch.Tensor,
    n_fft: int,
    hop_length: int,
    window: torch.Tensor | str = "hann",
    center: bool = True,
) -> torch.Tensor:
    """Short-time Fourier transform from scratch: frame, window, FFT.

    ``X[k, m] = sum_n x[m*hop + n] w[n] exp(-2 pi i k n / n_fft)`` for
    ``k = 0 .. n_fft//2`` (the one-sided spectrum of a real signal).

    Args:
        waveform: shape ``(..., samples)``.
        n_fft: frame (and FFT) length in samples.
        hop_length: step between frames in samples.
        window: a tensor of shape ``(n_fft,)`` or a name for :func:`make_window`.
        center: reflect-pad ``n_fft // 2`` samples on both sides so that frame
            ``m`` is centred on sample ``m * hop_length`` (as torch.stft and
            librosa do by default).

    Returns:
        ``complex64`` tensor of shape ``(..., n_fft // 2 + 1, n_frames)``
        (frequency bins by frames), equal to
        ``torch.stft(x, n_fft, hop_length, window=w, center=center, return_complex=True)``.
    """
    x = check_waveform(waveform, ndim=(1, 2, 3))
    n_fft = check_positive_int(n_fft, "n_fft")
    hop_length = check_positive_int(hop_length, "hop_length")
    if isinstance(window, str):
        w = make_window(n_fft, window)
    elif isinstance(window, torch.Tensor) and window.is_floating_point():
        w = window.to(torch.float32)
    else:
        raise TypeError(f"window must be a name ('hann', 'hamming', 'rectangular') or a float tensor; got {window!r}")
    if w.shape != (n_fft,):
        raise ValueError(f"window must have shape ({n_fft},) to match n_fft; got {tuple(w.shape)}")
    if center:
        pad = n_fft // 2
        _check_center_padding(x, n_fft)
        shape = x.shape
        x = torch.nn.functional.pad(x.reshape(-1, 1, shape[-1]), (pad, pad), mode="reflect")
        x = x.reshape(*shape[:-1], -1)
    frames = frame_signal(x, n_fft, hop_length)  # (..., n_frames, n_fft)
    spec = torch.fft.rfft(frames * w, n=n_fft, dim=-1)  # (..., n_frames, n_fft//2+1)
    return spec.transpose(-1, -2)


def compute_istft(
    stft: torch.Tensor, n_fft: int, hop_length: int, window: str = "hann", length: int | None = None
) -> torch.Tensor:
    """Inverse STFT from scratch: inverse FFT of each frame, window, overlap-add (Chapter 2).

    Each frame ``m`` is brought back with the inverse real FFT, multiplied by the window again
    and added at sample ``m * hop_length``; the sum is divided by the overlap-added squared
    window ``sum_m w[n - m H]^2`` (weighted overlap-add). That envelope must not vanish
    anywhere (the "NOLA" condition: the windows must overlap); for a periodic Hann window and a
    hop of ``n_fft / 4`` it is constant (1.5), which is the overlap-add condition. The centre
    padding of :func:`compute_stft` is removed. Equals :func:`torch.istft` with the same window
    and ``center=True``.

    Args:
        stft: complex ``(..., n_fft // 2 + 1, n_frames)``.
        n_fft, hop_length: as given to :func:`compute_stft`.
        window: a name for :func:`make_window`.
        length: the length of the result in samples (cut, or padded with zeros at the end);
            ``None``: ``(n_frames - 1) * hop_length``.

    Returns:
        real tensor of shape ``(..., samples)`` (``float32`` for ``complex64`` input).

    Raises:
        ValueError: the bins do not match ``n_fft``, or the windows leave gaps (NOLA fails).
    """
    if not isinstance(stft, torch.Tensor) or not stft.is_complex():
        raise TypeError("stft must be a complex tensor from compute_stft")
    n_fft = check_positive_int(n_fft, "n_fft")
    hop = check_positive_int(hop_length, "hop_length")
    if stft.ndim < 2 or stft.shape[-2] != n_fft // 2 + 1:
        raise ValueError(f"stft must have n_fft//2+1={n_fft // 2 + 1} frequency bins (dim -2); got shape {tuple(stft.shape)}")
    real_dtype = stft.real.dtype
    w = make_window(n_fft, window).to(device=stft.device, dtype=real_dtype)
    lead, n_frames = stft.shape[:-2], stft.shape[-1]
    frames = torch.fft.irfft(stft.transpose(-1, -2), n=n_fft, dim=-1) * w  # (..., n_frames, n_fft)
    total = n_fft + hop * (n_frames - 1)

    def overlap_add(blocks: torch.Tensor) -> torch.Tensor:  # (B, n_frames, n_fft) -> (B, total)
        return torch.nn.functional.fold(blocks.transpose(1, 2), output_size=(1, total), kernel_size=(1, n_fft),
                                        stride=(1, hop))[:, 0, 0]

    y = overlap_add(frames.reshape(-1, n_frames, n_fft))
    envelope = overlap_add((w ** 2).expand(1, n_frames, n_fft))[0]
    pad = n_fft // 2
    end = total - pad if length is None else min(total, pad + check_positive_int(length, "length"))
    y, envelope = y[:, pad:end], envelope[pad:end]
    if envelope.numel() and float(envelope.min()) < 1e-11:
        raise ValueError(f"the windows leave gaps: with n_fft={n_fft} and hop_length={hop} the overlap-added squared "
                         f"window reaches {float(envelope.min()):.1e} (NOLA fails); use a smaller hop")
    y = y / envelope
    if length is not None and y.shape[-1] < length:
        y = torch.nn.functional.pad(y, (0, length - y.shape[-1]))
    return y.reshape(*lead, y.shape[-1])


def compute_magnitude(stft: torch.Tensor, power: float = 1.0) -> torch.Tensor:
    """``|X| ** power`` of a complex STFT (``power=2`` gives the power spectrogram).

    Returns:
        Real tensor, same shape.
    """
    if not torch.is_complex(stft):
        raise TypeError(f"stft must be a complex tensor; got dtype {stft.dtype}")
    return stft.abs().pow(power)


def amplitude_to_db(x: torch.Tensor, power: bool = False, top_db: float | None = 80.0, amin: float = 1e-10) -> torch.Tensor:
    """Convert magnitudes (or powers) to decibels relative to 1.

    ``20 log10(max(x, amin))`` for magnitudes, ``10 log10(max(x, amin))`` for
    powers; then values more than ``top_db`` below the maximum are raised to
    ``max - top_db`` (per whole tensor), as librosa's ``amplitude_to_db`` does.

    Returns:
        Tensor of the same shape, in dB.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of magnitudes or powers; got {type(x).__name__}")
    if torch.is_complex(x):
        raise TypeError("x must be real magnitudes or powers; take compute_magnitude first")
    if not x.is_floating_point():
        raise TypeError(f"x must hold floating-point magnitudes or powers; got dtype {x.dtype}")
    if x.numel() == 0:
        raise ValueError("x is empty; expected at least one magnitude")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x contains NaN or infinite values; expected finite magnitudes or powers")
    if bool((x < 0).any()):
        raise ValueError("x must be non-negative magnitudes or powers")
    amin = check_real(amin, "amin", 0.0, low_open=True)
    if top_db is not None:
        top_db = check_real(top_db, "top_db", 0.0, low_open=True, unit="dB")
    mult = 10.0 if power else 20.0
    db = mult * torch.log10(torch.clamp(x, min=amin))
    if top_db is not None:
        db = torch.maximum(db, db.max() - top_db)
    return db


def compute_fft_frequencies(n_fft: int, sr: int) -> torch.Tensor:
    """Centre frequency (Hz) of each one-sided FFT bin.

    Returns:
        ``float32`` tensor of shape ``(n_fft // 2 + 1,)``: ``k * sr / n_fft``.
    """
    sr = check_sample_rate(sr)
    n_fft = check_positive_int(n_fft, "n_fft")
    return torch.arange(n_fft // 2 + 1, dtype=torch.float32) * sr / n_fft


def compute_frame_times(n_frames: int, hop_length: int, sr: int, n_fft: int | None = None, center: bool = True) -> torch.Tensor:
    """Time (s) of the centre of each STFT frame.

    With ``center=True`` frame ``m`` is centred at ``m * hop / sr``; without
    centring it starts there and its centre is ``(m * hop + n_fft/2) / sr``.

    Returns:
        ``float32`` tensor of shape ``(n_frames,)``.
    """
    sr = check_sample_rate(sr)
    t = torch.arange(n_frames, dtype=torch.float32) * hop_length
    if not center:
        if n_fft is None:
            raise ValueError("n_fft is needed when center=False")
        t = t + n_fft / 2
    return t / sr


def compute_spectrogram(waveform: torch.Tensor, n_fft: int, hop_length: int, power: float = 2.0) -> torch.Tensor:
    """Magnitude (power=1) or power (power=2) spectrogram with torchaudio.

    Returns:
        Tensor of shape ``(..., n_fft // 2 + 1, n_frames)``.
    """
    import torchaudio.transforms as T

    x = check_waveform(waveform, ndim=(1, 2, 3))
    n_fft = check_positive_int(n_fft, "n_fft")
    hop_length = check_positive_int(hop_length, "hop_length")
    power = check_real(power, "power", 0.0, low_open=True)
    _check_center_padding(x, n_fft)
    tr = T.Spectrogram(n_fft=n_fft, hop_length=hop_length, power=power).to(x.device)
    return tr(x)


def _check_mel_range(sr: int, f_min: float, f_max: float | None) -> tuple[int, float, float]:
    sr = check_sample_rate(sr)
    f_min = check_real(f_min, "f_min", 0.0, unit="Hz")
    f_max = sr / 2 if f_max is None else check_real(f_max, "f_max", 0.0, low_open=True, unit="Hz")
    if not 0 <= f_min < f_max <= sr / 2:
        raise ValueError(f"need 0 <= f_min < f_max <= sr/2={sr / 2}; got f_min={f_min}, f_max={f_max}")
    return sr, float(f_min), float(f_max)


def make_mel_transform(
    sr: int, n_fft: int = 512, hop_length: int = 160, n_mels: int = 64,
    f_min: float = 0.0, f_max: float | None = None, **kwargs,
):
    """The course's mel power-spectrogram module (torchaudio, :data:`MEL_SETTINGS`; Chapter 2).

    Args:
        sr: sample rate in Hz.
        n_fft, hop_length: frame and hop lengths in samples.
        n_mels: number of mel bands.
        f_min, f_max: band edges in Hz (``f_max=None``: ``sr / 2``).
        kwargs: more keywords of :class:`torchaudio.transforms.MelSpectrogram` (e.g. ``center=False``).

    Returns:
        A :class:`torchaudio.transforms.MelSpectrogram` (``power=2``): waveforms
        ``(..., samples)`` to ``(..., n_mels, n_frames)``.
    """
    import torchaudio.transforms as T

    sr, f_min, f_max = _check_mel_range(sr, f_min, f_max)
    return T.MelSpectrogram(
        sample_rate=sr, n_fft=check_positive_int(n_fft, "n_fft"), hop_length=check_positive_int(hop_length, "hop_length"),
        n_mels=check_positive_int(n_mels, "n_mels"), f_min=f_min, f_max=f_max, power=2.0, **MEL_SETTINGS, **kwargs,
    )


def make_mel_filterbank(
    n_mels: int, sr: int, n_fft: int = 512, f_min: float = 0.0, f_max: float | None = None,
) -> torch.Tensor:
    """The mel filter bank of :func:`make_mel_transform` as a matrix (Chapter 2).

    Args:
        n_mels: number of mel bands.
        sr: sample rate in Hz.
        n_fft: FFT size in samples.
        f_min, f_max: band edges in Hz (``f_max=None``: ``sr / 2``).

    Returns:
        ``float32`` tensor ``(n_mels, n_fft // 2 + 1)``: row ``m`` is triangle ``m``'s
        weight at each FFT bin (:data:`MEL_SETTINGS`).
    """
    import torchaudio.functional as AF

    sr, f_min, f_max = _check_mel_range(sr, f_min, f_max)
    n_fft = check_positive_int(n_fft, "n_fft")
    return AF.melscale_fbanks(n_fft // 2 + 1, f_min, f_max, check_positive_int(n_mels, "n_mels"), sr, **MEL_SETTINGS).T


def compute_mel_spectrogram(
    waveform: torch.Tensor, sr: int, n_fft: int = 512, hop_length: int = 160,
    n_mels: int = 64, f_min: float = 0.0, f_max: float | None = None,
) -> torch.Tensor:
    """Mel power spectrogram (torchaudio, Slaney mel scale and filter norm, as librosa).

    Returns:
        Tensor of shape ``(..., n_mels, n_frames)``.
    """
    x = check_waveform(waveform, ndim=(1, 2, 3))
    transform = make_mel_transform(sr, n_fft, hop_length, n_mels, f_min, f_max).to(x.device)
    _check_center_padding(x, transform.n_fft)
    return transform(x)


def compute_log_mel_spectrogram(
    waveform: torch.Tensor, sr: int, n_fft: int = 512, hop_length: int = 160,
    n_mels: int = 64, f_min: float = 0.0, f_max: float | None = None, eps: float = 1e-6,
) -> torch.Tensor:
    """Log-mel spectrogram ``log(mel_power + eps)`` (natural log), the usual network input.

    Returns:
        Tensor of shape ``(..., n_mels, n_frames)``.
    """
    return torch.log(compute_mel_spectrogram(waveform, sr, n_fft, hop_length, n_mels, f_min, f_max) + eps)


def compute_mfcc(
    waveform: torch.Tensor, sr: int, n_mfcc: int = 13, n_fft: int = 512,
    hop_length: int = 160, n_mels: int = 64,
) -> torch.Tensor:
    """Mel-frequency cepstral coefficients (torchaudio: DCT-II of the dB mel spectrogram).

    Returns:
        Tensor of shape ``(..., n_mfcc, n_frames)``.
    """
    import torchaudio.transforms as T

    x = check_waveform(waveform, ndim=(1, 2, 3))
    sr = check_sample_rate(sr)
    n_mfcc = check_positive_int(n_mfcc, "n_mfcc")
    n_fft = check_positive_int(n_fft, "n_fft")
    hop_length = check_positive_int(hop_length, "hop_length")
    n_mels = check_positive_int(n_mels, "n_mels")
    if n_mfcc > n_mels:
        raise ValueError(f"n_mfcc={n_mfcc} coefficients need at least as many mel bands; got n_mels={n_mels}")
    _check_center_padding(x, n_fft)
    tr = T.MFCC(
        sample_rate=sr, n_mfcc=n_mfcc,
        melkwargs=dict(n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, **MEL_SETTINGS),
    ).to(x.device)
    return tr(x)


def invert_griffin_lim(
    magnitude: torch.Tensor, n_fft: int, hop_length: int, n_iter: int = 32, power: float = 1.0, seed: int = 0,
) -> torch.Tensor:
    """Recover a waveform from a magnitude spectrogram with fast Griffin-Lim (torchaudio; Chapter 2).

    The phase is estimated by alternating projections, starting from random
    phase drawn with ``seed`` (so results repeat). torchaudio's ``GriffinLim`` runs the fast
    variant of Perraudin et al. (2013): each update is extrapolated with a momentum of 0.99.

    Args:
        magnitude: shape ``(..., n_fft // 2 + 1, n_frames)``, ``|X| ** power``.

    Returns:
        ``float32`` waveform of shape ``(..., samples)``.
    """
    import torchaudio.transforms as T

    if magnitude.shape[-2] != n_fft // 2 + 1:
        raise ValueError(
            f"magnitude must have n_fft//2+1={n_fft // 2 + 1} frequency bins (dim -2); got {magnitude.shape[-2]}"
        )
    tr = T.GriffinLim(n_fft=n_fft, hop_length=hop_length, n_iter=n_iter, power=power, rand_init=True).to(magnitude.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return tr(magnitude)


def _as_real_tensor(value: object, name: str) -> torch.Tensor:
    """A finite real number or real tensor/array as a float64 tensor; else a ValueError naming ``name``."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        t = torch.as_tensor(value)
        if t.is_complex() or t.dtype == torch.bool:
            raise ValueError(f"{name} must hold real numbers; got dtype {t.dtype}")
        t = t.to(torch.float64)
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite")
        return t
    return torch.tensor(check_real(value, name), dtype=torch.float64)


def hz_to_mel(freq_hz: float | torch.Tensor, scale: str = "htk") -> torch.Tensor:
    """Hz to mel.

    Args:
        freq_hz: frequency in Hz (number or tensor).
        scale: ``"htk"``: ``2595 log10(1 + f / 700)``; ``"slaney"``: linear
            below 1 kHz (``3 f / 200``) and logarithmic above (the scale of
            librosa's default and of :func:`compute_mel_spectrogram`).

    Returns:
        Tensor of mels, same shape.
    """
    f = _as_real_tensor(freq_hz, "freq_hz")
    if scale == "htk":
        m = 2595.0 * torch.log10(1.0 + f / 700.0)
    elif scale == "slaney":
        lin = f / (200.0 / 3)
        log = 15.0 + torch.log(torch.clamp(f, min=1e-10) / 1000.0) / (math.log(6.4) / 27.0)
        m = torch.where(f >= 1000.0, log, lin)
    else:
        raise ValueError(f"scale must be 'htk' or 'slaney'; got {scale!r}")
    return m.to(torch.float32)


def mel_to_hz(mel: float | torch.Tensor, scale: str = "htk") -> torch.Tensor:
    """Inverse of :func:`hz_to_mel` (same ``scale`` argument).

    Returns:
        Tensor of Hz, same shape.
    """
    m = _as_real_tensor(mel, "mel")
    if scale == "htk":
        f = 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    elif scale == "slaney":
        f = torch.where(m >= 15.0, 1000.0 * torch.exp((math.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))
    else:
        raise ValueError(f"scale must be 'htk' or 'slaney'; got {scale!r}")
    return f.to(torch.float32)
