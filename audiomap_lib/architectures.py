"""Which raw-waveform network, at which rate: M3, M5 and M11, at 8 and 16 kHz, trained (Chapter 6).

Dai et al.'s family differs in depth (M3 has two convolutions, M5 four, M11 eleven) and the paper
runs it at 8 kHz. Chapter 6 trains M5 at 8 kHz; this study trains the others on the same split,
with the same budget and the same seeds, so that "which depth" and "which rate" are measured, not
assumed. :data:`NETWORKS` names the networks; each is trained with
:func:`audiomap_lib.training.fit` and tested on the test split, per voice family.

Like the speaker study (:mod:`audiomap_lib.speakers`), it is slow for a chapter, so a command
writes a record that Chapter 6 reads when it matches its corpus and settings::

    python -m audiomap_lib.architectures --profile standard --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from .cnn import RawAudioCNN
from .data.datasets import compute_corpus_fingerprint, make_loader
from .training import (
    compute_accuracy,
    compute_group_accuracy,
    compute_spread,
    count_parameters,
    fit,
    predict,
    read_study_record,
    write_study_record,
)
from .utils import check_non_negative_int, check_positive_int, check_real, set_seed

__all__ = ["NETWORKS", "RECORD_DIR", "load_architecture_study", "run_architecture_study", "summarize_architecture_study"]

RECORD_DIR = Path(__file__).resolve().parent / "records"
#: name -> (configuration of :class:`~audiomap_lib.cnn.RawAudioCNN`, the rate inside the network in Hz)
NETWORKS: dict[str, tuple[str, int]] = {
    "M3 (8 kHz)": ("m3", 8000),
    "M5 (8 kHz)": ("m5", 8000),
    "M11 (8 kHz)": ("m11", 8000),
    "M5 (16 kHz)": ("m5", 16000),
}
_NATURAL = ("flite", "festival")


def _families(dataset: Dataset, name: str) -> list[str]:
    rows = getattr(dataset, "rows", None)
    if not isinstance(rows, list) or len(rows) != len(dataset):  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a split of the digit corpus with one manifest row per clip "
                         f"(an AudioClipDataset, or InMemoryClips over one); got {type(dataset).__name__}")
    return [r["family"] for r in rows]


def run_architecture_study(
    datasets: Mapping[str, Dataset],
    *,
    n_classes: int,
    channels: int,
    epochs: int,
    lr: float,
    batch_size: int = 32,
    patience: int | None = None,
    seeds: Sequence[int] = (0,),
    networks: Sequence[str] | None = None,
    device: torch.device | str | None = None,
    settings: Mapping[str, Any] | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Train each network of :data:`NETWORKS` from each seed and test it per voice family (Chapter 6).

    Args:
        datasets: ``{"train", "validation", "test"}`` (e.g. :class:`~audiomap_lib.data.datasets.InMemoryClips`
            over :func:`~audiomap_lib.data.datasets.get_digit_datasets`), items ``(waveform (1, T), label)``.
        n_classes: number of classes.
        channels: width of the networks' first stage (:class:`~audiomap_lib.cnn.RawAudioCNN`).
        epochs, lr, batch_size, patience: passed to :func:`audiomap_lib.training.fit` (one-cycle).
        seeds: training seeds (the model and the loader's order).
        networks: names from :data:`NETWORKS` (``None``: all).
        device: where to train.
        settings: extra settings stored in the record.
        log: called with one line per run (``None``: quiet).

    Returns:
        ``{"settings": {...}, "runs": [{"network", "config", "model_sr", "seed", "accuracy": {family: fraction,
        "natural": mean of flite and festival, "all": fraction}, "parameters", "epochs", "seconds",
        "best_val_acc"}, ...]}``.
    """
    if not isinstance(datasets, Mapping) or set(datasets) != {"train", "validation", "test"}:
        raise ValueError("datasets must be {'train': ..., 'validation': ..., 'test': ...} (as get_digit_datasets returns)")
    n_classes = check_positive_int(n_classes, "n_classes")
    channels = check_positive_int(channels, "channels")
    epochs = check_positive_int(epochs, "epochs")
    lr = check_real(lr, "lr", 0.0, low_open=True)
    batch_size = check_positive_int(batch_size, "batch_size")
    seeds = [check_non_negative_int(s, f"seeds[{i}]") for i, s in enumerate(seeds)]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct non-negative integers, at least one; got {seeds}")
    names = list(NETWORKS) if networks is None else list(networks)
    if not names or [n for n in names if n not in NETWORKS]:
        raise ValueError(f"networks must be names from NETWORKS {list(NETWORKS)}; got {names}")
    families = _families(datasets["test"], "datasets['test']")
    sr = getattr(datasets["train"], "sample_rate_hz", None)
    if not isinstance(sr, int):
        raise ValueError("datasets['train'] must report its sample rate (sample_rate_hz)")
    runs = []
    test = make_loader(datasets["test"], 256, shuffle=False, seed=0)
    for name in names:
        config, model_sr = NETWORKS[name]
        if model_sr > sr:
            raise ValueError(f"{name} runs at {model_sr} Hz, above the corpus's {sr} Hz: nothing is upsampled silently")
        for seed in seeds:
            set_seed(seed)
            model = RawAudioCNN(config, n_classes=n_classes, channels=channels, input_sr=sr, model_sr=model_sr)
            train = make_loader(datasets["train"], batch_size, shuffle=True, seed=seed)
            val = make_loader(datasets["validation"], 256, shuffle=False, seed=0)
            t0 = time.perf_counter()
            history = fit(model, train, val, epochs=epochs, lr=lr, schedule="onecycle", patience=patience,
                          device=device, progress=False, verbose=False)
            seconds = time.perf_counter() - t0
            logits, labels = predict(model, test, device=device)
            groups = {f: a for f, (a, _) in compute_group_accuracy(logits, labels, families).items()}
            natural = [groups[f] for f in _NATURAL if f in groups]
            accuracy = {**groups, "natural": sum(natural) / len(natural) if natural else float("nan"),
                        "all": compute_accuracy(logits, labels)}
            runs.append({"network": name, "config": config, "model_sr": model_sr, "seed": seed, "accuracy": accuracy,
                         "parameters": count_parameters(model), "epochs": history.epochs, "seconds": round(seconds, 2),
                         "best_val_acc": history.best_val_acc})
            if log is not None:
                log(f"{name}, seed {seed}: " + ", ".join(f"{k} {100 * v:.1f} %" for k, v in accuracy.items())
                    + f" ({seconds:.0f} s)")
    record_settings = {"n_classes": n_classes, "channels": channels, "epochs": epochs, "lr": lr, "batch_size": batch_size,
                       "patience": patience, "seeds": seeds, "networks": {n: list(NETWORKS[n]) for n in names},
                       "corpus": compute_corpus_fingerprint(datasets), **dict(settings or {})}
    return json.loads(json.dumps({"settings": record_settings, "runs": runs}))


def summarize_architecture_study(record: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per network: a :class:`~audiomap_lib.training.Spread` over the seeds of each accuracy, of the
    seconds per run, and the parameter count (Chapter 6).

    Returns:
        ``{network: {"accuracy": {metric: Spread}, "seconds": Spread, "parameters": int}}``.
    """
    runs = record.get("runs") if isinstance(record, Mapping) else None
    if not runs:
        raise ValueError("record must be an architecture study with at least one run (from run_architecture_study)")
    out: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r["network"] for r in runs):
        mine = [r for r in runs if r["network"] == name]
        out[name] = {"accuracy": {k: compute_spread([r["accuracy"][k] for r in mine]) for k in mine[0]["accuracy"]},
                     "seconds": compute_spread([r["seconds"] for r in mine]), "parameters": mine[0]["parameters"]}
    return out


def load_architecture_study(path: str | Path) -> dict[str, Any]:
    """Read a record written by ``python -m audiomap_lib.architectures`` (Chapter 6).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a study record.
    """
    record = read_study_record(path, "python -m audiomap_lib.architectures")
    summarize_architecture_study(record)
    return record


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m audiomap_lib.architectures``: run the study for one profile's corpus and write its record."""
    from .data.datasets import InMemoryClips, get_digit_datasets
    from .data.digits import DIGITS
    from .utils import by_profile, get_profile

    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m audiomap_lib.architectures", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("quick", "standard", "full"), default=None,
                        help="the corpus and sizes (default: AUDIOMAP_PROFILE, else standard)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--networks", nargs="+", default=None, choices=list(NETWORKS))
    parser.add_argument("--out", type=Path, default=None,
                        help="the record (default: audiomap_lib/records/architectures_<profile>.json)")
    args = parser.parse_args(args_list)
    profile = args.profile or get_profile()
    os.environ["AUDIOMAP_PROFILE"] = profile
    # Chapter 6's settings for its raw network, per profile
    channels = by_profile(quick=16, standard=16, full=128, profile=profile)
    epochs = by_profile(quick=15, standard=4, full=30, profile=profile)
    lr = by_profile(quick=3e-3, standard=5e-3, full=3e-3, profile=profile)
    batch = by_profile(quick=32, standard=32, full=64, profile=profile)
    patience = by_profile(quick=None, standard=4, full=6, profile=profile)
    datasets = {k: InMemoryClips(v) for k, v in get_digit_datasets(source="offline", profile=profile).items()}
    t0 = time.perf_counter()
    record = run_architecture_study(datasets, n_classes=len(DIGITS), channels=channels, epochs=epochs, lr=lr,
                                    batch_size=batch, patience=patience, seeds=args.seeds, networks=args.networks,
                                    settings={"profile": profile, "torch": torch.__version__,
                                              "torch_threads": torch.get_num_threads()})
    record["settings"]["total_seconds"] = round(time.perf_counter() - t0, 1)
    record["settings"]["command"] = " ".join(["python -m audiomap_lib.architectures", *args_list])
    out = args.out or RECORD_DIR / f"architectures_{profile}.json"
    write_study_record(record, out)
    for name, s in summarize_architecture_study(record).items():
        print(f"{name:>12}: " + ", ".join(f"{k} {v.format(scale=100, unit='%')}" for k, v in s["accuracy"].items()))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
