"""Chapter 7: the worked solutions of the exercises graded in :mod:`audiomap_lib.exercises.gan` (teacher edition only)."""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "solution_transpose_length",
    "solution_zero_stuffing",
    "solution_phase_shuffle_one",
    "solution_gradient_penalty",
    "solution_inception_score",
]


def solution_transpose_length(length: int, kernel: int, stride: int, padding: int = 0, output_padding: int = 0) -> int:
    """Output length of a transposed convolution."""
    return (length - 1) * stride - 2 * padding + kernel + output_padding


def solution_zero_stuffing(x: torch.Tensor, stride: int) -> torch.Tensor:
    """Put stride - 1 zeros between neighbouring samples of x (..., L): length (L - 1) * stride + 1."""
    out = x.new_zeros(*x.shape[:-1], (x.shape[-1] - 1) * stride + 1)
    out[..., ::stride] = x
    return out


def solution_phase_shuffle_one(x: torch.Tensor, k: int) -> torch.Tensor:
    """Shift x (channels, T) by k samples (out[:, t] = x[:, t - k]), mirroring the signal at the ends."""
    r = abs(k)
    padded = F.pad(x[None], (r, r), mode="reflect")[0]
    return padded[:, r - k:r - k + x.shape[-1]]


def solution_gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], x_hat: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """weight * mean over the batch of (||grad critic(x_hat)||_2 - 1)^2, differentiable (create_graph)."""
    x_hat = x_hat.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return weight * ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()


def solution_inception_score(probabilities: torch.Tensor) -> float:
    """exp(mean over clips of KL(p(y|x) || p(y))) for softmax outputs (N, K)."""
    p = probabilities.double()
    marginal = p.mean(0, keepdim=True)
    kl = (p * (torch.log(p.clamp_min(1e-12)) - torch.log(marginal.clamp_min(1e-12)))).sum(1)
    return math.exp(float(kl.mean()))
