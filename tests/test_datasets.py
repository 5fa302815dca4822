"""AudioClipDataset, pad_collate and make_loader over a tiny manifest written here."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from audiomap_lib.data.datasets import AudioClipDataset, get_datasets, get_digit_datasets, make_loader, pad_collate
from audiomap_lib.data.manifest import compute_sha256, write_manifest

LABELS = ("zero", "one", "two")


def _write_corpus(root: Path, sr_of_file: int = 16000, listed_sr: int | None = None) -> Path:
    """12 clips: 3 labels x 4 speakers (2 train, 1 validation, 1 test), lengths vary."""
    rows = []
    rng = np.random.default_rng(1)
    speakers = {"ann": "train", "bob": "train", "cy": "validation", "dee": "test"}
    for s, (spk, split) in enumerate(speakers.items()):
        for k, label in enumerate(LABELS):
            n = 500 + 37 * k + 11 * s
            rel = f"clips/{label}_{spk}.wav"
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, (0.5 * rng.uniform(-1, 1, n)).astype(np.float32), sr_of_file, subtype="PCM_16")
            rows.append({
                "path": rel, "label": label, "split": split, "speaker": spk, "family": "test-voices",
                "source": "unit-test", "sr": listed_sr or sr_of_file, "samples": n,
                "sha256": compute_sha256(path), "licence": "CC0-1.0", "detail": "",
            })
    return write_manifest(root / "manifest.csv", rows)


@pytest.fixture
def manifest(tmp_path) -> Path:
    return _write_corpus(tmp_path)


def test_dataset_items_and_metadata(manifest):
    ds = AudioClipDataset(manifest, "train", labels=LABELS, sr=16000)
    assert len(ds) == 6 and ds.labels == LABELS
    wav, label = ds[1]
    assert wav.dtype == torch.float32 and wav.shape == (1, ds.rows[1]["samples"])
    assert isinstance(label, int) and LABELS[label] == ds.rows[1]["label"]
    assert {r["speaker"] for r in ds.rows} == {"ann", "bob"}
    assert ds.rows[0]["family"] == "test-voices"
    assert ds.label_counts() == {"zero": 2, "one": 2, "two": 2}
    assert float(wav.abs().max()) <= 1.0


def test_default_labels_are_sorted_over_all_splits(manifest):
    test = AudioClipDataset(manifest, "test")
    assert test.labels == ("one", "two", "zero")
    assert AudioClipDataset(manifest, "train").labels == test.labels


def test_transform_is_applied(manifest):
    ds = AudioClipDataset(manifest, "validation", labels=LABELS, transform=lambda w: w * 0)
    wav, _ = ds[0]
    assert torch.count_nonzero(wav) == 0


def test_wrong_sample_rate_is_refused(manifest, tmp_path):
    with pytest.raises(ValueError, match="sr=8000"):
        AudioClipDataset(manifest, "train", labels=LABELS, sr=8000)
    # a manifest that lies about the rate: caught when the file is read
    other = _write_corpus(tmp_path / "liar", sr_of_file=8000, listed_sr=16000)
    ds = AudioClipDataset(other, "train", labels=LABELS, sr=16000)
    with pytest.raises(ValueError, match="sr=16000"):
        ds[0]


def test_bad_arguments(manifest):
    with pytest.raises(ValueError, match="split"):
        AudioClipDataset(manifest, "dev")
    with pytest.raises(ValueError, match="two"):
        AudioClipDataset(manifest, "train", labels=("zero", "one"))
    with pytest.raises(ValueError, match="distinct"):
        AudioClipDataset(manifest, "train", labels=("zero", "zero", "one", "two"))
    with pytest.raises(ValueError, match="source"):
        get_digit_datasets("timit")


def test_pad_collate_pads_with_zeros_at_the_end():
    a, b = torch.ones(1, 5), torch.full((1, 3), 0.5)
    waves, labels, lengths = pad_collate([(a, 2), (b, 0)])
    assert waves.shape == (2, 1, 5) and waves.dtype == torch.float32
    assert labels.tolist() == [2, 0] and labels.dtype == torch.int64
    assert lengths.tolist() == [5, 3] and lengths.dtype == torch.int64
    assert torch.equal(waves[1, 0, :3], b[0]) and torch.count_nonzero(waves[1, 0, 3:]) == 0
    assert torch.equal(waves[0], a)


def test_pad_collate_errors():
    with pytest.raises(ValueError, match="channel"):
        pad_collate([(torch.zeros(1, 4), 0), (torch.zeros(2, 4), 1)])
    with pytest.raises(ValueError, match="empty"):
        pad_collate([])


def test_loader_batches_and_repeats_with_a_seed(manifest):
    ds = AudioClipDataset(manifest, "train", labels=LABELS, sr=16000)

    def order(seed: int) -> list[int]:
        out = []
        for waves, labels, lengths in make_loader(ds, batch_size=4, shuffle=True, seed=seed):
            assert waves.shape[0] == labels.shape[0] == lengths.shape[0]
            assert waves.shape[1] == 1 and waves.shape[2] == int(lengths.max())
            out.extend(lengths.tolist())  # lengths identify the clips (all differ)
        return out

    first = order(7)
    assert len(first) == len(ds) and len(set(first)) == len(ds)
    assert order(7) == first
    assert any(order(s) != first for s in (8, 9, 10))
    plain = [n for _, _, lengths in make_loader(ds, 4, shuffle=False, seed=0) for n in lengths.tolist()]
    assert plain == [r["samples"] for r in ds.rows]
    with pytest.raises(ValueError, match="batch_size"):
        make_loader(ds, 0, shuffle=False, seed=0)


def test_get_digit_datasets_offline_switch(manifest, monkeypatch):
    from audiomap_lib.data import digits

    calls = []

    def fake_build(profile=None, root=None, force=False):
        calls.append((profile, root))
        return manifest

    monkeypatch.setattr(digits, "build_spoken_digits", fake_build)
    sets = get_digit_datasets("offline", profile="quick", root="somewhere")
    assert calls == [("quick", "somewhere")]
    assert list(sets) == ["train", "validation", "test"]
    assert sets["train"].labels == digits.DIGITS and sets["train"].sr == 16000
    wav, label = sets["validation"][0]
    assert wav.shape == (1, sets["validation"].rows[0]["samples"]) and label in (0, 1, 2)


def test_get_datasets_serves_drums_and_digits(manifest, monkeypatch):
    from audiomap_lib.data import digits, drums

    built = []

    def fake_build(profile=None, root=None, force=False):
        built.append((profile, root))
        return manifest

    monkeypatch.setattr(drums, "build_drum_hits", fake_build)
    monkeypatch.setattr(drums, "DRUM_LABELS", LABELS)  # the tiny corpus's labels stand in for the drums'
    sets = get_datasets("drums", profile="quick", root="kits")
    assert built == [("quick", "kits")] and list(sets) == ["train", "validation", "test"]
    assert sets["test"].labels == LABELS
    monkeypatch.setattr(digits, "build_spoken_digits", fake_build)
    assert get_datasets("digits", "offline", profile="quick")["train"].labels == digits.DIGITS
    with pytest.raises(ValueError, match="corpus must be one of"):
        get_datasets("birds")
    with pytest.raises(ValueError, match="source must be one of \\('offline',\\) for corpus='drums'"):
        get_datasets("drums", "sc09")


@pytest.mark.parametrize(("item", "error", "match"), [
    ((torch.zeros(100, dtype=torch.int16), 1), TypeError, r"batch\[0\]\[0\].*pcm_to_float"),
    ((torch.zeros(100), 3.7), TypeError, r"batch\[0\]\[1\] \(the label\) must be an integer"),
    ((torch.zeros(100), "3"), TypeError, "must be an integer class index"),
    ((torch.zeros(100), True), TypeError, "must be an integer class index"),
    ((torch.zeros(100), -1), ValueError, ">= 0"),
    ((torch.zeros(0), 3), ValueError, "empty"),
    ((torch.zeros(5, dtype=torch.complex64), 3), TypeError, "real floating-point"),
    ((torch.full((5,), float("nan")), 3), ValueError, "NaN"),
    ((torch.zeros(1, 1, 5), 3), ValueError, r"\(channels, samples\)"),
    (("clip.wav", 3), TypeError, "torch.Tensor or numpy array"),
])
def test_pad_collate_refuses_what_it_would_get_wrong(item, error, match):
    with pytest.raises(error, match=match):
        pad_collate([item])


def test_pad_collate_accepts_numpy_labels_and_float64_clips():
    x, y, n = pad_collate([(np.zeros(5, dtype=np.float64), np.int64(2)), (torch.ones(3, dtype=torch.float64), torch.tensor(1))])
    assert x.dtype == torch.float32 and x.shape == (2, 1, 5)
    assert y.tolist() == [2, 1] and n.tolist() == [5, 3]
    assert x[1, 0].tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]
