"""Looking inside a trained network: layer shapes, receptive fields, the first layer as a filter bank (Chapter 6).

* :func:`compute_layer_shapes` and :func:`format_layer_table` -- the output shape and the
  parameters of every layer of a :class:`~audiomap_lib.cnn.RawAudioCNN`, as a table;
* :func:`compute_receptive_field_ms` -- how much sound one output step sees;
* :func:`compute_center_frequency`, :func:`compute_filter_responses` -- the kernels of a
  first convolution read as FIR filters (Chapter 3), and :func:`compute_mel_filter_responses`
  -- the mel filter bank (Chapter 2) in the same form, to compare with.

Draw the results with :func:`audiomap_lib.plots.plot_filter_bank` and
:func:`audiomap_lib.plots.plot_kernels`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import nn

from .cnn import LogEnergyPool, RawAudioCNN
from .conv import compute_frequency_response, compute_receptive_field
from .io import check_sample_rate
from .spectral import make_mel_filterbank
from .utils import check_positive_int

__all__ = [
    "compute_center_frequency",
    "compute_filter_responses",
    "compute_layer_shapes",
    "compute_mel_filter_responses",
    "compute_receptive_field_ms",
    "format_layer_table",
]


def compute_layer_shapes(model: nn.Module, n_samples: int) -> list[dict[str, Any]]:
    """Run one silent clip through a :class:`RawAudioCNN` and record every layer's output (Chapter 6).

    Args:
        model: a :class:`RawAudioCNN`.
        n_samples: clip length at the model's ``input_sr``.

    Returns:
        One dict per layer, in order: ``{"layer": str, "shape": (1, C, T), "params": int}``; the
        first row is the (resampled) input, the last the logits ``(1, n_classes)``.
    """
    if not isinstance(model, RawAudioCNN):
        raise TypeError(f"model must be a RawAudioCNN; got {type(model).__name__}")
    n_samples = check_positive_int(n_samples, "n_samples")
    was_training = model.training
    model.eval()
    rows: list[dict[str, Any]] = []
    device = next(model.parameters()).device
    with torch.no_grad():
        x, _ = model.compute_input(torch.zeros(1, 1, n_samples, device=device))
        rows.append({"layer": f"input at {model.model_sr} Hz", "shape": tuple(x.shape), "params": 0})
        for i, stage in enumerate(model.stages):
            for layer in cast(nn.Sequential, stage):
                x = layer(x)
                if isinstance(layer, (nn.Conv1d, nn.MaxPool1d, nn.BatchNorm1d, LogEnergyPool)):
                    name = type(layer).__name__
                    if isinstance(layer, nn.Conv1d):
                        name += f"({layer.in_channels}, {layer.out_channels}, k={layer.kernel_size[0]}, s={layer.stride[0]})"
                    elif isinstance(layer, nn.MaxPool1d):
                        name += f"({layer.kernel_size})"
                    elif isinstance(layer, LogEnergyPool):
                        name += f"({layer.pool})"
                    rows.append({"layer": f"stage {i}: {name}", "shape": tuple(x.shape),
                                 "params": sum(p.numel() for p in layer.parameters())})
        x = x.mean(-1)
        rows.append({"layer": "global average over time", "shape": tuple(x.shape), "params": 0})
        x = model.head(x)
        rows.append({"layer": "Linear", "shape": tuple(x.shape), "params": sum(p.numel() for p in model.head.parameters())})
    model.train(was_training)
    return rows


def format_layer_table(rows: Sequence[dict[str, Any]]) -> str:
    """Format :func:`compute_layer_shapes` rows as an aligned text table (Chapter 6).

    Returns:
        A multi-line ``str`` with columns layer, output shape, parameters, and a total line.
    """
    width = max(len(r["layer"]) for r in rows) + 2
    lines = [f"{'layer':<{width}}{'output shape':<20}{'parameters':>12}"]
    for r in rows:
        lines.append(f"{r['layer']:<{width}}{r['shape']!s:<20}{r['params']:>12,}")
    lines.append(f"{'total':<{width}}{'':<20}{sum(r['params'] for r in rows):>12,}")
    return "\n".join(lines)


def compute_receptive_field_ms(model: RawAudioCNN, layers: int | None = None) -> tuple[int, float]:
    """Receptive field of a :class:`RawAudioCNN`: of its first layer, or of its first ``layers`` layers (Chapter 6).

    Uses :func:`audiomap_lib.conv.compute_receptive_field` on the conv and pool layers
    (a max-pool of size 4, stride 4 counts as a layer of kernel 4, stride 4).

    Args:
        model: the network.
        layers: how many conv/pool layers to include (``1``: the first convolution;
            ``None``: all of them).

    Returns:
        ``(samples, milliseconds)``: samples at ``model.model_sr`` and the same span in ms.
    """
    specs = model.layer_specs if layers is None else model.layer_specs[:check_positive_int(layers, "layers")]
    field = compute_receptive_field([k for k, _, _ in specs], [s for _, s, _ in specs])
    return field, 1000.0 * field / model.model_sr


def compute_center_frequency(kernel: torch.Tensor, sr: int, n_fft: int = 512) -> float:
    """Center frequency of an FIR kernel: where its magnitude response peaks (Chapter 6).

    Args:
        kernel: the taps, ``(K,)``.
        sr: sample rate in Hz.
        n_fft: FFT size (zero-padded; at least ``K``).

    Returns:
        Frequency in Hz of the largest bin of
        :func:`audiomap_lib.conv.compute_frequency_response` (``|rfft(kernel, n_fft)|``), in ``[0, sr/2]``.
    """
    h = torch.as_tensor(kernel, dtype=torch.float64).flatten()
    if h.numel() == 0:
        raise ValueError("kernel is empty; expected at least one tap")
    freqs, magnitude = compute_frequency_response(h, sr, n_fft=n_fft)
    return float(freqs[magnitude.argmax()])


def compute_filter_responses(weight: torch.Tensor, sr: int, n_fft: int = 512, sort: bool = True
                             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Magnitude responses of the filters of a first conv layer, sorted by center frequency (Chapter 6).

    Args:
        weight: ``(C, 1, K)`` (a ``Conv1d(1, C, K)`` weight) or ``(C, K)``.
        sr: the rate the layer runs at (``model_sr``), in Hz.
        n_fft: FFT size.
        sort: order the filters by center frequency (lowest first).

    Returns:
        ``(freqs, responses_db, centers)``: ``freqs (n_fft//2+1,)`` in Hz; ``responses_db
        (C, n_fft//2+1)``, each filter's gain in dB relative to its own peak (0 dB at the
        peak); ``centers (C,)`` in Hz (peak frequencies). ``float64``.
    """
    w = torch.as_tensor(weight).detach().to(torch.float64).cpu()
    if w.ndim == 3:
        if w.shape[1] != 1:
            raise ValueError(f"weight must be (C, 1, K) for a one-input-channel layer; got {tuple(w.shape)}")
        w = w[:, 0]
    if w.ndim != 2:
        raise ValueError(f"weight must have shape (C, 1, K) or (C, K); got {tuple(w.shape)}")
    freqs, magnitude = compute_frequency_response(w, sr, n_fft=n_fft)  # (F,), (C, F)
    centers = freqs[magnitude.argmax(-1)]
    db = 20 * torch.log10(magnitude.clamp_min(1e-12) / magnitude.amax(-1, keepdim=True).clamp_min(1e-12))
    if sort:
        order = torch.argsort(centers, stable=True)
        db, centers = db[order], centers[order]
    return freqs, db, centers


def compute_mel_filter_responses(n_mels: int, sr: int, n_fft: int = 512, f_min: float = 0.0
                                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The mel filter bank (Slaney, as Chapter 2) in the form of :func:`compute_filter_responses` (Chapter 6).

    Returns:
        ``(freqs (n_fft//2+1,), responses_db (n_mels, n_fft//2+1), centers (n_mels,))``; gains in dB
        relative to each filter's peak, floored at -120 dB.
    """
    fb = make_mel_filterbank(n_mels, sr, n_fft=n_fft, f_min=f_min).double()  # (n_mels, F)
    sr = check_sample_rate(sr)
    freqs = torch.linspace(0, sr / 2, n_fft // 2 + 1, dtype=torch.float64)
    centers = freqs[fb.argmax(-1)]
    db = 20 * torch.log10(fb.clamp_min(1e-6) / fb.amax(-1, keepdim=True).clamp_min(1e-12))
    return freqs, db.clamp_min(-120.0), centers
