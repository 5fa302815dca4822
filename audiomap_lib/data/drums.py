"""Recorded drum one-shots from Debian's drum kits (Chapter 1; the WaveGAN chapters).

Sources: every kit of ``hydrogen-drumkits`` (``/usr/share/hydrogen/data/drumkits/*/drumkit.xml``
and its WAV / FLAC / AIFF samples; every velocity layer is a clip) and the drum
samples of ``sonic-pi-samples`` (``/usr/share/sonic-pi/samples``); and, rendered with FluidSynth
(:mod:`audiomap_lib.data.midi`), the eight General MIDI percussion kits (Standard, Room, Power,
Electronic, TR-808, Jazz, Brush, Orchestra) of each Debian General MIDI SoundFont
(``fluid-soundfont-gm``, ``timgm6mb-soundfont``, ``musescore-general-soundfont``): every
labelled GM percussion key at five velocities (:data:`GM_VELOCITIES`). A rendered hit that is
nearly identical (cosine similarity above :data:`NEAR_DUPLICATE_COSINE`) to one already kept
from another kit at the same key and velocity is left out and counted: SoundFonts share samples
between their kits, and MuseScore_General is built from FluidR3.

Each clip is converted to 16 kHz mono, its leading silence is cut, it is
peak-normalised to 0.9 and brought to exactly 16384 samples (the WaveGAN
length, about 1.02 s): shorter hits are padded with zeros at the end, longer
ones (cymbal tails) are cropped with a 50 ms fade-out and the manifest's
``detail`` says so (``"cropped from 40000 samples"``).

Labels come from the kit's own metadata (hydrogen instrument names, sonic-pi
file names): ``kick``, ``snare``, ``hihat``, ``tom``, ``cymbal``. Other
instruments (claps, cowbells, congas, sticks, effects...) are left out and
counted in ``build_report.json``. ``speaker`` is the kit; sonic-pi's samples form
three kits by name prefix (``drum_*``, ``elec_*``, ``bd_*`` + ``sn_*``).

Splits are disjoint by kit: the recorded kits are shuffled with a fixed seed and dealt to
test, then validation, until each holds at least 15 % of the recorded clips; the rest is
train (the next seed is tried until every label appears in train). The rendered GM kits all go
to train (``family`` ``"fluidsynth"``): they share samples across kits and SoundFonts, so a
split by kit would leak, and validation and test stay recordings of real drums.
"""
from __future__ import annotations

import random
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import soundfile as sf
import torch

from audiomap_lib.data.manifest import build_corpus, compute_sha256, count_rows, map_in_processes
from audiomap_lib.data.midi import (
    FLUIDSYNTH_HINT,
    GM_DRUM_CHANNEL,
    GM_DRUM_NOTES,
    list_soundfonts,
    render_midi,
    write_midi_file,
)
from audiomap_lib.io import normalize_peak, pad_or_crop, resample, save_audio, to_mono, trim_silence
from audiomap_lib.utils import by_profile, get_cache_dir

__all__ = [
    "CLIP_SAMPLES",
    "DRUM_LABELS",
    "GM_KITS",
    "GM_VELOCITIES",
    "NEAR_DUPLICATE_COSINE",
    "HYDROGEN_DIR",
    "SAMPLE_RATE",
    "SONIC_PI_DIR",
    "build_drum_hits",
    "label_instrument",
    "list_drum_samples",
    "list_gm_drum_hits",
]

DRUM_LABELS: tuple[str, ...] = ("kick", "snare", "hihat", "tom", "cymbal")
"""The five classes."""
SAMPLE_RATE: int = 16000
"""Sample rate of every clip, in Hz."""
CLIP_SAMPLES: int = 16384
"""Length of every clip in samples (the WaveGAN length)."""
HYDROGEN_DIR = Path("/usr/share/hydrogen/data/drumkits")
SONIC_PI_DIR = Path("/usr/share/sonic-pi/samples")
APT_HINT = "sudo apt-get install hydrogen-drumkits sonic-pi-samples"
GM_KITS: dict[int, str] = {0: "Standard", 8: "Room", 16: "Power", 24: "Electronic", 25: "TR-808", 32: "Jazz",
                           40: "Brush", 48: "Orchestra"}
"""General MIDI percussion kits rendered from each SoundFont: program number -> name."""
GM_VELOCITIES: tuple[int, ...] = (32, 56, 80, 104, 127)
"""MIDI velocities each GM key is rendered at (a SoundFont changes brightness as well as level)."""
NEAR_DUPLICATE_COSINE = 0.995
"""Rendered hits more similar than this (cosine of the two clips) count as one."""
GM_RENDER_SR = 44100
_GM_SPACING_S = 1.25  # between two rendered hits; each is silenced ("all sound off") 10 ms before the next
_GM_NOTE_S = 1.0  # note-off after this long
_GM_CHUNK = 160  # hits per rendered file (about 200 s of audio)
PEAK = 0.9
SEED = 7
_FADE = 800  # samples of fade-out after a crop (50 ms)
# first match wins: hi-hats before cymbals, "bass drum" before the generic rules
_RULES = (
    ("other", r"roll|stick|rim ?click|clap|cowbell|conga|bongo|djembe|tabla|tamb"),
    ("kick", r"kick|bass ?drum|^bd |^drum bass"),
    ("hihat", r"\bhh\b|hi-?hat|\bhat\b|^drum cymbal (closed|open|pedal)"),
    ("snare", r"snare|^sn "),
    ("tom", r"\btom"),
    ("cymbal", r"crash|ride|china|splash|cymbal"),
)


def label_instrument(name: str) -> str | None:
    """Map an instrument or file name to a drum label (Chapter 1).

    Returns:
        One of :data:`DRUM_LABELS`, or ``None`` for anything else (claps, cowbells,
        rolls, effects, unnamed slots).
    """
    text = name.lower().replace("_", " ")
    for label, pattern in _RULES:
        if re.search(pattern, text):
            return None if label == "other" else label
    return None


def _debian_licences() -> dict[str, str]:
    """Kit name -> licence from ``/usr/share/doc/hydrogen-drumkits/copyright``."""
    path = Path("/usr/share/doc/hydrogen-drumkits/copyright")
    licences: dict[str, str] = {}
    if not path.is_file():
        return licences
    for stanza in path.read_text(errors="replace").split("\n\n"):
        kits = re.findall(r"drumkits/([^\s]+)\.h2drumkit", stanza)
        found = re.search(r"^License: (.+)$", stanza, re.MULTILINE)
        for kit in kits:
            if found:
                licences[kit.replace("?", " ")] = "Debian copyright: " + found.group(1).strip()
    return licences


def _sonic_pi_licences() -> dict[str, str]:
    path = Path("/usr/share/doc/sonic-pi-samples/copyright")
    text = path.read_text(errors="replace") if path.is_file() else ""
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"samples/(\w+)\.flac\n(?:.*\n)*?License: (.+)", text)}


def list_drum_samples() -> tuple[list[dict[str, str]], dict[str, int]]:
    """Find every labelled one-shot of the installed kits (Chapter 1).

    Returns:
        ``(samples, left_out)``: one dict per sample file with keys ``file``,
        ``label``, ``kit``, ``family`` (``"hydrogen"`` / ``"sonic-pi"``),
        ``instrument`` and ``licence``; and the number of files left out per
        kit (unlabelled instruments).

    Raises:
        RuntimeError: neither package is installed (names the Debian packages).
    """
    if not HYDROGEN_DIR.is_dir() and not SONIC_PI_DIR.is_dir():
        raise RuntimeError(f"no drum kits found in {HYDROGEN_DIR} or {SONIC_PI_DIR}; install them with: {APT_HINT}")
    samples: list[dict[str, str]] = []
    left_out: dict[str, int] = {}
    debian = _debian_licences()
    for xml in sorted(HYDROGEN_DIR.glob("*/drumkit.xml")):
        root = ET.parse(xml).getroot()
        for el in root.iter():  # drop the XML namespace
            el.tag = el.tag.split("}")[-1]
        kit = xml.parent.name
        licence = "; ".join(x for x in ((root.findtext("license") or "").strip(), debian.get(kit, "")) if x)
        for inst in root.iter("instrument"):
            name = (inst.findtext("name") or "").strip()
            label = label_instrument(name)
            for fn in [f.text.strip() for f in inst.iter("filename") if f.text and f.text.strip()]:
                if label is None or not (xml.parent / fn).is_file():
                    left_out[kit] = left_out.get(kit, 0) + 1
                    continue
                samples.append({"file": str(xml.parent / fn), "label": label, "kit": kit, "family": "hydrogen",
                                "instrument": name, "licence": licence or "unknown (see the kit's README)"})
    sonic = _sonic_pi_licences()
    for path in sorted(SONIC_PI_DIR.glob("*.flac")):
        prefix = path.stem.split("_")[0]
        sonic_kit = {"drum": "sonic-pi-drum", "elec": "sonic-pi-elec", "bd": "sonic-pi-bd-sn",
                     "sn": "sonic-pi-bd-sn"}.get(prefix)
        if sonic_kit is None:
            continue  # loops, ambient sounds, tabla...: not drum one-shots
        kit = sonic_kit
        label = label_instrument(path.stem)
        if label is None:
            left_out[kit] = left_out.get(kit, 0) + 1
            continue
        licence = sonic.get(path.stem, "CC0-1.0 (freesound.org, see samples/README.md)")
        samples.append({"file": str(path), "label": label, "kit": kit, "family": "sonic-pi",
                        "instrument": path.stem, "licence": licence})
    return samples, left_out


def list_gm_drum_hits() -> list[dict[str, str | int]]:
    """Every GM percussion hit the course renders from the installed SoundFonts (Chapter 1; Chapter 7).

    Returns:
        One dict per hit with keys ``soundfont`` (file), ``program``, ``note``, ``velocity``,
        ``label``, ``kit`` (``"gm-<soundfont>-<kit name>"``), ``family`` (``"fluidsynth"``),
        ``instrument`` (the GM key's name) and ``licence``; ordered by SoundFont, kit, key,
        velocity. Empty when ``fluidsynth`` or every SoundFont is missing.
    """
    if shutil.which("fluidsynth") is None:
        return []
    hits: list[dict[str, str | int]] = []
    for sf_name, (file, licence) in list_soundfonts().items():
        for program, kit_name in GM_KITS.items():
            for note, (gm_name, label) in GM_DRUM_NOTES.items():
                for velocity in GM_VELOCITIES:
                    hits.append({"soundfont": str(file), "program": program, "note": note, "velocity": velocity,
                                 "label": label, "kit": f"gm-{sf_name}-{kit_name}", "family": "fluidsynth",
                                 "instrument": f"{gm_name} (key {note}, velocity {velocity}, program {program})",
                                 "licence": licence})
    return hits


def _render_gm_chunk(job: tuple[str, list[tuple[int, int, int]], str]) -> tuple[str, list[int]]:
    """Render hits ``(program, note, velocity)`` of one SoundFont into one WAV; returns (file, start frames)."""
    soundfont, hits, stem = job
    events: list[tuple[float, bytes]] = []
    starts, program = [], -1
    for i, (prog, note, velocity) in enumerate(hits):
        t = 0.5 + i * _GM_SPACING_S
        events.append((t - 0.01, bytes([0xB0 | GM_DRUM_CHANNEL, 120, 0])))  # all sound off
        if prog != program:
            events.append((t - 0.005, bytes([0xC0 | GM_DRUM_CHANNEL, prog])))
            program = prog
        events.append((t, bytes([0x90 | GM_DRUM_CHANNEL, note, velocity])))
        events.append((t + _GM_NOTE_S, bytes([0x80 | GM_DRUM_CHANNEL, note, 0])))
        starts.append(round(t * GM_RENDER_SR))
    events.append((0.5 + len(hits) * _GM_SPACING_S, bytes([0xB0 | GM_DRUM_CHANNEL, 120, 0])))
    midi = write_midi_file(stem + ".mid", events)
    wav = render_midi(midi, soundfont, stem + ".wav", GM_RENDER_SR)
    return str(wav), starts


def _render_gm_hits(hits: list[dict], scratch: Path) -> list[tuple[str, int, int]]:
    """Render every hit; returns ``(wav file, start frame, frames)`` per hit, in order."""
    jobs, owners = [], []
    for sf_file in dict.fromkeys(str(h["soundfont"]) for h in hits):
        mine = [i for i, h in enumerate(hits) if h["soundfont"] == sf_file]
        for c in range(0, len(mine), _GM_CHUNK):
            part = mine[c: c + _GM_CHUNK]
            stem = str(scratch / f"{Path(sf_file).stem}_{c // _GM_CHUNK:02d}")
            jobs.append((sf_file, [(int(hits[i]["program"]), int(hits[i]["note"]), int(hits[i]["velocity"])) for i in part], stem))
            owners.append(part)
    frames = round((_GM_SPACING_S - 0.02) * GM_RENDER_SR)
    out: list[tuple[str, int, int]] = [("", 0, 0)] * len(hits)
    for part, (wav, starts) in zip(owners, map_in_processes(_render_gm_chunk, jobs)):
        for i, start in zip(part, starts):
            out[i] = (wav, start, frames)
    return out


def _assign_splits(samples: list[dict[str, str]]) -> dict[str, str]:
    """Kit -> split, disjoint by kit, every label present in train."""
    sizes: dict[str, int] = {}
    for s in samples:
        sizes[s["kit"]] = sizes.get(s["kit"], 0) + 1
    total = sum(sizes.values())
    for seed in range(SEED, SEED + 100):
        kits = sorted(sizes)
        random.Random(seed).shuffle(kits)
        splits, filled = {}, {"test": 0, "validation": 0}
        for kit in kits:
            split = next((s for s in ("test", "validation") if filled[s] < 0.15 * total), "train")
            splits[kit] = split
            filled[split] = filled.get(split, 0) + sizes[kit]
        if {s["label"] for s in samples if splits[s["kit"]] == "train"} == set(DRUM_LABELS):
            return splits
    raise RuntimeError("could not split the kits so that every label appears in train")


def _make_clip(source: str | tuple[str, int, int]) -> tuple[torch.Tensor, str]:
    """Read, trim, resample, normalise and pad/crop one hit; returns (clip, detail).

    ``source`` is a file, or ``(file, start frame, frames)`` for one hit of a rendered file.
    """
    torch.set_num_threads(1)
    path, start, length = (source, 0, None) if isinstance(source, str) else source
    info = sf.info(path)
    total = info.frames - start if length is None else min(length, info.frames - start)
    sr, cap = info.samplerate, 6 * info.samplerate  # a hit never needs more than its first seconds
    data, _ = sf.read(path, dtype="float32", always_2d=True, start=start, frames=min(total, cap))
    wav = trim_silence(to_mono(torch.from_numpy(data.T.copy()))[0], sr, threshold_db=-50.0, frame_ms=2.0)
    if wav.numel() == 0:
        raise ValueError("silent")
    n_native = wav.shape[0] if total <= cap else wav.shape[0] + total - cap
    n = -(-n_native * SAMPLE_RATE // sr)  # the hit's length at 16 kHz
    wav = resample(wav[: -(-(CLIP_SAMPLES + 64) * sr // SAMPLE_RATE)], sr, SAMPLE_RATE)
    detail = f"native_sr={sr}"
    if n > CLIP_SAMPLES:
        wav = wav[:CLIP_SAMPLES].clone()
        wav[-_FADE:] *= torch.linspace(1.0, 0.0, _FADE)
        detail += f" cropped from {n} samples with a {_FADE}-sample fade-out"
    clip = pad_or_crop(normalize_peak(wav[:CLIP_SAMPLES], PEAK), CLIP_SAMPLES, mode="start", allow_crop=False)
    return clip, detail


def _try_clip(source: str | tuple[str, int, int]) -> tuple[torch.Tensor | None, str]:
    try:
        return _make_clip(source)
    except ValueError as exc:
        return None, str(exc)


def build_drum_hits(profile: str | None = None, root: str | Path | None = None, force: bool = False) -> Path:
    """Build (or find cached) the drum one-shot corpus (Chapter 1).

    Args:
        profile: ``"quick"`` (at most 4 hits per kit and label), ``"standard"``
            or ``"full"`` (every hit); ``None`` reads ``AUDIOMAP_PROFILE``.
        root: the corpus folder; default ``get_cache_dir("drums", profile)``.
        force: rebuild even when ``root/manifest.csv`` exists.

    Returns:
        Path of ``manifest.csv``; clips are ``<root>/<label>/<kit>_<n>.wav``,
        16 kHz mono 16-bit, 16384 samples, peak 0.9. ``build_report.json`` holds
        counts per split and family, the files left out and the time taken.

    Raises:
        ValueError: unknown ``profile``. RuntimeError: no kit is installed.
    """
    profile = by_profile("quick", "standard", "full", profile=profile)
    root = Path(root) if root is not None else get_cache_dir("drums", profile)

    def make_rows(tmp_root: Path) -> tuple[list[dict], dict]:
        samples, left_out = list_drum_samples()
        splits = _assign_splits(samples)
        gm_hits = list_gm_drum_hits()
        gm_note = "" if gm_hits else f"no General MIDI kits rendered (fluidsynth or the SoundFonts are missing: {FLUIDSYNTH_HINT})"
        per_group = by_profile(quick=4, standard=None, full=None, profile=profile)
        if per_group is not None:  # the first hits of each kit and label (GM: spread over the velocities)
            counts: dict[tuple[str, str], int] = {}
            kept = []
            for s in samples:
                counts[(s["kit"], s["label"])] = counts.get((s["kit"], s["label"]), 0) + 1
                if counts[(s["kit"], s["label"])] <= per_group:
                    kept.append(s)
            samples = kept
            gm_kept = []
            for h in gm_hits:
                key = (str(h["kit"]), str(h["label"]))
                if h["velocity"] in GM_VELOCITIES[::2] and counts.get(key, 0) < per_group:
                    counts[key] = counts.get(key, 0) + 1
                    gm_kept.append(h)
            gm_hits = gm_kept
        scratch = tmp_root / ".render"
        scratch.mkdir()
        sources: list[str | tuple[str, int, int]] = [s["file"] for s in samples]
        sources += _render_gm_hits(gm_hits, scratch) if gm_hits else []
        clips = map_in_processes(_try_clip, sources, chunksize=8)
        shutil.rmtree(scratch)
        rows: list[dict] = []
        skipped: list[dict] = []
        seen: set[str] = set()
        taken: dict[tuple[str, str], int] = {}
        twins: dict[tuple[int, int], list[tuple[torch.Tensor, str]]] = {}
        near_duplicates = 0
        entries: list[dict[str, Any]] = [dict(s, split=splits[s["kit"]]) for s in samples]
        entries += [dict(h, file=f"{Path(str(h['soundfont'])).name} key {h['note']} velocity {h['velocity']}",
                         split="train") for h in gm_hits]
        for s, (clip, detail) in zip(entries, clips):
            group = (s["kit"], s["label"])
            if clip is None:
                skipped.append({"file": s["file"], "reason": detail})
                continue
            kit_id = re.sub(r"[^A-Za-z0-9.-]+", "-", s["kit"]).strip("-")
            if s["family"] == "fluidsynth":
                note_vel = (int(s["note"]), int(s["velocity"]))
                unit = clip / clip.norm()
                twin = next((name for other, name in twins.get(note_vel, []) if float(unit @ other) > NEAR_DUPLICATE_COSINE), None)
                if twin is not None:
                    near_duplicates += 1
                    skipped.append({"file": f"{s['kit']} {s['file']}", "reason": f"nearly identical to {twin}"})
                    continue
                twins.setdefault(note_vel, []).append((unit, f"{kit_id} key {note_vel[0]} velocity {note_vel[1]}"))
                detail = f"rendered with FluidSynth at {GM_RENDER_SR} Hz, dry; {detail}"
            taken[group] = taken.get(group, 0) + 1
            name = f"{s['label']}/{kit_id}_{taken[group]:03d}.wav"
            file = save_audio(tmp_root / name, clip, SAMPLE_RATE)
            digest = compute_sha256(file)
            if digest in seen:  # the same sample used twice in a kit
                file.unlink()
                taken[group] -= 1
                skipped.append({"file": s["file"], "reason": "identical to another clip"})
                continue
            seen.add(digest)
            rows.append({"path": name, "label": s["label"], "split": s["split"], "speaker": s["kit"],
                         "family": s["family"], "source": s["family"], "sr": SAMPLE_RATE, "samples": CLIP_SAMPLES,
                         "sha256": digest, "licence": s["licence"],
                         "detail": f"{Path(s['file']).name} (instrument {s['instrument']!r}) {detail}"})
        if gm_note:
            print(f"[drums] warning: {gm_note}", flush=True)
        return rows, {"kits": count_rows(rows, "speaker"),
                      "left_out_unlabelled": left_out, "left_out_count": sum(left_out.values()),
                      "gm_rendered": len(gm_hits), "gm_near_duplicates": near_duplicates, "gm_missing": gm_note,
                      "skipped_count": len(skipped), "skipped": skipped,
                      "cropped_count": sum("cropped" in r["detail"] for r in rows)}

    return build_corpus(root, "drum hits", profile, make_rows, force=force)
