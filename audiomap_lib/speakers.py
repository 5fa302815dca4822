"""Leave-one-speaker-out: the digit classifier on a natural voice it never heard (Chapter 6).

The offline digit corpus holds five *natural* speakers (flite and festival voices built from
recordings of real people: kal, slt, awb, rms, ked) among many espeak formant voices. A fixed
split hears two of them in training and tests on two: one number per speaker, from one choice of
split. **Leave-one-speaker-out** (LOSO) asks the question a reader's own recording asks: train on
everything except one natural speaker, test on that speaker's clips, and repeat for every natural
speaker. The spread over speakers (and seeds) is the honest answer to "how well does it do on a
voice it never heard?".

Each fold (:func:`make_leave_one_speaker_out`):

* **test**: every clip of the held-out natural speaker, from whichever split it was in;
* **validation**: the validation split's espeak clips (unheard espeak voices; no natural voice,
  so that no fold chooses its epoch on a natural speaker it is tested against);
* **train**: the train split plus the natural clips of the validation and test splits, less the
  held-out speaker: four natural speakers heard, one unheard.

:func:`run_speaker_study` trains one network per (augmentation recipe, held-out speaker, seed)
with :func:`audiomap_lib.training.fit` and measures each on the held-out speaker's clips as they
are (``"clean"``), band-limited to a telephone's band (``"band"``), played in a simulated room
(``"room"``), among other voices (``"babble"``: unheard espeak voices of the test split) and over
recorded background sound (``"noise"``: :data:`audiomap_lib.data.noises.TEST_NOISES`, never used in
training). :data:`RECIPES` is the ladder of augmentations, one family added at each step, so
the table shows which step bought what.

The study is slow for a chapter (one training per cell), so a command runs it and writes a record
beside the library; Chapter 6 reads that record when it matches its corpus and settings, and
otherwise runs the study at its profile's size::

    python -m audiomap_lib.speakers --profile standard --seeds 0 1 --out audiomap_lib/records/speakers_standard.json
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from . import augment
from .data.datasets import TensorClips, compute_corpus_fingerprint, make_loader
from .data.noises import TEST_NOISES, TRAIN_NOISES, load_noise_bank
from .io import check_sample_rate
from .training import (
    compute_accuracy,
    compute_sign_test_p,
    compute_spread,
    fit,
    predict,
    read_study_record,
    write_study_record,
)
from .utils import check_non_negative_int, check_positive_int, check_real, set_seed

__all__ = [
    "BABBLE_TEST",
    "BAND_TEST_SR_HZ",
    "CONDITIONS",
    "NOISE_TEST",
    "RECIPES",
    "ROOM_TEST",
    "compare_recipes",
    "list_natural_speakers",
    "load_speaker_study",
    "make_augment",
    "make_babble_talkers",
    "make_leave_one_speaker_out",
    "make_test_conditions",
    "make_test_room",
    "run_speaker_study",
    "summarize_speaker_study",
]

RECORD_DIR = Path(__file__).resolve().parent / "records"

_CH6 = {"speed": (0.85, 1.15), "shift_ms": 100.0, "gain_db": (-6.0, 6.0), "snr_db": (5.0, 40.0)}
_BAND = {"band_sr_hz": (6000, 10000, 12000), "p_band": 0.3}
_ROOM = {"rt60_s": (0.2, 0.8), "drr_db": (-5.0, 10.0), "p_reverb": 0.3}
_PITCH = {"pitch": (0.85, 1.3), "p_pitch": 0.3}
_NOISES = {"babble_snr_db": (0.0, 20.0), "babble_talkers": 4, "p_babble": 0.25,
           "recorded_noises": TRAIN_NOISES, "recorded_snr_db": (0.0, 20.0), "p_recorded": 0.25}
#: The augmentation ladder: name -> keyword arguments of :class:`~audiomap_lib.augment.WaveformAugment`
#: (``None``: no augmentation). Each step adds one family to the one before.
RECIPES: dict[str, dict[str, Any] | None] = {
    "none": None,
    "chapter 6": dict(_CH6),
    "+ band-limiting": {**_CH6, **_BAND},
    "+ band-limiting + rooms": {**_CH6, **_BAND, **_ROOM},
    "+ band-limiting + rooms + pitch": {**_CH6, **_BAND, **_ROOM, **_PITCH},
    "+ band-limiting + rooms + pitch + babble and recorded noise": {**_CH6, **_BAND, **_ROOM, **_PITCH, **_NOISES},
}
#: The telephone band of the ``"band"`` test condition, in Hz: not one of the training rates of
#: the band-limiting step, so a network cannot pass by having seen this exact filter.
BAND_TEST_SR_HZ = 8000
#: The room of the ``"room"`` test condition: one fixed simulated room, never drawn in training.
ROOM_TEST: dict[str, float] = {"rt60_s": 0.5, "drr_db": 0.0, "seed": 12345}
#: The ``"babble"`` test condition: babble of this many voices (more than training draws) at this
#: SNR in dB, from the test split's espeak clips (:func:`make_babble_talkers`), never heard in training.
BABBLE_TEST: dict[str, float] = {"talkers": 6, "snr_db": 5.0, "seed": 23456}
#: The ``"noise"`` test condition: stretches of :data:`~audiomap_lib.data.noises.TEST_NOISES` at this SNR in dB.
NOISE_TEST: dict[str, float] = {"snr_db": 5.0, "seed": 34567}
#: The test conditions, in the order the tables show them.
CONDITIONS = ("clean", "band", "room", "babble", "noise")


def _rows_of(dataset: Any, name: str) -> list[dict[str, Any]]:
    rows = getattr(dataset, "rows", None)
    if not isinstance(rows, list) or len(rows) != len(dataset):
        raise ValueError(f"{name} must be a split of the digit corpus with one manifest row per clip "
                         f"(an AudioClipDataset, or InMemoryClips over one); got {type(dataset).__name__}")
    return rows


def _check_splits(datasets: Mapping[str, Dataset]) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(datasets, Mapping) or set(datasets) != {"train", "validation", "test"}:
        raise ValueError("datasets must be {'train': ..., 'validation': ..., 'test': ...} "
                         f"(as get_digit_datasets returns); got {type(datasets).__name__}"
                         + (f" with keys {sorted(datasets)}" if isinstance(datasets, Mapping) else ""))
    return {split: _rows_of(ds, f"datasets[{split!r}]") for split, ds in datasets.items()}


def list_natural_speakers(datasets: Mapping[str, Dataset]) -> list[str]:
    """The natural speakers (every family but espeak) of a digit corpus, sorted (Chapter 6).

    Args:
        datasets: ``{"train", "validation", "test"}`` splits, e.g. from
            :func:`audiomap_lib.data.datasets.get_digit_datasets` (or :class:`InMemoryClips` over them).

    Returns:
        Speaker names, e.g. ``["awb", "kal", "ked", "rms", "slt"]``.
    """
    rows = _check_splits(datasets)
    return sorted({r["speaker"] for split in rows.values() for r in split if r["family"] != "espeak"})


def _stack(items: list[tuple[torch.Tensor, int]], sr: int, name: str) -> TensorClips:
    if not items:
        raise ValueError(f"the {name} split of this fold is empty")
    lengths = {int(w.shape[-1]) for w, _ in items}
    if len(lengths) != 1:
        raise ValueError(f"the {name} clips have different lengths {sorted(lengths)[:5]}; the digit corpus's clips "
                         "are all 1 s long: nothing is cropped or padded here")
    clips = torch.stack([w.reshape(1, -1).float() for w, _ in items])
    return TensorClips(clips, torch.tensor([int(y) for _, y in items]), sr)


def make_leave_one_speaker_out(datasets: Mapping[str, Dataset], speaker: str) -> dict[str, TensorClips]:
    """One fold of leave-one-speaker-out over the natural voices (Chapter 6).

    Args:
        datasets: the corpus's ``{"train", "validation", "test"}`` splits; items ``(waveform (1, T), label)``.
            Pass :class:`~audiomap_lib.data.datasets.InMemoryClips` over them to read each file once.
        speaker: the natural speaker held out (one of :func:`list_natural_speakers`).

    Returns:
        ``{"train", "validation", "test"}`` as :class:`~audiomap_lib.data.datasets.TensorClips`
        (``(N, 1, T)`` clips at the corpus's rate): train = the train split and the other natural
        speakers of the other splits; validation = the validation split's espeak clips; test = every
        clip of ``speaker``.

    Raises:
        ValueError: ``speaker`` is not a natural speaker of the corpus (the message lists them), or
            the splits are not a digit corpus's.
    """
    rows = _check_splits(datasets)
    natural = list_natural_speakers(datasets)
    if speaker not in natural:
        raise ValueError(f"speaker must be one of the corpus's natural speakers {natural}; got {speaker!r}")
    rates = {getattr(ds, "sample_rate_hz", None) for ds in datasets.values()}
    if len(rates) != 1 or None in rates:
        raise ValueError(f"every split must report one sample rate (sample_rate_hz); got {sorted(map(str, rates))}")
    sr = check_sample_rate(rates.pop(), "sample_rate_hz")
    parts: dict[str, list[tuple[torch.Tensor, int]]] = {"train": [], "validation": [], "test": []}
    for split, ds in datasets.items():
        for i, row in enumerate(rows[split]):
            if row["speaker"] == speaker and row["family"] != "espeak":
                parts["test"].append(ds[i])
            elif split == "train" or row["family"] != "espeak":
                parts["train"].append(ds[i])
            elif split == "validation":
                parts["validation"].append(ds[i])
    return {name: _stack(items, sr, name) for name, items in parts.items()}


def make_babble_talkers(datasets: Mapping[str, Dataset]) -> torch.Tensor:
    """The talkers of the ``"babble"`` test condition: every espeak clip of the test split (Chapter 6).

    No fold trains or validates on them (see :func:`make_leave_one_speaker_out`), so the babble's
    voices are as new to the network as the held-out speaker.

    Returns:
        ``(K, 1, T)`` float32 at the corpus's rate.
    """
    rows = _check_splits(datasets)
    items = [datasets["test"][i] for i, r in enumerate(rows["test"]) if r["family"] == "espeak"]
    sr = getattr(datasets["test"], "sample_rate_hz", None)
    return _stack(items, check_sample_rate(sr, "sample_rate_hz"), "babble talkers").clips


def make_test_conditions(clips: torch.Tensor, sr: int, talkers: torch.Tensor) -> dict[str, torch.Tensor]:
    """The held-out clips as they are, band-limited, in a room, in babble and over recorded noise (Chapter 6).

    Args:
        clips: ``(N, 1, T)`` at ``sr``.
        sr: their rate in Hz (above :data:`BAND_TEST_SR_HZ`).
        talkers: ``(K, 1, T)`` speech at ``sr`` for the babble, ``K >= BABBLE_TEST["talkers"]``
            (:func:`make_babble_talkers`).

    Returns:
        ``{"clean", "band", "room", "babble", "noise"}`` -> ``(N, 1, T)``: ``"band"`` is
        :func:`~audiomap_lib.augment.band_limit` to :data:`BAND_TEST_SR_HZ`; ``"room"`` is
        :func:`~audiomap_lib.augment.reverberate` with the fixed room :data:`ROOM_TEST`;
        ``"babble"`` adds :func:`~audiomap_lib.augment.make_babble` of the talkers at
        :data:`BABBLE_TEST`'s SNR; ``"noise"`` adds stretches of
        :data:`~audiomap_lib.data.noises.TEST_NOISES` at :data:`NOISE_TEST`'s SNR. Each condition
        is seeded, so every recipe is tested on the very same clips.
    """
    sr = check_sample_rate(sr, "sr")
    n, length = clips.shape[0], clips.shape[-1]
    if not isinstance(talkers, torch.Tensor) or talkers.ndim != 3 or talkers.shape[1:] != clips.shape[1:]:
        raise ValueError(f"talkers must be (K, 1, T) clips as long as the clips {tuple(clips.shape[1:])}; got "
                         + (f"shape {tuple(talkers.shape)}" if isinstance(talkers, torch.Tensor) else type(talkers).__name__))
    babble = augment.make_babble(talkers, n, int(BABBLE_TEST["talkers"]), torch.Generator().manual_seed(int(BABBLE_TEST["seed"])))
    noise = augment.make_noise_segments(load_noise_bank(TEST_NOISES, sr), n, length,
                                        torch.Generator().manual_seed(int(NOISE_TEST["seed"])))
    return {"clean": clips, "band": augment.band_limit(clips, sr, BAND_TEST_SR_HZ),
            "room": augment.reverberate(clips, make_test_room(sr)),
            "babble": augment.add_noise_at_snr(clips, BABBLE_TEST["snr_db"], noise=babble.to(clips.dtype)),
            "noise": augment.add_noise_at_snr(clips, NOISE_TEST["snr_db"], noise=noise.to(clips.dtype))}


def make_augment(recipe: str, sr: int, seed: int) -> augment.WaveformAugment | None:
    """The augmentation of one step of :data:`RECIPES` at ``sr`` (Chapter 6).

    Returns:
        A :class:`~audiomap_lib.augment.WaveformAugment` seeded with ``seed``, or ``None`` for ``"none"``.
    """
    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of RECIPES {list(RECIPES)}; got {recipe!r}")
    kwargs = RECIPES[recipe]
    return None if kwargs is None else augment.WaveformAugment(sr=check_sample_rate(sr, "sr"), seed=seed, **kwargs)


def make_test_room(sr: int) -> torch.Tensor:
    """The impulse response of the ``"room"`` test condition, :data:`ROOM_TEST`, at ``sr`` Hz (Chapter 6).

    Returns:
        ``(K,)`` float32, from :func:`~audiomap_lib.augment.make_room_impulse_response`.
    """
    return augment.make_room_impulse_response(ROOM_TEST["rt60_s"], check_sample_rate(sr, "sr"), ROOM_TEST["drr_db"],
                                              torch.Generator().manual_seed(int(ROOM_TEST["seed"])))


def run_speaker_study(
    datasets: Mapping[str, Dataset],
    make_model: Callable[[int], torch.nn.Module],
    *,
    epochs: int,
    lr: float,
    batch_size: int = 32,
    patience: int | None = None,
    seeds: Sequence[int] = (0,),
    recipes: Sequence[str] | None = None,
    speakers: Sequence[str] | None = None,
    device: torch.device | str | None = None,
    settings: Mapping[str, Any] | None = None,
    log: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Train and test one network per (recipe, held-out natural speaker, seed) (Chapter 6).

    Args:
        datasets: the corpus's splits (see :func:`make_leave_one_speaker_out`).
        make_model: ``make_model(sample_rate_hz)`` returns a new untrained classifier.
        epochs, lr, batch_size, patience: passed to :func:`audiomap_lib.training.fit` (one-cycle).
        seeds: training seeds; seed ``s`` seeds the model, the loader and (``1 + s``) the augmentation.
        recipes: names from :data:`RECIPES` (``None``: all, in order).
        speakers: held-out speakers (``None``: every natural speaker).
        device: where to train.
        settings: extra settings to store in the record (e.g. the network's name and size).
        log: called with one line per run (``None``: quiet).

    Returns:
        The record: ``{"settings": {...}, "runs": [{"recipe", "speaker", "seed", "accuracy":
        {condition: fraction}, "n_test", "epochs", "seconds", "best_val_acc"}, ...]}``; see
        :func:`summarize_speaker_study`.
    """
    epochs = check_positive_int(epochs, "epochs")
    lr = check_real(lr, "lr", 0.0, low_open=True)
    batch_size = check_positive_int(batch_size, "batch_size")
    seeds = [check_non_negative_int(s, f"seeds[{i}]") for i, s in enumerate(seeds)]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct non-negative integers, at least one; got {seeds}")
    names = list(RECIPES) if recipes is None else list(recipes)
    unknown = [r for r in names if r not in RECIPES]
    if unknown or not names:
        raise ValueError(f"recipes must be names from RECIPES {list(RECIPES)}; got {names}")
    natural = list_natural_speakers(datasets)
    held = natural if speakers is None else list(speakers)
    if not held or [s for s in held if s not in natural]:
        raise ValueError(f"speakers must be natural speakers of the corpus {natural}; got {held}")
    rates = {getattr(ds, "sample_rate_hz", None) for ds in datasets.values()}
    rate = next(iter(rates)) if len(rates) == 1 else None
    if isinstance(rate, int) and rate <= BAND_TEST_SR_HZ:
        raise ValueError(f"the corpus's rate must be above {BAND_TEST_SR_HZ} Hz for the band-limited test condition; "
                         f"got {rate} Hz (an 8 kHz corpus such as FSDD is band-limited already)")
    runs: list[dict[str, Any]] = []
    talkers = make_babble_talkers(datasets)
    for speaker in held:
        fold = make_leave_one_speaker_out(datasets, speaker)
        sr = fold["train"].sample_rate_hz
        tests = make_test_conditions(fold["test"].clips, sr, talkers)
        for recipe in names:
            for seed in seeds:
                set_seed(seed)
                model = make_model(sr)
                train = make_loader(fold["train"], batch_size, shuffle=True, seed=seed)
                val = make_loader(fold["validation"], 256, shuffle=False, seed=0)
                aug = make_augment(recipe, sr, 1 + seed)
                t0 = time.perf_counter()
                history = fit(model, train, val, epochs=epochs, lr=lr, schedule="onecycle", augment=aug,
                              patience=patience, device=device, progress=False, verbose=False)
                seconds = time.perf_counter() - t0
                accuracy = {}
                for condition in CONDITIONS:
                    loader = make_loader(TensorClips(tests[condition], fold["test"].targets, sr), 256, shuffle=False, seed=0)
                    logits, labels = predict(model, loader, device=device)
                    accuracy[condition] = compute_accuracy(logits, labels)
                runs.append({"recipe": recipe, "speaker": speaker, "seed": seed, "accuracy": accuracy,
                             "n_test": len(fold["test"]), "n_train": len(fold["train"]), "epochs": history.epochs,
                             "seconds": round(seconds, 2), "best_val_acc": history.best_val_acc})
                if log is not None:
                    log(f"held out {speaker}, {recipe}, seed {seed}: " + ", ".join(
                        f"{c} {100 * a:.1f} %" for c, a in accuracy.items()) + f" ({seconds:.0f} s)")
    record_settings = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "patience": patience, "seeds": seeds,
                       "recipes": {r: RECIPES[r] for r in names}, "speakers": held, "conditions": list(CONDITIONS),
                       "band_test_sr_hz": BAND_TEST_SR_HZ, "room_test": dict(ROOM_TEST),
                       "babble_test": dict(BABBLE_TEST), "noise_test": {**NOISE_TEST, "noises": list(TEST_NOISES)},
                       "corpus": compute_corpus_fingerprint(datasets), **dict(settings or {})}
    return json.loads(json.dumps({"settings": record_settings, "runs": runs}))  # plain JSON types, as when loaded


def summarize_speaker_study(record: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Accuracy per recipe and condition over every (speaker, seed), and per speaker (Chapter 6).

    Args:
        record: what :func:`run_speaker_study` returns or :func:`load_speaker_study` reads.

    Returns:
        ``{recipe: {"all": {condition: Spread}, "speakers": {speaker: {condition: Spread over seeds}}}}``
        (fractions in 0..1; a :class:`~audiomap_lib.training.Spread` has ``mean``, ``low``, ``high``).
    """
    runs = record.get("runs") if isinstance(record, Mapping) else None
    if not runs:
        raise ValueError("record must be a speaker study with at least one run (from run_speaker_study)")
    out: dict[str, dict[str, Any]] = {}
    for recipe in dict.fromkeys(r["recipe"] for r in runs):
        mine = [r for r in runs if r["recipe"] == recipe]
        speakers = list(dict.fromkeys(r["speaker"] for r in mine))
        out[recipe] = {
            "all": {c: compute_spread([r["accuracy"][c] for r in mine]) for c in CONDITIONS},
            "speakers": {s: {c: compute_spread([r["accuracy"][c] for r in mine if r["speaker"] == s]) for c in CONDITIONS}
                         for s in speakers},
        }
    return out


def compare_recipes(record: Mapping[str, Any], baseline: str, recipe: str, condition: str) -> dict[str, Any]:
    """Paired comparison of two recipes on one test condition, run by run (Chapter 6).

    Both recipes were trained on the same folds with the same seeds, so each (held-out speaker,
    seed) gives one paired difference ``accuracy(recipe) - accuracy(baseline)``: a comparison that
    does not mix up "this speaker is hard" with "this recipe is bad".

    Args:
        record: a speaker study.
        baseline, recipe: two recipes of the record.
        condition: one of :data:`CONDITIONS`.

    Returns:
        ``{"n": pairs, "n_better", "n_worse", "change": Spread of the differences (fractions),
        "p_sign": the two-sided sign test's p-value}`` (:func:`compute_sign_test_p`).

    Raises:
        ValueError: a recipe or condition the record does not hold, or runs without a partner.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {CONDITIONS}; got {condition!r}")
    runs = record.get("runs") if isinstance(record, Mapping) else None
    if not runs:
        raise ValueError("record must be a speaker study with at least one run (from run_speaker_study)")
    cells: dict[str, dict[tuple[str, int], float]] = {}
    for r in runs:
        cells.setdefault(r["recipe"], {})[(r["speaker"], r["seed"])] = r["accuracy"][condition]
    for name in (baseline, recipe):
        if name not in cells:
            raise ValueError(f"the record holds the recipes {list(cells)}; got {name!r}")
    if set(cells[baseline]) != set(cells[recipe]):
        raise ValueError(f"{baseline!r} and {recipe!r} were not run on the same (speaker, seed) pairs")
    diffs = [cells[recipe][k] - cells[baseline][k] for k in sorted(cells[baseline])]
    better, worse = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    return {"n": len(diffs), "n_better": better, "n_worse": worse, "change": compute_spread(diffs),
            "p_sign": compute_sign_test_p(better, worse)}


def load_speaker_study(path: str | Path) -> dict[str, Any]:
    """Read a record written by ``python -m audiomap_lib.speakers`` (Chapter 6).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a study record.
    """
    record = read_study_record(path, "python -m audiomap_lib.speakers")
    summarize_speaker_study(record)
    return record


def _default_model(channels: int) -> Callable[[int], torch.nn.Module]:
    from .cnn import LogMelCNN1d
    from .data.digits import DIGITS

    return lambda sr: LogMelCNN1d(n_classes=len(DIGITS), channels=channels, input_sr=sr)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m audiomap_lib.speakers``: run the study for one profile's corpus and write its record."""
    from .data.datasets import InMemoryClips, get_digit_datasets
    from .utils import by_profile, get_profile

    parser = argparse.ArgumentParser(prog="python -m audiomap_lib.speakers", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("quick", "standard", "full"), default=None,
                        help="the corpus and sizes (default: AUDIOMAP_PROFILE, else standard)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--recipes", nargs="+", default=None, choices=list(RECIPES))
    parser.add_argument("--out", type=Path, default=None, help="the record (default: audiomap_lib/records/speakers_<profile>.json)")
    args = parser.parse_args(argv)
    profile = args.profile or get_profile()
    os.environ["AUDIOMAP_PROFILE"] = profile
    # Chapter 6's settings for its 1-D mel-channel network (the kept model's family), per profile
    channels = by_profile(quick=32, standard=32, full=64, profile=profile)
    epochs = by_profile(quick=15, standard=4, full=30, profile=profile)
    lr = by_profile(quick=3e-3, standard=5e-3, full=3e-3, profile=profile)
    batch = by_profile(quick=32, standard=32, full=64, profile=profile)
    patience = by_profile(quick=None, standard=4, full=6, profile=profile)
    datasets = {k: InMemoryClips(v) for k, v in get_digit_datasets(source="offline", profile=profile).items()}
    t0 = time.perf_counter()
    record = run_speaker_study(datasets, _default_model(channels), epochs=epochs, lr=lr, batch_size=batch,
                               patience=patience, seeds=args.seeds, recipes=args.recipes,
                               settings={"profile": profile, "network": "LogMelCNN1d", "channels": channels,
                                         "torch": torch.__version__, "torch_threads": torch.get_num_threads()})
    record["settings"]["total_seconds"] = round(time.perf_counter() - t0, 1)
    record["settings"]["command"] = "python -m audiomap_lib.speakers " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
    out = args.out or RECORD_DIR / f"speakers_{profile}.json"
    write_study_record(record, out)
    for recipe, s in summarize_speaker_study(record).items():
        print(f"{recipe:>26}: " + ", ".join(f"{c} {s['all'][c].format(scale=100, unit='%')}" for c in CONDITIONS))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
