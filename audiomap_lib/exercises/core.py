"""The exercise framework shared by every chapter: results, cases, comparison, registry.

A grader runs the learner's function on :class:`Case` objects with :func:`run_cases`, compares
each answer with :func:`compare_values` (or its own comparison) and returns an
:class:`ExerciseResult` that names the first failing case. :func:`register` records a
grader with its worked solution in :data:`EXERCISES`. The chapters' graders live in the
sibling modules (``conv``, ``rnn``, ``attention``, ``cnn``); see the package docstring.
"""
from __future__ import annotations

import html
import math
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = [
    "ExerciseResult",
    "Case",
    "EXERCISES",
    "grade_numbers",
    "register",
    "list_exercises",
    "compare_values",
    "run_cases",
]


# ============================================================================ framework


@dataclass
class ExerciseResult:
    """The outcome of one grader.

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
"""Every registered exercise: name -> ``{"chapter", "grade", "summary"}``."""


def register(name: str, chapter: int, summary: str):
    """Decorator that records a grader (a ``grade_*`` function) in :data:`EXERCISES`.

    The worked solutions are not recorded here: they live in :mod:`audiomap_lib.exercises.solutions`,
    which the student edition does not ship (``python -m audiomap_lib.classroom editions``).
    """

    def wrap(grade: Callable[..., ExerciseResult]) -> Callable[..., ExerciseResult]:
        EXERCISES[name] = {"chapter": chapter, "grade": grade, "summary": summary}
        return grade

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
    if isinstance(value, (tuple, list)) and any(isinstance(v, (torch.Tensor, tuple, list)) for v in value):
        inner = ", ".join(_short(v, 3) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}] ({len(value)} items)"
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


def grade_numbers(
    name: str,
    fn: Callable[..., Any],
    cases: Sequence[tuple[str, tuple, float, float]],
    unit: str,
    hint: str,
) -> ExerciseResult:
    """Run ``fn`` on cases whose answer is one number, each within its own tolerance; stop at the first failure.

    Args:
        name: the exercise's name.
        fn: the learner's function.
        cases: ``(label, args, expected, tolerance)``, the tolerance in the answer's unit.
        unit: the answer's unit, for the messages (``"Hz"``, ``"s"``).
        hint: a line added to the details when a case fails.
    """
    for i, (label, args, expected, tol) in enumerate(cases, start=1):
        got, error = _call(fn, Case(label, args))
        if error:
            return ExerciseResult(name, False, error)
        try:
            value = float(got)
        except (TypeError, ValueError):
            return ExerciseResult(name, False, f"case '{label}': expected a number in {unit}, got {_short(got)}")
        if not math.isfinite(value) or abs(value - expected) > tol:
            return ExerciseResult(
                name, False, f"case '{label}' failed: expected {expected:.4g} {unit} (within {tol:.3g} {unit}), "
                             f"got {value:.4g} {unit}",
                [f"case {i} of {len(cases)}", f"hint: {hint}"],
            )
    return ExerciseResult(name, True, f"all {len(cases)} cases passed")


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
    """|H(f)| in dB of an FIR kernel (flattened) at the given frequencies, as NumPy."""
    from ..conv import compute_frequency_response

    h = torch.as_tensor(kernel, dtype=torch.float64).flatten()
    return compute_frequency_response(h, sr, list(freqs_hz), db=True)[1].numpy()
