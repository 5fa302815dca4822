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

Several processes may ask for the same file or folder at once (two notebooks, a
notebook and the command line): each call holds a lock file (``<dest>.lock``,
an OS file lock that a killed process releases), so one downloads or unpacks
while the others wait and then reuse the verified result. A full or read-only
disk gives an ``OSError`` that names the path and the space needed; an archive
that would unpack to more than ``max_bytes`` is refused before anything is
written.
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
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from ..utils import check_non_negative_int
from .manifest import compute_sha256

__all__ = [
    "COMPLETE_MARKER",
    "DEFAULT_MAX_EXPANSION",
    "DownloadError",
    "check_sha256",
    "download_file",
    "extract_archive",
    "hold_file_lock",
]

PathLike = str | Path

COMPLETE_MARKER = ".complete"
"""Name of the file :func:`extract_archive` writes into a finished folder."""

RETRY_DELAY_S = 1.0
"""Seconds to wait before the first retry of an interrupted transfer (doubles each time)."""

DEFAULT_MAX_EXPANSION = 20
"""An archive may unpack to at most this many times its own size unless ``max_bytes`` says
otherwise (the course's real archives expand about 1.1 to 2 times; a "zip bomb" thousands)."""

LOCK_TIMEOUT_S = 3600.0
"""How long a call waits for another process that holds the same download or extraction."""

_CHUNK = 1 << 16
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_LOCAL_DISK_ERRNOS = (errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT, errno.EPERM)


@contextmanager
def hold_file_lock(path: PathLike, timeout_s: float = LOCK_TIMEOUT_S, what: str = "this file") -> Iterator[Path]:
    """Hold an exclusive OS lock on ``path`` (created if missing) for the ``with`` block.

    The lock belongs to this process: it is released when the block ends, and by the
    operating system when the process dies, so a killed download never blocks the next one.
    A second process (or thread) asking for the same lock waits, polling every 0.1 s.

    Args:
        path: the lock file, e.g. ``<dest>.lock``.
        timeout_s: seconds to wait before giving up.
        what: what the lock protects, for the error message.

    Raises:
        TimeoutError: another process held the lock for longer than ``timeout_s``.
        OSError: the lock file cannot be created (read-only or full disk); the message names it.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        raise _disk_error(exc, path, "create the lock file") from exc
    start = time.monotonic()
    try:
        while True:
            try:
                if os.name == "nt":  # pragma: no cover - Windows
                    import msvcrt

                    handle.seek(0)
                    msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
                else:
                    import fcntl

                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() - start > timeout_s:
                    raise TimeoutError(
                        f"another process has held the lock {path} on {what} for more than {timeout_s:.0f} s; "
                        f"if no other download or build is running, delete the lock file and try again"
                    ) from None
                time.sleep(0.1)
        yield path
    finally:
        handle.close()  # releases the lock


def _disk_error(exc: OSError, path: Path, doing: str) -> OSError:
    """An ``OSError`` that names the path and says what to do, for disk-side failures."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        try:
            free = f"{shutil.disk_usage(path.parent if not path.is_dir() else path).free / 2**20:.1f} MiB free"
        except OSError:
            free = "free space unknown"
        why = f"the disk is full ({free})"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "the folder is read-only or not yours"
    else:
        why = str(exc)
    return OSError(
        exc.errno,
        f"could not {doing} at {path}: {why}. Free some space or choose another data folder "
        f"with the environment variable AUDIOMAP_DATA, then call again",
    )


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
        if length is not None:
            _check_free_space(part, length, "download")
        received = 0
        with _open_for_writing(part, mode) as f, tqdm(
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
                _write_block(f, block, part)
                received += len(block)
                bar.update(len(block))
        if length is not None and received < length:
            raise _Interrupted(f"the connection closed after {received} of {length} bytes")


class _Interrupted(OSError):
    """A transfer stopped early; the ``.part`` file keeps what arrived."""


def _check_free_space(path: Path, needed: int, doing: str) -> None:
    """Refuse to start writing ``needed`` bytes next to ``path`` when the disk has less free."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"not enough disk space to {doing} {path.name}: it needs {needed / 2**20:.1f} MiB, "
            f"{path.parent} has {free / 2**20:.1f} MiB free. Free some space or choose another "
            f"data folder with the environment variable AUDIOMAP_DATA, then call again",
        )


@contextmanager
def _open_for_writing(path: Path, mode: str) -> Iterator:
    try:
        handle = open(path, mode)  # noqa: SIM115 - closed below
    except OSError as exc:
        raise _disk_error(exc, path, "write") from exc
    try:
        yield handle
    finally:
        try:
            handle.close()
        except OSError as exc:  # a flush onto a full disk
            raise _disk_error(exc, path, "write") from exc


def _write_block(handle, block: bytes, path: Path) -> None:
    """Write one block; a disk-side failure becomes an ``OSError`` naming ``path``."""
    try:
        handle.write(block)
    except OSError as exc:
        raise _disk_error(exc, path, "write") from exc


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
    retries = check_non_negative_int(retries, "retries")
    if not isinstance(url, str) or not url:
        raise ValueError(f"url must be a non-empty string; got {url!r}")
    dest = Path(dest).expanduser().absolute()
    if dest.is_dir():
        raise ValueError(f"dest must be a file path, but {dest} is a folder")
    if dest.is_file() and compute_sha256(dest) == expected:
        return dest
    # (a stale or corrupted dest is downloaded afresh; it is replaced only once verified)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(exc, dest.parent, "create the folder") from exc
    with hold_file_lock(dest.with_name(dest.name + ".lock"), what=f"the download of {dest.name}"):
        # whoever held the lock before us may have finished the job
        if dest.is_file() and compute_sha256(dest) == expected:
            return dest
        return _download_locked(url, dest, expected, progress=progress, timeout=timeout, retries=retries)


def _download_locked(url: str, dest: Path, expected: str, *, progress: bool, timeout: float, retries: int) -> Path:
    """The body of :func:`download_file`, run while holding its lock."""
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
            if isinstance(exc, OSError) and not isinstance(exc, _Interrupted) and exc.errno in _LOCAL_DISK_ERRNOS:
                raise  # a local disk problem (the message names the path): retrying the network would not help
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
    try:
        os.replace(part, dest)
    except OSError as exc:
        raise _disk_error(exc, dest, "move the verified download into place") from exc
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


def _unpacked_size(kind: str, archive: Path) -> int:
    """Total size in bytes of the regular files an archive would unpack to (from its index)."""
    if kind == "tar":
        with tarfile.open(archive, "r:*") as tar:
            return sum(m.size for m in tar.getmembers() if m.isfile())
    with zipfile.ZipFile(archive) as zf:
        return sum(info.file_size for info in zf.infolist())


def _corrupt_archive(archive: Path, exc: BaseException) -> ValueError:
    return ValueError(
        f"archive: {archive} is truncated or corrupted ({type(exc).__name__}: {exc}); nothing was "
        f"extracted. Delete it and download it again (the downloaders verify SHA-256, so a file "
        f"placed by hand is the usual cause)"
    )


def extract_archive(archive: PathLike, target: PathLike, max_bytes: int | None = None) -> Path:
    """Unpack a tar / tar.gz / tgz / zip archive safely and atomically into ``target``.

    Every member is checked *before* anything is written: absolute paths, ``..``
    components, symbolic or hard links pointing outside ``target`` (or members
    written through such links), and device files are refused, and so is an archive
    whose files add up to more than ``max_bytes``. The archive is unpacked into a
    temporary sibling folder (``.<target>.tmp-*``), a ``.complete`` marker is
    written into it, and the folder is renamed to ``target`` in one step. If
    ``target`` already holds the marker, nothing is done.

    The call holds the lock ``<target>.lock``: a second process extracting the same
    target waits and then finds it complete. Temporary folders left by an earlier,
    killed extraction of the same target are removed first.

    Args:
        archive: the archive file.
        target: the folder to create; it receives the archive's members (so an
            archive with a top folder ``x/`` gives ``target/x/...``).
        max_bytes: the most the unpacked files may add up to (bytes); default
            :data:`DEFAULT_MAX_EXPANSION` times the archive's size.

    Returns:
        ``target`` as an absolute :class:`~pathlib.Path`.

    Raises:
        FileNotFoundError: no archive at that path.
        ValueError: an unsafe member (the message names it; nothing is written), an
            archive over ``max_bytes``, a truncated or corrupted archive, or not a
            tar / zip archive.
        FileExistsError: ``target`` exists, is not empty and has no ``.complete``
            marker (remove it, then call again).
        OSError: the disk is full or read-only (the message names the path and the
            space needed).
    """
    archive = Path(archive).expanduser().absolute()
    target = Path(target).expanduser().absolute()
    if not archive.is_file():
        raise FileNotFoundError(f"archive: no file at {archive}")
    if max_bytes is not None:
        max_bytes = check_non_negative_int(max_bytes, "max_bytes")
    if (target / COMPLETE_MARKER).is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(exc, target.parent, "create the folder") from exc
    with hold_file_lock(target.parent / f".{target.name}.lock", what=f"the extraction into {target.name}"):
        if (target / COMPLETE_MARKER).is_file():  # another process finished it while we waited
            return target
        for stale in target.parent.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed extraction (we hold the lock)
        return _extract_locked(archive, target, max_bytes)


def _extract_locked(archive: Path, target: Path, max_bytes: int | None) -> Path:
    """The body of :func:`extract_archive`, run while holding its lock."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(
            f"target: {target} exists but holds no {COMPLETE_MARKER} marker (an unfinished or "
            f"foreign folder); remove it and call again"
        )
    kind = _archive_kind(archive)
    try:
        total = _unpacked_size(kind, archive)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise _corrupt_archive(archive, exc) from exc
    limit = max_bytes if max_bytes is not None else DEFAULT_MAX_EXPANSION * archive.stat().st_size
    if total > limit:
        raise ValueError(
            f"refusing to extract {archive.name}: its files add up to {total:,} bytes, more than the "
            f"limit of {limit:,} bytes ({'max_bytes' if max_bytes is not None else f'{DEFAULT_MAX_EXPANSION} times the archive'}); "
            f"nothing was extracted. Pass a larger max_bytes if you trust this archive"
        )
    _check_free_space(target, total, "unpack")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise _disk_error(exc, target.parent, "create a temporary folder") from exc
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
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _corrupt_archive(archive, exc) from exc
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in _LOCAL_DISK_ERRNOS:
            raise _disk_error(exc, target, "unpack the archive") from exc
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
