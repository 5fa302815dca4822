"""audiomap_lib: the helper library of the AudioMap course book.

*Everything is a mapping: neural networks for audio, built step by step.*

One module per topic; each chapter imports what earlier chapters built:

===========================  ==========================================  =========
module                       what it holds                               chapter
===========================  ==========================================  =========
``audiomap_lib.utils``       device, seeds, profiles, cache folder       all
``audiomap_lib.io``          read / write / check / shape waveforms      1
``audiomap_lib.signals``     sines, chirps, harmonic tones, noise        1
``audiomap_lib.digital``     sampling, quantisation, mu-law, SNR         1
``audiomap_lib.spectral``    STFT, mel, MFCC, Griffin-Lim, constant-Q    2
``audiomap_lib.plots``       every plot: signals, training, filter banks 1-6
``audiomap_lib.players``     grids of audio players for notebooks        1, 2
``audiomap_lib.widgets``     precomputed sliders and menus (no kernel)   1-3, 6, 8
``audiomap_lib.data``        offline corpora, downloads, Datasets        1+
``audiomap_lib.conv``        conv1d from scratch, FIR filters            3
``audiomap_lib.rnn``         RNN, GRU and LSTM from scratch              4
``audiomap_lib.attention``   masks, additive and dot-product attention   5
``audiomap_lib.models``      log-mel front end, recurrent classifier     4, 5
``audiomap_lib.training``    trainers (package): shared core, resumable  4-8
                             states, metrics, classifier ``fit``,
                             WGAN-GP (7); room for input optimisation (8)
``audiomap_lib.cnn``         raw-waveform CNNs (M3/M5/M11), baselines    6
``audiomap_lib.anatomy``     layer shapes, receptive field, filter banks 6
``audiomap_lib.hub``         saved classifiers (digits, drums): save,    6-8
                             load, predict, probabilities + embeddings
``audiomap_lib.augment``     waveform augmentations                      6
``audiomap_lib.gan``         WaveGAN, losses, scores, runs (package)     7
``audiomap_lib.style``       Gram matrices, style transfer, textures     8
``audiomap_lib.exercises``   exercise checks, one module per chapter     1+
``audiomap_lib.classroom``   student / teacher editions, grading         Teachers
``audiomap_lib.launch``      the first cell on Colab; system packages    Setup
===========================  ==========================================  =========

Sub-modules are imported on demand (``from audiomap_lib import spectral``).
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
