"""Chapter 6 (A raw-waveform CNN classifier): exercises with automatic checks and worked solutions."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from .core import Case, ExerciseResult, _rand, _short, grade_numbers, register, run_cases

__all__ = [
    "grade_center_frequency",
    "grade_collate",
    "grade_confusion_matrix",
    "grade_m5_masked_average",
    "grade_m5_output_length",
    "grade_noise_at_snr",
    "grade_rt60",
]

# ---- Exercise "m5_output_length": the length of the M5 stack's output


def _m5_cases() -> list[Case]:
    from ..cnn import RawAudioCNN

    model = RawAudioCNN("m5", channels=2, input_sr=8000, model_sr=8000).eval()
    cases = []
    for length in (8000, 16000, 4000, 12345, 1000):
        with torch.no_grad():
            out = model.stages(torch.zeros(1, 1, length)).shape[-1]  # what the real network produces
        cases.append(Case(f"length={length}", (length,), expected=int(out)))
    return cases


@register("m5_output_length", 6, "the length of the M5 stack's output")
def grade_m5_output_length(fn: Callable[[int], int]) -> ExerciseResult:
    """Grade ``fn(length)`` -> number of time steps after the conv / pool stack of an M5 (as an int)."""
    return run_cases(
        "m5_output_length", fn, _m5_cases(),
        hint="first layer: (L - 80) // 4 + 1; a max-pool of 4 keeps floor(L / 4); the kernel-3 convs have padding 1.",
    )


# ---- Exercise "collate": stack clips of different lengths


def _collate_compare(expected: Any, got: Any) -> str | None:
    from .core import compare_values

    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return f"expected a tuple (waveforms, labels, lengths), got {_short(got)}"
    for name, e, g in zip(("waveforms", "labels", "lengths"), expected, got):
        if not isinstance(g, torch.Tensor):
            return f"{name}: expected a tensor, got {type(g).__name__}"
        if name != "waveforms" and g.dtype != torch.int64:
            return f"{name}: expected dtype torch.int64, got {g.dtype}"
        problem = compare_values(e, g)
        if problem:
            return f"{name}: {problem}"
    return None


def _collate_cases() -> list[Case]:
    from ..data.datasets import pad_collate

    cases = []
    for label, lens in [("equal lengths", [50, 50]), ("different lengths", [30, 50, 10]),
                        ("one clip", [7]), ("longest last", [5, 6, 40, 41])]:
        batch = [(_rand(1, n, seed=70 + i).float(), (3 * i) % 10) for i, n in enumerate(lens)]
        cases.append(Case(label, (batch,), expected=pad_collate(batch)))
    return cases


@register("collate", 6, "a padding collate with lengths")
def grade_collate(fn: Callable[..., Any]) -> ExerciseResult:
    """Grade ``fn(batch)`` -> ``(waveforms (B, 1, T_max), labels (B,) int64, lengths (B,) int64)``."""
    return run_cases(
        "collate", fn, _collate_cases(), compare=_collate_compare,
        hint="pad at the end with zeros up to the longest clip; lengths are the original numbers of samples.",
    )


# ---- Exercise "noise_at_snr": add noise at a given signal-to-noise ratio


def _noise_cases() -> list[Case]:
    cases = []
    for i, snr in enumerate([20.0, 0.0, -5.0, 13.5]):
        x = _rand(4000, seed=80 + i) * (0.1 if i % 2 else 0.5)
        n = _rand(4000, seed=90 + i) * (3.0 if i == 2 else 1.0)
        a = math.sqrt(float(x.pow(2).mean()) / (float(n.pow(2).mean()) * 10 ** (snr / 10)))
        cases.append(Case(f"snr_db={snr}", (x, n, snr), expected=x + a * n))
    return cases


@register("noise_at_snr", 6, "noise at a given SNR")
def grade_noise_at_snr(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(waveform (T,), noise (T,), snr_db)`` -> noisy waveform with exactly that SNR."""
    return run_cases(
        "noise_at_snr", fn, _noise_cases(),
        hint="SNR in dB is 10 log10 of a ratio of powers (mean squares); scaling the noise by a scales its power by a**2.",
    )


# ---- Exercise "confusion_matrix": count true class x predicted class


def _cm_cases() -> list[Case]:
    from ..training import compute_confusion_matrix

    g = torch.Generator().manual_seed(5)
    cases = []
    for label, n, k in [("all correct", 10, 3), ("random", 50, 4), ("ten digits", 200, 10)]:
        labels = torch.randint(0, k, (n,), generator=g)
        pred = labels.clone() if label == "all correct" else torch.randint(0, k, (n,), generator=g)
        cases.append(Case(label, (pred, labels, k), expected=compute_confusion_matrix(pred, labels, k)))
    pred, labels = torch.tensor([1, 1, 1]), torch.tensor([0, 0, 2])
    cases.append(Case("asymmetric: true 0 predicted 1", (pred, labels, 3), expected=compute_confusion_matrix(pred, labels, 3)))
    return cases


@register("confusion_matrix", 6, "the confusion matrix")
def grade_confusion_matrix(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(predicted (N,), labels (N,), n_classes)`` -> ``(K, K)`` counts, rows = true class."""
    return run_cases(
        "confusion_matrix", fn, _cm_cases(),
        hint="row index = the true label, column index = the prediction; the rows of class k sum to its number of clips.",
    )


# ---- Exercise "center_frequency": where a learned filter passes most


def _center_cases() -> list[tuple[str, tuple, float]]:
    from ..anatomy import compute_center_frequency  # the library's answer

    cases = []
    for i, (f0, sr) in enumerate([(440.0, 8000), (1500.0, 8000), (3000.0, 16000), (250.0, 16000)]):
        n = torch.arange(80, dtype=torch.float64)
        kernel = torch.cos(2 * math.pi * f0 * n / sr + 0.3 * i) * torch.hann_window(80, periodic=False, dtype=torch.float64)
        cases.append((f"a windowed {f0:.0f} Hz cosine at {sr} Hz", (kernel, sr), compute_center_frequency(kernel, sr, 512)))
    return cases


@register("center_frequency", 6, "the centre frequency of a filter")
def grade_center_frequency(fn: Callable[..., float]) -> ExerciseResult:
    """Grade ``fn(kernel (K,), sr, n_fft=512)`` -> the peak frequency of ``|H(f)|`` in Hz (within one FFT bin)."""
    cases = [(label, args, expected, args[1] / 512) for label, args, expected in _center_cases()]
    return grade_numbers("center_frequency", fn, cases, "Hz",
                         "bin k of an n_fft-point FFT lies at k * sr / n_fft Hz; take the bin of the largest |X|.")


# ---- Exercise "m5_masked_average": the global average over the real steps of each clip


def _masked_average_cases() -> list[Case]:
    from ..attention import compute_masked_mean  # the library's masked mean (Chapter 5)
    from ..cnn import RawAudioCNN

    model = RawAudioCNN("m5", channels=2, input_sr=8000, model_sr=8000).eval()

    def steps(length: int) -> int:
        with torch.no_grad():
            return int(model.stages(torch.zeros(1, 1, length)).shape[-1])  # what the real network produces

    cases = []
    for seed, lengths in enumerate([(8000, 5000, 2000), (8000, 8000), (12000, 3000, 7999, 1000)]):
        t = steps(max(lengths))
        features = _rand(len(lengths), 4, t, seed=20 + seed)
        n_real = torch.tensor([steps(n) for n in lengths])
        expected = compute_masked_mean(features, n_real, dim=-1)
        cases.append(Case(f"lengths {list(lengths)} samples at 8 kHz", (features, torch.tensor(lengths)), expected=expected))
    return cases


@register("m5_masked_average", 6, "the M5's average over real steps only")
def grade_m5_masked_average(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(features (B, C, T), lengths (B,) in samples)`` -> ``(B, C)``: each clip's mean over the
    M5 output steps that its real samples produce (padding steps neither summed nor counted)."""
    return run_cases(
        "m5_masked_average", fn, _masked_average_cases(),
        hint="the real steps of a clip of n samples follow Exercise 1's formula; average features[b, :, :steps_b] only.",
    )


# ---- Exercise "rt60": the reverberation time of an impulse response


def _rt60_cases() -> list[tuple[str, tuple, float]]:
    from ..augment import compute_rt60_s, make_room_impulse_response  # the library's answer

    cases = []
    for i, (rt60, sr, drr) in enumerate([(0.3, 16000, 0.0), (0.8, 8000, 5.0), (1.5, 16000, -5.0)]):
        rir = make_room_impulse_response(rt60, sr, drr, torch.Generator().manual_seed(30 + i))
        cases.append((f"a simulated room of T60 {rt60} s at {sr} Hz", (rir, sr), compute_rt60_s(rir, sr)))
    return cases


@register("rt60", 6, "the reverberation time of an impulse response")
def grade_rt60(fn: Callable[..., float]) -> ExerciseResult:
    """Grade ``fn(rir (K,), sr)`` -> T60 in s from Schroeder's decay curve and a line from -5 to -25 dB (within 1 %)."""
    cases = [(label, args, expected, 0.01 * expected) for label, args, expected in _rt60_cases()]
    return grade_numbers("rt60", fn, cases, "seconds",
                         "EDC[n] = 10 log10(sum of h[m]^2 for m >= n / total energy); fit a line to EDC against time "
                         "where -25 <= EDC <= -5 dB; T60 = -60 / slope.")
