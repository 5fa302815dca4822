"""Downloads and extraction under faults: concurrent callers, killed processes, full and
read-only disks, archive bombs, truncated archives. Every server is a local one on 127.0.0.1."""
from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from audiomap_lib.data import download as dl
from audiomap_lib.data.download import COMPLETE_MARKER, download_file, extract_archive, hold_file_lock

ROOT = Path(__file__).resolve().parents[1]


class SlowServer:
    """Serves ``files`` in 64 KiB chunks with a pause after each, honouring ``Range``."""

    def __init__(self, files: dict[str, bytes], pause_s: float = 0.02) -> None:
        self.files, self.pause_s = files, pause_s
        self.requests: list[tuple[str, str | None]] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                state.requests.append((self.path, rng))
                data = state.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1)) if rng else 0
                body = data[start:]
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(body)))
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for i in range(0, len(body), 1 << 16):
                        self.wfile.write(body[i : i + (1 << 16)])
                        self.wfile.flush()
                        time.sleep(state.pause_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> SlowServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def payload() -> bytes:
    return os.urandom(1_000_000)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _python(code: str) -> subprocess.Popen:
    env = {**os.environ, "no_proxy": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _download_code(url: str, dest: Path, sha: str) -> str:
    return ("from audiomap_lib.data.download import download_file\n"
            f"download_file({url!r}, {str(dest)!r}, {sha!r}, progress=False)\n")


def test_two_processes_downloading_one_file_share_one_verified_copy(payload, tmp_path):
    dest = tmp_path / "cache" / "blob.bin"
    with SlowServer({"/blob": payload}) as server:
        code = _download_code(server.base + "/blob", dest, _sha(payload))
        procs = [_python(code) for _ in range(2)]
        outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert dest.read_bytes() == payload  # 1,000,000 bytes, not the appended 1,082,496 of the old race
    assert not dest.with_name("blob.bin.part").exists()
    assert [r for r in server.requests if r[0] == "/blob"] == [("/blob", None)]  # the loser reused it


def test_killed_download_resumes_where_it_stopped(payload, tmp_path):
    dest = tmp_path / "blob.bin"
    part = tmp_path / "blob.bin.part"
    with SlowServer({"/blob": payload}, pause_s=0.05) as server:
        proc = _python(_download_code(server.base + "/blob", dest, _sha(payload)))
        deadline = time.monotonic() + 60
        while (not part.exists() or part.stat().st_size < 3 * (1 << 16)) and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kept = part.stat().st_size
        assert 0 < kept < len(payload) and not dest.exists()
        server.pause_s = 0.0
        # the dead process's lock is gone with it: this call neither waits nor starts over
        start = time.monotonic()
        assert download_file(server.base + "/blob", dest, _sha(payload), progress=False) == dest
        assert time.monotonic() - start < 30
    assert dest.read_bytes() == payload
    assert server.requests[-1] == ("/blob", f"bytes={kept}-")


def test_lock_waits_then_times_out_with_the_lock_named(tmp_path):
    lock = tmp_path / "x.lock"
    held, release = threading.Event(), threading.Event()

    def holder():
        with hold_file_lock(lock):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(10)
    try:
        with pytest.raises(TimeoutError, match=re.escape(str(lock))):
            with hold_file_lock(lock, timeout_s=0.3):
                pass
    finally:
        release.set()
        t.join()
    with hold_file_lock(lock, timeout_s=1):  # free again
        pass


def test_not_enough_space_is_said_before_writing(payload, tmp_path, monkeypatch):
    dest = tmp_path / "blob.bin"
    real = dl.shutil.disk_usage
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    with SlowServer({"/blob": payload}, pause_s=0) as server:
        with pytest.raises(OSError, match=r"not enough disk space.*blob.bin.*AUDIOMAP_DATA") as info:
            download_file(server.base + "/blob", dest, _sha(payload), progress=False, retries=0)
    assert info.value.errno == errno.ENOSPC
    assert not dest.exists()


def test_disk_full_midway_names_the_file_and_the_next_call_resumes(payload, tmp_path, monkeypatch):
    dest = tmp_path / "blob.bin"
    real_write = dl._write_block
    calls = {"n": 0}

    class FillingDisk:  # a file whose disk fills after three blocks, as the OS reports it
        def __init__(self, handle):
            self.handle = handle

        def write(self, block):
            calls["n"] += 1
            if calls["n"] > 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.handle.write(block)

    def write_until_full(handle, block, path):
        real_write(FillingDisk(handle), block, path)

    monkeypatch.setattr(dl, "_write_block", write_until_full)
    with SlowServer({"/blob": payload}, pause_s=0) as server:
        with pytest.raises(OSError, match=r"blob.bin.part: the disk is full") as info:
            download_file(server.base + "/blob", dest, _sha(payload), progress=False)
        assert info.value.errno == errno.ENOSPC
        assert not dest.exists()
        monkeypatch.setattr(dl, "_write_block", real_write)
        download_file(server.base + "/blob", dest, _sha(payload), progress=False)
        assert server.requests[-1][1] is not None  # resumed with Range
    assert dest.read_bytes() == payload


def test_read_only_cache_names_the_folder(payload, tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "mkdir", refuse)
    dest = tmp_path / "ro" / "blob.bin"
    with pytest.raises(OSError, match=r"create the folder at .*ro: the folder is read-only.*AUDIOMAP_DATA"):
        download_file("http://127.0.0.1:9/blob", dest, _sha(payload), progress=False)


def _targz(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_two_processes_extracting_one_archive(tmp_path):
    files = {f"top/{i}.bin": os.urandom(200_000) for i in range(10)}
    archive = _targz(tmp_path / "a.tar.gz", files)
    target = tmp_path / "out"
    code = ("from audiomap_lib.data.download import extract_archive\n"
            f"extract_archive({str(archive)!r}, {str(target)!r})\n")
    procs = [_python(code) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert (target / COMPLETE_MARKER).is_file()
    for name, data in files.items():
        assert (target / name).read_bytes() == data
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_leftovers_of_a_killed_extraction_are_removed(tmp_path):
    archive = _targz(tmp_path / "a.tar.gz", {"x.txt": b"hello"})
    stale = tmp_path / ".out.tmp-abc123"
    (stale / "half").mkdir(parents=True)
    (stale / "half" / "big.bin").write_bytes(b"\0" * 1000)
    extract_archive(archive, tmp_path / "out")
    assert not stale.exists()
    assert (tmp_path / "out" / "x.txt").read_bytes() == b"hello"


def test_archive_bomb_is_refused_before_writing(tmp_path):
    archive = _targz(tmp_path / "bomb.tar.gz", {"zeros.bin": bytes(20 * 2**20)})
    assert archive.stat().st_size < 200_000  # 20 MiB of zeros compress a hundredfold and more
    with pytest.raises(ValueError, match=r"add up to 20,971,520 bytes.*limit"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.tmp-*"))
    with pytest.raises(ValueError, match="max_bytes"):
        extract_archive(archive, tmp_path / "out", max_bytes=2**20)
    extract_archive(archive, tmp_path / "out", max_bytes=2**25)  # trusted: allowed explicitly
    assert (tmp_path / "out" / "zeros.bin").stat().st_size == 20 * 2**20


def test_truncated_archive_is_a_clear_error(tmp_path):
    archive = _targz(tmp_path / "t.tar.gz", {f"{i}.bin": os.urandom(100_000) for i in range(5)})
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"t.tar.gz is truncated or corrupted.*download it again"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.tmp-*"))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "10"])
def test_max_bytes_must_be_a_count(tmp_path, bad):
    archive = _targz(tmp_path / "a.tar.gz", {"x": b"1"})
    with pytest.raises(ValueError, match="max_bytes"):
        extract_archive(archive, tmp_path / "out", max_bytes=bad)
