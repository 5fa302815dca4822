"""Real recorded speech, downloaded once: Speech Commands v0.02, SC09 and FSDD.

Each ``prepare_*`` function downloads its archive (verified against a SHA-256
digest, resumable, see :mod:`audiomap_lib.data.download`), unpacks it safely,
and writes a course manifest (:mod:`audiomap_lib.data.manifest`) with one row per
clip, including each clip's own SHA-256. Everything is cached: a second call
returns the manifest at once, without the network.

=====================  ==========  ========  =====================================
corpus                 clips       rate      split
=====================  ==========  ========  =====================================
Speech Commands v0.02  105,829     16 kHz    the archive's own validation / testing
                                             lists (the rest is train)
SC09                   the ten     16 kHz    same as Speech Commands
                       digit words
FSDD v1.0.10           3,000       8 kHz     by speaker: one held out for test,
                                             one for validation (see below)
=====================  ==========  ========  =====================================

Nothing is resampled: FSDD's manifest says ``sr=8000`` and its clips stay at
8 kHz; bring them to 16 kHz yourself (``audiomap_lib.io.resample``) if a chapter
needs it.

Licences: Speech Commands is CC BY 4.0 (Warden, 2018, arXiv:1804.03209); FSDD is
CC BY-SA 4.0 (Z. Jackson et al., https://github.com/Jakobovski/free-spoken-digit-dataset).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..utils import get_cache_dir
from .digits import DIGITS
from .download import COMPLETE_MARKER, check_sha256, download_file, extract_archive
from .manifest import compute_sha256, read_manifest, write_manifest

__all__ = [
    "FSDD_SHA256",
    "FSDD_SPEAKERS",
    "FSDD_TEST_SPEAKERS",
    "FSDD_URL",
    "FSDD_V1_0_9_SHA256",
    "FSDD_V1_0_9_URL",
    "FSDD_VALIDATION_SPEAKERS",
    "SC09_WORDS",
    "SPEECH_COMMANDS_SHA256",
    "SPEECH_COMMANDS_URL",
    "SPEECH_COMMANDS_WORDS",
    "prepare_fsdd",
    "prepare_speech_commands",
]

# --------------------------------------------------------------------------
# Speech Commands v0.02

SPEECH_COMMANDS_URL = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
"""The archive published by Google (about 2.3 GB)."""

SPEECH_COMMANDS_SHA256 = "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58"
"""SHA-256 of :data:`SPEECH_COMMANDS_URL` (the digest torchaudio checks as well)."""

SPEECH_COMMANDS_WORDS: tuple[str, ...] = (
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward",
    "four", "go", "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on",
    "one", "right", "seven", "sheila", "six", "stop", "three", "tree", "two", "up",
    "visual", "wow", "yes", "zero",
)
"""The 35 words of Speech Commands v0.02, alphabetical."""

SC09_WORDS: tuple[str, ...] = DIGITS
"""The SC09 subset: the ten digit words, in numeric order (the same tuple as ``digits.DIGITS``)."""

_SC_LICENCE = "CC-BY-4.0"
_SC_BACKGROUND = "_background_noise_"

# --------------------------------------------------------------------------
# FSDD

FSDD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.zip"
"""GitHub's zip of the FSDD tag ``v1.0.10`` (commit d6938f9b, six speakers, 3,000 clips, ~16 MB).

Why the zip and not the ``.tar.gz`` of the same tag: a published SHA-256 was
found for the zip only (see :data:`FSDD_SHA256`); a download is never accepted
unverified.
"""

FSDD_SHA256 = "c680098f5d2355ba7cc4bd8b0ca9e0a24c00ebe3b4c552208889a4d28d4fbc2b"
"""SHA-256 of :data:`FSDD_URL` (16,419,872 bytes).

Provenance: taken from a published third-party audit of the v1.0.10 archive
(it also records the tag's commit d6938f9bf1545aa66d8489fc9f1385a7abd64282 and
the size); it could not be re-checked from the machine this module was written
on, which has no internet. GitHub builds these archives on request and has, on
rare occasions, changed their bytes; if the download fails with a checksum
mismatch, the error shows both digests. You can then unpack the archive,
compare it with the tag, and pass the new digest yourself:
``prepare_fsdd(sha256="...")``. Or use the v1.0.9 tar.gz below, whose digest
TensorFlow Datasets verifies (five speakers, no ``lucas``).
"""

FSDD_V1_0_9_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/v1.0.9.tar.gz"
"""The FSDD tag ``v1.0.9`` (five speakers, 2,500 clips): an alternative download."""

FSDD_V1_0_9_SHA256 = "8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0"
"""SHA-256 of :data:`FSDD_V1_0_9_URL` (11,975,353 bytes), as listed by TensorFlow Datasets."""

FSDD_SPEAKERS: tuple[str, ...] = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
"""The six speakers of FSDD v1.0.10 (v1.0.9 lacks ``lucas``)."""

FSDD_TEST_SPEAKERS: tuple[str, ...] = ("theo",)
"""Speakers held out for the test split (the course splits FSDD by speaker)."""

FSDD_VALIDATION_SPEAKERS: tuple[str, ...] = ("yweweler",)
"""Speakers held out for the validation split."""

_FSDD_LICENCE = "CC-BY-SA-4.0"
_FSDD_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)\.wav$")


# --------------------------------------------------------------------------
# shared helpers


def _resolve_root(root: str | Path | None, name: str) -> Path:
    if root is None:
        return get_cache_dir(name)
    path = Path(root).expanduser().absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _ensure_extracted(
    url: str, sha256: str, root: Path, archive_name: str, folder: str, keep_archive: bool, progress: bool
) -> Path:
    """Download (if needed) and unpack (if needed); return the unpacked folder."""
    target = root / folder
    if (target / COMPLETE_MARKER).is_file():
        return target
    archive = download_file(url, root / archive_name, sha256, progress=progress)
    extract_archive(archive, target)
    if not keep_archive:
        archive.unlink(missing_ok=True)
    return target


def _describe_clips(files: Sequence[Path], progress: bool, desc: str) -> list[tuple[str, int, int, int]]:
    """``(sha256, sr, samples, channels)`` of each file, computed in a thread pool."""
    import soundfile as sf
    from tqdm.auto import tqdm

    def describe(path: Path) -> tuple[str, int, int, int]:
        info = sf.info(str(path))
        return compute_sha256(path), int(info.samplerate), int(info.frames), int(info.channels)

    workers = min(16, 2 * (os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(
            tqdm(pool.map(describe, files, chunksize=64), total=len(files), desc=desc,
                 unit="clip", disable=not progress, leave=False)
        )
    return results


def _read_list(path: Path) -> set[str]:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path.name} is missing from {path.parent}: this does not look like an unpacked "
            f"Speech Commands archive (it should hold validation_list.txt and testing_list.txt)"
        )
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


# --------------------------------------------------------------------------
# Speech Commands / SC09


def prepare_speech_commands(
    root: str | Path | None = None,
    subset: str = "all",
    url: str = SPEECH_COMMANDS_URL,
    sha256: str = SPEECH_COMMANDS_SHA256,
    *,
    force: bool = False,
    keep_archive: bool = False,
    progress: bool = True,
) -> Path:
    """Download Speech Commands v0.02 and write its manifest (all 35 words, or SC09).

    The archive (~2.3 GB) is downloaded once into ``root``, checked against
    ``sha256`` and unpacked into ``root/speech_commands_v0.02-<digest[:8]>/``.
    Each clip becomes one manifest row:

    * ``label``: the word (the clip's folder), ``split``: ``"validation"`` if the
      clip is named in the archive's ``validation_list.txt``, ``"test"`` if in
      ``testing_list.txt``, else ``"train"`` (the official split: a speaker never
      crosses splits);
    * ``speaker``: the hash before ``_nohash_`` in ``<speaker>_nohash_<n>.wav``;
    * ``family``: ``"human"``; ``source``: ``"speech_commands_v0.02"`` or ``"sc09"``;
    * ``sr`` / ``samples`` read from the file (16 kHz, at most 16,000 samples --
      some clips are shorter, nothing is padded); ``sha256`` of each clip.

    The ``_background_noise_`` folder (long noise recordings, no word) is left out.

    Args:
        root: folder for the archive, the clips and the manifests; ``None`` means
            ``get_cache_dir("speech_commands")``.
        subset: ``"all"`` (35 words) or ``"sc09"`` (the ten digit words, SC09).
        url, sha256: where to download from and the digest to check (tests point
            these at a local server).
        force: rebuild the manifest even if it exists (the download is still reused).
        keep_archive: keep the ``.tar.gz`` after unpacking (2.3 GB); by default it
            is deleted once the clips are unpacked.
        progress: show progress bars.

    Returns:
        The manifest's path (``root/manifest-speech_commands-<subset>-<digest[:8]>.csv``).

    Raises:
        ValueError: bad ``subset`` / ``sha256``; checksum mismatch.
        DownloadError: offline or the download failed (the message says where the
            archive may be placed by hand).
    """
    if subset not in ("all", "sc09"):
        raise ValueError(f"subset must be 'all' or 'sc09'; got {subset!r}")
    digest = check_sha256(sha256)
    root = _resolve_root(root, "speech_commands")
    tag = digest[:8]
    manifest = root / f"manifest-speech_commands-{subset}-{tag}.csv"
    data = root / f"speech_commands_v0.02-{tag}"
    if manifest.is_file() and (data / COMPLETE_MARKER).is_file() and not force:
        return manifest

    # SC09 from an existing full manifest: no need to hash the clips again.
    full = root / f"manifest-speech_commands-all-{tag}.csv"
    if subset == "sc09" and full.is_file() and (data / COMPLETE_MARKER).is_file() and not force:
        rows = []
        for row in read_manifest(full):
            if row["label"] in SC09_WORDS:
                row = {k: v for k, v in row.items() if k != "file"}
                row["source"] = "sc09"
                rows.append(row)
        return write_manifest(manifest, rows)

    data = _ensure_extracted(
        url, digest, root, f"speech_commands_v0.02-{tag}.tar.gz", data.name, keep_archive, progress
    )
    validation = _read_list(data / "validation_list.txt")
    testing = _read_list(data / "testing_list.txt")

    words = sorted(
        p.name for p in data.iterdir() if p.is_dir() and not p.name.startswith("_")
    )
    if subset == "sc09":
        words = [w for w in SC09_WORDS if w in words]
    files: list[Path] = []
    for word in words:
        files.extend(sorted((data / word).glob("*.wav")))
    if not files:
        raise ValueError(f"no word clips (<word>/<speaker>_nohash_<n>.wav) found under {data}")

    described = _describe_clips(files, progress, f"hashing {len(files)} clips")
    source = "speech_commands_v0.02" if subset == "all" else "sc09"
    rows = []
    for path, (clip_sha, sr, samples, _channels) in zip(files, described):
        rel = f"{path.parent.name}/{path.name}"
        split = "validation" if rel in validation else "test" if rel in testing else "train"
        rows.append({
            "path": path.relative_to(root).as_posix(),
            "label": path.parent.name,
            "split": split,
            "speaker": path.name.split("_nohash_")[0],
            "family": "human",
            "source": source,
            "sr": sr,
            "samples": samples,
            "sha256": clip_sha,
            "licence": _SC_LICENCE,
            "detail": f"original: {rel}",
        })
    return write_manifest(manifest, rows)


# --------------------------------------------------------------------------
# FSDD


def prepare_fsdd(
    root: str | Path | None = None,
    url: str = FSDD_URL,
    sha256: str = FSDD_SHA256,
    *,
    test_speakers: Iterable[str] = FSDD_TEST_SPEAKERS,
    validation_speakers: Iterable[str] = FSDD_VALIDATION_SPEAKERS,
    force: bool = False,
    keep_archive: bool = True,
    progress: bool = True,
) -> Path:
    """Download the Free Spoken Digit Dataset and write a manifest split by speaker.

    Clips are named ``<digit>_<speaker>_<index>.wav`` (8 kHz mono, 16-bit). FSDD's
    own convention puts indices 0-4 of every speaker in the test set, which
    lets the test speakers also appear in training; this course instead holds
    out whole speakers: ``test_speakers`` for ``"test"``, ``validation_speakers``
    for ``"validation"``, everyone else for ``"train"``. The ``detail`` column
    records the conventional split too (``fsdd-convention=test`` for indices
    0-4), so you can compare.

    ``sha256`` is required and checked: the default :data:`FSDD_SHA256` is the
    published digest of :data:`FSDD_URL` (read its note on provenance). There is
    no "trust on first use": to use another archive, pass its ``url`` *and* its
    ``sha256`` (e.g. ``url=FSDD_V1_0_9_URL, sha256=FSDD_V1_0_9_SHA256``).

    Manifest rows: ``label`` ``"zero"`` ... ``"nine"``, ``family`` ``"human"``,
    ``source`` ``"fsdd"``, ``sr`` the file's rate (8000 -- nothing is resampled),
    ``samples`` the clip's length (clips vary, roughly 0.14-2.3 s), ``sha256``
    per clip, ``licence`` ``CC-BY-SA-4.0``.

    Args:
        root: folder for the archive, clips and manifest; ``None`` means
            ``get_cache_dir("fsdd")``.
        url, sha256: where to download from and the digest to check.
        test_speakers, validation_speakers: the held-out speakers (disjoint,
            non-empty, present in the archive).
        force: rebuild the manifest even if it exists.
        keep_archive: keep the downloaded archive (small, ~16 MB).
        progress: show progress bars.

    Returns:
        The manifest's path (``root/manifest-fsdd-<digest[:8]>-test-...-val-....csv``).

    Raises:
        ValueError: bad ``sha256``, overlapping or unknown speakers, an unexpected
            file name, checksum mismatch.
        DownloadError: offline or the download failed.
    """
    digest = check_sha256(sha256)
    test_set = tuple(sorted({str(s) for s in test_speakers}))
    val_set = tuple(sorted({str(s) for s in validation_speakers}))
    if not test_set or not val_set:
        raise ValueError(
            f"test_speakers and validation_speakers must each name at least one speaker; "
            f"got {test_set} and {val_set}"
        )
    if set(test_set) & set(val_set):
        raise ValueError(
            f"test_speakers and validation_speakers must be disjoint; both hold {sorted(set(test_set) & set(val_set))}"
        )
    root = _resolve_root(root, "fsdd")
    tag = digest[:8]
    manifest = root / f"manifest-fsdd-{tag}-test-{'+'.join(test_set)}-val-{'+'.join(val_set)}.csv"
    data = root / f"fsdd-{tag}"
    if manifest.is_file() and (data / COMPLETE_MARKER).is_file() and not force:
        return manifest

    suffix = ".zip" if url.lower().endswith(".zip") else ".tar.gz"
    data = _ensure_extracted(url, digest, root, f"fsdd-{tag}{suffix}", data.name, keep_archive, progress)
    files = sorted(data.glob("**/recordings/*.wav"))
    if not files:
        raise ValueError(f"no recordings/<digit>_<speaker>_<index>.wav files found under {data}")
    parsed = []
    for path in files:
        m = _FSDD_NAME.match(path.name)
        if m is None:
            raise ValueError(
                f"unexpected FSDD file name {path.name!r} in {path.parent}; expected <digit>_<speaker>_<index>.wav"
            )
        parsed.append((path, int(m.group(1)), m.group(2), int(m.group(3))))
    found = sorted({spk for _, _, spk, _ in parsed})
    unknown = sorted(set(test_set + val_set) - set(found))
    if unknown:
        raise ValueError(
            f"test_speakers / validation_speakers name {unknown}, who are not in this archive; "
            f"its speakers are {found}"
        )
    if not set(found) - set(test_set) - set(val_set):
        raise ValueError(f"no speaker is left for training: all of {found} are held out")

    described = _describe_clips(files, progress, f"hashing {len(files)} clips")
    rows = []
    for (path, digit, speaker, index), (clip_sha, sr, samples, _channels) in zip(parsed, described):
        split = "test" if speaker in test_set else "validation" if speaker in val_set else "train"
        rows.append({
            "path": path.relative_to(root).as_posix(),
            "label": SC09_WORDS[digit],
            "split": split,
            "speaker": speaker,
            "family": "human",
            "source": "fsdd",
            "sr": sr,
            "samples": samples,
            "sha256": clip_sha,
            "licence": _FSDD_LICENCE,
            "detail": (
                f"original: recordings/{path.name}; split by speaker (course); "
                f"fsdd-convention={'test' if index <= 4 else 'train'}"
            ),
        })
    return write_manifest(manifest, rows)
