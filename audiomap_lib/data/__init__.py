"""Data: offline corpora built from Debian packages, online data sets, PyTorch Datasets.

Sub-modules (imported on demand):

* :mod:`audiomap_lib.data.manifest`  -- the manifest format shared by every corpus;
* :mod:`audiomap_lib.data.digits`    -- spoken digits built offline from espeak-ng / flite / festival;
* :mod:`audiomap_lib.data.drums`     -- drum one-shots: recorded kits (hydrogen-drumkits, sonic-pi-samples)
  and General MIDI kits rendered with FluidSynth;
* :mod:`audiomap_lib.data.instruments` -- General MIDI instrument notes and melodies rendered with FluidSynth
  (Chapter 8);
* :mod:`audiomap_lib.data.midi`      -- MIDI files written from scratch, rendered with FluidSynth;
* :mod:`audiomap_lib.data.noises`    -- recorded background sounds (sonic-pi-samples) for Chapter 6;
* :mod:`audiomap_lib.data.download`  -- verified, resumable, atomic downloads and safe extraction;
* :mod:`audiomap_lib.data.online`    -- Speech Commands v0.02, SC09 and FSDD;
* :mod:`audiomap_lib.data.datasets`  -- ``Dataset`` classes, a padding collate, one-line source switch.

``python -m audiomap_lib.data build`` builds the offline corpora for the active profile.
"""
from __future__ import annotations

__all__: list[str] = []
