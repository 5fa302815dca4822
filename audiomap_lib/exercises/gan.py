"""Chapter 7 (WaveGAN): exercises with automatic checks and worked solutions."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .core import Case, ExerciseResult, _rand, register, run_cases

__all__ = [
    "grade_transpose_length",
    "grade_zero_stuffing",
    "grade_phase_shuffle_one",
    "grade_gradient_penalty",
    "grade_inception_score",
]


# ---- Exercise "transpose_length"


@register("transpose_length", 7, "the output length of a transposed convolution")
def grade_transpose_length(fn: Callable[..., int]) -> ExerciseResult:
    """Grade ``fn(length, kernel, stride, padding=0, output_padding=0)`` against ``nn.ConvTranspose1d``."""
    cases = []
    for length, k, s, p, op in [(16, 25, 4, 11, 1), (3, 4, 2, 0, 0), (10, 5, 1, 2, 0), (7, 3, 3, 1, 2), (1, 25, 4, 11, 1)]:
        out = F.conv_transpose1d(torch.zeros(1, 1, length), torch.zeros(1, 1, k), stride=s, padding=p, output_padding=op)
        cases.append(Case(f"L={length}, K={k}, stride={s}, padding={p}, output_padding={op}", (length, k, s, p, op),
                          expected=out.shape[-1]))
    return run_cases("transpose_length", fn, cases,
                     hint="the full output is (L - 1) * stride + kernel samples long; padding removes samples at both ends")


# ---- Exercise "zero_stuffing"


@register("zero_stuffing", 7, "the zero-stuffing inside a transposed convolution")
def grade_zero_stuffing(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x, stride)``; with it, a true convolution gives ``F.conv_transpose1d`` (the chapter shows how)."""
    x = _rand(2, 3, 5, seed=1)
    cases = [Case("stride 1 changes nothing", (x, 1), expected=x),
             Case("the seed's toy example", (torch.tensor([1.0, 2.0, 3.0]), 2), expected=torch.tensor([1.0, 0.0, 2.0, 0.0, 3.0]))]
    for s in (2, 4):
        stuffed = torch.zeros(2, 3, 4 * s + 1, dtype=torch.float64)
        stuffed[..., ::s] = x
        cases.append(Case(f"stride {s}", (x, s), expected=stuffed))
    return run_cases("zero_stuffing", fn, cases, hint="no zeros after the last sample: the length is (L - 1) * stride + 1")


# ---- Exercise "phase_shuffle_one"


@register("phase_shuffle_one", 7, "phase shuffle of one example, with reflection")
def grade_phase_shuffle_one(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x (channels, T), k)`` against the library's phase shuffle for a fixed shift."""
    x = torch.arange(2 * 8, dtype=torch.float64).view(2, 8)
    cases = [Case(f"shift {k}", (x, k), expected=F.pad(x[None], (2, 2), mode="reflect")[0][:, 2 - k:10 - k])
             for k in (0, 1, -1, 2, -2)]
    return run_cases("phase_shuffle_one", fn, cases,
                     hint="pad by reflection (F.pad(..., mode='reflect') needs a batch axis), then take a window of T samples")


# ---- Exercise "gradient_penalty"


def _penalty_value(critic: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, weight: float) -> torch.Tensor:
    """The library's penalty with real = fake = x, so that x_hat = x whatever eps is drawn."""
    from ..gan.losses import compute_gradient_penalty

    return compute_gradient_penalty(critic, x, x, weight).detach()


@register("gradient_penalty", 7, "WGAN-GP's gradient penalty at given points")
def grade_gradient_penalty(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(critic, x_hat (B, 1, T), weight)`` -> a 0-d tensor."""
    a = _rand(6, seed=3)

    def linear(x: torch.Tensor) -> torch.Tensor:  # gradient a everywhere: penalty weight * (|a| - 1)^2
        return x.flatten(1) @ a

    def curved(x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return torch.tanh(flat @ a) + 0.5 * (flat ** 2).sum(1)

    x = _rand(4, 1, 6, seed=4)
    cases = [Case("a linear critic", (linear, x, 10.0), expected=torch.tensor(10.0 * (float(a.norm()) - 1) ** 2, dtype=torch.float64)),
             Case("a curved critic", (curved, x, 10.0), expected=_penalty_value(curved, x, 10.0)),
             Case("weight 1", (curved, x, 1.0), expected=_penalty_value(curved, x, 1.0))]

    def compare(expected: torch.Tensor, got: object) -> str | None:
        if not isinstance(got, torch.Tensor) or got.ndim != 0:
            return f"expected a 0-d tensor, got {type(got).__name__} {getattr(got, 'shape', '')}"
        if not torch.allclose(got.detach().double(), expected, rtol=1e-6, atol=1e-9):
            return f"expected {float(expected):.6g}, got {float(got.detach()):.6g}"
        return None

    return run_cases("gradient_penalty", fn, cases, compare=compare,
                     hint="the norm is per example, over all of its samples (flatten(1)), then the mean over the batch")


# ---- Exercise "inception_score"


@register("inception_score", 7, "the inception score of a set of predictions")
def grade_inception_score(fn: Callable[..., float]) -> ExerciseResult:
    """Grade ``fn(probabilities (N, K))`` -> a float."""
    from ..gan.scores import compute_inception_score

    k = 4
    spread = torch.softmax(_rand(50, k, seed=5) * 3, dim=1)
    cases = [Case("confident and even", (torch.eye(k).repeat(3, 1),), expected=float(k)),
             Case("all one class", (torch.eye(k)[[1] * 6],), expected=1.0),
             Case("unsure about everything", (torch.full((6, k), 1 / k),), expected=1.0),
             Case("something in between", (spread,), expected=compute_inception_score(spread)[0])]
    return run_cases("inception_score", fn, cases, hint="the marginal p(y) is the mean of the rows; a zero probability adds 0 * log 0 = 0")
