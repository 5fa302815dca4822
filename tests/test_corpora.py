"""The offline corpora (spoken digits, drum hits) built in the quick profile."""
from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest
import soundfile as sf

from audiomap_lib.data.manifest import SPLITS, compute_sha256, read_manifest

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("flite") is None or shutil.which("festival") is None,
    reason="the Debian voices are not installed (sudo apt-get install espeak-ng flite festival festvox-*)",
)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    from audiomap_lib.data.digits import build_spoken_digits
    from audiomap_lib.data.drums import build_drum_hits

    root = tmp_path_factory.mktemp("corpora")
    return {
        "digits": build_spoken_digits(profile="quick", root=root / "digits"),
        "drums": build_drum_hits(profile="quick", root=root / "drums"),
    }


@pytest.mark.parametrize("name, length", [("digits", 16000), ("drums", 16384)])
def test_clips_are_16k_mono_fixed_length_and_match_manifest(corpora, name, length):
    rows = read_manifest(corpora[name])
    assert len(rows) >= 150
    for row in rows:
        data, sr = sf.read(row["file"], dtype="float32", always_2d=True)
        assert sr == row["sr"] == 16000
        assert data.shape == (length, 1) and row["samples"] == length
        peak = float(np.abs(data).max())
        assert 0.5 < peak <= 1.0, f"{row['path']} peak {peak}"
        assert float(np.sqrt((data**2).mean())) > 1e-3
        assert compute_sha256(row["file"]) == row["sha256"]
        assert row["split"] in SPLITS


def _check_splits(rows, labels):
    by_split = {s: {r["speaker"] for r in rows if r["split"] == s} for s in SPLITS}
    assert all(by_split.values()), "every split holds clips"
    assert not by_split["train"] & by_split["validation"]
    assert not by_split["train"] & by_split["test"]
    assert not by_split["validation"] & by_split["test"]
    assert {r["label"] for r in rows} <= set(labels)
    assert {r["label"] for r in rows if r["split"] == "train"} == set(labels)


def test_digit_labels_and_splits(corpora):
    from audiomap_lib.data.digits import DIGITS

    rows = read_manifest(corpora["digits"])
    _check_splits(rows, DIGITS)
    assert {r["family"] for r in rows} == {"espeak", "flite", "festival"}
    test_families = {r["family"] for r in rows if r["split"] == "test"}
    assert "espeak" in test_families and test_families & {"flite", "festival"}
    # one person, one split: flite kal / kal16 and festival kal_diphone are all speaker "kal"
    kal_sources = {r["source"] for r in rows if r["speaker"] == "kal"}
    assert kal_sources == {"flite", "festival"}
    assert {r["split"] for r in rows if r["speaker"] in ("rms", "ked")} == {"test"}
    assert all(r["path"].startswith(r["label"] + "/") for r in rows)


def test_drum_labels_splits_and_licences(corpora):
    from audiomap_lib.data.drums import DRUM_LABELS

    rows = read_manifest(corpora["drums"])
    _check_splits(rows, DRUM_LABELS)
    assert {r["family"] for r in rows} == {"hydrogen", "sonic-pi", "fluidsynth"}
    assert all(r["licence"].strip() for r in rows)
    cropped = [r for r in rows if "cropped from" in r["detail"]]
    assert cropped, "long cymbal tails are cropped and say so"


def test_rendered_gm_kits_are_train_only_labelled_and_not_near_duplicates(corpora):
    """The FluidSynth kits: every SoundFont and label is there, only in train, and no two hits of one key
    and velocity are near-copies (SoundFonts share samples between kits)."""
    import soundfile as sf

    from audiomap_lib.data.drums import DRUM_LABELS, GM_KITS, NEAR_DUPLICATE_COSINE
    from audiomap_lib.data.midi import list_soundfonts

    rows = [r for r in read_manifest(corpora["drums"]) if r["family"] == "fluidsynth"]
    assert {r["split"] for r in rows} == {"train"}
    assert {r["label"] for r in rows} == set(DRUM_LABELS)
    fonts = {r["speaker"].split("-")[1] for r in rows}
    assert fonts == set(list_soundfonts())
    assert {r["speaker"].split("-", 2)[2] for r in rows} == set(GM_KITS.values())
    licences = {r["speaker"].split("-")[1]: r["licence"] for r in rows}
    assert licences["TimGM6mb"].startswith("GPL-2") and licences["FluidR3_GM"].startswith("MIT")
    groups: dict[str, list[np.ndarray]] = {}
    for r in rows:
        key = r["detail"].split("(instrument ")[1].split(", program")[0]  # "GM name (key k, velocity v"
        x, sr = sf.read(corpora["drums"].parent / r["path"], dtype="float32")
        assert sr == 16000 and x.shape == (16384,) and abs(np.abs(x).max() - 0.9) < 1e-3
        groups.setdefault(key, []).append(x / np.linalg.norm(x))
    for key, clips in groups.items():
        m = np.stack(clips)
        sim = m @ m.T - 2 * np.eye(len(m))
        assert sim.max() <= NEAR_DUPLICATE_COSINE + 1e-3, key
    report = json.loads((corpora["drums"].parent / "build_report.json").read_text())
    gm_skipped = [s for s in report["skipped"] if " key " in s["file"] and " velocity " in s["file"]]
    assert report["gm_near_duplicates"] == sum(s["reason"].startswith("nearly identical") for s in gm_skipped) > 0
    assert report["gm_rendered"] == len(rows) + len(gm_skipped)  # every rendered hit is kept or accounted for


def test_build_reports_list_what_was_skipped(corpora):
    for name in ("digits", "drums"):
        report = json.loads((corpora[name].parent / "build_report.json").read_text())
        assert report["skipped_count"] == len(report["skipped"])
        assert all({"reason"} <= set(item) for item in report["skipped"])
        assert report["clips"] == len(read_manifest(corpora[name]))
    drums = json.loads((corpora["drums"].parent / "build_report.json").read_text())
    assert drums["left_out_count"] > 0  # claps, cowbells, djembes... are not drum classes here


def test_second_call_returns_cached_manifest(corpora):
    from audiomap_lib.data.digits import build_spoken_digits
    from audiomap_lib.data.drums import build_drum_hits

    for name, builder in (("digits", build_spoken_digits), ("drums", build_drum_hits)):
        before = corpora[name].stat().st_mtime_ns
        start = time.perf_counter()
        again = builder(profile="quick", root=corpora[name].parent)
        assert again == corpora[name]
        assert time.perf_counter() - start < 0.5
        assert again.stat().st_mtime_ns == before
    assert not list(corpora["digits"].parent.parent.glob(".*building*")), "no half-built folder is left"


def test_list_voices_finds_all_families():
    from audiomap_lib.data.digits import list_voices

    voices = list_voices()
    families = {v["family"] for v in voices}
    assert families == {"espeak", "flite", "festival"}
    speakers = {v["speaker"] for v in voices if v["family"] != "espeak"}
    assert speakers == {"kal", "slt", "awb", "rms", "ked"}
    espeak = [v for v in voices if v["family"] == "espeak"]
    assert len({v["speaker"].split("+")[0] for v in espeak}) >= 5  # accents
    assert all(v["voice"].startswith("gmw/") for v in espeak)  # no mbrola voices


def test_drum_instrument_names_map_to_labels():
    from audiomap_lib.data.drums import label_instrument

    assert label_instrument("Kick (Tama Superstar 22\")") == "kick"
    assert label_instrument("Hi-Hat Open (Paiste Alpha Metal edge 14\")") == "hihat"
    assert label_instrument("Ride (Custom, Zagrebin 22\")") == "cymbal"
    assert label_instrument("drum_cymbal_closed") == "hihat"
    assert label_instrument("drum_tom_mid_hard") == "tom"
    assert label_instrument("sn_dub") == "snare"
    assert label_instrument("Hand Clap") is None
    assert label_instrument("Snare Roll") is None


@pytest.mark.parametrize("builder_name", ["build_spoken_digits", "build_drum_hits"])
def test_unknown_profile_is_refused(tmp_path, builder_name):
    from audiomap_lib.data import digits, drums

    builder = getattr(digits, builder_name, None) or getattr(drums, builder_name)
    with pytest.raises(ValueError, match="profile"):
        builder(profile="huge", root=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_cli_builds_only_what_is_asked(tmp_path, capsys):
    from audiomap_lib.data.__main__ import main

    assert main(["build", "--profile", "quick", "--root", str(tmp_path), "--only", "drums"]) == 0
    out = capsys.readouterr().out
    assert "drums:" in out and "train" in out and "digits:" not in out
    assert (tmp_path / "drums" / "manifest.csv").is_file() and not (tmp_path / "digits").exists()
