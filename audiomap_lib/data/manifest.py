"""The manifest: one CSV row per clip, shared by every corpus of the course.

Columns (all corpora write them, in this order; empty string when unknown):

==========  ===================================================================
``path``    the clip's file, relative to the manifest's folder (POSIX slashes)
``label``   the class name (``"zero"`` ... ``"nine"``, ``"kick"``, ``"snare"`` ...)
``split``   ``"train"``, ``"validation"`` or ``"test"``
``speaker`` who is heard (a voice, a human speaker id, a drum kit); splits are disjoint by it
``family``  a group of speakers reported separately (``"espeak"``, ``"flite"``, ``"festival"``, ``"human"``, a kit source)
``source``  the corpus / program that made the clip (``"espeak-ng"``, ``"sc09"``, ``"hydrogen"`` ...)
``sr``      sample rate in Hz
``samples`` number of samples
``sha256``  hex digest of the file's bytes
``licence`` the clip's licence (drum kits differ; synthetic speech: the voice's)
``detail``  free text: synthesis settings, original file name ...
==========  ===================================================================
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "MANIFEST_COLUMNS", "SPLITS", "write_manifest", "read_manifest", "compute_sha256", "count_rows", "replace_folder",
    "build_corpus", "map_in_processes",
]

T = TypeVar("T")
R = TypeVar("R")

MANIFEST_COLUMNS: tuple[str, ...] = (
    "path", "label", "split", "speaker", "family", "source", "sr", "samples", "sha256", "licence", "detail",
)
SPLITS: tuple[str, ...] = ("train", "validation", "test")


def compute_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 digest of a file's bytes.

    Returns:
        A 64-character lowercase hex string.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(path: str | Path, rows: Iterable[Mapping[str, object]]) -> Path:
    """Write manifest rows to a CSV file atomically (temporary file, then rename).

    Returns:
        The manifest's path.

    Raises:
        ValueError: a row lacks a column, has an unknown one, or an unknown split.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
            writer.writeheader()
            for i, row in enumerate(rows):
                keys = set(row)
                if keys != set(MANIFEST_COLUMNS):
                    raise ValueError(
                        f"rows[{i}] must have exactly the columns {MANIFEST_COLUMNS}; "
                        f"missing {sorted(set(MANIFEST_COLUMNS) - keys)}, unknown {sorted(keys - set(MANIFEST_COLUMNS))}"
                    )
                if row["split"] not in SPLITS:
                    raise ValueError(f"rows[{i}]['split'] must be one of {SPLITS}; got {row['split']!r}")
                writer.writerow({k: row[k] for k in MANIFEST_COLUMNS})
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write leaves neither a half file nor a changed manifest
        raise
    return path


def read_manifest(path: str | Path, split: str | None = None) -> list[dict[str, object]]:
    """Read a manifest CSV.

    Args:
        path: the manifest file.
        split: keep only this split (``None``: all rows).

    Returns:
        A list of dicts with the columns of :data:`MANIFEST_COLUMNS`; ``sr`` and
        ``samples`` as ``int``, and an extra key ``file`` holding the clip's
        absolute :class:`~pathlib.Path`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no manifest at {path}")
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None; got {split!r}")
    rows: list[dict[str, object]] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != MANIFEST_COLUMNS:
            raise ValueError(f"{path} is not a course manifest: columns {reader.fieldnames}, expected {MANIFEST_COLUMNS}")
        for row in reader:
            if split is not None and row["split"] != split:
                continue
            out: dict[str, object] = dict(row)
            out["sr"] = int(row["sr"]) if row["sr"] else 0
            out["samples"] = int(row["samples"]) if row["samples"] else 0
            out["file"] = (path.parent / row["path"]).resolve()
            rows.append(out)
    return rows


def count_rows(rows: list[dict], key: str = "family") -> dict[str, dict[str, int]]:
    """Count manifest rows per split and ``key`` (returns ``{split: {value: count}}``)."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        bucket = counts.setdefault(str(row["split"]), {})
        bucket[str(row[key])] = bucket.get(str(row[key]), 0) + 1
    return counts


def replace_folder(tmp_root: Path, root: Path) -> None:
    """Move a finished corpus build from ``tmp_root`` to ``root``, replacing an old one.

    Used by the corpus builders so that an interrupted build never leaves a half corpus:
    they build in a temporary sibling folder and call this at the end.
    """
    old = root.with_name(f".{root.name}.old-{os.getpid()}")
    if root.exists():
        root.rename(old)
    tmp_root.rename(root)
    shutil.rmtree(old, ignore_errors=True)


def map_in_processes(fn: Callable[[T], R], items: Sequence[T], chunksize: int = 1) -> list[R]:
    """``[fn(item) for item in items]`` in a pool of up to 8 worker processes (one per core), in order.

    The corpus builders' pool: ``fn`` must be a module-level function (it is pickled).
    """
    with ProcessPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
        return list(pool.map(fn, items, chunksize=chunksize))


def build_corpus(
    root: Path, corpus: str, profile: str,
    make_rows: Callable[[Path], tuple[list[dict[str, Any]], dict[str, Any]]], force: bool = False,
) -> Path:
    """The build skeleton shared by the offline corpora (digits and drums; Chapter 1).

    If ``root/manifest.csv`` exists (and not ``force``) it is returned at once.
    Otherwise a temporary sibling folder ``.<root.name>.building-*`` is made and
    ``make_rows(tmp_root)`` writes the clips into it; then ``manifest.csv`` and
    ``build_report.json`` are written there and the folder replaces ``root`` in one
    rename (:func:`replace_folder`). On any error, or Ctrl-C, the temporary folder is
    removed and an older ``root`` is left untouched.

    Args:
        root: the corpus folder.
        corpus: its name in the report (``"spoken digits"``).
        profile: the run profile, recorded in the report.
        make_rows: writes the clips under the folder it is given and returns
            ``(rows, report)``: the manifest rows (paths relative to that folder)
            and more entries for ``build_report.json``.
        force: rebuild even when the manifest exists.

    Returns:
        Path of ``root/manifest.csv``. The report holds ``corpus``, ``profile``,
        ``clips``, ``counts`` (per split and family), ``labels`` (per split and
        label), the entries of ``make_rows`` and ``seconds`` (the build time, s).
    """
    root = Path(root)
    manifest = root / "manifest.csv"
    if manifest.is_file() and not force:
        return manifest
    start = time.perf_counter()
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=f".{root.name}.building-", dir=root.parent))
    try:
        rows, extra = make_rows(tmp_root)
        write_manifest(tmp_root / "manifest.csv", rows)
        report = {"corpus": corpus, "profile": profile, "clips": len(rows), "counts": count_rows(rows),
                  "labels": count_rows(rows, "label"), **extra, "seconds": round(time.perf_counter() - start, 2)}
        (tmp_root / "build_report.json").write_text(json.dumps(report, indent=1))
        replace_folder(tmp_root, root)
    except BaseException:
        shutil.rmtree(tmp_root, ignore_errors=True)
        raise
    return manifest
