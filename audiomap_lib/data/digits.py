"""Spoken digits built offline from the English voices Debian offers (Chapter 1).

The corpus has the shape of SC09 (the ten digits of Speech Commands): every clip
is one word, ``"zero"`` ... ``"nine"``, 16 kHz mono, exactly 1 s (16000 samples),
16-bit WAV, laid out as ``<root>/<label>/<speaker>_<variant>.wav`` with a
``manifest.csv`` (see :mod:`audiomap_lib.data.manifest`) and a
``build_report.json`` beside it.

Three *families* of voices:

* ``espeak``   -- espeak-ng formant synthesis: every English accent of ``gmw/``
  (en-gb, en-us, en-gb-scotland, en-gb-x-rp, en-029, en-us-nyc ...) times every
  voice variant (``+m3``, ``+f2``, ``+klatt`` ...). A *speaker* is one
  accent+variant; pitch (``-p``) and rate (``-s``) are variations of a speaker.
* ``flite``    -- flite voices kal, kal16, awb, rms, slt (built from recordings of
  real people); rate via ``duration_stretch``, pitch via ``int_f0_target_mean``.
* ``festival`` -- festival voices kal_diphone, ked_diphone, cmu_us_slt_arctic_hts;
  rate via ``Duration_Stretch`` (``-r`` for the HTS voice), pitch via
  ``int_lr_params`` (the HTS voice's pitch cannot be changed).

The speaker of a natural voice is the *person* recorded: flite kal / kal16 and
festival kal_diphone are all ``kal``; flite slt and festival slt_hts are ``slt``.

Splits are disjoint by speaker and deterministic:

* test       = ``rms`` (flite) + ``ked`` (festival) + the espeak speakers whose
  SHA-256 of ``"<accent>+<variant>"`` is 0..14 modulo 100 (about 15 %);
* validation = ``awb`` (flite) + the espeak speakers at 15..29 (about 15 %);
* train      = ``kal``, ``slt`` and the remaining espeak speakers.

Which espeak speakers and which rate/pitch settings are synthesised depends on
the profile (a seeded subsample of the grid); natural voices get more settings
each so they are not drowned. Each clip is silence-trimmed (energy threshold),
peak-normalised to 0.9 (loudness must not reveal the family) and centred in
1 s. A word longer than 1 s after trimming is never cropped: it is skipped and
listed in ``build_report.json``; so is a setting the voice ignores (a duplicate).
"""
from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from audiomap_lib.data.manifest import build_corpus, compute_sha256, map_in_processes
from audiomap_lib.io import normalize_peak, pad_or_crop, resample, save_audio, trim_silence
from audiomap_lib.utils import by_profile, get_cache_dir

__all__ = ["CLIP_SAMPLES", "DIGITS", "SAMPLE_RATE", "build_spoken_digits", "list_voices"]

DIGITS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
"""The ten labels, in numeric order."""
SAMPLE_RATE: int = 16000
"""Sample rate of every clip, in Hz."""
CLIP_SAMPLES: int = 16000
"""Length of every clip in samples (1 s)."""

PEAK = 0.9
SEED = 1234
APT_HINT = "sudo apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"
_LICENCES = {
    "espeak-ng": "GPL-3.0-or-later (espeak-ng; /usr/share/doc/espeak-ng-data/copyright)",
    "flite": "Flite/CMU licence, BSD-style (/usr/share/doc/flite/copyright)",
    "festival-diphone": "Festvox diphone licence, free use and distribution (/usr/share/doc/festvox-kallpc16k/copyright)",
    "festival-hts": "BSD-3-clause, CMU ARCTIC (/usr/share/doc/festvox-us-slt-hts/copyright)",
}
# family, speaker, program, voice id, default f0 in Hz (None: the voice ignores pitch settings), licence key
_NATURAL = (
    ("flite", "kal", "flite", "kal", 105.0, "flite"),
    ("flite", "kal", "flite", "kal16", 105.0, "flite"),
    ("flite", "awb", "flite", "awb", 110.0, "flite"),
    ("flite", "rms", "flite", "rms", None, "flite"),
    ("flite", "slt", "flite", "slt", 170.0, "flite"),
    ("festival", "kal", "festival", "kal_diphone", 105.0, "festival-diphone"),
    ("festival", "ked", "festival", "ked_diphone", 105.0, "festival-diphone"),
    ("festival", "slt", "festival", "cmu_us_slt_arctic_hts", None, "festival-hts"),
)
_NATURAL_SPLIT = {"kal": "train", "slt": "train", "awb": "validation", "rms": "test", "ked": "test"}


def _run(cmd: list[str], timeout: float = 60.0) -> str:
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({out.returncode}): {out.stderr.strip()[:300]}")
    return out.stdout


def _require(program: str) -> None:
    if shutil.which(program) is None:
        raise RuntimeError(f"the program {program!r} is not installed; install the voices with: {APT_HINT}")


def list_voices() -> list[dict[str, str]]:
    """Describe every English voice installed here (Chapter 1).

    Returns:
        One dict per voice with keys ``family`` (``"espeak"``, ``"flite"``,
        ``"festival"``), ``speaker`` (who is heard; espeak: ``"<accent>+<variant>"``),
        ``program`` (``"espeak-ng"``, ``"flite"``, ``"festival"``) and ``voice``
        (the id passed to the program).

    Raises:
        RuntimeError: a program or a natural voice is missing; the message names
            the Debian packages to install.
    """
    for program in ("espeak-ng", "flite", "festival", "text2wave"):
        _require(program)
    accents, variants = [], []
    for line in _run(["espeak-ng", "--voices=en"]).splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5 and cols[4].startswith("gmw/") and cols[4][4:] not in accents:
            accents.append(cols[4][4:])
    for line in _run(["espeak-ng", "--voices=variant"]).splitlines()[1:]:
        name = line[line.find("!v/") + 3:].split("  ")[0].strip() if "!v/" in line else ""
        if name and " " not in name and name not in variants:
            variants.append(name)
    # a few accents / variants only rename another one: keep one of each group that sounds identical
    accents = _drop_aliases(accents, lambda a: f"gmw/{a}")
    variants = _drop_aliases(variants, lambda v: f"gmw/en-US+{v}")
    if not accents or not variants:
        raise RuntimeError(f"espeak-ng lists no English accents or no variants; reinstall with: {APT_HINT}")
    found = {"flite": set(_run(["flite", "-lv"]).replace("Voices available:", "").split())}
    found["festival"] = set(_run(["festival", "-b", "(print (voice.list))"]).strip("()\n ").split())
    voices = [
        {"family": "espeak", "speaker": f"{a.lower()}+{v}", "program": "espeak-ng", "voice": f"gmw/{a}+{v}"}
        for a in accents for v in variants
    ]
    for family, speaker, program, voice, _f0, _lic in _NATURAL:
        if voice not in found[program]:
            raise RuntimeError(f"the {program} voice {voice!r} is not installed; install it with: {APT_HINT}")
        voices.append({"family": family, "speaker": speaker, "program": program, "voice": voice})
    return voices


def _drop_aliases(names: list[str], to_voice) -> list[str]:
    """Keep the first name (alphabetically) of each group of espeak voices that say the ten digits identically."""
    def fingerprint(name: str) -> bytes:
        out = subprocess.run(["espeak-ng", "-v", to_voice(name), "--stdout", " ".join(DIGITS)], check=False,
                             capture_output=True)
        return hashlib.sha256(out.stdout).digest()

    with ThreadPoolExecutor(max_workers=4) as pool:
        prints = list(pool.map(fingerprint, names))
    first: dict[bytes, str] = {}
    for name, fp in sorted(zip(names, prints), key=lambda nf: nf[0].lower()):
        first.setdefault(fp, name)
    return sorted(first.values(), key=str.lower)


def _plan(profile: str, voices: list[dict[str, str]]) -> list[dict]:
    """The takes to synthesise: one take = one voice at one setting, saying all ten digits."""
    rng = random.Random(SEED)
    n_espeak = by_profile(quick=(6, 2, 2), standard=(70, 15, 15), full=(420, 90, 90), profile=profile)
    espeak_settings = by_profile(quick=1, standard=3, full=2, profile=profile)
    natural_settings = by_profile(quick=3, standard=25, full=60, profile=profile)
    takes: list[dict] = []
    pools: dict[str, list[str]] = {s: [] for s in ("train", "validation", "test")}
    for v in voices:
        if v["family"] == "espeak":
            pools[_espeak_split(v["speaker"])].append(v["speaker"])
    grid = [(p, s) for p in range(20, 81, 10) for s in (130, 145, 160, 175, 190)]
    for split, n in zip(("train", "validation", "test"), n_espeak):
        for speaker in rng.sample(sorted(pools[split]), min(n, len(pools[split]))):
            for pitch, rate in rng.sample(grid, espeak_settings):
                takes.append({"family": "espeak", "speaker": speaker, "program": "espeak-ng", "voice": speaker,
                              "split": split, "licence": _LICENCES["espeak-ng"], "pitch": pitch, "rate": rate,
                              "variant": f"p{pitch}-s{rate}"})
    for family, speaker, program, voice, f0, lic in _NATURAL:
        stretches = np.linspace(0.8, 1.3, 11 if f0 else max(natural_settings, 3)).round(3).tolist()
        f0s = [round(f0 * r) for r in np.linspace(0.8, 1.3, 9)] if f0 else [0]
        settings = [(d, f) for d in stretches for f in f0s]
        for stretch, target in rng.sample(settings, min(natural_settings, len(settings))):
            tag = f"{voice.split('_')[0]}-d{stretch:.3f}" + (f"-f{target}" if target else "")
            takes.append({"family": family, "speaker": speaker, "program": program, "voice": voice,
                          "split": _NATURAL_SPLIT[speaker], "licence": _LICENCES[lic], "stretch": stretch,
                          "f0": target, "variant": f"{program}-{tag}"})
    return takes


def _espeak_split(speaker: str) -> str:
    bucket = int(hashlib.sha256(speaker.encode()).hexdigest(), 16) % 100
    return "test" if bucket < 15 else "validation" if bucket < 30 else "train"


def _synthesize(take: dict, tmp: Path) -> list[Path]:
    """Write the ten digits of a take as the program's own WAV files; returns their paths."""
    paths = [tmp / f"{i}.wav" for i in range(len(DIGITS))]
    if take["program"] == "espeak-ng":
        for word, path in zip(DIGITS, paths):
            _run(["espeak-ng", "-v", take["voice"], "-p", str(take["pitch"]), "-s", str(take["rate"]),
                  "-w", str(path), word])
    elif take["program"] == "flite":
        extra = ["--setf", f"int_f0_target_mean={take['f0']}"] if take["f0"] else []
        for word, path in zip(DIGITS, paths):
            _run(["flite", "-voice", take["voice"], "-t", word, "-o", str(path),
                  "--setf", f"duration_stretch={take['stretch']}", *extra])
    else:
        lines = [f"(voice_{take['voice']})"]
        if take["voice"].endswith("_hts"):
            lines.append(f"(set! hts_engine_params (append hts_engine_params '((\"-r\" {1 / take['stretch']:.4f}))))")
        else:
            lines.append(f"(Parameter.set 'Duration_Stretch {take['stretch']})")
        if take["f0"]:
            lines.append(f"(set! int_lr_params '((target_f0_mean {take['f0']}) (target_f0_std {take['f0'] * 0.14:.1f})"
                         " (model_f0_mean 170) (model_f0_std 34)))")
        lines += [f"(utt.save.wave (SynthText \"{w}\") \"{p.as_posix()}\" 'riff)" for w, p in zip(DIGITS, paths)]
        script = tmp / "take.scm"
        script.write_text("\n".join(lines) + "\n")
        _run(["festival", "--batch", str(script)])
    return paths


def _make_take(args: tuple[dict, str]) -> tuple[list[dict], list[dict]]:
    """Synthesise, trim, normalise and write one take. Returns (manifest rows, skipped clips)."""
    take, out_dir = args
    torch.set_num_threads(1)
    rows, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="audiomap-digit-") as tmp:
        for word, path in zip(DIGITS, _synthesize(take, Path(tmp))):
            data, sr = sf.read(str(path), dtype="float32", always_2d=True)
            wav = torch.from_numpy(data.mean(axis=1))
            wav = trim_silence(resample(wav, sr, SAMPLE_RATE) if sr != SAMPLE_RATE else wav, SAMPLE_RATE)
            name = f"{word}/{take['speaker']}_{take['variant']}.wav"
            if wav.numel() == 0 or wav.shape[0] > CLIP_SAMPLES:
                reason = "silent" if wav.numel() == 0 else f"{wav.shape[0]} samples after trimming > {CLIP_SAMPLES}"
                skipped.append({"path": name, "reason": reason})
                continue
            clip = pad_or_crop(normalize_peak(wav, PEAK), CLIP_SAMPLES, mode="center", allow_crop=False)
            file = save_audio(Path(out_dir) / name, clip, SAMPLE_RATE)
            settings = {k: take[k] for k in ("pitch", "rate", "stretch", "f0") if take.get(k)}
            rows.append({"path": name, "label": word, "split": take["split"], "speaker": take["speaker"],
                         "family": take["family"], "source": take["program"], "sr": SAMPLE_RATE,
                         "samples": CLIP_SAMPLES, "sha256": compute_sha256(file), "licence": take["licence"],
                         "detail": f"voice={take['voice']} " + " ".join(f"{k}={v}" for k, v in settings.items())
                         + f" native_sr={sr} trimmed={wav.shape[0]}"})
    return rows, skipped


def _drop_duplicates(rows: list[dict], root: Path) -> tuple[list[dict], list[dict]]:
    """Remove clips whose audio equals an earlier clip's (a setting that the voice ignored)."""
    seen: dict[str, str] = {}
    kept, dropped = [], []
    for row in rows:
        if row["sha256"] in seen:
            (root / row["path"]).unlink()
            dropped.append({"path": row["path"], "reason": f"identical to {seen[row['sha256']]}"})
        else:
            seen[row["sha256"]] = row["path"]
            kept.append(row)
    return kept, dropped


def build_spoken_digits(profile: str | None = None, root: str | Path | None = None, force: bool = False) -> Path:
    """Build (or find cached) the offline spoken-digit corpus (Chapter 1).

    Args:
        profile: ``"quick"`` (a few hundred clips, seconds), ``"standard"``
            (about 5000 clips, under a minute on 2 cores) or ``"full"`` (about
            17000); ``None`` reads ``AUDIOMAP_PROFILE``.
        root: the corpus folder; default ``get_cache_dir("digits", profile)``.
        force: rebuild even when ``root/manifest.csv`` exists.

    Returns:
        Path of ``manifest.csv``. Clips: 16 kHz mono 16-bit WAV of 16000 samples,
        peak 0.9. ``build_report.json`` beside it holds the counts per split and
        family, the skipped clips (too long, silent, duplicate) and the time taken.

    Raises:
        ValueError: unknown ``profile``. RuntimeError: a voice program is missing.
    """
    profile = by_profile("quick", "standard", "full", profile=profile)
    root = Path(root) if root is not None else get_cache_dir("digits", profile)

    def make_rows(tmp_root: Path) -> tuple[list[dict], dict]:
        takes = _plan(profile, list_voices())
        takes.sort(key=lambda t: t["program"] != "festival")  # festival takes are slowest (start-up): first
        rows: list[dict] = []
        skipped: list[dict] = []
        for r, s in map_in_processes(_make_take, [(t, str(tmp_root)) for t in takes], chunksize=4):
            rows += r
            skipped += s
        rows.sort(key=lambda r: r["path"])
        rows, duplicates = _drop_duplicates(rows, tmp_root)
        return rows, {"skipped_count": len(skipped) + len(duplicates), "skipped": skipped + duplicates}

    return build_corpus(root, "spoken digits", profile, make_rows, force=force)
