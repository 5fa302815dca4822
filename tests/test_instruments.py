"""Instrument notes and melodies rendered with FluidSynth (audiomap_lib.data.instruments, Chapter 8): the MIDI
bytes, the pitch and timing of what FluidSynth plays, and the corpus built in the quick profile."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from audiomap_lib.data import instruments
from audiomap_lib.data.instruments import (
    CLIP_SAMPLES,
    INSTRUMENT_LABELS,
    INSTRUMENTS,
    NOTE_S,
    RELEASE_S,
    SAMPLE_RATE,
    build_instrument_notes,
    make_melody_events,
    make_note_events,
    render_melody,
)
from audiomap_lib.data.manifest import SPLITS, compute_sha256, read_manifest
from audiomap_lib.data.midi import SOUNDFONTS, TICKS_PER_SECOND, list_soundfonts, write_midi_file


def _require(*fonts: str) -> None:
    """Skip unless fluidsynth and these SoundFonts are installed."""
    missing = [f for f in fonts if f not in list_soundfonts()]
    if shutil.which("fluidsynth") is None or missing:
        pytest.skip(f"fluidsynth or the SoundFonts {missing} are not installed (sudo apt-get install fluidsynth "
                    f"fluid-soundfont-gm timgm6mb-soundfont)")


def expected_hz(pitch: int) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def estimate_f0(x: np.ndarray, sr: int, fmin_hz: float = 60.0, fmax_hz: float = 2000.0, threshold: float = 0.15) -> float:
    """The fundamental frequency of a steady note, in Hz.

    The period comes from YIN's cumulative mean normalised difference over the whole segment (de Cheveigné and
    Kawahara 2002: the first lag whose dip falls below ``threshold``; robust to a weak second harmonic, as in the
    clarinet); the frequency is then the power-weighted centroid of the spectrum within 4 % of it, so that it is
    the lowest partial's frequency (a piano's stretched upper partials would bias a period) averaged over any
    vibrato (violin, cello).
    """
    x = np.asarray(x, dtype=np.float64)
    lo, hi = int(sr / fmax_hz), int(sr / fmin_hz)
    w = len(x) - hi
    energy = np.cumsum(np.concatenate([[0.0], x**2]))
    d = energy[w] + (energy[w: w + hi + 1] - energy[: hi + 1]) - 2 * np.correlate(x, x[:w], mode="valid")  # lag 0..hi
    cmnd = d[1:] * np.arange(1, hi + 1) / np.maximum(np.cumsum(d[1:]), 1e-12)  # lag 1..hi at index lag - 1
    below = np.nonzero(cmnd[lo - 1:] < threshold)[0]
    tau = lo + int(below[0]) if below.size else lo + int(np.argmin(cmnd[lo - 1:]))
    while tau < hi and cmnd[tau] < cmnd[tau - 1]:  # to the bottom of the dip
        tau += 1
    n_fft = 1 << 17
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)), n_fft)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    band = (freqs > 0.96 * sr / tau) & (freqs < 1.04 * sr / tau)
    return float((freqs[band] * power[band]).sum() / power[band].sum())


def test_f0_estimator_on_known_tones():
    sr, t = SAMPLE_RATE, np.arange(int(0.8 * SAMPLE_RATE)) / SAMPLE_RATE
    odd = sum(np.sin(2 * np.pi * k * 261.63 * t) / k for k in (1, 3, 5, 7))  # clarinet-like: no even partials
    assert estimate_f0(odd, sr) == pytest.approx(261.63, rel=1e-3)
    vibrato = np.sin(2 * np.pi * 440 * t + 0.01 * 440 / 5 * np.sin(2 * np.pi * 5 * t))  # 1 % vibrato at 5 Hz
    assert estimate_f0(vibrato, sr) == pytest.approx(440.0, rel=3e-3)


def test_note_events_are_the_hand_computed_bytes():
    assert make_note_events(69, 80, 40, 0.5, 1.0, channel=2) == [
        (0.5, bytes([0xC2, 40])), (0.5, bytes([0x92, 69, 80])), (1.5, bytes([0x82, 69, 0]))]
    assert make_note_events(np.int64(0), 127, 0, 0, 0.25) == [(0.0, b"\xc0\x00"), (0.0, b"\x90\x00\x7f"), (0.25, b"\x80\x00\x00")]


def _read_midi(data: bytes) -> list[tuple[int, bytes]]:
    """A minimal reader of a format-0 file: (absolute tick, event bytes), meta events included."""
    assert data[:4] == b"MThd" and int.from_bytes(data[8:10], "big") == 0 and data[14:18] == b"MTrk"
    track, i, tick, out = data[22: 22 + int.from_bytes(data[18:22], "big")], 0, 0, []
    while i < len(track):
        delta = 0
        while True:
            byte = track[i]
            i += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        n = 3 + track[i + 2] if track[i] == 0xFF else (2 if track[i] & 0xF0 in (0xC0, 0xD0) else 3)
        out.append((tick, bytes(track[i: i + n])))
        i += n
    return out


def test_melody_round_trips_through_a_midi_file(tmp_path):
    pitches, durations_s = [60, 64, 67, 72], [0.25, 0.5, 0.125, 1.0]
    events = make_melody_events(pitches, durations_s, program=73, velocity=90, channel=3, start_s=0.1)
    read = [(tick, msg) for tick, msg in _read_midi(write_midi_file(tmp_path / "m.mid", events).read_bytes())
            if msg[0] != 0xFF]
    assert read[0] == (round(0.1 * TICKS_PER_SECOND), bytes([0xC3, 73]))
    ons = [(tick, msg[1], msg[2]) for tick, msg in read if msg[0] == 0x93]
    offs = [(tick, msg[1]) for tick, msg in read if msg[0] == 0x83]
    starts_s = 0.1 + np.concatenate([[0.0], np.cumsum(durations_s)[:-1]])
    assert ons == [(round(s * TICKS_PER_SECOND), p, 90) for s, p in zip(starts_s, pitches)]
    assert offs == [(round((s + d) * TICKS_PER_SECOND), p) for s, d, p in zip(starts_s, durations_s, pitches)]
    for (tick, pitch), on in zip(offs[:-1], ons[1:]):  # legato: each note-off comes before the next note-on
        assert tick == on[0]
        assert read.index((tick, bytes([0x83, pitch, 0]))) < read.index((tick, bytes([0x93, on[1], 90])))


def _onsets_s(x: np.ndarray, sr: int, near_s: np.ndarray, n_fft: int = 512, hop: int = 64) -> np.ndarray:
    """Each note's onset: where the log-energy envelope of each frequency band rises most, summed over the bands
    (spectral flux), within 50 ms of each time in ``near_s``; a frame's time is its centre."""
    padded = np.concatenate([np.zeros(n_fft), x])
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop] * np.hanning(n_fft)
    log_energy = np.log(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-12)
    flux = np.maximum(np.diff(log_energy, axis=0), 0).sum(axis=1)  # flux[j]: the rise into frame j + 1
    out = []
    for t in near_s:
        j0, j1 = max(0, int((t - 0.05) * sr / hop)), int((t + 0.05) * sr / hop)
        j = j0 + int(np.argmax(flux[j0:j1]))
        out.append(((j + 1) * hop - n_fft / 2) / sr)
    return np.array(out)


@pytest.mark.parametrize("font, program", [("FluidR3_GM", 0), ("TimGM6mb", 24)])
def test_melody_notes_start_where_asked(font, program):
    _require(font)
    pitches, durations_s = [60, 66, 63, 69, 65], [0.4, 0.3, 0.5, 0.35, 0.6]  # no fundamental a partial of the last note
    wav = render_melody(pitches, durations_s, program, soundfont=font)
    assert wav.dtype == torch.float32 and wav.ndim == 1
    assert wav.shape[0] == round((sum(durations_s) + RELEASE_S) * SAMPLE_RATE)
    starts_s = np.concatenate([[0.0], np.cumsum(durations_s)[:-1]])
    onsets = _onsets_s(wav.numpy().astype(np.float64), SAMPLE_RATE, starts_s)
    assert np.abs(onsets - starts_s).max() < 0.030, (onsets - starts_s) * 1000  # ms
    assert float(wav.abs().max()) > 0.01


@pytest.mark.parametrize("program, pitch", [(0, 57), (56, 69), (71, 76)])
def test_rendered_note_has_its_pitch_at_another_rate(program, pitch):
    _require("TimGM6mb")
    wav = render_melody([pitch], [1.0], program, soundfont="TimGM6mb", sample_rate_hz=16000).numpy()
    assert wav.shape == (round((1.0 + RELEASE_S) * 16000),)
    assert estimate_f0(wav[1600:14400], 16000) == pytest.approx(expected_hz(pitch), rel=0.01)


def test_missing_fluidsynth_or_soundfont_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setitem(SOUNDFONTS, "TimGM6mb", ("/nonexistent/TimGM6mb.sf2", "timgm6mb-soundfont", "GPL-2"))
    with pytest.raises(RuntimeError, match="apt-get install timgm6mb-soundfont"):
        render_melody([60], [0.5], 0, soundfont="TimGM6mb")
    monkeypatch.undo()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    font = next(iter(list_soundfonts().values()), (tmp_path / "x.sf2",))[0]
    if not font.is_file():
        font.write_bytes(b"")
    with pytest.raises(RuntimeError, match="apt-get install fluidsynth"):
        render_melody([60], [0.5], 0, soundfont=font)
    with pytest.raises(RuntimeError, match="apt-get install fluidsynth"):
        build_instrument_notes(profile="quick", root=tmp_path / "none")
    assert not (tmp_path / "none").exists()


BAD_CALLS = [
    (make_note_events, dict(pitch=128, velocity=80, program=0, start_s=0.0, duration_s=1.0), "pitch"),
    (make_note_events, dict(pitch=60.0, velocity=80, program=0, start_s=0.0, duration_s=1.0), "pitch"),
    (make_note_events, dict(pitch=60, velocity=0, program=0, start_s=0.0, duration_s=1.0), "velocity"),
    (make_note_events, dict(pitch=60, velocity=True, program=0, start_s=0.0, duration_s=1.0), "velocity"),
    (make_note_events, dict(pitch=60, velocity=80, program=128, start_s=0.0, duration_s=1.0), "program"),
    (make_note_events, dict(pitch=60, velocity=80, program=0, start_s=-0.1, duration_s=1.0), "start_s"),
    (make_note_events, dict(pitch=60, velocity=80, program=0, start_s=0.0, duration_s=0.0), "duration_s"),
    (make_note_events, dict(pitch=60, velocity=80, program=0, start_s=0.0, duration_s=float("nan")), "duration_s"),
    (make_note_events, dict(pitch=60, velocity=80, program=0, start_s=0.0, duration_s=1.0, channel=9), "drum channel"),
    (make_note_events, dict(pitch=60, velocity=80, program=0, start_s=0.0, duration_s=1.0, channel=16), "channel"),
    (make_melody_events, dict(pitches=[], durations_s=[], program=0), "pitches"),
    (make_melody_events, dict(pitches=[60, 62], durations_s=[0.5], program=0), "durations_s has 1 entries but pitches has 2"),
    (make_melody_events, dict(pitches=[60, -1], durations_s=[0.5, 0.5], program=0), r"pitches\[1\]"),
    (make_melody_events, dict(pitches=[60], durations_s=[-0.5], program=0), r"durations_s\[0\]"),
    (make_melody_events, dict(pitches="C4", durations_s=[0.5], program=0), "pitches"),
    (make_melody_events, dict(pitches=[60], durations_s=[0.5], program=0, start_s=float("inf")), "start_s"),
    (render_melody, dict(pitches=[60], durations_s=[0.5], program=0, soundfont="Nonsense_GM"), "soundfont"),
    (render_melody, dict(pitches=[60], durations_s=[0.5], program=0, soundfont=__file__), "soundfont"),
    (render_melody, dict(pitches=[60], durations_s=[0.5], program=0, sample_rate_hz=0), "sample_rate_hz"),
    (render_melody, dict(pitches=[60], durations_s=[0.5], program=0, velocity=128), "velocity"),
]


@pytest.mark.parametrize("fn, kwargs, match", BAD_CALLS, ids=[f"{fn.__name__}-{m}" for fn, _, m in BAD_CALLS])
def test_bad_arguments_are_refused_by_name(fn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(**kwargs)


def test_unknown_profile_is_refused(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        build_instrument_notes(profile="huge", root=tmp_path / "x")
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------
# the corpus, built once in the quick profile


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    _require("FluidR3_GM", "TimGM6mb")
    return build_instrument_notes(profile="quick", root=tmp_path_factory.mktemp("corpora") / "instruments")


def _note_of(row: dict) -> dict[str, str]:
    return dict(kv.split("=") for kv in str(row["detail"]).split(";")[0].split())


def test_corpus_clips_are_fixed_length_mono_and_match_the_manifest(corpus):
    rows = read_manifest(corpus)
    report = json.loads((corpus.parent / "build_report.json").read_text())
    assert len(rows) + report["skipped_count"] == report["rendered"] == 8 * 4 * 1 * 2  # programs x pitches x velocities x fonts
    assert report["skipped_count"] == len(report["skipped"]) == 0  # both SoundFonts have all eight programs
    assert CLIP_SAMPLES == round(NOTE_S * SAMPLE_RATE) == 44100
    for row in rows:
        data, sr = sf.read(row["file"], dtype="float32", always_2d=True)
        assert sr == row["sr"] == SAMPLE_RATE and data.shape == (CLIP_SAMPLES, 1) and row["samples"] == CLIP_SAMPLES
        assert float(np.abs(data).max()) == pytest.approx(0.9, abs=2e-3)
        assert data[-1, 0] == 0.0  # faded out
        assert compute_sha256(row["file"]) == row["sha256"]
        note = _note_of(row)
        assert row["label"] == INSTRUMENTS[int(note["program"])] and row["path"].startswith(row["label"] + "/")
        assert note["soundfont"] == row["speaker"] and int(note["velocity"]) == 96
        assert row["licence"] and row["licence"] == SOUNDFONTS[str(row["speaker"])][2]
    assert {r["label"] for r in rows} == set(INSTRUMENT_LABELS)


def test_corpus_notes_have_their_pitch(corpus):
    for row in read_manifest(corpus):
        x, sr = sf.read(row["file"], dtype="float64")
        f0, pitch = estimate_f0(x[int(0.1 * sr): int(1.4 * sr)], sr), int(_note_of(row)["pitch"])
        if row["label"] == "organ" and abs(2 * f0 / expected_hz(pitch) - 1) < 0.01:
            continue  # the Church Organ's 16-foot rank sounds an octave below the key at some keys of some SoundFonts
        assert f0 == pytest.approx(expected_hz(pitch), rel=0.01), (row["path"], f0)


def test_corpus_splits_are_disjoint(corpus):
    rows = read_manifest(corpus)
    report = json.loads((corpus.parent / "build_report.json").read_text())
    fonts = {s: {r["speaker"] for r in rows if r["split"] == s} for s in SPLITS}
    notes = {s: {(r["speaker"], _note_of(r)["pitch"]) for r in rows if r["split"] == s} for s in SPLITS}
    assert fonts["train"] == {"FluidR3_GM"} and fonts["test"] == {"TimGM6mb"}  # quick: the first two installed
    assert fonts["validation"] == {"FluidR3_GM"} and "not disjoint by SoundFont" in report["splits"]["validation"]
    assert {_note_of(r)["pitch"] for r in rows if r["split"] == "validation"} == {"67"}  # pitches[1::4]
    for a, b in (("train", "validation"), ("train", "test"), ("validation", "test")):
        assert notes[a] and not notes[a] & notes[b]
    assert all({r["label"] for r in rows if r["split"] == s} == set(INSTRUMENT_LABELS) for s in SPLITS)


def test_second_build_is_cached_and_the_datasets_load(corpus):
    from audiomap_lib.data.__main__ import main
    from audiomap_lib.data.datasets import CORPORA, get_datasets

    before = corpus.stat().st_mtime_ns
    assert build_instrument_notes(profile="quick", root=corpus.parent) == corpus
    assert main(["build", "--profile", "quick", "--root", str(corpus.parent.parent), "--only", "instruments"]) == 0
    assert corpus.stat().st_mtime_ns == before and not list(corpus.parent.parent.glob(".*building*"))
    assert CORPORA["instruments"] == ("offline",)
    sets = get_datasets("instruments", profile="quick", root=corpus.parent)
    assert sets["train"].labels == INSTRUMENT_LABELS and sets["test"].sample_rate_hz == SAMPLE_RATE
    wav, label = sets["validation"][0]
    assert tuple(wav.shape) == (1, CLIP_SAMPLES) and INSTRUMENT_LABELS[label] == sets["validation"].rows[0]["label"]


def test_split_rules_with_fewer_soundfonts():
    splits, rules = instruments._assign_splits(["TimGM6mb"], (60, 67, 74, 81))
    assert {p: splits[("TimGM6mb", p)] for p in (60, 67, 74, 81)} == {60: "train", 67: "validation", 74: "train", 81: "test"}
    splits, rules = instruments._assign_splits(["FluidR3_GM", "TimGM6mb", "MuseScore_General"], (60, 67))
    assert {s: splits[(s, 60)] for s in ("FluidR3_GM", "TimGM6mb", "MuseScore_General")} == {
        "FluidR3_GM": "train", "TimGM6mb": "test", "MuseScore_General": "validation"}
    assert all("not disjoint" not in r for r in rules.values())


def test_drum_loop_events_render_hits_on_the_beats():
    from audiomap_lib.data.instruments import render_events
    from audiomap_lib.data.midi import GM_DRUM_CHANNEL, make_drum_loop_events

    _require("FluidR3_GM")
    events = make_drum_loop_events(bars=1, bpm=120.0)
    keys = {m[1] for _, m in events if m[0] == 0x90 | GM_DRUM_CHANNEL}
    assert keys == {36, 38, 42}  # kick, snare, closed hi-hat
    assert all(m[0] & 0x0F == GM_DRUM_CHANNEL for _, m in events)
    wav = render_events(events, duration_s=2.5)
    assert wav.dtype == torch.float32 and wav.shape == (round(2.5 * SAMPLE_RATE),)
    beats_s = np.array([0.0, 0.5, 1.0, 1.5])  # 120 bpm: a beat every 0.5 s
    onsets = _onsets_s(wav.numpy().astype(np.float64), SAMPLE_RATE, beats_s)
    assert np.abs(onsets - beats_s).max() < 0.030, (onsets - beats_s) * 1000  # ms
    with pytest.raises(ValueError, match="duration_s"):
        render_events(events, duration_s=0.0)
    with pytest.raises(ValueError, match="bpm"):
        make_drum_loop_events(bpm=0)
