"""Downloads, extraction and the online corpora, all against a local HTTP server (never the internet)."""
from __future__ import annotations

import functools
import hashlib
import io
import re
import socket
import tarfile
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiomap_lib.data import download as dl
from audiomap_lib.data import online
from audiomap_lib.data.download import COMPLETE_MARKER, DownloadError, download_file, extract_archive
from audiomap_lib.data.manifest import MANIFEST_COLUMNS, compute_sha256, read_manifest

# ---------------------------------------------------------------------------
# a local server that understands Range, can ignore it, and can break transfers


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    ignore_range: bool = False
    break_after: int | None = None  # bytes of body sent before hanging up ...
    breaks_left: int = 0  # ... on this many responses
    requests: list[dict] = field(default_factory=list)


def _make_handler(state: ServerState):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep pytest output quiet
            pass

        def do_GET(self):
            rng = self.headers.get("Range")
            state.requests.append({"path": self.path, "range": rng})
            data = state.files.get(self.path)
            if data is None:
                self.send_error(404, "not here")
                return
            start, status = 0, 200
            if rng and not state.ignore_range:
                m = re.fullmatch(r"bytes=(\d+)-", rng)
                assert m, rng
                start = int(m.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    return
                status = 206
            body = data[start:]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "none" if state.ignore_range else "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Connection", "close")
            self.end_headers()
            if state.break_after is not None and state.breaks_left > 0:
                state.breaks_left -= 1
                self.wfile.write(body[: state.break_after])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture(autouse=True)
def _no_proxy_no_wait(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(dl, "RETRY_DELAY_S", 0.0)


@pytest.fixture
def server():
    state = ServerState()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def payload() -> bytes:
    return np.random.default_rng(0).integers(0, 256, size=300_000, dtype=np.uint8).tobytes()


# ---------------------------------------------------------------------------
# download_file


def test_full_download_verifies_and_renames(server, payload, tmp_path):
    server.files["/data.bin"] = payload
    dest = tmp_path / "sub" / "data.bin"
    out = download_file(server.base + "/data.bin", dest, sha(payload), progress=False)
    assert out == dest and dest.read_bytes() == payload
    assert not dest.with_name("data.bin.part").exists()
    assert server.requests == [{"path": "/data.bin", "range": None}]


def test_broken_transfer_is_resumed_with_range(server, payload, tmp_path):
    server.files["/data.bin"] = payload
    server.break_after, server.breaks_left = 100_000, 1
    dest = tmp_path / "data.bin"
    part = tmp_path / "data.bin.part"
    with pytest.raises(DownloadError, match="interrupted"):
        download_file(server.base + "/data.bin", dest, sha(payload), progress=False, retries=0)
    assert not dest.exists() and part.stat().st_size == 100_000
    download_file(server.base + "/data.bin", dest, sha(payload), progress=False, retries=0)
    assert dest.read_bytes() == payload and not part.exists()
    assert [r["range"] for r in server.requests] == [None, "bytes=100000-"]


def test_retries_resume_within_one_call(server, payload, tmp_path):
    server.files["/data.bin"] = payload
    server.break_after, server.breaks_left = 70_000, 2
    dest = download_file(server.base + "/data.bin", tmp_path / "d.bin", sha(payload), progress=False, retries=3)
    assert dest.read_bytes() == payload
    assert [r["range"] for r in server.requests] == [None, "bytes=70000-", "bytes=140000-"]


def test_server_ignoring_range_restarts_cleanly(server, payload, tmp_path):
    server.files["/data.bin"] = payload
    server.ignore_range = True
    dest = tmp_path / "data.bin"
    # a stale part file with wrong bytes: appending to it would corrupt the result
    (tmp_path / "data.bin.part").write_bytes(b"\xff" * 40_000)
    download_file(server.base + "/data.bin", dest, sha(payload), progress=False)
    assert dest.read_bytes() == payload
    assert server.requests[0]["range"] == "bytes=40000-"


def test_complete_part_file_answered_416(server, payload, tmp_path):
    server.files["/data.bin"] = payload
    (tmp_path / "data.bin.part").write_bytes(payload)
    dest = download_file(server.base + "/data.bin", tmp_path / "data.bin", sha(payload), progress=False)
    assert dest.read_bytes() == payload


def test_wrong_checksum_leaves_nothing(server, payload, tmp_path):
    server.files["/data.bin"] = payload
    dest = tmp_path / "data.bin"
    wrong = sha(b"something else")
    with pytest.raises(ValueError) as info:
        download_file(server.base + "/data.bin", dest, wrong, progress=False)
    msg = str(info.value)
    assert wrong in msg and sha(payload) in msg
    assert not dest.exists() and not (tmp_path / "data.bin.part").exists()


def test_sha256_is_required(tmp_path):
    with pytest.raises(ValueError, match="sha256"):
        download_file("http://127.0.0.1:9/x", tmp_path / "x", None, progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="64"):
        download_file("http://127.0.0.1:9/x", tmp_path / "x", "abc", progress=False)


def test_valid_dest_needs_no_request(server, payload, tmp_path):
    server.files["/data.bin"] = payload
    dest = tmp_path / "data.bin"
    dest.write_bytes(payload)
    assert download_file(server.base + "/data.bin", dest, sha(payload), progress=False) == dest
    assert server.requests == []


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("url", ["closed-port", "http://nonexistent.invalid/speech.tar.gz"])
def test_offline_error_explains_the_way_out(url, tmp_path):
    if url == "closed-port":
        url = f"http://127.0.0.1:{_closed_port()}/speech.tar.gz"
    dest = tmp_path / "speech.tar.gz"
    with pytest.raises(DownloadError) as info:
        download_file(url, dest, sha(b"x"), progress=False, timeout=5, retries=0)
    assert isinstance(info.value, ConnectionError)
    msg = str(info.value)
    assert "offline" in msg and url in msg and str(dest) in msg and "offline corpus" in msg
    assert not dest.exists()


def test_http_error_is_a_download_error(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(server.base + "/missing.bin", tmp_path / "m.bin", sha(b"x"), progress=False)


# ---------------------------------------------------------------------------
# extract_archive


def _tar_with(path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                name, data = entry
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def _symlink(name: str, to: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = to
    return info


def test_extract_tar_and_zip(tmp_path):
    tgz = _tar_with(tmp_path / "a.tar.gz", [("top/x.txt", b"hello"), ("top/sub/y.txt", b"world"),
                                            _symlink("top/link", "x.txt")])
    out = extract_archive(tgz, tmp_path / "out_tar")
    assert (out / "top" / "x.txt").read_bytes() == b"hello"
    assert (out / "top" / "link").read_bytes() == b"hello"
    assert (out / COMPLETE_MARKER).is_file()
    assert extract_archive(tgz, tmp_path / "out_tar") == out  # second call: nothing to do

    zpath = tmp_path / "b.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("top/x.txt", b"zip!")
    out = extract_archive(zpath, tmp_path / "out_zip")
    assert (out / "top" / "x.txt").read_bytes() == b"zip!" and (out / COMPLETE_MARKER).is_file()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink_out", "symlink_abs_then_file", "hardlink_out", "zip_dotdot"])
def test_hostile_archives_are_refused(case, tmp_path):
    box = tmp_path / "box"
    box.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    if case == "dotdot":
        archive, member = _tar_with(tmp_path / "h.tar.gz", [("ok.txt", b"ok"), ("../evil.txt", b"x")]), "../evil.txt"
    elif case == "absolute":
        member = str(outside / "evil.txt")
        archive = _tar_with(tmp_path / "h.tar.gz", [(member, b"x")])
    elif case == "symlink_out":
        member = "link"
        archive = _tar_with(tmp_path / "h.tar.gz", [_symlink("link", "../../outside")])
    elif case == "symlink_abs_then_file":
        member = "link"
        archive = _tar_with(tmp_path / "h.tar.gz", [_symlink("link", str(outside)), ("link/evil.txt", b"x")])
    elif case == "hardlink_out":
        info = tarfile.TarInfo("hard")
        info.type = tarfile.LNKTYPE
        info.linkname = "../outside/evil.txt"
        member, archive = "hard", _tar_with(tmp_path / "h.tar", [info])
    else:
        archive = tmp_path / "h.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("ok.txt", b"ok")
            zf.writestr("../evil.txt", b"x")
        member = "../evil.txt"
    with pytest.raises(ValueError) as info:
        extract_archive(archive, box / "target")
    assert repr(member) in str(info.value) or member in str(info.value)
    assert [p for p in box.iterdir() if p.suffix != ".lock"] == []  # no target, no temporary folder (the lock file stays)
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_extract_refuses_foreign_nonempty_target(tmp_path):
    tgz = _tar_with(tmp_path / "a.tgz", [("x.txt", b"1")])
    target = tmp_path / "t"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="complete"):
        extract_archive(tgz, target)
    assert (target / "mine.txt").read_text() == "keep me"


# ---------------------------------------------------------------------------
# Speech Commands / SC09 / FSDD from local archives

SPEAKERS = {"aaaa1111": "train", "bbbb2222": "validation", "cccc3333": "test"}
WORDS = ("zero", "one", "two", "yes", "no")


def _wav_bytes(sr: int, n: int, freq: float) -> bytes:
    buf = io.BytesIO()
    t = np.arange(n) / sr
    sf.write(buf, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture(scope="module")
def speech_commands_archive(tmp_path_factory) -> tuple[bytes, dict[str, tuple[str, str, int]]]:
    """A tiny archive laid out like Speech Commands v0.02; and the expected rows by file name."""
    buf = io.BytesIO()
    expected: dict[str, tuple[str, str, int]] = {}
    val_list, test_list = [], []
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for w, word in enumerate(WORDS):
            for s, (spk, split) in enumerate(SPEAKERS.items()):
                reps = 2 if word == "yes" else 1
                for n in range(reps):
                    name = f"{word}/{spk}_nohash_{n}.wav"
                    samples = 800 + 10 * w + 3 * s + n
                    add(name, _wav_bytes(16000, samples, 200 + 50 * w))
                    expected[name] = (word, split, samples)
                    if split == "validation":
                        val_list.append(name)
                    elif split == "test":
                        test_list.append(name)
        add("_background_noise_/white_noise.wav", _wav_bytes(16000, 4000, 1000))
        add("validation_list.txt", ("\n".join(val_list) + "\n").encode())
        add("testing_list.txt", ("\n".join(test_list) + "\n").encode())
        add("LICENSE", b"CC BY 4.0\n")
    return buf.getvalue(), expected


def test_prepare_speech_commands_manifest(server, speech_commands_archive, tmp_path):
    data, expected = speech_commands_archive
    server.files["/sc.tar.gz"] = data
    url, digest = server.base + "/sc.tar.gz", sha(data)
    manifest = online.prepare_speech_commands(tmp_path, "all", url=url, sha256=digest, progress=False)
    rows = read_manifest(manifest)
    assert len(rows) == len(expected)
    for row in rows:
        original = row["detail"].split("original: ")[1]
        word, split, samples = expected[original]
        assert row["label"] == word and row["split"] == split
        assert row["speaker"] == original.split("/")[1].split("_nohash_")[0]
        assert row["family"] == "human" and row["source"] == "speech_commands_v0.02"
        assert row["sr"] == 16000 and row["samples"] == samples
        assert row["sha256"] == compute_sha256(row["file"])
        assert row["licence"] == "CC-BY-4.0"
    assert not any("_background_noise_" in r["path"] for r in rows)
    # speakers never cross splits
    by_speaker = {}
    for r in rows:
        by_speaker.setdefault(r["speaker"], set()).add(r["split"])
    assert by_speaker == {spk: {split} for spk, split in SPEAKERS.items()}
    n_requests = len(server.requests)

    sc09 = read_manifest(online.prepare_speech_commands(tmp_path, "sc09", url=url, sha256=digest, progress=False))
    assert {r["label"] for r in sc09} == {"zero", "one", "two"}
    assert len(sc09) == 9 and all(r["source"] == "sc09" for r in sc09)
    # cached: no new download for the subset or for a second call
    online.prepare_speech_commands(tmp_path, "all", url=url, sha256=digest, progress=False)
    assert len(server.requests) == n_requests == 1


def test_prepare_sc09_alone_and_get_digit_datasets(server, speech_commands_archive, tmp_path, monkeypatch):
    data, _ = speech_commands_archive
    server.files["/sc.tar.gz"] = data
    url, digest = server.base + "/sc.tar.gz", sha(data)
    rows = read_manifest(online.prepare_speech_commands(tmp_path, "sc09", url=url, sha256=digest, progress=False))
    assert sorted({r["label"] for r in rows}) == ["one", "two", "zero"]
    assert {r["split"] for r in rows} == {"train", "validation", "test"}

    from audiomap_lib.data import datasets

    monkeypatch.setattr(online, "prepare_speech_commands",
                        functools.partial(online.prepare_speech_commands, url=url, sha256=digest, progress=False))
    sets = datasets.get_digit_datasets("sc09", root=tmp_path)
    assert set(sets) == {"train", "validation", "test"}
    assert sets["train"].labels == online.SC09_WORDS
    wav, label = sets["test"][0]
    assert wav.shape[0] == 1 and sets["test"].labels[label] == sets["test"].rows[0]["label"]


def test_prepare_speech_commands_offline_is_clear(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/speech_commands_v0.02.tar.gz"
    with pytest.raises(DownloadError, match="offline"):
        online.prepare_speech_commands(tmp_path, url=url, progress=False)


@pytest.fixture(scope="module")
def fsdd_archive() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("free-spoken-digit-dataset-1.0.10/README.md", "FSDD\n")
        for spk in ("jackson", "theo", "yweweler", "nicolas"):
            for digit in range(10):
                for idx in (0, 7):
                    zf.writestr(
                        f"free-spoken-digit-dataset-1.0.10/recordings/{digit}_{spk}_{idx}.wav",
                        _wav_bytes(8000, 400 + 10 * digit + idx, 300 + 20 * digit),
                    )
    return buf.getvalue()


def test_prepare_fsdd_splits_by_speaker_at_8k(server, fsdd_archive, tmp_path, monkeypatch):
    server.files["/fsdd.zip"] = fsdd_archive
    url, digest = server.base + "/fsdd.zip", sha(fsdd_archive)
    rows = read_manifest(online.prepare_fsdd(tmp_path, url=url, sha256=digest, progress=False))
    assert len(rows) == 80
    split_of = {r["speaker"]: r["split"] for r in rows}
    assert split_of == {"theo": "test", "yweweler": "validation", "jackson": "train", "nicolas": "train"}
    assert all(r["sr"] == 8000 and r["family"] == "human" and r["source"] == "fsdd" for r in rows)
    assert {r["label"] for r in rows} == set(online.SC09_WORDS)
    row = next(r for r in rows if r["path"].endswith("3_jackson_0.wav"))
    assert row["label"] == "three" and row["samples"] == 430 and "fsdd-convention=test" in row["detail"]
    assert row["sha256"] == compute_sha256(row["file"])
    assert list(read_manifest(online.prepare_fsdd(tmp_path, url=url, sha256=digest, progress=False))[0]) == [
        *MANIFEST_COLUMNS, "file"]

    with pytest.raises(ValueError, match="lucas"):
        online.prepare_fsdd(tmp_path, url=url, sha256=digest, test_speakers=("lucas",), progress=False)

    from audiomap_lib.data import datasets

    monkeypatch.setattr(online, "prepare_fsdd",
                        functools.partial(online.prepare_fsdd, url=url, sha256=digest, progress=False))
    sets = datasets.get_digit_datasets("fsdd", root=tmp_path)
    assert sets["validation"].sr == 8000 and len(sets["train"]) == 40
    assert sets["test"][0][0].shape[0] == 1


def test_fsdd_requires_a_checksum(tmp_path):
    with pytest.raises(ValueError, match="sha256 is required"):
        online.prepare_fsdd(tmp_path, url="http://127.0.0.1:9/x.zip", sha256=None, progress=False)  # type: ignore[arg-type]
