"""Training and evaluating classifiers: one trainer for every chapter that trains a model.

Chapters 4 (GRU), 5 (attention) and 6 (raw-waveform CNN) train with :func:`fit`
and score with :func:`predict` and the ``compute_*`` metrics, so a chapter never
re-writes its training loop. The loop itself is the plain PyTorch loop (forward,
loss, backward, step); :func:`fit` adds what a good experiment needs around it:

* a progress bar per epoch (``tqdm``; off when ``AUDIOMAP_PROGRESS=0``, as in the
  book build) and one printed line per epoch;
* a learning-rate schedule (one-cycle, cosine or none), stepped every batch;
* early stopping on the validation accuracy, and the best weights restored at the end;
* a best checkpoint on disk (written atomically), and a :class:`History` of every epoch.

Every model in the course is called as ``model(waveforms, lengths)`` with a batch
from :func:`audiomap_lib.data.datasets.make_loader`: ``waveforms`` of shape
``(B, 1, T)``, ``lengths`` of shape ``(B,)`` (real samples per clip), and returns
logits of shape ``(B, n_classes)``.
"""
from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .utils import get_device

__all__ = [
    "History",
    "count_parameters",
    "fit",
    "predict",
    "compute_accuracy",
    "compute_confusion_matrix",
    "compute_group_accuracy",
    "compute_per_class_accuracy",
    "plot_history",
    "plot_confusion_matrix",
    "save_checkpoint",
    "load_checkpoint",
]

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
SCHEDULES: tuple[str, ...] = ("onecycle", "cosine", "constant")


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch (Chapter 4 explains each curve).

    Attributes:
        train_loss, val_loss: mean cross-entropy per clip (nats).
        train_acc, val_acc: fraction of clips classified correctly, in [0, 1]
            (``train_acc`` is measured on the fly, with augmentation and dropout on).
        lr: learning rate at the end of each epoch.
        seconds: wall-clock seconds of each epoch (training and validation).
        samples_per_second: training clips per second of each epoch (training part only).
        best_epoch: 1-based epoch whose weights were kept (highest ``val_acc``,
            earliest on ties); 0 before training.
        stopped_early: ``True`` when patience ran out before ``epochs``.
        checkpoint: path of the best checkpoint, or ``None``.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    samples_per_second: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    checkpoint: str | None = None

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.train_loss)

    @property
    def best_val_acc(self) -> float:
        """Validation accuracy of the kept epoch (``nan`` before training)."""
        return self.val_acc[self.best_epoch - 1] if self.best_epoch else float("nan")

    @property
    def total_seconds(self) -> float:
        """Wall-clock seconds of all epochs together."""
        return float(sum(self.seconds))

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python copy (for JSON)."""
        return asdict(self)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of a model.

    Returns:
        ``int``: the total number of scalar weights.
    """
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


def _check_positive_int(value: Any, name: str, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {kind} int; got {value!r}")
    return value


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    return os.environ.get("AUDIOMAP_PROGRESS", "1").strip() not in ("0", "false", "no", "")


def _make_bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is in requirements.txt
        return None
    return tqdm(total=total, desc=desc, leave=False, unit="batch", file=sys.stdout)


def _make_scheduler(optimizer: torch.optim.Optimizer, schedule: str, lr: float, total_steps: int):
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=max(total_steps, 1), pct_start=0.25)
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total_steps, 1))
    return None


def _to_device(batch: Batch, device: torch.device) -> Batch:
    if not isinstance(batch, (tuple, list)) or len(batch) != 3:
        raise ValueError(
            "each batch must be (waveforms, labels, lengths) as made by "
            "audiomap_lib.data.datasets.make_loader; got "
            f"{type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}"
        )
    x, y, lengths = batch
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True), lengths.to(device, non_blocking=True)


def _check_logits(logits: Any, batch_size: int) -> torch.Tensor:
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != batch_size:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"the model must return logits of shape (batch={batch_size}, n_classes); got {shape}")
    return logits


def save_checkpoint(path: str | Path, model: nn.Module, **meta: Any) -> Path:
    """Write a model's weights and metadata to ``path`` atomically (temp file, then rename).

    Args:
        path: destination file (folders are created).
        model: the model whose ``state_dict`` is saved.
        meta: extra JSON-like values stored beside the weights (e.g. ``epoch``, ``labels``).

    Returns:
        The absolute :class:`pathlib.Path` written.
    """
    path = Path(path).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save({"state_dict": state, "meta": dict(meta)}, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


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
    data = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or "state_dict" not in data:
        raise ValueError(f"{path} is not a checkpoint written by audiomap_lib.training.save_checkpoint")
    if model is not None:
        model.load_state_dict(data["state_dict"])
    return data


def fit(
    model: nn.Module,
    train_loader: Iterable[Batch],
    val_loader: Iterable[Batch],
    *,
    epochs: int,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    schedule: str = "onecycle",
    patience: int | None = None,
    augment: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    label_smoothing: float = 0.0,
    grad_clip: float | None = None,
    checkpoint: str | Path | None = None,
    device: torch.device | str | None = None,
    progress: bool | None = None,
    verbose: bool = True,
) -> History:
    """Train a classifier with AdamW and cross-entropy; keep the best epoch on validation.

    Args:
        model: called as ``model(waveforms, lengths)``, returns logits ``(B, n_classes)``.
        train_loader, val_loader: iterables of ``(waveforms (B, C, T), labels (B,), lengths (B,))``.
        epochs: most epochs to run (> 0).
        lr: peak learning rate (one-cycle) or starting rate (cosine, constant).
        weight_decay: AdamW's decoupled weight decay.
        schedule: ``"onecycle"`` (warm up for a quarter, then anneal), ``"cosine"``
            or ``"constant"``; stepped once per batch.
        patience: stop after this many epochs without a better validation accuracy
            (``None``: never stop early).
        augment: ``augment(waveforms, lengths) -> waveforms`` applied to each
            training batch on the device (never to validation).
        label_smoothing: passed to :func:`torch.nn.functional.cross_entropy`.
        grad_clip: clip the gradients' global norm to this value (``None``: no clipping).
        checkpoint: where to save the best weights (``None``: keep them in memory only).
        device: where to train; ``None`` picks one with :func:`audiomap_lib.utils.get_device`.
        progress: show a progress bar per epoch; ``None`` reads ``AUDIOMAP_PROGRESS`` (default on).
        verbose: print one line per epoch.

    Returns:
        A :class:`History`. The model is left on ``device`` holding the weights of
        the best validation epoch.

    Raises:
        ValueError: a bad argument, an empty loader, or a model whose output is not
            ``(B, n_classes)``.
    """
    _check_positive_int(epochs, "epochs")
    if patience is not None:
        _check_positive_int(patience, "patience")
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive finite number; got {lr!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}; got {schedule!r}")
    if grad_clip is not None and not grad_clip > 0:
        raise ValueError(f"grad_clip must be positive or None; got {grad_clip!r}")
    try:
        steps_per_epoch = len(train_loader)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ValueError("train_loader must have a length (a DataLoader or a list of batches)") from exc
    if steps_per_epoch == 0:
        raise ValueError("train_loader is empty; expected at least one batch")

    device = get_device() if device is None else torch.device(device)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = _make_scheduler(optimizer, schedule, lr, epochs * steps_per_epoch)
    show_bar = _progress_enabled(progress)
    history = History()
    best_state: dict[str, torch.Tensor] | None = None
    since_best = 0

    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        seen = 0
        bar = _make_bar(steps_per_epoch, f"epoch {epoch}/{epochs}", show_bar)
        for batch in train_loader:
            x, y, lengths = _to_device(batch, device)
            if augment is not None:
                x = augment(x, lengths)
            logits = _check_logits(model(x, lengths), y.shape[0])
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            loss_sum += loss.detach() * y.shape[0]
            correct += (logits.detach().argmax(1) == y).sum()
            seen += y.shape[0]
            if bar is not None:
                bar.update(1)
        train_seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
        val_logits, val_y = predict(model, val_loader, device=device)
        val_loss = float(F.cross_entropy(val_logits, val_y)) if len(val_y) else float("nan")
        val_acc = compute_accuracy(val_logits, val_y) if len(val_y) else float("nan")

        history.train_loss.append(float(loss_sum) / seen)
        history.train_acc.append(float(correct) / seen)
        history.val_loss.append(val_loss)
        history.val_acc.append(val_acc)
        history.lr.append(float(optimizer.param_groups[0]["lr"]))
        history.seconds.append(time.perf_counter() - start)
        history.samples_per_second.append(seen / max(train_seconds, 1e-9))

        improved = history.best_epoch == 0 or val_acc > history.best_val_acc
        if improved:
            history.best_epoch = epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            since_best = 0
            if checkpoint is not None:
                history.checkpoint = str(save_checkpoint(checkpoint, model, epoch=epoch, val_acc=val_acc))
        else:
            since_best += 1
        if verbose:
            print(
                f"epoch {epoch:2d}/{epochs}  train loss {history.train_loss[-1]:.3f} "
                f"acc {100 * history.train_acc[-1]:5.1f}%  |  val loss {val_loss:.3f} "
                f"acc {100 * val_acc:5.1f}%  |  lr {history.lr[-1]:.1e}  {history.seconds[-1]:5.1f} s"
                + ("  *" if improved else ""),
                flush=True,
            )
        if patience is not None and since_best >= patience and epoch < epochs:
            history.stopped_early = True
            if verbose:
                print(f"no better validation accuracy for {patience} epochs: stopping early", flush=True)
            break

    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


@torch.no_grad()
def predict(
    model: nn.Module,
    loader: Iterable[Batch],
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run a model over a loader in evaluation mode.

    Returns:
        ``(logits, labels)``: ``float32`` of shape ``(N, n_classes)`` and ``int64`` of
        shape ``(N,)``, on the CPU, in the loader's order.
    """
    device = get_device() if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    all_logits: list[torch.Tensor] = []
    all_labels: list[torch.Tensor] = []
    for batch in loader:
        x, y, lengths = _to_device(batch, device)
        all_logits.append(_check_logits(model(x, lengths), y.shape[0]).float().cpu())
        all_labels.append(y.cpu())
    model.train(was_training)
    if not all_logits:
        return torch.zeros(0, 0), torch.zeros(0, dtype=torch.int64)
    return torch.cat(all_logits), torch.cat(all_labels)


def _as_predictions(scores: torch.Tensor) -> torch.Tensor:
    scores = torch.as_tensor(scores)
    return scores.argmax(-1) if scores.ndim == 2 else scores.long()


def _check_pair(predicted: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pred = _as_predictions(predicted)
    labels = torch.as_tensor(labels).long()
    if pred.ndim != 1 or labels.shape != pred.shape:
        raise ValueError(
            f"predictions (N,) or logits (N, n_classes) must match labels (N,); got "
            f"{tuple(torch.as_tensor(predicted).shape)} and {tuple(labels.shape)}"
        )
    return pred, labels


def compute_accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of correct predictions.

    Args:
        predicted: class indices ``(N,)`` or logits / probabilities ``(N, n_classes)``.
        labels: true class indices ``(N,)``.

    Returns:
        ``float`` in [0, 1] (``nan`` for ``N = 0``).
    """
    pred, labels = _check_pair(predicted, labels)
    return float((pred == labels).float().mean()) if len(labels) else float("nan")


def compute_confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Count how often each true class is predicted as each class.

    Returns:
        ``int64`` tensor ``(n_classes, n_classes)``: row = true class, column = predicted class.
    """
    _check_positive_int(n_classes, "n_classes")
    pred, labels = _check_pair(predicted, labels)
    if len(labels) and (int(labels.max()) >= n_classes or int(pred.max()) >= n_classes or int(labels.min()) < 0):
        raise ValueError(f"class indices must lie in range(n_classes={n_classes})")
    return torch.bincount(labels * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def compute_per_class_accuracy(predicted: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Recall of each class: correct / clips of that class.

    Returns:
        ``float64`` tensor ``(n_classes,)`` (``nan`` for a class with no clips).
    """
    cm = compute_confusion_matrix(predicted, labels, n_classes).double()
    return cm.diagonal() / cm.sum(1)


def compute_group_accuracy(
    predicted: torch.Tensor, labels: torch.Tensor, groups: Sequence[str]
) -> dict[str, tuple[float, int]]:
    """Accuracy within each group of clips (e.g. each voice family: espeak, flite, festival).

    Args:
        predicted: class indices ``(N,)`` or logits ``(N, n_classes)``.
        labels: true class indices ``(N,)``.
        groups: the group name of each clip (length ``N``), e.g. ``[r["family"] for r in ds.rows]``.

    Returns:
        ``{group: (accuracy in [0, 1], number of clips)}`` in sorted group order.
    """
    pred, labels = _check_pair(predicted, labels)
    groups = list(groups)
    if len(groups) != len(labels):
        raise ValueError(f"groups must name one group per clip: {len(groups)} names for {len(labels)} clips")
    out: dict[str, tuple[float, int]] = {}
    names = np.asarray(groups, dtype=object)
    ok = (pred == labels).numpy()
    for g in sorted(set(groups)):
        sel = names == g
        out[g] = (float(ok[sel].mean()), int(sel.sum()))
    return out


def plot_history(history: History | Mapping[str, Any], metric: str = "accuracy", ax=None, label: str | None = None):
    """Plot learning curves: training and validation ``"loss"`` or ``"accuracy"`` per epoch.

    The kept (best) epoch is marked with a dot on the validation curve.

    Returns:
        The matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy'; got {metric!r}")
    h = history.to_dict() if isinstance(history, History) else dict(history)
    key = "acc" if metric == "accuracy" else "loss"
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    scale = 100.0 if metric == "accuracy" else 1.0
    epochs = np.arange(1, len(h[f"train_{key}"]) + 1)
    prefix = f"{label}: " if label else ""
    (line,) = ax.plot(epochs, scale * np.asarray(h[f"train_{key}"]), "--", label=f"{prefix}train")
    ax.plot(epochs, scale * np.asarray(h[f"val_{key}"]), "-", color=line.get_color(), label=f"{prefix}validation")
    best = int(h.get("best_epoch") or 0)
    if best:
        ax.plot([best], [scale * h[f"val_{key}"][best - 1]], "o", color=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)" if metric == "accuracy" else "cross-entropy (nats)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_confusion_matrix(
    matrix: torch.Tensor, labels: Sequence[str], ax=None, normalize: bool = False, title: str | None = None
):
    """Show a confusion matrix (rows: true class, columns: predicted) with counts in the cells.

    Args:
        matrix: ``(K, K)`` counts from :func:`compute_confusion_matrix`.
        labels: the ``K`` class names.
        normalize: show each row as percentages of that class.

    Returns:
        The matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    m = torch.as_tensor(matrix).double()
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(labels):
        raise ValueError(f"matrix must be (K, K) with K = len(labels) = {len(labels)}; got {tuple(m.shape)}")
    shown = 100 * m / m.sum(1, keepdim=True).clamp_min(1) if normalize else m
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(shown.numpy(), cmap="Blues")
    k = len(labels)
    top = float(shown.max()) if shown.numel() else 0.0
    for i in range(k):
        for j in range(k):
            v = float(shown[i, j])
            if v:
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 * top else "black")
    ax.set_xticks(range(k), labels, rotation=60, fontsize=8)
    ax.set_yticks(range(k), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return ax
