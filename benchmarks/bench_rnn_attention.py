"""Benchmark: the course's from-scratch GRU (Chapter 4) and attention (Chapter 5) against PyTorch.

Prints, for a few sizes, the median time of a forward + backward pass of each
implementation measured side by side in one run, and the ratio ``scratch / torch``.
Targets are not asserted here: this is a measurement to read (rule 6 of the developers' guide).

    .venv/bin/python benchmarks/bench_rnn_attention.py [--repeats 5]
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from audiomap_lib.attention import additive_attention, make_length_mask, scaled_dot_product_attention
from audiomap_lib.rnn import ScratchGRU
from audiomap_lib.utils import compute_median_time_s, set_seed

# (name, batch, frames, input size, hidden size)
GRU_SIZES = [("digits (101 frames x 40 mels)", 64, 101, 40, 64), ("wide", 32, 101, 40, 256), ("long", 16, 500, 40, 64)]
# (name, batch, heads, frames, dim)
ATT_SIZES = [("pooling (1 query)", 64, 1, 101, 64), ("self-attention", 16, 4, 101, 64), ("long self-attention", 4, 4, 1000, 64)]


def _fwd_bwd(fn):
    def run() -> None:
        out = fn()
        out.sum().backward()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    set_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("\nGRU, forward + backward")
    print(f"{'size':>32} {'scratch ms':>11} {'nn.GRU ms':>10} {'scratch/torch':>14}")
    for name, b, t, i, h in GRU_SIZES:
        ref = torch.nn.GRU(i, h, batch_first=True)
        ours = ScratchGRU.from_torch(ref)
        x = torch.randn(b, t, i)
        t_s = compute_median_time_s(_fwd_bwd(lambda: ours(x)[0]), args.repeats)
        t_t = compute_median_time_s(_fwd_bwd(lambda: ref(x)[0]), args.repeats)
        print(f"{name:>32} {t_s * 1e3:>11.1f} {t_t * 1e3:>10.1f} {t_s / t_t:>14.1f}")

    print("\nScaled dot-product attention with a padding mask, forward + backward")
    print(f"{'size':>32} {'scratch ms':>11} {'F.sdpa ms':>10} {'scratch/torch':>14}")
    for name, b, heads, t, d in ATT_SIZES:
        lq = 1 if "pooling" in name else t
        q = torch.randn(b, heads, lq, d, requires_grad=True)
        k = torch.randn(b, heads, t, d, requires_grad=True)
        v = torch.randn(b, heads, t, d, requires_grad=True)
        lengths = torch.randint(t // 2, t + 1, (b,))
        mask = make_length_mask(lengths, t)[:, None, None, :]
        t_s = compute_median_time_s(_fwd_bwd(lambda: scaled_dot_product_attention(q, k, v, mask)[0]), args.repeats)
        t_t = compute_median_time_s(_fwd_bwd(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)), args.repeats)
        print(f"{name:>32} {t_s * 1e3:>11.2f} {t_t * 1e3:>10.2f} {t_s / t_t:>14.1f}")

    print("\nAdditive attention (one query per clip), forward + backward: scratch only (PyTorch has none)")
    b, t, d, da = 64, 101, 64, 64
    q, keys = torch.randn(b, d, requires_grad=True), torch.randn(b, t, d, requires_grad=True)
    w_q, w_k, v = torch.randn(da, d), torch.randn(da, d), torch.randn(da)
    t_a = compute_median_time_s(_fwd_bwd(lambda: additive_attention(q, keys, keys, w_q, w_k, v)[0]), args.repeats)
    print(f"{'digits (64 x 101 x 64)':>32} {t_a * 1e3:>11.2f} ms")


if __name__ == "__main__":
    main()
