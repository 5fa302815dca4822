"""Exercises with automatic checks that explain what went wrong (all chapters).

A chapter asks the learner to write a function, then calls a ``check_<name>``
function on it. The check runs the learner's function on several cases, compares
the answers with a reference and returns an :class:`ExerciseResult`: whether it
passed and, if not, *which* case failed, with the expected and the received
shapes and values. A check never raises: an error inside the learner's code is
reported in the result.

Each chapter has its own section below, with its checks and the worked solutions
(``solution_<name>``). The book shows the solutions behind a toggle; the tests
check that every solution passes its check. To add exercises for a later chapter,
add a section with its ``check_*`` and ``solution_*`` functions, built on the
shared helpers :func:`run_cases` and :func:`compare_values`, and register each
check with :func:`register`.
"""
from __future__ import annotations

import html
import math
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "ExerciseResult",
    "Case",
    "EXERCISES",
    "register",
    "list_exercises",
    "compare_values",
    "run_cases",
    # Chapter 3
    "check_flip",
    "check_output_length",
    "check_causal_conv",
    "check_conv_output",
    "check_lowpass",
    "check_bandpass",
    "solution_flip",
    "solution_output_length",
    "solution_causal_conv",
    "solution_conv_output",
    "solution_lowpass",
    "solution_bandpass",
]


# ============================================================================ framework


@dataclass
class ExerciseResult:
    """The outcome of one check.

    Attributes:
        name: the exercise's name, e.g. ``"output_length"``.
        passed: ``True`` when every case passed.
        message: one sentence: what passed, or the first thing that failed.
        details: more lines (the failing case's arguments, expected and received values, a hint).
    """

    name: str
    passed: bool
    message: str
    details: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"[{'PASS' if self.passed else 'FAIL'}] {self.name}: {self.message}"
        return "\n".join([head] + [f"    {line}" for line in self.details])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour, mark = ("#1a7f37", "&#10004; passed") if self.passed else ("#b42318", "&#10008; not yet")
        rows = "".join(f"<li><code style='white-space:pre-wrap'>{html.escape(d)}</code></li>" for d in self.details)
        return (
            f"<div class='audiomap-exercise' style='border-left:4px solid {colour};padding:4px 10px;margin:4px 0'>"
            f"<b style='color:{colour}'>{mark}</b> &mdash; <b>{html.escape(self.name)}</b>: "
            f"{html.escape(self.message)}{'<ul>' + rows + '</ul>' if rows else ''}</div>"
        )


@dataclass
class Case:
    """One input for a learner's function: a short label, the arguments, the expected answer."""

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    expected: Any = None


EXERCISES: dict[str, dict[str, Any]] = {}
"""Every registered exercise: name -> ``{"chapter", "check", "solution", "summary"}``."""


def register(name: str, chapter: int, solution: Callable[..., Any], summary: str):
    """Decorator that records a check function in :data:`EXERCISES`."""

    def wrap(check: Callable[..., ExerciseResult]) -> Callable[..., ExerciseResult]:
        EXERCISES[name] = {"chapter": chapter, "check": check, "solution": solution, "summary": summary}
        return check

    return wrap


def list_exercises(chapter: int | None = None) -> list[str]:
    """Names of the registered exercises (of one chapter, or all)."""
    return [n for n, e in EXERCISES.items() if chapter is None or e["chapter"] == chapter]


def _short(value: Any, n: int = 6) -> str:
    """A short, readable view of a value: shape and first few numbers of a tensor."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().flatten()
        nums = ", ".join(f"{v:.4g}" for v in flat[:n].tolist())
        more = ", ..." if flat.numel() > n else ""
        return f"tensor of shape {tuple(value.shape)}: [{nums}{more}]"
    if isinstance(value, np.ndarray):
        return _short(torch.from_numpy(value), n)
    return repr(value)


def compare_values(expected: Any, got: Any, atol: float = 1e-4, rtol: float = 1e-4) -> str | None:
    """Compare an expected answer with a received one.

    Returns:
        ``None`` when they agree; otherwise a sentence that says how they differ
        (type, shape, or where the values differ most).
    """
    if isinstance(expected, torch.Tensor):
        if isinstance(got, np.ndarray):
            got = torch.from_numpy(got)
        if not isinstance(got, torch.Tensor):
            return f"expected a tensor, got {type(got).__name__}"
        if tuple(got.shape) != tuple(expected.shape):
            return f"wrong shape: expected {tuple(expected.shape)}, got {tuple(got.shape)}"
        e, g = expected.detach().double(), got.detach().double()
        if not torch.isfinite(g).all():
            return "the result holds NaN or infinite values"
        err = (e - g).abs()
        if torch.all(err <= atol + rtol * e.abs()):
            return None
        idx = tuple(int(i) for i in np.unravel_index(int(err.argmax()), tuple(err.shape))) if err.ndim else ()
        return (
            f"values differ: largest difference {float(err.max()):.3g} at index {idx} "
            f"(expected {float(e[idx]):.4g}, got {float(g[idx]):.4g})"
        )
    if isinstance(expected, (int, np.integer)) and not isinstance(expected, bool):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, (int, np.integer)) or isinstance(got, bool):
            return f"expected an int, got {type(got).__name__} {got!r}"
        return None if int(got) == int(expected) else f"expected {expected}, got {got}"
    if isinstance(expected, float):
        try:
            ok = math.isclose(float(got), expected, rel_tol=rtol, abs_tol=atol)
        except (TypeError, ValueError):
            return f"expected a number, got {type(got).__name__}"
        return None if ok else f"expected {expected:.6g}, got {float(got):.6g}"
    return None if got == expected else f"expected {expected!r}, got {got!r}"


def _describe_args(case: Case) -> str:
    parts = [_short(a) for a in case.args] + [f"{k}={_short(v)}" for k, v in case.kwargs.items()]
    return ", ".join(parts)


def _call(fn: Callable[..., Any], case: Case) -> tuple[Any, str | None]:
    try:
        return fn(*case.args, **case.kwargs), None
    except NotImplementedError:
        return None, "your function raised NotImplementedError: replace it with your code"
    except Exception as exc:  # the learner's error is part of the feedback
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return None, f"your function raised {type(exc).__name__}: {exc} (line {where.lineno})"


def run_cases(
    name: str,
    fn: Callable[..., Any],
    cases: Iterable[Case],
    compare: Callable[[Any, Any], str | None] = compare_values,
    hint: str | None = None,
) -> ExerciseResult:
    """Run ``fn`` on each case and stop at the first that fails.

    Args:
        name: the exercise's name (shown in the result).
        fn: the learner's function.
        cases: inputs with expected answers.
        compare: ``compare(expected, got)`` returns ``None`` or what is wrong.
        hint: a line added to the details when a case fails.

    Returns:
        :class:`ExerciseResult`; on failure its details name the case, its
        arguments, and the expected and received values.
    """
    if not callable(fn):
        return ExerciseResult(name, False, f"expected a function, got {type(fn).__name__}")
    cases = list(cases)
    for i, case in enumerate(cases, start=1):
        got, error = _call(fn, case)
        problem = error or compare(case.expected, got)
        if problem:
            details = [
                f"case {i} of {len(cases)} ({case.label}): {fn.__name__}({_describe_args(case)})",
                f"expected: {_short(case.expected)}",
            ]
            if error is None:
                details.append(f"got:      {_short(got)}")
            if hint:
                details.append(f"hint: {hint}")
            return ExerciseResult(name, False, f"case '{case.label}' failed: {problem}", details)
    return ExerciseResult(name, True, f"all {len(cases)} cases passed")


def _rand(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _gain_db(kernel: torch.Tensor, freqs_hz: Sequence[float], sr: int) -> np.ndarray:
    """|H(f)| in dB of an FIR kernel at the given frequencies (evaluated directly)."""
    h = torch.as_tensor(kernel, dtype=torch.float64).flatten()
    n = torch.arange(h.numel(), dtype=torch.float64)
    f = torch.as_tensor(list(freqs_hz), dtype=torch.float64)[:, None]
    H = (h * torch.exp(-2j * math.pi * f * n / sr)).sum(-1).abs()
    return (20 * torch.log10(H.clamp_min(1e-12))).numpy()


# ============================================================================ Chapter 3: Convolution


# ---- Exercise "flip": true convolution from a cross-correlation layer


def solution_flip(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Full convolution of 1-D x and w with F.conv1d (which does not flip)."""
    k = w.shape[0]
    x3 = F.pad(x, (k - 1, k - 1)).view(1, 1, -1)  # pad so every overlap counts
    w3 = w.flip(0).view(1, 1, k)  # flip the kernel: correlation becomes convolution
    return F.conv1d(x3, w3).view(-1)


def _flip_cases() -> list[Case]:
    pairs = [
        ("the seed's example", torch.tensor([1.0, 3, 2, 1], dtype=torch.float64), torch.tensor([1.0, 0, 2], dtype=torch.float64)),
        ("asymmetric kernel", _rand(10, seed=1), torch.tensor([1.0, -1.0], dtype=torch.float64)),
        ("kernel longer than signal", _rand(3, seed=2), _rand(5, seed=3)),
        ("random", _rand(40, seed=4), _rand(7, seed=5)),
    ]
    return [Case(lbl, (x, w), expected=torch.from_numpy(np.convolve(x.numpy(), w.numpy()))) for lbl, x, w in pairs]


@register("flip", 3, solution_flip, "true convolution from F.conv1d and a flip")
def check_flip(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> ExerciseResult:
    """Check ``fn(x, w)`` -> full convolution, shape ``(len(x) + len(w) - 1,)`` (equals ``numpy.convolve``)."""
    return run_cases(
        "flip", fn, _flip_cases(),
        hint="a full convolution has len(x) + len(w) - 1 values; F.conv1d does not flip the kernel.",
    )


# ---- Exercise "output_length": the output-length formula


def solution_output_length(length: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a 1-D conv layer with `padding` zeros on each side."""
    span = dilation * (kernel - 1) + 1  # samples covered by the dilated kernel
    return (length + 2 * padding - span) // stride + 1


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


@register("output_length", 3, solution_output_length, "the output-length formula")
def check_output_length(fn: Callable[..., int]) -> ExerciseResult:
    """Check ``fn(length, kernel, stride=, padding=, dilation=)`` -> int against real F.conv1d outputs."""
    return run_cases(
        "output_length", fn, _output_length_cases(),
        hint="round down (//); a dilated kernel covers dilation*(kernel-1)+1 samples; padding is added on both sides.",
    )


# ---- Exercise "causal_conv": causal padding


def solution_causal_conv(x: torch.Tensor, weight: torch.Tensor, dilation: int = 1) -> torch.Tensor:
    """Causal conv: output t sees inputs t, t-d, ..., never the future; same length."""
    k = weight.shape[-1]
    x = F.pad(x, (dilation * (k - 1), 0))  # all the zeros on the left
    return F.conv1d(x, weight, dilation=dilation)


def _causal_cases() -> list[Case]:
    cases = []
    for i, (b, c, o, t, k, d) in enumerate([(1, 1, 1, 10, 3, 1), (2, 3, 4, 50, 5, 1), (2, 2, 3, 40, 3, 4), (1, 1, 1, 6, 6, 1)]):
        x, w = _rand(b, c, t, seed=10 + i), _rand(o, c, k, seed=20 + i)
        expected = F.conv1d(F.pad(x, (d * (k - 1), 0)), w, dilation=d)
        cases.append(Case(f"batch={b}, channels={c}->{o}, time={t}, kernel={k}, dilation={d}", (x, w), dict(dilation=d), expected))
    return cases


@register("causal_conv", 3, solution_causal_conv, "causal padding")
def check_causal_conv(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Check ``fn(x, weight, dilation=)`` -> causal convolution of the same length as ``x``.

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


def solution_conv_output(
    x: torch.Tensor, weight: torch.Tensor, stride: int = 1, padding: int = 0, dilation: int = 1
) -> torch.Tensor:
    """conv1d (cross-correlation) with stride, padding and dilation, as a loop over taps."""
    k = weight.shape[-1]
    x = F.pad(x, (padding, padding))
    out_len = (x.shape[-1] - dilation * (k - 1) - 1) // stride + 1
    y = 0
    for j in range(k):  # tap j reads the input shifted by j * dilation
        start = j * dilation
        xs = x[:, :, start:start + stride * (out_len - 1) + 1:stride]  # (batch, in, out_len)
        y = y + torch.einsum("bct,oc->bot", xs, weight[:, :, j])
    return y


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


@register("conv_output", 3, solution_conv_output, "stride, padding and dilation")
def check_conv_output(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Check ``fn(x, weight, stride=, padding=, dilation=)`` against ``F.conv1d`` (no bias, groups 1).

    ``x``: ``(batch, in_channels, time)``; ``weight``: ``(out_channels, in_channels, kernel)``.
    """
    return run_cases(
        "conv_output", fn, _conv_cases(),
        hint="F.conv1d does not flip the kernel; tap j of output t reads input t*stride + j*dilation (after padding).",
    )


# ---- Exercise "lowpass": a windowed-sinc low-pass filter


def solution_lowpass(cutoff_hz: float, sr: int, n_taps: int) -> torch.Tensor:
    """Windowed-sinc low-pass: ideal (sinc) response, cut to n_taps, Hamming window."""
    n = torch.arange(n_taps, dtype=torch.float64) - (n_taps - 1) / 2  # centred tap index
    fc = cutoff_hz / sr  # cutoff in cycles per sample
    h = 2 * fc * torch.sinc(2 * fc * n) * torch.hamming_window(n_taps, periodic=False, dtype=torch.float64)
    return h / h.sum()  # gain exactly 1 at 0 Hz


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


def _check_kernel_shape(name: str, kernel: Any, label: str, n_taps: int | None) -> ExerciseResult | None:
    if not isinstance(kernel, torch.Tensor) or kernel.ndim != 1:
        return ExerciseResult(name, False, f"case '{label}': expected a 1-D tensor, got {_short(kernel)}")
    if n_taps is not None and kernel.shape[0] != n_taps:
        return ExerciseResult(name, False, f"case '{label}': expected {n_taps} taps, got {kernel.shape[0]}")
    if not torch.isfinite(kernel).all():
        return ExerciseResult(name, False, f"case '{label}': the kernel holds NaN or infinite values")
    return None


@register("lowpass", 3, solution_lowpass, "a windowed-sinc low-pass")
def check_lowpass(fn: Callable[[float, int, int], torch.Tensor]) -> ExerciseResult:
    """Check ``fn(cutoff_hz, sr, n_taps)`` -> low-pass kernel of ``n_taps`` taps.

    Requirements: 0 dB (within 0.1 dB) at 0 Hz; about -6 dB at the cutoff (between
    -9 and -3); at least 40 dB of attenuation from ``cutoff + 4 * sr / n_taps`` up to
    ``sr / 2``; a symmetric kernel (linear phase).
    """
    for cutoff, sr, n_taps in [(1000.0, 16000, 101), (3000.0, 16000, 63), (500.0, 8000, 129)]:
        label = f"cutoff={cutoff:g} Hz, sr={sr}, n_taps={n_taps}"
        kernel, error = _call(fn, Case(label, (cutoff, sr, n_taps)))
        if error:
            return ExerciseResult("lowpass", False, f"case '{label}': {error}")
        bad = _check_kernel_shape("lowpass", kernel, label, n_taps)
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


def solution_bandpass(low_hz: float, high_hz: float, sr: int, n_taps: int) -> torch.Tensor:
    """Band-pass = high-pass above low_hz, then low-pass below high_hz (convolve the kernels)."""
    from audiomap_lib.conv import convolve_full, make_highpass_fir, make_lowpass_fir

    high = make_highpass_fir(low_hz, sr, n_taps)  # removes what lies below low_hz
    low = make_lowpass_fir(high_hz, sr, n_taps)  # removes what lies above high_hz
    return convolve_full(high, low)  # filtering by both = one filter with the convolved kernel


@register("bandpass", 3, solution_bandpass, "a band-pass from a low-pass and a high-pass")
def check_bandpass(fn: Callable[[float, float, int, int], torch.Tensor]) -> ExerciseResult:
    """Check ``fn(low_hz, high_hz, sr, n_taps)`` -> a band-pass kernel (any length up to ``2 * n_taps``).

    Requirements: within 1 dB of 0 dB at the band centre; at least 30 dB of
    attenuation at 0 Hz to ``low_hz - 4 * sr / n_taps`` and from
    ``high_hz + 4 * sr / n_taps`` to ``sr / 2``.
    """
    for low, high, sr, n_taps in [(500.0, 2000.0, 16000, 101), (1000.0, 4000.0, 16000, 81), (300.0, 1200.0, 8000, 101)]:
        label = f"band {low:g}-{high:g} Hz, sr={sr}, n_taps={n_taps}"
        kernel, error = _call(fn, Case(label, (low, high, sr, n_taps)))
        if error:
            return ExerciseResult("bandpass", False, f"case '{label}': {error}")
        bad = _check_kernel_shape("bandpass", kernel, label, None)
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
