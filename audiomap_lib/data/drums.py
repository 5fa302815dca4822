"""Recorded drum one-shots from Debian's drum kits (Chapter 1; the WaveGAN chapters).

Sources: every kit of ``hydrogen-drumkits`` (``/usr/share/hydrogen/data/drumkits/*/drumkit.xml``
and its WAV / FLAC / AIFF samples; every velocity layer is a clip) and the drum
samples of ``sonic-pi-samples`` (``/usr/share/sonic-pi/samples``).

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

Splits are disjoint by kit: the kits are shuffled with a fixed seed and dealt to
test, then validation, until each holds at least 15 % of the clips; the rest is
train (the next seed is tried until every label appears in train).
"""
from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import soundfile as sf
import torch

from audiomap_lib.data.manifest import build_corpus, compute_sha256, count_rows, map_in_processes
from audiomap_lib.io import normalize_peak, pad_or_crop, resample, save_audio, to_mono, trim_silence
from audiomap_lib.utils import by_profile, get_cache_dir

__all__ = [
    "CLIP_SAMPLES",
    "DRUM_LABELS",
    "HYDROGEN_DIR",
    "SAMPLE_RATE",
    "SONIC_PI_DIR",
    "build_drum_hits",
    "label_instrument",
    "list_drum_samples",
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


def _make_clip(path: str) -> tuple[torch.Tensor, str]:
    """Read, trim, resample, normalise and pad/crop one hit; returns (clip, detail)."""
    torch.set_num_threads(1)
    info = sf.info(path)
    sr, cap = info.samplerate, 6 * info.samplerate  # a hit never needs more than its first seconds
    data, _ = sf.read(path, dtype="float32", always_2d=True, frames=min(info.frames, cap))
    wav = trim_silence(to_mono(torch.from_numpy(data.T.copy()))[0], sr, threshold_db=-50.0, frame_ms=2.0)
    if wav.numel() == 0:
        raise ValueError("silent")
    n_native = wav.shape[0] if info.frames <= cap else wav.shape[0] + info.frames - cap
    n = -(-n_native * SAMPLE_RATE // sr)  # the hit's length at 16 kHz
    wav = resample(wav[: -(-(CLIP_SAMPLES + 64) * sr // SAMPLE_RATE)], sr, SAMPLE_RATE)
    detail = f"native_sr={sr}"
    if n > CLIP_SAMPLES:
        wav = wav[:CLIP_SAMPLES].clone()
        wav[-_FADE:] *= torch.linspace(1.0, 0.0, _FADE)
        detail += f" cropped from {n} samples with a {_FADE}-sample fade-out"
    clip = pad_or_crop(normalize_peak(wav[:CLIP_SAMPLES], PEAK), CLIP_SAMPLES, mode="start", allow_crop=False)
    return clip, detail


def _try_clip(path: str) -> tuple[torch.Tensor | None, str]:
    try:
        return _make_clip(path)
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
        per_group = by_profile(quick=4, standard=None, full=None, profile=profile)
        splits = _assign_splits(samples)
        if per_group is not None:  # the first hits of each kit and label
            counts: dict[tuple[str, str], int] = {}
            kept = []
            for s in samples:
                counts[(s["kit"], s["label"])] = counts.get((s["kit"], s["label"]), 0) + 1
                if counts[(s["kit"], s["label"])] <= per_group:
                    kept.append(s)
            samples = kept
        clips = map_in_processes(_try_clip, [s["file"] for s in samples], chunksize=8)
        rows: list[dict] = []
        skipped: list[dict] = []
        seen: set[str] = set()
        taken: dict[tuple[str, str], int] = {}
        for s, (clip, detail) in zip(samples, clips):
            group = (s["kit"], s["label"])
            if clip is None:
                skipped.append({"file": s["file"], "reason": detail})
                continue
            taken[group] = taken.get(group, 0) + 1
            kit_id = re.sub(r"[^A-Za-z0-9.-]+", "-", s["kit"]).strip("-")
            name = f"{s['label']}/{kit_id}_{taken[group]:03d}.wav"
            file = save_audio(tmp_root / name, clip, SAMPLE_RATE)
            digest = compute_sha256(file)
            if digest in seen:  # the same sample used twice in a kit
                file.unlink()
                taken[group] -= 1
                skipped.append({"file": s["file"], "reason": "identical to another clip"})
                continue
            seen.add(digest)
            rows.append({"path": name, "label": s["label"], "split": splits[s["kit"]], "speaker": s["kit"],
                         "family": s["family"], "source": s["family"], "sr": SAMPLE_RATE, "samples": CLIP_SAMPLES,
                         "sha256": digest, "licence": s["licence"],
                         "detail": f"{Path(s['file']).name} (instrument {s['instrument']!r}) {detail}"})
        return rows, {"kits": count_rows(rows, "speaker"),
                      "left_out_unlabelled": left_out, "left_out_count": sum(left_out.values()),
                      "skipped_count": len(skipped), "skipped": skipped,
                      "cropped_count": sum("cropped" in r["detail"] for r in rows)}

    return build_corpus(root, "drum hits", profile, make_rows, force=force)
