"""Scoring a classifier: accuracy, confusion matrix, per-class and per-group accuracy (Chapters 4-6).

Each function takes the predicted classes ``(N,)`` -- or logits / probabilities
``(N, n_classes)``, read by their arg-max -- and the true classes ``(N,)``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..utils import check_positive_int, check_tensor

__all__ = [
    "compute_accuracy",
    "compute_confusion_matrix",
    "compute_group_accuracy",
    "compute_per_class_accuracy",
]


def _as_indices(values: object, name: str) -> torch.Tensor:
    """Class indices ``(N,)`` as int64: integers only (a float such as 3.7 is refused, never truncated)."""
    if isinstance(values, torch.Tensor) and (values.dtype == torch.bool or values.is_complex() or values.is_floating_point()):
        raise TypeError(f"{name} must hold integer class indices; got dtype {values.dtype} (take .argmax(-1) of scores)")
    return check_tensor(values, name, kind="int", allow_empty=True, allow_sequence=True, shape="(N,)").long()


def _as_predictions(scores: object) -> torch.Tensor:
    t: object = scores
    if isinstance(t, (list, tuple)):
        try:
            t = torch.as_tensor(t)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"predicted must be class indices (N,) or scores (N, n_classes); got {scores!r:.80}") from None
    if isinstance(t, np.ndarray) and t.dtype.kind in "biufc":
        t = torch.from_numpy(np.ascontiguousarray(t))
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"predicted must be a tensor of class indices (N,) or scores (N, n_classes); got {type(scores).__name__}")
    if t.ndim == 2:
        if not t.is_floating_point():
            raise TypeError(f"predicted as scores (N, n_classes) must be floating point; got dtype {t.dtype}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError("predicted scores contain NaN or infinite values")
        return t.argmax(-1)
    return _as_indices(t, "predicted")


def _check_pair(predicted: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pred = _as_predictions(predicted)
    labels = _as_indices(labels, "labels")
    if pred.ndim != 1 or labels.shape != pred.shape:
        raise ValueError(
            f"predicted (N,) or logits (N, n_classes) must match labels (N,); got "
            f"{tuple(torch.as_tensor(predicted).shape)} and {tuple(labels.shape)}"
        )
    return pred, labels


def compute_accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of correct predictions (Chapter 4).

    Args:
        predicted: class indices ``(N,)`` or logits / probabilities ``(N, n_classes)``.
        labels: true class indices ``(N,)``.

    Returns:
        ``float`` in [0, 1] (``nan`` for ``N = 0``).
    """
    pred, labels = _check_pair(predicted, labels)
    for name, t in (("labels", labels), ("predicted", pred)):
        if t.numel() and int(t.min()) < 0:
            raise ValueError(f"{name} must hold class indices >= 0; got {int(t.min())}")
    return float((pred == labels).float().mean()) if len(labels) else float("nan")


def compute_confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Count how often each true class is predicted as each class (Chapter 4).

    Args:
        predicted: class indices ``(N,)`` or logits ``(N, n_classes)``.
        labels: true class indices ``(N,)``.
        n_classes: number of classes ``K``.

    Returns:
        ``int64`` tensor ``(K, K)``: row = true class, column = predicted class.
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    pred, labels = _check_pair(predicted, labels)
    for name, t in (("labels", labels), ("predicted", pred)):
        if len(t) and (int(t.min()) < 0 or int(t.max()) >= n_classes):
            raise ValueError(
                f"{name} must lie in range(n_classes={n_classes}); got values {int(t.min())}..{int(t.max())}"
            )
    return torch.bincount(labels * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def compute_per_class_accuracy(predicted: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Recall of each class: correct / clips of that class (Chapter 6).

    Args:
        predicted: class indices ``(N,)`` or logits ``(N, n_classes)``.
        labels: true class indices ``(N,)``.
        n_classes: number of classes ``K``.

    Returns:
        ``float64`` tensor ``(K,)`` (``nan`` for a class with no clips).
    """
    cm = compute_confusion_matrix(predicted, labels, n_classes).double()
    return cm.diagonal() / cm.sum(1)


def compute_group_accuracy(
    predicted: torch.Tensor, labels: torch.Tensor, groups: Sequence[str]
) -> dict[str, tuple[float, int]]:
    """Accuracy within each group of clips, e.g. each voice family: espeak, flite, festival (Chapter 4).

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
