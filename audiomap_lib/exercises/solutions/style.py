"""Chapter 8: the worked solutions of the exercises graded in :mod:`audiomap_lib.exercises.style` (teacher edition only)."""
from __future__ import annotations

import torch

__all__ = [
    "solution_gram_matrix",
    "solution_style_loss",
    "solution_envelope_kurtosis",
    "solution_inconsistency",
    "solution_receptive_field_ms",
    "solution_spectral_convergence",
]


def solution_gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """G = F F^T / positions for features (channels, positions)."""
    return features @ features.T / features.shape[1]


def solution_style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """sum over (i, j) of (G[i, j] - target_gram[i, j])^2, with G the Gram of features (C, P)."""
    gram = features @ features.T / features.shape[1]
    return ((gram - target_gram) ** 2).sum()


def solution_envelope_kurtosis(envelopes: torch.Tensor) -> torch.Tensor:
    """Kurtosis of each band's envelope (bands, frames): E[(e - mean)^4] / std^4, population std."""
    d = envelopes - envelopes.mean(-1, keepdim=True)
    return (d ** 4).mean(-1) / (d ** 2).mean(-1) ** 2


def solution_inconsistency(spectrogram: torch.Tensor, n_fft: int, hop_length: int) -> float:
    """||X - STFT(ISTFT(X))||_F / ||X||_F: the share of X that no sound can have (Hann window, centred)."""
    hann = torch.hann_window(n_fft, dtype=spectrogram.real.dtype)
    sound = torch.istft(spectrogram, n_fft, hop_length, window=hann)
    nearest = torch.stft(sound, n_fft, hop_length, window=hann, return_complex=True)
    return float(torch.linalg.norm(spectrogram - nearest) / torch.linalg.norm(spectrogram))


def solution_receptive_field_ms(kernel_size: int, n_fft: int, hop_length: int, sr_hz: int) -> float:
    """kernel_size frames, hop_length apart, each n_fft samples long, in milliseconds."""
    return 1000.0 * ((kernel_size - 1) * hop_length + n_fft) / sr_hz


def solution_spectral_convergence(target: torch.Tensor, estimate: torch.Tensor) -> float:
    """||target - estimate||_F / ||target||_F for magnitudes (F, M)."""
    return float(torch.linalg.norm(target - estimate) / torch.linalg.norm(target))
