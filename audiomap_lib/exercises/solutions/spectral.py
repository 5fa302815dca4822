"""Chapter 2: the worked solutions of the exercises graded in :mod:`audiomap_lib.exercises.spectral` (teacher edition only)."""
from __future__ import annotations

import math

import torch

__all__ = [
    "solution_frame_count",
    "solution_bin_frequencies",
    "solution_overlap_add",
    "solution_inverse_dft",
    "solution_hz_to_mel_htk",
]


def solution_frame_count(n_samples: int, n_fft: int, hop_length: int, center: bool = True) -> int:
    """Frames of an STFT: centred frames pad n_fft // 2 samples on each side first."""
    if center:
        n_samples += 2 * (n_fft // 2)
    return 1 + (n_samples - n_fft) // hop_length


def solution_bin_frequencies(n_fft: int, sr: int) -> torch.Tensor:
    """Centre frequency (Hz) of each of the n_fft // 2 + 1 bins of a real FFT: k * sr / n_fft."""
    return torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sr / n_fft


def solution_overlap_add(window: torch.Tensor, hop_length: int) -> torch.Tensor:
    """One period of sum_m window[n - m hop]: its sample r adds window[r], window[r + hop], ...

    For the periodic Hann window, 0.5 - 0.5 cos(2 pi n / N), and hop = N / K with K >= 2, the K
    cosines at r + k N / K are K equally spaced phases and cancel: the sum is the constant K / 2.
    The squared window, 3/8 - cos(2 pi n / N) / 2 + cos(4 pi n / N) / 8, sums to 3 K / 8 when K >= 3.
    """
    w = window.to(torch.float64)
    return torch.stack([w[r::hop_length].sum() for r in range(hop_length)])


def solution_inverse_dft(spectrum: torch.Tensor, n: int) -> torch.Tensor:
    """The n real samples whose one-sided DFT is spectrum (n // 2 + 1,), as one matrix product.

    x[t] = (1/n) sum_k X[k] exp(2 pi i k t / n) over all n bins. The bins above n / 2 are the complex
    conjugates of bins 1 .. (n - 1) // 2, so each of those counts twice in the real part; bin 0 and,
    for even n, bin n / 2 have no mirror image and count once.
    """
    k = torch.arange(n // 2 + 1, dtype=torch.float64)
    weight = torch.full_like(k, 2.0)
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0
    t = torch.arange(n, dtype=torch.float64)
    basis = torch.exp(2j * math.pi * t[:, None] * k[None, :] / n)  # (n, bins): the conjugate of the DFT's rows
    return (basis @ (weight * spectrum.to(torch.complex128))).real / n


def solution_hz_to_mel_htk(freq_hz: torch.Tensor) -> torch.Tensor:
    """The HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * torch.log10(1.0 + freq_hz / 700.0)
