"""Benchmark: the course's from-scratch conv1d (Chapter 3), loop and unfold, against F.conv1d.

Prints, for a few layer sizes, the median time of each implementation measured side by side
in one run, and the ratios ``loop / torch`` and ``unfold / torch``. Targets are not asserted
here: this is a measurement to read (see DEVELOPERS.md, rule 6).

    .venv/bin/python benchmarks/bench_conv.py [--repeats 10]
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from audiomap_lib.conv import conv1d, conv1d_loop
from audiomap_lib.utils import compute_median_time_s, set_seed

# (name, batch, in_channels, out_channels, time, kernel, stride, dilation)
SIZES = [
    ("small", 4, 8, 16, 1000, 9, 1, 1),
    ("first layer (k80, s4)", 8, 1, 64, 16000, 80, 4, 1),
    ("mid layer (k3, d4)", 8, 64, 64, 4000, 3, 1, 4),
]




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--loop-repeats", type=int, default=3, help="the loop is slow: fewer repeats")
    args = parser.parse_args()
    set_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'size':>22} {'loop ms':>9} {'unfold ms':>10} {'torch ms':>9} {'loop/torch':>11} {'unfold/torch':>13}")
    with torch.no_grad():
        for name, b, c_in, c_out, t, k, s, d in SIZES:
            x = torch.randn(b, c_in, t)
            w = torch.randn(c_out, c_in, k)
            t_l = compute_median_time_s(lambda: conv1d_loop(x, w, stride=s, dilation=d), args.loop_repeats)
            t_u = compute_median_time_s(lambda: conv1d(x, w, stride=s, dilation=d), args.repeats)
            t_t = compute_median_time_s(lambda: F.conv1d(x, w, stride=s, dilation=d), args.repeats)
            print(f"{name:>22} {t_l * 1e3:>9.1f} {t_u * 1e3:>10.2f} {t_t * 1e3:>9.2f} {t_l / t_t:>11.0f} {t_u / t_t:>13.1f}")


if __name__ == "__main__":
    main()
