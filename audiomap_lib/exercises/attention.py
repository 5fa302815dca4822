"""Chapter 5 (Attention): exercises with automatic checks and worked solutions."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .core import Case, ExerciseResult, _rand, register, run_cases

__all__ = [
    "grade_masked_softmax",
    "grade_dot_product_attention",
    "grade_additive_scores",
    "grade_masked_mean",
    "grade_causal_mask",
    "grade_positional_shift",
    "grade_attention_entropy",
]


def _mask(lengths: list[int], t: int) -> torch.Tensor:
    return torch.arange(t) < torch.tensor(lengths).unsqueeze(-1)


# ---- Exercise "masked_softmax"


def _softmax_cases() -> list[Case]:
    s = _rand(3, 5, seed=1)
    full = torch.ones(3, 5, dtype=torch.bool)
    m = _mask([5, 2, 1], 5)
    big = _rand(2, 4, seed=2) * 1000  # exp() would overflow without care
    return [
        Case("nothing masked", (s, full), expected=torch.softmax(s, -1)),
        Case("padded rows", (s, m), expected=torch.stack([torch.cat([torch.softmax(s[i, :n], -1), s.new_zeros(5 - n)])
                                                         for i, n in enumerate([5, 2, 1])])),
        Case("huge scores", (big, torch.ones(2, 4, dtype=torch.bool)), expected=torch.softmax(big, -1)),
    ]


@register("masked_softmax", 5, "softmax that ignores padding")
def grade_masked_softmax(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(scores (B, T), mask (B, T) bool)`` -> weights ``(B, T)``."""
    return run_cases("masked_softmax", fn, _softmax_cases(),
                     hint="set masked scores to -inf before the softmax (masked_fill); multiplying the "
                          "weights by the mask afterwards leaves rows that no longer sum to 1.")


# ---- Exercise "dot_product_attention"


def _sdpa_cases() -> list[Case]:
    cases = []
    for label, shape_q, shape_k, dv, seed in [("one query", (1, 4), (6, 4), 3, 3), ("batch of heads", (2, 3, 5, 8), (2, 3, 7, 8), 6, 4),
                                               ("large d", (2, 4, 64), (2, 9, 64), 5, 5)]:
        q, k = _rand(*shape_q, seed=seed), _rand(*shape_k, seed=seed + 1)
        v = _rand(*shape_k[:-1], dv, seed=seed + 2)
        cases.append(Case(label, (q, k, v), expected=F.scaled_dot_product_attention(q, k, v)))
    return cases


@register("dot_product_attention", 5, "scaled dot-product attention")
def grade_dot_product_attention(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(q, k, v)`` against ``torch.nn.functional.scaled_dot_product_attention``."""
    return run_cases("dot_product_attention", fn, _sdpa_cases(),
                     hint="transpose only the last two axes of k (k.transpose(-2, -1)) and divide by sqrt(d), "
                          "d = q.shape[-1]; the softmax runs over the keys (last axis).")


# ---- Exercise "additive_scores"


def _additive_cases() -> list[Case]:
    cases = []
    for label, b, t, dq, dk, da, seed in [("one clip", 1, 4, 2, 3, 5, 6), ("a batch", 3, 7, 4, 4, 8, 7)]:
        q, keys = _rand(b, dq, seed=seed), _rand(b, t, dk, seed=seed + 1)
        w_q, w_k, v = _rand(da, dq, seed=seed + 2), _rand(da, dk, seed=seed + 3), _rand(da, seed=seed + 4)
        expected = torch.stack([torch.stack([v @ torch.tanh(w_q @ q[i] + w_k @ keys[i, j]) for j in range(t)])
                                for i in range(b)])
        cases.append(Case(label, (q, keys, w_q, w_k, v), expected=expected))
    return cases


@register("additive_scores", 5, "Bahdanau's additive scores")
def grade_additive_scores(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(query, keys, w_q, w_k, v)`` -> scores ``(B, T)`` (computed here with loops)."""
    return run_cases("additive_scores", fn, _additive_cases(),
                     hint="W_q s has shape (B, d_a): add a time axis (unsqueeze(1)) so it adds to every W_k h_j.")


# ---- Exercise "masked_mean": mean pooling over real frames


def _mean_cases() -> list[Case]:
    s = _rand(3, 6, 2, seed=8)
    lengths = torch.tensor([6, 2, 4])
    return [
        Case("no padding", (s, torch.full((3,), 6)), expected=s.mean(1)),
        Case("padded clips", (s, lengths), expected=torch.stack([s[b, :n].mean(0) for b, n in enumerate(lengths.tolist())])),
    ]


@register("masked_mean", 5, "mean pooling over real frames")
def grade_masked_mean(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(states (B, T, H), lengths (B,))`` -> ``(B, H)``."""
    return run_cases("masked_mean", fn, _mean_cases(),
                     hint="zero the padded steps, sum over time, and divide by the number of REAL steps.")


# ---- Exercise "causal_mask": the mask of a Transformer decoder


def _causal_cases() -> list[Case]:
    return [Case(f"length {n}", (n,), expected=torch.ones(n, n, dtype=torch.bool).tril()) for n in (1, 3, 8)]


def _compare_bool(expected: torch.Tensor, got: object) -> str | None:
    if not isinstance(got, torch.Tensor):
        return f"expected a tensor, got {type(got).__name__}"
    if got.dtype != torch.bool:
        return f"expected a boolean tensor (True = may attend), got dtype {got.dtype}"
    if got.shape != expected.shape:
        return f"wrong shape: expected {tuple(expected.shape)}, got {tuple(got.shape)}"
    if not torch.equal(got, expected):
        i, j = (got != expected).nonzero()[0].tolist()
        return f"entry [{i}, {j}] should be {bool(expected[i, j])}: query {i} {'may' if expected[i, j] else 'may not'} see key {j}"
    return None


@register("causal_mask", 5, "the causal mask of a Transformer decoder")
def grade_causal_mask(fn: Callable[[int], torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(length)`` -> ``(length, length)`` boolean lower-triangular mask."""
    return run_cases("causal_mask", fn, _causal_cases(), compare=_compare_bool,
                     hint="row i is the query at step i; it may look at keys 0..i (the diagonal included).")


# ---- Exercise "positional_shift": a derivation -- moving k steps is one rotation for every t


def _shift_cases() -> list[Case]:
    return [Case(f"k = {k}, d = {d}", (k, d), expected=(k, d)) for k, d in [(1, 2), (3, 8), (25, 16), (0, 4)]]


def _compare_shift(expected: tuple[int, int], got: object) -> str | None:
    """The defining property on the library's encoding: ``M @ PE[t] == PE[t + k]`` for t = 0 .. 59.

    The 60 encodings span R^d for every d tested, so the property fixes M: no reference matrix is needed.
    """
    from ..attention import compute_sinusoidal_positions

    k, d = expected
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (d, d):
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return f"expected a tensor of shape {(d, d)}, got {shape}"
    if not bool(torch.isfinite(got).all()):
        return "the matrix holds NaN or infinite values"
    pe = compute_sinusoidal_positions(60 + k, d, dtype=torch.float64)
    moved = pe[:60] @ got.double().T
    gap = float((moved - pe[k:k + 60]).abs().max())
    if gap > 1e-8:
        return f"M @ PE[t] differs from PE[t + k] by up to {gap:.3g} (t = 0 .. 59)"
    return None


@register("positional_shift", 5, "derive the rotation that moves a positional encoding")
def grade_positional_shift(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(k, d_model)`` -> ``(d_model, d_model)``: ``M @ PE[t]`` must equal ``PE[t + k]``
    (``attention.compute_sinusoidal_positions``) for every t."""
    return run_cases("positional_shift", fn, _shift_cases(), compare=_compare_shift,
                     hint="columns 2i and 2i+1 are sin and cos of t * speed_i; use the angle-sum formulas "
                          "with b = k * speed_i: each pair gets its own 2x2 block.")


# ---- Exercise "attention_entropy": a measurement -- how many frames does the model read?


def _entropy_cases() -> list[Case]:
    g = torch.Generator().manual_seed(9)
    m = _mask([6, 3], 6)
    w = F.softmax(torch.randn(2, 6, generator=g, dtype=torch.float64).masked_fill(~m, float("-inf")), dim=-1)
    one_hot = torch.zeros(2, 5, dtype=torch.float64)
    one_hot[:, 2] = 1.0
    return [
        Case("uniform over real frames", (torch.tensor([[0.25] * 4 + [0.0] * 2]), _mask([4], 6)), expected=torch.tensor([4.0])),
        Case("all weight on one frame", (one_hot, torch.ones(2, 5, dtype=torch.bool)), expected=torch.ones(2)),
        Case("a padded batch", (w, m), expected=torch.exp(-torch.stack([(w[b, :n] * w[b, :n].log()).sum() for b, n in ((0, 6), (1, 3))]))),
    ]


@register("attention_entropy", 5, "measure how many frames attention reads")
def grade_attention_entropy(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(weights (B, T), mask (B, T))`` -> ``(B,)``, the effective number of frames."""
    return run_cases("attention_entropy", fn, _entropy_cases(),
                     hint="entropy H = -sum w log w over real frames, with 0 log 0 = 0 (no NaN from padding); return exp(H).")
