"""WaveGAN's generator and critic, and phase shuffle (Chapter 7).

The layouts of Donahue et al. (2019), "Adversarial Audio Synthesis", as in the paper's code:

* generator: ``z`` in ``U(-1, 1)^latent_dim`` -> dense to ``start_len x 16 d`` -> ReLU -> five
  transposed convolutions (kernel 25, stride 4; ``16d -> 8d -> 4d -> 2d -> d -> 1`` channels),
  ReLU between, ``tanh`` at the end, no batch norm. With ``n_samples = 16384`` the dense layer
  makes 16 steps and each layer multiplies the length by 4: ``16 x 4^5 = 16384``.
* critic: five convolutions (kernel 25, stride 4; ``1 -> d -> 2d -> 4d -> 8d -> 16d``), LeakyReLU
  0.2, phase shuffle (radius 2) after the first four, dense to one output.

With ``d = 64`` they hold 19,065,345 and 17,427,969 weights (tests/test_gan.py checks both).
``n_samples`` may be any ``start_len x 4^5`` (4096 at 8 kHz for the CPU profiles: ``start_len = 4``),
and ``upsample="nearest"`` swaps each transposed convolution for nearest-neighbour upsampling
followed by a convolution (one remedy for the checkerboard artefact, which the chapter compares).
``post_filter_taps`` adds the paper's optional post-processing filter (its ``--wavegan_genr_pp``):
one learned FIR filter, 512 taps in the paper's code, no bias, "same" padding, after the ``tanh``.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import check_non_negative_int, check_positive_int, check_real, check_tensor

__all__ = [
    "UPSAMPLE_MODES",
    "WaveGANCritic",
    "WaveGANGenerator",
    "apply_phase_shuffle",
    "make_latents",
]

UPSAMPLE_MODES = ("transposed", "nearest")
"""How the generator lengthens its signal: transposed convolutions (the paper) or nearest-neighbour
upsampling followed by a convolution."""

_STRIDE = 4
_LAYERS = 5


def _start_length(n_samples: int) -> int:
    n_samples = check_positive_int(n_samples, "n_samples")
    if n_samples % _STRIDE**_LAYERS:
        raise ValueError(f"n_samples must be a multiple of 4^5 = {_STRIDE**_LAYERS} (16384 = 16 x 4^5 in the "
                         f"paper, 4096 = 4 x 4^5 for the CPU profiles); got {n_samples}")
    return n_samples // _STRIDE**_LAYERS


def make_latents(n: int, latent_dim: int = 100, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` latent vectors drawn uniformly from ``[-1, 1)`` (the paper's prior), ``(n, latent_dim)`` float32."""
    n = check_positive_int(n, "n")
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    return (2 * torch.rand(n, latent_dim, generator=generator) - 1).to(device)


def apply_phase_shuffle(x: torch.Tensor, radius: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each example of a batch in time by its own random ``k`` in ``[-radius, radius]`` (Chapter 7).

    ``out[b, :, t] = x[b, :, t - k_b]``, with the signal mirrored at both ends (reflect padding)
    so that no zeros appear. The critic then cannot rely on the exact phase of the periodic
    pattern that transposed convolutions leave, which the generator could otherwise be judged by.

    Args:
        x: ``(batch, channels, time)`` with ``time > radius``.
        radius: the largest shift in samples (``0``: no change).
        generator: draws the shifts (the global generator when ``None``).

    Returns:
        A tensor of the same shape; differentiable in ``x``.
    """
    x = check_tensor(x, "x", ndim=3, shape="(batch, channels, time)")
    radius = check_non_negative_int(radius, "radius")
    if radius == 0:
        return x
    if x.shape[-1] <= radius:
        raise ValueError(f"x has {x.shape[-1]} time steps; phase shuffle with radius={radius} needs more than {radius}")
    shifts = torch.randint(-radius, radius + 1, (x.shape[0],), generator=generator)
    padded = F.pad(x, (radius, radius), mode="reflect")
    t = x.shape[-1]
    out = torch.empty_like(x)
    for k in shifts.unique().tolist():
        rows = (shifts == k).nonzero().flatten().to(x.device)
        start = radius - k  # out[t] = x[t - k] = padded[t - k + radius]
        out[rows] = padded[rows, :, start:start + t]
    return out


class WaveGANGenerator(nn.Module):
    """WaveGAN's generator (Chapter 7): latent vectors ``(B, latent_dim)`` to waveforms ``(B, 1, n_samples)``.

    Args:
        d: model size (the paper's ``d``, 64; channels are ``16d, 8d, 4d, 2d, d``).
        latent_dim: size of ``z`` (100).
        n_samples: output length; a multiple of ``4^5`` (16384 in the paper).
        kernel: kernel length of each layer (25).
        upsample: ``"transposed"`` (the paper) or ``"nearest"`` (upsample by 4, then a convolution).
        sample_rate_hz: the rate the output is meant to be played at (stored, and checked by the
            scores; 16000 in the paper).
        post_filter_taps: length of the learned post-processing filter applied to the output
            (0: none, the paper's default; its code offers 512). The filter is a
            ``(1, 1, taps)`` convolution without bias, padded as TensorFlow's ``"same"``
            (``(taps - 1) // 2`` zeros before, ``taps // 2`` after), Glorot-uniform initialised as
            Keras does, so it can learn to notch the checkerboard tones out.
    """

    def __init__(self, d: int = 64, latent_dim: int = 100, n_samples: int = 16384, kernel: int = 25,
                 upsample: str = "transposed", *, sample_rate_hz: int, post_filter_taps: int = 0) -> None:
        super().__init__()
        from ..io import check_sample_rate

        self.d = check_positive_int(d, "d")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.start_len = _start_length(n_samples)
        self.n_samples = int(n_samples)
        kernel = check_positive_int(kernel, "kernel")
        if kernel % 2 == 0 or kernel < _STRIDE:
            raise ValueError(f"kernel must be odd and at least {_STRIDE} (the paper's is 25); got {kernel}")
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}; got {upsample!r}")
        self.upsample = upsample
        self.sample_rate_hz = check_sample_rate(sample_rate_hz, "sample_rate_hz")
        self.post_filter_taps = check_non_negative_int(post_filter_taps, "post_filter_taps")
        if self.post_filter_taps > self.n_samples:
            raise ValueError(f"post_filter_taps must be at most n_samples={self.n_samples}; got {post_filter_taps}")
        self.config_dict: dict[str, Any] = {"d": d, "latent_dim": latent_dim, "n_samples": n_samples, "kernel": kernel,
                                            "upsample": upsample, "sample_rate_hz": self.sample_rate_hz,
                                            "post_filter_taps": self.post_filter_taps}
        self.dense = nn.Linear(latent_dim, self.start_len * 16 * self.d)
        widths = [16 * self.d, 8 * self.d, 4 * self.d, 2 * self.d, self.d, 1]
        pad = (kernel - _STRIDE + 1) // 2  # 11 for kernel 25: output = 4 x input
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            if upsample == "transposed":
                layers.append(nn.ConvTranspose1d(c_in, c_out, kernel, stride=_STRIDE, padding=pad,
                                                 output_padding=_STRIDE + 2 * pad - kernel))
            else:
                layers += [nn.Upsample(scale_factor=_STRIDE, mode="nearest"), nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2)]
        self.layers = nn.ModuleList(layers)
        self.post_filter: nn.Conv1d | None = None
        if self.post_filter_taps:
            self.post_filter = nn.Conv1d(1, 1, self.post_filter_taps, bias=False)
            nn.init.xavier_uniform_(self.post_filter.weight)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Waveforms ``(B, 1, n_samples)`` in ``(-1, 1)`` for latents ``z`` of shape ``(B, latent_dim)``."""
        z = check_tensor(z, "z", ndim=2, shape="(batch, latent_dim)")
        if z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (batch, latent_dim={self.latent_dim}); got {tuple(z.shape)}")
        h = F.relu(self.dense(z.to(self.dense.weight.dtype))).view(z.shape[0], 16 * self.d, self.start_len)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < last and not isinstance(layer, nn.Upsample):
                h = F.relu(h)
        out = torch.tanh(h)
        if self.post_filter is not None:
            taps = self.post_filter_taps
            out = self.post_filter(F.pad(out, ((taps - 1) // 2, taps // 2)))
        return out


class WaveGANCritic(nn.Module):
    """WaveGAN's critic (Chapter 7): waveforms ``(B, 1, n_samples)`` to one score each, ``(B,)``.

    Args:
        d: model size (channels ``d, 2d, 4d, 8d, 16d``).
        n_samples: input length; a multiple of ``4^5``.
        kernel: kernel length (25).
        phase_shuffle: radius of the phase shuffle after each of the first four layers (2; 0: off).
        slope: negative slope of the LeakyReLU (0.2).
        minibatch_std: before the dense layer, append one feature channel holding the batch's
            standard deviation, averaged over channels and time (Karras et al. 2018, "minibatch
            standard deviation"): a batch of near-identical generated clips then looks unlike a
            real batch, which works against mode collapse. Not in WaveGAN (``False``).
    """

    def __init__(self, d: int = 64, n_samples: int = 16384, kernel: int = 25, phase_shuffle: int = 2,
                 slope: float = 0.2, minibatch_std: bool = False) -> None:
        super().__init__()
        self.d = check_positive_int(d, "d")
        self.start_len = _start_length(n_samples)
        self.n_samples = int(n_samples)
        kernel = check_positive_int(kernel, "kernel")
        if kernel % 2 == 0:
            raise ValueError(f"kernel must be odd (the paper's is 25); got {kernel}")
        self.radius = check_non_negative_int(phase_shuffle, "phase_shuffle")
        self.slope = check_real(slope, "slope", 0.0, 1.0)
        if not isinstance(minibatch_std, bool):
            raise TypeError(f"minibatch_std must be True or False; got {minibatch_std!r}")
        self.minibatch_std = minibatch_std
        self.config_dict: dict[str, Any] = {"d": d, "n_samples": n_samples, "kernel": kernel,
                                            "phase_shuffle": phase_shuffle, "slope": slope,
                                            "minibatch_std": minibatch_std}
        widths = [1, self.d, 2 * self.d, 4 * self.d, 8 * self.d, 16 * self.d]
        self.convs = nn.ModuleList(nn.Conv1d(c_in, c_out, kernel, stride=_STRIDE, padding=kernel // 2 - 1)
                                   for c_in, c_out in zip(widths[:-1], widths[1:]))
        self.dense = nn.Linear((16 * self.d + int(minibatch_std)) * self.start_len, 1)
        self.shuffle_generator: torch.Generator | None = None  # set one for reproducible shuffles

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores ``(B,)`` (higher: judged more real) for waveforms ``(B, 1, n_samples)``."""
        x = check_tensor(x, "x", ndim=3, shape="(batch, 1, n_samples)")
        if x.shape[1:] != (1, self.n_samples):
            raise ValueError(f"x must have shape (batch, 1, n_samples={self.n_samples}); got {tuple(x.shape)}")
        h = x.to(self.dense.weight.dtype)
        for i, conv in enumerate(self.convs):
            h = F.leaky_relu(conv(h), self.slope)
            if i < len(self.convs) - 1 and self.radius:
                h = apply_phase_shuffle(h, self.radius, self.shuffle_generator)
        if self.minibatch_std:
            spread = h.std(0, unbiased=False).mean() if len(h) > 1 else h.new_zeros(())
            h = torch.cat([h, spread.expand(len(h), 1, h.shape[-1])], dim=1)
        return self.dense(h.flatten(1)).squeeze(1)
