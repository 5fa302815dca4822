"""Comparisons over several seeds: a spread per measurement, and what it allows one to say (Chapters 4-7).

One training run is one draw: the initial weights, the batch order and the augmentation all
come from the seed, and a comparison between two close models can flip when it changes. So the
course trains each model with several seeds and reports every measurement as a :class:`Spread`
(mean, smallest and largest value over the seeds). A claim that "A beats B" is asserted only
when :func:`is_always_above` holds (the worst run of A beats the best run of B); when the two
spreads overlap (:func:`spreads_overlap`), the text says that the seeds do not tell.

:func:`run_over_seeds` runs a training function once per seed and collects its measurements;
:func:`compute_bootstrap_interval` gives the other kind of uncertainty, that of a finite test
set, for one model's accuracy.
"""
from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..utils import check_non_negative_int

__all__ = [
    "Spread",
    "compute_bootstrap_interval",
    "compute_sign_test_p",
    "compute_spread",
    "find_study_record",
    "read_study_record",
    "is_always_above",
    "run_over_seeds",
    "spreads_overlap",
    "write_study_record",
]


@dataclass(frozen=True)
class Spread:
    """The values of one measurement over several runs (e.g. one accuracy per seed).

    Attributes:
        values: one finite value per run, in the order of the runs.
    """

    values: tuple[float, ...]

    @property
    def n(self) -> int:
        """Number of runs."""
        return len(self.values)

    @property
    def mean(self) -> float:
        """Mean over the runs."""
        return math.fsum(self.values) / len(self.values)

    @property
    def low(self) -> float:
        """Smallest value."""
        return min(self.values)

    @property
    def high(self) -> float:
        """Largest value."""
        return max(self.values)

    @property
    def std(self) -> float:
        """Sample standard deviation (``ddof=1``; 0.0 for a single run)."""
        if len(self.values) < 2:
            return 0.0
        m = self.mean
        return math.sqrt(math.fsum((v - m) ** 2 for v in self.values) / (len(self.values) - 1))

    def scaled(self, factor: float) -> Spread:
        """The same spread with every value multiplied by ``factor`` (e.g. 100 for percent)."""
        return Spread(tuple(factor * v for v in self.values))

    def format(self, digits: int = 1, scale: float = 1.0, unit: str = "") -> str:
        """``"mean (low-high) unit"``, e.g. ``Spread((0.9, 0.95)).format(scale=100, unit="%")``
        gives ``"92.5 (90.0-95.0) %"``; one run gives just its value."""
        s = self.scaled(scale)
        text = f"{s.mean:.{digits}f}" if s.n == 1 else f"{s.mean:.{digits}f} ({s.low:.{digits}f}-{s.high:.{digits}f})"
        return f"{text} {unit}".rstrip()

    def __str__(self) -> str:
        return self.format(digits=3)


def compute_spread(values: Iterable[float]) -> Spread:
    """A :class:`Spread` of measured values (Chapter 4).

    Args:
        values: one number per run (a Python or numpy float, int, or 0-d tensor).

    Returns:
        their :class:`Spread`.

    Raises:
        TypeError: ``values`` is not a sequence.
        ValueError: no values, or a value that is not a finite real number.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"values must be a sequence of numbers (one per run); got {type(values).__name__}")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, torch.Tensor):
            if v.numel() != 1:
                raise ValueError(f"values[{i}] must be one number; got a tensor of shape {tuple(v.shape)}")
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
            raise ValueError(f"values[{i}] must be a real number; got {type(v).__name__}")
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"values[{i}] must be finite; got {f}")
        out.append(f)
    if not out:
        raise ValueError("values must hold at least one number (one per run); got none")
    return Spread(tuple(out))


def _as_spread(value: Spread | Sequence[float], name: str) -> Spread:
    if isinstance(value, Spread):
        return value
    try:
        return compute_spread(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a Spread or a sequence of numbers: {err}") from None


def is_always_above(a: Spread | Sequence[float], b: Spread | Sequence[float], margin: float = 0.0) -> bool:
    """Whether every run of ``a`` is above every run of ``b`` by more than ``margin``:
    ``a.low > b.high + margin`` (Chapter 4). The claim "A beats B" the course asserts."""
    sa, sb = _as_spread(a, "a"), _as_spread(b, "b")
    return sa.low > sb.high + margin


def spreads_overlap(a: Spread | Sequence[float], b: Spread | Sequence[float]) -> bool:
    """Whether the ranges ``[low, high]`` of ``a`` and ``b`` share a point (Chapter 4): then these
    seeds do not say which is ahead."""
    sa, sb = _as_spread(a, "a"), _as_spread(b, "b")
    return sa.low <= sb.high and sb.low <= sa.high


def run_over_seeds(train_once: Callable[[int], Mapping[str, float]], seeds: Sequence[int]) -> dict[str, Spread]:
    """Call ``train_once(seed)`` for each seed and collect its measurements (Chapter 4).

    Args:
        train_once: trains and measures one model from ``seed``; returns ``{name: value}``, the
            same names for every seed.
        seeds: distinct non-negative integers, at least one.

    Returns:
        ``{name: Spread}``, the values in the order of ``seeds``.

    Raises:
        ValueError: no seeds, a repeated or negative seed, or runs that return different names.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed; got none")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be non-negative integers; got {seeds}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct (a repeated seed repeats a run); got {seeds}")
    collected: dict[str, list[float]] = {}
    for seed in seeds:
        measured = dict(train_once(seed))
        if collected and set(measured) != set(collected):
            raise ValueError(f"train_once({seed}) returned {sorted(measured)}; earlier seeds returned {sorted(collected)}")
        for name, value in measured.items():
            collected.setdefault(name, []).append(value)
    return {name: compute_spread(values) for name, values in collected.items()}


def compute_bootstrap_interval(correct: torch.Tensor, n_resamples: int = 2000, level: float = 0.95,
                               seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of an accuracy over the test clips (Chapter 6).

    Args:
        correct: ``(N,)`` booleans (a tensor or a NumPy array), one per test clip (N >= 1): was the
            clip classified right.
        n_resamples: bootstrap resamples (>= 100).
        level: coverage of the interval, in (0, 1).
        seed: seeds the resampling.

    Returns:
        ``(low, high)``, fractions in [0, 1].

    Raises:
        ValueError: ``correct`` is not a non-empty 1-D boolean tensor, or a bad ``n_resamples`` / ``level``.
    """
    if isinstance(correct, np.ndarray) and correct.dtype == np.bool_:
        correct = torch.from_numpy(correct)
    if not isinstance(correct, torch.Tensor) or correct.dtype != torch.bool or correct.dim() != 1 or correct.numel() == 0:
        got = f"{correct.dtype} of shape {tuple(correct.shape)}" if isinstance(correct, torch.Tensor) else type(correct).__name__
        raise ValueError(f"correct must be a non-empty 1-D bool tensor (N,); got {got}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, numbers.Integral) or n_resamples < 100:
        raise ValueError(f"n_resamples must be an integer >= 100; got {n_resamples!r}")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be a real number in (0, 1); got {level!r}")
    g = torch.Generator().manual_seed(seed)
    n = correct.numel()
    idx = torch.randint(0, n, (int(n_resamples), n), generator=g)
    accs = correct.double()[idx].mean(1)
    tail = (1.0 - float(level)) / 2
    low, high = torch.quantile(accs, torch.tensor([tail, 1.0 - tail], dtype=torch.float64)).tolist()
    return float(low), float(high)


def compute_sign_test_p(n_better: int, n_worse: int) -> float:
    """Two-sided exact sign test: how likely a split at least this uneven is if neither side is better (Chapter 6).

    Under "no difference" each untied pair is better or worse with probability 1/2, so the number
    better is Binomial(n, 1/2) with ``n = n_better + n_worse`` (ties are left out). The p-value is
    ``min(1, 2 P(X <= min(n_better, n_worse)))``.

    Returns:
        p in ``(0, 1]`` (1.0 when there is no untied pair).
    """
    b = check_non_negative_int(n_better, "n_better")
    w = check_non_negative_int(n_worse, "n_worse")
    n = b + w
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, w) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def read_study_record(path: str | Path, command: str = "its command") -> dict:
    """Read a study's record, ``{"settings": {...}, "runs": [...]}`` as JSON (Chapter 6).

    Args:
        path: the file.
        command: the command that writes it, named in the error when the file is missing.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a study record.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no study record at {p}; run {command} to make one")
    record = json.loads(p.read_text())
    if not isinstance(record, dict) or not isinstance(record.get("settings"), dict) or not record.get("runs"):
        raise ValueError(f"{p} is not a study record (expected 'settings' and 'runs')")
    return record


def write_study_record(record: Mapping[str, object], path: str | Path) -> Path:
    """Write a study's record as JSON, atomically (a half-written file never replaces a good one) (Chapter 6).

    Returns:
        The path written.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".part")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(p)
    return p


def find_study_record(path: str | Path, corpus: str, settings: Mapping[str, object],
                      allow_other_corpus: bool = False) -> tuple[dict | None, str]:
    """Read a study's record (a JSON file of trained networks' results) if it matches (Chapter 6).

    A study too slow for a chapter is run by a command that writes a record; the chapter uses the
    record only when it was made with the same settings and, unless ``allow_other_corpus``, from
    the same corpus (its fingerprint, :func:`audiomap_lib.data.datasets.compute_corpus_fingerprint`).
    The offline corpora are built on the reader's machine, and other versions of the speech
    synthesisers give other clips, so a record made elsewhere may come from another build of the
    corpus: then the caller must say so (the record's ``settings["corpus"]`` tells).

    Args:
        path: the record, ``{"settings": {...}, "runs": [...]}``.
        corpus: the fingerprint of the corpus the chapter has.
        settings: the chapter's settings; each must equal the record's.
        allow_other_corpus: accept a record made with the same settings from another build of the
            corpus (the reason says so).

    Returns:
        ``(record, "")`` when it matches, ``(record, why)`` when only the corpus differs and
        ``allow_other_corpus``, else ``(None, why)``, with the reason in words.

    Raises:
        ValueError: the file exists but is not a study record.
    """
    p = Path(path)
    if not p.is_file():
        return None, f"no record at {p.name}"
    record = read_study_record(p)
    made = record["settings"]
    differ = sorted(k for k, v in settings.items() if made.get(k) != v)
    if differ:
        return None, f"the record was made with other settings ({', '.join(differ)})"
    if made.get("corpus") != corpus:
        why = "the record was made from another build of the corpus"
        return (record, why) if allow_other_corpus else (None, why)
    return record, ""
