"""Shared pytest setup: a headless Matplotlib backend and a private data cache."""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("AUDIOMAP_PROFILE", "quick")
