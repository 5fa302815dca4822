"""Generative models of sound (Chapter 7: WaveGAN).

=====================  ===========================================================================
module                 what it holds
=====================  ===========================================================================
``gan.models``         WaveGAN's generator and critic, phase shuffle, the latent prior
``gan.losses``         the original GAN losses, the Wasserstein estimate, the gradient penalty
``gan.scores``         inception score, Fréchet distance, nearest-neighbour distances, class histogram;
                       the drum classifier that scores drums, and every score of a generator at once
``gan.data``           training clips from the course's corpora, at the generator's rate and length
``gan.specgan``        SpecGAN: spectrogram images and back (Griffin-Lim), its 2-D generator and critic
``gan.runs``           trained models on disk: a run's generator, the shipped model, the longest run
``python -m ...gan``   the long-run command (``train``, resumable; ``score``)
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
from .runs import PRETRAINED_DIR, find_longest_run, generate_clips, load_generator, save_generator
from .scores import (
    GAN_SCORER_TASKS,
    compute_class_histogram,
    compute_frechet_distance,
    compute_gan_scores,
    compute_inception_score,
    compute_mean_spectrum_db,
    compute_nearest_neighbour_distances,
    compute_spectral_features,
    compute_tone_level_db,
    get_drum_classifier,
    get_gan_scorer,
)
from .specgan import SpecGANCritic, SpecGANGenerator, SpectrogramCodec

__all__ = [
    "PRETRAINED_DIR",
    "UPSAMPLE_MODES",
    "SpecGANCritic",
    "SpecGANGenerator",
    "SpectrogramCodec",
    "WaveGANCritic",
    "WaveGANGenerator",
    "apply_phase_shuffle",
    "compute_class_histogram",
    "compute_critic_loss",
    "compute_frechet_distance",
    "compute_gan_scores",
    "compute_gan_losses",
    "compute_generator_loss",
    "compute_gradient_penalty",
    "compute_inception_score",
    "compute_nearest_neighbour_distances",
    "compute_mean_spectrum_db",
    "compute_spectral_features",
    "compute_tone_level_db",
    "compute_wasserstein_estimate",
    "find_longest_run",
    "generate_clips",
    "GAN_SCORER_TASKS",
    "get_drum_classifier",
    "get_gan_scorer",
    "load_generator",
    "make_latents",
    "save_generator",
]
