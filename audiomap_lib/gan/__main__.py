"""The long-run command of Chapter 7: train a WaveGAN for minutes or hours, resuming where it stopped.

    python -m audiomap_lib.gan train --corpus drums --minutes 60
    python -m audiomap_lib.gan train --corpus digits --minutes 30 --d 16 --rate 8000 --n-samples 8192

Every run saves its training state (``--state``; default: the profile's cache folder,
``models/<profile>/wavegan_<corpus>_d<d>_<rate>hz.pt``) after each chunk of steps, and a JSON
file beside it with the settings, the steps, the minutes trained in all and the last Wasserstein
estimate. Run the same command again and it continues exactly (same weights as one long run).
Chapter 7 plays the longest such model it finds, and says how long it trained.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..data.datasets import get_datasets
from ..utils import get_cache_dir, get_profile, set_seed
from .data import make_gan_clips
from .models import UPSAMPLE_MODES, WaveGANCritic, WaveGANGenerator


def default_state_path(corpus: str, d: int, rate_hz: int) -> Path:
    """Where ``train`` keeps a run's state unless ``--state`` says otherwise."""
    return get_cache_dir("models", get_profile()) / f"wavegan_{corpus}_d{d}_{rate_hz}hz.pt"


def train(args: argparse.Namespace) -> dict:
    from ..training.wgan import train_wgan_gp

    set_seed(args.seed)
    data = get_datasets(args.corpus)["train"]
    clips, _, report = make_gan_clips(data, args.n_samples, args.rate, labels=args.labels or None)
    generator = WaveGANGenerator(d=args.d, n_samples=args.n_samples, upsample=args.upsample, sample_rate_hz=args.rate)
    critic = WaveGANCritic(d=args.d, n_samples=args.n_samples, phase_shuffle=args.phase_shuffle)
    state = Path(args.state) if args.state else default_state_path(args.corpus, args.d, args.rate)
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
                                state_path=state, save_every=args.chunk, progress=False)
        step = chunk_end
        spent = time.perf_counter() - start
        info = {"corpus": args.corpus, "d": args.d, "n_samples": args.n_samples, "sample_rate_hz": args.rate,
                "upsample": args.upsample, "phase_shuffle": args.phase_shuffle, "batch_size": args.batch_size,
                "n_critic": args.n_critic, "seed": args.seed, "labels": args.labels or None, "steps": step,
                "minutes": round(earlier_minutes + spent / 60, 2),
                "wasserstein": history.wasserstein[-1], "clips": report["clips"]}
        info_path.write_text(json.dumps(info, indent=1))
        print(f"[gan] step {step}: wasserstein {history.wasserstein[-1]:.3f}, {spent / 60:.1f} min this run", flush=True)
        if (target is not None and step >= target) or spent >= budget_s:
            return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audiomap_lib.gan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train (or continue training) a WaveGAN")
    t.add_argument("--corpus", choices=["drums", "digits"], default="drums")
    t.add_argument("--minutes", type=float, default=None, help="stop after this many minutes (this run)")
    t.add_argument("--steps", type=int, default=None, help="stop at this generator step (counting earlier runs)")
    t.add_argument("--d", type=int, default=16, help="model size (the paper: 64)")
    t.add_argument("--n-samples", type=int, default=4096, help="clip length (a multiple of 1024; the paper: 16384)")
    t.add_argument("--rate", type=int, default=8000, help="sample rate of the generated clips in Hz (the paper: 16000)")
    t.add_argument("--upsample", choices=UPSAMPLE_MODES, default="transposed")
    t.add_argument("--phase-shuffle", type=int, default=2)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--n-critic", type=int, default=5)
    t.add_argument("--labels", nargs="*", default=None, help="train on these classes only")
    t.add_argument("--chunk", type=int, default=50, help="steps between saved states")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--state", default=None, help="training state file (default: the profile's cache folder)")
    args = parser.parse_args(argv)
    if args.minutes is None and args.steps is None:
        parser.error("give --minutes or --steps (or both)")
    info = train(args)
    print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
