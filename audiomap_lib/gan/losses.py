"""The objectives of Chapter 7: the original GAN loss, the Wasserstein critic and its gradient penalty.

* Original GAN (Goodfellow et al., 2014): the discriminator maximises
  ``log D(x) + log(1 - D(G(z)))``; the generator's "non-saturating" loss is ``-log D(G(z))``.
  :func:`compute_gan_losses` gives both from the discriminator's logits.
* WGAN-GP (Gulrajani et al., 2017), WaveGAN's objective: the critic ``f`` estimates the
  Wasserstein distance ``W = E f(x_real) - E f(x_fake)``; its loss is ``-W`` plus the gradient
  penalty ``lambda E (||grad f(x_hat)||_2 - 1)^2`` at random points ``x_hat`` between real and
  generated clips (:func:`compute_gradient_penalty`); the generator's loss is ``-E f(G(z))``.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..utils import check_real, check_tensor

__all__ = [
    "compute_critic_loss",
    "compute_gan_losses",
    "compute_generator_loss",
    "compute_gradient_penalty",
    "compute_wasserstein_estimate",
]


def compute_wasserstein_estimate(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic's estimate of the Wasserstein distance, ``mean(real) - mean(fake)`` (a 0-d tensor)."""
    real_scores = check_tensor(real_scores, "real_scores", ndim=1, shape="(batch,)")
    fake_scores = check_tensor(fake_scores, "fake_scores", ndim=1, shape="(batch,)")
    return real_scores.mean() - fake_scores.mean()


def compute_gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                             weight: float = 10.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP's penalty ``weight * mean_b (||grad_x f(x_hat_b)||_2 - 1)^2`` (Chapter 7).

    ``x_hat = eps * real + (1 - eps) * fake`` with one ``eps ~ U(0, 1)`` per example. The
    gradient is taken with ``create_graph=True``, so the penalty itself can be back-propagated
    into the critic's weights (a second backward pass: the expensive part of WGAN-GP).

    Args:
        critic: maps ``(B, 1, T)`` (or SpecGAN's ``(B, 1, H, W)``) to scores ``(B,)``.
        real, fake: ``(B, 1, T)`` or ``(B, 1, H, W)`` batches (``fake`` is detached from its generator here).
        weight: ``lambda`` (10 in the paper).
        generator: draws ``eps``.

    Returns:
        A 0-d tensor.
    """
    real = check_tensor(real, "real", ndim=(3, 4), shape="(batch, 1, time) or (batch, 1, height, width)")
    fake = check_tensor(fake, "fake", ndim=(3, 4), shape="(batch, 1, time) or (batch, 1, height, width)")
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape; got {tuple(real.shape)} and {tuple(fake.shape)}")
    weight = check_real(weight, "weight", 0.0)
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), generator=generator).to(real.device, real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grads.flatten(1).norm(dim=1)
    return weight * ((norms - 1) ** 2).mean()


def compute_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor, penalty: torch.Tensor) -> torch.Tensor:
    """The WGAN-GP critic's loss, ``-(mean(real) - mean(fake)) + penalty``."""
    return -compute_wasserstein_estimate(real_scores, fake_scores) + penalty


def compute_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """The WGAN generator's loss, ``-mean(f(G(z)))``."""
    return -check_tensor(fake_scores, "fake_scores", ndim=1, shape="(batch,)").mean()


def compute_gan_losses(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The original GAN's losses from discriminator logits (``D = sigmoid(logit)``), Chapter 7.

    Returns:
        ``(discriminator_loss, generator_loss_saturating, generator_loss_non_saturating)``:
        ``-[log D(x) + log(1 - D(G(z)))]``, ``log(1 - D(G(z)))`` (the minimax form, whose gradient
        vanishes when the discriminator wins) and ``-log D(G(z))`` (the form used in practice), as
        means over the batch.
    """
    real_logits = check_tensor(real_logits, "real_logits", ndim=1, shape="(batch,)")
    fake_logits = check_tensor(fake_logits, "fake_logits", ndim=1, shape="(batch,)")
    d_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) \
        + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    saturating = -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # log(1 - D)
    non_saturating = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))  # -log D
    return d_loss, saturating, non_saturating
