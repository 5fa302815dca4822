"""audiomap_lib.data.noises (Chapter 6): recorded background sounds, split for training and test."""
from __future__ import annotations

import math

import pytest
import soundfile as sf
import torch

from audiomap_lib.data import noises
from audiomap_lib.io import load_audio, resample

pytestmark = pytest.mark.skipif(not noises.SONIC_PI_DIR.is_dir(), reason="sonic-pi-samples is not installed")


def test_train_and_test_noises_share_no_recording_and_are_licensed() -> None:
    assert not set(noises.TRAIN_NOISES) & set(noises.TEST_NOISES)
    rows = noises.list_recorded_noises()
    assert [r["name"] for r in rows] == list(noises.TRAIN_NOISES + noises.TEST_NOISES)
    assert all(r["licence"] == "CC0" and r["duration_s"] > 5 for r in rows)  # longer than any 1-s clip


def test_a_recording_is_mono_and_resampled_as_asked() -> None:
    path = noises.SONIC_PI_DIR / "vinyl_hiss.flac"
    info = sf.info(str(path))
    wav = noises.load_recorded_noise("vinyl_hiss", 16000)
    assert wav.ndim == 1 and wav.dtype == torch.float32
    assert wav.shape[0] == math.ceil(info.frames * 16000 / info.samplerate)
    stereo, sr = load_audio(path)
    torch.testing.assert_close(wav, resample(stereo.mean(0), sr, 16000))  # the channels' mean, resampled
    wav[:] = 0
    assert noises.load_recorded_noise("vinyl_hiss", 16000).abs().max() > 0  # the cache hands out copies


def test_bad_names_and_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="name must be one of the recorded noises"):
        noises.load_recorded_noise("rain", 16000)
    with pytest.raises(ValueError, match="sr"):
        noises.load_recorded_noise("vinyl_hiss", 0)
    with pytest.raises(ValueError, match="names must be a non-empty sequence"):
        noises.load_noise_bank("vinyl_hiss", 16000)
    bank = noises.load_noise_bank(noises.TEST_NOISES, 8000)
    assert len(bank) == len(noises.TEST_NOISES) and all(b.ndim == 1 for b in bank)
