"""Chapter 8 (style transfer): exercises with automatic checks and worked solutions."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .core import Case, ExerciseResult, _rand, register, run_cases

__all__ = [
    "grade_gram_matrix",
    "grade_style_loss",
    "grade_envelope_kurtosis",
    "grade_inconsistency",
    "grade_receptive_field_ms",
    "grade_spectral_convergence",
]


# ---- Exercise "gram_matrix"


@register("gram_matrix", 8, "the Gram matrix of feature maps")
def grade_gram_matrix(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(features (C, P))`` -> ``(C, C)`` against :func:`audiomap_lib.style.compute_gram`."""
    from ..style import compute_gram

    f = _rand(3, 7, seed=1)
    cases = [Case("one channel, one position", (torch.tensor([[2.0]], dtype=torch.float64),),
                  expected=torch.tensor([[4.0]], dtype=torch.float64)),
             Case("two channels that never fire together", (torch.tensor([[1.0, 0.0], [0.0, 3.0]], dtype=torch.float64),),
                  expected=torch.tensor([[0.5, 0.0], [0.0, 4.5]], dtype=torch.float64)),
             Case("3 channels, 7 positions", (f,), expected=compute_gram(f)),
             Case("more channels than positions", (_rand(6, 2, seed=2),), expected=compute_gram(_rand(6, 2, seed=2)))]
    return run_cases("gram_matrix", fn, cases,
                     hint="multiply F by its transpose (channels x channels), then divide by the number of positions")


# ---- Exercise "style_loss"


@register("style_loss", 8, "the style loss between feature maps and a target Gram matrix")
def grade_style_loss(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(features (C, P), target_gram (C, C))`` -> a 0-d tensor."""
    from ..style import compute_gram, compute_style_loss

    f, t = _rand(4, 9, seed=3), _rand(4, 12, seed=4)
    cases = [Case("the target's own features", (t, compute_gram(t)), expected=torch.tensor(0.0, dtype=torch.float64)),
             Case("zero features against an identity Gram", (torch.zeros(3, 5, dtype=torch.float64),
                                                              torch.eye(3, dtype=torch.float64)),
                  expected=torch.tensor(3.0, dtype=torch.float64)),
             Case("random features", (f, compute_gram(t)), expected=compute_style_loss(f, compute_gram(t)))]

    def compare(expected: torch.Tensor, got: object) -> str | None:
        if not isinstance(got, torch.Tensor) or got.ndim != 0:
            return f"expected a 0-d tensor, got {type(got).__name__} {getattr(got, 'shape', '')}"
        if not torch.allclose(got.detach().double(), expected, rtol=1e-6, atol=1e-9):
            return f"expected {float(expected):.6g}, got {float(got.detach()):.6g}"
        return None

    return run_cases("style_loss", fn, cases, compare=compare,
                     hint="a sum of squares (not a mean), of the Gram matrices' difference, with the Gram averaged over positions")


# ---- Exercise "envelope_kurtosis"


@register("envelope_kurtosis", 8, "a texture statistic: the kurtosis of sub-band envelopes")
def grade_envelope_kurtosis(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(envelopes (bands, frames))`` -> ``(bands,)`` against ``scipy.stats.kurtosis(fisher=False)``."""
    import scipy.stats

    steady = torch.tensor([[1.0, 3.0, 1.0, 3.0, 1.0, 3.0]], dtype=torch.float64)  # two values: kurtosis 1
    sparse = torch.zeros(1, 100, dtype=torch.float64)
    sparse[0, ::25] = 1.0  # rare loud events, like rain drops: high kurtosis
    g = torch.Generator().manual_seed(6)
    env = torch.rand(5, 300, generator=g, dtype=torch.float64) ** 3
    cases = [Case("a steady two-level envelope", (steady,), expected=torch.tensor([1.0], dtype=torch.float64)),
             Case("sparse events", (sparse,), expected=torch.from_numpy(np.atleast_1d(scipy.stats.kurtosis(sparse.numpy(), axis=1, fisher=False)))),
             Case("5 bands", (env,), expected=torch.from_numpy(scipy.stats.kurtosis(env.numpy(), axis=1, fisher=False)))]
    return run_cases("envelope_kurtosis", fn, cases,
                     hint="use the population moments (divide by the number of frames, not frames - 1) and do not subtract 3")


# ---- Exercise "inconsistency"


def _inconsistency_reference(spectrogram: torch.Tensor, n_fft: int, hop: int) -> float:
    """||X - STFT(ISTFT(X))||_F / ||X||_F with the library's from-scratch STFT and inverse (Chapter 2)."""
    from ..spectral import compute_istft, compute_stft

    again = compute_stft(compute_istft(spectrogram, n_fft, hop), n_fft, hop)
    return float((spectrogram - again).abs().norm() / spectrogram.abs().norm())


@register("inconsistency", 8, "how far a spectrogram is from the STFT of any sound")
def grade_inconsistency(fn: Callable[..., float]) -> ExerciseResult:
    """Grade ``fn(spectrogram (F, M) complex, n_fft, hop_length)`` -> a float.

    The answer is ``||X - STFT(ISTFT(X))||_F / ||X||_F`` with a Hann window, centred frames and
    the inverse's default length: 0 for the STFT of a sound a whole number of hops long, above 0 for a
    spectrogram no sound has.
    """
    n_fft, hop = 64, 16
    x = torch.sin(torch.arange(800, dtype=torch.float64) * 0.3) + 0.1 * _rand(800, seed=7)
    spec = torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft, dtype=torch.float64), return_complex=True)
    phase = torch.exp(2j * torch.pi * torch.rand(spec.shape, generator=torch.Generator().manual_seed(11), dtype=torch.float64))
    random_phase = spec.abs() * phase
    single = torch.zeros_like(spec)
    single[10, 20] = 1.0
    cases = [Case("the STFT of a sound", (spec, n_fft, hop), expected=0.0),
             Case("a real magnitude with random phase", (random_phase, n_fft, hop),
                  expected=_inconsistency_reference(random_phase, n_fft, hop)),
             Case("a single non-zero cell", (single, n_fft, hop), expected=_inconsistency_reference(single, n_fft, hop))]
    return run_cases("inconsistency", fn, cases,
                     hint="istft then stft with the same Hann window (default length and centring); compare the complex "
                          "values, not only the magnitudes, and divide by the norm of the spectrogram")


# ---- Exercise "receptive_field_ms"


@register("receptive_field_ms", 8, "the receptive field of the 1-D style network in ms")
def grade_receptive_field_ms(fn: Callable[..., float]) -> ExerciseResult:
    """Grade ``fn(kernel_size, n_fft, hop_length, sr_hz)`` -> milliseconds."""
    from ..style import compute_receptive_field_ms

    cases = [Case(f"K={k}, n_fft={n}, hop={h}, sr={sr}", (k, n, h, sr), expected=compute_receptive_field_ms(k, n, h, sr))
             for k, n, h, sr in [(1, 1024, 256, 16000), (11, 2048, 512, 22050), (11, 1024, 256, 22050), (3, 512, 128, 8000)]]
    return run_cases("receptive_field_ms", fn, cases,
                     hint="the first frame covers n_fft samples; each further frame adds hop_length samples")


# ---- Exercise "spectral_convergence"


@register("spectral_convergence", 8, "the spectral convergence of two magnitude spectrograms")
def grade_spectral_convergence(fn: Callable[..., float]) -> ExerciseResult:
    """Grade ``fn(target (F, M), estimate (F, M))`` -> a float."""
    from ..style import compute_spectral_convergence

    t, e = _rand(5, 8, seed=9).abs(), _rand(5, 8, seed=10).abs()
    cases = [Case("equal magnitudes", (t, t), expected=0.0),
             Case("all zero estimate", (t, torch.zeros_like(t)), expected=1.0),
             Case("random", (t, e), expected=float(compute_spectral_convergence(t, e)))]
    return run_cases("spectral_convergence", fn, cases, hint="Frobenius norms over the whole spectrogram, not per frame")
