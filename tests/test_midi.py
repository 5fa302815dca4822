"""MIDI files written from scratch (audiomap_lib.data.midi), checked against the format's own examples
and against what FluidSynth renders from them."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from audiomap_lib.data.midi import (
    GM_DRUM_CHANNEL,
    TICKS_PER_SECOND,
    encode_variable_length,
    list_soundfonts,
    render_midi,
    write_midi_file,
)

# the examples of the Standard MIDI File specification (variable-length quantities)
SPEC_EXAMPLES = [(0x00, "00"), (0x40, "40"), (0x7F, "7F"), (0x80, "81 00"), (0x2000, "C0 00"), (0x3FFF, "FF 7F"),
                 (0x4000, "81 80 00"), (0x100000, "C0 80 00"), (0x1FFFFF, "FF FF 7F"), (0x200000, "81 80 80 00"),
                 (0x8000000, "C0 80 80 00"), (0xFFFFFFF, "FF FF FF 7F")]


@pytest.mark.parametrize("value, expected", SPEC_EXAMPLES)
def test_variable_length_quantities_match_the_specification(value, expected):
    assert encode_variable_length(value) == bytes.fromhex(expected)


@pytest.mark.parametrize("bad", [-1, 1 << 28, 1.5, True, "3"])
def test_variable_length_refuses_what_it_cannot_encode(bad):
    with pytest.raises(ValueError, match="value must be an int"):
        encode_variable_length(bad)


def _decode_events(data: bytes) -> list[tuple[int, bytes]]:
    """A minimal reader for the files written here: (absolute tick, event bytes)."""
    assert data[:4] == b"MThd" and int.from_bytes(data[4:8], "big") == 6
    assert int.from_bytes(data[8:10], "big") == 0 and int.from_bytes(data[10:12], "big") == 1
    assert int.from_bytes(data[12:14], "big") == 480
    assert data[14:18] == b"MTrk"
    length = int.from_bytes(data[18:22], "big")
    track, i, tick, out = data[22:], 0, 0, []
    assert len(track) == length
    while i < len(track):
        delta = 0
        while True:
            byte = track[i]
            i += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        if track[i] == 0xFF:  # meta event: type, length, data
            n = track[i + 2]
            out.append((tick, track[i: i + 3 + n]))
            i += 3 + n
        else:
            n = 2 if (track[i] & 0xF0) in (0xC0, 0xD0) else 3
            out.append((tick, track[i: i + n]))
            i += n
    return out


def test_midi_file_round_trips_times_and_messages(tmp_path):
    on, off = bytes([0x99, 36, 100]), bytes([0x89, 36, 0])
    path = write_midi_file(tmp_path / "a.mid", [(1.5, off), (0.25, on), (0.25, bytes([0xC9, 25]))])
    events = _decode_events(path.read_bytes())
    assert events[0] == (0, b"\xff\x51\x03" + (500000).to_bytes(3, "big"))  # 120 bpm: 960 ticks per second
    assert events[1:4] == [(round(0.25 * TICKS_PER_SECOND), on), (round(0.25 * TICKS_PER_SECOND), bytes([0xC9, 25])),
                           (round(1.5 * TICKS_PER_SECOND), off)]  # sorted by time, stable for equal times
    assert events[-1][1] == b"\xff\x2f\x00"


@pytest.mark.parametrize("events, match", [([(-1.0, b"\x90\x24\x40")], "times must be finite"),
                                           ([(float("nan"), b"\x90\x24\x40")], "times must be finite"),
                                           ([(0.0, b"\x24\x40")], "status byte"), ([(0.0, b"")], "status byte")])
def test_midi_file_refuses_bad_events(tmp_path, events, match):
    with pytest.raises(ValueError, match=match):
        write_midi_file(tmp_path / "bad.mid", events)


@pytest.mark.skipif(shutil.which("fluidsynth") is None or not list_soundfonts(),
                    reason="fluidsynth and a General MIDI SoundFont are not installed")
def test_fluidsynth_plays_each_note_where_the_file_puts_it(tmp_path):
    times_s = [0.5, 1.7, 2.9]
    events = []
    for t in times_s:
        events += [(t, bytes([0x90 | GM_DRUM_CHANNEL, 38, 110])), (t + 0.5, bytes([0x80 | GM_DRUM_CHANNEL, 38, 0])),
                   (t + 1.0, bytes([0xB0 | GM_DRUM_CHANNEL, 120, 0]))]  # all sound off before the next hit
    midi = write_midi_file(tmp_path / "snare.mid", events)
    font = next(iter(list_soundfonts().values()))[0]
    wav, sr = sf.read(render_midi(midi, font, tmp_path / "snare.wav", 44100), dtype="float32")
    assert sr == 44100 and wav.dtype == np.float32 and wav.ndim == 2  # 32-bit float stereo
    env = np.abs(wav).max(axis=1)
    for t in times_s:
        seg = env[int((t - 0.2) * sr): int((t + 0.2) * sr)]
        onset_s = t - 0.2 + np.argmax(seg > 0.05 * seg.max()) / sr
        assert abs(onset_s - t) < 0.01, (t, onset_s)  # within one 10 ms of the written time
        assert env[int((t + 1.05) * sr): int((t + 1.15) * sr)].max() < 1e-4  # silenced by "all sound off"


def test_render_midi_names_missing_files(tmp_path):
    if shutil.which("fluidsynth") is None:
        with pytest.raises(RuntimeError, match="apt-get install fluidsynth"):
            render_midi(tmp_path / "x.mid", tmp_path / "x.sf2", tmp_path / "x.wav")
    else:
        with pytest.raises(FileNotFoundError, match="midi_path: no file"):
            render_midi(tmp_path / "x.mid", tmp_path / "x.sf2", tmp_path / "x.wav")
