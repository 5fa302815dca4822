"""Chapter 3 (Convolution): exercises with automatic checks and worked solutions."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .core import Case, ExerciseResult, _call, _gain_db, _rand, _short, grade_numbers, register, run_cases

__all__ = [
    "grade_flip",
    "grade_output_length",
    "grade_causal_conv",
    "grade_conv_output",
    "grade_lowpass",
    "grade_bandpass",
    "grade_aliased_frequency",
    "grade_linear_from_circular",
]

# ---- Exercise "flip": true convolution from a cross-correlation layer


def _flip_cases() -> list[Case]:
    pairs = [
        ("the seed's example", torch.tensor([1.0, 3, 2, 1], dtype=torch.float64), torch.tensor([1.0, 0, 2], dtype=torch.float64)),
        ("asymmetric kernel", _rand(10, seed=1), torch.tensor([1.0, -1.0], dtype=torch.float64)),
        ("kernel longer than signal", _rand(3, seed=2), _rand(5, seed=3)),
        ("random", _rand(40, seed=4), _rand(7, seed=5)),
    ]
    return [Case(lbl, (x, w), expected=torch.from_numpy(np.convolve(x.numpy(), w.numpy()))) for lbl, x, w in pairs]


@register("flip", 3, "true convolution from F.conv1d and a flip")
def grade_flip(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x, w)`` -> full convolution, shape ``(len(x) + len(w) - 1,)`` (equals ``numpy.convolve``)."""
    return run_cases(
        "flip", fn, _flip_cases(),
        hint="a full convolution has len(x) + len(w) - 1 values; F.conv1d does not flip the kernel.",
    )


# ---- Exercise "output_length": the output-length formula


def _output_length_cases() -> list[Case]:
    grid = [
        (100, 3, 1, 0, 1), (100, 3, 1, 1, 1), (100, 4, 2, 0, 1), (101, 4, 2, 0, 1),
        (100, 5, 3, 2, 1), (100, 3, 1, 0, 4), (50, 7, 2, 3, 2), (16000, 80, 4, 0, 1),
    ]
    cases = []
    for length, k, s, p, d in grid:
        # the expected value is what PyTorch really produces
        out = F.conv1d(torch.zeros(1, 1, length), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d).shape[-1]
        cases.append(Case(f"length={length}, kernel={k}, stride={s}, padding={p}, dilation={d}",
                          (length, k), dict(stride=s, padding=p, dilation=d), expected=int(out)))
    return cases


@register("output_length", 3, "the output-length formula")
def grade_output_length(fn: Callable[..., int]) -> ExerciseResult:
    """Grade ``fn(length, kernel, stride=, padding=, dilation=)`` -> int against real F.conv1d outputs."""
    return run_cases(
        "output_length", fn, _output_length_cases(),
        hint="round down (//); a dilated kernel covers dilation*(kernel-1)+1 samples; padding is added on both sides.",
    )


# ---- Exercise "causal_conv": causal padding


def _causal_cases() -> list[Case]:
    cases = []
    for i, (b, c, o, t, k, d) in enumerate([(1, 1, 1, 10, 3, 1), (2, 3, 4, 50, 5, 1), (2, 2, 3, 40, 3, 4), (1, 1, 1, 6, 6, 1)]):
        x, w = _rand(b, c, t, seed=10 + i), _rand(o, c, k, seed=20 + i)
        expected = F.conv1d(F.pad(x, (d * (k - 1), 0)), w, dilation=d)
        cases.append(Case(f"batch={b}, channels={c}->{o}, time={t}, kernel={k}, dilation={d}", (x, w), dict(dilation=d), expected))
    return cases


@register("causal_conv", 3, "causal padding")
def grade_causal_conv(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x, weight, dilation=)`` -> causal convolution of the same length as ``x``.

    First checks that changing a *future* input sample never changes a past output.
    """
    x, w = _rand(1, 1, 30, seed=99), _rand(1, 1, 4, seed=98)
    got, error = _call(fn, Case("causality", (x, w)))
    if error:
        return ExerciseResult("causal_conv", False, error)
    x2 = x.clone()
    x2[..., 20:] += 1.0  # change the future from t = 20 on
    got2, error = _call(fn, Case("causality", (x2, w)))
    if error:
        return ExerciseResult("causal_conv", False, error)
    if isinstance(got, torch.Tensor) and isinstance(got2, torch.Tensor) and got.shape == got2.shape and got.shape[-1] >= 20:
        leaked = (got[..., :20] - got2[..., :20]).abs().amax(dim=(0, 1))
        if bool((leaked > 1e-9).any()):
            first = int(torch.nonzero(leaked > 1e-9)[0])
            return ExerciseResult(
                "causal_conv", False,
                f"not causal: changing inputs at t >= 20 changed the output at t = {first}",
                ["hint: put all dilation*(kernel-1) zeros on the left, none on the right."],
            )
    return run_cases("causal_conv", fn, _causal_cases(),
                     hint="the output must be as long as the input; pad the left side only.")


# ---- Exercise "conv_output": a conv layer with stride, padding and dilation


def _conv_cases() -> list[Case]:
    grid = [
        ("plain", 1, 1, 1, 20, 3, 1, 0, 1),
        ("batch and channels", 2, 3, 4, 30, 5, 1, 0, 1),
        ("stride 2", 2, 2, 3, 31, 4, 2, 0, 1),
        ("padding 2", 1, 2, 2, 25, 5, 1, 2, 1),
        ("dilation 3", 2, 2, 3, 40, 3, 1, 0, 3),
        ("stride, padding and dilation", 3, 2, 5, 57, 4, 3, 2, 2),
    ]
    cases = []
    for i, (label, b, c, o, t, k, s, p, d) in enumerate(grid):
        x, w = _rand(b, c, t, seed=40 + i), _rand(o, c, k, seed=60 + i)
        expected = F.conv1d(x, w, stride=s, padding=p, dilation=d)
        cases.append(Case(label, (x, w), dict(stride=s, padding=p, dilation=d), expected))
    return cases


@register("conv_output", 3, "stride, padding and dilation")
def grade_conv_output(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x, weight, stride=, padding=, dilation=)`` against ``F.conv1d`` (no bias, groups 1).

    ``x``: ``(batch, in_channels, time)``; ``weight``: ``(out_channels, in_channels, kernel)``.
    """
    return run_cases(
        "conv_output", fn, _conv_cases(),
        hint="F.conv1d does not flip the kernel; tap j of output t reads input t*stride + j*dilation (after padding).",
    )


# ---- Exercise "lowpass": a windowed-sinc low-pass filter


def _response_result(name: str, kernel: Any, sr: int, specs: list[tuple[str, Sequence[float], float, float]],
                     label: str) -> ExerciseResult | None:
    """Check an FIR's gain (dB) at frequencies against (what, freqs, low_db, high_db) specs."""
    for what, freqs, low, high in specs:
        gains = _gain_db(kernel, freqs, sr)
        bad = np.nonzero((gains < low) | (gains > high))[0]
        if bad.size:
            i = int(bad[0])
            return ExerciseResult(
                name, False,
                f"case '{label}': {what}: gain at {freqs[i]:.0f} Hz is {gains[i]:.1f} dB, expected "
                + (f"at most {high:g} dB" if low <= -1e8 else f"between {low:g} and {high:g} dB"),
                [f"worst gain in this band: {gains.max() if high < 0 else gains.min():.1f} dB"],
            )
    return None


def _kernel_shape_problem(name: str, kernel: Any, label: str, n_taps: int | None) -> ExerciseResult | None:
    if not isinstance(kernel, torch.Tensor) or kernel.ndim != 1:
        return ExerciseResult(name, False, f"case '{label}': expected a 1-D tensor, got {_short(kernel)}")
    if n_taps is not None and kernel.shape[0] != n_taps:
        return ExerciseResult(name, False, f"case '{label}': expected {n_taps} taps, got {kernel.shape[0]}")
    if not torch.isfinite(kernel).all():
        return ExerciseResult(name, False, f"case '{label}': the kernel holds NaN or infinite values")
    return None


@register("lowpass", 3, "a windowed-sinc low-pass")
def grade_lowpass(fn: Callable[[float, int, int], torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(cutoff_hz, sr, n_taps)`` -> low-pass kernel of ``n_taps`` taps.

    Requirements: 0 dB (within 0.1 dB) at 0 Hz; about -6 dB at the cutoff (between
    -9 and -3); at least 40 dB of attenuation from ``cutoff + 4 * sr / n_taps`` up to
    ``sr / 2``; a symmetric kernel (linear phase).
    """
    for cutoff, sr, n_taps in [(1000.0, 16000, 101), (3000.0, 16000, 63), (500.0, 8000, 129)]:
        label = f"cutoff={cutoff:g} Hz, sr={sr}, n_taps={n_taps}"
        kernel, error = _call(fn, Case(label, (cutoff, sr, n_taps)))
        if error:
            return ExerciseResult("lowpass", False, f"case '{label}': {error}")
        bad = _kernel_shape_problem("lowpass", kernel, label, n_taps)
        if bad is not None:
            return bad
        if not torch.allclose(kernel, kernel.flip(0), atol=1e-6):
            return ExerciseResult("lowpass", False, f"case '{label}': the kernel is not symmetric",
                                  ["hint: centre the sinc on tap (n_taps - 1) / 2."])
        stop_from = cutoff + 4 * sr / n_taps
        bad = _response_result("lowpass", kernel, sr, [
            ("pass band (0 Hz)", [0.0], -0.1, 0.1),
            ("cutoff", [cutoff], -9.0, -3.0),
            ("stop band", list(np.linspace(stop_from, sr / 2, 200)), -1e9, -40.0),
        ], label)
        if bad is not None:
            bad.details.append("hint: sinc(2*fc*n) with fc = cutoff/sr, times a Hamming window, divided by its sum.")
            return bad
    return ExerciseResult("lowpass", True, "all 3 cases passed: 0 dB at 0 Hz, about -6 dB at the cutoff, >= 40 dB stop band")


# ---- Exercise "bandpass": combine a low-pass and a high-pass


@register("bandpass", 3, "a band-pass from a low-pass and a high-pass")
def grade_bandpass(fn: Callable[[float, float, int, int], torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(low_hz, high_hz, sr, n_taps)`` -> a band-pass kernel (any length up to ``2 * n_taps``).

    Requirements: within 1 dB of 0 dB at the band centre; at least 30 dB of
    attenuation at 0 Hz to ``low_hz - 4 * sr / n_taps`` and from
    ``high_hz + 4 * sr / n_taps`` to ``sr / 2``.
    """
    for low, high, sr, n_taps in [(500.0, 2000.0, 16000, 101), (1000.0, 4000.0, 16000, 81), (300.0, 1200.0, 8000, 101)]:
        label = f"band {low:g}-{high:g} Hz, sr={sr}, n_taps={n_taps}"
        kernel, error = _call(fn, Case(label, (low, high, sr, n_taps)))
        if error:
            return ExerciseResult("bandpass", False, f"case '{label}': {error}")
        bad = _kernel_shape_problem("bandpass", kernel, label, None)
        if bad is not None:
            return bad
        if kernel.shape[0] > 2 * n_taps:
            return ExerciseResult("bandpass", False, f"case '{label}': {kernel.shape[0]} taps is more than 2 * n_taps = {2 * n_taps}")
        width = 4 * sr / n_taps
        bad = _response_result("bandpass", kernel, sr, [
            ("band centre", [(low + high) / 2], -1.0, 1.0),
            ("below the band", list(np.linspace(0, low - width, 50)), -1e9, -30.0),
            ("above the band", list(np.linspace(high + width, sr / 2, 100)), -1e9, -30.0),
        ], label)
        if bad is not None:
            bad.details.append("hint: applying two filters one after the other is one filter whose kernel is "
                               "their convolution; or subtract two low-passes.")
            return bad
    return ExerciseResult("bandpass", True, "all 3 cases passed: 0 dB in the band, >= 30 dB outside it")


# ---- Exercise "aliased_frequency": where a stride folds a tone


def _measured_alias_hz(f_hz: float, sr: int, stride: int) -> float:
    """Keep every stride-th sample of one second of a cosine and read the peak of its spectrum (1 Hz bins)."""
    n = torch.arange(sr, dtype=torch.float64)
    kept = torch.cos(2 * np.pi * f_hz * n / sr)[::stride]
    return float(torch.fft.rfft(kept).abs().argmax()) * (sr / stride) / len(kept)


@register("aliased_frequency", 3, "where a stride folds a tone (aliasing)")
def grade_aliased_frequency(fn: Callable[[float, int, int], float]) -> ExerciseResult:
    """Grade ``fn(f_hz, sr, stride)`` -> the frequency in Hz (between 0 and the new Nyquist) at which a tone of
    ``f_hz`` sampled at ``sr`` is heard after keeping every ``stride``-th sample; checked against the spectrum."""
    cases = [(f"a {f_hz:g} Hz tone at {sr} Hz, stride {stride}", (f_hz, sr, stride), _measured_alias_hz(f_hz, sr, stride), 1.5)
             for f_hz, sr, stride in [(1000.0, 8000, 2), (3000.0, 8000, 2), (3500.0, 16000, 4), (2500.0, 8000, 4),
                                      (7000.0, 16000, 2), (11000.0, 32000, 4)]]
    return grade_numbers("aliased_frequency", fn, cases, "Hz",
                         "the new rate is sr / stride; a frequency f is heard at its distance from the nearest multiple "
                         "of the new rate (it folds back from the new Nyquist); the expected value is the peak of the "
                         "strided tone's spectrum.")


# ---- Exercise "linear_from_circular": the convolution theorem without wrap-around


def _linear_cases() -> list[Case]:
    from ..conv import convolve_full  # the library's answer (checked against numpy.convolve in the tests)

    cases = []
    for seed, (n, k) in enumerate([(8, 3), (5, 5), (16, 1), (7, 12)]):
        x, w = _rand(n, seed=40 + seed).double(), _rand(k, seed=50 + seed).double()
        cases.append(Case(f"len(x)={n}, len(w)={k}", (x, w), expected=convolve_full(x, w)))
    return cases


@register("linear_from_circular", 3, "linear convolution from circular convolution")
def grade_linear_from_circular(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x (N,), w (K,))`` -> the linear convolution ``(N + K - 1,)`` computed with circular convolution."""
    return run_cases(
        "linear_from_circular", fn, _linear_cases(),
        hint="zero-pad both to N + K - 1 samples, then the circular convolution has nowhere to wrap: "
             "conv.fft_convolve(x_padded, w_padded, circular=True).",
    )
