"""Generative models of sound (Chapter 7: WaveGAN).

=====================  ===========================================================================
module                 what it holds
=====================  ===========================================================================
``gan.models``         WaveGAN's generator and critic, phase shuffle, the latent prior
``gan.losses``         the original GAN losses, the Wasserstein estimate, the gradient penalty
``gan.scores``         inception score, Fréchet distance, nearest-neighbour distances, class histogram
=====================  ===========================================================================

The transposed convolution built from scratch is :func:`audiomap_lib.conv.conv_transpose1d`
(beside Chapter 3's convolution), and the WGAN-GP trainer is
:func:`audiomap_lib.training.wgan.train_wgan_gp`.
"""
from __future__ import annotations

from .losses import (
    compute_critic_loss,
    compute_gan_losses,
    compute_generator_loss,
    compute_gradient_penalty,
    compute_wasserstein_estimate,
)
from .models import UPSAMPLE_MODES, WaveGANCritic, WaveGANGenerator, apply_phase_shuffle, make_latents
from .scores import (
    compute_class_histogram,
    compute_frechet_distance,
    compute_inception_score,
    compute_nearest_neighbour_distances,
)

__all__ = [
    "UPSAMPLE_MODES",
    "WaveGANCritic",
    "WaveGANGenerator",
    "apply_phase_shuffle",
    "compute_class_histogram",
    "compute_critic_loss",
    "compute_frechet_distance",
    "compute_gan_losses",
    "compute_generator_loss",
    "compute_gradient_penalty",
    "compute_inception_score",
    "compute_nearest_neighbour_distances",
    "compute_wasserstein_estimate",
    "make_latents",
]
