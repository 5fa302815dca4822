"""Verified, resumable, atomic downloads and safe archive extraction.

Two functions do all the network and unpacking work of the course:

* :func:`download_file` fetches one URL into a file, with a progress bar. The
  bytes go to ``<dest>.part`` first; a broken transfer is *resumed* later with
  an HTTP ``Range`` request; the finished file is checked against a SHA-256
  digest you must give, and only then renamed to ``dest`` (``os.replace``, so
  ``dest`` is either absent or complete and correct -- never half-written).
* :func:`extract_archive` unpacks a ``.tar``, ``.tar.gz`` / ``.tgz`` or
  ``.zip`` archive, refusing any member that would land outside the target
  folder (absolute paths, ``..``, links pointing out). It unpacks into a
  temporary sibling folder and renames it into place, then leaves a
  ``.complete`` marker so that a second call does nothing.

Only the standard library (``urllib``) talks to the network. When the machine
is offline the error (:class:`DownloadError`, a ``ConnectionError``) says so
plainly and tells you where to put the file by hand.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from .manifest import compute_sha256

__all__ = [
    "COMPLETE_MARKER",
    "DownloadError",
    "check_sha256",
    "download_file",
    "extract_archive",
]

PathLike = str | Path

COMPLETE_MARKER = ".complete"
"""Name of the file :func:`extract_archive` writes into a finished folder."""

RETRY_DELAY_S = 1.0
"""Seconds to wait before the first retry of an interrupted transfer (doubles each time)."""

_CHUNK = 1 << 16
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class DownloadError(ConnectionError):
    """A file could not be downloaded (offline, server error, transfer kept breaking).

    The message names the URL, the cause, and how to continue without the
    network (the exact path where the file can be placed by hand).
    """


def check_sha256(sha256: object, name: str = "sha256") -> str:
    """Check that ``sha256`` is a hex SHA-256 digest.

    Returns:
        The digest in lowercase (64 hex characters).

    Raises:
        ValueError: ``None``, or not 64 hexadecimal characters. Downloads in
            this course are always verified, so there is no "skip the check".
    """
    if sha256 is None:
        raise ValueError(
            f"{name} is required: every download is checked against a known SHA-256 "
            f"digest (64 hex characters) so that a corrupted or substituted file is never used"
        )
    if not isinstance(sha256, str) or not _HEX64.match(sha256.strip().lower()):
        raise ValueError(f"{name} must be a SHA-256 hex digest of 64 characters; got {sha256!r}")
    return sha256.strip().lower()


def _by_hand_advice(url: str, dest: Path, sha256: str) -> str:
    return (
        f"To continue without the network, either download {url} on another machine and "
        f"place it by hand at exactly\n    {dest}\n(its SHA-256 must be {sha256}), "
        f"or use the offline corpus instead: "
        f"audiomap_lib.data.datasets.get_digit_datasets(source='offline')."
    )


def _looks_offline(exc: BaseException) -> bool:
    """True for errors that mean 'no route to the server at all' (DNS, refused, unreachable)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (socket.gaierror, ConnectionRefusedError)):
        return True
    if isinstance(exc, urllib.error.URLError) and isinstance(reason, TimeoutError):
        return True  # the connection itself timed out (no answer at all), not a stalled transfer
    unreachable = (101, 113, 10051, 10065)  # ENETUNREACH, EHOSTUNREACH and their Windows twins
    return isinstance(reason, OSError) and getattr(reason, "errno", None) in unreachable


def _parse_content_range_start(value: str | None) -> int | None:
    """First byte of a ``Content-Range: bytes START-END/TOTAL`` header, or None."""
    if not value:
        return None
    m = re.match(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)", value)
    return int(m.group(1)) if m else None


def _fetch_once(url: str, part: Path, timeout: float, progress: bool) -> None:
    """Bring ``part`` one transfer closer to complete (resuming when it already holds bytes).

    Returns normally when the server says the file is complete; raises
    ``OSError`` / ``urllib.error.URLError`` / ``http.client`` errors otherwise
    (interrupted transfers raise :class:`_Interrupted`).
    """
    from tqdm.auto import tqdm

    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "audiomap-course-downloader/1.0", "Accept-Encoding": "identity"}
    if have > 0:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have > 0:
            # The part file is at least as long as the resource: let the
            # checksum decide whether it is already complete.
            exc.close()
            return
        raise
    with response:
        status = getattr(response, "status", 200)
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if have > 0 and status == 206:
            start = _parse_content_range_start(response.headers.get("Content-Range"))
            if start != have:
                raise _Interrupted(
                    f"the server answered a resume request for byte {have} with a range starting at {start}"
                )
            mode = "ab"
        else:
            # 200 (a fresh download, or a server that ignores Range): start over.
            have = 0
            mode = "wb"
        total = None if length is None else have + length
        received = 0
        with open(part, mode) as f, tqdm(
            total=total,
            initial=have,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=part.name.removesuffix(".part"),
            disable=not progress,
            leave=False,
        ) as bar:
            while True:
                block = response.read(_CHUNK)
                if not block:
                    break
                f.write(block)
                received += len(block)
                bar.update(len(block))
        if length is not None and received < length:
            raise _Interrupted(f"the connection closed after {received} of {length} bytes")


class _Interrupted(OSError):
    """A transfer stopped early; the ``.part`` file keeps what arrived."""


def download_file(
    url: str,
    dest: PathLike,
    sha256: str,
    *,
    progress: bool = True,
    timeout: float = 30,
    retries: int = 3,
) -> Path:
    """Download ``url`` to ``dest``, resuming broken transfers and verifying SHA-256.

    Steps:

    1. if ``dest`` already exists with the right digest, return at once (no network);
    2. download into ``<dest>.part``; if a ``.part`` file is left from an earlier,
       broken attempt, ask the server for the missing bytes only (HTTP ``Range``);
       a server that ignores ``Range`` (answers ``200``) is handled by starting over;
    3. an interrupted transfer is retried up to ``retries`` times, each resuming
       where the last stopped (waits of 1 s, 2 s, 4 s ... between tries);
    4. the finished ``.part`` is hashed; on a mismatch it is deleted and a
       ``ValueError`` is raised; on a match it is renamed to ``dest`` atomically.

    Args:
        url: an ``http://`` or ``https://`` address (``file://`` also works).
        dest: the file to create; parent folders are made.
        sha256: the expected SHA-256 hex digest of the file (required; no download
            in this course skips verification).
        progress: show a tqdm progress bar (bytes).
        timeout: seconds to wait for the server on connect and on each read.
        retries: how many times to resume after an interrupted transfer (>= 0).

    Returns:
        ``dest`` as a :class:`~pathlib.Path`, holding verified bytes.

    Raises:
        ValueError: ``sha256`` missing or malformed, ``retries`` negative, or the
            downloaded bytes have another digest (the message gives both digests;
            no file is left at ``dest`` or ``<dest>.part``).
        DownloadError: the machine appears to be offline (DNS failure, connection
            refused, network unreachable), the server answered an HTTP error, or the
            transfer broke more than ``retries`` times. The message names the URL
            and the exact path where you may place the file by hand. The partial
            ``.part`` file is kept, so calling again resumes.
    """
    expected = check_sha256(sha256)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative int; got {retries!r}")
    if not isinstance(url, str) or not url:
        raise ValueError(f"url must be a non-empty string; got {url!r}")
    dest = Path(dest).expanduser().absolute()
    if dest.is_dir():
        raise ValueError(f"dest must be a file path, but {dest} is a folder")
    if dest.is_file() and compute_sha256(dest) == expected:
        return dest
    # (a stale or corrupted dest is downloaded afresh; it is replaced only once verified)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    advice = _by_hand_advice(url, dest, expected)

    attempt = 0
    while True:
        try:
            _fetch_once(url, part, timeout, progress)
            break
        except urllib.error.HTTPError as exc:
            raise DownloadError(
                f"the server refused the download of {url}: HTTP {exc.code} {exc.reason}.\n{advice}"
            ) from exc
        except (urllib.error.URLError, OSError, EOFError) as exc:
            # http.client.IncompleteRead / RemoteDisconnected are OSError or
            # HTTPException subclasses; the latter is handled below.
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT):
                raise  # a local disk problem: retrying the network would not help
            if _looks_offline(exc):
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                raise DownloadError(
                    f"this machine appears to be offline (or the server is unreachable): could not reach it for "
                    f"{url} ({reason}).\n{advice}"
                ) from exc
            if attempt >= retries:
                kept = part.stat().st_size if part.exists() else 0
                raise DownloadError(
                    f"the download of {url} was interrupted ({exc}) and still failed after "
                    f"{retries} retr{'y' if retries == 1 else 'ies'}; {kept} bytes are kept in "
                    f"{part} and the next call resumes from there.\n{advice}"
                ) from exc
        except Exception as exc:  # http.client.HTTPException and friends
            import http.client

            if not isinstance(exc, http.client.HTTPException):
                raise
            if attempt >= retries:
                raise DownloadError(
                    f"the download of {url} failed ({type(exc).__name__}: {exc}) after "
                    f"{retries} retries; the partial file {part} is kept.\n{advice}"
                ) from exc
        time.sleep(RETRY_DELAY_S * (2**attempt))
        attempt += 1

    actual = compute_sha256(part)
    if actual != expected:
        part.unlink(missing_ok=True)
        raise ValueError(
            f"checksum mismatch for {url}: expected sha256 {expected}, got {actual}. "
            f"The downloaded bytes were deleted; nothing was written to {dest}. "
            f"Try again; if it keeps happening the file on the server has changed."
        )
    os.replace(part, dest)
    return dest


# ---------------------------------------------------------------------------
# extraction


def _member_error(archive: Path, member: str, why: str) -> ValueError:
    return ValueError(
        f"refusing to extract {archive.name}: member {member!r} {why}; "
        f"the archive may be corrupted or malicious, nothing was extracted"
    )


def _split_member_name(archive: Path, name: str) -> tuple[str, ...]:
    """Check one member name and return its path components (relative, no ``..``)."""
    if "\x00" in name:
        raise _member_error(archive, name, "contains a NUL character")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        raise _member_error(archive, name, "has an absolute path (it would be written outside the target)")
    parts = tuple(p for p in PurePosixPath(posix).parts if p not in ("", "."))
    if ".." in parts:
        raise _member_error(archive, name, "contains '..' (it could be written outside the target)")
    return parts


def _check_tar_members(archive: Path, tar: tarfile.TarFile) -> None:
    """Refuse members that would land, or point, outside the extraction folder."""
    members = tar.getmembers()
    links: set[tuple[str, ...]] = set()
    for m in members:
        if m.issym():
            links.add(_split_member_name(archive, m.name))

    def through_link(parts: tuple[str, ...]) -> bool:
        return any(parts[:i] in links for i in range(1, len(parts)))

    for m in members:
        parts = _split_member_name(archive, m.name)
        if through_link(parts):
            raise _member_error(archive, m.name, "is written through a symbolic link stored in the archive")
        if m.ischr() or m.isblk() or m.isfifo() or m.isdev():
            raise _member_error(archive, m.name, "is a device or FIFO, which a data archive never needs")
        if m.issym() or m.islnk():
            link = m.linkname.replace("\\", "/")
            if link.startswith("/") or re.match(r"^[A-Za-z]:", link):
                raise _member_error(archive, m.name, f"is a link to the absolute path {m.linkname!r}")
            # symlinks are relative to the member's folder, hard links to the archive root
            base = list(parts[:-1]) if m.issym() else []
            resolved: list[str] = []
            for p in base + [p for p in PurePosixPath(link).parts]:
                if p in ("", "."):
                    continue
                if p == "..":
                    if not resolved:
                        raise _member_error(
                            archive, m.name, f"is a link pointing outside the target ({m.linkname!r})"
                        )
                    resolved.pop()
                else:
                    resolved.append(p)
            if through_link(tuple(resolved)) or (m.islnk() and tuple(resolved) in links):
                raise _member_error(archive, m.name, "is a link that passes through another symbolic link")


def _check_zip_members(archive: Path, zf: zipfile.ZipFile) -> None:
    for info in zf.infolist():
        _split_member_name(archive, info.filename)
        # Unix mode bits in the high 16 bits: refuse symlinks (0o120000).
        mode = (info.external_attr >> 16) & 0o170000
        if mode == 0o120000:
            raise _member_error(archive, info.filename, "is a symbolic link (not allowed in zip archives here)")


def _archive_kind(archive: Path) -> str:
    name = archive.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")):
        return "tar"
    if name.endswith(".zip"):
        return "zip"
    if tarfile.is_tarfile(archive):
        return "tar"
    if zipfile.is_zipfile(archive):
        return "zip"
    raise ValueError(
        f"archive: {archive} is neither a tar (.tar, .tar.gz, .tgz) nor a zip archive"
    )


def extract_archive(archive: PathLike, target: PathLike) -> Path:
    """Unpack a tar / tar.gz / tgz / zip archive safely and atomically into ``target``.

    Every member is checked *before* anything is written: absolute paths, ``..``
    components, symbolic or hard links pointing outside ``target`` (or members
    written through such links), and device files are refused. The archive is
    unpacked into a temporary sibling folder (``.<target>.tmp-*``), a
    ``.complete`` marker is written into it, and the folder is renamed to
    ``target`` in one step. If ``target`` already holds the marker, nothing is
    done.

    Args:
        archive: the archive file.
        target: the folder to create; it receives the archive's members (so an
            archive with a top folder ``x/`` gives ``target/x/...``).

    Returns:
        ``target`` as an absolute :class:`~pathlib.Path`.

    Raises:
        FileNotFoundError: no archive at that path.
        ValueError: an unsafe member (the message names it; nothing is written), or
            not a tar / zip archive.
        FileExistsError: ``target`` exists, is not empty and has no ``.complete``
            marker (remove it, then call again).
    """
    archive = Path(archive).expanduser().absolute()
    target = Path(target).expanduser().absolute()
    if not archive.is_file():
        raise FileNotFoundError(f"archive: no file at {archive}")
    if (target / COMPLETE_MARKER).is_file():
        return target
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(
            f"target: {target} exists but holds no {COMPLETE_MARKER} marker (an unfinished or "
            f"foreign folder); remove it and call again"
        )
    kind = _archive_kind(archive)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        if kind == "tar":
            with tarfile.open(archive, "r:*") as tar:
                _check_tar_members(archive, tar)
                if hasattr(tarfile, "data_filter"):
                    try:
                        tar.extractall(tmp, filter="data")
                    except tarfile.FilterError as exc:  # second line of defence
                        info = getattr(exc, "tarinfo", None)
                        raise _member_error(archive, info.name if info else "?", str(exc)) from exc
                else:  # pragma: no cover - Python without extraction filters
                    tar.extractall(tmp)
        else:
            with zipfile.ZipFile(archive) as zf:
                _check_zip_members(archive, zf)
                zf.extractall(tmp)
        (tmp / COMPLETE_MARKER).write_text(
            f"extracted from {archive.name} ({archive.stat().st_size} bytes)\n", encoding="utf-8"
        )
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
