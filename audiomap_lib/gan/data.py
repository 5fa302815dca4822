"""Training clips for a GAN from the course's corpora (Chapter 7).

A GAN trains on a tensor of clips held in memory, all of one length and one rate. Here they
come from any course data set: resampled *explicitly* (:func:`audiomap_lib.io.resample`) to the
generator's rate, then kept from their start and zero-padded or cut at the end to the
generator's length. Both steps are counted in the report returned beside the clips, so nothing
is changed silently.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..data.datasets import get_sample_rate_hz
from ..io import check_sample_rate, check_waveform, pad_or_crop, resample
from ..utils import check_positive_int

__all__ = ["make_gan_clips"]


def make_gan_clips(dataset: Any, n_samples: int, sample_rate_hz: int, labels: Sequence[str] | None = None,
                   ) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """All clips of a data set as one tensor for :func:`audiomap_lib.training.wgan.train_wgan_gp`.

    Args:
        dataset: ``(waveform (1, samples), label_index)`` items with a ``sample_rate_hz`` (an
            :class:`~audiomap_lib.data.datasets.AudioClipDataset`); with ``labels``, also a
            ``labels`` attribute (the class names in index order).
        n_samples: the length of every clip returned (the generator's ``n_samples``).
        sample_rate_hz: the rate of the clips returned (the generator's ``sample_rate_hz``).
        labels: keep only the clips of these classes (e.g. ``["kick"]`` for one-class training).

    Returns:
        ``(clips, label_indices, report)``: ``float32`` ``(N, 1, n_samples)``, ``int64`` ``(N,)``
        (the data set's indices), and ``{"clips", "source_rate_hz", "sample_rate_hz",
        "n_samples", "cut", "padded", "labels"}`` (``cut``/``padded``: how many clips were longer /
        shorter than ``n_samples`` after resampling).

    Raises:
        ValueError: a data set with no sample rate, unknown labels, or no clips left.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    target = check_sample_rate(sample_rate_hz, "sample_rate_hz")
    source = get_sample_rate_hz(dataset)
    if source is None:
        raise ValueError("dataset must report its sample_rate_hz (an AudioClipDataset does); its clips' rate is unknown")
    names = list(getattr(dataset, "labels", None) or [])
    keep: set[int] | None = None
    if labels is not None:
        unknown = [name for name in labels if name not in names]
        if unknown:
            raise ValueError(f"labels {unknown} are not classes of this data set (its classes: {names})")
        keep = {names.index(name) for name in labels}
    clips, indices, cut, padded = [], [], 0, 0
    for i in range(len(dataset)):
        wave, label = dataset[i]
        if keep is not None and int(label) not in keep:
            continue
        wav = check_waveform(wave, f"dataset[{i}] (the waveform)", ndim=(1, 2)).reshape(1, -1)
        if source != target:
            wav = resample(wav, source, target)
        cut += int(wav.shape[-1] > n_samples)
        padded += int(wav.shape[-1] < n_samples)
        clips.append(pad_or_crop(wav, n_samples, mode="start"))
        indices.append(int(label))
    if not clips:
        raise ValueError("no clips left to train on" + (f" with labels={list(labels)}" if labels is not None else ""))
    report = {"clips": len(clips), "source_rate_hz": source, "sample_rate_hz": target, "n_samples": n_samples,
              "cut": cut, "padded": padded, "labels": list(labels) if labels is not None else names}
    return torch.stack(clips), torch.tensor(indices, dtype=torch.int64), report
