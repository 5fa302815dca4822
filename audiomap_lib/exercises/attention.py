"""Chapter 5 (Attention): exercises with automatic checks and worked solutions."""
from __future__ import annotations

import math
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
    "solution_masked_softmax",
    "solution_dot_product_attention",
    "solution_additive_scores",
    "solution_masked_mean",
    "solution_causal_mask",
]


def _mask(lengths: list[int], t: int) -> torch.Tensor:
    return torch.arange(t) < torch.tensor(lengths).unsqueeze(-1)


# ---- Exercise "masked_softmax"


def solution_masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis; positions where mask is False get weight 0."""
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


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


@register("masked_softmax", 5, solution_masked_softmax, "softmax that ignores padding")
def grade_masked_softmax(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(scores (B, T), mask (B, T) bool)`` -> weights ``(B, T)``."""
    return run_cases("masked_softmax", fn, _softmax_cases(),
                     hint="set masked scores to -inf before the softmax (masked_fill); multiplying the "
                          "weights by the mask afterwards leaves rows that no longer sum to 1.")


# ---- Exercise "dot_product_attention"


def solution_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d)) V for q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return torch.softmax(scores, dim=-1) @ v


def _sdpa_cases() -> list[Case]:
    cases = []
    for label, shape_q, shape_k, dv, seed in [("one query", (1, 4), (6, 4), 3, 3), ("batch of heads", (2, 3, 5, 8), (2, 3, 7, 8), 6, 4),
                                               ("large d", (2, 4, 64), (2, 9, 64), 5, 5)]:
        q, k = _rand(*shape_q, seed=seed), _rand(*shape_k, seed=seed + 1)
        v = _rand(*shape_k[:-1], dv, seed=seed + 2)
        cases.append(Case(label, (q, k, v), expected=F.scaled_dot_product_attention(q, k, v)))
    return cases


@register("dot_product_attention", 5, solution_dot_product_attention, "scaled dot-product attention")
def grade_dot_product_attention(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(q, k, v)`` against ``torch.nn.functional.scaled_dot_product_attention``."""
    return run_cases("dot_product_attention", fn, _sdpa_cases(),
                     hint="transpose only the last two axes of k (k.transpose(-2, -1)) and divide by sqrt(d), "
                          "d = q.shape[-1]; the softmax runs over the keys (last axis).")


# ---- Exercise "additive_scores"


def solution_additive_scores(query: torch.Tensor, keys: torch.Tensor, w_q: torch.Tensor, w_k: torch.Tensor,
                             v: torch.Tensor) -> torch.Tensor:
    """e_j = v^T tanh(W_q s + W_k h_j) for query (B, dq), keys (B, T, dk) -> (B, T)."""
    return torch.tanh((query @ w_q.T).unsqueeze(1) + keys @ w_k.T) @ v


def _additive_cases() -> list[Case]:
    cases = []
    for label, b, t, dq, dk, da, seed in [("one clip", 1, 4, 2, 3, 5, 6), ("a batch", 3, 7, 4, 4, 8, 7)]:
        q, keys = _rand(b, dq, seed=seed), _rand(b, t, dk, seed=seed + 1)
        w_q, w_k, v = _rand(da, dq, seed=seed + 2), _rand(da, dk, seed=seed + 3), _rand(da, seed=seed + 4)
        expected = torch.stack([torch.stack([v @ torch.tanh(w_q @ q[i] + w_k @ keys[i, j]) for j in range(t)])
                                for i in range(b)])
        cases.append(Case(label, (q, keys, w_q, w_k, v), expected=expected))
    return cases


@register("additive_scores", 5, solution_additive_scores, "Bahdanau's additive scores")
def grade_additive_scores(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(query, keys, w_q, w_k, v)`` -> scores ``(B, T)`` (computed here with loops)."""
    return run_cases("additive_scores", fn, _additive_cases(),
                     hint="W_q s has shape (B, d_a): add a time axis (unsqueeze(1)) so it adds to every W_k h_j.")


# ---- Exercise "masked_mean": mean pooling over real frames


def solution_masked_mean(states: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Average of states (B, T, H) over each clip's first lengths[b] steps -> (B, H)."""
    mask = (torch.arange(states.shape[1]) < lengths.unsqueeze(-1)).to(states.dtype)
    return (states * mask.unsqueeze(-1)).sum(1) / lengths.unsqueeze(-1).to(states.dtype)


def _mean_cases() -> list[Case]:
    s = _rand(3, 6, 2, seed=8)
    lengths = torch.tensor([6, 2, 4])
    return [
        Case("no padding", (s, torch.full((3,), 6)), expected=s.mean(1)),
        Case("padded clips", (s, lengths), expected=torch.stack([s[b, :n].mean(0) for b, n in enumerate(lengths.tolist())])),
    ]


@register("masked_mean", 5, solution_masked_mean, "mean pooling over real frames")
def grade_masked_mean(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(states (B, T, H), lengths (B,))`` -> ``(B, H)``."""
    return run_cases("masked_mean", fn, _mean_cases(),
                     hint="zero the padded steps, sum over time, and divide by the number of REAL steps.")


# ---- Exercise "causal_mask": the mask of a Transformer decoder


def solution_causal_mask(length: int) -> torch.Tensor:
    """(length, length) bool: query step i may attend to key steps j <= i."""
    steps = torch.arange(length)
    return steps.unsqueeze(1) >= steps.unsqueeze(0)


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


@register("causal_mask", 5, solution_causal_mask, "the causal mask of a Transformer decoder")
def grade_causal_mask(fn: Callable[[int], torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(length)`` -> ``(length, length)`` boolean lower-triangular mask."""
    return run_cases("causal_mask", fn, _causal_cases(), compare=_compare_bool,
                     hint="row i is the query at step i; it may look at keys 0..i (the diagonal included).")
