"""Training and evaluating classifiers: :func:`fit` and :func:`predict` (Chapters 4-6).

Chapters 4 (GRU), 5 (attention) and 6 (raw-waveform CNN) train with :func:`fit` and score
with :func:`predict` and :mod:`audiomap_lib.training.metrics`, so a chapter never re-writes
its training loop. The loop itself is the plain PyTorch loop (forward, loss, backward, step);
:func:`fit` adds what a good experiment needs around it:

* a progress bar per epoch (``tqdm``; off when ``AUDIOMAP_PROGRESS=0``, as in the book
  build) and one printed line per epoch;
* a learning-rate schedule (one-cycle, cosine or none), stepped every batch;
* early stopping on the validation accuracy, and the best weights restored at the end;
* a best checkpoint on disk (written atomically), and a :class:`~audiomap_lib.training.core.History`
  of every epoch;
* optionally the full training state after every epoch, so that an interrupted run resumes
  exactly where it stopped (``state_path``);
* a check that the data's sample rate is the model's (``sample_rate_hz``), before anything runs.

Every model in the course is called as ``model(waveforms, lengths)`` with a batch from
:func:`audiomap_lib.data.datasets.make_loader`: ``waveforms`` of shape ``(B, 1, T)``,
``lengths`` of shape ``(B,)`` (real samples per clip), and returns logits of shape
``(B, n_classes)``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import check_positive_int
from .core import (
    History,
    Stopwatch,
    _eval_mode,
    check_sample_rates,
    clip_gradient_norm,
    is_progress_enabled,
    load_training_state,
    make_progress_bar,
    resolve_device,
    save_checkpoint,
    save_training_state,
)
from .metrics import compute_accuracy

__all__ = ["SCHEDULES", "fit", "predict"]

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
SCHEDULES: tuple[str, ...] = ("onecycle", "cosine", "constant")
"""The learning-rate schedules :func:`fit` knows."""


def _make_scheduler(optimizer: torch.optim.Optimizer, schedule: str, lr: float, total_steps: int) -> Any:
    if schedule == "onecycle":
        if total_steps <= 2:  # too short to warm up and anneal: a constant rate
            return None
        # a quarter of the steps warm up; at least two, so that no phase has zero length
        pct_start = max(0.25, 2 / total_steps)
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps, pct_start=pct_start)
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


def _generators(train_loader: Any, augment: Any) -> dict[str, torch.Generator]:
    """The random generators of a run besides the global ones: the loader's shuffling, the augmentation's."""
    out: dict[str, torch.Generator] = {}
    for name, owner in (("train_loader", train_loader), ("augment", augment)):
        g = getattr(owner, "generator", None)
        if isinstance(g, torch.Generator):
            out[name] = g
    return out


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
    state_path: str | Path | None = None,
    device: torch.device | str | None = None,
    progress: bool | None = None,
    verbose: bool = True,
) -> History:
    """Train a classifier with AdamW and cross-entropy; keep the best epoch on validation (Chapter 4).

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
        state_path: where to write the full training state after every epoch (weights,
            optimiser, schedule, random states, the loader's and the augmentation's generators,
            counters, history; :func:`~audiomap_lib.training.core.save_training_state`). If the
            file exists when ``fit`` starts, training resumes after its last epoch and ends with
            the same weights as a run that was never interrupted. ``None``: no state is written.
        device: where to train; ``None`` picks one with :func:`audiomap_lib.utils.get_device`.
        progress: show a progress bar per epoch; ``None`` reads ``AUDIOMAP_PROGRESS`` (default on).
        verbose: print one line per epoch.

    Returns:
        A :class:`~audiomap_lib.training.core.History` (``train_loss``, ``train_acc``,
        ``val_loss``, ``val_acc``, ``lr``, ``seconds``, ``samples_per_second`` per epoch). The
        model is left on ``device`` holding the weights of the best validation epoch.

    Raises:
        ValueError: a bad argument, an empty loader, a model whose output is not
            ``(B, n_classes)``, data (or an augmentation) at another sample rate than the
            model's ``sample_rate_hz`` (the message names both rates), or a ``state_path``
            written by a run with other settings.
    """
    check_positive_int(epochs, "epochs")
    if patience is not None:
        check_positive_int(patience, "patience")
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
    if hasattr(val_loader, "__len__") and len(val_loader) == 0:  # type: ignore[arg-type]
        raise ValueError("val_loader is empty: fit keeps the weights of the best validation epoch, "
                         "so it needs at least one validation batch")
    check_sample_rates(model, train_loader=train_loader, val_loader=val_loader, augment=augment)

    device = resolve_device(device)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = _make_scheduler(optimizer, schedule, lr, epochs * steps_per_epoch)
    show_bar = is_progress_enabled(progress)
    generators = _generators(train_loader, augment)
    settings = {"epochs": epochs, "lr": float(lr), "weight_decay": float(weight_decay), "schedule": schedule,
                "patience": patience, "label_smoothing": float(label_smoothing), "grad_clip": grad_clip,
                "steps_per_epoch": steps_per_epoch}
    history = History()
    best_state: dict[str, torch.Tensor] | None = None
    since_best, step, first_epoch, finished = 0, 0, 1, False

    if state_path is not None and Path(state_path).expanduser().is_file():
        saved = load_training_state(state_path, model, optimizer, scheduler, generators=generators)
        extra = saved["extra"]
        if extra.get("settings") != settings:
            raise ValueError(f"state_path {state_path} was written by a run with other settings "
                             f"{extra.get('settings')}; this run has {settings}. Delete the file to start afresh")
        history = saved["history"] or History()
        best_state = extra.get("best_state") or None
        since_best, step, finished = int(extra["since_best"]), saved["step"], bool(extra["finished"])
        first_epoch = saved["epoch"] + 1
        if verbose:
            print(f"resuming from {state_path} after epoch {saved['epoch']}/{epochs}", flush=True)

    for epoch in range(first_epoch, epochs + 1):
        if finished:
            break
        clock = Stopwatch()
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        seen = 0
        bar = make_progress_bar(steps_per_epoch, f"epoch {epoch}/{epochs}", show_bar)
        for batch in train_loader:
            x, y, lengths = _to_device(batch, device)
            if augment is not None:
                x = augment(x, lengths)
            logits = _check_logits(model(x, lengths), y.shape[0])
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            if not bool(torch.isfinite(loss)):
                bad_input = not bool(torch.isfinite(x).all())
                raise ValueError(
                    f"the training loss is {float(loss.detach())} at epoch {epoch}, batch {seen // max(y.shape[0], 1) + 1}: "
                    + ("train_loader gave waveforms with NaN or infinite samples; clean the data"
                       if bad_input else "the model diverged; lower lr or set grad_clip")
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                clip_gradient_norm(model.parameters(), grad_clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            loss_sum += loss.detach() * y.shape[0]
            correct += (logits.detach().argmax(1) == y).sum()
            seen += y.shape[0]
            if bar is not None:
                bar.update(1)
        train_seconds = clock.elapsed_s
        if bar is not None:
            bar.close()
        val_logits, val_y = predict(model, val_loader, device=device)
        if not len(val_y):
            raise ValueError("val_loader gave no clips: fit keeps the weights of the best validation epoch, "
                             "so it needs validation data")
        val_loss = float(F.cross_entropy(val_logits, val_y))
        val_acc = compute_accuracy(val_logits, val_y)
        history.log(train_loss=float(loss_sum) / seen, train_acc=float(correct) / seen, val_loss=val_loss,
                    val_acc=val_acc, lr=float(optimizer.param_groups[0]["lr"]), seconds=clock.elapsed_s,
                    samples_per_second=seen / max(train_seconds, 1e-9))

        improved = history.best_epoch == 0 or val_acc > history.best_val_acc
        if improved:
            history.best_epoch = epoch
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
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
            history.stopped_early = finished = True
            if verbose:
                print(f"no better validation accuracy for {patience} epochs: stopping early", flush=True)
        if state_path is not None:
            save_training_state(state_path, model, optimizer, scheduler, step=step, epoch=epoch, history=history,
                                generators=generators, settings=settings, best_state=best_state,
                                since_best=since_best, finished=finished or epoch == epochs)

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
    """Run a model over a loader in evaluation mode (Chapter 4).

    Args:
        model: called as ``model(waveforms, lengths)``, returns logits ``(B, n_classes)``.
        loader: an iterable of ``(waveforms (B, C, T), labels (B,), lengths (B,))``.
        device: where to run; ``None`` picks one with :func:`audiomap_lib.utils.get_device`.

    Returns:
        ``(logits, labels)``: ``float32`` of shape ``(N, n_classes)`` and ``int64`` of
        shape ``(N,)``, on the CPU, in the loader's order.

    Raises:
        ValueError: a batch that is not ``(waveforms, labels, lengths)``, logits of the wrong
            shape, or a loader at another sample rate than the model's ``sample_rate_hz``.
    """
    check_sample_rates(model, loader=loader)
    device = resolve_device(device)
    all_logits: list[torch.Tensor] = []
    all_labels: list[torch.Tensor] = []
    with _eval_mode(model):
        for batch in loader:
            x, y, lengths = _to_device(batch, device)
            all_logits.append(_check_logits(model(x, lengths), y.shape[0]).float().cpu())
            all_labels.append(y.cpu())
    if not all_logits:
        return torch.zeros(0, 0), torch.zeros(0, dtype=torch.int64)
    return torch.cat(all_logits), torch.cat(all_labels)
