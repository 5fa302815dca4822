"""Raw-waveform CNNs and their log-mel baselines (Chapter 6).

* :class:`RawAudioCNN` -- the M3 / M5 / M11 / M18 family of Dai et al. (2017), "Very deep
  convolutional neural networks for raw waveforms": a first convolution with a long kernel
  (80 samples) and stride 4 that plays the role of a learned filter bank, then small
  convolutions and max-pooling, a global average over time (of the *real* frames only)
  and a linear layer.
* :class:`LogMelCNN2d` -- a 2-D CNN over the log-mel "image" (shares weights across frequency).
* :class:`LogMelCNN1d` -- a 1-D CNN over time with the mel bands as channels.

Every model is built for one sample rate (``input_sr``, also readable as ``sample_rate_hz``),
is called as ``model(waveforms (B, 1, T), lengths (B,))`` at that rate and returns logits
``(B, n_classes)``, so :func:`audiomap_lib.training.fit` trains any of them (and refuses data
at another rate). Around the models:

* :mod:`audiomap_lib.anatomy` prints a model's layer-by-layer shapes and reads its first
  layer as a filter bank;
* :mod:`audiomap_lib.hub` saves and loads the course's digit classifier (used again by
  Chapters 7 and 8) and classifies one waveform at any sample rate;
* :mod:`audiomap_lib.plots` draws filter banks, kernels and class probabilities.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from .attention import compute_masked_mean, make_length_mask
from .io import check_batch, check_sample_rate, resample
from .utils import check_positive_int

__all__ = [
    "CNN_CONFIGS",
    "FIRST_ACTIVATIONS",
    "MAX_PARAMETERS",
    "FramedConv1d",
    "LogEnergyPool",
    "LogMelCNN1d",
    "LogMelCNN2d",
    "RawAudioCNN",
    "compute_min_input_length",
    "compute_output_lengths",
]

CNN_CONFIGS: dict[str, list[tuple[int, int]]] = {
    "m3": [(1, 256), (1, 256)],
    "m5": [(1, 128), (1, 128), (1, 256), (1, 512)],
    "m11": [(1, 64), (2, 64), (2, 128), (3, 256), (2, 512)],
    "m18": [(1, 64), (4, 64), (4, 128), (4, 256), (4, 512)],
}
"""Dai et al. (2017), Table 1: per stage, ``(number of conv layers, channels)``. Stage 0 is the
single long-kernel convolution; every stage but the last ends with a max-pool of 4."""

def _check_batch(waveforms: torch.Tensor, lengths: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    return check_batch(waveforms, lengths)


def _check_long_enough(waveforms: torch.Tensor, min_samples: int, model: nn.Module) -> None:
    """Refuse a batch too short for every layer of ``model`` to keep one output step."""
    if waveforms.shape[-1] < min_samples:
        sr = int(cast(int, model.sample_rate_hz))
        raise ValueError(
            f"waveforms have {waveforms.shape[-1]} samples ({1000 * waveforms.shape[-1] / sr:.1f} ms at {sr} Hz); "
            f"this {type(model).__name__} needs at least min_input_samples={min_samples} "
            f"({1000 * min_samples / sr:.1f} ms) for its last layer to have one output step: pad the clips"
        )


def compute_min_input_length(layers: Sequence[tuple[int, int, int]]) -> int:
    """The shortest input (samples) for which a stack of 1-D conv / pool layers keeps one output step
    (Chapter 6; inverts the length formula of :func:`compute_output_lengths`, which clamps instead).

    Args:
        layers: ``(kernel, stride, padding)`` of each layer, first layer first.

    Returns:
        The smallest ``L >= 1`` with ``floor((L + 2 p - k) / s) + 1 >= 1`` after every layer.
    """
    need = 1
    for k, s, p in reversed(list(layers)):
        need = max(1, (need - 1) * s + k - 2 * p)
    return need


def _masked_mean(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean over the last axis of ``x (B, C, T)`` using only the first ``lengths[b]`` steps (Chapter 5)."""
    return compute_masked_mean(x, lengths.clamp(1, x.shape[-1]), dim=-1)


def _masked_rms(x: torch.Tensor, lengths: torch.Tensor, floor: float = 1e-4) -> torch.Tensor:
    """RMS of each clip of ``x (B, 1, T)`` over its first ``lengths[b]`` samples, shape ``(B, 1, 1)``, at least ``floor``."""
    power = compute_masked_mean(x[:, 0] ** 2, lengths.clamp(1, x.shape[-1]), dim=-1)  # (B,)
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
        self.pool, self.eps = check_positive_int(pool, "pool"), float(eps)

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
        input_sr: the sample rate the waveforms arrive at, in Hz (required: the data decide it,
            e.g. ``loader.sample_rate_hz``; :func:`audiomap_lib.training.fit` refuses data at
            another rate).
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
        labels: optional class names (set by :func:`audiomap_lib.hub.load_digit_classifier`).
        sample_rate_hz: ``input_sr``, the rate the model takes (read by
            :func:`audiomap_lib.training.fit` and :func:`~audiomap_lib.training.predict`).
    """

    def __init__(self, config: str = "m5", n_classes: int = 10, channels: int = 32, *, input_sr: int,
                 model_sr: int = 8000, first_kernel: int = 80, first_stride: int = 4, pool: int = 4,
                 dropout: float = 0.1, normalize: bool = True, first_activation: str = "relu") -> None:
        super().__init__()
        if config not in CNN_CONFIGS:
            raise ValueError(f"config must be one of {tuple(CNN_CONFIGS)}; got {config!r}")
        if first_activation not in FIRST_ACTIVATIONS:
            raise ValueError(f"first_activation must be one of {FIRST_ACTIVATIONS}; got {first_activation!r}")
        check_positive_int(n_classes, "n_classes")
        check_positive_int(channels, "channels")
        check_positive_int(first_kernel, "first_kernel")
        check_positive_int(first_stride, "first_stride")
        check_positive_int(pool, "pool")
        self.input_sr = check_sample_rate(input_sr, "input_sr")
        self.model_sr = check_sample_rate(model_sr, "model_sr")
        self.config_dict: dict[str, Any] = {"config": config, "n_classes": n_classes, "channels": channels, "input_sr": input_sr,
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
    def sample_rate_hz(self) -> int:
        """The rate the waveforms must have, in Hz (``input_sr``)."""
        return self.input_sr

    @property
    def min_input_samples(self) -> int:
        """The shortest clip this model takes, in samples at ``input_sr`` (shorter ones are refused)."""
        need = compute_min_input_length(self._layers)  # at model_sr
        if self.model_sr == self.input_sr:
            return need
        # resampling gives ceil(T * model_sr / input_sr) samples, which is >= need from this T on
        return (need - 1) * self.input_sr // self.model_sr + 1

    @property
    def first_layer(self) -> nn.Conv1d:
        """The long first convolution (the learned filter bank)."""
        return cast(nn.Conv1d, cast(nn.Sequential, self.stages[0])[0])

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
        _check_long_enough(waveforms, self.min_input_samples, self)
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
        h, frames = self._run_stages(x, lengths)
        return self.head(_masked_mean(h, frames))

    def _run_stages(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The stages, with every step past a clip's end set to zero after each layer.

        BatchNorm maps padding zeros to non-zero values, and a padded convolution would read them
        at a clip's last real steps, where a clip alone reads zeros. With the mask, a clip's logits
        are the same alone or padded in any batch (``tests/test_cnn.py``); for clips of full length
        the mask is all ones and changes nothing. Returns ``(h, frames)``: the last stage's output
        and its real length per clip (:func:`compute_output_lengths`).
        """
        specs = iter(self._layers)
        frames = lengths
        for block in self.stages:
            for layer in cast(nn.Sequential, block):
                x = layer(x)
                if isinstance(layer, (nn.Conv1d, nn.MaxPool1d, LogEnergyPool)):  # FramedConv1d is a Conv1d
                    k, s, p = next(specs)
                    frames = (torch.div(frames + 2 * p - k, s, rounding_mode="floor") + 1).clamp_min(1)
                keep = make_length_mask(frames.clamp(1, x.shape[-1]), x.shape[-1]).to(x.dtype)
                x = x * keep.unsqueeze(1)
        return x, frames.clamp(1, x.shape[-1])


MAX_PARAMETERS = 100_000_000
"""The most weights a log-mel baseline may be built with (about 400 MB in float32): a larger
configuration is refused before anything is allocated."""


class _LogMelBase(nn.Module):
    """What the two log-mel baselines share: the front end, ``blocks`` conv blocks, the head."""

    def __init__(self, dims: int, n_classes: int, channels: int, blocks: int, input_sr: int, n_mels: int,
                 dropout: float) -> None:
        super().__init__()
        from .models import LogMelFrontEnd

        self.input_sr = check_sample_rate(input_sr, "input_sr")
        channels = check_positive_int(channels, "channels")
        blocks = check_positive_int(blocks, "blocks")
        n_classes = check_positive_int(n_classes, "n_classes")
        n_mels = check_positive_int(n_mels, "n_mels")
        if dims == 2 and 2 ** blocks > n_mels:
            raise ValueError(
                f"blocks={blocks} halves the {n_mels} mel bands {blocks} times (MaxPool 2x2), leaving none; "
                f"use blocks <= {n_mels.bit_length() - 1} or more n_mels"
            )
        in_first = 1 if dims == 2 else n_mels
        weights = sum((in_first if i == 0 else channels * 2 ** (i - 1)) * channels * 2 ** i * 3 ** dims
                      for i in range(blocks))
        if weights > MAX_PARAMETERS:
            raise ValueError(
                f"channels={channels} with blocks={blocks} (widths doubling per block) would hold about "
                f"{weights:,} weights, more than MAX_PARAMETERS={MAX_PARAMETERS:,}: use fewer blocks or channels"
            )
        self.front_end = LogMelFrontEnd(sr=input_sr, n_mels=n_mels)
        self.labels: tuple[str, ...] | None = None
        self.config_dict: dict[str, Any] = {"n_classes": n_classes, "channels": channels, "blocks": blocks, "input_sr": input_sr,
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

    @property
    def sample_rate_hz(self) -> int:
        """The rate the waveforms must have, in Hz (``input_sr``)."""
        return self.input_sr

    @property
    def min_input_samples(self) -> int:
        """The shortest clip this model takes, in samples at ``input_sr``: ``blocks`` poolings by 2
        need ``2 ** blocks`` frames, and the front end makes ``T // hop_length + 1`` of them."""
        return max(1, (2 ** self.blocks - 1) * self.front_end.hop_length)

    def _features(self, waveforms: torch.Tensor, lengths: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        waveforms, lengths = _check_batch(waveforms, lengths)
        _check_long_enough(waveforms, self.min_input_samples, self)
        return self.front_end(waveforms, lengths)  # (B, n_mels, F), frames (B,)

    def _run_body(self, x: torch.Tensor, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The conv blocks, with every frame past a clip's end set back to zero after each block.

        BatchNorm maps a zero (padding) to a non-zero value, and the next 3-tap convolution would
        read it at a clip's last real frame; a clip alone reads the convolution's zero padding
        there instead. Zeroing the padded frames after each block makes a clip's logits the same
        alone or padded in any batch (``tests/test_cnn.py``). Returns ``(h, frames)`` after the
        last block; time is the last axis of ``x``.
        """
        layers = list(self.body)
        for i in range(0, len(layers), 4):  # conv, norm, ReLU, pool
            for layer in layers[i:i + 4]:
                x = layer(x)
            frames = torch.div(frames, 2, rounding_mode="floor")
            keep = make_length_mask(frames.clamp(max=x.shape[-1]), x.shape[-1]).to(x.dtype)  # (B, T')
            x = x * keep.view(keep.shape[0], *([1] * (x.ndim - 2)), keep.shape[1])
        return x, frames.clamp(1, x.shape[-1])


class LogMelCNN2d(_LogMelBase):
    """A 2-D CNN over log-mel spectrograms: the "spectrogram as an image" baseline (Chapter 6).

    Log-mel features ``(B, n_mels, frames)`` from :class:`audiomap_lib.models.LogMelFrontEnd`
    become a one-channel image; ``blocks`` times Conv2d 3x3, BatchNorm, ReLU, MaxPool 2x2;
    then the mean over mel bands and real frames, dropout and a linear layer.

    Args:
        n_classes: output classes.
        channels: width of the first block (doubled each block).
        blocks: number of conv blocks.
        input_sr: rate of the incoming waveforms (Hz, required); the front end runs at this rate
            (also readable as ``sample_rate_hz``).
        n_mels: mel bands of the default front end.
        dropout: before the linear layer.
    """

    def __init__(self, n_classes: int = 10, channels: int = 16, blocks: int = 3, *, input_sr: int,
                 n_mels: int = 40, dropout: float = 0.1) -> None:
        super().__init__(2, n_classes, channels, blocks, input_sr, n_mels, dropout)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, n_classes)`` for waveforms ``(B, 1, T)`` at ``input_sr``."""
        feats, frames = self._features(waveforms, lengths)  # (B, n_mels, F)
        h, frames = self._run_body(feats.unsqueeze(1), frames)  # (B, C, n_mels / 2^blocks, F / 2^blocks)
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
        input_sr: rate of the incoming waveforms (Hz, required; also readable as ``sample_rate_hz``).
        n_mels: mel bands (input channels).
        dropout: before the linear layer.
    """

    def __init__(self, n_classes: int = 10, channels: int = 32, blocks: int = 3, *, input_sr: int,
                 n_mels: int = 40, dropout: float = 0.1) -> None:
        super().__init__(1, n_classes, channels, blocks, input_sr, n_mels, dropout)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, n_classes)`` for waveforms ``(B, 1, T)`` at ``input_sr``."""
        feats, frames = self._features(waveforms, lengths)  # (B, n_mels, F)
        h, frames = self._run_body(feats, frames)
        return self.head(_masked_mean(h, frames))
