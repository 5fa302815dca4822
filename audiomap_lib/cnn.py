"""Raw-waveform CNNs and their log-mel baselines (Chapter 6).

* :class:`RawAudioCNN` -- the M3 / M5 / M11 / M18 family of Dai et al. (2017), "Very deep
  convolutional neural networks for raw waveforms": a first convolution with a long kernel
  (80 samples) and stride 4 that plays the role of a learned filter bank, then small
  convolutions and max-pooling, a global average over time (of the *real* frames only)
  and a linear layer.
* :class:`LogMelCNN2d` -- a 2-D CNN over the log-mel "image" (shares weights across frequency).
* :class:`LogMelCNN1d` -- a 1-D CNN over time with the mel bands as channels.

Every model is called as ``model(waveforms (B, 1, T), lengths (B,))`` and returns logits
``(B, n_classes)``, so :func:`audiomap_lib.training.fit` trains any of them. The helpers
print a model's layer-by-layer shapes, read its first layer as a filter bank
(:func:`compute_filter_responses`, :func:`plot_filter_bank`), save and load the course's
digit classifier (:func:`save_digit_classifier`, :func:`load_digit_classifier`, used again
by the WaveGAN chapter) and classify one waveform at any sample rate (:func:`predict_digit`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .attention import make_length_mask
from .conv import compute_receptive_field
from .io import check_sample_rate, check_waveform, resample
from .utils import get_cache_dir

__all__ = [
    "CNN_CONFIGS",
    "DIGIT_CLASSIFIER_NAME",
    "FIRST_ACTIVATIONS",
    "DigitPrediction",
    "FramedConv1d",
    "LogEnergyPool",
    "LogMelCNN1d",
    "LogMelCNN2d",
    "RawAudioCNN",
    "compute_centre_frequency",
    "compute_filter_responses",
    "compute_layer_shapes",
    "compute_mel_filter_responses",
    "compute_output_lengths",
    "compute_receptive_field_ms",
    "format_layer_table",
    "load_digit_classifier",
    "plot_filter_bank",
    "plot_kernels",
    "plot_probabilities",
    "predict_digit",
    "save_digit_classifier",
]

CNN_CONFIGS: dict[str, list[tuple[int, int]]] = {
    "m3": [(1, 256), (1, 256)],
    "m5": [(1, 128), (1, 128), (1, 256), (1, 512)],
    "m11": [(1, 64), (2, 64), (2, 128), (3, 256), (2, 512)],
    "m18": [(1, 64), (4, 64), (4, 128), (4, 256), (4, 512)],
}
"""Dai et al. (2017), Table 1: per stage, ``(number of conv layers, channels)``. Stage 0 is the
single long-kernel convolution; every stage but the last ends with a max-pool of 4."""

DIGIT_CLASSIFIER_NAME = "digit_classifier.pt"
"""File name of the course's digit classifier in ``get_cache_dir("models")``."""


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")
    return int(value)


def _check_batch(waveforms: torch.Tensor, lengths: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(waveforms, torch.Tensor) or waveforms.ndim != 3 or waveforms.shape[1] != 1:
        shape = tuple(waveforms.shape) if isinstance(waveforms, torch.Tensor) else type(waveforms).__name__
        raise ValueError(f"waveforms must have shape (batch, 1, samples); got {shape}")
    b, _, t = waveforms.shape
    if lengths is None:
        return waveforms, torch.full((b,), t, dtype=torch.int64, device=waveforms.device)
    if not isinstance(lengths, torch.Tensor) or lengths.shape != (b,):
        raise ValueError(f"lengths must be a tensor of shape (batch={b},); got {getattr(lengths, 'shape', lengths)}")
    return waveforms, lengths.to(waveforms.device)


def _masked_mean(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean over the last axis of ``x (B, C, T)`` using only the first ``lengths[b]`` steps."""
    t = x.shape[-1]
    lengths = lengths.clamp(1, t)
    mask = make_length_mask(lengths, t).to(x.dtype)  # (B, T), Chapter 5
    return (x * mask[:, None, :]).sum(-1) / lengths[:, None].to(x.dtype)


def _masked_rms(x: torch.Tensor, lengths: torch.Tensor, floor: float = 1e-4) -> torch.Tensor:
    """RMS of each clip of ``x (B, 1, T)`` over its first ``lengths[b]`` samples, shape ``(B, 1, 1)``, at least ``floor``."""
    t = x.shape[-1]
    mask = (torch.arange(t, device=x.device)[None, :] < lengths[:, None]).to(x.dtype)
    power = (x[:, 0] ** 2 * mask).sum(-1) / lengths.clamp(1, t).to(x.dtype)
    return power.sqrt().clamp_min(floor).view(-1, 1, 1)


def compute_output_lengths(lengths: torch.Tensor, layers: Sequence[tuple[int, int, int]]) -> torch.Tensor:
    """Length of each clip after a stack of 1-D conv / pool layers (Chapter 6; formula of Chapter 3).

    Args:
        lengths: input lengths in samples, int tensor ``(B,)``.
        layers: ``(kernel, stride, padding)`` of each layer, first layer first
            (padding: zeros on each side; dilation 1).

    Returns:
        ``int64`` tensor ``(B,)``: ``floor((L + 2 p - k) / s) + 1`` applied layer after layer,
        at least 1 (a clip shorter than a kernel keeps one output step).
    """
    out = torch.as_tensor(lengths).to(torch.int64)
    for k, s, p in layers:
        out = torch.div(out + 2 * p - k, s, rounding_mode="floor") + 1
        out = out.clamp_min(1)
    return out


class FramedConv1d(nn.Conv1d):
    """A ``Conv1d(1, C, K, stride)`` computed as frames times a matrix (Chapter 6; Chapter 3's ``unfold``).

    Same weights, same state dict and the same outputs as :class:`torch.nn.Conv1d` (one input
    channel, no padding, dilation 1): the input is cut into its ``(T - K) // stride + 1`` windows
    of ``K`` samples with ``Tensor.unfold`` and multiplied by the ``(K, C)`` weight matrix. On a
    CPU its backward pass is many times faster than PyTorch's for a long kernel on one channel.

    Returns (forward):
        ``(B, C, T')`` for an input ``(B, 1, T)``.
    """

    def __init__(self, out_channels: int, kernel_size: int, stride: int = 1, bias: bool = False) -> None:
        super().__init__(1, out_channels, kernel_size, stride=stride, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1] != 1:
            raise ValueError(f"input must have shape (batch, 1, samples); got {tuple(x.shape)}")
        k, s = self.kernel_size[0], self.stride[0]
        if x.shape[-1] < k:
            raise ValueError(f"input has {x.shape[-1]} samples, fewer than the kernel's {k}")
        frames = x[:, 0].unfold(-1, k, s)  # (B, T', K): one row per window
        y = frames @ self.weight[:, 0].T  # (B, T', C)
        if self.bias is not None:
            y = y + self.bias
        return y.transpose(1, 2)


FIRST_ACTIVATIONS: tuple[str, ...] = ("relu", "log_energy")
"""What :class:`RawAudioCNN` can put after its first convolution."""


class LogEnergyPool(nn.Module):
    """Log of the mean energy over non-overlapping windows (Chapter 6).

    ``y[b, c, t] = log(eps + mean_{j < pool} x[b, c, t * pool + j]^2)``: what a spectrogram does
    to each frequency band (energy, then a log), applied to the outputs of learned filters.

    Returns (forward):
        ``(B, C, T // pool)`` for an input ``(B, C, T)``.
    """

    def __init__(self, pool: int, eps: float = 1e-4) -> None:
        super().__init__()
        self.pool, self.eps = _check_positive_int(pool, "pool"), float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(self.eps + F.avg_pool1d(x * x, self.pool))

    def extra_repr(self) -> str:
        return f"pool={self.pool}, eps={self.eps}"


class RawAudioCNN(nn.Module):
    """The M3 / M5 / M11 / M18 raw-waveform CNNs of Dai et al. (2017), as one class (Chapter 6).

    Input: each clip divided by its RMS level (``normalize``), resampled from ``input_sr`` to
    ``model_sr`` (explicitly, with :func:`audiomap_lib.io.resample`).
    Stage 0: ``Conv1d(1, C0, first_kernel, stride=first_stride)`` (computed as
    :class:`FramedConv1d`), BatchNorm, ReLU, MaxPool(4) -- or, with
    ``first_activation="log_energy"``, :class:`LogEnergyPool` (4) and BatchNorm.
    Stages 1..: ``n`` times ``Conv1d(C, C', 3, padding=1)``, BatchNorm, ReLU; a MaxPool(4)
    after every stage except the last. Then the mean over the real frames of each clip
    (global average pooling that ignores padding), dropout and ``Linear(C_last, n_classes)``.

    Args:
        config: ``"m3"``, ``"m5"``, ``"m11"`` or ``"m18"`` (:data:`CNN_CONFIGS`).
        n_classes: output classes.
        channels: width of the first stage; later stages keep the paper's ratios
            (e.g. M5 with ``channels=32``: 32, 32, 64, 128; the paper's M5 has 128).
        input_sr: the sample rate the waveforms arrive at, in Hz.
        model_sr: the rate the network runs at; when it differs from ``input_sr`` the
            forward pass first resamples explicitly with :func:`audiomap_lib.io.resample`
            (e.g. 16 kHz in, 8 kHz inside: half the work).
        first_kernel, first_stride: the long first convolution (80 and 4 in the paper).
        pool: max-pool size and stride between stages.
        dropout: dropout before the linear layer.
        first_activation: what follows the first convolution: ``"relu"`` (the paper: BatchNorm,
            ReLU, max-pool) or ``"log_energy"`` (:class:`LogEnergyPool`: the mean square of each
            filter's output over the pool window, on a log scale, then BatchNorm -- a learned
            filter bank read like a log-mel spectrogram).
        normalize: divide each clip by its RMS level over its real samples before the first
            layer (a loudness normalisation, as the log-mel front end's mean subtraction): a
            louder or quieter recording of the same word gives the same input.

    Attributes:
        config_dict: the constructor's arguments (saved in checkpoints).
        labels: optional class names (set by :func:`load_digit_classifier`).
    """

    def __init__(self, config: str = "m5", n_classes: int = 10, channels: int = 32, input_sr: int = 16000,
                 model_sr: int = 8000, first_kernel: int = 80, first_stride: int = 4, pool: int = 4,
                 dropout: float = 0.1, normalize: bool = True, first_activation: str = "relu") -> None:
        super().__init__()
        if config not in CNN_CONFIGS:
            raise ValueError(f"config must be one of {tuple(CNN_CONFIGS)}; got {config!r}")
        if first_activation not in FIRST_ACTIVATIONS:
            raise ValueError(f"first_activation must be one of {FIRST_ACTIVATIONS}; got {first_activation!r}")
        _check_positive_int(n_classes, "n_classes")
        _check_positive_int(channels, "channels")
        _check_positive_int(first_kernel, "first_kernel")
        _check_positive_int(first_stride, "first_stride")
        _check_positive_int(pool, "pool")
        self.input_sr = check_sample_rate(input_sr, "input_sr")
        self.model_sr = check_sample_rate(model_sr, "model_sr")
        self.config_dict = {"config": config, "n_classes": n_classes, "channels": channels, "input_sr": input_sr,
                            "model_sr": model_sr, "first_kernel": first_kernel, "first_stride": first_stride,
                            "pool": pool, "dropout": dropout, "normalize": normalize,
                            "first_activation": first_activation}
        self.normalize = bool(normalize)
        self.config = config
        self.labels: tuple[str, ...] | None = None
        stages = CNN_CONFIGS[config]
        scale = channels / stages[0][1]
        widths = [max(1, round(c * scale)) for _, c in stages]
        blocks: list[nn.Module] = []
        self._layers: list[tuple[int, int, int]] = []  # (kernel, stride, padding) of every conv and pool
        in_ch = 1
        for i, ((n, _), width) in enumerate(zip(stages, widths)):
            layers: list[nn.Module] = []
            for _ in range(n):
                if i == 0:
                    layers.append(FramedConv1d(width, first_kernel, stride=first_stride))
                    self._layers.append((first_kernel, first_stride, 0))
                else:
                    layers.append(nn.Conv1d(in_ch, width, 3, padding=1, bias=False))
                    self._layers.append((3, 1, 1))
                if i == 0 and first_activation == "log_energy":
                    # energy of each filter's output, averaged over the pool, on a log scale (like a log-mel bank)
                    layers += [LogEnergyPool(pool), nn.BatchNorm1d(width)]
                    self._layers.append((pool, pool, 0))
                else:
                    layers += [nn.BatchNorm1d(width), nn.ReLU(inplace=True)]
                in_ch = width
            if i < len(stages) - 1 and not (i == 0 and first_activation == "log_energy"):
                layers.append(nn.MaxPool1d(pool))
                self._layers.append((pool, pool, 0))
            blocks.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_ch, n_classes))
        self.widths = widths

    @property
    def first_layer(self) -> nn.Conv1d:
        """The long first convolution (the learned filter bank)."""
        return self.stages[0][0]

    @property
    def layer_specs(self) -> list[tuple[int, int, int]]:
        """``(kernel, stride, padding)`` of every conv and pool layer in order (at ``model_sr``)."""
        return list(self._layers)

    def compute_input(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalise each clip's loudness (if ``normalize``) and bring the batch from ``input_sr`` to
        ``model_sr`` (explicitly, with :func:`audiomap_lib.io.resample`).

        Returns:
            ``(waveforms (B, 1, T'), lengths (B,))`` at ``model_sr``; ``T' = ceil(T * model_sr / input_sr)``
            and each length scaled the same way.
        """
        waveforms, lengths = _check_batch(waveforms, lengths)
        if self.normalize:
            waveforms = waveforms / _masked_rms(waveforms, lengths)
        if self.model_sr == self.input_sr:
            return waveforms, lengths
        b, _, t = waveforms.shape
        x = resample(waveforms.reshape(b, t), self.input_sr, self.model_sr).unsqueeze(1)  # (B, 1, T')
        new_lengths = torch.div(lengths * self.model_sr + self.input_sr - 1, self.input_sr, rounding_mode="floor")
        return x, new_lengths.clamp(max=x.shape[-1])

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Classify a batch.

        Args:
            waveforms: ``(B, 1, T)`` at ``input_sr``.
            lengths: real samples per clip ``(B,)`` (``None``: all ``T``); padding is left out
                of the global average.

        Returns:
            Logits ``(B, n_classes)``.
        """
        x, lengths = self.compute_input(waveforms, lengths)
        h = self.stages(x)
        frames = compute_output_lengths(lengths, self._layers).clamp(max=h.shape[-1])
        return self.head(_masked_mean(h, frames))


class _LogMelBase(nn.Module):
    """What the two log-mel baselines share: the front end, ``blocks`` conv blocks, the head."""

    def __init__(self, dims: int, n_classes: int, channels: int, blocks: int, input_sr: int, n_mels: int,
                 dropout: float) -> None:
        super().__init__()
        from .models import LogMelFrontEnd

        self.input_sr = check_sample_rate(input_sr, "input_sr")
        _check_positive_int(channels, "channels")
        _check_positive_int(blocks, "blocks")
        self.front_end = LogMelFrontEnd(sr=input_sr, n_mels=n_mels)
        self.labels: tuple[str, ...] | None = None
        self.config_dict = {"n_classes": n_classes, "channels": channels, "blocks": blocks, "input_sr": input_sr,
                            "n_mels": n_mels, "dropout": dropout}
        conv, norm, pool = (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d) if dims == 2 else (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d)
        layers: list[nn.Module] = []
        in_ch = 1 if dims == 2 else n_mels  # 2-D: one image; 1-D: the bands are channels
        for i in range(blocks):
            out = channels * 2 ** i
            layers += [conv(in_ch, out, 3, padding=1, bias=False), norm(out), nn.ReLU(inplace=True), pool(2)]
            in_ch = out
        self.body = nn.Sequential(*layers)
        self.blocks = blocks
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_ch, n_classes))


class LogMelCNN2d(_LogMelBase):
    """A 2-D CNN over log-mel spectrograms: the "spectrogram as an image" baseline (Chapter 6).

    Log-mel features ``(B, n_mels, frames)`` from :class:`audiomap_lib.models.LogMelFrontEnd`
    become a one-channel image; ``blocks`` times Conv2d 3x3, BatchNorm, ReLU, MaxPool 2x2;
    then the mean over mel bands and real frames, dropout and a linear layer.

    Args:
        n_classes: output classes.
        channels: width of the first block (doubled each block).
        blocks: number of conv blocks.
        input_sr: rate of the incoming waveforms (Hz); the front end runs at this rate.
        n_mels: mel bands of the default front end.
        dropout: before the linear layer.
    """

    def __init__(self, n_classes: int = 10, channels: int = 16, blocks: int = 3, input_sr: int = 16000,
                 n_mels: int = 40, dropout: float = 0.1) -> None:
        super().__init__(2, n_classes, channels, blocks, input_sr, n_mels, dropout)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, n_classes)`` for waveforms ``(B, 1, T)`` at ``input_sr``."""
        waveforms, lengths = _check_batch(waveforms, lengths)
        feats, frames = self.front_end(waveforms, lengths)  # (B, n_mels, F)
        h = self.body(feats.unsqueeze(1))  # (B, C, n_mels / 2^blocks, F / 2^blocks)
        frames = torch.div(frames, 2 ** self.blocks, rounding_mode="floor").clamp(1, h.shape[-1])
        return self.head(_masked_mean(h.mean(2), frames))


class LogMelCNN1d(_LogMelBase):
    """A 1-D CNN over time with the mel bands as input channels (Chapter 6; Chapter 3 explains why).

    Each band has its own weights, so a pattern higher in frequency is a different input.
    ``blocks`` times Conv1d(k=3), BatchNorm, ReLU, MaxPool(2); then the mean over real frames,
    dropout and a linear layer.

    Args:
        n_classes: output classes.
        channels: width of the first block (doubled each block).
        blocks: number of conv blocks.
        input_sr: rate of the incoming waveforms (Hz).
        n_mels: mel bands (input channels).
        dropout: before the linear layer.
    """

    def __init__(self, n_classes: int = 10, channels: int = 32, blocks: int = 3, input_sr: int = 16000,
                 n_mels: int = 40, dropout: float = 0.1) -> None:
        super().__init__(1, n_classes, channels, blocks, input_sr, n_mels, dropout)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, n_classes)`` for waveforms ``(B, 1, T)`` at ``input_sr``."""
        waveforms, lengths = _check_batch(waveforms, lengths)
        feats, frames = self.front_end(waveforms, lengths)  # (B, n_mels, F)
        h = self.body(feats)
        frames = torch.div(frames, 2 ** self.blocks, rounding_mode="floor").clamp(1, h.shape[-1])
        return self.head(_masked_mean(h, frames))


_MODEL_CLASSES: dict[str, type[nn.Module]] = {
    "RawAudioCNN": RawAudioCNN, "LogMelCNN2d": LogMelCNN2d, "LogMelCNN1d": LogMelCNN1d,
}


# --------------------------------------------------------------------------- looking inside


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
    n_samples = _check_positive_int(n_samples, "n_samples")
    was_training = model.training
    model.eval()
    rows: list[dict[str, Any]] = []
    device = next(model.parameters()).device
    with torch.no_grad():
        x, _ = model.compute_input(torch.zeros(1, 1, n_samples, device=device))
        rows.append({"layer": f"input at {model.model_sr} Hz", "shape": tuple(x.shape), "params": 0})
        for i, stage in enumerate(model.stages):
            for layer in stage:
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
    specs = model.layer_specs if layers is None else model.layer_specs[:_check_positive_int(layers, "layers")]
    field = compute_receptive_field([k for k, _, _ in specs], [s for _, s, _ in specs])
    return field, 1000.0 * field / model.model_sr


def compute_centre_frequency(kernel: torch.Tensor, sr: int, n_fft: int = 512) -> float:
    """Centre frequency of an FIR kernel: where its magnitude response peaks (Chapter 6).

    Args:
        kernel: the taps, ``(K,)``.
        sr: sample rate in Hz.
        n_fft: FFT size (zero-padded; at least ``K``).

    Returns:
        Frequency in Hz of the largest ``|rfft(kernel, n_fft)|`` bin, in ``[0, sr/2]``.
    """
    sr = check_sample_rate(sr)
    h = torch.as_tensor(kernel, dtype=torch.float64).flatten()
    if h.numel() == 0:
        raise ValueError("kernel is empty; expected at least one tap")
    mag = torch.fft.rfft(h, n=max(n_fft, h.numel())).abs()
    return float(mag.argmax()) * sr / max(n_fft, h.numel())


def compute_filter_responses(weight: torch.Tensor, sr: int, n_fft: int = 512, sort: bool = True
                             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Magnitude responses of the filters of a first conv layer, sorted by centre frequency (Chapter 6).

    Args:
        weight: ``(C, 1, K)`` (a ``Conv1d(1, C, K)`` weight) or ``(C, K)``.
        sr: the rate the layer runs at (``model_sr``), in Hz.
        n_fft: FFT size.
        sort: order the filters by centre frequency (lowest first).

    Returns:
        ``(freqs, responses_db, centres)``: ``freqs (n_fft//2+1,)`` in Hz; ``responses_db
        (C, n_fft//2+1)``, each filter's gain in dB relative to its own peak (0 dB at the
        peak); ``centres (C,)`` in Hz (peak frequencies). ``float64``.
    """
    sr = check_sample_rate(sr)
    w = torch.as_tensor(weight).detach().to(torch.float64).cpu()
    if w.ndim == 3:
        if w.shape[1] != 1:
            raise ValueError(f"weight must be (C, 1, K) for a one-input-channel layer; got {tuple(w.shape)}")
        w = w[:, 0]
    if w.ndim != 2:
        raise ValueError(f"weight must have shape (C, 1, K) or (C, K); got {tuple(w.shape)}")
    n = max(n_fft, w.shape[-1])
    mag = torch.fft.rfft(w, n=n).abs()
    centres = mag.argmax(-1).double() * sr / n
    db = 20 * torch.log10(mag.clamp_min(1e-12) / mag.amax(-1, keepdim=True).clamp_min(1e-12))
    if sort:
        order = torch.argsort(centres, stable=True)
        db, centres = db[order], centres[order]
    freqs = torch.arange(mag.shape[-1], dtype=torch.float64) * sr / n
    return freqs, db, centres


def compute_mel_filter_responses(n_mels: int, sr: int, n_fft: int = 512, f_min: float = 0.0
                                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The mel filter bank (Slaney, as Chapter 2) in the form of :func:`compute_filter_responses` (Chapter 6).

    Returns:
        ``(freqs (n_fft//2+1,), responses_db (n_mels, n_fft//2+1), centres (n_mels,))``; gains in dB
        relative to each filter's peak, floored at -120 dB.
    """
    import torchaudio.functional as AF

    sr = check_sample_rate(sr)
    fb = AF.melscale_fbanks(n_fft // 2 + 1, f_min, sr / 2, _check_positive_int(n_mels, "n_mels"), sr,
                            norm="slaney", mel_scale="slaney").T.double()  # (n_mels, F)
    freqs = torch.linspace(0, sr / 2, n_fft // 2 + 1, dtype=torch.float64)
    centres = freqs[fb.argmax(-1)]
    db = 20 * torch.log10(fb.clamp_min(1e-6) / fb.amax(-1, keepdim=True).clamp_min(1e-12))
    return freqs, db.clamp_min(-120.0), centres


def plot_filter_bank(freqs: torch.Tensor, responses_db: torch.Tensor, ax=None, title: str | None = None,
                     floor_db: float = -30.0):
    """Show a filter bank as an image: one row per filter, gain (dB) against frequency (Chapter 6).

    Args:
        freqs, responses_db: from :func:`compute_filter_responses` or :func:`compute_mel_filter_responses`.
        floor_db: colour scale floor.

    Returns:
        The matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    r = torch.as_tensor(responses_db).double()
    f = torch.as_tensor(freqs).double()
    if r.ndim != 2 or r.shape[1] != f.shape[0]:
        raise ValueError(f"responses_db must be (filters, {f.shape[0]}) to match freqs; got {tuple(r.shape)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
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
    import matplotlib.pyplot as plt

    w = torch.as_tensor(weight).detach().double().cpu()
    w = w[:, 0] if w.ndim == 3 else w
    if w.ndim != 2:
        raise ValueError(f"weight must have shape (C, 1, K) or (C, K); got {tuple(w.shape)}")
    sr = check_sample_rate(sr)
    order = list(range(w.shape[0])) if order is None else [int(i) for i in order]
    picks = [order[int(i)] for i in np.linspace(0, len(order) - 1, min(n, len(order)))]
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
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
    import matplotlib.pyplot as plt

    p = torch.as_tensor(probabilities).detach().double().cpu().flatten()
    if p.shape[0] != len(labels):
        raise ValueError(f"probabilities must have one value per label ({len(labels)}); got {p.shape[0]}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 2.4))
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


# --------------------------------------------------------------------------- save, load, use


def _default_path(path: str | Path | None) -> Path:
    return get_cache_dir("models") / DIGIT_CLASSIFIER_NAME if path is None else Path(path).expanduser()


def save_digit_classifier(model: nn.Module, labels: Sequence[str], path: str | Path | None = None,
                          **meta: Any) -> Path:
    """Save a trained classifier with everything needed to rebuild and use it (Chapter 6; Chapter 7 loads it).

    Written atomically with :func:`audiomap_lib.training.save_checkpoint`.

    Args:
        model: a :class:`RawAudioCNN`, :class:`LogMelCNN2d` or :class:`LogMelCNN1d`.
        labels: the class names in index order.
        path: destination; ``None``: ``get_cache_dir("models") / "digit_classifier.pt"``.
        meta: extra JSON-like values (accuracies, corpus, profile ...).

    Returns:
        The absolute :class:`pathlib.Path` written.
    """
    from .training import save_checkpoint

    name = type(model).__name__
    if name not in _MODEL_CLASSES or not hasattr(model, "config_dict"):
        raise TypeError(f"model must be one of {tuple(_MODEL_CLASSES)}; got {name}")
    labels = [str(x) for x in labels]
    n_classes = model.config_dict["n_classes"]
    if len(labels) != n_classes:
        raise ValueError(f"labels must name the model's {n_classes} classes; got {len(labels)} names")
    return save_checkpoint(_default_path(path), model, model_class=name, config=dict(model.config_dict),
                           labels=labels, sample_rate=int(model.input_sr), **meta)


def load_digit_classifier(path: str | Path | None = None, device: torch.device | str = "cpu"
                          ) -> tuple[nn.Module, dict[str, Any]]:
    """Load a classifier saved by :func:`save_digit_classifier` (Chapter 6; used by Chapter 7).

    Args:
        path: the file; ``None``: ``get_cache_dir("models") / "digit_classifier.pt"``.
        device: where to put the model.

    Returns:
        ``(model, meta)``: the model in eval mode with ``model.labels`` set, and the
        checkpoint's metadata (``model_class, config, labels, sample_rate`` and extras).

    Raises:
        FileNotFoundError: nothing saved there yet (run Chapter 6 first).
    """
    from .training import load_checkpoint

    p = _default_path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no digit classifier at {p}; run Chapter 6 (06_raw_waveform_cnn) to train and save it")
    data = load_checkpoint(p)
    meta = data["meta"]
    if meta.get("model_class") not in _MODEL_CLASSES:
        raise ValueError(f"{p} does not hold a Chapter 6 classifier (model_class={meta.get('model_class')!r})")
    model = _MODEL_CLASSES[meta["model_class"]](**meta["config"])
    model.load_state_dict(data["state_dict"])
    model.labels = tuple(meta["labels"])
    return model.to(device).eval(), meta


@dataclass
class DigitPrediction:
    """What :func:`predict_digit` returns (Chapter 6).

    Attributes:
        label: the predicted class name; index: its index.
        probabilities: ``(K,)`` softmax probabilities, ``float32`` on the CPU.
        labels: the ``K`` class names.
        input_sr: the rate the waveform was given at (Hz); model_sr: the rate the model
            was fed (its ``input_sr``); resampled: ``True`` when the two differ and the
            waveform was resampled with :func:`audiomap_lib.io.resample`.
    """

    label: str
    index: int
    probabilities: torch.Tensor
    labels: tuple[str, ...]
    input_sr: int
    model_sr: int
    resampled: bool

    def __str__(self) -> str:
        note = f", resampled {self.input_sr} -> {self.model_sr} Hz" if self.resampled else ""
        return f"{self.label} ({100 * float(self.probabilities[self.index]):.1f} %{note})"


@torch.no_grad()
def predict_digit(model: nn.Module, waveform: torch.Tensor, sr: int, labels: Sequence[str] | None = None
                  ) -> DigitPrediction:
    """Classify one mono waveform given at any sample rate (Chapter 6).

    If ``sr`` differs from the model's ``input_sr`` the waveform is resampled with
    :func:`audiomap_lib.io.resample` (and the result says so). Nothing is cropped, padded
    or normalised: the model averages over the whole clip.

    Args:
        model: a Chapter 6 classifier (has ``input_sr``).
        waveform: ``(samples,)`` or ``(1, samples)`` float.
        sr: its sample rate in Hz.
        labels: class names; default ``model.labels``, else ``"0" ... "K-1"``.

    Returns:
        A :class:`DigitPrediction`.

    Raises:
        ValueError: not mono, empty, non-finite, a bad ``sr``, or too short for the model.
        TypeError: not a float tensor / array.
    """
    sr = check_sample_rate(sr, "sr")
    wav = check_waveform(waveform, "waveform", ndim=(1, 2))
    if wav.ndim == 2:
        if wav.shape[0] != 1:
            raise ValueError(f"waveform must be mono, (samples,) or (1, samples); got shape {tuple(wav.shape)}")
        wav = wav[0]
    model_sr = getattr(model, "input_sr", None)
    if model_sr is None:
        raise TypeError("model must have an input_sr attribute (a Chapter 6 classifier)")
    resampled = sr != model_sr
    if resampled:
        wav = resample(wav, sr, model_sr)
    min_len = math.ceil(0.1 * model_sr)
    if wav.shape[-1] < min_len:
        raise ValueError(f"waveform is {wav.shape[-1] / model_sr * 1000:.0f} ms long; expected at least 100 ms")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits = model(wav.view(1, 1, -1).to(device), torch.tensor([wav.shape[-1]], device=device))
    model.train(was_training)
    probs = logits.softmax(-1)[0].float().cpu()
    names = tuple(labels) if labels is not None else (tuple(model.labels) if getattr(model, "labels", None)
                                                      else tuple(str(i) for i in range(probs.shape[0])))
    if len(names) != probs.shape[0]:
        raise ValueError(f"labels must name the model's {probs.shape[0]} classes; got {len(names)}")
    idx = int(probs.argmax())
    return DigitPrediction(names[idx], idx, probs, names, sr, int(model_sr), resampled)
