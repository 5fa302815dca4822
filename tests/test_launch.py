"""Colab, Binder and the PDF: the first cell of every chapter, the Binder files, the page order of the PDF."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from audiomap_lib import launch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import course  # noqa: E402
import make_pdf  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_starts_with_the_launch_cell(path: Path) -> None:
    first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
    assert first["cell_type"] == "code"
    assert "".join(first["source"]) == launch.make_launch_cell_source()
    assert launch.LAUNCH_CELL_TAG in first["metadata"].get("tags", [])


def test_the_launch_cell_installs_from_the_book_repository() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert launch.REPOSITORY_URL == config["repository"]["url"]
    assert f"git+{launch.REPOSITORY_URL}" in launch.make_launch_cell_source()


def test_course_installs_the_launch_packages_and_chromium() -> None:
    assert course.APT_PACKAGES == [*launch.APT_PACKAGES, "chromium"]


def _run_cell(monkeypatch: pytest.MonkeyPatch, library_found: bool) -> tuple[list[list[str]], list[str]]:
    """Execute the launch cell with pip and prepare_runtime replaced; returns pip's commands and the constraints."""
    pip_calls: list[list[str]] = []
    constraints: list[str] = []

    def fake_run(cmd: list[str], check: bool = False, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert check, "the install must fail loudly"
        pip_calls.append(cmd)
        constraints.extend(Path(cmd[cmd.index("--constraint") + 1]).read_text().splitlines())
        return subprocess.CompletedProcess(cmd, 0)

    real_find_spec = importlib.util.find_spec

    def fake_find_spec(name: str, *args: Any) -> Any:
        return None if name == "audiomap_lib" and not library_found else real_find_spec(name, *args)

    prepared: list[bool] = []
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec)
    monkeypatch.setattr(launch, "prepare_runtime", lambda: prepared.append(True) or [])
    exec(compile(launch.make_launch_cell_source(), "<launch cell>", "exec"), {})
    assert prepared == [True]
    return pip_calls, constraints


def test_the_launch_cell_does_nothing_where_the_library_is(monkeypatch: pytest.MonkeyPatch) -> None:
    pip_calls, _ = _run_cell(monkeypatch, library_found=True)
    assert pip_calls == []


def test_the_launch_cell_keeps_the_installed_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    pip_calls, constraints = _run_cell(monkeypatch, library_found=False)
    assert len(pip_calls) == 1
    cmd = pip_calls[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert cmd[-1] == f"audiomap_lib[course] @ git+{launch.REPOSITORY_URL}"
    assert constraints == [f"torch=={importlib.metadata.version('torch')}",
                           f"torchaudio=={importlib.metadata.version('torchaudio')}"]


def test_prepare_runtime_does_nothing_when_the_programs_are_there() -> None:
    calls: list[object] = []
    assert launch.prepare_runtime(install=True, which=lambda p: f"/usr/bin/{p}", runner=calls.append) == []
    assert calls == []


def test_prepare_runtime_installs_on_request_and_hints_otherwise(capsys: pytest.CaptureFixture[str]) -> None:
    present = {"apt-get", "espeak-ng", "flite"}

    def which(program: str) -> str | None:
        return f"/usr/bin/{program}" if program in present else None

    assert launch.prepare_runtime(install=False, which=which, runner=pytest.fail) == ["festival", "text2wave",
                                                                                       "fluidsynth"]
    assert "sudo apt-get install espeak-ng" in capsys.readouterr().out
    commands: list[list[str]] = []
    launch.prepare_runtime(install=True, which=which, runner=lambda cmd, **kw: commands.append(cmd))
    assert commands[-1][-len(launch.APT_PACKAGES):] == list(launch.APT_PACKAGES)
    assert "install" in commands[-1] and "update" in commands[0]
    with pytest.raises(RuntimeError, match="install=True needs apt-get"):
        launch.prepare_runtime(install=True, which=lambda p: None, runner=pytest.fail)


def test_prepare_runtime_installs_by_default_only_on_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert not launch.is_colab()
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-2026")
    assert launch.is_colab()
    commands: list[list[str]] = []
    launch.prepare_runtime(which=lambda p: "/usr/bin/apt-get" if p == "apt-get" else None,
                           runner=lambda cmd, **kw: commands.append(cmd))
    assert len(commands) == 2


def test_binder_files_are_current() -> None:
    """binder/ is generated from the lock (course.py lock): a stale copy fails here."""
    for name, text in course.binder_files().items():
        assert (ROOT / "binder" / name).read_text() == text, f"binder/{name} is stale: python3 scripts/course.py lock"


def test_binder_gets_the_locked_versions_without_cuda() -> None:
    lock = {line.split("==")[0]: line for line in course.LOCK.read_text().splitlines() if "==" in line
            and not line.startswith((" ", "#"))}
    binder = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in binder
    assert lock["torch"] in binder and lock["torchaudio"] in binder
    assert not [line for line in binder if line.startswith(("nvidia-", "cuda-", "triton"))]
    assert set(binder) >= {line for name, line in lock.items() if not name.startswith(("nvidia-", "cuda-", "triton"))}
    assert (ROOT / "binder" / "apt.txt").read_text().split("\n", 1)[1].split() == list(launch.APT_PACKAGES)


def test_the_pdf_follows_the_table_of_contents() -> None:
    pages = make_pdf.list_toc_pages(ROOT / "_toc.yml")
    assert pages[0] == "book/intro.html"
    assert [p for p in pages if p.startswith("notebooks/")] == [f"notebooks/{p.stem}.html" for p in NOTEBOOKS]
    assert pages[-1] == "book/bibliography.html"
    assert len(pages) == len(set(pages))


def test_make_pdf_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="lacks pages of _toc.yml"):
        make_pdf.make_pdf(tmp_path, tmp_path / "x.pdf", chromium="/usr/bin/chromium")
