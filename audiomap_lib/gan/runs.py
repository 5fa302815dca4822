"""Trained WaveGANs on disk: where a run keeps its state, loading its generator, the longest run (Chapter 7).

``python -m audiomap_lib.gan train`` keeps each run's training state in a ``.pt`` file with a JSON
record beside it (settings, steps, minutes trained). The repository ships one such model trained
longer on a laptop's CPU (:data:`PRETRAINED_DIR`: the generator's moving average only, under
5 MB, with its command, seed, minutes, steps and scores in the JSON). :func:`find_longest_run`
picks, among the shipped model and the runs in the cache, the one that trained longest, which
Chapter 7 plays.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..utils import get_cache_dir, get_profile
from .models import WaveGANGenerator

__all__ = ["PRETRAINED_DIR", "default_state_path", "find_longest_run", "generate_clips", "load_generator", "save_generator"]

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
"""The models shipped with the course (``<name>.pt`` + ``<name>.json``)."""


def default_state_path(corpus: str, d: int, rate_hz: int, profile: str | None = None, model: str = "wavegan") -> Path:
    """Where ``python -m audiomap_lib.gan train`` keeps a run's state unless ``--state`` says otherwise."""
    return get_cache_dir("models", profile or get_profile()) / f"{model}_{corpus}_d{d}_{rate_hz}hz.pt"


def load_generator(state: str | Path, averaged: bool = True) -> tuple[Any, dict[str, Any]]:
    """The generator of a run (its moving average when the run kept one and ``averaged``), Chapter 7.

    Args:
        state: a training state written by ``train`` or a file written by :func:`save_generator`,
            with its JSON record beside it (same name, ``.json``).
        averaged: take the moving average of the weights when there is one.

    Returns:
        ``(generator in eval mode on the CPU, the run's JSON record)``: a
        :class:`~audiomap_lib.gan.models.WaveGANGenerator`, or a
        :class:`~audiomap_lib.gan.specgan.SpecGANGenerator` for a ``--model specgan`` run (make
        sound from either with :func:`generate_clips`).

    Raises:
        FileNotFoundError: the file or its JSON record is missing.
        ValueError: the file is not a PyTorch file of tensors, or holds no generator.
    """
    from ..training.core import read_torch_file

    state = Path(state)
    record = state.with_suffix(".json")
    for p in (state, record):
        if not p.is_file():
            raise FileNotFoundError(f"no file at {p} (a run of python -m audiomap_lib.gan train writes both)")
    info = json.loads(record.read_text())
    generator: Any
    if info.get("model") == "specgan":
        from .specgan import SpecGANGenerator

        generator = SpecGANGenerator(d=info["d"], size=info["size"], n_samples=info["n_samples"],
                                     sample_rate_hz=info["sample_rate_hz"])
    else:
        generator = WaveGANGenerator(d=info["d"], n_samples=info["n_samples"], upsample=info["upsample"],
                                     sample_rate_hz=info["sample_rate_hz"],
                                     post_filter_taps=int(info.get("post_filter_taps", 0)))
    weights = read_torch_file(state, "WaveGAN state")["model"]
    prefix = "ema_generator." if averaged and any(k.startswith("ema_generator.") for k in weights) else "generator."
    own = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    if not own:
        raise ValueError(f"{state} holds no generator weights (keys {sorted(weights)[:3]}...)")
    generator.load_state_dict(own)
    return generator.eval(), info


def generate_clips(generator: Any, info: dict[str, Any], n: int, seed: int = 0) -> Any:
    """``n`` clips ``(n, 1, n_samples)`` from a loaded generator, with seeded latents (Chapter 7).

    WaveGAN's output is the sound; SpecGAN's images are decoded with the run's
    :class:`~audiomap_lib.gan.specgan.SpectrogramCodec` (Griffin-Lim).
    """
    import torch

    from ..utils import check_positive_int
    from .models import make_latents

    n = check_positive_int(n, "n")
    generator = generator.eval().to("cpu")
    with torch.no_grad():
        out = generator(make_latents(n, generator.latent_dim, torch.Generator().manual_seed(int(seed))))
    if info.get("model") == "specgan":
        from .specgan import SpectrogramCodec

        out = SpectrogramCodec.from_dict(info["codec"]).decode(out, seed=int(seed))
    return out


def save_generator(state: str | Path, out: str | Path, half: bool = False, **record: Any) -> Path:
    """Keep only a run's averaged generator (or the generator) in ``out``, with its JSON record (Chapter 7).

    The record is the run's, updated with ``record`` (e.g. the command and the scores).
    ``half=True`` stores the weights as float16 (half the size, for a file shipped in the
    repository; :func:`load_generator` loads them back into float32, and the record says
    ``"weights_dtype": "float16"``).

    Returns:
        The path written (``out``; the record is ``out`` with ``.json``).
    """
    import torch

    if not isinstance(half, bool):
        raise TypeError(f"half must be True or False; got {half!r}")
    generator, info = load_generator(state)
    prefix = "ema_generator." if info.get("ema") else "generator."
    dtype = torch.float16 if half else torch.float32
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": {prefix + k: v.detach().to(dtype).clone() for k, v in generator.state_dict().items()}}, out)
    out.with_suffix(".json").write_text(json.dumps({**info, "weights_dtype": str(dtype).removeprefix("torch."),
                                                    **record}, indent=1) + "\n")
    return out


def find_longest_run(corpus: str = "drums", profile: str | None = None) -> Path | None:
    """The model of ``corpus`` that trained longest: shipped, or a run in this profile's cache (Chapter 7).

    Returns:
        The ``.pt`` file (its record is beside it), or ``None`` when there is none.
    """
    if corpus not in ("drums", "digits"):
        raise ValueError(f"corpus must be 'drums' or 'digits'; got {corpus!r}")
    found: list[tuple[float, Path]] = []
    folders = [PRETRAINED_DIR, get_cache_dir("models", profile or get_profile())]
    for folder in folders:
        for record in sorted(folder.glob(f"wavegan_{corpus}_*.json")) if folder.is_dir() else []:  # WaveGANs only
            state = record.with_suffix(".pt")
            try:
                info = json.loads(record.read_text())
            except (OSError, ValueError):
                continue
            if state.is_file() and info.get("corpus") == corpus and not record.name.endswith(".scores.json"):
                found.append((float(info.get("minutes", 0.0)), state))
    return max(found)[1] if found else None
