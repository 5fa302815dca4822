"""The course's saved classifiers: save them, load them, ask them (Chapter 6; Chapters 7 and 8 use them).

Three tasks (:data:`CLASSIFIER_TASKS`): ``"digits"`` (Chapter 6's spoken-digit classifier),
``"drums"`` and ``"digits_gan"`` (the drum and digit classifiers that Chapter 7 trains the
Chapter 6 way, at a GAN's rate and length, to score generated hits and digits:
:func:`audiomap_lib.gan.get_gan_scorer`). :func:`save_classifier` / :func:`load_classifier` take the task;
:func:`save_digit_classifier` / :func:`load_digit_classifier` are the digit task's short names,
which Chapter 6 teaches. :func:`compute_classifier_outputs` gives the softmax probabilities and
the embeddings (the input of the last linear layer) that Chapter 7's scores need.

Chapter 6 trains a spoken-digit classifier and saves it with :func:`save_digit_classifier`;
:func:`load_digit_classifier` brings it back in a later session. :func:`predict_digit`
classifies one waveform given at any sample rate: when the rate differs from the model's it
resamples explicitly and says so in the :class:`DigitPrediction` it returns.

A saved classifier is one file (``get_cache_dir("models", <profile>) / "digit_classifier.pt"``
unless another path is given: each profile keeps its own, so a ``quick`` test run never
replaces the classifier a ``standard`` or ``full`` run trained), written atomically with
:func:`audiomap_lib.training.save_checkpoint`: the weights, the model's class and
constructor arguments, the class names and the sample rate in Hz.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .cnn import LogMelCNN1d, LogMelCNN2d, RawAudioCNN
from .io import check_sample_rate, check_waveform, resample
from .training.core import load_checkpoint, save_checkpoint
from .utils import get_cache_dir, get_profile

__all__ = [
    "CLASSIFIER_TASKS",
    "DIGIT_CLASSIFIER_NAME",
    "DigitClassifier",
    "DigitPrediction",
    "compute_classifier_outputs",
    "load_classifier",
    "load_digit_classifier",
    "predict_digit",
    "save_classifier",
    "save_digit_classifier",
]

DIGIT_CLASSIFIER_NAME = "digit_classifier.pt"
"""File name of the course's digit classifier in ``get_cache_dir("models", <profile>)``."""

CLASSIFIER_TASKS: dict[str, tuple[str, str]] = {
    "digits": (DIGIT_CLASSIFIER_NAME, "run Chapter 6 (06_raw_waveform_cnn) to train and save it"),
    "drums": ("drum_classifier.pt", "run Chapter 7 (07_wavegan), or audiomap_lib.gan.get_gan_scorer('drums', n_samples, rate)"),
    "digits_gan": ("gan_digit_scorer.pt", "audiomap_lib.gan.get_gan_scorer('digits', n_samples, rate) trains it"),
}
"""Task -> (file name in ``get_cache_dir("models", <profile>)``, how to make it)."""

DigitClassifier = RawAudioCNN | LogMelCNN2d | LogMelCNN1d
"""The model classes a digit classifier file can hold (Chapter 6)."""

_MODEL_CLASSES: dict[str, type[RawAudioCNN] | type[LogMelCNN2d] | type[LogMelCNN1d]] = {
    "RawAudioCNN": RawAudioCNN, "LogMelCNN2d": LogMelCNN2d, "LogMelCNN1d": LogMelCNN1d,
}


def _check_task(task: str) -> str:
    if task not in CLASSIFIER_TASKS:
        raise ValueError(f"task must be one of {tuple(CLASSIFIER_TASKS)}; got {task!r}")
    return task


def _default_path(path: str | Path | None, task: str = "digits") -> Path:
    """The given path, or the active profile's own file for ``task`` in the cache."""
    if path is None:
        return get_cache_dir("models", get_profile()) / CLASSIFIER_TASKS[_check_task(task)][0]
    return Path(path).expanduser()


def save_classifier(model: nn.Module, labels: Sequence[str], task: str = "digits", path: str | Path | None = None,
                    **meta: Any) -> Path:
    """Save a trained classifier for ``task`` (a key of :data:`CLASSIFIER_TASKS`; Chapters 6 and 7).

    As :func:`save_digit_classifier`, whose arguments it takes, plus ``task``, which picks the
    default file (:data:`CLASSIFIER_TASKS`) and is stored in the file.

    Raises:
        ValueError: an unknown ``task``; and as :func:`save_digit_classifier`.
    """
    task = _check_task(task)
    return save_digit_classifier(model, labels, _default_path(path, task), task=task, **meta)


def load_classifier(task: str = "digits", path: str | Path | None = None, device: torch.device | str = "cpu"
                    ) -> tuple[DigitClassifier, dict[str, Any]]:
    """Load the classifier saved for ``task`` (Chapters 6 and 7); as :func:`load_digit_classifier`.

    Raises:
        FileNotFoundError: nothing saved there yet (the message says which chapter makes it).
        ValueError: an unknown ``task``, or the file holds something else (or another task's model).
    """
    task = _check_task(task)
    p = _default_path(path, task)
    if not p.is_file():
        raise FileNotFoundError(f"no {task} classifier at {p}; {CLASSIFIER_TASKS[task][1]}")
    model, meta = load_digit_classifier(p, device)
    saved_task = str(meta.get("task", "digits"))
    if saved_task != task:
        raise ValueError(f"{p} holds a {saved_task!r} classifier, not a {task!r} one")
    return model, meta


@torch.no_grad()
def compute_classifier_outputs(model: nn.Module, clips: torch.Tensor, batch_size: int = 256
                               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities and embeddings of a Chapter 6 classifier for a batch of clips (Chapter 7).

    The embedding of a clip is what the model's last linear layer receives (the pooled features,
    after dropout, which is off in eval mode): the space Chapter 7's Fréchet distance lives in.

    Args:
        model: a Chapter 6 classifier (``head`` ending in ``nn.Linear``), at the clips' rate.
        clips: ``(N, 1, samples)`` float waveforms, all of full length.
        batch_size: clips per forward pass.

    Returns:
        ``(probabilities (N, K), embeddings (N, E))``, ``float32`` on the CPU.

    Raises:
        TypeError: the model has no ``head`` ending in a linear layer.
        ValueError: ``clips`` is not ``(N, 1, samples)`` float, or is empty.
    """
    head = getattr(model, "head", None)
    last = head[-1] if isinstance(head, nn.Sequential) and len(head) else head
    if not isinstance(last, nn.Linear):
        raise TypeError("model must have a head ending in nn.Linear (a Chapter 6 classifier)")
    x = check_waveform(clips, "clips", ndim=(3,))
    if x.shape[1] != 1 or x.shape[0] == 0:
        raise ValueError(f"clips must have shape (N, 1, samples) with N >= 1; got {tuple(x.shape)}")
    batch_size = int(batch_size)
    captured: list[torch.Tensor] = []
    hook = last.register_forward_pre_hook(lambda _m, args: captured.append(args[0].detach().float().cpu()))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    probs = []
    try:
        for start in range(0, len(x), batch_size):
            part = x[start: start + batch_size].to(device)
            lengths = torch.full((len(part),), part.shape[-1], device=device)
            probs.append(model(part, lengths).softmax(-1).float().cpu())
    finally:
        hook.remove()
        model.train(was_training)
    return torch.cat(probs), torch.cat(captured)


def save_digit_classifier(model: nn.Module, labels: Sequence[str], path: str | Path | None = None,
                          **meta: Any) -> Path:
    """Save a trained classifier with everything needed to rebuild and use it (Chapter 6; Chapter 7 loads it).

    Written atomically with :func:`audiomap_lib.training.save_checkpoint`.

    Args:
        model: a :class:`~audiomap_lib.cnn.RawAudioCNN`, :class:`~audiomap_lib.cnn.LogMelCNN2d`
            or :class:`~audiomap_lib.cnn.LogMelCNN1d`.
        labels: the ``n_classes`` class names in index order.
        path: destination; ``None``: ``get_cache_dir("models", get_profile()) / "digit_classifier.pt"``
            (one file per profile).
        meta: extra JSON-like values (accuracies, corpus, profile ...).

    Returns:
        The absolute :class:`pathlib.Path` written.

    Raises:
        TypeError: ``model`` is not one of the three classes.
        ValueError: ``labels`` does not name the model's classes.
    """
    if not isinstance(model, (RawAudioCNN, LogMelCNN2d, LogMelCNN1d)):
        raise TypeError(f"model must be one of {tuple(_MODEL_CLASSES)}; got {type(model).__name__}")
    names = [str(x) for x in labels]
    n_classes = model.config_dict["n_classes"]
    if len(names) != n_classes:
        raise ValueError(f"labels must name the model's {n_classes} classes; got {len(names)} names")
    return save_checkpoint(_default_path(path), model, model_class=type(model).__name__,
                           config=dict(model.config_dict), labels=names, sample_rate=int(model.sample_rate_hz),
                           **meta)


def load_digit_classifier(path: str | Path | None = None, device: torch.device | str = "cpu"
                          ) -> tuple[DigitClassifier, dict[str, Any]]:
    """Load a classifier saved by :func:`save_digit_classifier` (Chapter 6; used by Chapters 7 and 8).

    Args:
        path: the file; ``None``: the active profile's ``get_cache_dir("models", <profile>) / "digit_classifier.pt"``.
        device: where to put the model.

    Returns:
        ``(model, meta)``: the model in eval mode with ``model.labels`` set (its rate is
        ``model.sample_rate_hz``), and the checkpoint's metadata (``model_class, config,
        labels, sample_rate`` in Hz, and extras).

    Raises:
        FileNotFoundError: nothing saved there yet (run Chapter 6 first).
        ValueError: the file holds something else.
    """
    p = _default_path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no digit classifier at {p}; run Chapter 6 (06_raw_waveform_cnn) to train and save it")
    data = load_checkpoint(p)
    meta: dict[str, Any] = dict(data["meta"])
    cls = _MODEL_CLASSES.get(str(meta.get("model_class")))
    if cls is None:
        raise ValueError(f"{p} does not hold a Chapter 6 classifier (model_class={meta.get('model_class')!r})")
    model = cls(**meta["config"])
    model.load_state_dict(data["state_dict"])
    model.labels = tuple(str(x) for x in meta["labels"])
    return model.to(device).eval(), meta


@dataclass
class DigitPrediction:
    """What :func:`predict_digit` returns (Chapter 6).

    Attributes:
        label: the predicted class name; index: its index.
        probabilities: ``(K,)`` softmax probabilities, ``float32`` on the CPU.
        labels: the ``K`` class names.
        input_sr: the rate the waveform was given at (Hz); model_sr: the rate the model
            was fed (its ``sample_rate_hz``); resampled: ``True`` when the two differ and the
            waveform was resampled with :func:`audiomap_lib.io.resample`.
    """

    label: str
    index: int
    probabilities: torch.Tensor
    labels: tuple[str, ...]
    input_sr: int
    model_sr: int
    resampled: bool

    def __str__(self) -> str:
        note = f", resampled {self.input_sr} -> {self.model_sr} Hz" if self.resampled else ""
        return f"{self.label} ({100 * float(self.probabilities[self.index]):.1f} %{note})"


@torch.no_grad()
def predict_digit(model: nn.Module, waveform: torch.Tensor, sr: int, labels: Sequence[str] | None = None
                  ) -> DigitPrediction:
    """Classify one mono waveform given at any sample rate (Chapter 6).

    If ``sr`` differs from the model's ``sample_rate_hz`` the waveform is resampled with
    :func:`audiomap_lib.io.resample` (and the result says so). Nothing is cropped, padded
    or normalised: the model averages over the whole clip.

    Args:
        model: a Chapter 6 classifier (has ``sample_rate_hz``).
        waveform: ``(samples,)`` or ``(1, samples)`` float.
        sr: its sample rate in Hz.
        labels: class names; default ``model.labels``, else ``"0" ... "K-1"``.

    Returns:
        A :class:`DigitPrediction`.

    Raises:
        ValueError: not mono, empty, non-finite, a bad ``sr``, or shorter than 100 ms or than the
            model's ``min_input_samples`` (M18 needs more than that).
        TypeError: not a float tensor / array, or a model without ``sample_rate_hz``.
    """
    sr = check_sample_rate(sr, "sr")
    wav = check_waveform(waveform, "waveform", ndim=(1, 2))
    if wav.ndim == 2:
        if wav.shape[0] != 1:
            raise ValueError(f"waveform must be mono, (samples,) or (1, samples); got shape {tuple(wav.shape)}")
        wav = wav[0]
    rate = getattr(model, "sample_rate_hz", None)
    if rate is None:
        raise TypeError("model must have a sample_rate_hz attribute (a Chapter 6 classifier)")
    model_sr = int(rate)
    resampled = sr != model_sr
    if resampled:
        wav = resample(wav, sr, model_sr)
    min_len = max(math.ceil(0.1 * model_sr), int(getattr(model, "min_input_samples", 1)))
    if wav.shape[-1] < min_len:
        raise ValueError(f"waveform is {wav.shape[-1] / model_sr * 1000:.1f} ms long at {model_sr} Hz; this model "
                         f"expects at least {min_len} samples ({min_len / model_sr * 1000:g} ms): pad it with zeros")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits = model(wav.view(1, 1, -1).to(device), torch.tensor([wav.shape[-1]], device=device))
    model.train(was_training)
    probs = logits.softmax(-1)[0].float().cpu()
    own = getattr(model, "labels", None)
    names = tuple(labels) if labels is not None else (tuple(own) if own else tuple(str(i) for i in range(probs.shape[0])))
    if len(names) != probs.shape[0]:
        raise ValueError(f"labels must name the model's {probs.shape[0]} classes; got {len(names)}")
    idx = int(probs.argmax())
    return DigitPrediction(names[idx], idx, probs, names, sr, model_sr, resampled)
