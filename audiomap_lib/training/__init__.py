"""Training: the course's trainers and what they share (Chapters 4-8).

===================================  ==================================================  =========
module                               what it holds                                       chapter
===================================  ==================================================  =========
``training.core``                    device, progress bar, timing, :class:`History` of   all
                                     named metrics, atomic checkpoints and training
                                     states that resume exactly, the sample-rate check
``training.metrics``                 accuracy, confusion matrix, per-class / per-group   4-6
``training.classifier``              :func:`fit` and :func:`predict` for classifiers     4-6
``training.seeds``                   :class:`Spread` of a measurement over seeds, what   4-7
                                     it allows one to claim, a bootstrap interval
``training.wgan``                    :func:`~audiomap_lib.training.wgan.train_wgan_gp`,  7
                                     WaveGAN's trainer: critic and generator steps, the
                                     gradient penalty, exact resume
===================================  ==================================================  =========

Room is kept beside them for the input optimisation of Chapter 8, built from
``training.core`` in the same way:

* ``training.optimise`` -- the input optimisation of Chapter 8 (spectrogram style transfer):
  gradient descent on the input of a fixed network, such as the classifier of
  :mod:`audiomap_lib.hub`.

The plots of a :class:`History` and of a confusion matrix are in :mod:`audiomap_lib.plots`
(:func:`~audiomap_lib.plots.plot_history`, :func:`~audiomap_lib.plots.plot_confusion_matrix`).
Everything listed in ``__all__`` is importable from here: ``from audiomap_lib.training import
fit, predict, History``.
"""
from __future__ import annotations

from .classifier import SCHEDULES, fit, predict
from .core import (
    History,
    Stopwatch,
    check_sample_rates,
    clip_gradient_norm,
    count_parameters,
    get_rng_states,
    is_progress_enabled,
    load_checkpoint,
    load_training_state,
    make_progress_bar,
    resolve_device,
    save_checkpoint,
    save_training_state,
    set_rng_states,
)
from .metrics import (
    compute_accuracy,
    compute_confusion_matrix,
    compute_group_accuracy,
    compute_per_class_accuracy,
)
from .seeds import (
    Spread,
    compute_bootstrap_interval,
    compute_sign_test_p,
    compute_spread,
    find_study_record,
    is_always_above,
    read_study_record,
    run_over_seeds,
    spreads_overlap,
    write_study_record,
)

__all__ = [
    "SCHEDULES",
    "History",
    "Spread",
    "Stopwatch",
    "check_sample_rates",
    "clip_gradient_norm",
    "compute_accuracy",
    "compute_bootstrap_interval",
    "compute_confusion_matrix",
    "compute_group_accuracy",
    "compute_per_class_accuracy",
    "compute_sign_test_p",
    "compute_spread",
    "find_study_record",
    "read_study_record",
    "count_parameters",
    "fit",
    "is_always_above",
    "get_rng_states",
    "is_progress_enabled",
    "load_checkpoint",
    "load_training_state",
    "make_progress_bar",
    "predict",
    "resolve_device",
    "run_over_seeds",
    "save_checkpoint",
    "save_training_state",
    "set_rng_states",
    "spreads_overlap",
    "write_study_record",
]
