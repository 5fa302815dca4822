"""Chapter 3: the worked solutions of the exercises graded in :mod:`audiomap_lib.exercises.conv` (teacher edition only)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "solution_flip",
    "solution_output_length",
    "solution_causal_conv",
    "solution_conv_output",
    "solution_lowpass",
    "solution_bandpass",
    "solution_aliased_frequency",
    "solution_linear_from_circular",
]


def solution_flip(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Full convolution of 1-D x and w with F.conv1d (which does not flip)."""
    k = w.shape[0]
    x3 = F.pad(x, (k - 1, k - 1)).view(1, 1, -1)  # pad so every overlap counts
    w3 = w.flip(0).view(1, 1, k)  # flip the kernel: correlation becomes convolution
    return F.conv1d(x3, w3).view(-1)


def solution_output_length(length: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a 1-D conv layer with `padding` zeros on each side."""
    span = dilation * (kernel - 1) + 1  # samples covered by the dilated kernel
    return (length + 2 * padding - span) // stride + 1


def solution_causal_conv(x: torch.Tensor, weight: torch.Tensor, dilation: int = 1) -> torch.Tensor:
    """Causal conv: output t sees inputs t, t-d, ..., never the future; same length."""
    k = weight.shape[-1]
    x = F.pad(x, (dilation * (k - 1), 0))  # all the zeros on the left
    return F.conv1d(x, weight, dilation=dilation)


def solution_conv_output(
    x: torch.Tensor, weight: torch.Tensor, stride: int = 1, padding: int = 0, dilation: int = 1
) -> torch.Tensor:
    """conv1d (cross-correlation) with stride, padding and dilation, as a loop over taps."""
    k = weight.shape[-1]
    x = F.pad(x, (padding, padding))
    out_len = (x.shape[-1] - dilation * (k - 1) - 1) // stride + 1
    y = torch.zeros(x.shape[0], weight.shape[0], out_len, dtype=x.dtype)
    for j in range(k):  # tap j reads the input shifted by j * dilation
        start = j * dilation
        xs = x[:, :, start:start + stride * (out_len - 1) + 1:stride]  # (batch, in, out_len)
        y = y + torch.einsum("bct,oc->bot", xs, weight[:, :, j])
    return y


def solution_lowpass(cutoff_hz: float, sr: int, n_taps: int) -> torch.Tensor:
    """Windowed-sinc low-pass: ideal (sinc) response, cut to n_taps, Hamming window."""
    n = torch.arange(n_taps, dtype=torch.float64) - (n_taps - 1) / 2  # centred tap index
    fc = cutoff_hz / sr  # cutoff in cycles per sample
    h = 2 * fc * torch.sinc(2 * fc * n) * torch.hamming_window(n_taps, periodic=False, dtype=torch.float64)
    return h / h.sum()  # gain exactly 1 at 0 Hz


def solution_bandpass(low_hz: float, high_hz: float, sr: int, n_taps: int) -> torch.Tensor:
    """Band-pass = high-pass above low_hz, then low-pass below high_hz (convolve the kernels)."""
    from audiomap_lib.conv import convolve_full, make_highpass_fir, make_lowpass_fir

    high = make_highpass_fir(low_hz, sr, n_taps)  # removes what lies below low_hz
    low = make_lowpass_fir(high_hz, sr, n_taps)  # removes what lies above high_hz
    return convolve_full(high, low)  # filtering by both = one filter with the convolved kernel


def solution_aliased_frequency(f_hz: float, sr: int, stride: int) -> float:
    """Hz at which a tone of f_hz is heard after keeping every stride-th sample: fold f into [0, new_sr / 2]."""
    new_sr = sr / stride  # the rate of what is kept
    f = f_hz % new_sr  # frequencies one new rate apart give the same samples
    return min(f, new_sr - f)  # and f looks like new_sr - f (cosines are even): fold at the new Nyquist


def solution_linear_from_circular(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The linear convolution (N + K - 1,) as a circular one of length N + K - 1: room for every overlap."""
    from audiomap_lib.conv import fft_convolve

    length = len(x) + len(w) - 1
    x_padded = torch.nn.functional.pad(x, (0, length - len(x)))
    w_padded = torch.nn.functional.pad(w, (0, length - len(w)))
    return fft_convolve(x_padded, w_padded, circular=True)  # nothing wraps: the tail fits
