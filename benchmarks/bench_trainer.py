"""Benchmark: the course trainer (``training.fit``) against a bare PyTorch loop, and data loading.

Measured side by side in one run, on the same model (Chapter 6's M5 at 8 kHz), the same clips
and the same batches:

1. **throughput**: training clips per second of ``training.fit`` (progress bar off, one tiny
   validation batch per epoch, no checkpoint) and of a bare loop (forward, cross-entropy,
   backward, AdamW step), each started from the same initial weights; the median of
   ``--repeats`` alternating runs, and the ratio ``fit / bare`` (target: at least 0.95);
2. **loading vs compute**: the time to iterate the training loader alone (reading the WAV files
   with ``AudioClipDataset``, and from clips held in memory) against the time of the training
   steps for the same clips. Loading is not the bottleneck when it is a small fraction.

    .venv/bin/python benchmarks/bench_trainer.py [--profile quick|standard] [--clips 1024] [--repeats 3]

Targets are not asserted here: this is a measurement to read.
"""
from __future__ import annotations

import argparse
import copy

import torch
import torch.nn.functional as F

from audiomap_lib import training
from audiomap_lib.cnn import RawAudioCNN
from audiomap_lib.data.datasets import get_digit_datasets, make_loader
from audiomap_lib.utils import compute_median_time_s, get_device, set_seed


def bare_loop(model: torch.nn.Module, loader, epochs: int, lr: float, device: torch.device) -> None:
    """The plain PyTorch loop: forward, loss, backward, step (no schedule, no metrics)."""
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    for _ in range(epochs):
        for x, y, lengths in loader:
            x, y, lengths = x.to(device), y.to(device), lengths.to(device)
            loss = F.cross_entropy(model(x, lengths), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="standard", choices=["quick", "standard", "full"])
    parser.add_argument("--clips", type=int, default=1024, help="training clips per epoch")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    set_seed(0)
    device = get_device()
    ds = get_digit_datasets("offline", profile=args.profile)
    n = min(args.clips, len(ds["train"]))
    subset = torch.utils.data.Subset(ds["train"], list(range(n)))

    # --- loading: from disk (WAV files) and from memory
    disk_loader = make_loader(subset, args.batch, shuffle=True, seed=0)
    t_disk = compute_median_time_s(lambda: [None for _ in disk_loader], 1)
    clips = [subset[i] for i in range(n)]
    loader = make_loader(clips, args.batch, shuffle=True, seed=0)
    t_mem = compute_median_time_s(lambda: [None for _ in loader], args.repeats)
    val_loader = [next(iter(make_loader(clips[: args.batch], args.batch, shuffle=False, seed=0)))]

    init = RawAudioCNN("m5", n_classes=len(ds["train"].labels), channels=args.channels, input_sr=16000, model_sr=8000)
    state = copy.deepcopy(init.state_dict())

    def fresh() -> RawAudioCNN:
        m = copy.deepcopy(init)
        m.load_state_dict(state)
        return m

    def run_fit() -> None:
        training.fit(fresh(), loader, val_loader, epochs=args.epochs, lr=3e-3, schedule="onecycle",
                     progress=False, verbose=False, device=device)

    def run_bare() -> None:
        bare_loop(fresh(), loader, args.epochs, 3e-3, device)

    # alternate the two so that both see the same machine load
    t_fit, t_bare = [], []
    run_bare()  # warm-up
    for _ in range(args.repeats):
        t_bare.append(compute_median_time_s(run_bare, 1))
        t_fit.append(compute_median_time_s(run_fit, 1))
    t_fit.sort()
    t_bare.sort()
    fit_s, bare_s = t_fit[len(t_fit) // 2], t_bare[len(t_bare) // 2]
    samples = n * args.epochs
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"profile {args.profile}, {n} clips x {args.epochs} epoch(s), batch {args.batch}, M5 with {args.channels} channels")
    print(f"bare loop        : {samples / bare_s:8.1f} clips/s  ({bare_s:.2f} s)")
    print(f"training.fit     : {samples / fit_s:8.1f} clips/s  ({fit_s:.2f} s, incl. one validation batch per epoch)")
    print(f"ratio fit / bare : {bare_s / fit_s:8.3f}  (target >= 0.95)")
    print(f"loading {n} clips: {t_disk:.2f} s from WAV files, {t_mem:.3f} s from memory; "
          f"training steps for them: {bare_s / args.epochs:.2f} s")
    print(f"loading / compute: {t_disk / (bare_s / args.epochs):.1%} (from disk), "
          f"{t_mem / (bare_s / args.epochs):.1%} (from memory)")


if __name__ == "__main__":
    main()
