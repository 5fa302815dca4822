"""Chapter 5: the worked solutions of the exercises graded in :mod:`audiomap_lib.exercises.attention` (teacher edition only)."""
from __future__ import annotations

import math

import torch

from ... import attention

__all__ = [
    "solution_masked_softmax",
    "solution_dot_product_attention",
    "solution_additive_scores",
    "solution_masked_mean",
    "solution_causal_mask",
    "solution_positional_shift",
    "solution_attention_entropy",
]


def solution_masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis; positions where mask is False get weight 0."""
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


def solution_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d)) V for q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return torch.softmax(scores, dim=-1) @ v


def solution_additive_scores(query: torch.Tensor, keys: torch.Tensor, w_q: torch.Tensor, w_k: torch.Tensor,
                             v: torch.Tensor) -> torch.Tensor:
    """e_j = v^T tanh(W_q s + W_k h_j) for query (B, dq), keys (B, T, dk) -> (B, T)."""
    return torch.tanh((query @ w_q.T).unsqueeze(1) + keys @ w_k.T) @ v


def solution_masked_mean(states: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Average of states (B, T, H) over each clip's first lengths[b] steps -> (B, H)."""
    mask = (torch.arange(states.shape[1]) < lengths.unsqueeze(-1)).to(states.dtype)
    return (states * mask.unsqueeze(-1)).sum(1) / lengths.unsqueeze(-1).to(states.dtype)


def solution_causal_mask(length: int) -> torch.Tensor:
    """(length, length) bool: query step i may attend to key steps j <= i."""
    steps = torch.arange(length)
    return steps.unsqueeze(1) >= steps.unsqueeze(0)


def solution_positional_shift(k: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """(d, d) matrix M with PE[t + k] = M @ PE[t] for every t: a 2x2 rotation by k * speed_i per pair
    (sin(a + b) = sin a cos b + cos a sin b, cos(a + b) = cos a cos b - sin a sin b).
    Each pair's speed is read off the encoding at t = 1, PE[1] = (sin w_i, cos w_i), w_i <= 1 rad."""
    at_one = attention.compute_sinusoidal_positions(2, d_model, base, dtype=torch.float64)[1]
    speed = torch.atan2(at_one[0::2], at_one[1::2])
    m = torch.zeros(d_model, d_model, dtype=torch.float64)
    c, s = torch.cos(k * speed), torch.sin(k * speed)
    i = torch.arange(0, d_model, 2)
    m[i, i], m[i, i + 1] = c, s
    m[i + 1, i], m[i + 1, i + 1] = -s, c
    return m


def solution_attention_entropy(weights: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """exp(entropy) of each row of attention weights (B, T) over its real frames -> (B,): from 1
    (all weight on one frame) to the number of real frames (uniform). 0 * log 0 counts as 0."""
    w = weights.double().masked_fill(~mask, 0.0)
    plogp = torch.where(w > 0, w * torch.log(w.clamp_min(1e-300)), torch.zeros_like(w))
    return torch.exp(-plogp.sum(-1))
