"""Benchmark: WaveGAN's cost per generator step, and the WGAN-GP trainer against a bare loop.

Measured side by side in one run:

1. **seconds per generator step** (with its ``n_critic`` critic steps and their gradient
   penalties) for the sizes of each profile, and for the paper's (``--paper``: d = 64,
   16384 samples, batch 64; about a minute per step on 2 cores);
2. **trainer overhead**: steps per second of :func:`audiomap_lib.training.wgan.train_wgan_gp`
   and of a bare WGAN-GP loop (the same models, batches and updates; no history, checks or
   state), alternated ``--repeats`` times; the ratio ``trainer / bare`` (target: at least 0.95);
3. **the two recipes** of Chapter 7 at the standard size, alternated ``--repeats`` times:
   seconds per generator step of the paper's (5 critic steps, the penalty on every one) and of
   the laptop recipe (2 critic steps, the penalty on every 4th, a moving average of the
   generator, a minibatch-deviation critic), and their ratio.

    .venv/bin/python benchmarks/bench_gan.py [--steps 3] [--repeats 3] [--paper]

Targets are not asserted here: this is a measurement to read.
"""
from __future__ import annotations

import argparse
import copy
import time

import torch

from audiomap_lib import gan
from audiomap_lib.training.wgan import train_wgan_gp

SIZES = {  # name: (d, n_samples, batch)
    "quick": (8, 4096, 16),
    "standard": (16, 4096, 32),
    "paper": (64, 16384, 64),
}


def bare_loop(generator, critic, clips, steps: int, batch: int, n_critic: int = 5) -> None:
    """WGAN-GP with nothing else: the reference for the trainer's overhead."""
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    for _ in range(steps):
        for _ in range(n_critic):
            real = clips[torch.randint(0, len(clips), (batch,))]
            with torch.no_grad():
                fake = generator(gan.make_latents(batch, generator.latent_dim))
            loss = -(critic(real).mean() - critic(fake).mean()) + gan.compute_gradient_penalty(critic, real, fake)
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
        for p in critic.parameters():
            p.requires_grad_(False)
        loss_g = -critic(generator(gan.make_latents(batch, generator.latent_dim))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in critic.parameters():
            p.requires_grad_(True)


def make(d: int, n: int) -> tuple[gan.WaveGANGenerator, gan.WaveGANCritic, torch.Tensor]:
    torch.manual_seed(0)
    clips = 0.3 * torch.randn(256, 1, n)
    return gan.WaveGANGenerator(d=d, n_samples=n, sample_rate_hz=8000 if n < 16384 else 16000), gan.WaveGANCritic(d=d, n_samples=n), clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--paper", action="store_true", help="also time the paper's size (slow on a CPU)")
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    print("1. seconds per generator step (5 critic steps each)")
    for name, (d, n, batch) in SIZES.items():
        if name == "paper" and not args.paper:
            continue
        g, c, clips = make(d, n)
        start = time.perf_counter()
        bare_loop(g, c, clips, args.steps, batch)
        print(f"   {name:<9} d={d:<3} {n:>5} samples, batch {batch:>2}: {(time.perf_counter() - start) / args.steps:.3f} s")
    d, n, batch = SIZES["standard"]
    g0, c0, clips = make(d, n)
    trainer, bare = [], []
    for _ in range(args.repeats):  # alternate, from the same initial weights
        g, c = copy.deepcopy(g0), copy.deepcopy(c0)
        start = time.perf_counter()
        train_wgan_gp(g, c, clips, steps=args.steps, batch_size=batch, device="cpu", progress=False)
        trainer.append(args.steps / (time.perf_counter() - start))
        g, c = copy.deepcopy(g0), copy.deepcopy(c0)
        start = time.perf_counter()
        bare_loop(g, c, clips, args.steps, batch)
        bare.append(args.steps / (time.perf_counter() - start))
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    print(f"2. standard size, steps per second: trainer {med(trainer):.3f}, bare loop {med(bare):.3f}, "
          f"ratio trainer / bare = {med(trainer) / med(bare):.3f} (target >= 0.95)")
    paper, laptop = [], []
    for _ in range(args.repeats):
        g, c = copy.deepcopy(g0), copy.deepcopy(c0)
        start = time.perf_counter()
        train_wgan_gp(g, c, clips, steps=args.steps, batch_size=batch, device="cpu", progress=False)
        paper.append((time.perf_counter() - start) / args.steps)
        g = copy.deepcopy(g0)
        c = gan.WaveGANCritic(d=d, n_samples=n, minibatch_std=True)
        start = time.perf_counter()
        train_wgan_gp(g, c, clips, steps=args.steps, batch_size=batch, n_critic=2, critic_lr=3e-4, gp_every=4,
                      ema_generator=copy.deepcopy(g), device="cpu", progress=False)
        laptop.append((time.perf_counter() - start) / args.steps)
    print(f"3. standard size, seconds per generator step: paper recipe {med(paper):.3f}, laptop recipe {med(laptop):.3f}, "
          f"ratio paper / laptop = {med(paper) / med(laptop):.2f}")


if __name__ == "__main__":
    main()
