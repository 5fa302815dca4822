"""The sample rate travels from the manifest to the model, and fit / predict refuse a mismatch (Chapter 6)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from audiomap_lib import augment, cnn, models, training
from audiomap_lib.data.datasets import AudioClipDataset, get_sample_rate_hz, make_loader
from audiomap_lib.data.manifest import compute_sha256, write_manifest

LABELS = ("zero", "one")


def _corpus(root: Path, rates: tuple[int, ...]) -> Path:
    """Two clips per split, the i-th clip written (and listed) at rates[i % len(rates)]."""
    rows = []
    rng = np.random.default_rng(0)
    for i, (split, label) in enumerate([(s, lab) for s in ("train", "validation", "test") for lab in LABELS]):
        sr = rates[i % len(rates)]
        rel = f"clips/{split}_{label}.wav"
        (root / "clips").mkdir(parents=True, exist_ok=True)
        sf.write(root / rel, (0.3 * rng.standard_normal(sr // 2)).astype(np.float32), sr, subtype="PCM_16")
        rows.append({"path": rel, "label": label, "split": split, "speaker": f"s{i}", "family": "test",
                     "source": "unit-test", "sr": sr, "samples": sr // 2, "sha256": compute_sha256(root / rel),
                     "licence": "CC0-1.0", "detail": ""})
    return write_manifest(root / "manifest.csv", rows)


def test_datasets_and_loaders_report_the_manifest_rate(tmp_path) -> None:
    manifest = _corpus(tmp_path, (8000,))
    ds = AudioClipDataset(manifest, "train", labels=LABELS)
    assert ds.sample_rate_hz == 8000 and ds[0][0].shape == (1, 4000)
    loader = make_loader(ds, 2, shuffle=False, seed=0)
    assert loader.sample_rate_hz == 8000
    subset_loader = make_loader(torch.utils.data.Subset(ds, [0]), 1, shuffle=False, seed=0)
    assert subset_loader.sample_rate_hz == 8000 == get_sample_rate_hz(torch.utils.data.Subset(ds, [1]))
    assert make_loader([(torch.zeros(1, 10), 0)], 1, shuffle=False, seed=0).sample_rate_hz is None


def test_rows_that_disagree_on_the_rate_are_an_error(tmp_path) -> None:
    manifest = _corpus(tmp_path, (8000, 16000))
    with pytest.raises(ValueError, match=r"several sample rates \[8000, 16000\]"):
        AudioClipDataset(manifest, "train", labels=LABELS)
    with pytest.raises(ValueError, match="sr=8000"):
        AudioClipDataset(manifest, "train", labels=LABELS, sr=8000)


def test_fit_and_predict_refuse_8k_clips_for_a_16k_model(tmp_path) -> None:
    manifest = _corpus(tmp_path, (8000,))
    sets = {s: AudioClipDataset(manifest, s, labels=LABELS) for s in ("train", "validation")}
    train = make_loader(sets["train"], 2, shuffle=True, seed=0)
    val = make_loader(sets["validation"], 2, shuffle=False, seed=0)
    model = cnn.RawAudioCNN("m3", n_classes=2, channels=4, input_sr=16000)
    with pytest.raises(ValueError, match=r"train_loader delivers audio at 8000 Hz but the model expects 16000 Hz"):
        training.fit(model, train, val, epochs=1, device="cpu", progress=False, verbose=False)
    with pytest.raises(ValueError, match=r"8000 Hz .* 16000 Hz"):
        training.predict(model, val, device="cpu")
    gru = models.RecurrentClassifier(n_classes=2, hidden=4, sr=16000)
    with pytest.raises(ValueError, match=r"8000 Hz .* 16000 Hz"):
        training.predict(gru, val, device="cpu")
    right = cnn.RawAudioCNN("m3", n_classes=2, channels=4, input_sr=train.sample_rate_hz)
    with pytest.raises(ValueError, match=r"augment delivers audio at 16000 Hz but the model expects 8000 Hz"):
        training.fit(right, train, val, epochs=1, augment=augment.WaveformAugment(sr=16000), device="cpu",
                     progress=False, verbose=False)
    h = training.fit(right, train, val, epochs=1, augment=augment.WaveformAugment(sr=8000), device="cpu",
                     progress=False, verbose=False)
    assert h.epochs == 1


def test_models_and_augmentations_are_built_with_a_rate() -> None:
    assert cnn.RawAudioCNN("m3", channels=4, input_sr=8000).sample_rate_hz == 8000
    assert cnn.LogMelCNN1d(channels=4, input_sr=22050).sample_rate_hz == 22050
    assert models.RecurrentClassifier(hidden=4, sr=8000).sample_rate_hz == 8000
    assert models.LogMelFrontEnd(sr=8000).sample_rate_hz == 8000
    assert augment.WaveformAugment(sr=8000).sample_rate_hz == 8000
    with pytest.raises(TypeError):
        cnn.RawAudioCNN("m3")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        augment.WaveformAugment()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        augment.change_speed(torch.zeros(100), 1.1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="sr="):
        models.RecurrentClassifier(hidden=4)
    with pytest.raises(ValueError, match="differs from front_end.sr"):
        models.RecurrentClassifier(hidden=4, front_end=models.LogMelFrontEnd(sr=16000), sr=8000)
