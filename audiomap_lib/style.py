"""Style transfer for sound: Gram matrices, three ways to see a sound, texture statistics, phase (Chapter 8).

Gatys et al. (2016) describe an image's *content* by a network's activations ``F`` and its
*style* by their Gram matrix ``G = F F^T / positions``: which channels fire together,
wherever they fire. Ulyanov & Lebedev (2016) carried this to sound with ONE random 1-D
convolution whose input channels are the frequency bins of ``log1p |STFT|``, so a filter
sees a whole spectrum at once and slides over time only. This module holds:

* functional pieces: :func:`compute_log_spectrogram` (``log1p |STFT|``, differentiable),
  :func:`compute_gram`, :func:`compute_style_loss`, :func:`compute_content_loss`,
  :func:`compute_spectral_convergence` and :func:`compute_receptive_field_ms`;
* feature networks with frozen, seeded random weights: :class:`RandomConv1dFeatures`
  (frequency bins as channels, the "sound" view) and :class:`RandomConv2dFeatures` (the
  spectrogram as a one-channel image, the "image" view of Verma & Smith 2018); and
  :class:`ClassifierFeatures`, the activations of a trained Chapter 6 classifier;
* an independent judge that no optimisation here ever sees: the texture statistics of
  McDermott & Simoncelli (2011), simplified (:func:`compute_texture_statistics`,
  :func:`compute_texture_distance`);
* :func:`transfer_style`: the optimisation, on the spectrogram (then Griffin-Lim for the
  phase) or on the waveform itself through the differentiable STFT (no phase retrieval),
  with L-BFGS or Adam, from noise or from the content clip; it returns a :class:`StyleResult`
  with the losses, the time spent and the sound.

:data:`ORIGINAL_RECIPE` records Ulyanov & Lebedev's settings; the chapter and
``benchmarks/bench_style.py`` compare the course's faster recipes with it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from .io import check_sample_rate, check_waveform
from .spectral import compute_stft, invert_griffin_lim, make_mel_filterbank
from .training.core import Stopwatch, is_progress_enabled, make_progress_bar
from .utils import check_non_negative_int, check_positive_int, check_real, check_tensor

__all__ = [
    "StyleRecipe",
    "ORIGINAL_RECIPE",
    "StyleResult",
    "compute_log_spectrogram",
    "compute_gram",
    "compute_style_loss",
    "compute_content_loss",
    "compute_spectral_convergence",
    "compute_receptive_field_ms",
    "RandomConv1dFeatures",
    "RandomConv2dFeatures",
    "ClassifierFeatures",
    "compute_texture_statistics",
    "compute_texture_distance",
    "TEXTURE_GROUPS",
    "transfer_style",
]


@dataclass(frozen=True)
class StyleRecipe:
    """The settings of one style-transfer recipe (Chapter 8).

    Attributes:
        sr_hz: sample rate of both clips, in Hz.
        n_fft: STFT frame length in samples (``n_fft // 2 + 1`` bins are the net's input channels).
        hop_length: STFT hop in samples.
        n_filters: filters of the random 1-D convolution.
        kernel_size: its width in frames.
        content_weight: ``alpha`` in ``alpha * content_loss + style_loss`` (0: texture synthesis).
        n_iter: loss-and-gradient evaluations of the optimiser.
        optimizer: ``"lbfgs"`` or ``"adam"``.
        init: ``"noise"`` (Ulyanov & Lebedev) or ``"content"`` (Grinstein et al.).
        domain: ``"spectrogram"`` (then Griffin-Lim) or ``"waveform"`` (no phase retrieval).
        griffin_lim_iters: Griffin-Lim iterations after a spectrogram-domain optimisation.
    """

    sr_hz: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_filters: int = 4096
    kernel_size: int = 11
    content_weight: float = 1e-2
    n_iter: int = 300
    optimizer: str = "lbfgs"
    init: str = "noise"
    domain: str = "spectrogram"
    griffin_lim_iters: int = 500

    def with_(self, **changes: object) -> StyleRecipe:
        """A copy with some settings changed, e.g. ``ORIGINAL_RECIPE.with_(n_fft=1024)``."""
        return replace(self, **changes)  # type: ignore[arg-type]


ORIGINAL_RECIPE = StyleRecipe()
"""Ulyanov & Lebedev's recipe, as in their reference notebook: 22.05 kHz, n_fft 2048, hop 512,
``log1p |STFT|``, one random convolution (4096 filters, width 11, ReLU, no bias), content
weight 1e-2, from noise x 1e-3, L-BFGS for 300 iterations, then 500 Griffin-Lim iterations."""


@dataclass
class StyleResult:
    """What :func:`transfer_style` returns (Chapter 8).

    Attributes:
        waveform: ``float32`` ``(samples,)``, the result at the recipe's rate.
        log_spectrogram: ``(n_fft // 2 + 1, frames)``, ``log1p |X|`` that was optimised (or the
            waveform's, in the waveform domain).
        losses: total loss after each evaluation, in order.
        style_loss: the final style loss (sum of squared Gram differences).
        content_loss: the final content loss (sum of squared feature differences).
        seconds_optimise: wall time of the optimisation, in s.
        seconds_phase: wall time of Griffin-Lim (0 in the waveform domain), in s.
        n_evaluations: loss-and-gradient evaluations made.
        negative_bins: spectrogram-domain only: values of ``exp(x) - 1`` below zero that were set to
            zero magnitude before Griffin-Lim (a magnitude cannot be negative); reported, not hidden.
    """

    waveform: torch.Tensor
    log_spectrogram: torch.Tensor
    losses: list[float] = field(default_factory=list)
    style_loss: float = float("nan")
    content_loss: float = float("nan")
    seconds_optimise: float = 0.0
    seconds_phase: float = 0.0
    n_evaluations: int = 0
    negative_bins: int = 0

    @property
    def seconds(self) -> float:
        """Optimisation plus phase retrieval, in s."""
        return self.seconds_optimise + self.seconds_phase


# ============================================================================ functional


def compute_log_spectrogram(waveform: torch.Tensor, n_fft: int, hop_length: int) -> torch.Tensor:
    """``log(1 + |STFT|)`` with a Hann window, centred frames; differentiable (Chapter 8).

    Args:
        waveform: ``(..., samples)`` float.
        n_fft: frame length in samples; hop_length: hop in samples.

    Returns:
        ``(..., n_fft // 2 + 1, frames)`` float32, ``frames = 1 + samples // hop_length``.
    """
    return torch.log1p(compute_stft(waveform, n_fft, hop_length).abs())


def compute_gram(features: torch.Tensor) -> torch.Tensor:
    """The Gram matrix of feature maps, averaged over positions (Gatys et al.; Chapter 8).

    ``G[i, j] = (1 / P) * sum_p F[i, p] F[j, p]``: how strongly channels ``i`` and ``j`` are
    active *together*, summed over every position (time frame, or frequency-and-time cell), so
    *where* (when) they are active is thrown away.

    Args:
        features: ``(..., channels, positions)``.

    Returns:
        ``(..., channels, channels)``, symmetric.
    """
    f = check_tensor(features, "features", shape="(..., channels, positions)")
    if f.ndim < 2 or f.shape[-1] == 0:
        raise ValueError(f"features must have shape (..., channels, positions) with positions >= 1; got {tuple(f.shape)}")
    return f @ f.transpose(-1, -2) / f.shape[-1]


def compute_style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """``sum (G(features) - target_gram) ** 2`` (Chapter 8).

    Ulyanov & Lebedev's code writes it ``2 * tf.nn.l2_loss(G - G_style)``; TensorFlow's
    ``l2_loss(x)`` is ``sum(x ** 2) / 2``, so the two are equal.

    Args:
        features: ``(..., channels, positions)``; target_gram: ``(..., channels, channels)``.

    Returns:
        A scalar tensor.
    """
    f = check_tensor(features, "features", shape="(..., channels, positions)")
    gram = compute_gram(f)
    target = check_tensor(target_gram, "target_gram")
    if target.shape != gram.shape:
        raise ValueError(f"target_gram must have the shape of the Gram matrix of features {tuple(f.shape)}, "
                         f"{tuple(gram.shape)}; got {tuple(target.shape)}")
    return ((gram - target) ** 2).sum()


def compute_content_loss(features: torch.Tensor, target_features: torch.Tensor) -> torch.Tensor:
    """``sum (features - target_features) ** 2`` (the reference's ``2 * l2_loss``; Chapter 8).

    Args:
        features, target_features: the same shape, ``(..., channels, positions)``.

    Returns:
        A scalar tensor.
    """
    f = check_tensor(features, "features")
    t = check_tensor(target_features, "target_features")
    if f.shape != t.shape:
        raise ValueError(f"target_features must have the shape of features {tuple(f.shape)}; got {tuple(t.shape)} "
                         f"(content and result must be equally long)")
    return ((f - t) ** 2).sum()


def compute_spectral_convergence(target_magnitude: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
    """``||T - M||_F / ||T||_F`` over the last two dimensions (Chapter 8).

    0 means the magnitudes agree exactly; Griffin-Lim drives it down as its phase becomes
    consistent.

    Args:
        target_magnitude, magnitude: ``(..., freq, frames)``, non-negative.

    Returns:
        ``(...)`` tensor.
    """
    t = check_tensor(target_magnitude, "target_magnitude", ndim=tuple(range(2, 9)), shape="(..., freq, frames)")
    m = check_tensor(magnitude, "magnitude", ndim=tuple(range(2, 9)), shape="(..., freq, frames)")
    if t.shape != m.shape:
        raise ValueError(f"magnitude must have the shape of target_magnitude {tuple(t.shape)}; got {tuple(m.shape)}")
    return torch.linalg.matrix_norm(t - m) / torch.linalg.matrix_norm(t).clamp_min(1e-12)


def compute_receptive_field_ms(kernel_size: int, n_fft: int, hop_length: int, sr_hz: int) -> float:
    """How much sound one output of a 1-D convolution over STFT frames sees, in ms (Chapter 8).

    ``kernel_size`` frames, ``hop_length`` apart, each ``n_fft`` samples long, cover
    ``(kernel_size - 1) * hop_length + n_fft`` samples.

    Returns:
        Milliseconds (Ulyanov & Lebedev's recipe: ``(10 * 512 + 2048) / 22050 s`` = 325 ms).
    """
    k = check_positive_int(kernel_size, "kernel_size")
    n_fft = check_positive_int(n_fft, "n_fft")
    hop = check_positive_int(hop_length, "hop_length")
    sr = check_sample_rate(sr_hz, "sr_hz")
    return 1000.0 * ((k - 1) * hop + n_fft) / sr


# ============================================================================ feature networks


class RandomConv1dFeatures(nn.Module):
    """One random 1-D convolution over time, frequency bins as channels (Ulyanov & Lebedev; Chapter 8).

    ``ReLU(conv1d(S, W))`` with ``W`` of shape ``(n_filters, n_bins, kernel_size)``, no bias,
    "valid" padding, and weights drawn once from a normal distribution of standard deviation
    ``sqrt(2) * sqrt(2 / ((n_bins + n_filters) * kernel_size))`` (the reference's) with ``seed``.
    The weights are frozen: they are never trained.

    Args:
        n_bins: input channels, ``n_fft // 2 + 1``.
        n_filters: output channels.
        kernel_size: width in frames.
        seed: draws the weights.

    Shape:
        input ``(..., n_bins, frames)`` with ``frames >= kernel_size``;
        output ``(..., n_filters, frames - kernel_size + 1)``.
    """

    def __init__(self, n_bins: int, n_filters: int = 4096, kernel_size: int = 11, seed: int = 0) -> None:
        super().__init__()
        self.n_bins = check_positive_int(n_bins, "n_bins")
        self.n_filters = check_positive_int(n_filters, "n_filters")
        self.kernel_size = check_positive_int(kernel_size, "kernel_size")
        std = math.sqrt(2.0) * math.sqrt(2.0 / ((self.n_bins + self.n_filters) * self.kernel_size))
        g = torch.Generator().manual_seed(int(seed))
        self.register_buffer("weight", torch.randn(self.n_filters, self.n_bins, self.kernel_size, generator=g) * std)

    def forward(self, spectrogram: torch.Tensor) -> torch.Tensor:
        x = _check_spectrogram(spectrogram, self.n_bins, self.kernel_size, "spectrogram")
        lead = x.shape[:-2]
        weight: torch.Tensor = self.weight  # type: ignore[assignment]  # a buffer
        y = torch.nn.functional.conv1d(x.reshape(-1, *x.shape[-2:]), weight.to(x.dtype))
        return torch.relu(y).reshape(*lead, *y.shape[-2:])


class RandomConv2dFeatures(nn.Module):
    """The spectrogram as a one-channel image: small random 2-D convolutions (Verma & Smith's view; Chapter 8).

    ``conv 3x3 -> ReLU -> max-pool 2x2 -> conv 3x3 -> ReLU`` with ``channels`` filters per
    layer, He-normal weights drawn with ``seed``, frozen. Each filter sees a few neighbouring
    bins and frames, and the same filter slides over frequency as well as time: exactly the
    assumption seed 001 disputes (a frequency shift does not keep a sound's meaning). Verma &
    Smith used VGG-19 trained on photographs, which cannot be downloaded here; random filters are
    what Grinstein et al. found to work as well for texture.

    Shape:
        input ``(..., n_bins, frames)``; output ``(..., channels[-1], positions)`` where the
        positions are every (frequency, time) cell of the last feature map, flattened.
    """

    def __init__(self, channels: tuple[int, ...] = (16, 32), seed: int = 0) -> None:
        super().__init__()
        if not channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
            raise ValueError(f"channels must be a non-empty tuple of positive ints; got {channels!r}")
        g = torch.Generator().manual_seed(int(seed))
        weights = []
        c_in = 1
        for c in channels:
            weights.append(torch.randn(c, c_in, 3, 3, generator=g) * math.sqrt(2.0 / (c_in * 9)))
            c_in = c
        for i, w in enumerate(weights):
            self.register_buffer(f"weight{i}", w)
        self.channels = tuple(channels)

    def forward(self, spectrogram: torch.Tensor) -> torch.Tensor:
        x = _check_spectrogram(spectrogram, None, 4, "spectrogram")
        lead = x.shape[:-2]
        y = x.reshape(-1, 1, *x.shape[-2:])
        for i in range(len(self.channels)):
            w = getattr(self, f"weight{i}").to(y.dtype)
            y = torch.relu(torch.nn.functional.conv2d(y, w, padding=1))
            if i < len(self.channels) - 1:
                y = torch.nn.functional.max_pool2d(y, 2)
        return y.reshape(*lead, y.shape[1], -1)


class ClassifierFeatures(nn.Module):
    """The activations of one layer of a trained classifier, as features of a waveform (Chapter 8).

    Wraps a Chapter 6 classifier (e.g. from :func:`audiomap_lib.hub.load_classifier`) and returns
    what ``layer`` outputs, reshaped to ``(channels, positions)``. Its input is a *waveform*, so
    it is used with :func:`transfer_style` in the waveform domain. The classifier is frozen.

    Args:
        model: the classifier; called as ``model(x, lengths)`` with ``x`` of shape ``(B, 1, samples)``.
        layer: the name of a sub-module (as in ``model.named_modules()``).

    Shape:
        input ``(samples,)``; output ``(channels, positions)``.
    """

    input_kind = "waveform"
    """What :func:`transfer_style` feeds this network: the waveform (the random nets take spectrograms)."""

    def __init__(self, model: nn.Module, layer: str) -> None:
        super().__init__()
        modules = dict(model.named_modules())
        if layer not in modules or layer == "":
            raise ValueError(f"layer must name a sub-module of the model; got {layer!r}; some names: "
                             f"{[n for n in modules if n][:12]}")
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.layer = layer
        self._module = modules[layer]

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = check_tensor(waveform, "waveform", ndim=1, shape="(samples,)")
        captured: list[torch.Tensor] = []
        hook = self._module.register_forward_hook(lambda _m, _a, out: captured.append(out))
        try:
            self.model(x[None, None], torch.tensor([x.shape[-1]]))
        finally:
            hook.remove()
        if not captured:
            children = [f"{self.layer}.{n}" for n, _ in self._module.named_children()][:4]
            raise ValueError(f"layer {self.layer!r} is not called in the model's forward pass (its parts are run one by "
                             f"one); name one of them instead, e.g. {children}")
        out = captured[0][0]
        return out.reshape(out.shape[0], -1)


def _check_spectrogram(x: object, n_bins: int | None, min_frames: int, name: str) -> torch.Tensor:
    s = check_tensor(x, name, shape="(..., n_bins, frames)")
    if s.ndim < 2:
        raise ValueError(f"{name} must have shape (..., n_bins, frames); got {tuple(s.shape)}")
    if n_bins is not None and s.shape[-2] != n_bins:
        raise ValueError(f"{name} must have {n_bins} frequency bins (dim -2, n_fft // 2 + 1); got {s.shape[-2]}")
    if s.shape[-1] < min_frames:
        raise ValueError(f"{name} has {s.shape[-1]} frames; the network needs at least {min_frames} "
                         f"(its receptive field): use a longer clip")
    return s


# ============================================================================ the judge: texture statistics

TEXTURE_GROUPS: tuple[str, ...] = ("mean", "cv", "skewness", "kurtosis", "correlation", "modulation")
"""The statistic groups of :func:`compute_texture_statistics`, each given equal weight in
:func:`compute_texture_distance`."""
_MOD_EDGES_HZ = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def compute_texture_statistics(waveform: torch.Tensor, sr_hz: int, n_bands: int = 32, n_fft: int = 1024,
                               hop_length: int = 128, compression: float = 0.3) -> dict[str, torch.Tensor]:
    """Sound-texture statistics after McDermott & Simoncelli (2011), simplified (Chapter 8).

    A mel filter bank stands in for the cochlea: ``E = (mel @ |STFT|) ** compression`` are
    ``n_bands`` compressed sub-band envelopes. For each band: the envelope's mean, coefficient
    of variation (std / mean), skewness and kurtosis (population moments, as
    ``scipy.stats.skew`` / ``kurtosis(fisher=False)``); between bands: the envelopes' Pearson
    correlations; and each envelope's modulation power in octave bands from 0.5 to 64 Hz (as a
    fraction of its variance). None of this is what :func:`transfer_style` optimises.

    Args:
        waveform: ``(samples,)`` mono float.
        sr_hz: its rate in Hz.
        n_bands: mel bands; n_fft, hop_length: the STFT's, in samples; compression: the power.

    Returns:
        ``{"mean": (n_bands,), "cv": (n_bands,), "skewness": (n_bands,), "kurtosis": (n_bands,),
        "correlation": (n_bands * (n_bands - 1) / 2,)`` (upper triangle), ``"modulation":
        (n_bands, 7)}``, float64.

    Raises:
        ValueError: a clip shorter than 2 s (the slowest modulation band needs it) or not mono.
    """
    x = check_waveform(waveform, "waveform", ndim=(1,)).double()
    sr = check_sample_rate(sr_hz, "sr_hz")
    if x.shape[-1] < 2 * sr:
        raise ValueError(f"waveform has {x.shape[-1]} samples ({x.shape[-1] / sr:.2f} s); texture statistics need "
                         f"at least 2 s (the 0.5 Hz modulation band)")
    n_bands = check_positive_int(n_bands, "n_bands")
    c = check_real(compression, "compression", low=0.0, low_open=True)
    mag = compute_stft(x.float(), n_fft, hop_length).abs().double()
    fb = make_mel_filterbank(n_bands, sr, n_fft).double()
    env = (fb @ mag).clamp_min(0) ** c  # (bands, frames)
    mean = env.mean(-1)
    d = env - mean[:, None]
    var = (d ** 2).mean(-1)
    std = var.sqrt().clamp_min(1e-12)
    cv = std / mean.clamp_min(1e-12)
    skew = (d ** 3).mean(-1) / std ** 3
    kurt = (d ** 4).mean(-1) / std ** 4
    z = d / std[:, None]
    corr = (z @ z.T) / env.shape[-1]
    iu = torch.triu_indices(n_bands, n_bands, offset=1)
    power = torch.fft.rfft(d, dim=-1).abs() ** 2
    freqs = torch.fft.rfftfreq(env.shape[-1], d=hop_length / sr).double()
    total = power[:, 1:].sum(-1).clamp_min(1e-30)
    mod = torch.stack([power[:, (freqs >= lo) & (freqs < hi)].sum(-1) / total
                       for lo, hi in zip(_MOD_EDGES_HZ[:-1], _MOD_EDGES_HZ[1:])], dim=-1)
    return {"mean": mean, "cv": cv, "skewness": skew, "kurtosis": kurt, "correlation": corr[iu[0], iu[1]],
            "modulation": mod}


def compute_texture_distance(a: torch.Tensor | dict[str, torch.Tensor], b: torch.Tensor | dict[str, torch.Tensor],
                             sr_hz: int | None = None, groups: tuple[str, ...] = TEXTURE_GROUPS, **kwargs: object) -> float:
    """How far apart two sounds' texture statistics are: the judge of Chapter 8.

    The mean, over :data:`TEXTURE_GROUPS`, of the root-mean-square difference of each group,
    taken on comparable scales: ``log`` of the band means, kurtoses and modulation powers; the
    coefficients of variation, skewnesses and correlations as they are. 0 means identical
    statistics; two takes of the same texture typically differ by a few tenths.

    Args:
        a, b: waveforms ``(samples,)`` (then ``sr_hz`` is needed) or dicts from
            :func:`compute_texture_statistics`.
        sr_hz: the waveforms' rate in Hz.
        groups: the statistic groups to compare (default: all of :data:`TEXTURE_GROUPS`);
            ``("mean",)`` compares only the band levels: where in frequency the energy lies.
        **kwargs: passed to :func:`compute_texture_statistics`.

    Returns:
        The distance, a float >= 0.
    """
    def stats(x: object, name: str) -> dict[str, torch.Tensor]:
        if isinstance(x, dict):
            if set(x) != set(TEXTURE_GROUPS):
                raise ValueError(f"{name} must be a waveform or the dict of compute_texture_statistics; got keys {sorted(x)}")
            return x
        if sr_hz is None:
            raise ValueError("sr_hz is needed when a and b are waveforms")
        return compute_texture_statistics(x, sr_hz, **kwargs)  # type: ignore[arg-type]

    if isinstance(groups, str) or not groups or any(g not in TEXTURE_GROUPS for g in groups):
        raise ValueError(f"groups must be a non-empty tuple of names from {TEXTURE_GROUPS}; got {groups!r}")
    sa, sb = stats(a, "a"), stats(b, "b")
    total = 0.0
    for g in groups:
        u, v = sa[g], sb[g]
        if g in ("mean", "kurtosis", "modulation"):
            u, v = torch.log(u.clamp_min(1e-8)), torch.log(v.clamp_min(1e-8))
        total += float(((u - v) ** 2).mean().sqrt())
    return total / len(groups)


# ============================================================================ the optimisation


def _check_clip(x: torch.Tensor, name: str) -> torch.Tensor:
    if isinstance(x, (torch.Tensor, np.ndarray)) and x.ndim == 2:
        raise ValueError(f"{name} must be mono, shape (samples,); got shape {tuple(x.shape)}: "
                         f"mix it down with audiomap_lib.io.to_mono first")
    return check_waveform(x, name, ndim=(1,))


def transfer_style(
    content: torch.Tensor | None,
    style: torch.Tensor,
    sr_hz: int,
    style_sr_hz: int | None = None,
    recipe: StyleRecipe = ORIGINAL_RECIPE,
    features: nn.Module | None = None,
    n_samples: int | None = None,
    lr: float = 0.05,
    seed: int = 0,
    progress: bool | None = None,
) -> StyleResult:
    """Style transfer or texture synthesis for sound (Ulyanov & Lebedev 2016; Chapter 8).

    Minimises ``recipe.content_weight * content_loss + style_loss`` where the losses compare the
    ``features`` of the result with those of ``content`` (:func:`compute_content_loss`) and the
    Gram matrix of its features with that of ``style`` (:func:`compute_style_loss`).

    * ``recipe.domain == "spectrogram"``: the variable is ``x = log1p |X|`` itself, shape
      ``(n_fft // 2 + 1, frames)``; at the end ``|X| = exp(x) - 1`` (negative values set to 0 and
      counted) goes through ``recipe.griffin_lim_iters`` Griffin-Lim iterations for a phase.
    * ``recipe.domain == "waveform"``: the variable is the waveform; ``log1p |STFT|`` is computed
      from it at every step, and gradients flow back through the STFT. No phase retrieval.

    ``recipe.init == "noise"`` starts from Gaussian noise x 1e-3 (seeded); ``"content"`` from the
    content clip (its spectrogram, or its waveform). ``recipe.n_iter`` counts loss-and-gradient
    evaluations, for L-BFGS (strong-Wolfe line search, history 20) as for Adam (``lr``).

    Args:
        content: ``(samples,)`` mono float, or ``None`` for texture synthesis (then
            ``content_weight`` must be 0, ``init`` ``"noise"`` and the result is ``n_samples``
            long, by default as long as ``style``).
        style: ``(samples,)`` mono float.
        sr_hz: the content clip's rate (and the style clip's, unless ``style_sr_hz`` is given), in
            Hz; it must equal ``recipe.sr_hz``. Nothing is resampled here.
        style_sr_hz: the style clip's rate, if it is given separately; it must equal ``sr_hz``.
        recipe: the settings (:class:`StyleRecipe`).
        features: the feature network: ``(n_bins, frames) -> (channels, positions)`` in the
            spectrogram domain, or ``(samples,) -> (channels, positions)`` (e.g.
            :class:`ClassifierFeatures`) in the waveform domain. ``None``: a
            :class:`RandomConv1dFeatures` of the recipe's size, seeded with ``seed``.
        n_samples: the result's length for texture synthesis.
        lr: Adam's learning rate.
        seed: for the initial noise and the default network.
        progress: draw a progress bar of the evaluations (``None``: ``AUDIOMAP_PROGRESS``, as the
            course's trainers do).

    Returns:
        A :class:`StyleResult`.

    Raises:
        ValueError: clips at different rates or at another rate than the recipe's, stereo clips,
            a clip shorter than the network's receptive field, or inconsistent settings.
    """
    sr = check_sample_rate(sr_hz, "sr_hz")
    if style_sr_hz is not None and check_sample_rate(style_sr_hz, "style_sr_hz") != sr:
        raise ValueError(f"the style clip is at {style_sr_hz} Hz and the content clip at {sr} Hz; resample one "
                         f"with audiomap_lib.io.resample first (nothing is resampled silently)")
    if sr != recipe.sr_hz:
        raise ValueError(f"sr_hz is {sr} Hz but the recipe works at {recipe.sr_hz} Hz; resample the clips or use "
                         f"recipe.with_(sr_hz={sr})")
    if recipe.optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"recipe.optimizer must be 'lbfgs' or 'adam'; got {recipe.optimizer!r}")
    if recipe.init not in ("noise", "content"):
        raise ValueError(f"recipe.init must be 'noise' or 'content'; got {recipe.init!r}")
    if recipe.domain not in ("spectrogram", "waveform"):
        raise ValueError(f"recipe.domain must be 'spectrogram' or 'waveform'; got {recipe.domain!r}")
    alpha = check_real(recipe.content_weight, "recipe.content_weight", low=0.0)
    n_iter = check_positive_int(recipe.n_iter, "recipe.n_iter")
    check_non_negative_int(recipe.griffin_lim_iters, "recipe.griffin_lim_iters")
    n_fft, hop = recipe.n_fft, recipe.hop_length
    s = _check_clip(style, "style")
    if content is None:
        if alpha != 0 or recipe.init == "content":
            raise ValueError("content is None (texture synthesis): recipe.content_weight must be 0 and recipe.init 'noise'")
        length = s.shape[-1] if n_samples is None else check_positive_int(n_samples, "n_samples")
        c = None
    else:
        c = _check_clip(content, "content")
        length = c.shape[-1]
    min_samples = (recipe.kernel_size - 1) * hop + n_fft // 2 + 1
    for name, clip_len in (("style", s.shape[-1]), ("content" if c is not None else "n_samples", length)):
        if clip_len < min_samples:
            raise ValueError(f"{name} is {clip_len} samples ({1000 * clip_len / sr:.0f} ms); the network's receptive "
                             f"field needs at least {min_samples} samples ({1000 * min_samples / sr:.0f} ms)")
    n_bins = n_fft // 2 + 1
    net = features if features is not None else RandomConv1dFeatures(n_bins, recipe.n_filters, recipe.kernel_size, seed)
    waveform_domain = recipe.domain == "waveform"
    wants_waveform = getattr(net, "input_kind", "spectrogram") == "waveform"
    if wants_waveform and not waveform_domain:
        raise ValueError("these features take a waveform: use recipe.with_(domain='waveform')")
    if not waveform_domain and recipe.griffin_lim_iters < 1:
        raise ValueError("recipe.griffin_lim_iters must be >= 1 in the spectrogram domain (the phase comes from it)")

    def featurise(x: torch.Tensor) -> torch.Tensor:
        return net(x if wants_waveform or not waveform_domain else compute_log_spectrogram(x, n_fft, hop))

    with torch.no_grad():
        style_in = s if waveform_domain else compute_log_spectrogram(s, n_fft, hop)
        target_gram = compute_gram(featurise(style_in))
        if c is not None:
            content_in = c if waveform_domain else compute_log_spectrogram(c, n_fft, hop)
            target_content = featurise(content_in)
    g = torch.Generator().manual_seed(int(seed))
    if recipe.init == "content":
        start = content_in.clone(memory_format=torch.contiguous_format)
    elif waveform_domain:
        start = torch.randn(length, generator=g) * 1e-3
    else:
        start = torch.randn(n_bins, 1 + length // hop, generator=g) * 1e-3
    x = start.requires_grad_(True)
    losses: list[float] = []
    parts: dict[str, float] = {}
    bar = make_progress_bar(n_iter, f"style ({recipe.optimizer}, {recipe.domain})", is_progress_enabled(progress), unit="eval")

    def record(total: torch.Tensor) -> None:
        losses.append(float(total.detach()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4g}", refresh=False)

    def loss_fn() -> torch.Tensor:
        f = featurise(x)
        style_loss = compute_style_loss(f, target_gram)
        content_loss = compute_content_loss(f, target_content) if c is not None and alpha > 0 else f.new_zeros(())
        total = alpha * content_loss + style_loss
        parts["style"], parts["content"] = float(style_loss.detach()), float(content_loss.detach())
        return total

    clock = Stopwatch()
    if recipe.optimizer == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS([x], lr=1.0, max_iter=n_iter, max_eval=n_iter, history_size=20,
                                                       tolerance_grad=0.0, tolerance_change=0.0,
                                                       line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            total = loss_fn()
            total.backward()
            record(total)
            return total

        opt.step(closure)  # type: ignore[arg-type]
    else:
        opt = torch.optim.Adam([x], lr=check_real(lr, "lr", low=0.0, low_open=True))
        for _ in range(n_iter):
            opt.zero_grad()
            total = loss_fn()
            total.backward()
            record(total)
            opt.step()
    with torch.no_grad():  # the losses of the final variable (L-BFGS's last evaluation may be a line-search trial)
        loss_fn()
    if bar is not None:
        bar.close()
    seconds_optimise = clock.elapsed_s
    negative = 0
    clock.start()
    with torch.no_grad():
        if waveform_domain:
            out = x.detach().clone()
            log_spec = compute_log_spectrogram(out, n_fft, hop)
            seconds_phase = 0.0
        else:
            log_spec = x.detach().clone()
            magnitude = torch.expm1(log_spec)
            negative = int((magnitude < 0).sum())
            out = invert_griffin_lim(magnitude.clamp_min(0), n_fft, hop, n_iter=recipe.griffin_lim_iters, seed=seed)
            out = torch.nn.functional.pad(out, (0, max(0, length - out.shape[-1])))[:length]
            seconds_phase = clock.elapsed_s
    return StyleResult(waveform=out.float(), log_spectrogram=log_spec, losses=losses, style_loss=float(parts["style"]),
                       content_loss=float(parts["content"]), seconds_optimise=seconds_optimise, seconds_phase=seconds_phase,
                       n_evaluations=len(losses), negative_bins=negative)
