"""Chapter 1 (audio as data): exercises with automatic checks and worked solutions."""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .core import Case, ExerciseResult, register, run_cases

__all__ = [
    "grade_alias_frequency",
    "grade_pcm16_to_float",
    "grade_quantize",
    "grade_quantization_snr_db",
    "grade_mu_law_compress",
]


# ---- Exercise "alias_frequency"


@register("alias_frequency", 1, "the alias of a sampled sine")
def grade_alias_frequency(fn: Callable[..., float]) -> ExerciseResult:
    """Grade ``fn(freq_hz, sr)`` -> Hz against :func:`audiomap_lib.digital.compute_alias_frequency`."""
    from ..digital import compute_alias_frequency

    cases = [Case(f"{f:g} Hz at {sr} Hz", (f, sr), expected=compute_alias_frequency(f, sr))
             for f, sr in [(1000.0, 8000), (7000.0, 10000), (5000.0, 8000), (12000.0, 8000), (20000.0, 44100), (8000.0, 8000)]]
    return run_cases("alias_frequency", fn, cases,
                     hint="subtract the nearest multiple of sr, then take the absolute value (a 5 kHz tone at 8 kHz is heard at 3 kHz)")


# ---- Exercise "pcm16_to_float"


@register("pcm16_to_float", 1, "16-bit PCM to floating point")
def grade_pcm16_to_float(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(samples int16 (N,))`` -> float32 ``(N,)`` against :func:`audiomap_lib.io.pcm_to_float`."""
    from ..io import pcm_to_float

    extremes = np.array([-32768, -1, 0, 1, 32767], dtype=np.int16)
    rng = np.random.default_rng(1)
    noise = rng.integers(-32768, 32768, size=50).astype(np.int16)
    cases = [Case("the extremes", (extremes,), expected=pcm_to_float(extremes)),
             Case("random samples", (noise,), expected=pcm_to_float(noise))]

    def compare(expected: torch.Tensor, got: object) -> str | None:
        if not isinstance(got, torch.Tensor) or got.dtype != torch.float32:
            return f"expected a float32 tensor, got {type(got).__name__} {getattr(got, 'dtype', '')}"
        if got.shape != expected.shape or not torch.allclose(got, expected, rtol=0, atol=1e-7):
            return f"values differ: expected {expected[:5].tolist()}, got {got[:5].tolist()}"
        return None

    return run_cases("pcm16_to_float", fn, cases, compare=compare,
                     hint="divide by 32768 (2**15), not 32767: then -32768 maps to exactly -1 and nothing reaches +1")


# ---- Exercise "quantize"


@register("quantize", 1, "uniform quantisation to a number of bits")
def grade_quantize(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x (N,), bits)`` against :func:`audiomap_lib.digital.quantize_uniform`."""
    from ..digital import quantize_uniform

    x = torch.linspace(-1.0, 1.0, 41)
    cases = [Case(f"{b} bits", (x, b), expected=quantize_uniform(x, b)) for b in (1, 2, 3, 8)]
    return run_cases("quantize", fn, cases,
                     hint="2**bits levels, step 2 / 2**bits; +1.0 has no level of its own (as in integer PCM): clamp to 1 - step")


# ---- Exercise "quantization_snr_db"


@register("quantization_snr_db", 1, "the quantisation SNR of a full-scale sine")
def grade_quantization_snr_db(fn: Callable[..., float]) -> ExerciseResult:
    """Grade ``fn(bits)`` -> dB against :func:`audiomap_lib.digital.compute_expected_quantization_snr_db`."""
    from ..digital import compute_expected_quantization_snr_db

    cases = [Case(f"{b} bits", (b,), expected=compute_expected_quantization_snr_db(b)) for b in (1, 8, 16, 24)]
    return run_cases("quantization_snr_db", fn, cases,
                     hint="signal power 1/2 (a full-scale sine), noise power step**2 / 12 with step = 2 / 2**bits")


# ---- Exercise "mu_law_compress"


@register("mu_law_compress", 1, "the mu-law compressor (before the codes)")
def grade_mu_law_compress(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x (N,), mu=255)`` -> ``(N,)`` in [-1, 1]; rounded to codes, the solution gives
    :func:`audiomap_lib.digital.encode_mu_law` (tests/test_exercises.py checks it)."""
    x = torch.linspace(-1.0, 1.0, 101, dtype=torch.float64)
    small = torch.tensor([-0.01, -0.001, 0.0, 0.001, 0.01], dtype=torch.float64)
    cases = [Case("the full range, mu = 255", (x,), expected=torch.sign(x) * torch.log1p(255 * x.abs()) / math.log1p(255)),
             Case("quiet samples", (small,), expected=torch.sign(small) * torch.log1p(255 * small.abs()) / math.log1p(255)),
             Case("mu = 15", (x, 15), expected=torch.sign(x) * torch.log1p(15 * x.abs()) / math.log1p(15))]

    return run_cases("mu_law_compress", fn, cases,
                     hint="log1p(mu * |x|) / log1p(mu), with the sign of x put back")
