"""Chapter 2 (spectrograms): exercises with automatic checks and worked solutions."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .core import Case, ExerciseResult, register, run_cases

__all__ = [
    "grade_frame_count",
    "grade_bin_frequencies",
    "grade_overlap_add",
    "grade_inverse_dft",
    "grade_hz_to_mel_htk",
]


# ---- Exercise "frame_count"


@register("frame_count", 2, "how many frames an STFT has")
def grade_frame_count(fn: Callable[..., int]) -> ExerciseResult:
    """Grade ``fn(n_samples, n_fft, hop_length, center=True)`` against the shape of ``torch.stft``."""
    cases = []
    for n, n_fft, hop, center in [(16000, 512, 160, True), (16000, 512, 160, False), (1000, 256, 100, True),
                                  (1000, 256, 100, False), (513, 512, 1, False), (44100, 2048, 512, True)]:
        frames = torch.stft(torch.zeros(n), n_fft, hop, window=torch.hann_window(n_fft), center=center,
                            return_complex=True).shape[-1]
        cases.append(Case(f"{n} samples, n_fft {n_fft}, hop {hop}, center={center}", (n, n_fft, hop, center), expected=frames))
    return run_cases("frame_count", fn, cases,
                     hint="a frame fits when its last sample is inside the signal; centring adds n_fft // 2 samples on both sides")


# ---- Exercise "bin_frequencies"


@register("bin_frequencies", 2, "the frequency of each FFT bin")
def grade_bin_frequencies(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(n_fft, sr)`` -> ``(n_fft // 2 + 1,)`` Hz against ``numpy.fft.rfftfreq``."""
    cases = [Case(f"n_fft {n}, {sr} Hz", (n, sr), expected=torch.from_numpy(np.fft.rfftfreq(n, 1 / sr)))
             for n, sr in [(512, 16000), (8, 8000), (1024, 22050), (9, 1000)]]
    return run_cases("bin_frequencies", fn, cases,
                     hint="n_fft // 2 + 1 bins from 0 Hz up to sr / 2 (for an even n_fft), sr / n_fft apart")


# ---- Exercise "overlap_add"


def _overlap_added(window: torch.Tensor, hop_length: int) -> torch.Tensor:
    """One period of the steady part of copies of ``window`` added into a long signal every ``hop_length`` samples."""
    n = window.shape[0]
    copies = 2 * (n // hop_length + 2)
    total = torch.zeros(copies * hop_length + n, dtype=torch.float64)
    for m in range(copies):
        total[m * hop_length: m * hop_length + n] += window.to(torch.float64)
    start = (n // hop_length + 1) * hop_length  # every copy that reaches this far has started
    return total[start: start + hop_length]


@register("overlap_add", 2, "when overlapping windows add up to a constant")
def grade_overlap_add(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(window (N,), hop_length)`` -> ``(hop_length,)`` against copies of the window added into a long signal."""
    hann = torch.hann_window(512, dtype=torch.float64)
    cases = [Case(name, (w, hop), expected=_overlap_added(w, hop)) for name, w, hop in [
        ("periodic Hann 512, hop N / 2: the constant 1", hann, 256),
        ("periodic Hann 512, hop N / 4: the constant 2", hann, 128),
        ("squared Hann 512, hop N / 4: 1.5, what the inverse STFT divides by", hann**2, 128),
        ("symmetric Hann 512", torch.hann_window(512, periodic=False, dtype=torch.float64), 256),
        ("periodic Hann 512, hop 3N / 8: ripples", hann, 192),
        ("rectangle 100, hop 100", torch.ones(100, dtype=torch.float64), 100),
    ]]
    return run_cases("overlap_add", fn, cases,
                     hint="sample r of the period (0 <= r < hop_length) adds window[r], window[r + hop_length], "
                          "window[r + 2 hop_length], ... up to the end of the window")


# ---- Exercise "inverse_dft"


@register("inverse_dft", 2, "the inverse DFT of a one-sided spectrum, as a matrix")
def grade_inverse_dft(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(spectrum (N // 2 + 1,) complex, n)`` -> real ``(n,)`` against ``torch.fft.irfft``."""
    g = torch.Generator().manual_seed(12)
    even, odd = torch.randn(16, generator=g, dtype=torch.float64), torch.randn(33, generator=g, dtype=torch.float64)
    bin3 = torch.zeros(9, dtype=torch.complex128)
    bin3[3] = 8.0  # N / 2 in bin 3 of N = 16: a cosine of 3 cycles and amplitude 1
    nyquist = torch.zeros(9, dtype=torch.complex128)
    nyquist[8] = 16.0  # N in the last bin of N = 16: +1, -1, +1, ...
    cases = [Case("bin 3 alone (N = 16): a cosine of 3 cycles", (bin3, 16), expected=torch.fft.irfft(bin3, 16)),
             Case("the last bin alone (N = 16): it has no mirror image", (nyquist, 16), expected=torch.fft.irfft(nyquist, 16)),
             Case("the spectrum of a random signal, N = 16", (torch.fft.rfft(even), 16), expected=even),
             Case("the spectrum of a random signal, N = 33 (odd: every bin but 0 has a mirror image)",
                  (torch.fft.rfft(odd), 33), expected=odd)]

    def compare(expected: torch.Tensor, got: object) -> str | None:
        if not isinstance(got, torch.Tensor) or got.is_complex() or not got.is_floating_point():
            return f"expected a real floating-point tensor, got {type(got).__name__} {getattr(got, 'dtype', '')}"
        if got.shape != expected.shape:
            return f"wrong shape: expected {tuple(expected.shape)}, got {tuple(got.shape)}"
        err = float((got.double() - expected).abs().max())
        return None if err < 1e-6 * max(1.0, float(expected.abs().max())) else f"values differ by up to {err:.3g}"

    return run_cases("inverse_dft", fn, cases, compare=compare,
                     hint="x[t] = (1/N) sum over all N bins of X[k] exp(+2j pi k t / N); the bins the one-sided "
                          "spectrum leaves out are the complex conjugates of bins 1 .. (N - 1) // 2, so those count twice "
                          "(in the real part); bin 0 and, for even N, bin N / 2 count once")


# ---- Exercise "hz_to_mel_htk"


@register("hz_to_mel_htk", 2, "hertz to mels (the HTK formula)")
def grade_hz_to_mel_htk(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(freq_hz (N,))`` against ``librosa.hz_to_mel(..., htk=True)``."""
    import librosa

    f = torch.tensor([0.0, 100.0, 700.0, 1000.0, 4000.0, 8000.0], dtype=torch.float64)
    g = torch.linspace(20.0, 11025.0, 30, dtype=torch.float64)
    cases = [Case("round numbers", (f,), expected=torch.from_numpy(librosa.hz_to_mel(f.numpy(), htk=True))),
             Case("20 Hz to 11 kHz", (g,), expected=torch.from_numpy(librosa.hz_to_mel(g.numpy(), htk=True)))]
    return run_cases("hz_to_mel_htk", fn, cases, hint="1000 Hz is close to 1000 mel; use log10, not the natural log")
