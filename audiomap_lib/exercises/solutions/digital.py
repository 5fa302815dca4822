"""Chapter 1: the worked solutions of the exercises graded in :mod:`audiomap_lib.exercises.digital` (teacher edition only)."""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "solution_alias_frequency",
    "solution_pcm16_to_float",
    "solution_quantize",
    "solution_quantization_snr_db",
    "solution_mu_law_compress",
]


def solution_alias_frequency(freq_hz: float, sr: int) -> float:
    """The frequency heard after sampling a sine of freq_hz at sr: folded into [0, sr / 2]."""
    return abs(freq_hz - sr * round(freq_hz / sr))


def solution_pcm16_to_float(samples: np.ndarray) -> torch.Tensor:
    """16-bit integer PCM to float32 in [-1, 1): divide by 2**15."""
    return torch.from_numpy(samples.astype(np.float32) / 32768.0)


def solution_quantize(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Round x in [-1, 1] to the nearest multiple of 2 / 2**bits, kept within [-1, 1 - step]."""
    step = 2.0 / 2**bits
    return (torch.round(x / step) * step).clamp(-1.0, 1.0 - step)


def solution_quantization_snr_db(bits: int) -> float:
    """SNR of a full-scale sine quantised with bits bits: 10 log10(1.5 * 4**bits) dB."""
    return 10 * math.log10(1.5 * 4.0**bits)


def solution_mu_law_compress(x: torch.Tensor, mu: int = 255) -> torch.Tensor:
    """Mu-law companding: sign(x) * ln(1 + mu |x|) / ln(1 + mu), values in [-1, 1]."""
    return torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
