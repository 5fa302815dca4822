#!/usr/bin/env python3
"""The two commands of the AudioMap course, for Linux, macOS and Windows.

    python3 scripts/course.py build   # install everything, build the corpora and the book
    python3 scripts/course.py test    # install what is missing, run every test, build the book (quick)

Other sub-commands: ``setup`` (system packages + virtual environment only),
``corpora`` (the offline data sets), ``book`` (the book only), ``unit`` (unit
tests), ``notebooks`` (nbval over the chapters), ``lint`` (ruff and mypy),
``bench`` (benchmarks), ``lock`` (regenerate requirements.lock from pyproject.toml),
``editions`` (the student and teacher editions of the notebooks, in ``_build/editions``),
``browser`` (every page of the built quick book in Chromium, offline; screenshots in
``_build/quick/screenshots``), ``pdf`` (the book as one PDF, printed by Chromium).

Python packages: ``pyproject.toml`` lists what the course needs (its extras ``course``,
``book``, ``teach`` and ``test``); ``requirements.lock`` pins every package, transitive ones included, to
the versions tested. ``setup`` installs the lock, then ``audiomap_lib`` itself (editable).

Environment: ``AUDIOMAP_PROFILE`` (quick / standard / full), ``AUDIOMAP_DATA``
(data cache), ``AUDIOMAP_VENV`` (where the virtual environment lives, default
``.venv``), ``AUDIOMAP_JOBS`` (pytest workers, default: number of CPUs, max 4),
``AUDIOMAP_PROGRESS`` (``0`` turns the trainer's progress bars off; the book build and the tests do).
Only the standard library is used here, so it runs before anything is installed.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("AUDIOMAP_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")

# Debian packages: the offline corpora's, listed once in audiomap_lib/launch.py (standard library only, so it
# imports before anything is installed; Colab's first cell uses the same list), and Chromium, which the
# browser tests drive through Playwright (so Playwright downloads no browser).
sys.path.insert(0, str(ROOT))
from audiomap_lib.launch import APT_PACKAGES as CORPUS_APT_PACKAGES  # noqa: E402

sys.path.pop(0)
TEST_ONLY_APT = ["chromium"]
APT_PACKAGES = [*CORPUS_APT_PACKAGES, *TEST_ONLY_APT]
HOMEBREW_HINT = "brew install espeak-ng flite fluid-synth   (festival voices, drum kits and SoundFonts are Debian-only)"


def log(msg: str) -> None:
    print(f"[course] {msg}", flush=True)


def run(cmd: list[str | os.PathLike], env: dict[str, str] | None = None) -> None:
    """Run a command, echoing it; stop with its exit code if it fails."""
    log("$ " + " ".join(str(c) for c in cmd))
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=full_env)
    if result.returncode != 0:
        log(f"failed with exit code {result.returncode}: {' '.join(str(c) for c in cmd)}")
        sys.exit(result.returncode)


def install_system_packages() -> None:
    """Install the Debian packages the offline corpora need, when they are missing."""
    if shutil.which("dpkg-query") is None or shutil.which("apt-get") is None:
        log("no apt here: install the voices by hand if you want the offline corpora:")
        log("  Debian/Ubuntu: sudo apt-get install " + " ".join(APT_PACKAGES))
        log("  macOS: " + HOMEBREW_HINT)
        log("  or use the online data sets (see README, 'Data').")
        return
    missing = []
    for pkg in APT_PACKAGES:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
        if "install ok installed" not in out.stdout:
            missing.append(pkg)
    if not missing:
        log("Debian packages: all present")
        return
    sudo: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        if shutil.which("sudo") is None:
            log("these Debian packages are missing and I am not root and have no sudo:")
            log("  apt-get install " + " ".join(missing))
            sys.exit(1)
        sudo = ["sudo"]
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run([*sudo, "apt-get", "update", "-q"], env=env)
    run([*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)


LOCK = ROOT / "requirements.lock"
LOCK_HEADER = """\
# The exact versions the course installs and tests (Linux, macOS, Windows; Python 3.10-3.13).
# Generated from pyproject.toml, do not edit. To refresh (see README, "Contributing"):
#   python3 scripts/course.py lock
# which runs: uv pip compile pyproject.toml --all-extras --universal --python-version 3.10
"""


def _requirements_digest() -> str:
    h = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        h.update(path.read_bytes())
    return h.hexdigest()


def install_python_packages() -> None:
    """Create the virtual environment and install requirements.lock + audiomap_lib (editable)."""
    stamp = VENV / ".audiomap-installed"
    digest = _requirements_digest()
    if PY.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        log(f"virtual environment {VENV}: up to date")
        return
    if not PY.exists():
        run([sys.executable, "-m", "venv", VENV])
    run([PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([PY, "-m", "pip", "install", "--quiet", "-r", LOCK])
    run([PY, "-m", "pip", "install", "--quiet", "--no-deps", "-e", "."])
    stamp.write_text(digest)


def pyproject_stamp() -> str:
    """The lock's record of the pyproject.toml it was made from: a test fails when they differ."""
    import hashlib

    return f"# from pyproject.toml with sha256 {hashlib.sha256((ROOT / 'pyproject.toml').read_bytes()).hexdigest()}"


def write_lock() -> None:
    """Regenerate requirements.lock from pyproject.toml with uv (installed into the venv if missing)."""
    uv = BIN / ("uv.exe" if os.name == "nt" else "uv")
    if not uv.exists():
        run([PY, "-m", "pip", "install", "--quiet", "uv"])
    tmp = LOCK.with_suffix(".lock.part")
    if LOCK.exists():  # uv keeps the versions already pinned there (tested) unless pyproject.toml rules them out
        shutil.copyfile(LOCK, tmp)
    run([uv, "pip", "compile", "pyproject.toml", "--all-extras", "--universal", "--python-version", "3.10",
         "--no-header", "--quiet", "-o", tmp])
    tmp.write_text(LOCK_HEADER + pyproject_stamp() + "\n" + tmp.read_text())
    tmp.replace(LOCK)
    log(f"wrote {LOCK.name}: commit it with the pyproject.toml change")
    write_binder()


BINDER = ROOT / "binder"
GPU_ONLY = ("nvidia-", "cuda-", "triton==")


def binder_files() -> dict[str, str]:
    """The Binder (repo2docker) environment, made from requirements.lock and APT_PACKAGES.

    Binder gets the locked versions with PyTorch's CPU wheels (torch==X matches X+cpu, and the
    CPU index's wheels need none of the CUDA packages, which are left out), the Debian packages
    of the corpora, and the quick profile (a Binder session has about one core).
    """
    note = "# Binder's environment. Generated by `python3 scripts/course.py lock` from {}; do not edit.\n"
    pins = [line for line in LOCK.read_text().splitlines()
            if line and not line.startswith((" ", "#")) and not line.startswith(GPU_ONLY)]
    requirements = (note.format("requirements.lock")
                    + "# PyTorch's CPU wheels instead of the CUDA ones, in the same versions\n"
                    + "--extra-index-url https://download.pytorch.org/whl/cpu\n" + "\n".join(pins) + "\n")
    apt = note.format("APT_PACKAGES in audiomap_lib/launch.py") + "\n".join(CORPUS_APT_PACKAGES) + "\n"
    post_build = ("#!/bin/bash\n" + note.format("scripts/course.py")
                  + "set -euo pipefail\npip install --no-deps -e .\n"
                  + "AUDIOMAP_PROFILE=quick python -m audiomap_lib.data build\n")
    start = ("#!/bin/bash\n" + note.format("scripts/course.py")
             + "# a Binder session has about one core: the quick profile (see the book's Profiles appendix)\n"
             + 'export AUDIOMAP_PROFILE="${AUDIOMAP_PROFILE:-quick}"\nexec "$@"\n')
    return {"requirements.txt": requirements, "apt.txt": apt, "postBuild": post_build, "start": start,
            "runtime.txt": "python-3.11\n"}


def write_binder() -> None:
    BINDER.mkdir(exist_ok=True)
    for name, text in binder_files().items():
        path = BINDER / name
        path.write_text(text)
        if text.startswith("#!"):
            path.chmod(0o755)
    log(f"wrote {BINDER.relative_to(ROOT)}/: commit it with the lock")


def setup() -> None:
    install_system_packages()
    install_python_packages()


def build_corpora(profile: str | None = None) -> None:
    env = {"AUDIOMAP_PROFILE": profile} if profile else None
    run([PY, "-m", "audiomap_lib.data", "build"], env=env)


def cell_timeout_s(profile: str | None) -> int:
    """The per-cell timeout of a profile: one table, in book/_ext/audiomap_execution.py."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        from audiomap_execution import get_cell_timeout_s
    finally:
        sys.path.pop(0)
    return get_cell_timeout_s(profile)


def build_book(profile: str | None = None, output: str | None = None, source: Path = ROOT) -> None:
    """``jupyter-book build`` with warnings as errors; the book's own extension sets the timeouts."""
    cmd: list[str | os.PathLike] = [BIN / "jupyter-book", "build", source, "-W", "-n", "--keep-going"]
    if output:
        cmd += ["--path-output", ROOT / output]
    # no live progress bars in the static book: the trainer prints one line per epoch instead
    env = {"AUDIOMAP_PROGRESS": "0", **({"AUDIOMAP_PROFILE": profile} if profile else {})}
    run(cmd, env=env)
    html = ROOT / (output or ".") / "_build" / "html" / "index.html"
    log(f"book built: {html}")


# what a book build reads, relative to the repository root
BOOK_SOURCES = ["_config.yml", "_toc.yml", "references.bib", "book", "notebooks"]


def build_book_from_executed(executed: Path, output: str) -> None:
    """Build the book from notebooks that nbval has already executed, without executing them again.

    The sources are copied to ``<output>/src`` with the executed notebooks in place of the
    committed ones (which stay without outputs) and ``execute_notebooks: off``.
    """
    src = ROOT / output / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for name in BOOK_SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(path, src / name)
    committed = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    missing = [name for name in committed if not (executed / name).exists()]
    if missing:
        log(f"nbval did not save these executed notebooks: {', '.join(missing)}")
        sys.exit(1)
    for name in committed:
        shutil.copy2(executed / name, src / "notebooks" / name)
    config = (src / "_config.yml").read_text()
    if "execute_notebooks: cache" not in config:
        log("_config.yml has no 'execute_notebooks: cache' line to switch off")
        sys.exit(1)
    (src / "_config.yml").write_text(config.replace("execute_notebooks: cache", "execute_notebooks: 'off'"))
    build_book("quick", output=output, source=src)


def run_lint() -> None:
    run([PY, "-m", "ruff", "check", "audiomap_lib", "tests", "scripts", "benchmarks", "book/_ext", "conftest.py"])
    run([PY, "-m", "mypy"])


def jobs() -> str:
    return os.environ.get("AUDIOMAP_JOBS") or str(min(4, os.cpu_count() or 1))


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a parallel test run: each of the ``jobs()`` workers (and the notebook
    kernels they start) gets its share of the cores. Without it, every worker's PyTorch starts one
    thread per core, and on 2 cores two workers ran Chapters 4-7 in quick 9 times slower
    (1171 s against 126 s: the threads wait for each other)."""
    threads = str(max(1, (os.cpu_count() or 1) // int(jobs())))
    return {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", threads),
            "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS", threads), "AUDIOMAP_PROFILE": "quick", **extra}


def run_unit_tests() -> None:
    run([PY, "-m", "pytest", "tests", "-n", jobs(), "--dist", "loadfile"], env=worker_env())


def nbval_args(profile: str = "quick") -> list[str]:
    return ["--nbval-lax", "--nbval-cell-timeout", str(cell_timeout_s(profile))]


def run_notebook_tests() -> None:
    run([PY, "-m", "pytest", "notebooks", *nbval_args(), "-n", jobs(), "--dist", "loadfile"],
        env=worker_env(AUDIOMAP_PROGRESS="0"))


def run_all_tests() -> None:
    """Lint, unit tests, nbval over every notebook, the book built from nbval's executions, and
    every page of that book opened in Chromium, offline (tests/browser).

    Each notebook executes once: nbval runs it (its assertions are the notebook tests) and saves
    the outputs (conftest.py), and the ``-W`` book build uses those outputs.
    """
    build_corpora("quick")
    run_lint()
    executed = ROOT / "_build" / "quick" / "executed"
    shutil.rmtree(executed, ignore_errors=True)
    run([PY, "-m", "pytest", "tests", "notebooks", *nbval_args(), "-n", jobs(), "--dist", "loadfile"],
        env=worker_env(AUDIOMAP_PROGRESS="0", AUDIOMAP_EXECUTED_DIR=str(executed)))
    # the book must build with -W (warnings are errors), in its own folder so that nothing
    # mixes with a standard build
    build_book_from_executed(executed, output="_build/quick")
    run_browser_tests(ROOT / "_build" / "quick" / "_build" / "html")


def find_chromium() -> str | None:
    """Debian's Chromium (or ``AUDIOMAP_CHROMIUM``): the browser the browser tests drive."""
    found = os.environ.get("AUDIOMAP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def run_browser_tests(html: Path) -> None:
    """Open every page of the built book in Chromium, offline (tests/browser); screenshots go beside the book."""
    chromium = find_chromium()
    if chromium is None:
        if shutil.which("apt-get"):
            log("Chromium is missing: 'setup' installs it (apt-get install chromium)")
            sys.exit(1)
        log("no Chromium here: the browser tests are skipped (on Debian, 'setup' installs it)")
        return
    run([PY, "-m", "pytest", "tests/browser", "-p", "no:cacheprovider", "-q"],
        env={"AUDIOMAP_BOOK_HTML": str(html), "AUDIOMAP_CHROMIUM": chromium,
             "AUDIOMAP_SCREENSHOTS": str(html.parents[1] / "screenshots")})


def make_pdf() -> None:
    """The book as one PDF (scripts/make_pdf.py): the standard build if there is one, else the quick
    build of the test command; with neither, the book is built first (``build``)."""
    chromium = find_chromium()
    if chromium is None:
        log("no Chromium: 'setup' installs it on Debian (apt-get install chromium); elsewhere set AUDIOMAP_CHROMIUM")
        sys.exit(1)
    built = [ROOT / "_build" / "html", ROOT / "_build" / "quick" / "_build" / "html"]
    html = next((h for h in built if (h / "index.html").is_file()), None)
    if html is None:
        build_corpora()
        build_book()
        html = built[0]
    name = "audiomap.pdf" if html == built[0] else "audiomap-quick.pdf"
    run([PY, ROOT / "scripts" / "make_pdf.py", html, ROOT / "_build" / "pdf" / name, "--chromium", chromium])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "test", "setup", "corpora", "book", "unit", "notebooks", "lint",
                                            "bench", "lock", "editions", "browser", "pdf"])
    args = parser.parse_args(argv)
    start = time.monotonic()
    if args.command == "build":
        setup()
        build_corpora()
        build_book()
    elif args.command == "test":
        setup()
        run_all_tests()
    elif args.command == "setup":
        setup()
    elif args.command == "corpora":
        build_corpora()
    elif args.command == "book":
        build_book()
    elif args.command == "unit":
        run_unit_tests()
    elif args.command == "notebooks":
        run_notebook_tests()
    elif args.command == "lint":
        run_lint()
    elif args.command == "lock":
        write_lock()
    elif args.command == "browser":
        run_browser_tests(ROOT / "_build" / "quick" / "_build" / "html")
    elif args.command == "pdf":
        setup()
        make_pdf()
    elif args.command == "editions":
        setup()
        run([PY, "-m", "audiomap_lib.classroom", "editions", ROOT / "_build" / "editions"])
    elif args.command == "bench":
        for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
            run([PY, script])
    log(f"'{args.command}' finished in {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
