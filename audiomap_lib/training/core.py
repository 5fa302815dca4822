"""What every trainer of the course shares (Chapters 4-8): device, progress bar, timing,
atomic checkpoints that resume exactly, a :class:`History` of named metrics, and the
sample-rate check between data and model.

The classifier trainer (:mod:`audiomap_lib.training.classifier`, Chapters 4-6), the WGAN-GP
trainer of Chapter 7 and the style-transfer optimisation of Chapter 8
(:func:`audiomap_lib.style.transfer_style`) are built from these pieces, so each of them shows
the same progress bar and measures time the same way; the two trainers can also be stopped and
resumed with the same weights as a run that was never interrupted.
"""
from __future__ import annotations

import math
import os
import pickle
import random
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from ..data.datasets import get_sample_rate_hz
from ..utils import check_real, get_device

__all__ = [
    "History",
    "Stopwatch",
    "check_sample_rates",
    "clip_gradient_norm",
    "count_parameters",
    "get_rng_states",
    "is_progress_enabled",
    "load_checkpoint",
    "load_training_state",
    "make_progress_bar",
    "read_torch_file",
    "resolve_device",
    "save_checkpoint",
    "save_training_state",
    "set_rng_states",
]

_HISTORY_FIELDS = ("best_epoch", "stopped_early", "checkpoint")


class History:
    """Named metrics, one value per epoch (or per logged step), and what a trainer decided.

    Any metric name can be logged (``train_loss``, ``val_acc``, ``critic_loss`` ...); each is
    read back as an attribute (``history.val_acc``) or with ``history["val_acc"]``: a list of
    floats, one per :meth:`log` call. :func:`audiomap_lib.training.fit` logs ``train_loss``,
    ``val_loss`` (mean cross-entropy per clip, nats), ``train_acc``, ``val_acc`` (fractions in
    [0, 1]), ``lr``, ``seconds`` (wall-clock seconds of each epoch) and ``samples_per_second``
    (Chapter 4 explains each curve).

    Args:
        best_epoch: 1-based epoch whose weights were kept (0: none yet).
        stopped_early: ``True`` when a trainer stopped before its last epoch.
        checkpoint: path of the best checkpoint, or ``None``.
        metrics: initial values, ``name=[v1, v2, ...]`` (all of the same length).

    Raises:
        ValueError: metrics of different lengths, or a metric named like an attribute.
    """

    def __init__(self, *, best_epoch: int = 0, stopped_early: bool = False, checkpoint: str | None = None,
                 **metrics: Sequence[float]) -> None:
        self.best_epoch = int(best_epoch)
        self.stopped_early = bool(stopped_early)
        self.checkpoint = checkpoint
        self.metrics: dict[str, list[float]] = {}
        lengths = {name: len(values) for name, values in metrics.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"metrics must all have the same number of values; got lengths {lengths}")
        for name, values in metrics.items():
            self._check_name(name)
            self.metrics[name] = [float(v) for v in values]
        self._n = next(iter(lengths.values()), 0)

    @staticmethod
    def _check_name(name: str) -> None:
        if name in _HISTORY_FIELDS or name in ("metrics", "epochs") or name.startswith("_") or hasattr(History, name):
            raise ValueError(f"metric name {name!r} is taken by an attribute of History; choose another")

    def log(self, **values: float) -> None:
        """Append one value per named metric (one epoch, or one step).

        A metric seen for the first time is padded with ``nan`` for the earlier entries; a known
        metric missing from this call gets ``nan``, so every list keeps the same length.
        """
        for name in values:
            if name not in self.metrics:
                self._check_name(name)
                self.metrics[name] = [math.nan] * self._n
        for name, column in self.metrics.items():
            column.append(float(values[name]) if name in values else math.nan)
        self._n += 1

    def __getattr__(self, name: str) -> list[float]:
        metrics = self.__dict__.get("metrics")
        if metrics is not None and name in metrics:
            return metrics[name]
        raise AttributeError(f"History has no metric or attribute {name!r}"
                             + (f"; it holds {sorted(metrics)}" if metrics else ""))

    def __getitem__(self, name: str) -> list[float]:
        return self.metrics[name]

    @property
    def epochs(self) -> int:
        """Number of entries logged (epochs run, for :func:`~audiomap_lib.training.fit`)."""
        return self._n

    @property
    def best_val_acc(self) -> float:
        """``val_acc`` of the kept epoch (``nan`` before training or without ``val_acc``)."""
        if not self.best_epoch or "val_acc" not in self.metrics:
            return float("nan")
        return self.metrics["val_acc"][self.best_epoch - 1]

    @property
    def total_seconds(self) -> float:
        """Sum of the ``seconds`` metric (0 when none was logged)."""
        return float(sum(self.metrics.get("seconds", [])))

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python copy (for JSON and checkpoints): every metric list and the three attributes."""
        out: dict[str, Any] = {name: list(values) for name, values in self.metrics.items()}
        out.update(best_epoch=self.best_epoch, stopped_early=self.stopped_early, checkpoint=self.checkpoint)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        """Rebuild a :class:`History` from :meth:`to_dict`'s output."""
        data = dict(data)
        fields = {k: data.pop(k) for k in _HISTORY_FIELDS if k in data}
        return cls(**fields, **data)

    def __repr__(self) -> str:
        return f"History(entries={self._n}, metrics={sorted(self.metrics)}, best_epoch={self.best_epoch})"


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of a model (Chapter 4).

    Returns:
        ``int``: the total number of scalar weights.
    """
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))

def clip_gradient_norm(parameters: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scale every gradient by one factor so that their global L2 norm is at most ``max_norm`` (Chapter 4; :func:`~audiomap_lib.training.fit` clips with it).

    The global norm is ``sqrt(sum_p ||p.grad||^2)`` over all parameters that have a gradient;
    when it exceeds ``max_norm``, every gradient is multiplied by ``max_norm / (norm + 1e-6)``
    (the direction of the update is kept, only its length shrinks), as
    ``torch.nn.utils.clip_grad_norm_`` does. Gradients are changed in place.

    Args:
        parameters: tensors (e.g. ``model.parameters()``); those whose ``.grad`` is ``None`` are skipped.
        max_norm: the largest global norm allowed (> 0).

    Returns:
        The global norm *before* clipping, a 0-d tensor (useful to log how often clipping acts).
    """
    max_norm = check_real(max_norm, "max_norm", 0.0, low_open=True)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.detach().mul_(scale.to(g.device, g.dtype))
    return total



def resolve_device(device: torch.device | str | None) -> torch.device:
    """The device to train on: ``device`` checked by :func:`audiomap_lib.utils.get_device`
    (which refuses a GPU that is not there, naming it), or the best one present when ``None``."""
    if device is None:
        return get_device()
    try:
        return get_device(device)
    except (TypeError, ValueError) as err:
        raise type(err)(str(err).replace("prefer", "device", 1)) from None


def is_progress_enabled(progress: bool | None) -> bool:
    """Whether to draw progress bars: ``progress`` itself, or ``AUDIOMAP_PROGRESS`` (default on) when ``None``."""
    if progress is not None:
        return bool(progress)
    return os.environ.get("AUDIOMAP_PROGRESS", "1").strip() not in ("0", "false", "no", "")


def make_progress_bar(total: int, desc: str, enabled: bool, unit: str = "batch") -> Any:
    """A ``tqdm`` bar of ``total`` steps writing to stdout, or ``None`` when ``enabled`` is false."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is in requirements.txt
        return None
    return tqdm(total=total, desc=desc, leave=False, unit=unit, file=sys.stdout)


class Stopwatch:
    """Wall-clock timing with :func:`time.perf_counter`: ``elapsed_s`` seconds since ``start()``."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def start(self) -> Stopwatch:
        """Restart the clock; returns ``self``."""
        self._start = time.perf_counter()
        return self

    @property
    def elapsed_s(self) -> float:
        """Seconds since the last :meth:`start` (or since construction)."""
        return time.perf_counter() - self._start


# --------------------------------------------------------------------------- sample rates


def check_sample_rates(model: nn.Module, **sources: Any) -> int | None:
    """Refuse data whose sample rate differs from the model's (Chapter 6).

    Args:
        model: a course model (has ``sample_rate_hz``); a model without one is not checked.
        sources: ``name=loader`` (or data set, augmentation) pairs; those that report no rate
            (see :func:`audiomap_lib.data.datasets.get_sample_rate_hz`) are not checked.

    Returns:
        The model's rate in Hz, or ``None`` when it has none.

    Raises:
        ValueError: a source's rate differs from the model's; the message names both rates.
    """
    model_rate = get_sample_rate_hz(model)
    if model_rate is None:
        return None
    for name, source in sources.items():
        rate = get_sample_rate_hz(source)
        if rate is not None and rate != model_rate:
            raise ValueError(
                f"{name} delivers audio at {rate} Hz but the model expects {model_rate} Hz "
                f"(model.sample_rate_hz); build the model for {rate} Hz, or resample the data "
                f"explicitly (audiomap_lib.io.resample) -- nothing is resampled silently"
            )
    return model_rate


# --------------------------------------------------------------------------- checkpoints


def _atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def save_checkpoint(path: str | Path, model: nn.Module, **meta: Any) -> Path:
    """Write a model's weights and metadata to ``path`` atomically (temp file, then rename).

    For weights to keep or share (the best epoch, the course's digit classifier); to stop a
    run and continue it later use :func:`save_training_state`.

    Args:
        path: destination file (folders are created).
        model: the model whose ``state_dict`` is saved.
        meta: extra JSON-like values stored beside the weights (e.g. ``epoch``, ``labels``).

    Returns:
        The absolute :class:`pathlib.Path` written.
    """
    return _atomic_save({"state_dict": _cpu_state(model), "meta": dict(meta)}, path)


def read_torch_file(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, with a clear error for a bad file.

    Args:
        path: an existing file.
        what: what the file should hold, for the message (``"checkpoint"``).

    Raises:
        ValueError: the file is empty, truncated, not a PyTorch file, or holds objects other
            than tensors and plain values (which are never unpickled: they could run code).
            The message names the file.
    """
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path} is empty (0 bytes), not a {what}; an interrupted copy? Save or download it again")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "weights only" in str(err).lower() or "weights_only" in str(err):
            raise ValueError(f"{path} holds Python objects other than tensors and plain values, so it is not a "
                             f"{what} of this course; it is not unpickled, since that could run code") from None
        raise ValueError(f"{path} ({size} bytes) cannot be read as a {what}: {err}") from None
    except (EOFError, RuntimeError, KeyError, UnicodeDecodeError, ValueError, IndexError, TypeError) as err:
        raise ValueError(f"{path} ({size} bytes) cannot be read as a {what}: it is truncated or not a PyTorch "
                         f"file ({type(err).__name__}: {str(err).splitlines()[0][:120] if str(err) else 'no detail'})"
                         ) from None


def load_checkpoint(path: str | Path, model: nn.Module | None = None) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the file.
        model: if given, its weights are replaced by the checkpoint's (strictly:
            every name and shape must match).

    Returns:
        ``{"state_dict": ..., "meta": {...}}``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a course checkpoint.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    data = read_torch_file(path, "checkpoint")
    if not isinstance(data, dict) or "state_dict" not in data:
        raise ValueError(f"{path} is not a checkpoint written by audiomap_lib.training.save_checkpoint")
    if model is not None:
        model.load_state_dict(data["state_dict"])
    return data


def get_rng_states(generators: Mapping[str, torch.Generator] | None = None) -> dict[str, Any]:
    """Every random state a run draws from: Python's, NumPy's, PyTorch's (CPU, and each CUDA
    device) and the given generators' (e.g. a loader's shuffling generator).

    Returns:
        A dict that ``torch.load(..., weights_only=True)`` can read back (for :func:`set_rng_states`).
    """
    version, mt, gauss = random.getstate()
    np_state = cast(tuple, np.random.get_state(legacy=True))  # (name, keys, pos, has_gauss, cached)
    return {
        "python": (version, list(mt), gauss),
        "numpy": (str(np_state[0]), torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
                  int(np_state[2]), int(np_state[3]), float(np_state[4])),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "generators": {name: g.get_state() for name, g in (generators or {}).items()},
    }


def set_rng_states(states: Mapping[str, Any], generators: Mapping[str, torch.Generator] | None = None) -> None:
    """Restore what :func:`get_rng_states` returned (the same ``generators`` names).

    Raises:
        ValueError: a generator named in ``generators`` has no saved state.
    """
    version, mt, gauss = states["python"]
    random.setstate((version, tuple(mt), gauss))
    name, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    if states.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    saved = states.get("generators", {})
    for g_name, g in (generators or {}).items():
        if g_name not in saved:
            raise ValueError(f"the saved random states hold no generator {g_name!r}; they hold {sorted(saved)}")
        g.set_state(saved[g_name])


def save_training_state(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any = None,
    *,
    step: int,
    epoch: int,
    history: History | None = None,
    generators: Mapping[str, torch.Generator] | None = None,
    **extra: Any,
) -> Path:
    """Write everything needed to continue a run exactly, atomically (temp file, then rename).

    Holds the model's weights, the optimiser's and scheduler's states, every random state
    (:func:`get_rng_states`, with ``generators``), the counters ``step`` (optimiser steps
    done) and ``epoch`` (epochs done), the :class:`History` and ``extra`` values (tensors,
    numbers, strings, lists and dicts of them). A run resumed from this file with
    :func:`load_training_state` reaches the same weights as one that never stopped
    (on the same machine; see the test in ``tests/test_training.py``).

    Returns:
        The absolute :class:`pathlib.Path` written.
    """
    state = {
        "kind": "audiomap training state",
        "model": _cpu_state(model),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": get_rng_states(generators),
        "step": int(step),
        "epoch": int(epoch),
        "history": history.to_dict() if history is not None else None,
        "extra": dict(extra),
    }
    return _atomic_save(state, path)


def load_training_state(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any = None,
    *,
    generators: Mapping[str, torch.Generator] | None = None,
) -> dict[str, Any]:
    """Restore a state written by :func:`save_training_state` into ``model``, ``optimizer``,
    ``scheduler``, the random generators and ``generators``.

    Returns:
        ``{"step": int, "epoch": int, "history": History | None, "extra": dict}``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a training state, or it holds a scheduler state but no
            ``scheduler`` was given (or the reverse).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no training state at {path}")
    data = read_torch_file(path, "training state")
    if not isinstance(data, dict) or data.get("kind") != "audiomap training state":
        raise ValueError(f"{path} is not a training state written by audiomap_lib.training.save_training_state")
    if (data["scheduler"] is None) != (scheduler is None):
        raise ValueError(f"{path} was saved {'without' if data['scheduler'] is None else 'with'} a scheduler; "
                         f"pass scheduler={'None' if data['scheduler'] is None else 'the same kind of scheduler'}")
    model.load_state_dict(data["model"])
    optimizer.load_state_dict(data["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(data["scheduler"])
    set_rng_states(data["rng"], generators)
    history = History.from_dict(data["history"]) if data["history"] is not None else None
    return {"step": int(data["step"]), "epoch": int(data["epoch"]), "history": history, "extra": data["extra"]}


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block; restore its mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
