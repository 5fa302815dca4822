"""Plots with real units: seconds on time axes, hertz on frequency axes (Chapters 1-6).

Signals and spectra (Chapters 1-3): :func:`plot_waveform`, :func:`plot_spectrogram`,
:func:`plot_frequency_response`, :func:`plot_spectrum`. Training (Chapters 4-6):
:func:`plot_history`, :func:`plot_confusion_matrix`. Inside a network (Chapter 6):
:func:`plot_filter_bank`, :func:`plot_kernels`, :func:`plot_probabilities`.

Every function takes ``ax=`` (a Matplotlib Axes; a new figure is made when it is
``None``) and returns the Axes it drew on, so plots compose into grids.

Colours: importing this module sets Matplotlib's colour cycle to its ``tableau-colorblind10`` style,
which readers with any common colour-vision deficiency can tell apart; the colormaps used are magma,
viridis, Blues (sequential) and RdBu / coolwarm (diverging, blue against red).

Alt text (Setup page, accessibility): importing this module in a notebook makes every figure's PNG
carry :func:`describe_figure`'s text (its titles, axis labels and legend), which the book's
extension (``book/_ext/audiomap_pages.py``) turns into the image's alt text.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from .io import check_mono, check_sample_rate, check_waveform

__all__ = [
    "describe_figure",
    "install_figure_descriptions",
    "plot_waveform",
    "plot_spectrogram",
    "plot_frequency_response",
    "plot_spectrum",
    "plot_history",
    "plot_confusion_matrix",
    "plot_filter_bank",
    "plot_kernels",
    "plot_probabilities",
]


def describe_figure(fig: Any) -> str:
    """A figure in words, for its alt text: its title, then each panel's title, axes and legend.

    Returns:
        e.g. ``"Figure: the STFT. Panel 1: magnitude (x: time (s), y: frequency (Hz))."``
    """
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    parts = [f"Figure: {suptitle}." if suptitle else "Figure."]
    panels = [ax for ax in fig.get_axes() if ax.get_label() != "<colorbar>"]
    for i, ax in enumerate(panels, 1):
        words = [ax.get_title() or ax.get_title(loc="left") or ""]
        axes = ", ".join(f"{k}: {v}" for k, v in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())) if v)
        if axes:
            words.append(f"({axes})")
        legend = ax.get_legend()
        if legend is not None:
            labels = [t.get_text() for t in legend.get_texts() if t.get_text()]
            if labels:
                words.append("showing " + ", ".join(labels[:8]))
        text = " ".join(w for w in words if w)
        if text:
            parts.append(f"Panel {i}: {text}." if len(panels) > 1 else text[0].upper() + text[1:] + ".")
    return " ".join(parts)


def install_figure_descriptions(shell: Any = None) -> bool:
    """Make IPython's PNG of every Matplotlib figure carry :func:`describe_figure` as its ``Description``.

    Called when this module is imported under IPython; does nothing elsewhere.

    Returns:
        Whether a formatter was installed.
    """
    import io

    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    from matplotlib.figure import Figure

    def png(fig: Figure) -> bytes | None:
        if not fig.axes and not fig.lines:
            return None
        buf = io.BytesIO()
        fig.canvas.print_figure(buf, format="png", bbox_inches="tight", metadata={"Description": describe_figure(fig)})
        return buf.getvalue()

    shell.display_formatter.formatters["image/png"].for_type(Figure, png)
    return True


def _axes(ax, figsize=(8, 2.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def plot_waveform(
    waveform: torch.Tensor, sr: int, ax=None, title: str | None = None,
    start_s: float = 0.0, stem: bool = False, **kwargs,
):
    """Plot a mono waveform against time in seconds.

    Args:
        waveform: shape ``(samples,)`` or ``(1, samples)``.
        sr: sample rate in Hz.
        start_s: time (s) of the first sample.
        stem: draw each sample as a stem (for a few dozen samples).

    Returns:
        The Matplotlib Axes.
    """
    wav = check_mono(waveform)
    sr = check_sample_rate(sr)
    ax = _axes(ax)
    t = start_s + np.arange(wav.shape[0]) / sr
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
    """Plot the magnitude response ``|H(f)|`` of an FIR kernel ``h[n]`` (Chapter 3).

    ``H(f) = sum_n h[n] exp(-2 pi i f n / sr)``, computed by
    :func:`audiomap_lib.conv.compute_frequency_response` at ``n_fft//2+1``
    frequencies from 0 to ``sr/2``.

    Args:
        kernel: the taps, shape ``(K,)``.
        sr: sample rate in Hz.
        n_fft: FFT size (at least ``K`` is used).
        db: gain in dB (else linear).

    Returns:
        The Matplotlib Axes.
    """
    from .conv import compute_frequency_response

    h = torch.as_tensor(_np(kernel), dtype=torch.float64).flatten()
    if h.numel() == 0:
        raise ValueError("kernel is empty; expected at least one tap")
    f, y = compute_frequency_response(h, sr, n_fft=n_fft, db=db)
    ax = _axes(ax)
    ax.plot(f.numpy(), y.numpy(), label=label, **kwargs)
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


def plot_filter_bank(freqs: torch.Tensor, responses_db: torch.Tensor, ax=None, title: str | None = None,
                     floor_db: float = -30.0):
    """Show a filter bank as an image: one row per filter, gain (dB) against frequency (Chapter 6).

    Args:
        freqs, responses_db: from :func:`audiomap_lib.anatomy.compute_filter_responses` or
            :func:`audiomap_lib.anatomy.compute_mel_filter_responses`.
        floor_db: colour scale floor.

    Returns:
        The matplotlib ``Axes``.
    """
    r = torch.as_tensor(responses_db).double()
    f = torch.as_tensor(freqs).double()
    if r.ndim != 2 or r.shape[1] != f.shape[0]:
        raise ValueError(f"responses_db must be (filters, {f.shape[0]}) to match freqs; got {tuple(r.shape)}")
    ax = _axes(ax, figsize=(5, 3.5))
    ax.imshow(r.clamp_min(floor_db).numpy(), origin="lower", aspect="auto", cmap="magma",
              extent=[float(f[0]), float(f[-1]), -0.5, r.shape[0] - 0.5], vmin=floor_db, vmax=0)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("filter (sorted by centre)")
    if title:
        ax.set_title(title)
    return ax


def plot_kernels(weight: torch.Tensor, sr: int, ax=None, n: int = 8, order: Sequence[int] | None = None):
    """Plot ``n`` first-layer kernels (taps against time in ms), stacked vertically (Chapter 6).

    Args:
        weight: ``(C, 1, K)`` or ``(C, K)``.
        sr: the layer's rate in Hz.
        n: how many kernels to draw (spread evenly over ``order``).
        order: channel order to pick from (e.g. sorted by centre frequency); default ``range(C)``.

    Returns:
        The matplotlib ``Axes``.
    """
    w = torch.as_tensor(weight).detach().double().cpu()
    w = w[:, 0] if w.ndim == 3 else w
    if w.ndim != 2:
        raise ValueError(f"weight must have shape (C, 1, K) or (C, K); got {tuple(w.shape)}")
    sr = check_sample_rate(sr)
    order = list(range(w.shape[0])) if order is None else [int(i) for i in order]
    picks = [order[int(i)] for i in np.linspace(0, len(order) - 1, min(n, len(order)))]
    ax = _axes(ax, figsize=(4, 4))
    t = np.arange(w.shape[1]) * 1000.0 / sr
    for row, c in enumerate(picks):
        k = w[c] / w[c].abs().max().clamp_min(1e-12)
        ax.plot(t, row + 0.45 * k.numpy(), lw=1)
    ax.set_yticks(range(len(picks)), [f"#{c}" for c in picks])
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("kernel")
    return ax


def plot_probabilities(probabilities: torch.Tensor, labels: Sequence[str], ax=None, title: str | None = None,
                       true_label: str | None = None):
    """Bar plot of class probabilities (Chapter 6); the top class is highlighted.

    Args:
        probabilities: ``(K,)`` in [0, 1].
        labels: the ``K`` class names.
        true_label: if given, its bar is outlined.

    Returns:
        The matplotlib ``Axes``.
    """
    p = torch.as_tensor(probabilities).detach().double().cpu().flatten()
    if p.shape[0] != len(labels):
        raise ValueError(f"probabilities must have one value per label ({len(labels)}); got {p.shape[0]}")
    ax = _axes(ax, figsize=(5, 2.4))
    top = int(p.argmax())
    colors = ["C1" if i == top else "C0" for i in range(len(p))]
    bars = ax.bar(range(len(p)), 100 * p.numpy(), color=colors)
    if true_label is not None and true_label in labels:
        bars[list(labels).index(true_label)].set_edgecolor("black")
        bars[list(labels).index(true_label)].set_linewidth(2)
    ax.set_xticks(range(len(p)), list(labels), rotation=45, fontsize=8)
    ax.set_ylabel("probability (%)")
    ax.set_ylim(0, 100)
    if title:
        ax.set_title(title)
    return ax


def plot_history(history: Any, metric: str = "accuracy", ax=None, label: str | None = None):
    """Plot learning curves: training and validation ``"loss"`` or ``"accuracy"`` per epoch (Chapter 4).

    The kept (best) epoch is marked with a dot on the validation curve.

    Args:
        history: a :class:`audiomap_lib.training.History` from :func:`audiomap_lib.training.fit`,
            or its ``to_dict()``: ``train_loss``, ``val_loss`` (nats) or ``train_acc``, ``val_acc``
            (fractions) per epoch, and ``best_epoch``.
        metric: ``"loss"`` or ``"accuracy"`` (drawn in %).
        label: prefix for the legend entries (to compare runs on one Axes).

    Returns:
        The matplotlib ``Axes``.
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy'; got {metric!r}")
    h = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    key = "acc" if metric == "accuracy" else "loss"
    for name in (f"train_{key}", f"val_{key}"):
        if name not in h:
            raise ValueError(f"history must hold {name!r} per epoch; it holds {sorted(h)}")
    ax = _axes(ax, figsize=(5, 3))
    scale = 100.0 if metric == "accuracy" else 1.0
    epochs = np.arange(1, len(h[f"train_{key}"]) + 1)
    prefix = f"{label}: " if label else ""
    (line,) = ax.plot(epochs, scale * np.asarray(h[f"train_{key}"]), "--", label=f"{prefix}train")
    ax.plot(epochs, scale * np.asarray(h[f"val_{key}"]), "-", color=line.get_color(), label=f"{prefix}validation")
    best = int(h.get("best_epoch") or 0)
    if best:
        ax.plot([best], [scale * h[f"val_{key}"][best - 1]], "o", color=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)" if metric == "accuracy" else "cross-entropy (nats)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_confusion_matrix(
    matrix: torch.Tensor, labels: Sequence[str], ax=None, normalize: bool = False, title: str | None = None
):
    """Show a confusion matrix (rows: true class, columns: predicted) with counts in the cells (Chapter 4).

    Args:
        matrix: ``(K, K)`` counts from :func:`audiomap_lib.training.compute_confusion_matrix`.
        labels: the ``K`` class names.
        normalize: show each row as percentages of that class.

    Returns:
        The matplotlib ``Axes``.
    """
    m = torch.as_tensor(matrix).double()
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(labels):
        raise ValueError(f"matrix must be (K, K) with K = len(labels) = {len(labels)}; got {tuple(m.shape)}")
    shown = 100 * m / m.sum(1, keepdim=True).clamp_min(1) if normalize else m
    ax = _axes(ax, figsize=(4.5, 4))
    ax.imshow(shown.numpy(), cmap="Blues")
    k = len(labels)
    top = float(shown.max()) if shown.numel() else 0.0
    for i in range(k):
        for j in range(k):
            v = float(shown[i, j])
            if v:
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 * top else "black")
    ax.set_xticks(range(k), labels, rotation=60, fontsize=8)
    ax.set_yticks(range(k), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return ax


COLOUR_STYLE = "tableau-colorblind10"
plt.style.use(COLOUR_STYLE)
install_figure_descriptions()
