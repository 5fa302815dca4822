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
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "MANIFEST_COLUMNS", "SPLITS", "write_manifest", "read_manifest", "compute_sha256", "count_rows", "replace_folder",
    "build_corpus", "map_in_processes", "remove_stale_builds",
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


PARENT_CHECK_S = 0.5
"""How often a pool worker checks that the process that started it is still alive (seconds)."""


def _exit_with_parent(parent_pid: int) -> None:
    """Pool-worker initializer: end this worker soon after its parent dies (even by ``kill -9``).

    Without it, a killed corpus build leaves its workers (hundreds of MB each) waiting forever.
    """
    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="audiomap-parent-watch", daemon=True).start()


def map_in_processes(fn: Callable[[T], R], items: Sequence[T], chunksize: int = 1) -> list[R]:
    """``[fn(item) for item in items]`` in a pool of up to 8 worker processes (one per core), in order.

    The corpus builders' pool: ``fn`` must be a module-level function (it is pickled). Each
    worker ends by itself within :data:`PARENT_CHECK_S` seconds if this process dies.
    """
    with ProcessPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1)),
                             initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        return list(pool.map(fn, items, chunksize=chunksize))


STALE_UNOWNED_S = 3600.0
"""A leftover build folder with no owner file is removed once it is this old (seconds)."""


def _is_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_builds(root: Path) -> list[Path]:
    """Remove what killed builds of ``root`` left beside it (``.<name>.building-*``, ``.<name>.old-*``).

    A folder is stale when the process named in its ``.owner`` file (pid and host) is gone on
    this host, or, without an owner file, when it is older than :data:`STALE_UNOWNED_S`. A
    running build's folder is never touched.

    Returns:
        The folders removed.
    """
    root = Path(root)
    removed = []
    host = socket.gethostname()
    for leftover in [*root.parent.glob(f".{root.name}.building-*"), *root.parent.glob(f".{root.name}.old-*")]:
        if not leftover.is_dir():
            continue
        try:
            pid_text, _, owner_host = (leftover / ".owner").read_text().strip().partition(" ")
            stale = owner_host == host and not _is_alive(int(pid_text))
        except (OSError, ValueError):
            try:
                stale = time.time() - leftover.stat().st_mtime > STALE_UNOWNED_S
            except OSError:
                continue
        if stale:
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(leftover)
    return removed


def build_corpus(
    root: Path, corpus: str, profile: str,
    make_rows: Callable[[Path], tuple[list[dict[str, Any]], dict[str, Any]]], force: bool = False,
) -> Path:
    """The build skeleton shared by the offline corpora (digits and drums; Chapter 1).

    If ``root/manifest.csv`` exists (and not ``force``) it is returned at once.
    Otherwise a temporary sibling folder ``.<root.name>.building-*`` is made and
    ``make_rows(tmp_root)`` writes the clips into it; then ``manifest.csv`` and
    ``build_report.json`` are written there and the folder replaces ``root`` in one
    rename (:func:`replace_folder`). A build killed outright (``kill -9``, a power cut) leaves
    its folder behind; the next build removes it (:func:`remove_stale_builds`), and the pool
    workers of :func:`map_in_processes` end by themselves. On any error, or Ctrl-C, the temporary folder is
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
    remove_stale_builds(root)
    tmp_root = Path(tempfile.mkdtemp(prefix=f".{root.name}.building-", dir=root.parent))
    try:
        (tmp_root / ".owner").write_text(f"{os.getpid()} {socket.gethostname()}\n")
        rows, extra = make_rows(tmp_root)
        write_manifest(tmp_root / "manifest.csv", rows)
        report = {"corpus": corpus, "profile": profile, "clips": len(rows), "counts": count_rows(rows),
                  "labels": count_rows(rows, "label"), **extra, "seconds": round(time.perf_counter() - start, 2)}
        (tmp_root / "build_report.json").write_text(json.dumps(report, indent=1))
        (tmp_root / ".owner").unlink()
        replace_folder(tmp_root, root)
    except BaseException:
        shutil.rmtree(tmp_root, ignore_errors=True)
        raise
    return manifest
