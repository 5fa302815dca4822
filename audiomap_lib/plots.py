"""Plots with real units: seconds on time axes, hertz on frequency axes (Chapters 1-2).

Every function takes ``ax=`` (a Matplotlib Axes; a new figure is made when it is
``None``) and returns the Axes it drew on, so plots compose into grids.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .io import check_mono, check_sample_rate, check_waveform

__all__ = [
    "plot_waveform",
    "plot_spectrogram",
    "plot_frequency_response",
    "plot_spectrum",
]


def _axes(ax, figsize=(8, 2.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def plot_waveform(
    waveform: torch.Tensor, sr: int, ax=None, title: str | None = None,
    start: float = 0.0, stem: bool = False, **kwargs,
):
    """Plot a mono waveform against time in seconds.

    Args:
        waveform: shape ``(samples,)`` or ``(1, samples)``.
        sr: sample rate in Hz.
        start: time (s) of the first sample.
        stem: draw each sample as a stem (for a few dozen samples).

    Returns:
        The Matplotlib Axes.
    """
    wav = check_mono(waveform)
    sr = check_sample_rate(sr)
    ax = _axes(ax)
    t = start + np.arange(wav.shape[0]) / sr
    if stem:
        ax.stem(t, _np(wav), basefmt=" ", **kwargs)
    else:
        ax.plot(t, _np(wav), lw=kwargs.pop("lw", 0.8), **kwargs)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    ax.set_xlim(t[0], t[-1] if len(t) > 1 else t[0] + 1 / sr)
    if title:
        ax.set_title(title)
    return ax


def plot_spectrogram(
    spec: torch.Tensor,
    sr: int,
    hop_length: int,
    ax=None,
    y_axis: str = "linear",
    title: str | None = None,
    f_min: float = 0.0,
    f_max: float | None = None,
    colorbar: bool = True,
    cmap: str = "magma",
    unit: str = "dB",
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Show a (log-)spectrogram with time in seconds and frequency in Hz.

    Args:
        spec: shape ``(bins, frames)``: values to colour (usually dB).
        sr: sample rate in Hz.
        hop_length: samples between frames (frame ``m`` is at ``m*hop/sr`` s).
        y_axis: ``"linear"`` (bins are FFT bins 0..sr/2), ``"log"`` (the same
            bins on a log-frequency axis) or ``"mel"`` (bins are mel bands
            equally spaced on the Slaney mel scale between ``f_min`` and
            ``f_max``, as :func:`~audiomap_lib.spectral.compute_mel_spectrogram`
            makes them; labelled in Hz).
        unit: colour-bar label.

    Returns:
        The Matplotlib Axes.
    """
    s = _np(spec)
    if s.ndim != 2:
        raise ValueError(f"spec must have shape (bins, frames); got {s.shape}")
    sr = check_sample_rate(sr)
    ax = _axes(ax, figsize=(8, 3))
    n_bins, n_frames = s.shape
    t_edges = (np.arange(n_frames + 1) - 0.5) * hop_length / sr
    if y_axis in ("linear", "log"):
        f = np.linspace(0, sr / 2, n_bins)
        df = f[1] - f[0] if n_bins > 1 else sr / 2
        f_edges = np.concatenate([[max(f[0] - df / 2, 0)], f + df / 2])
        if y_axis == "log":
            f_edges[0] = max(df / 2, 1.0)
    elif y_axis == "mel":
        from .spectral import hz_to_mel, mel_to_hz

        # Slaney mel scale, the scale of compute_mel_spectrogram's bands (and librosa's default)
        fmax = sr / 2 if f_max is None else f_max
        m_edges = np.linspace(float(hz_to_mel(f_min, "slaney")), float(hz_to_mel(fmax, "slaney")), n_bins + 1)
        f_edges = _np(mel_to_hz(torch.tensor(m_edges), "slaney")).astype(np.float64)
    else:
        raise ValueError(f"y_axis must be 'linear', 'log' or 'mel'; got {y_axis!r}")
    mesh = ax.pcolormesh(t_edges, f_edges, s, shading="flat", cmap=cmap, vmin=vmin, vmax=vmax, rasterized=True)
    if y_axis == "log":
        ax.set_yscale("log")
    elif y_axis == "mel":
        from matplotlib.scale import FuncScale

        def fwd(f):
            return _np(hz_to_mel(torch.as_tensor(np.maximum(f, 0.0)), "slaney")).astype(np.float64)

        def inv(m):
            return _np(mel_to_hz(torch.as_tensor(m), "slaney")).astype(np.float64)

        ax.set_yscale(FuncScale(ax, (fwd, inv)))
        ticks = [t for t in (0, 250, 500, 1000, 2000, 4000, 8000, 16000) if f_edges[0] <= t <= f_edges[-1]]
        ax.set_yticks(ticks)
    ax.set_ylim(f_edges[0], f_edges[-1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=unit, pad=0.01)
    return ax


def plot_frequency_response(
    kernel: torch.Tensor | Sequence[float], sr: int, ax=None, n_fft: int = 4096,
    db: bool = True, label: str | None = None, title: str | None = None, **kwargs,
):
    """Plot the magnitude response ``|H(f)|`` of an FIR kernel ``h[n]``.

    ``H(f) = sum_n h[n] exp(-2 pi i f n / sr)``, evaluated at ``n_fft//2+1``
    frequencies from 0 to ``sr/2``.

    Returns:
        The Matplotlib Axes.
    """
    h = torch.as_tensor(_np(kernel), dtype=torch.float64).flatten()
    if h.numel() == 0:
        raise ValueError("kernel is empty; expected at least one tap")
    sr = check_sample_rate(sr)
    ax = _axes(ax)
    H = torch.fft.rfft(h, n=max(n_fft, h.numel())).abs()
    f = np.linspace(0, sr / 2, H.shape[0])
    y = 20 * np.log10(np.maximum(_np(H), 1e-8)) if db else _np(H)
    ax.plot(f, y, label=label, **kwargs)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("gain (dB)" if db else "gain")
    ax.set_xlim(0, sr / 2)
    if title:
        ax.set_title(title)
    if label:
        ax.legend()
    return ax


def plot_spectrum(waveform: torch.Tensor, sr: int, ax=None, db: bool = True, title: str | None = None, **kwargs):
    """Plot the magnitude spectrum of a whole (Hann-windowed) signal against Hz.

    Returns:
        The Matplotlib Axes.
    """
    wav = check_waveform(waveform, ndim=(1,))
    sr = check_sample_rate(sr)
    ax = _axes(ax)
    w = torch.hann_window(wav.shape[0], periodic=False, dtype=torch.float64)
    X = torch.fft.rfft(wav.double() * w).abs() / (w.sum() / 2)
    f = np.fft.rfftfreq(wav.shape[0], 1 / sr)
    y = 20 * np.log10(np.maximum(_np(X), 1e-8)) if db else _np(X)
    ax.plot(f, y, lw=kwargs.pop("lw", 0.8), **kwargs)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("magnitude (dB)" if db else "magnitude")
    ax.set_xlim(0, sr / 2)
    if title:
        ax.set_title(title)
    return ax
