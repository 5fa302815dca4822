"""MIDI files written from scratch and rendered to sound with FluidSynth (Chapters 1, 7 and 8).

A Standard MIDI File (format 0) is a header chunk and one track chunk: a list of events,
each preceded by its delay in *ticks* written as a variable-length quantity (7 bits per
byte, high bit set on every byte but the last). :func:`write_midi_file` writes one from a
list of ``(time_s, message bytes)`` pairs at a fixed tempo, so that a tick is an exact
fraction of a second and every note's start time is known to the sample.

:func:`render_midi` plays such a file through a General MIDI SoundFont with the
``fluidsynth`` program (Debian: ``apt-get install fluidsynth fluid-soundfont-gm``), dry
(reverb and chorus off) and in 32-bit float, so quiet notes keep their resolution.
:func:`list_soundfonts` finds the SoundFonts of the Debian packages the course uses.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..utils import check_non_negative_int, check_positive_int, check_real

__all__ = [
    "FLUIDSYNTH_HINT",
    "GM_DRUM_CHANNEL",
    "GM_DRUM_NOTES",
    "SOUNDFONTS",
    "TICKS_PER_SECOND",
    "encode_variable_length",
    "make_drum_loop_events",
    "list_soundfonts",
    "render_midi",
    "write_midi_file",
]

TICKS_PER_SECOND = 960
"""Ticks per second of the files written here (480 ticks per quarter note at 120 bpm)."""
GM_DRUM_CHANNEL = 9
"""The General MIDI percussion channel (channel 10, counted from 1)."""
FLUIDSYNTH_HINT = "sudo apt-get install fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont"

GM_DRUM_NOTES: dict[int, tuple[str, str]] = {
    35: ("Acoustic Bass Drum", "kick"), 36: ("Bass Drum 1", "kick"),
    38: ("Acoustic Snare", "snare"), 40: ("Electric Snare", "snare"),
    41: ("Low Floor Tom", "tom"), 43: ("High Floor Tom", "tom"), 45: ("Low Tom", "tom"),
    47: ("Low-Mid Tom", "tom"), 48: ("Hi-Mid Tom", "tom"), 50: ("High Tom", "tom"),
    42: ("Closed Hi-Hat", "hihat"), 44: ("Pedal Hi-Hat", "hihat"), 46: ("Open Hi-Hat", "hihat"),
    49: ("Crash Cymbal 1", "cymbal"), 51: ("Ride Cymbal 1", "cymbal"), 52: ("Chinese Cymbal", "cymbal"),
    53: ("Ride Bell", "cymbal"), 55: ("Splash Cymbal", "cymbal"), 57: ("Crash Cymbal 2", "cymbal"),
    59: ("Ride Cymbal 2", "cymbal"),
}
"""General MIDI percussion keys -> (GM name, the course's drum label). Claps, cowbells,
side sticks and the Latin percussion keys are left out, as in the recorded kits."""

SOUNDFONTS: dict[str, tuple[str, str, str]] = {
    "FluidR3_GM": ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "fluid-soundfont-gm", "MIT (Frank Wen; Debian fluid-soundfont-gm copyright)"),
    "TimGM6mb": ("/usr/share/sounds/sf2/TimGM6mb.sf2", "timgm6mb-soundfont", "GPL-2 (Tim Brechbill; Debian timgm6mb-soundfont copyright)"),
    "MuseScore_General": ("/usr/share/sounds/sf3/MuseScore_General.sf3", "musescore-general-soundfont",
                          "MIT, parts PD or CC0 (S. Christian Collins; Debian musescore-general-soundfont copyright)"),
}
"""SoundFont name -> (file, Debian package, licence)."""


def encode_variable_length(value: int) -> bytes:
    """A MIDI variable-length quantity: 7 bits per byte, most significant first (Chapter 1).

    Returns:
        1 to 4 bytes; every byte but the last has its high bit set (``0 -> b"\\x00"``,
        ``128 -> b"\\x81\\x00"``).

    Raises:
        ValueError: ``value`` is negative or needs more than 28 bits.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 28:
        raise ValueError(f"value must be an int in [0, 2**28) (a MIDI delta time); got {value!r}")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def write_midi_file(path: str | Path, events: Sequence[tuple[float, bytes]]) -> Path:
    """Write a format-0 Standard MIDI File at 120 bpm, 480 ticks per quarter note (Chapters 1 and 8).

    Args:
        path: the ``.mid`` file to write.
        events: ``(time_s, message)`` pairs: a time in seconds (>= 0) and a complete channel
            message, e.g. ``bytes([0x99, 36, 100])`` (note on, channel 10, key 36, velocity 100).
            They are sorted by time (stably, so equal times keep their order).

    Returns:
        The path written. A time is rounded to the nearest tick (1/960 s).

    Raises:
        ValueError: a negative or non-finite time, or an empty message or one without a
            status byte.
    """
    track = bytearray(b"\x00\xff\x51\x03" + (500000).to_bytes(3, "big"))  # tempo: 0.5 s per quarter note
    last = 0
    timed = []
    for i, (time_s, message) in enumerate(events):
        t = float(time_s)
        if not t >= 0 or t == float("inf"):
            raise ValueError(f"events[{i}] has time {time_s!r}; times must be finite seconds >= 0")
        if not isinstance(message, (bytes, bytearray)) or not message or message[0] < 0x80:
            raise ValueError(f"events[{i}] message must be bytes starting with a status byte (>= 0x80); got {message!r}")
        timed.append((round(t * TICKS_PER_SECOND), bytes(message)))
    for tick, message in sorted(timed, key=lambda e: e[0]):
        track += encode_variable_length(tick - last) + message
        last = tick
    track += b"\x00\xff\x2f\x00"  # end of track
    out = Path(path)
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + (480).to_bytes(2, "big")
    out.write_bytes(header + b"MTrk" + len(track).to_bytes(4, "big") + bytes(track))
    return out


def make_drum_loop_events(bars: int = 2, bpm: float = 120.0, kit: int = 0, start_s: float = 0.0
                          ) -> list[tuple[float, bytes]]:
    """A rock beat on the General MIDI percussion channel, as events for :func:`write_midi_file` (Chapter 8).

    In 4/4: bass drum (key 36) on beats 1 and 3 and on the "and" of 3 in every second bar, snare
    (38) on 2 and 4, closed hi-hat (42) on every eighth note, louder on the beats. Each hit's
    note-off follows 0.1 s later (a percussion note plays out its sample anyway).

    Args:
        bars: number of bars (4 beats each).
        bpm: tempo in beats per minute.
        kit: the GM kit's program number (0 Standard, 8 Room, 16 Power, 25 TR-808, ...).
        start_s: time of the first beat, in s.

    Returns:
        ``(time_s, message)`` pairs: a program change, then note-on / note-off pairs on channel 10.

    Raises:
        ValueError: ``bars`` < 1, ``bpm`` not positive, ``kit`` outside 0..127, ``start_s`` < 0.
    """
    bars = check_positive_int(bars, "bars")
    bpm = check_real(bpm, "bpm", 0.0, 1000.0, low_open=True, high_open=True)
    kit = check_non_negative_int(kit, "kit")
    if kit > 127:
        raise ValueError(f"kit must be a GM program number in 0..127; got {kit}")
    start_s = check_real(start_s, "start_s", 0.0, None)
    beat_s = 60.0 / float(bpm)
    ch = GM_DRUM_CHANNEL
    events: list[tuple[float, bytes]] = [(float(start_s), bytes([0xC0 | ch, kit]))]

    def hit(t: float, key: int, velocity: int) -> None:
        events.append((t, bytes([0x90 | ch, key, velocity])))
        events.append((t + 0.1, bytes([0x80 | ch, key, 0])))

    for bar in range(bars):
        t0 = float(start_s) + 4 * bar * beat_s
        for eighth in range(8):
            hit(t0 + eighth * beat_s / 2, 42, 90 if eighth % 2 == 0 else 60)
        for beat in (0, 2):
            hit(t0 + beat * beat_s, 36, 110)
        if bar % 2 == 1:
            hit(t0 + 2.5 * beat_s, 36, 90)
        for beat in (1, 3):
            hit(t0 + beat * beat_s, 38, 105)
    return events


def list_soundfonts() -> dict[str, tuple[Path, str]]:
    """The General MIDI SoundFonts of :data:`SOUNDFONTS` installed here (Chapters 1, 7 and 8).

    Returns:
        name -> ``(file, licence)``, only for the files that exist.
    """
    return {name: (Path(file), licence) for name, (file, _, licence) in SOUNDFONTS.items() if Path(file).is_file()}


def render_midi(midi_path: str | Path, soundfont: str | Path, wav_path: str | Path, sample_rate_hz: int = 44100,
                gain: float = 0.5, timeout_s: float = 600.0) -> Path:
    """Render a MIDI file to a 32-bit float stereo WAV file with FluidSynth, dry (Chapters 1, 7 and 8).

    Args:
        midi_path: the ``.mid`` file.
        soundfont: a ``.sf2`` / ``.sf3`` file.
        wav_path: the WAV file to write.
        sample_rate_hz: the synthesis rate in Hz (render at the SoundFont's own rate, 44100,
            and resample afterwards with :func:`audiomap_lib.io.resample`: FluidSynth's
            interpolation does not band-limit).
        gain: FluidSynth's master gain (0.5 leaves headroom for a full-velocity hit).
        timeout_s: stop FluidSynth after this long.

    Returns:
        The WAV path.

    Raises:
        RuntimeError: ``fluidsynth`` is not installed (with the Debian command), or it failed
            (with its messages).
        FileNotFoundError: the MIDI file or the SoundFont does not exist.
    """
    sample_rate_hz = check_positive_int(sample_rate_hz, "sample_rate_hz")
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise RuntimeError(f"the fluidsynth program is not installed; install it with: {FLUIDSYNTH_HINT}")
    for name, p in (("midi_path", midi_path), ("soundfont", soundfont)):
        if not Path(p).is_file():
            raise FileNotFoundError(f"{name}: no file at {p}")
    cmd = [exe, "-n", "-i", "-q", "-R", "0", "-C", "0", "-g", str(float(gain)), "-r", str(sample_rate_hz),
           "-o", "audio.file.format=float", "-F", str(wav_path), str(soundfont), str(midi_path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if result.returncode != 0 or not Path(wav_path).is_file():
        raise RuntimeError(f"fluidsynth failed (exit code {result.returncode}) on {midi_path} with {soundfont}:\n"
                           f"{result.stderr.strip() or result.stdout.strip()}")
    return Path(wav_path)
