"""Benchmark: the course's from-scratch STFT (Chapter 2) against torch.stft and librosa.stft.

Prints, for a few signal lengths, the median time of each implementation measured side by
side in one run, and the ratios ``scratch / torch`` and ``librosa / torch``. Targets are not
asserted here: this is a measurement to read (see DEVELOPERS.md, rule 6).

    .venv/bin/python benchmarks/bench_stft.py [--repeats 20]
"""
from __future__ import annotations

import argparse

import librosa
import torch

from audiomap_lib.spectral import compute_stft
from audiomap_lib.utils import compute_median_time_s, set_seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    set_seed(0)
    n_fft, hop = 512, 128
    window = torch.hann_window(n_fft)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, n_fft={n_fft}, hop={hop}")
    print(f"{'seconds @16k':>13} {'scratch ms':>11} {'torch ms':>9} {'librosa ms':>11} {'scratch/torch':>14} {'librosa/torch':>14}")
    for seconds in (1, 10, 60):
        x = torch.randn(16000 * seconds)
        xn = x.numpy()
        t_s = compute_median_time_s(lambda: compute_stft(x, n_fft, hop), args.repeats)
        t_t = compute_median_time_s(lambda: torch.stft(x, n_fft, hop, window=window, return_complex=True), args.repeats)
        t_l = compute_median_time_s(lambda: librosa.stft(xn, n_fft=n_fft, hop_length=hop), args.repeats)
        print(f"{seconds:>13} {t_s * 1e3:>11.2f} {t_t * 1e3:>9.2f} {t_l * 1e3:>11.2f} {t_s / t_t:>14.2f} {t_l / t_t:>14.2f}")


if __name__ == "__main__":
    main()
