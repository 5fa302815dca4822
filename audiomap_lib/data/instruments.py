"""Instrument notes and melodies rendered with FluidSynth from MIDI written from scratch (Chapter 8).

Spectrogram style transfer needs the same *content* played in different *styles*: here the same
pitches played by eight General MIDI instruments of clearly different timbre
(:data:`INSTRUMENTS`: piano, organ, guitar, violin, cello, trumpet, clarinet, flute), each as
rendered by the Debian General MIDI SoundFonts (``fluid-soundfont-gm``, ``timgm6mb-soundfont``,
``musescore-general-soundfont``; :mod:`audiomap_lib.data.midi`).

:func:`make_note_events` and :func:`make_melody_events` write the MIDI messages,
:func:`render_melody` plays a melody through a SoundFont and returns it as a waveform, and
:func:`build_instrument_notes` builds the corpus: every instrument at every pitch and velocity of
the profile, pitches from C4 to C6 (a range each of the eight can play; its docstring has the table).
``quick`` renders only the first two SoundFonts installed (FluidR3_GM and TimGM6mb when all are:
MuseScore_General alone takes 10 s to load), the other profiles all of them. Many notes are
rendered per FluidSynth run and then cut, as the drum corpus does.

Each clip is one note: it starts at the note-on, the key is held :data:`HOLD_S` seconds, and the
clip ends :data:`NOTE_S` seconds after the start with a 50 ms fade-out (an organ still sounds
there). It is rendered dry at 44100 Hz, mixed to mono, resampled to :data:`SAMPLE_RATE`
(22050 Hz, the rate of Ulyanov and Lebedev's spectrogram style transfer) with
:func:`audiomap_lib.io.resample`, and peak-normalised to 0.9; the gain that took (in dB) is in the
manifest's ``detail``, so the level that the velocity gave can be restored. A render that stays
silent (a SoundFont without that program) is left out and counted in ``build_report.json``.

The manifest's ``label`` is the instrument name, ``speaker`` and ``family`` the SoundFont,
``source`` ``"fluidsynth"``, ``licence`` the SoundFont's, and ``detail`` starts with
``program=40 pitch=69 velocity=80 soundfont=FluidR3_GM gain_db=+17.52;`` (``key=value`` pairs,
pitch as a MIDI note number).

Splits are disjoint by SoundFont: the selected SoundFonts, in the order FluidR3_GM, TimGM6mb,
MuseScore_General, go to train, test and validation. With all three, test is TimGM6mb, none of
whose notes is close to FluidR3's (cosine similarity of the magnitude spectra at most 0.92), and
validation is MuseScore_General, built in part from FluidR3: its organ, guitar and trumpet have
nearly FluidR3's spectra (0.99 to 1.00 on average), so validation flatters those three. A split
left without a SoundFont (``quick`` uses two; fewer may be installed) takes the train SoundFont's
notes at every fourth pitch (validation: ``pitches[1::4]``, test: ``pitches[3::4]``): disjoint
from train by pitch, not by SoundFont. ``build_report.json``'s
``splits`` says which rule each split followed.
"""
from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from audiomap_lib.data.manifest import build_corpus, compute_sha256, map_in_processes
from audiomap_lib.data.midi import (
    FLUIDSYNTH_HINT,
    GM_DRUM_CHANNEL,
    SOUNDFONTS,
    TICKS_PER_SECOND,
    list_soundfonts,
    render_midi,
    write_midi_file,
)
from audiomap_lib.io import check_sample_rate, normalize_peak, pad_or_crop, resample, save_audio, to_mono
from audiomap_lib.utils import by_profile, check_real, get_cache_dir

__all__ = [
    "CLIP_SAMPLES",
    "DEFAULT_VELOCITY",
    "HOLD_S",
    "INSTRUMENTS",
    "INSTRUMENT_LABELS",
    "NOTE_S",
    "RELEASE_S",
    "SAMPLE_RATE",
    "build_instrument_notes",
    "make_melody_events",
    "make_note_events",
    "render_events",
    "render_melody",
]

INSTRUMENTS: dict[int, str] = {0: "piano", 19: "organ", 24: "guitar", 40: "violin", 42: "cello", 56: "trumpet",
                               71: "clarinet", 73: "flute"}
"""General MIDI program (0-based) -> the course's label. The GM names: Acoustic Grand Piano, Church
Organ, Acoustic Guitar (nylon), Violin, Cello, Trumpet, Clarinet, Flute."""
INSTRUMENT_LABELS: tuple[str, ...] = tuple(INSTRUMENTS.values())
"""The eight classes, in program order."""
SAMPLE_RATE: int = 22050
"""Sample rate of every clip and of :func:`render_melody`'s default, in Hz."""
NOTE_S: float = 2.0
"""Length of every clip, in seconds."""
CLIP_SAMPLES: int = round(NOTE_S * SAMPLE_RATE)
"""Length of every clip in samples (44100)."""
HOLD_S: float = 1.5
"""How long each note of the corpus is held (note-on to note-off), in seconds."""
RELEASE_S: float = 0.5
"""What :func:`render_melody` keeps after the last note-off, in seconds."""
DEFAULT_VELOCITY: int = 100
"""The MIDI velocity of :func:`render_melody`'s notes."""
RENDER_SR = 44100  # FluidSynth's rate (the SoundFonts' own); resampled afterwards
PEAK = 0.9
SILENT_PEAK = 1e-4  # a render whose peak stays below this is silent
_SPACING_S = NOTE_S + 0.25  # between two notes of a rendered file; "all sound off" at the end of each clip
_FADE_S = 0.05
_CHUNK = 224  # notes per rendered file (about 500 s of audio)
_SPLIT_ORDER = ("train", "test", "validation")  # dealt to the SoundFonts in the order of SOUNDFONTS
_FALLBACK = {"validation": 1, "test": 3}  # a split without a SoundFont: the train SoundFont's pitches[k::4]


def _check_midi_int(value: object, name: str, low: int, high: int, what: str) -> int:
    """An int (Python or NumPy, not bool) in ``[low, high]``; ValueError naming ``name`` otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an int from {low} to {high} ({what}); got {value!r}")
    return int(value)


def _check_channel(channel: object) -> int:
    channel = _check_midi_int(channel, "channel", 0, 15, "a MIDI channel, counted from 0")
    if channel == GM_DRUM_CHANNEL:
        raise ValueError(f"channel must not be {GM_DRUM_CHANNEL}: that is the General MIDI drum channel "
                         f"(it plays percussion, not programs); use another channel from 0 to 15")
    return channel


def _check_sequence(value: object, name: str) -> list[Any]:
    """A non-empty list, tuple, 1-D array or 1-D tensor, as a Python list."""
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or len(value) == 0:
        raise ValueError(f"{name} must be a non-empty list (or tuple, or 1-D array) with one entry per note; got {value!r}")
    return list(value)


def _check_duration(value: object, name: str) -> float:
    x = check_real(value, name, 0.0, None, low_open=True, unit="s")
    if round(x * TICKS_PER_SECOND) < 1:
        raise ValueError(f"{name} must be at least one MIDI tick (1/{TICKS_PER_SECOND} s); got {value!r}")
    return x


def make_note_events(pitch: int, velocity: int, program: int, start_s: float, duration_s: float,
                     channel: int = 0) -> list[tuple[float, bytes]]:
    """The MIDI messages of one note on one instrument, for :func:`~audiomap_lib.data.midi.write_midi_file` (Chapter 8).

    Args:
        pitch: MIDI note number, 0 to 127 (60 is middle C, 69 is A4 = 440 Hz).
        velocity: 1 to 127 (0 would be a note-off).
        program: General MIDI program, 0 to 127, counted from 0 (40 is Violin).
        start_s: note-on time in seconds (>= 0).
        duration_s: seconds from note-on to note-off (at least one tick, 1/960 s).
        channel: MIDI channel 0 to 15, counted from 0, but not 9 (the drum channel).

    Returns:
        ``[(start_s, program change), (start_s, note on), (start_s + duration_s, note off)]``,
        each a ``(time_s, message bytes)`` pair, e.g. ``(0.0, b"\\xc0\\x28")``, ``(0.0, b"\\x90\\x45\\x50")``,
        ``(1.0, b"\\x80\\x45\\x00")``.

    Raises:
        ValueError: an argument out of range or of the wrong type (the message names it).
    """
    pitch = _check_midi_int(pitch, "pitch", 0, 127, "a MIDI note number; 69 is A4")
    velocity = _check_midi_int(velocity, "velocity", 1, 127, "a MIDI velocity")
    program = _check_midi_int(program, "program", 0, 127, "a General MIDI program, counted from 0")
    start_s = check_real(start_s, "start_s", 0.0, None, unit="s")
    duration_s = _check_duration(duration_s, "duration_s")
    channel = _check_channel(channel)
    return [(start_s, bytes([0xC0 | channel, program])), (start_s, bytes([0x90 | channel, pitch, velocity])),
            (start_s + duration_s, bytes([0x80 | channel, pitch, 0]))]


def make_melody_events(pitches: Sequence[int], durations_s: Sequence[float], program: int,
                       velocity: int = DEFAULT_VELOCITY, channel: int = 0, start_s: float = 0.0) -> list[tuple[float, bytes]]:
    """The MIDI messages of a melody: notes one after another, legato, on one instrument (Chapter 8).

    Args:
        pitches: MIDI note numbers (0 to 127), one per note.
        durations_s: each note's length in seconds (> 0, at least one tick); the next note starts
            when one ends.
        program: General MIDI program, 0 to 127, counted from 0.
        velocity: 1 to 127, for every note.
        channel: MIDI channel 0 to 15, not 9 (the drum channel).
        start_s: the first note-on, in seconds (>= 0).

    Returns:
        ``(time_s, message bytes)`` pairs: one program change at ``start_s``, then a note-on at
        ``start_s + sum(durations_s[:i])`` and a note-off ``durations_s[i]`` later for each note
        (a note-off comes before the next note-on at the same time).

    Raises:
        ValueError: an argument out of range or of the wrong type, or ``pitches`` and
            ``durations_s`` of different lengths (the message names the argument).
    """
    pitch_list = [_check_midi_int(p, f"pitches[{i}]", 0, 127, "a MIDI note number; 69 is A4")
                  for i, p in enumerate(_check_sequence(pitches, "pitches"))]
    duration_list = [_check_duration(d, f"durations_s[{i}]") for i, d in enumerate(_check_sequence(durations_s, "durations_s"))]
    if len(duration_list) != len(pitch_list):
        raise ValueError(f"durations_s has {len(duration_list)} entries but pitches has {len(pitch_list)}; "
                         f"give one duration per note")
    velocity = _check_midi_int(velocity, "velocity", 1, 127, "a MIDI velocity")
    program = _check_midi_int(program, "program", 0, 127, "a General MIDI program, counted from 0")
    channel = _check_channel(channel)
    t = check_real(start_s, "start_s", 0.0, None, unit="s")
    events = [(t, bytes([0xC0 | channel, program]))]
    for pitch, duration_s in zip(pitch_list, duration_list):
        events += make_note_events(pitch, velocity, program, t, duration_s, channel)[1:]
        t += duration_s
    return events


def _find_soundfont(soundfont: object) -> Path:
    """A name of :data:`SOUNDFONTS` or a ``.sf2`` / ``.sf3`` file -> the file."""
    if isinstance(soundfont, str) and soundfont in SOUNDFONTS:
        file, package, _ = SOUNDFONTS[soundfont]
        if not Path(file).is_file():
            raise RuntimeError(f"soundfont {soundfont!r} is not installed (no {file}); install it with: "
                               f"sudo apt-get install {package} (all of them: {FLUIDSYNTH_HINT})")
        return Path(file)
    if isinstance(soundfont, (str, Path)) and Path(soundfont).suffix.lower() in (".sf2", ".sf3") and Path(soundfont).is_file():
        return Path(soundfont)
    raise ValueError(f"soundfont must be one of {tuple(SOUNDFONTS)} or an existing .sf2 / .sf3 file; got {soundfont!r} "
                     f"(install the course's SoundFonts with: {FLUIDSYNTH_HINT})")


def render_melody(pitches: Sequence[int], durations_s: Sequence[float], program: int, soundfont: str | Path = "FluidR3_GM",
                  sample_rate_hz: int = SAMPLE_RATE, velocity: int = DEFAULT_VELOCITY) -> torch.Tensor:
    """Play a melody on one General MIDI instrument with FluidSynth (Chapter 8).

    The notes follow one another from time 0 (:func:`make_melody_events`). FluidSynth renders
    them dry at 44100 Hz with gain 0.5 (a note at velocity 100 peaks near 0.1; the level is left
    as rendered); the stereo result is mixed to mono and, unless ``sample_rate_hz`` is 44100,
    resampled with :func:`audiomap_lib.io.resample` (band-limited).

    Args:
        pitches: MIDI note numbers (0 to 127), one per note.
        durations_s: each note's length in seconds (> 0).
        program: General MIDI program, 0 to 127, counted from 0 (e.g. a key of :data:`INSTRUMENTS`).
        soundfont: a name of :data:`~audiomap_lib.data.midi.SOUNDFONTS` or a ``.sf2`` / ``.sf3`` file.
        sample_rate_hz: the rate of the result in Hz.
        velocity: 1 to 127, for every note.

    Returns:
        ``float32`` tensor of shape ``(samples,)`` at ``sample_rate_hz``:
        ``round((sum(durations_s) + RELEASE_S) * sample_rate_hz)`` samples, the melody and
        :data:`RELEASE_S` seconds of release after the last note-off.

    Raises:
        ValueError: a bad argument (the message names it). RuntimeError: ``fluidsynth`` or the
            named SoundFont is not installed (with the Debian command), or FluidSynth failed.
    """
    events = make_melody_events(pitches, durations_s, program, velocity=velocity)
    return render_events(events, events[-1][0] + RELEASE_S, soundfont, sample_rate_hz)


def render_events(events: Sequence[tuple[float, bytes]], duration_s: float, soundfont: str | Path = "FluidR3_GM",
                  sample_rate_hz: int = SAMPLE_RATE) -> torch.Tensor:
    """Play any MIDI events (a melody, a drum loop) with FluidSynth and return ``duration_s`` of sound (Chapter 8).

    The events are written with :func:`~audiomap_lib.data.midi.write_midi_file`, "all sound off"
    is sent at ``duration_s``, FluidSynth renders them dry at 44100 Hz with gain 0.5, and the
    stereo result is mixed to mono and resampled with :func:`audiomap_lib.io.resample` to
    ``sample_rate_hz`` (band-limited). The level is left as rendered.

    Args:
        events: ``(time_s, message bytes)`` pairs, e.g. from :func:`make_melody_events` or
            :func:`~audiomap_lib.data.midi.make_drum_loop_events`.
        duration_s: the length of the result in seconds (> 0).
        soundfont: a name of :data:`~audiomap_lib.data.midi.SOUNDFONTS` or a ``.sf2`` / ``.sf3`` file.
        sample_rate_hz: the rate of the result in Hz.

    Returns:
        ``float32`` tensor of shape ``(round(duration_s * sample_rate_hz),)``.

    Raises:
        ValueError: a bad argument (the message names it). RuntimeError: ``fluidsynth`` or the
            named SoundFont is not installed (with the Debian command), or FluidSynth failed.
    """
    end_s = _check_duration(duration_s, "duration_s")
    sample_rate_hz = check_sample_rate(sample_rate_hz, "sample_rate_hz")
    font = _find_soundfont(soundfont)
    with tempfile.TemporaryDirectory(prefix="audiomap-events-") as tmp:
        midi = write_midi_file(Path(tmp) / "events.mid", [*events, (end_s, bytes([0xB0, 120, 0]))])  # all sound off
        data, _ = sf.read(render_midi(midi, font, Path(tmp) / "events.wav", RENDER_SR), dtype="float32", always_2d=True)
    wav = resample(to_mono(torch.from_numpy(data.T.copy()))[0], RENDER_SR, sample_rate_hz)
    return pad_or_crop(wav, round(end_s * sample_rate_hz), mode="start")


def _render_chunk(job: tuple[str, list[tuple[int, int, int, str]], str]) -> list[float | None]:
    """Render notes ``(program, pitch, velocity, clip file)`` of one SoundFont in one FluidSynth run
    and save each clip; returns each clip's normalising gain in dB (``None``: silent, not saved)."""
    torch.set_num_threads(1)
    soundfont, notes, stem = job
    events: list[tuple[float, bytes]] = []
    starts = []
    for i, (program, pitch, velocity, _) in enumerate(notes):
        t = 0.5 + i * _SPACING_S
        events += make_note_events(pitch, velocity, program, t, HOLD_S)
        events.append((t + NOTE_S, bytes([0xB0, 120, 0])))  # all sound off: the clip ends here
        starts.append(round(t * RENDER_SR))
    events.append((0.5 + len(notes) * _SPACING_S, bytes([0xB0, 120, 0])))
    wav_file = render_midi(write_midi_file(stem + ".mid", events), soundfont, stem + ".wav", RENDER_SR)
    native = round(NOTE_S * RENDER_SR) + 256  # a margin for the resampling filter
    fade = torch.linspace(1.0, 0.0, round(_FADE_S * SAMPLE_RATE))
    gains: list[float | None] = []
    for (_, _, _, out), start in zip(notes, starts):
        data, _ = sf.read(wav_file, dtype="float32", always_2d=True, start=start, frames=native)
        clip = pad_or_crop(resample(to_mono(torch.from_numpy(data.T.copy()))[0], RENDER_SR, SAMPLE_RATE),
                           CLIP_SAMPLES, mode="start")
        clip[-fade.numel():] *= fade
        peak = float(clip.abs().max())
        if peak < SILENT_PEAK:
            gains.append(None)
            continue
        save_audio(out, normalize_peak(clip, PEAK), SAMPLE_RATE)
        gains.append(20 * math.log10(PEAK / peak))
    Path(stem + ".mid").unlink()
    wav_file.unlink()
    return gains


def _assign_splits(soundfonts: list[str], pitches: Sequence[int]) -> tuple[dict[tuple[str, int], str], dict[str, str]]:
    """``(soundfont, pitch) -> split`` and, per split, the rule it followed (see the module docstring)."""
    own = dict(zip(soundfonts, _SPLIT_ORDER))
    train = soundfonts[0]
    splits = {(s, p): own.get(s, "train") for s in soundfonts for p in pitches}
    rules = {split: f"SoundFont {s}" for s, split in own.items()}
    for split, offset in _FALLBACK.items():
        if split not in rules:
            moved = list(pitches)[offset::4]
            splits.update({(train, p): split for p in moved})
            rules[split] = f"SoundFont {train} at pitches {moved} (not disjoint by SoundFont: too few installed)"
    return splits, rules


def build_instrument_notes(profile: str | None = None, root: str | Path | None = None, force: bool = False) -> Path:
    """Build (or find cached) the instrument-notes corpus (Chapter 8).

    ========  ============================  ====================  ====================  ===============
    profile   pitches (MIDI note numbers)   velocities            SoundFonts            clips (at most)
    ========  ============================  ====================  ====================  ===============
    quick     60, 67, 74, 81                96                    first 2 installed     8 x 4 x 1 x 2 = 64
    standard  60 to 84 in steps of 3 (9)    48, 80, 112           all installed         8 x 9 x 3 x 3 = 648
    full      60 to 84, every semitone      32, 56, 80, 104, 127  all installed         8 x 25 x 5 x 3 = 3000
    ========  ============================  ====================  ====================  ===============

    Args:
        profile: ``"quick"``, ``"standard"`` or ``"full"`` (the table); ``None`` reads ``AUDIOMAP_PROFILE``.
        root: the corpus folder; default ``get_cache_dir("instruments", profile)``.
        force: rebuild even when ``root/manifest.csv`` exists.

    Returns:
        Path of ``manifest.csv``; clips are ``<root>/<label>/<soundfont>_p<pitch>_v<velocity>.wav``,
        22050 Hz mono 16-bit, exactly :data:`CLIP_SAMPLES` samples (2 s), peak 0.9.
        ``build_report.json`` holds counts per split and SoundFont (``counts``), the rule of each split, the
        silent renders left out (``skipped``) and the time taken.

    Raises:
        ValueError: unknown ``profile``. RuntimeError: ``fluidsynth`` or every SoundFont is
            missing (with the Debian command).
    """
    profile = by_profile("quick", "standard", "full", profile=profile)
    root = Path(root) if root is not None else get_cache_dir("instruments", profile)
    pitches = by_profile(quick=(60, 67, 74, 81), standard=tuple(range(60, 85, 3)), full=tuple(range(60, 85)), profile=profile)
    velocities = by_profile(quick=(96,), standard=(48, 80, 112), full=(32, 56, 80, 104, 127), profile=profile)
    n_fonts = by_profile(quick=2, standard=len(SOUNDFONTS), full=len(SOUNDFONTS), profile=profile)

    def make_rows(tmp_root: Path) -> tuple[list[dict], dict]:
        installed = list_soundfonts()
        fonts = list(installed)[:n_fonts]  # in the order of SOUNDFONTS
        if shutil.which("fluidsynth") is None or not fonts:
            raise RuntimeError(f"fluidsynth or every General MIDI SoundFont is missing; install them with: {FLUIDSYNTH_HINT}")
        splits, rules = _assign_splits(fonts, pitches)
        notes = [(name, program, pitch, velocity) for name in fonts for program in INSTRUMENTS
                 for pitch in pitches for velocity in velocities]
        for label in INSTRUMENT_LABELS:
            (tmp_root / label).mkdir()
        scratch = tmp_root / ".render"
        scratch.mkdir()
        jobs, owners = [], []
        for name in fonts:
            mine = [i for i, n in enumerate(notes) if n[0] == name]
            n_chunks = -(-len(mine) // _CHUNK)
            for c in range(n_chunks):
                part = mine[c::n_chunks]  # chunks of equal size, each with every instrument
                jobs.append((str(installed[name][0]), [(*notes[i][1:], str(tmp_root / _clip_path(notes[i]))) for i in part],
                             str(scratch / f"{name}_{c:02d}")))
                owners.append(part)
        gains: list[float | None] = [None] * len(notes)
        for part, chunk_gains in zip(owners, map_in_processes(_render_chunk, jobs)):
            for i, gain in zip(part, chunk_gains):
                gains[i] = gain
        shutil.rmtree(scratch)
        rows: list[dict[str, Any]] = []
        skipped: list[dict[str, str]] = []
        for note, gain in zip(notes, gains):
            name, program, pitch, velocity = note
            if gain is None:
                skipped.append({"file": f"{name} program {program} pitch {pitch} velocity {velocity}",
                                "reason": f"silent (peak below {SILENT_PEAK}): the SoundFont lacks the program?"})
                continue
            path = _clip_path(note)
            rows.append({"path": path, "label": INSTRUMENTS[program], "split": splits[(name, pitch)], "speaker": name,
                         "family": name, "source": "fluidsynth", "sr": SAMPLE_RATE, "samples": CLIP_SAMPLES,
                         "sha256": compute_sha256(tmp_root / path), "licence": installed[name][1],
                         "detail": f"program={program} pitch={pitch} velocity={velocity} soundfont={name} "
                                   f"gain_db={gain:+.2f}; held {HOLD_S:g} s, rendered with FluidSynth at {RENDER_SR} Hz, "
                                   f"dry, mono, resampled to {SAMPLE_RATE} Hz, peak-normalised to {PEAK} "
                                   f"(by gain_db), {round(_FADE_S * 1000)} ms fade-out"})
        return rows, {"splits": rules, "rendered": len(notes),
                      "missing_soundfonts": [n for n in SOUNDFONTS if n not in installed],
                      "skipped_count": len(skipped), "skipped": skipped}

    return build_corpus(root, "instrument notes", profile, make_rows, force=force)


def _clip_path(note: tuple[str, int, int, int]) -> str:
    """``(soundfont, program, pitch, velocity)`` -> the clip's path relative to the corpus folder."""
    name, program, pitch, velocity = note
    return f"{INSTRUMENTS[program]}/{name}_p{pitch:03d}_v{velocity:03d}.wav"
