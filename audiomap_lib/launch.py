"""Running the chapters away from the course's own setup: Colab and Binder (Setup page).

Every chapter's notebook starts with the cell :func:`make_launch_cell_source` writes. Where
``audiomap_lib`` is importable (``course.py setup``, Binder) the cell only calls
:func:`prepare_runtime`, which does nothing when the programs the corpora are built from are there.
On Colab, where the library is missing, the cell installs it from the repository with pip, pinning
the torch and torchaudio already installed (Colab's own builds: pip must not swap them for the
course's), and :func:`prepare_runtime` installs the Debian voices, drum kits and SoundFonts with
``apt-get``. Reading audio never needs torchaudio's FFmpeg back end (:mod:`audiomap_lib.io` uses
soundfile), so nothing else is needed there.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence

__all__ = [
    "APT_PACKAGES",
    "LAUNCH_CELL_TAG",
    "PROGRAMS",
    "REPOSITORY_URL",
    "find_missing_programs",
    "is_colab",
    "make_launch_cell_source",
    "prepare_runtime",
]

#: where pip installs the library from on Colab (``repository.url`` in ``_config.yml``; a test checks)
REPOSITORY_URL = "https://github.com/audiomap/audiomap"

#: the Debian packages the offline corpora are built from: the one list (``scripts/course.py``
#: installs these and Chromium; keep this module to the standard library, as course.py imports it)
APT_PACKAGES: tuple[str, ...] = (
    "espeak-ng", "flite", "festival", "festvox-kallpc16k", "festvox-kdlpc16k",
    "festvox-us-slt-hts", "hydrogen-drumkits", "sonic-pi-samples", "fluidsynth", "fluid-soundfont-gm",
    "timgm6mb-soundfont", "musescore-general-soundfont", "libsndfile1",
)

#: the programs whose presence says the packages are installed
PROGRAMS: tuple[str, ...] = ("espeak-ng", "flite", "festival", "text2wave", "fluidsynth")

#: the book hides the cell (its readers need no install); Colab and JupyterLab show it
LAUNCH_CELL_TAG = "remove-cell"


def make_launch_cell_source(repository_url: str = REPOSITORY_URL) -> str:
    """The code of every chapter's first cell (standard library only: it runs before anything is installed).

    Returns:
        Python source, ending without a newline (as notebook cells are stored).
    """
    return f'''\
# On Colab (or wherever audiomap_lib is missing) this installs the course library from its
# repository, keeping the torch and torchaudio already installed. Elsewhere it does nothing.
import importlib, importlib.metadata, importlib.util, subprocess, sys, tempfile

if importlib.util.find_spec("audiomap_lib") is None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as keep:
        keep.writelines(f"{{name}}=={{importlib.metadata.version(name)}}\\n" for name in ("torch", "torchaudio")
                        if importlib.util.find_spec(name) is not None)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--constraint", keep.name,
                    "audiomap_lib[course] @ git+{repository_url}"], check=True)
    importlib.invalidate_caches()
from audiomap_lib.launch import prepare_runtime

prepare_runtime()  # on Colab: the Debian voices, drum kits and SoundFonts the corpora are built from'''


def is_colab() -> bool:
    """Whether this Python runs in a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def find_missing_programs(which: Callable[[str], str | None] = shutil.which) -> list[str]:
    """The programs of :data:`PROGRAMS` not on the ``PATH``, in that order."""
    return [program for program in PROGRAMS if which(program) is None]


def prepare_runtime(
    *,
    install: bool | None = None,
    packages: Sequence[str] = APT_PACKAGES,
    which: Callable[[str], str | None] = shutil.which,
    runner: Callable[..., object] = subprocess.run,
) -> list[str]:
    """Make sure the programs the corpora are built from are installed (Setup page).

    Args:
        install: run ``apt-get install`` when something is missing; ``None`` means "on Colab only"
            (elsewhere installing system packages is the user's call: a hint is printed instead).
        packages: the Debian packages to install.
        which: finds a program (``shutil.which``; tests pass their own).
        runner: runs a command (``subprocess.run``; tests pass their own).

    Returns:
        The programs that were missing before (empty when all were there).

    Raises:
        RuntimeError: ``apt-get`` was asked for but is not here.
    """
    missing = find_missing_programs(which)
    if not missing:
        return []
    if install is None:
        install = is_colab()
    if not install:
        print(f"missing: {', '.join(missing)}; the offline corpora need them. On Debian or Ubuntu: "
              f"sudo apt-get install {' '.join(packages)}  (or use the online data sets: Appendix, data)")
        return missing
    if which("apt-get") is None:
        raise RuntimeError(f"install=True needs apt-get to install {', '.join(missing)}; it is not on the PATH")
    sudo = ["sudo"] if hasattr(os, "geteuid") and os.geteuid() != 0 and which("sudo") else []
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing the Debian packages the corpora need ({', '.join(missing)} missing); about a minute")
    runner([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    runner([*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], check=True, env=env)
    return missing
