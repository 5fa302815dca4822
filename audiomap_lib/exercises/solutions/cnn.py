"""Chapter 6: the worked solutions of the exercises graded in :mod:`audiomap_lib.exercises.cnn` (teacher edition only)."""
from __future__ import annotations

import torch

__all__ = [
    "solution_m5_output_length",
    "solution_collate",
    "solution_noise_at_snr",
    "solution_confusion_matrix",
    "solution_center_frequency",
    "solution_m5_masked_average",
    "solution_rt60",
]


def solution_m5_output_length(length: int) -> int:
    """Time steps left after the M5 stack: conv(80, stride 4), then 3 x [pool 4, conv 3 with padding 1]."""
    n = (length - 80) // 4 + 1  # the long first convolution, no padding
    for _ in range(3):
        n = n // 4  # max-pool of 4 (stride 4): floor
        n = (n + 2 * 1 - 3) // 1 + 1  # kernel 3 with one zero each side keeps the length
    return n


def solution_collate(batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad (1, n_i) clips with zeros at the end to the longest; return waveforms, labels, lengths."""
    lengths = torch.tensor([wav.shape[-1] for wav, _ in batch], dtype=torch.int64)
    waveforms = torch.zeros(len(batch), 1, int(lengths.max()))
    for i, (wav, _) in enumerate(batch):
        waveforms[i, :, : wav.shape[-1]] = wav  # real samples first, zeros after
    labels = torch.tensor([label for _, label in batch], dtype=torch.int64)
    return waveforms, labels, lengths


def solution_noise_at_snr(waveform: torch.Tensor, noise: torch.Tensor, snr_db: float) -> torch.Tensor:
    """waveform + a * noise, with a chosen so that 10 log10(P_signal / P_scaled_noise) = snr_db."""
    p_signal = waveform.pow(2).mean()
    p_noise = noise.pow(2).mean()
    a = torch.sqrt(p_signal / (p_noise * 10 ** (snr_db / 10)))  # power scales with a^2
    return waveform + a * noise


def solution_confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(n_classes, n_classes) int64 counts; row = true class, column = predicted class."""
    matrix = torch.zeros(n_classes, n_classes, dtype=torch.int64)
    for p, t in zip(predicted.tolist(), labels.tolist()):
        matrix[t, p] += 1
    return matrix


def solution_center_frequency(kernel: torch.Tensor, sr: int, n_fft: int = 512) -> float:
    """Frequency (Hz) of the largest magnitude of the kernel's zero-padded FFT."""
    magnitude = torch.fft.rfft(kernel, n=n_fft).abs()  # n_fft // 2 + 1 bins from 0 to sr / 2
    return float(magnitude.argmax()) * sr / n_fft  # bin k lies at k * sr / n_fft Hz


def solution_m5_masked_average(features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, C): the mean of features (B, C, T) over the M5 steps that each clip's real samples produce."""
    steps = torch.tensor([solution_m5_output_length(int(n)) for n in lengths])  # Exercise 1's formula, per clip
    keep = torch.arange(features.shape[-1]) < steps.unsqueeze(1)  # (B, T): True on real steps
    total = (features * keep.unsqueeze(1)).sum(-1)  # padding steps add nothing
    return total / steps.unsqueeze(1).to(features.dtype)  # ...and are not counted


def solution_rt60(rir: torch.Tensor, sr: int) -> float:
    """T60 in s: Schroeder's backward integral in dB, a least-squares line from -5 to -25 dB, extrapolated to -60 dB."""
    energy = rir.double().pow(2).flip(0).cumsum(0).flip(0)  # energy still to come after each sample
    edc_db = 10 * torch.log10(energy / energy[0])
    keep = (edc_db <= -5) & (edc_db >= -25)
    t_s = torch.arange(len(rir), dtype=torch.float64)[keep] / sr
    y = edc_db[keep]
    slope = ((t_s - t_s.mean()) * (y - y.mean())).sum() / (t_s - t_s.mean()).pow(2).sum()  # dB per second
    return float(-60 / slope)
