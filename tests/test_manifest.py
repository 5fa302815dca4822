"""Tests for audiomap_lib.data.manifest: CSV round trip, validation, hashing, atomic writes."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from audiomap_lib.data import manifest as mf


def _row(i: int, split: str = "train", **over) -> dict[str, object]:
    row: dict[str, object] = {
        "path": f"clips/{i:03d}.wav", "label": ["zero", "one", "two"][i % 3], "split": split,
        "speaker": f"spk{i % 2}", "family": "espeak", "source": "espeak-ng", "sr": 16000,
        "samples": 8000 + i, "sha256": hashlib.sha256(str(i).encode()).hexdigest(),
        "licence": "GPL-3.0", "detail": f"pitch={40 + i}, \"quoted\", comma",
    }
    row.update(over)
    return row


def test_columns_and_splits() -> None:
    assert mf.MANIFEST_COLUMNS[0] == "path" and len(mf.MANIFEST_COLUMNS) == 11
    assert mf.SPLITS == ("train", "validation", "test")


def test_round_trip(tmp_path: Path) -> None:
    rows = [_row(0), _row(1, "validation"), _row(2, "test"), _row(3, sr="", samples="")]
    out = mf.write_manifest(tmp_path / "sub" / "manifest.csv", rows)
    assert out == tmp_path / "sub" / "manifest.csv" and out.is_file()
    got = mf.read_manifest(out)
    assert len(got) == 4
    for src, back in zip(rows, got):
        for col in mf.MANIFEST_COLUMNS:
            if col in ("sr", "samples"):
                assert back[col] == (int(src[col]) if src[col] != "" else 0)
                assert isinstance(back[col], int)
            else:
                assert back[col] == src[col]
        assert back["file"] == (out.parent / str(src["path"])).resolve()
        assert Path(back["file"]).is_absolute()
    # the header is exactly the documented column order
    with open(out, newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == list(mf.MANIFEST_COLUMNS)


def test_read_filters_split(tmp_path: Path) -> None:
    rows = [_row(0), _row(1, "validation"), _row(2, "test"), _row(3, "train")]
    p = mf.write_manifest(tmp_path / "m.csv", rows)
    assert [r["path"] for r in mf.read_manifest(p, split="train")] == ["clips/000.wav", "clips/003.wav"]
    assert [r["split"] for r in mf.read_manifest(p, split="test")] == ["test"]
    with pytest.raises(ValueError, match="split must be one of"):
        mf.read_manifest(p, split="dev")


def test_write_accepts_a_generator_and_unicode(tmp_path: Path) -> None:
    p = mf.write_manifest(tmp_path / "g.csv", (_row(i, detail="é — ü") for i in range(5)))
    got = mf.read_manifest(p)
    assert len(got) == 5 and all(r["detail"] == "é — ü" for r in got)


def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    bad = _row(0)
    del bad["licence"]
    with pytest.raises(ValueError, match=r"rows\[1\].*missing \['licence'\]"):
        mf.write_manifest(tmp_path / "a.csv", [_row(1), bad])
    extra = _row(0, colour="red")
    with pytest.raises(ValueError, match=r"unknown \['colour'\]"):
        mf.write_manifest(tmp_path / "b.csv", [extra])


def test_bad_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"rows\[0\]\['split'\].*'dev'"):
        mf.write_manifest(tmp_path / "c.csv", [_row(0, "dev")])


def test_atomic_write_leaves_no_tmp(tmp_path: Path) -> None:
    p = mf.write_manifest(tmp_path / "m.csv", [_row(0)])
    assert sorted(x.name for x in tmp_path.iterdir()) == ["m.csv"]
    mf.write_manifest(p, [_row(1), _row(2)])  # overwrite in place
    assert sorted(x.name for x in tmp_path.iterdir()) == ["m.csv"]
    assert len(mf.read_manifest(p)) == 2


def test_failed_write_keeps_old_manifest_and_no_tmp(tmp_path: Path) -> None:
    p = mf.write_manifest(tmp_path / "m.csv", [_row(0)])
    before = p.read_bytes()
    with pytest.raises(ValueError):
        mf.write_manifest(p, [_row(1), _row(2, "nope")])
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["m.csv"]


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        mf.read_manifest(tmp_path / "absent.csv")
    other = tmp_path / "other.csv"
    other.write_text("path,label\nx.wav,zero\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a course manifest"):
        mf.read_manifest(other)
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text(",".join(reversed(mf.MANIFEST_COLUMNS)) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a course manifest"):
        mf.read_manifest(shuffled)


def test_sha256_matches_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB chunk
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert mf.compute_sha256(f) == expected
    assert mf.compute_sha256(str(f), chunk=1000) == expected
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert mf.compute_sha256(empty) == hashlib.sha256(b"").hexdigest()
    assert len(expected) == 64 and expected == expected.lower()


# --- a build killed outright (kill -9): no orphan workers, no leftover folder --------------------

_KILLED_BUILD = r"""
import sys, time
from pathlib import Path
from audiomap_lib.data import manifest

def make_rows(tmp):
    (tmp / "half.wav").write_bytes(b"x" * 1000)
    print("building", flush=True)
    manifest.map_in_processes(time.sleep, [60.0, 60.0])
    return [], {}

manifest.build_corpus(Path(sys.argv[1]), "test", "quick", make_rows)
"""


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_killed_build_leaves_no_workers_and_the_next_build_removes_its_folder(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "corpus"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_BUILD, str(root)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "building"
    deadline = time.monotonic() + 30
    while len(workers := _children(proc.pid)) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers, "the pool did not start"
    leftovers = list(tmp_path.glob(".corpus.building-*"))
    assert len(leftovers) == 1 and (leftovers[0] / ".owner").read_text().split()[0] == str(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "pool workers outlived their killed parent"
    assert leftovers[0].exists()  # kill -9 runs no clean-up ...
    mf.build_corpus(root, "test", "quick", lambda tmp: ([], {}))
    assert not leftovers[0].exists()  # ... the next build does
    assert (root / "manifest.csv").is_file() and not list(tmp_path.glob(".corpus.*"))


def test_stale_build_sweep_keeps_a_running_build(tmp_path: Path) -> None:
    import os
    import socket

    root = tmp_path / "corpus"
    running = tmp_path / ".corpus.building-live"
    running.mkdir()
    (running / ".owner").write_text(f"{os.getpid()} {socket.gethostname()}\n")
    unowned_new = tmp_path / ".corpus.building-new"
    unowned_new.mkdir()
    unowned_old = tmp_path / ".corpus.old-123"
    unowned_old.mkdir()
    os.utime(unowned_old, (0, 0))
    other = tmp_path / ".other.building-x"
    other.mkdir()
    assert mf.remove_stale_builds(root) == [unowned_old]
    assert running.exists() and unowned_new.exists() and other.exists()
