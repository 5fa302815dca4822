"""PyTorch ``Dataset`` over a course manifest, a padding collate, and the one-line source switch.

A chapter gets its digits with one line and can swap the corpus without
touching anything else::

    from audiomap_lib.data.datasets import get_digit_datasets, make_loader
    ds = get_digit_datasets(source="offline")      # or "sc09", or "fsdd"
    train = make_loader(ds["train"], batch_size=32, shuffle=True, seed=0)
    for waveforms, labels, lengths in train:       # (B, 1, T), (B,), (B,)
        ...

Clips of different lengths are zero-padded at the end by :func:`pad_collate`;
``lengths`` says how many samples of each row are real.
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..io import check_sample_rate, load_audio
from .manifest import SPLITS, read_manifest

__all__ = [
    "DIGIT_SOURCES",
    "AudioClipDataset",
    "get_digit_datasets",
    "make_loader",
    "pad_collate",
]

DIGIT_SOURCES: tuple[str, ...] = ("offline", "sc09", "fsdd")
"""The corpora :func:`get_digit_datasets` can switch between."""


class AudioClipDataset(Dataset):
    """The clips of one split of a manifest, as ``(waveform, label_index)`` pairs.

    Args:
        manifest: a manifest CSV (see :mod:`audiomap_lib.data.manifest`).
        split: ``"train"``, ``"validation"`` or ``"test"``.
        labels: the class names in index order; ``None`` means the sorted labels
            found in the *whole* manifest (all splits, so indices agree between
            the splits of one manifest). Pass it explicitly (e.g. ``DIGITS``) to
            fix the order.
        sr: the sample rate every clip must have, in Hz; a clip with another rate
            raises a ``ValueError`` (nothing is resampled silently -- pass a
            ``transform`` that resamples, and ``sr=None``, if that is what you want).
        transform: called on each waveform (``(1, samples)`` float32 tensor) before it
            is returned, e.g. a feature extractor or a resampler.

    Attributes:
        labels: tuple of class names; ``labels[i]`` is the name of index ``i``.
        rows: list of manifest rows (dicts: ``path, label, split, speaker, family,
            source, sr, samples, sha256, licence, detail, file``); ``rows[i]`` is the
            metadata of item ``i``.
        split, manifest, sr, transform: as given.

    Raises:
        FileNotFoundError: no manifest.
        ValueError: unknown split, no rows in that split, a row whose label is not
            in ``labels``, duplicate labels, or (from the manifest) a clip whose
            rate differs from ``sr``.
    """

    def __init__(
        self,
        manifest: Path | str,
        split: str,
        labels: Sequence[str] | None = None,
        sr: int | None = None,
        transform: Callable[[torch.Tensor], Any] | None = None,
    ) -> None:
        self.manifest = Path(manifest)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
        self.split = split
        self.sr = None if sr is None else check_sample_rate(sr, "sr")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None; got {type(transform).__name__}")
        self.transform = transform
        all_rows = read_manifest(self.manifest)
        if labels is None:
            labels = sorted({str(r["label"]) for r in all_rows})
        labels = tuple(str(x) for x in labels)
        if len(set(labels)) != len(labels):
            dupes = sorted(k for k, v in Counter(labels).items() if v > 1)
            raise ValueError(f"labels must be distinct; {dupes} appear more than once")
        self.labels: tuple[str, ...] = labels
        self._index = {name: i for i, name in enumerate(labels)}
        self.rows: list[dict[str, Any]] = [r for r in all_rows if r["split"] == split]
        if not self.rows:
            raise ValueError(f"the manifest {self.manifest} has no rows in split {split!r}")
        unknown = sorted({str(r["label"]) for r in self.rows} - set(labels))
        if unknown:
            raise ValueError(
                f"split {split!r} of {self.manifest} holds labels {unknown} that are not in "
                f"labels={list(labels)}; add them to labels, or use a manifest without them"
            )
        if self.sr is not None:
            for r in self.rows:
                if r["sr"] and r["sr"] != self.sr:
                    raise ValueError(
                        f"sr={self.sr} Hz was asked for, but {r['path']} is listed at {r['sr']} Hz "
                        f"in {self.manifest.name}; nothing is resampled silently: pass sr=None and "
                        f"a transform that resamples (audiomap_lib.io.resample)"
                    )

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        """Load clip ``index``.

        Returns:
            ``(waveform, label_index)``: a ``float32`` tensor of shape ``(1, samples)``
            (or whatever ``transform`` makes of it) and an ``int`` in
            ``range(len(labels))``.

        Raises:
            ValueError: the file's rate differs from ``sr``, or it has more than one channel.
        """
        row = self.rows[index]
        path = row["file"]
        try:
            wav, _file_sr = load_audio(path, sr=self.sr)
        except ValueError as exc:
            raise ValueError(f"clip {index} ({row['path']}): {exc}; sr={self.sr}") from exc
        if wav.shape[0] != 1:
            raise ValueError(
                f"clip {index} ({row['path']}) has {wav.shape[0]} channels; expected mono "
                f"(1 channel) -- mix it down with audiomap_lib.io.to_mono in a transform"
            )
        if self.transform is not None:
            wav = self.transform(wav)
        return wav, self._index[str(row["label"])]

    def label_counts(self) -> dict[str, int]:
        """Number of clips per label in this split.

        Returns:
            ``{label: count}`` for every label in :attr:`labels`, in that order
            (zero for labels absent from the split).
        """
        counts = Counter(str(r["label"]) for r in self.rows)
        return {name: counts.get(name, 0) for name in self.labels}

    def __repr__(self) -> str:
        return (
            f"AudioClipDataset({self.manifest.name!r}, split={self.split!r}, "
            f"clips={len(self)}, labels={len(self.labels)}, sr={self.sr})"
        )


def pad_collate(batch: Sequence[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack ``(waveform, label)`` pairs of different lengths into one batch.

    Each waveform has shape ``(channels, samples)`` (a 1-D ``(samples,)`` tensor is
    read as one channel); shorter ones are padded with zeros *at the end* up to the
    longest in the batch.

    Returns:
        ``(waveforms, labels, lengths)``: ``float32`` of shape ``(B, channels, max_len)``,
        ``int64`` of shape ``(B,)``, and ``int64`` of shape ``(B,)`` holding each clip's
        number of real (unpadded) samples.

    Raises:
        ValueError: empty batch, or items with different channel counts (or ranks).
        TypeError: an item is not a ``(tensor, int)`` pair.
    """
    if len(batch) == 0:
        raise ValueError("batch is empty; expected at least one (waveform, label) pair")
    waves: list[torch.Tensor] = []
    labels: list[int] = []
    for i, item in enumerate(batch):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"batch[{i}] must be a (waveform, label) pair; got {type(item).__name__}")
        wav, label = item
        if isinstance(wav, np.ndarray):
            wav = torch.from_numpy(wav)
        if not isinstance(wav, torch.Tensor):
            raise TypeError(f"batch[{i}][0] must be a tensor; got {type(wav).__name__}")
        if wav.ndim == 1:
            wav = wav.unsqueeze(0)
        if wav.ndim != 2:
            raise ValueError(
                f"batch[{i}][0] must have shape (channels, samples); got shape {tuple(wav.shape)}"
            )
        waves.append(wav)
        labels.append(int(label))
    channels = {w.shape[0] for w in waves}
    if len(channels) > 1:
        shapes = [tuple(w.shape) for w in waves]
        raise ValueError(
            f"the clips in this batch have different channel counts {sorted(channels)} "
            f"(shapes {shapes}); make them all mono (or all the same) before batching"
        )
    max_len = max(w.shape[-1] for w in waves)
    out = torch.zeros(len(waves), waves[0].shape[0], max_len, dtype=torch.float32)
    for i, w in enumerate(waves):
        out[i, :, : w.shape[-1]] = w.to(torch.float32)
    lengths = torch.tensor([w.shape[-1] for w in waves], dtype=torch.int64)
    return out, torch.tensor(labels, dtype=torch.int64), lengths


def get_digit_datasets(
    source: str = "offline",
    profile: str | None = None,
    root: str | Path | None = None,
) -> dict[str, AudioClipDataset]:
    """The spoken-digit train / validation / test sets of one corpus: the chapter's one-line switch.

    =========  =============================================  =========  ====================
    source     corpus                                         rate       needs
    =========  =============================================  =========  ====================
    offline    synthetic voices (espeak-ng, flite, festival)  16 kHz     Debian packages only
    sc09       the ten digit words of Speech Commands v0.02   16 kHz     a 2.3 GB download
    fsdd       Free Spoken Digit Dataset v1.0.10              8 kHz      a 16 MB download
    =========  =============================================  =========  ====================

    Labels are ``DIGITS`` (``"zero"`` ... ``"nine"``) in that order, so label index
    ``k`` is the digit ``k`` for every source. Every split is disjoint by speaker.

    Args:
        source: ``"offline"``, ``"sc09"`` or ``"fsdd"``.
        profile: run profile for the offline corpus (how many clips it synthesises);
            the downloaded corpora are always complete (subsample them yourself).
        root: the corpus folder; ``None`` means the course cache.

    Returns:
        ``{"train": ..., "validation": ..., "test": ...}``, each an
        :class:`AudioClipDataset` that checks the corpus's sample rate.

    Raises:
        ValueError: unknown ``source``.
        DownloadError: an online source while offline (the message explains the way out).
    """
    if source not in DIGIT_SOURCES:
        raise ValueError(f"source must be one of {DIGIT_SOURCES}; got {source!r}")
    if source == "offline":
        from .digits import DIGITS, build_spoken_digits

        manifest = build_spoken_digits(profile=profile, root=root)
        labels, sr = tuple(DIGITS), 16000
    elif source == "sc09":
        from .online import SC09_WORDS, prepare_speech_commands

        manifest = prepare_speech_commands(root=root, subset="sc09")
        labels, sr = SC09_WORDS, 16000
    else:
        from .online import SC09_WORDS, prepare_fsdd

        manifest = prepare_fsdd(root=root)
        labels, sr = SC09_WORDS, 8000
    return {split: AudioClipDataset(manifest, split, labels=labels, sr=sr) for split in SPLITS}


def _seed_worker(worker_id: int) -> None:
    """Seed NumPy and ``random`` in a DataLoader worker from torch's per-worker seed."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def make_loader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool,
    seed: int,
    num_workers: int = 0,
) -> DataLoader:
    """A ``DataLoader`` that batches with :func:`pad_collate` and repeats with a seed.

    Two loaders built with the same ``seed`` visit the clips in the same order
    (epoch after epoch); workers seed NumPy and ``random`` from it too.

    Args:
        dataset: e.g. an :class:`AudioClipDataset`.
        batch_size: clips per batch (> 0); the last batch may be smaller.
        shuffle: shuffle each epoch (training) or keep manifest order (evaluation).
        seed: a non-negative int seeding the shuffling generator.
        num_workers: loader processes (0: load in the main process).

    Returns:
        A :class:`torch.utils.data.DataLoader` yielding ``(waveforms (B, C, T) float32,
        labels (B,) int64, lengths (B,) int64)``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"num_workers must be a non-negative int; got {num_workers!r}")
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=bool(shuffle),
        collate_fn=pad_collate,
        num_workers=num_workers,
        generator=generator,
        worker_init_fn=_seed_worker if num_workers > 0 else None,
    )
