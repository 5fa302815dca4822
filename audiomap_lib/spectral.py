"""Spectra: the short-time Fourier transform, mel scale, MFCC, Griffin-Lim (Chapter 2).

Chapter 2 builds the STFT from scratch (framing, windowing, FFT); the
from-scratch functions here (:func:`frame_signal`, :func:`compute_stft`) give the
chapter's values on the cases of ``tests/test_twins.py`` (values, dtypes and gradients), and
are checked against :func:`torch.stft` and librosa in the tests. The
mel, MFCC and Griffin-Lim helpers wrap torchaudio's transforms, so they run
on the GPU and pass gradients. Beside them, built from scratch and checked against librosa and
torchaudio in ``tests/test_spectral_scratch.py``: the mel filter bank
(:func:`compute_mel_filterbank`), Griffin-Lim, plain and fast (:func:`compute_griffin_lim`), and
the constant-Q transform (:func:`compute_cqt`, :func:`compute_cqt_frequencies`).

Units are explicit: window and hop lengths are in **samples** (use
:func:`seconds_to_samples`), frequencies in Hz, times in seconds.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .io import check_sample_rate, check_waveform
from .utils import check_non_negative_int, check_positive_int, check_real, check_tensor

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
    "compute_mel_filterbank",
    "compute_griffin_lim",
    "compute_cqt_frequencies",
    "compute_cqt",
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
    return _make_window_f64(check_positive_int(length, "length"), kind).to(torch.float32)


def _make_window_f64(length: int, kind: str) -> torch.Tensor:
    """:func:`make_window` in ``float64`` (the values before the one rounding to ``float32``)."""
    n = torch.arange(length, dtype=torch.float64)
    if kind == "hann":
        return 0.5 - 0.5 * torch.cos(2 * math.pi * n / length)
    if kind == "hamming":
        return 0.54 - 0.46 * torch.cos(2 * math.pi * n / length)
    if kind in ("rectangular", "boxcar"):
        return torch.ones(length, dtype=torch.float64)
    raise ValueError(f"kind must be 'hann', 'hamming' or 'rectangular'; got {kind!r}")


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
    return _stft(x, n_fft, hop_length, w, center)


def _stft(x: torch.Tensor, n_fft: int, hop_length: int, w: torch.Tensor, center: bool = True) -> torch.Tensor:
    """The steps of :func:`compute_stft` on checked arguments, in the dtype of ``x`` (float32 or float64)."""
    if center:
        pad = n_fft // 2
        _check_center_padding(x, n_fft)
        shape = x.shape
        x = torch.nn.functional.pad(x.reshape(-1, 1, shape[-1]), (pad, pad), mode="reflect")
        x = x.reshape(*shape[:-1], -1)
    if x.shape[-1] < n_fft:  # frame_signal's check (frame_signal itself would round float64 to float32)
        raise ValueError(f"waveform has {x.shape[-1]} samples, fewer than frame_length={n_fft}")
    frames = x.unfold(-1, n_fft, hop_length)  # (..., n_frames, n_fft), as frame_signal
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
    return _hz_to_mel_f64(_as_real_tensor(freq_hz, "freq_hz"), scale).to(torch.float32)


def _hz_to_mel_f64(f: torch.Tensor, scale: str) -> torch.Tensor:
    """:func:`hz_to_mel` on a ``float64`` tensor, kept in ``float64``."""
    if scale == "htk":
        return 2595.0 * torch.log10(1.0 + f / 700.0)
    if scale == "slaney":
        lin = f / (200.0 / 3)
        log = 15.0 + torch.log(torch.clamp(f, min=1e-10) / 1000.0) / (math.log(6.4) / 27.0)
        return torch.where(f >= 1000.0, log, lin)
    raise ValueError(f"scale must be 'htk' or 'slaney'; got {scale!r}")


def mel_to_hz(mel: float | torch.Tensor, scale: str = "htk") -> torch.Tensor:
    """Inverse of :func:`hz_to_mel` (same ``scale`` argument).

    Returns:
        Tensor of Hz, same shape.
    """
    return _mel_to_hz_f64(_as_real_tensor(mel, "mel"), scale).to(torch.float32)


def _mel_to_hz_f64(m: torch.Tensor, scale: str) -> torch.Tensor:
    """:func:`mel_to_hz` on a ``float64`` tensor, kept in ``float64``."""
    if scale == "htk":
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    if scale == "slaney":
        return torch.where(m >= 15.0, 1000.0 * torch.exp((math.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))
    raise ValueError(f"scale must be 'htk' or 'slaney'; got {scale!r}")


# ---------------------------------------------------------------- from scratch: mel filter bank, Griffin-Lim, CQT


def _float_dtype(dtype: object) -> torch.dtype:
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype!r}")
    return dtype


def _mel_triangles(n_mels: int, sr: int, n_fft: int, f_min: float, f_max: float, scale: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``float64`` triangles ``(n_mels, n_fft // 2 + 1)`` (peak 1), their edges in Hz ``(n_mels + 2,)`` and the bin frequencies."""
    mels = torch.linspace(float(_hz_to_mel_f64(torch.tensor(f_min, dtype=torch.float64), scale)),
                          float(_hz_to_mel_f64(torch.tensor(f_max, dtype=torch.float64), scale)),
                          n_mels + 2, dtype=torch.float64)
    edges = _mel_to_hz_f64(mels, scale)  # (n_mels + 2,): edges[m], edges[m + 1], edges[m + 2] make triangle m
    freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sr / n_fft  # the FFT bin frequencies
    ramps = freqs[None, :] - edges[:, None]  # (n_mels + 2, bins): how far each bin lies above each edge
    widths = edges[1:] - edges[:-1]  # (n_mels + 1,)
    rising = ramps[:-2] / widths[:-1, None]  # 0 at the lower edge, 1 at the centre
    falling = -ramps[2:] / widths[1:, None]  # 1 at the centre, 0 at the upper edge
    return torch.clamp(torch.minimum(rising, falling), min=0.0), edges, freqs


def _largest_n_mels_without_empty_triangles(below: int, sr: int, n_fft: int, f_min: float, f_max: float, scale: str) -> int:
    """The largest ``n_mels < below`` whose every triangle holds a bin strictly between its outer edges (0: none).

    Triangles ``m`` and ``m + 2`` do not overlap, so more than ``2 * bins`` triangles can never all hold one.
    """
    freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sr / n_fft
    lo = float(_hz_to_mel_f64(torch.tensor(f_min, dtype=torch.float64), scale))
    hi = float(_hz_to_mel_f64(torch.tensor(f_max, dtype=torch.float64), scale))
    for n in range(min(below - 1, 2 * freqs.numel()), 0, -1):
        edges = _mel_to_hz_f64(torch.linspace(lo, hi, n + 2, dtype=torch.float64), scale)
        inside = torch.searchsorted(freqs, edges[2:], right=False) - torch.searchsorted(freqs, edges[:-2], right=True)
        if bool((inside > 0).all()):
            return n
    return 0


def compute_mel_filterbank(
    n_mels: int, sr: int, n_fft: int, f_min: float = 0.0, f_max: float | None = None,
    scale: str = "slaney", norm: str | None = "slaney", *,
    dtype: torch.dtype = torch.float32, device: torch.device | str | None = None,
) -> torch.Tensor:
    """A mel filter bank built from scratch: triangles on the mel scale, evaluated at the FFT bins (Chapter 2).

    ``n_mels + 2`` edges are spaced evenly in mel between ``hz_to_mel(f_min)`` and
    ``hz_to_mel(f_max)`` and converted back to Hz, ``f_0 < f_1 < ... < f_{n_mels+1}``. Triangle
    ``m`` rises linearly from 0 at ``f_m`` to 1 at ``f_{m+1}`` and falls back to 0 at ``f_{m+2}``;
    it is evaluated at the bin frequencies ``k * sr / n_fft`` from the Hz differences
    (``min((f - f_m) / (f_{m+1} - f_m), (f_{m+2} - f) / (f_{m+2} - f_{m+1}))``, clipped at 0), the
    construction of ``librosa.filters.mel``. With ``norm="slaney"`` triangle ``m`` is multiplied
    by ``2 / (f_{m+2} - f_m)`` so that its area in Hz is 1 (wide high bands do not collect more
    energy than narrow low ones). The defaults are the course's :data:`MEL_SETTINGS`.

    Args:
        n_mels: number of triangles (mel bands).
        sr: sample rate in Hz.
        n_fft: FFT size in samples (``n_fft // 2 + 1`` bins).
        f_min, f_max: the lowest and highest edge in Hz, ``0 <= f_min < f_max <= sr / 2``
            (``f_max=None``: ``sr / 2``).
        scale: ``"slaney"`` or ``"htk"`` (see :func:`hz_to_mel`).
        norm: ``"slaney"`` (unit area) or ``None`` (peak 1).
        dtype: ``torch.float32`` (default) or ``torch.float64``; built in ``float64`` either way.
        device: where the result goes.

    Returns:
        Tensor ``(n_mels, n_fft // 2 + 1)``: row ``m`` is triangle ``m``'s weight at each FFT bin.
        Equal to ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max,
        htk=scale == "htk", norm=norm)`` and to ``torchaudio.functional.melscale_fbanks(...).T``
        (for even ``n_fft`` and ``sr``: torchaudio puts its bins at ``linspace(0, sr // 2, bins)``,
        which are not the FFT's bin frequencies when ``n_fft`` or ``sr`` is odd).

    Raises:
        ValueError: a bad ``scale``, ``norm`` or frequency range, or ``n_mels`` so large for
            ``n_fft`` that some triangle holds no FFT bin strictly between its lower and upper
            edge (all its weights would be 0; librosa only warns). The message gives the largest
            ``n_mels`` that works.
    """
    n_mels = check_positive_int(n_mels, "n_mels")
    n_fft = check_positive_int(n_fft, "n_fft")
    sr, f_min, f_max = _check_mel_range(sr, f_min, f_max)
    if scale not in ("slaney", "htk"):
        raise ValueError(f"scale must be 'slaney' or 'htk'; got {scale!r}")
    if norm not in ("slaney", None):
        raise ValueError(f"norm must be 'slaney' (unit-area triangles) or None (peak 1); got {norm!r}")
    dtype = _float_dtype(dtype)
    weights, edges, _ = _mel_triangles(n_mels, sr, n_fft, f_min, f_max, scale)
    empty = torch.nonzero(weights.amax(dim=-1) <= 0).flatten()
    if empty.numel():
        fits = _largest_n_mels_without_empty_triangles(n_mels, sr, n_fft, f_min, f_max, scale)
        m = int(empty[0])
        raise ValueError(
            f"n_mels={n_mels} is too many for n_fft={n_fft} at sr={sr} Hz between {f_min:g} and {f_max:g} Hz: "
            f"{empty.numel()} of the triangles contain no FFT bin (the bins are {sr / n_fft:g} Hz apart; triangle {m} "
            f"spans {float(edges[m]):.2f}-{float(edges[m + 2]):.2f} Hz), so their weights would all be 0; "
            f"at most n_mels={fits} work here: use fewer mel bands, a larger n_fft or a wider f_min..f_max range")
    if norm == "slaney":
        weights = weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.to(dtype).to(device)


def compute_griffin_lim(
    magnitude: torch.Tensor,
    n_fft: int,
    hop_length: int,
    n_iter: int = 32,
    momentum: float = 0.0,
    init_phase: torch.Tensor | None = None,
    seed: int = 0,
    window: str = "hann",
    length: int | None = None,
    return_history: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Griffin-Lim phase retrieval from scratch, plain or fast (Chapter 2).

    Griffin & Lim (1984) alternate two projections: give the spectrogram the target magnitude
    ``M`` (keep the current phase), then make it consistent (inverse STFT, STFT again:
    :func:`compute_istft` and the steps of :func:`compute_stft`). With ``c_n`` the consistent
    spectrogram of iteration ``n``, the next phase is that of

    * ``c_n`` (``momentum=0``: plain Griffin-Lim; Griffin & Lim prove that the spectral
      convergence cannot increase when the inverse STFT is the least-squares one, which the
      reflect padding of the centred frames makes true only away from the ends: the tests measure
      it non-increasing), or
    * ``t_n = c_n + momentum * (c_n - c_{n-1})`` (the fast Griffin-Lim of Perraudin, Balazs &
      Sondergaard 2013; they suggest ``momentum=0.99``, torchaudio's default). torchaudio writes
      the same step as ``c_n - momentum / (1 + momentum) * c_{n-1}``, which is ``t_n / (1 + momentum)``:
      the same phase. This function computes it that way, so that it equals
      ``torchaudio.functional.griffinlim`` step for step.

    The phase is ``t / (|t| + 1e-16)`` (as torchaudio), the waveform the inverse STFT of
    ``M * phase`` after the last iteration.

    Args:
        magnitude: ``|X|``, real, non-negative, ``(..., n_fft // 2 + 1, n_frames)``, ``float32`` or ``float64``
            (the computation runs in this dtype).
        n_fft, hop_length: of the STFT that gave ``magnitude``, in samples.
        n_iter: iterations (0: the inverse STFT of ``magnitude * init_phase``).
        momentum: ``0 <= momentum < 1``.
        init_phase: complex ``(..., n_fft // 2 + 1, n_frames)``, the starting phase factors, multiplied
            by ``magnitude`` as given (``torch.ones``: zero phase, torchaudio's ``rand_init=False``);
            ``None``: ``exp(2 pi i u)`` with ``u`` uniform in ``[0, 1)`` drawn on the CPU with ``seed``.
        seed: seeds the random start when ``init_phase`` is ``None`` (the global RNG is not touched).
        window: the STFT window's name (:func:`make_window`).
        length: samples of the result; ``None``: ``(n_frames - 1) * hop_length``. Its STFT must have
            ``n_frames`` frames (``length // hop_length == n_frames - 1``).
        return_history: also return the spectral convergence
            ``||STFT(x_i)| - M||_F / ||M||_F`` (:func:`audiomap_lib.style.compute_spectral_convergence`)
            of the start ``x_0`` and of the waveform after each iteration.

    Returns:
        The waveform ``(..., samples)`` in the real dtype of ``magnitude``; with ``return_history``
        also the history ``(..., n_iter + 1)`` (entry 0: the start, entry ``n_iter``: the waveform returned).

    Raises:
        ValueError: the wrong number of bins, negative or non-finite magnitudes, ``init_phase`` of
            the wrong shape, a ``length`` that does not give ``n_frames`` frames, a bad ``momentum``.
        TypeError: ``init_phase`` not complex.
    """
    from .style import compute_spectral_convergence  # style imports this module

    window = _check_window_name(window)
    mag = check_tensor(magnitude, "magnitude", ndim=tuple(range(2, 9)), shape="(..., n_fft // 2 + 1, n_frames)")
    n_fft = check_positive_int(n_fft, "n_fft")
    hop = check_positive_int(hop_length, "hop_length")
    n_iter = check_non_negative_int(n_iter, "n_iter")
    momentum = check_real(momentum, "momentum", 0.0, 1.0, high_open=True)
    seed = check_non_negative_int(seed, "seed")
    if mag.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"magnitude must be float32 or float64; got {mag.dtype}")
    if mag.shape[-2] != n_fft // 2 + 1:
        raise ValueError(f"magnitude must have n_fft//2+1={n_fft // 2 + 1} frequency bins (dim -2); got shape {tuple(mag.shape)}")
    if not bool(torch.isfinite(mag).all()) or bool((mag < 0).any()):
        raise ValueError("magnitude must hold finite, non-negative values (|X|, not dB or log)")
    n_frames = mag.shape[-1]
    samples = (n_frames - 1) * hop if length is None else check_positive_int(length, "length")
    if samples // hop != n_frames - 1:
        raise ValueError(f"length={length} samples give {samples // hop + 1} STFT frames at hop_length={hop}, not the "
                         f"magnitude's {n_frames}: use a length from {(n_frames - 1) * hop} to {n_frames * hop - 1}")
    if samples <= n_fft // 2:
        raise ValueError(f"magnitude has {n_frames} frames, a waveform of {samples} samples: too short for centred "
                         f"frames of n_fft={n_fft} (more than n_fft//2={n_fft // 2} samples are needed)")
    cdtype = torch.complex64 if mag.dtype == torch.float32 else torch.complex128
    lead = mag.shape[:-2]
    m = mag.reshape(-1, *mag.shape[-2:])
    if init_phase is None:
        u = torch.rand(m.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        angles = torch.polar(torch.ones_like(u), 2 * math.pi * u).to(device=mag.device, dtype=cdtype)
    else:
        if not isinstance(init_phase, torch.Tensor) or not init_phase.is_complex():
            raise TypeError(f"init_phase must be a complex tensor of phase factors exp(i phi); got "
                            f"{getattr(init_phase, 'dtype', type(init_phase).__name__)}")
        if init_phase.shape != mag.shape:
            raise ValueError(f"init_phase must have the magnitude's shape {tuple(mag.shape)}; got {tuple(init_phase.shape)}")
        angles = init_phase.reshape(m.shape).to(device=mag.device, dtype=cdtype)
    w = make_window(n_fft, window).to(device=mag.device, dtype=mag.dtype)  # the window compute_istft uses
    alpha = momentum / (1.0 + momentum)
    history: list[torch.Tensor] = []
    previous: torch.Tensor | None = None
    for _ in range(n_iter):
        x = compute_istft(m * angles, n_fft, hop, window, length=samples)
        rebuilt = _stft(x, n_fft, hop, w)  # c_n, the consistent spectrogram nearest to M * angles
        if return_history:
            history.append(compute_spectral_convergence(m, rebuilt.abs()))
        t = rebuilt if previous is None or alpha == 0 else rebuilt - alpha * previous
        angles = t / (t.abs() + 1e-16)
        previous = rebuilt
    x = compute_istft(m * angles, n_fft, hop, window, length=samples)
    y = x.reshape(*lead, x.shape[-1])
    if not return_history:
        return y
    history.append(compute_spectral_convergence(m, _stft(x, n_fft, hop, w).abs()))
    return y, torch.stack(history, dim=-1).reshape(*lead, n_iter + 1)


def compute_cqt_frequencies(
    f_min_hz: float, n_bins: int, bins_per_octave: int = 12, *, dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Centre frequencies of a constant-Q transform, ``f_k = f_min_hz * 2 ** (k / bins_per_octave)`` (Chapter 2).

    Returns:
        Tensor ``(n_bins,)`` in Hz (computed in ``float64``), equal to ``librosa.cqt_frequencies``.
    """
    f_min_hz = check_real(f_min_hz, "f_min_hz", 0.0, low_open=True, unit="Hz")
    n_bins = check_positive_int(n_bins, "n_bins")
    bins_per_octave = check_positive_int(bins_per_octave, "bins_per_octave")
    k = torch.arange(n_bins, dtype=torch.float64)
    return (f_min_hz * 2.0 ** (k / bins_per_octave)).to(_float_dtype(dtype))


def compute_cqt(
    waveform: torch.Tensor,
    sr: int,
    hop_length: int,
    f_min_hz: float,
    n_bins: int,
    bins_per_octave: int = 12,
    filter_scale: float = 1.0,
    window: str = "hann",
) -> torch.Tensor:
    """A constant-Q transform from scratch, the direct way of Brown (1991) (Chapter 2).

    Bin ``k`` is centred at ``f_k = f_min_hz * 2 ** (k / B)`` (:func:`compute_cqt_frequencies`,
    ``B = bins_per_octave``). Every bin has the same quality factor ``Q = f_k / bandwidth``,
    ``Q = filter_scale / (2 ** (1 / B) - 1)`` (16.8 for ``B = 12``), so its window lasts
    ``N_k = ceil(Q * sr / f_k)`` samples, ``Q`` periods of ``f_k``: long for low notes, short for high
    ones. Its kernel is that window times a complex exponential, divided by the window's sum (an
    L1 normalisation, as librosa's ``norm=1``):
    ``K_k[t] = w_k[t + N_k // 2] exp(-2 pi i f_k t / sr) / sum(w_k)``, ``t = -N_k // 2 ... N_k - 1 - N_k // 2``.
    A sinusoid ``A cos(2 pi f_k t / sr)`` then gives ``|C[k]|`` close to ``A / 2`` in every bin (the
    DFT's convention for a real tone). The kernels are zero-padded to the longest one and applied
    by one strided convolution (:func:`torch.nn.functional.conv1d`): frame ``m`` is centred on sample
    ``m * hop_length``, the waveform is padded with zeros, and the phase is measured from each
    frame's centre.

    Unlike librosa's ``cqt``, which halves the sample rate octave by octave (and resamples the
    signal), every bin here is computed at the full rate: exact, simple, slower for low ``f_min_hz``.

    Args:
        waveform: ``(..., samples)`` (1-3 dims), ``float32`` or ``float64``.
        sr: sample rate in Hz.
        hop_length: step between frames in samples.
        f_min_hz: centre of the lowest bin in Hz.
        n_bins: number of bins.
        bins_per_octave: ``B``.
        filter_scale: multiplies ``Q`` (and every window length): above 1 finer in frequency, coarser in time.
        window: the kernels' window (:func:`make_window`; periodic Hann by default, as librosa).

    Returns:
        Complex ``(..., n_bins, 1 + samples // hop_length)`` (``complex64``, or ``complex128`` for
        ``float64`` input), on the waveform's device.

    Raises:
        ValueError: the top bin is not below the Nyquist frequency (naming ``n_bins`` and how many
            fit), or the longest kernel, ``ceil(Q * sr / f_min_hz)`` samples, is longer than the waveform
            (naming ``f_min_hz``), or a bad argument.
    """
    x = _check_float_waveform(waveform)
    sr = check_sample_rate(sr)
    hop = check_positive_int(hop_length, "hop_length")
    filter_scale = check_real(filter_scale, "filter_scale", 0.0, low_open=True)
    window = _check_window_name(window)
    freqs = compute_cqt_frequencies(f_min_hz, n_bins, bins_per_octave, dtype=torch.float64)
    f_min_hz, bins_per_octave = float(freqs[0]), int(bins_per_octave)
    nyquist = sr / 2
    if float(freqs[-1]) >= nyquist:
        fit = int((freqs < nyquist).sum())
        if fit == 0:
            raise ValueError(f"f_min_hz={f_min_hz:g} Hz must be below the Nyquist frequency sr/2={nyquist:g} Hz")
        raise ValueError(f"n_bins={n_bins} bins at bins_per_octave={bins_per_octave} from f_min_hz={f_min_hz:g} Hz put "
                         f"the top bin at {float(freqs[-1]):.1f} Hz, not below the Nyquist frequency sr/2={nyquist:g} Hz; "
                         f"at most n_bins={fit} fit")
    q = filter_scale / (2.0 ** (1.0 / bins_per_octave) - 1.0)
    lengths = [math.ceil(q * sr / float(f)) for f in freqs]
    longest = max(lengths)
    if min(lengths) < 2:
        raise ValueError(f"filter_scale={filter_scale:g} (Q={q:.3g}) gives the top bin ({float(freqs[-1]):.1f} Hz) a kernel of "
                         f"{min(lengths)} sample: at least 2 are needed; use a larger filter_scale")
    if longest > x.shape[-1]:
        raise ValueError(f"f_min_hz={f_min_hz:g} Hz needs a kernel of ceil(Q * sr / f_min_hz)={longest} samples (Q={q:.2f}), "
                         f"longer than the waveform's {x.shape[-1]} samples: use a longer waveform or a higher f_min_hz")
    centre = longest // 2
    kernels = torch.zeros(n_bins, longest, dtype=torch.complex128)
    for k, (f, n) in enumerate(zip(freqs.tolist(), lengths)):
        w = _make_window_f64(n, window)
        t = torch.arange(n, dtype=torch.float64) - n // 2
        start = centre - n // 2
        kernels[k, start:start + n] = torch.polar(w / w.sum(), -2 * math.pi * f * t / sr)
    weight = torch.cat([kernels.real, kernels.imag]).unsqueeze(1).to(device=x.device, dtype=x.dtype)  # (2 n_bins, 1, longest)
    shape = x.shape
    samples = shape[-1]
    n_frames = 1 + samples // hop
    right = (n_frames - 1) * hop + longest - centre - samples
    padded = torch.nn.functional.pad(x.reshape(-1, 1, samples), (centre, max(0, right)))
    out = torch.nn.functional.conv1d(padded, weight, stride=hop)[..., :n_frames]  # (batch, 2 n_bins, n_frames)
    return torch.complex(out[:, :n_bins], out[:, n_bins:]).reshape(*shape[:-1], n_bins, n_frames)


def _check_window_name(window: object) -> str:
    if not isinstance(window, str) or window not in ("hann", "hamming", "rectangular", "boxcar"):
        raise ValueError(f"window must be 'hann', 'hamming' or 'rectangular'; got {window!r}")
    return str(window)


def _check_float_waveform(waveform: object) -> torch.Tensor:
    """:func:`check_waveform` (1-3 dims), but a ``float64`` waveform stays ``float64``."""
    checked = check_waveform(waveform, ndim=(1, 2, 3))  # type: ignore[arg-type]
    if isinstance(waveform, torch.Tensor) and waveform.dtype == torch.float64:
        return waveform
    if isinstance(waveform, np.ndarray) and waveform.dtype == np.float64:
        return torch.from_numpy(np.ascontiguousarray(waveform))
    return checked
