"""The long-run command of Chapter 7: train a WaveGAN for minutes or hours, resuming where it stopped.

    python -m audiomap_lib.gan train --corpus drums --minutes 60
    python -m audiomap_lib.gan train --corpus drums --minutes 60 --recipe paper
    python -m audiomap_lib.gan train --corpus digits --minutes 30 --d 16 --rate 8000 --n-samples 8192
    python -m audiomap_lib.gan score --state <the .pt file a run printed>
    python -m audiomap_lib.gan remedies --corpus drums --minutes 3 --seeds 0 1 2

The paper's own setting (``full``, a GPU, SC09 downloaded once, about 2.3 GB):

    AUDIOMAP_PROFILE=full python -m audiomap_lib.gan train --corpus digits --source sc09 --recipe paper \
        --d 64 --n-samples 16384 --rate 16000 --batch-size 64 --minutes 600

Two recipes (``--recipe``): ``laptop`` (the default; Chapter 7's CPU recipe: 2 critic steps, a
critic 3x faster than the generator, the penalty on every 4th critic update, a moving average
of the generator, a critic that sees the batch's standard deviation) and ``paper`` (WaveGAN's: 5 critic steps, one
learning rate, the penalty on every update, no average, no batch statistics). Any single
setting given on the command line overrides the recipe's.

Every run saves its training state (``--state``; default: the profile's cache folder,
``models/<profile>/wavegan_<corpus>_d<d>_<rate>hz.pt``) after each chunk of steps, and a JSON
file beside it with the settings, the steps, the minutes trained in all and the last Wasserstein
estimate. Run the same command again and it continues exactly (same weights as one long run).
Chapter 7 plays the longest such model it finds, and says how long it trained.

``remedies`` trains the remedies for the checkerboard artefact on the same minutes, from the same
seeds (:data:`REMEDIES`: none, phase shuffle, nearest-neighbour upsampling, the post-processing
filter; every other setting is the recipe's), scores each run, and writes every run and each
remedy's mean and range to one JSON file (by default the shipped
``audiomap_lib/gan/pretrained/remedies.json``, which Chapter 7 reads).
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import shutil
import sys
import time
from pathlib import Path

from ..data.datasets import get_datasets
from ..utils import set_seed
from .data import make_gan_clips
from .models import UPSAMPLE_MODES, WaveGANCritic, WaveGANGenerator
from .runs import default_state_path, load_generator

RECIPES: dict[str, dict[str, object]] = {
    "laptop": {"n_critic": 2, "critic_lr": 3e-4, "gp_every": 4, "ema": 0.999, "upsample": "transposed",
               "minibatch_std": True},
    "paper": {"n_critic": 5, "critic_lr": None, "gp_every": 1, "ema": 0.0, "upsample": "transposed",
              "minibatch_std": False},
}
"""The settings each ``--recipe`` stands for (Chapter 7)."""

REMEDIES: dict[str, list[str]] = {
    "none": ["--phase-shuffle", "0"],
    "phase shuffle": ["--phase-shuffle", "2"],
    "nearest-neighbour upsampling": ["--phase-shuffle", "0", "--upsample", "nearest"],
    "post-processing filter": ["--phase-shuffle", "0", "--post-filter-taps", "512"],
}
"""The checkerboard remedies that ``remedies`` compares, each alone, as ``train`` options (Chapter 7)."""

REMEDY_SCORES = ("tone_generated_db", "tone_real_db", "is_ratio", "fid", "d_self", "d_self_real", "classes_used")
"""The scores ``remedies`` keeps for each run and summarises for each remedy."""


def apply_recipe(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the settings left unset on the command line from ``args.recipe``."""
    for key, value in RECIPES[args.recipe].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def train(args: argparse.Namespace) -> dict:
    from ..training.wgan import train_wgan_gp

    args = apply_recipe(args)

    set_seed(args.seed)
    data = get_datasets(args.corpus, args.source)["train"]
    clips, _, report = make_gan_clips(data, args.n_samples, args.rate, labels=args.labels or None)
    extra: dict = {"model": args.model}
    if args.model == "specgan":
        from .specgan import SpecGANCritic, SpecGANGenerator, SpectrogramCodec

        size = args.size or math.isqrt(args.n_samples)
        codec = SpectrogramCodec(args.n_samples, args.rate, size=size).fit(clips)
        clips = codec.encode(clips)  # the GAN learns the images; they are decoded to sound when scored
        generator: WaveGANGenerator | SpecGANGenerator = SpecGANGenerator(
            d=args.d, size=size, n_samples=args.n_samples, sample_rate_hz=args.rate)
        critic: WaveGANCritic | SpecGANCritic = SpecGANCritic(d=args.d, size=size,
                                                            minibatch_std=bool(args.minibatch_std))
        extra.update(size=size, codec=codec.to_dict())
    else:
        generator = WaveGANGenerator(d=args.d, n_samples=args.n_samples, upsample=args.upsample, sample_rate_hz=args.rate,
                                     post_filter_taps=args.post_filter_taps)
        critic = WaveGANCritic(d=args.d, n_samples=args.n_samples, phase_shuffle=args.phase_shuffle,
                               minibatch_std=bool(args.minibatch_std))
    ema = copy.deepcopy(generator) if args.ema else None
    state = Path(args.state) if args.state else default_state_path(args.corpus, args.d, args.rate, model=args.model)
    info_path = state.with_suffix(".json")
    info = json.loads(info_path.read_text()) if info_path.is_file() and state.is_file() else {"minutes": 0.0, "steps": 0}
    print(f"[gan] {report['clips']} training clips of {args.corpus} ({report['cut']} cut, {report['padded']} padded to "
          f"{args.n_samples} samples at {args.rate} Hz); state: {state}", flush=True)
    start, step, earlier_minutes = time.perf_counter(), int(info["steps"]), float(info["minutes"])
    budget_s = 60 * args.minutes if args.minutes else float("inf")
    target = args.steps if args.steps else None
    while True:
        chunk_end = step + args.chunk if target is None else min(target, step + args.chunk)
        history = train_wgan_gp(generator, critic, clips, steps=chunk_end, sample_rate_hz=args.rate,
                                batch_size=args.batch_size, n_critic=args.n_critic, seed=args.seed,
                                lr=args.lr, critic_lr=args.critic_lr, gp_every=args.gp_every, ema_generator=ema,
                                ema_decay=args.ema or 0.999, state_path=state, save_every=args.chunk, progress=False)
        step = chunk_end
        spent = time.perf_counter() - start
        info = {"corpus": args.corpus, "source": args.source, "d": args.d, "n_samples": args.n_samples, "sample_rate_hz": args.rate,
                "recipe": args.recipe, "upsample": args.upsample, "post_filter_taps": args.post_filter_taps,
                "minibatch_std": args.minibatch_std, "phase_shuffle": args.phase_shuffle, "batch_size": args.batch_size,
                "n_critic": args.n_critic, "lr": args.lr, "critic_lr": args.critic_lr, "gp_every": args.gp_every,
                "ema": args.ema, "seed": args.seed, "labels": args.labels or None, "steps": step,
                "minutes": round(earlier_minutes + spent / 60, 4),
                "wasserstein": history.wasserstein[-1], "clips": report["clips"], **extra}
        info_path.write_text(json.dumps(info, indent=1))
        for mark in args.snapshot_minutes or []:
            snap = state.with_name(f"{state.stem}_{mark:g}min.pt")
            if info["minutes"] >= mark and not snap.is_file():
                shutil.copyfile(state, snap)
                snap.with_suffix(".json").write_text(json.dumps(info, indent=1))
        print(f"[gan] step {step}: wasserstein {history.wasserstein[-1]:.3f}, {spent / 60:.1f} min this run", flush=True)
        if (target is not None and step >= target) or spent >= budget_s:
            return info


def score(args: argparse.Namespace) -> dict:
    import torch

    from .runs import generate_clips
    from .scores import compute_gan_scores, get_gan_scorer

    generator, info = load_generator(args.state, averaged=not args.raw)
    n, rate = int(generator.n_samples), int(generator.sample_rate_hz)
    source = str(info.get("source", "offline"))
    sets = get_datasets(info["corpus"], source)
    real = {split: make_gan_clips(sets[split], n, rate)[0] for split in ("train", "test")}
    classifier, meta = get_gan_scorer(info["corpus"], n, rate, source=source)
    fake = torch.cat([generate_clips(generator, info, 250, seed=100 + i) for i in range(args.n // 250)])
    scores = compute_gan_scores(classifier, fake, real["test"], real["train"])
    if info.get("model") == "specgan":  # the ceiling: real test clips through the same images and Griffin-Lim
        from .specgan import SpectrogramCodec

        codec = SpectrogramCodec.from_dict(info["codec"])
        round_trip = compute_gan_scores(classifier, codec.decode(codec.encode(real["test"])), real["test"], real["train"])
        scores["is_real_through_griffin_lim"] = round_trip["is_generated"]
    out = {"state": str(args.state), "steps": info["steps"], "minutes": info["minutes"], "generated": len(fake),
           "averaged": not args.raw, "classifier_test_accuracy": meta["test_accuracy"], **scores}
    Path(args.state).with_suffix(".scores.json").write_text(json.dumps(out, indent=1))
    return out


def remedies(args: argparse.Namespace) -> dict:
    """Train and score each of :data:`REMEDIES` for each seed on the same budget; write the JSON file."""
    from ..utils import get_cache_dir, get_profile
    from .runs import PRETRAINED_DIR

    folder = Path(args.folder) if args.folder else get_cache_dir("models", get_profile(), "remedies")
    budget = ["--minutes", f"{args.minutes:g}"] if args.minutes is not None else ["--steps", str(args.steps)]
    runs = []
    for name, flags in REMEDIES.items():
        for seed in args.seeds:
            state = folder / f"{name.replace(' ', '_')}_seed{seed}.pt"
            for old in (state, state.with_suffix(".json")):  # each run starts afresh: equal budgets
                old.unlink(missing_ok=True)
            command = ["train", "--corpus", args.corpus, *budget, "--seed", str(seed), "--state", str(state), *flags,
                       *args.extra]
            main(command)
            scored = score(argparse.Namespace(state=str(state), n=args.n, raw=False))
            runs.append({"remedy": name, "seed": seed, "steps": scored["steps"], "minutes": scored["minutes"],
                         "command": "python -m audiomap_lib.gan " + " ".join(command),
                         **{k: scored[k] for k in REMEDY_SCORES}})
    summary = {}
    for name in REMEDIES:
        mine = [r for r in runs if r["remedy"] == name]
        summary[name] = {k: {"mean": sum(float(r[k]) for r in mine) / len(mine), "min": min(float(r[k]) for r in mine),
                             "max": max(float(r[k]) for r in mine)} for k in (*REMEDY_SCORES, "steps")}
    out = {"command": "python -m audiomap_lib.gan remedies " + " ".join(args.argv), "corpus": args.corpus,
           "minutes": args.minutes, "steps": args.steps, "seeds": list(args.seeds), "n": args.n, "remedies": REMEDIES,
           "runs": runs,
           "summary": summary}
    path = Path(args.out) if args.out else PRETRAINED_DIR / "remedies.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audiomap_lib.gan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train (or continue training) a WaveGAN")
    t.add_argument("--corpus", choices=["drums", "digits"], default="drums")
    t.add_argument("--source", default="offline",
                   help="where the clips come from (audiomap_lib.data.datasets.get_datasets): offline, or sc09 / fsdd "
                        "for digits (downloaded once)")
    t.add_argument("--minutes", type=float, default=None, help="stop after this many minutes (this run)")
    t.add_argument("--steps", type=int, default=None, help="stop at this generator step (counting earlier runs)")
    t.add_argument("--d", type=int, default=16, help="model size (the paper: 64)")
    t.add_argument("--n-samples", type=int, default=4096, help="clip length (a multiple of 1024; the paper: 16384)")
    t.add_argument("--rate", type=int, default=8000, help="sample rate of the generated clips in Hz (the paper: 16000)")
    t.add_argument("--model", choices=["wavegan", "specgan"], default="wavegan",
                   help="wavegan (raw waveforms) or specgan (log-magnitude images, Griffin-Lim back to sound)")
    t.add_argument("--size", type=int, default=None,
                   help="SpecGAN's image side (default: the square root of --n-samples, 64 for 4096)")
    t.add_argument("--recipe", choices=sorted(RECIPES), default="laptop", help="the recipe's settings (see above)")
    t.add_argument("--upsample", choices=UPSAMPLE_MODES, default=None)
    t.add_argument("--post-filter-taps", type=int, default=0,
                   help="the paper's optional learned post-processing filter after the output (0: off; its code: 512)")
    t.add_argument("--minibatch-std", type=int, choices=[0, 1], default=None,
                   help="1: the critic sees the batch's standard deviation (against mode collapse)")
    t.add_argument("--phase-shuffle", type=int, default=2)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--n-critic", type=int, default=None)
    t.add_argument("--lr", type=float, default=1e-4, help="the generator's (and by default the critic's) Adam rate")
    t.add_argument("--critic-lr", type=float, default=None, help="the critic's own rate (TTUR)")
    t.add_argument("--gp-every", type=int, default=None, help="gradient penalty on every k-th critic update (lazy)")
    t.add_argument("--ema", type=float, default=None, help="decay of a moving average of the generator (0: off)")
    t.add_argument("--labels", nargs="*", default=None, help="train on these classes only")
    t.add_argument("--chunk", type=int, default=50, help="steps between saved states")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--snapshot-minutes", type=float, nargs="*", default=None,
                   help="also keep a copy of the state when the run passes these minutes (e.g. 5 15 30)")
    t.add_argument("--state", default=None, help="training state file (default: the profile's cache folder)")
    c = sub.add_parser("score", help="score a trained WaveGAN (drums or digits) beside the real test clips")
    c.add_argument("--state", required=True, help="the training state file of a run")
    c.add_argument("--n", type=int, default=1000, help="clips to generate (a multiple of 250)")
    c.add_argument("--raw", action="store_true", help="score the generator itself, not its moving average")
    r = sub.add_parser("remedies", help="train and score the checkerboard remedies on the same budget")
    r.add_argument("--corpus", choices=["drums", "digits"], default="drums")
    r.add_argument("--minutes", type=float, default=None, help="the budget of each run, in minutes")
    r.add_argument("--steps", type=int, default=None, help="or in generator steps")
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    r.add_argument("--n", type=int, default=500, help="clips to generate per run for the scores (a multiple of 250)")
    r.add_argument("--folder", default=None, help="where the runs' states go (default: the profile's cache)")
    r.add_argument("--out", default=None, help="the JSON file (default: the shipped pretrained/remedies.json)")
    r.add_argument("extra", nargs="*", help="after --, more train options for every run (e.g. -- --d 8)")
    args = parser.parse_args(argv)
    if args.command == "remedies":
        if (args.minutes is None) == (args.steps is None):
            parser.error("give --minutes or --steps (one of them)")
        args.argv = list(sys.argv[1:] if argv is None else argv)[1:]
        print(json.dumps(remedies(args)["summary"]), flush=True)
        return 0
    if args.command == "score":
        print(json.dumps(score(args)), flush=True)
        return 0
    if args.minutes is None and args.steps is None:
        parser.error("give --minutes or --steps (or both)")
    info = train(args)
    print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
