"""requirements.lock records the pyproject.toml it was resolved from (README, "Contributing")."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_lock_was_made_from_this_pyproject() -> None:
    stamp = re.search(r"^# from pyproject.toml with sha256 ([0-9a-f]{64})$", (ROOT / "requirements.lock").read_text(), re.M)
    assert stamp, "requirements.lock has no pyproject.toml stamp: run `python3 scripts/course.py lock`"
    current = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    assert stamp.group(1) == current, "pyproject.toml changed after the lock: run `python3 scripts/course.py lock` and commit both"
