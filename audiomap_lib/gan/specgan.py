"""SpecGAN, the paper's image-GAN baseline: a 2-D GAN over log-magnitude spectrograms (Chapter 7).

Donahue et al. compared WaveGAN with a GAN that treats sound as an image, as seed 004 suggests
("audio and images are not that different"): a square log-magnitude spectrogram, normalised per
frequency bin and clipped, made by a DCGAN-style 2-D generator (5 x 5 kernels, stride 2), and
turned back into sound with Griffin-Lim. Here the same idea at the GAN chapter's size:

- :class:`SpectrogramCodec` turns ``(N, 1, n_samples)`` clips into ``(N, 1, size, size)``
  images in ``[-1, 1]`` and back: an STFT with hop ``n_samples // size`` and window
  ``2 * hop`` (16 ms and 8 ms at 8 kHz for 4096 samples and size 64), the top bin and the last
  frame dropped, ``log(|X| + 1e-6)`` standardised per bin with the training clips' mean and
  standard deviation, clipped at 3 standard deviations and divided by 3; decoding undoes each
  step and recovers a phase with Griffin-Lim (:func:`audiomap_lib.spectral.invert_griffin_lim`);
- :class:`SpecGANGenerator` and :class:`SpecGANCritic`, the 2-D counterparts of WaveGAN's,
  trained by the same :func:`audiomap_lib.training.wgan.train_wgan_gp` (their output / input
  shape is ``output_shape``).
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import check_positive_int, check_tensor

__all__ = ["SpecGANCritic", "SpecGANGenerator", "SpectrogramCodec"]

_CLIP_STD = 3.0


def _check_size(size: int) -> int:
    size = check_positive_int(size, "size")
    if size < 8 or size & (size - 1):
        raise ValueError(f"size must be a power of 2, at least 8 (the paper's is 128); got {size}")
    return size


class SpectrogramCodec:
    """Clips to SpecGAN's normalised log-magnitude images and back (Chapter 7).

    Args:
        n_samples: clip length; ``size ** 2`` (4096 for 64, 16384 for 128, the paper's), so that a hop
            of ``size`` samples gives ``size`` frames and a window of ``2 * size`` gives ``size + 1`` bins.
        sample_rate_hz: the clips' rate (kept for the generator and the scores).
        size: the image's height (frequency bins) and width (frames), a power of 2.
        griffin_lim_iters: phase-retrieval iterations when decoding (the paper: 16).

    Attributes:
        hop_length, n_fft: the STFT's (``n_samples // size`` and twice that).
        mean, std: ``(size,)`` per-bin statistics of ``log(|X| + 1e-6)``, set by :meth:`fit`.
    """

    def __init__(self, n_samples: int, sample_rate_hz: int, size: int = 64, griffin_lim_iters: int = 16) -> None:
        from ..io import check_sample_rate

        self.size = _check_size(size)
        self.n_samples = check_positive_int(n_samples, "n_samples")
        if self.n_samples != self.size ** 2:
            raise ValueError(f"n_samples must be size ** 2 = {self.size ** 2} for a square image of size={size} "
                             f"(hop = size samples, size + 1 bins); got n_samples={n_samples}")
        self.sample_rate_hz = check_sample_rate(sample_rate_hz, "sample_rate_hz")
        self.griffin_lim_iters = check_positive_int(griffin_lim_iters, "griffin_lim_iters")
        self.hop_length = self.n_samples // self.size
        self.n_fft = 2 * self.hop_length
        self.mean: torch.Tensor | None = None
        self.std: torch.Tensor | None = None

    def _log_magnitude(self, clips: torch.Tensor) -> torch.Tensor:
        from ..spectral import compute_magnitude, compute_stft

        x = check_tensor(clips, "clips", ndim=3, shape="(N, 1, n_samples)").float()
        if x.shape[1:] != (1, self.n_samples):
            raise ValueError(f"clips must have shape (N, 1, n_samples={self.n_samples}); got {tuple(x.shape)}")
        mag = compute_magnitude(compute_stft(x[:, 0], self.n_fft, self.hop_length))  # (N, n_fft/2 + 1, frames)
        return torch.log(mag[:, : self.size, : self.size] + 1e-6)

    def fit(self, clips: torch.Tensor) -> SpectrogramCodec:
        """Set the per-bin mean and standard deviation from training clips ``(N, 1, n_samples)``; returns self."""
        logmag = self._log_magnitude(clips)
        self.mean = logmag.mean(dim=(0, 2))
        self.std = logmag.std(dim=(0, 2)).clamp_min(1e-3)
        return self

    def _stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mean is None or self.std is None:
            raise RuntimeError("call fit(training_clips) first (or load the statistics with from_dict)")
        return self.mean, self.std

    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        """Images ``(N, 1, size, size)`` in ``[-1, 1]`` (frequency up, time across) for clips ``(N, 1, n_samples)``."""
        mean, std = self._stats()
        z = (self._log_magnitude(clips) - mean[:, None]) / std[:, None]
        return (z.clamp(-_CLIP_STD, _CLIP_STD) / _CLIP_STD).unsqueeze(1)

    def decode(self, images: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """Clips ``(N, 1, n_samples)`` for images ``(N, 1, size, size)``, the phase by Griffin-Lim."""
        from ..io import pad_or_crop
        from ..spectral import invert_griffin_lim

        mean, std = self._stats()
        x = check_tensor(images, "images", ndim=4, shape="(N, 1, size, size)").float()
        if x.shape[1:] != (1, self.size, self.size):
            raise ValueError(f"images must have shape (N, 1, {self.size}, {self.size}); got {tuple(x.shape)}")
        mag = torch.exp(x[:, 0] * _CLIP_STD * std[:, None] + mean[:, None]) - 1e-6
        mag = F.pad(mag.clamp_min(0), (0, 1, 0, 1))  # the dropped top bin and last frame, as zeros
        wav = invert_griffin_lim(mag, self.n_fft, self.hop_length, n_iter=self.griffin_lim_iters, seed=seed)
        return pad_or_crop(wav.unsqueeze(1), self.n_samples, mode="start")

    def to_dict(self) -> dict[str, Any]:
        """Settings and statistics as plain values (for a run's JSON record)."""
        mean, std = self._stats()
        return {"n_samples": self.n_samples, "sample_rate_hz": self.sample_rate_hz, "size": self.size,
                "griffin_lim_iters": self.griffin_lim_iters, "mean": mean.tolist(), "std": std.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpectrogramCodec:
        """The codec :meth:`to_dict` describes."""
        codec = cls(data["n_samples"], data["sample_rate_hz"], data["size"], data["griffin_lim_iters"])
        codec.mean, codec.std = torch.tensor(data["mean"]), torch.tensor(data["std"])
        return codec


class SpecGANGenerator(nn.Module):
    """SpecGAN's generator (Chapter 7): latents ``(B, latent_dim)`` to images ``(B, 1, size, size)`` in ``(-1, 1)``.

    A dense layer to a ``4 x 4`` grid of ``8d`` channels (for ``size`` 64; ``16d`` at 128, as in
    the paper), then transposed 2-D convolutions (5 x 5, stride 2) halving the channels and
    doubling height and width, ReLU between, tanh at the end.

    Args:
        d: model size; latent_dim: size of ``z``; size: image side (power of 2, >= 8).
        n_samples, sample_rate_hz: the clips the images decode to (for the trainer's checks).
    """

    def __init__(self, d: int = 64, latent_dim: int = 100, size: int = 64, *, n_samples: int, sample_rate_hz: int) -> None:
        super().__init__()
        from ..io import check_sample_rate

        self.d = check_positive_int(d, "d")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.size = _check_size(size)
        self.n_samples = check_positive_int(n_samples, "n_samples")
        self.sample_rate_hz = check_sample_rate(sample_rate_hz, "sample_rate_hz")
        self.output_shape = (1, self.size, self.size)
        self.config_dict: dict[str, Any] = {"d": d, "latent_dim": latent_dim, "size": size, "n_samples": n_samples,
                                            "sample_rate_hz": self.sample_rate_hz}
        n_layers = self.size.bit_length() - 3  # doublings from 4 to size
        chans = [self.d * 2 ** (n_layers - 1 - i) for i in range(n_layers)] + [1]  # 8d, 4d, 2d, d, 1 for size 64
        self.start_channels = chans[0]
        self.dense = nn.Linear(latent_dim, 16 * self.start_channels)
        self.layers = nn.ModuleList(nn.ConvTranspose2d(c_in, c_out, 5, stride=2, padding=2, output_padding=1)
                                    for c_in, c_out in zip(chans[:-1], chans[1:]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(B, 1, size, size)`` for latents ``(B, latent_dim)``."""
        z = check_tensor(z, "z", ndim=2, shape="(batch, latent_dim)")
        if z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (batch, latent_dim={self.latent_dim}); got {tuple(z.shape)}")
        h = F.relu(self.dense(z.to(self.dense.weight.dtype))).view(z.shape[0], self.start_channels, 4, 4)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = F.relu(h)
        return torch.tanh(h)


class SpecGANCritic(nn.Module):
    """SpecGAN's critic (Chapter 7): images ``(B, 1, size, size)`` to one score each, ``(B,)``.

    2-D convolutions (5 x 5, stride 2) from ``d`` channels doubling down to a ``4 x 4`` grid,
    LeakyReLU 0.2, then a dense layer; optionally the minibatch standard deviation as in
    :class:`~audiomap_lib.gan.models.WaveGANCritic`.
    """

    def __init__(self, d: int = 64, size: int = 64, slope: float = 0.2, minibatch_std: bool = False) -> None:
        super().__init__()
        self.d = check_positive_int(d, "d")
        self.size = _check_size(size)
        self.slope = float(slope)
        if not isinstance(minibatch_std, bool):
            raise TypeError(f"minibatch_std must be True or False; got {minibatch_std!r}")
        self.minibatch_std = minibatch_std
        n_layers = self.size.bit_length() - 3
        chans = [1] + [self.d * 2 ** i for i in range(n_layers)]
        self.convs = nn.ModuleList(nn.Conv2d(c_in, c_out, 5, stride=2, padding=2) for c_in, c_out in zip(chans[:-1], chans[1:]))
        self.dense = nn.Linear((chans[-1] + int(minibatch_std)) * 16, 1)
        self.config_dict: dict[str, Any] = {"d": d, "size": size, "slope": slope, "minibatch_std": minibatch_std}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores ``(B,)`` for images ``(B, 1, size, size)``."""
        x = check_tensor(x, "x", ndim=4, shape="(batch, 1, size, size)")
        if x.shape[1:] != (1, self.size, self.size):
            raise ValueError(f"x must have shape (batch, 1, {self.size}, {self.size}); got {tuple(x.shape)}")
        h = x.to(self.dense.weight.dtype)
        for conv in self.convs:
            h = F.leaky_relu(conv(h), self.slope)
        if self.minibatch_std:
            spread = h.std(0, unbiased=False).mean() if len(h) > 1 else h.new_zeros(())
            h = torch.cat([h, spread.expand(len(h), 1, *h.shape[2:])], dim=1)
        return self.dense(h.flatten(1)).squeeze(1)
