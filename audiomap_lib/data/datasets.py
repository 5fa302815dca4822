"""PyTorch ``Dataset`` over a course manifest, a padding collate, and the one-line source switch.

A chapter gets its digits with one line and can swap the corpus without
touching anything else::

    from audiomap_lib.data.datasets import get_digit_datasets, make_loader
    ds = get_digit_datasets(source="offline")      # or "sc09", or "fsdd"
    train = make_loader(ds["train"], batch_size=32, shuffle=True, seed=0)
    for waveforms, labels, lengths in train:       # (B, 1, T), (B,), (B,)
        ...

The sample rate travels with the data: a data set and a loader report it as
``sample_rate_hz`` (read from the manifest), a model is built with it, and
:func:`audiomap_lib.training.fit` refuses a loader whose rate is not the model's.

Clips of different lengths are zero-padded at the end by :func:`pad_collate`;
``lengths`` says how many samples of each row are real.
"""
from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..io import check_sample_rate, check_waveform, load_audio
from ..utils import check_non_negative_int, check_positive_int
from .manifest import SPLITS, read_manifest

__all__ = [
    "compute_corpus_fingerprint",
    "CORPORA",
    "DIGIT_SOURCES",
    "AudioClipDataset",
    "ClipLoader",
    "InMemoryClips",
    "TensorClips",
    "get_datasets",
    "get_digit_datasets",
    "get_sample_rate_hz",
    "make_loader",
    "pad_collate",
]

DIGIT_SOURCES: tuple[str, ...] = ("offline", "sc09", "fsdd")
"""The corpora :func:`get_digit_datasets` can switch between."""
CORPORA: dict[str, tuple[str, ...]] = {"digits": DIGIT_SOURCES, "drums": ("offline",), "instruments": ("offline",)}
"""The corpora of :func:`get_datasets` and the sources each can come from."""


def _rate_of_rows(rows: Sequence[dict[str, Any]], where: str) -> int | None:
    """The one sample rate (Hz) that manifest ``rows`` list, ``None`` if they list none.

    Raises:
        ValueError: the rows list more than one rate.
    """
    rates = sorted({int(r["sr"]) for r in rows if r.get("sr")})
    if len(rates) > 1:
        raise ValueError(
            f"{where} lists clips at several sample rates {rates} Hz; a batch must have one rate. "
            f"Pass sr= to AudioClipDataset to keep one rate, or resample the corpus explicitly "
            f"(audiomap_lib.io.resample)"
        )
    return rates[0] if rates else None


def get_sample_rate_hz(source: Any) -> int | None:
    """The sample rate that a data set, loader or model works at, in Hz; ``None`` when it does not say.

    Reads ``source.sample_rate_hz`` (an :class:`AudioClipDataset`, a :class:`ClipLoader`, a
    course model, an augmentation); otherwise follows ``source.dataset`` (a plain
    ``DataLoader``, a ``torch.utils.data.Subset``). A list of clips or batches has no rate.

    Returns:
        ``int`` (Hz) or ``None``.
    """
    for _ in range(8):  # loader -> Subset -> ... -> data set
        if source is None:
            return None
        rate = getattr(source, "sample_rate_hz", None)
        if rate is not None:
            return int(rate)
        source = getattr(source, "dataset", None)
    return None


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
        sample_rate_hz: the rate of every clip in Hz: ``sr``, or else the one rate the split's
            manifest rows list (``None`` if they list none). Each clip is checked against it
            when loaded.

    Raises:
        FileNotFoundError: no manifest.
        ValueError: unknown split, no rows in that split, a row whose label is not
            in ``labels``, duplicate labels, a clip whose listed rate differs from
            ``sr``, or (with ``sr=None``) rows listing more than one rate.
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
        self.sample_rate_hz: int | None = (
            self.sr if self.sr is not None else _rate_of_rows(self.rows, f"split {split!r} of {self.manifest}")
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
            ValueError: the file's rate differs from :attr:`sample_rate_hz`, or it has more
                than one channel.
        """
        row = self.rows[index]
        path = row["file"]
        try:
            wav, _file_sr = load_audio(path, sr=self.sample_rate_hz)
        except ValueError as exc:
            raise ValueError(f"clip {index} ({row['path']}): {exc}; sr={self.sample_rate_hz}") from exc
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
            f"clips={len(self)}, labels={len(self.labels)}, sample_rate_hz={self.sample_rate_hz})"
        )


class InMemoryClips(Dataset):
    """Every item of a data set, loaded once and kept in memory, with the data set's sample rate (Chapter 6).

    Training from memory skips the WAV decoding of each epoch; unlike a plain list of clips,
    it still reports ``sample_rate_hz``, so :func:`audiomap_lib.training.fit` can check it.

    Args:
        dataset: e.g. an :class:`AudioClipDataset` (every item is read once, in order).

    Attributes:
        items: the ``(waveform (1, samples), label_index)`` pairs.
        sample_rate_hz: the data set's rate in Hz (:func:`get_sample_rate_hz`; ``None`` if unknown).
        rows, labels: the data set's, when it has them (else ``None``).
    """

    def __init__(self, dataset: Dataset) -> None:
        n = len(dataset)  # type: ignore[arg-type]
        self.items: list[Any] = [dataset[i] for i in range(n)]
        self.sample_rate_hz: int | None = get_sample_rate_hz(dataset)
        self.rows: list[dict[str, Any]] | None = getattr(dataset, "rows", None)
        self.labels: tuple[str, ...] | None = getattr(dataset, "labels", None)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Any:
        return self.items[index]

    def __iter__(self):
        return iter(self.items)

    def __repr__(self) -> str:
        return f"InMemoryClips(clips={len(self)}, sample_rate_hz={self.sample_rate_hz})"


class TensorClips(Dataset):
    """Clips held in one tensor, with their labels and rate, as a data set (Chapter 7).

    For clips that a program made (a GAN's, or real clips brought to a GAN's rate with
    :func:`audiomap_lib.gan.data.make_gan_clips`), so that :func:`make_loader` and
    :func:`audiomap_lib.training.fit` can use them and check their rate.

    Args:
        clips: ``(N, 1, samples)`` float; labels: ``(N,)`` class indices; sample_rate_hz: their rate.

    Raises:
        ValueError: shapes that do not match, labels that are not non-negative integers, a bad rate.
    """

    def __init__(self, clips: torch.Tensor, labels: torch.Tensor, sample_rate_hz: int) -> None:
        from ..io import check_sample_rate
        from ..utils import check_tensor

        self.clips = check_tensor(clips, "clips", ndim=3, shape="(N, 1, samples)").float()
        self.targets = check_tensor(labels, "labels", kind="int", ndim=1, shape="(N,)").long()
        if self.clips.shape[1] != 1 or len(self.targets) != len(self.clips):
            raise ValueError(f"clips must be (N, 1, samples) and labels (N,); got {tuple(self.clips.shape)} "
                             f"and {tuple(self.targets.shape)}")
        if bool((self.targets < 0).any()):
            raise ValueError("labels must be class indices >= 0")
        self.sample_rate_hz: int = check_sample_rate(sample_rate_hz, "sample_rate_hz")

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.clips[index], int(self.targets[index])

    def __repr__(self) -> str:
        return f"TensorClips(clips={len(self)}, sample_rate_hz={self.sample_rate_hz})"


def _check_label(label: Any, name: str) -> int:
    """A class index: a Python or NumPy integer, or a 0-d integer tensor, >= 0."""
    if isinstance(label, torch.Tensor) and label.ndim == 0 and not label.is_floating_point() \
            and not label.is_complex() and label.dtype != torch.bool:
        label = int(label)
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise TypeError(f"{name} must be an integer class index; got {label!r}")
    if label < 0:
        raise ValueError(f"{name} must be a class index >= 0; got {label!r}")
    return int(label)


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
        ValueError: empty batch, an empty or non-finite clip, a negative label, or items with
            different channel counts (or ranks).
        TypeError: an item is not a ``(waveform, label)`` pair, a waveform is not real floating
            point (integer PCM: convert it with :func:`audiomap_lib.io.pcm_to_float`), or a
            label is not an integer (``3.7``, ``"3"`` and ``True`` are refused).
    """
    if len(batch) == 0:
        raise ValueError("batch is empty; expected at least one (waveform, label) pair")
    waves: list[torch.Tensor] = []
    labels: list[int] = []
    for i, item in enumerate(batch):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"batch[{i}] must be a (waveform, label) pair; got {type(item).__name__}")
        wav, label = item
        # float samples only (integer PCM: audiomap_lib.io.pcm_to_float), finite, at least one sample
        wav = check_waveform(wav, f"batch[{i}][0] (the waveform)", ndim=(1, 2))
        if wav.ndim == 1:
            wav = wav.unsqueeze(0)
        waves.append(wav)
        labels.append(_check_label(label, f"batch[{i}][1] (the label)"))
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
        out[i, :, : w.shape[-1]] = w
    lengths = torch.tensor([w.shape[-1] for w in waves], dtype=torch.int64)
    return out, torch.tensor(labels, dtype=torch.int64), lengths


def compute_corpus_fingerprint(datasets: Mapping[str, Any]) -> str:
    """SHA-256 over the (split, path, speaker, sha256) of every clip of a corpus's splits (Chapter 6).

    A record of a study (a table of trained networks' accuracies) stores it, so that a notebook can
    tell whether the record was made from the corpus it has: another profile or a rebuilt corpus
    gives another fingerprint.

    Args:
        datasets: ``{"train", "validation", "test"}`` splits whose clips have manifest ``rows``
            (:class:`AudioClipDataset`, or :class:`InMemoryClips` over one).

    Returns:
        64 hexadecimal digits.

    Raises:
        ValueError: a split without one manifest row per clip.
    """
    if not isinstance(datasets, Mapping) or set(datasets) != set(SPLITS):
        raise ValueError("datasets must be {'train': ..., 'validation': ..., 'test': ...}; got "
                         + (f"keys {sorted(datasets)}" if isinstance(datasets, Mapping) else type(datasets).__name__))
    h = hashlib.sha256()
    for split in SPLITS:
        ds = datasets[split]
        rows = getattr(ds, "rows", None)
        if not isinstance(rows, list) or len(rows) != len(ds):
            raise ValueError(f"datasets[{split!r}] must have one manifest row per clip (an AudioClipDataset, or "
                             f"InMemoryClips over one); got {type(ds).__name__}")
        for r in rows:
            h.update(f"{split}|{r['path']}|{r['speaker']}|{r.get('sha256', '')}\n".encode())
    return h.hexdigest()


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
        :class:`AudioClipDataset` whose ``sample_rate_hz`` is the rate the corpus's manifest
        lists (every clip is checked against it when loaded).

    Raises:
        ValueError: unknown ``source``, or a manifest that lists several rates.
        DownloadError: an online source while offline (the message explains the way out).
    """
    if source not in DIGIT_SOURCES:
        raise ValueError(f"source must be one of {DIGIT_SOURCES}; got {source!r}")
    if source == "offline":
        from .digits import DIGITS, build_spoken_digits

        manifest = build_spoken_digits(profile=profile, root=root)
        labels = tuple(DIGITS)
    elif source == "sc09":
        from .online import SC09_WORDS, prepare_speech_commands

        manifest = prepare_speech_commands(root=root, subset="sc09")
        labels = SC09_WORDS
    else:
        from .online import SC09_WORDS, prepare_fsdd

        manifest = prepare_fsdd(root=root)
        labels = SC09_WORDS
    return _make_splits(manifest, labels, f"the {source} manifest {manifest}")


def _make_splits(manifest: Path, labels: Sequence[str], where: str) -> dict[str, AudioClipDataset]:
    sr = _rate_of_rows(read_manifest(manifest), where)  # the data decide the rate
    return {split: AudioClipDataset(manifest, split, labels=tuple(labels), sr=sr) for split in SPLITS}


def get_datasets(
    corpus: str = "digits",
    source: str = "offline",
    profile: str | None = None,
    root: str | Path | None = None,
) -> dict[str, AudioClipDataset]:
    """The train / validation / test sets of one of the course's corpora (Chapter 1; used from Chapter 4 on).

    ===============  ==========================================  ==============================
    corpus           clips                                       sources
    ===============  ==========================================  ==============================
    ``digits``       the ten spoken digits, 1 s                  ``offline``, ``sc09``, ``fsdd``
                                                                 (see :func:`get_digit_datasets`)
    ``drums``        drum one-shots, 16384 samples at 16 kHz,    ``offline`` (Debian's drum kits,
                     labels :data:`~audiomap_lib.data.drums.      :func:`~audiomap_lib.data.drums.
                     DRUM_LABELS`                                build_drum_hits`)
    ``instruments``  one General MIDI note, 2 s at 22050 Hz,     ``offline`` (FluidSynth, Debian's
                     labels :data:`~audiomap_lib.data.           SoundFonts, :func:`~audiomap_lib.
                     instruments.INSTRUMENT_LABELS`              data.instruments.build_instrument_notes`)
    ===============  ==========================================  ==============================

    Args:
        corpus: ``"digits"``, ``"drums"`` or ``"instruments"``.
        source: where the clips come from (one of ``CORPORA[corpus]``).
        profile: run profile for an offline corpus (how many clips it builds).
        root: the corpus folder; ``None`` means the course cache.

    Returns:
        ``{"train": ..., "validation": ..., "test": ...}``, each an :class:`AudioClipDataset`
        whose ``sample_rate_hz`` is the rate the corpus's manifest lists; splits are disjoint by
        speaker (digits), by kit (drums) or by SoundFont (instruments, when enough are installed).

    Raises:
        ValueError: unknown ``corpus``, or a ``source`` that the corpus does not have.
    """
    if corpus not in CORPORA:
        raise ValueError(f"corpus must be one of {tuple(CORPORA)}; got {corpus!r}")
    if source not in CORPORA[corpus]:
        raise ValueError(f"source must be one of {CORPORA[corpus]} for corpus={corpus!r}; got {source!r}")
    if corpus == "digits":
        return get_digit_datasets(source, profile=profile, root=root)
    if corpus == "instruments":
        from .instruments import INSTRUMENT_LABELS, build_instrument_notes

        manifest = build_instrument_notes(profile=profile, root=root)
        return _make_splits(manifest, INSTRUMENT_LABELS, f"the instrument manifest {manifest}")
    from .drums import DRUM_LABELS, build_drum_hits

    manifest = build_drum_hits(profile=profile, root=root)
    return _make_splits(manifest, DRUM_LABELS, f"the drum manifest {manifest}")


def _seed_worker(worker_id: int) -> None:
    """Seed NumPy and ``random`` in a DataLoader worker from torch's per-worker seed."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


class ClipLoader(DataLoader):
    """A ``DataLoader`` that also reports the sample rate of its clips (made by :func:`make_loader`).

    Attributes:
        sample_rate_hz: its data set's rate in Hz (:func:`get_sample_rate_hz`), ``None`` if unknown.
    """

    @property
    def sample_rate_hz(self) -> int | None:
        """The rate of the clips in Hz, read from the data set (``None`` if it does not say)."""
        return get_sample_rate_hz(self.dataset)


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
        A :class:`ClipLoader` (a :class:`torch.utils.data.DataLoader` with ``sample_rate_hz``)
        yielding ``(waveforms (B, C, T) float32, labels (B,) int64, lengths (B,) int64)``.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    seed = check_non_negative_int(seed, "seed")
    num_workers = check_non_negative_int(num_workers, "num_workers")
    generator = torch.Generator().manual_seed(seed)
    return ClipLoader(
        dataset,
        batch_size=batch_size,
        shuffle=bool(shuffle),
        collate_fn=pad_collate,
        num_workers=num_workers,
        generator=generator,
        worker_init_fn=_seed_worker if num_workers > 0 else None,
    )
