"""The exercise checks (audiomap_lib.exercises): solutions pass, wrong answers fail helpfully."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from audiomap_lib import exercises as ex
from audiomap_lib.conv import make_lowpass_fir

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_convolution.ipynb"


@pytest.mark.parametrize("name", ex.list_exercises())
def test_every_solution_passes_its_check(name: str) -> None:
    entry = ex.EXERCISES[name]
    result = entry["check"](entry["solution"])
    assert result.passed, str(result)
    assert "PASS" in str(result) and "passed" in result._repr_html_()


def test_chapter_3_has_its_exercises() -> None:
    assert set(ex.list_exercises(3)) >= {"flip", "output_length", "causal_conv", "conv_output", "lowpass", "bandpass"}


@pytest.mark.parametrize("name", ex.list_exercises(3))
def test_notebook_shows_the_same_solution_code(name: str) -> None:
    """The dropdown in the chapter shows exactly the code the tests run."""
    source = inspect.getsource(ex.EXERCISES[name]["solution"]).strip()
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert source in markdown, f"the notebook's solution for {name!r} differs from exercises.solution_{name}"


def _stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("name", ex.list_exercises(3))
def test_unwritten_exercise_says_so(name: str) -> None:
    result = ex.EXERCISES[name]["check"](_stub)
    assert not result.passed and "NotImplementedError" in result.message


def test_flip_without_flipping_shows_expected_and_got() -> None:
    def no_flip(x, w):
        return F.conv1d(x.view(1, 1, -1), w.view(1, 1, -1), padding=len(w) - 1).view(-1)

    result = ex.check_flip(no_flip)
    assert not result.passed
    assert "the seed's example" in result.message and "values differ" in result.message
    text = str(result)
    assert "expected: tensor of shape (6,): [1, 3, 4, 7, 4, 2]" in text and "got:" in text


def test_output_length_without_dilation_names_the_case() -> None:
    result = ex.check_output_length(lambda length, kernel, stride=1, padding=0, dilation=1: (length + 2 * padding - kernel) // stride + 1)
    assert not result.passed and "dilation=4" in result.message and "expected 92, got 98" in result.message


def test_output_length_float_is_refused() -> None:
    result = ex.check_output_length(lambda length, kernel, stride=1, padding=0, dilation=1: (length - kernel) / stride + 1.0)
    assert not result.passed and "expected an int" in result.message


def test_centred_padding_is_not_causal() -> None:
    def centred(x, w, dilation=1):
        return F.conv1d(x, w, dilation=dilation, padding="same")

    result = ex.check_causal_conv(centred)
    assert not result.passed and "not causal" in result.message and "hint" in str(result)


def test_conv_that_ignores_stride_reports_shapes() -> None:
    def no_stride(x, w, stride=1, padding=0, dilation=1):
        return F.conv1d(x, w, padding=padding, dilation=dilation)

    result = ex.check_conv_output(no_stride)
    assert not result.passed and "stride 2" in result.message and "wrong shape" in result.message


def test_rectangular_window_lowpass_fails_the_stop_band() -> None:
    result = ex.check_lowpass(lambda c, sr, n: make_lowpass_fir(c, sr, n, window="rectangular"))
    assert not result.passed and "stop band" in result.message and "at most -40 dB" in result.message


def test_lowpass_with_wrong_length_or_type() -> None:
    assert "expected 101 taps" in ex.check_lowpass(lambda c, sr, n: make_lowpass_fir(c, sr, n)[:-1]).message
    assert "expected a 1-D tensor" in ex.check_lowpass(lambda c, sr, n: [0.0] * n).message


def test_lowpass_alone_is_not_a_bandpass() -> None:
    result = ex.check_bandpass(lambda lo, hi, sr, n: make_lowpass_fir(hi, sr, n))
    assert not result.passed and "below the band" in result.message


def test_subtracting_lowpasses_is_also_accepted() -> None:
    result = ex.check_bandpass(lambda lo, hi, sr, n: make_lowpass_fir(hi, sr, n) - make_lowpass_fir(lo, sr, n))
    assert result.passed, str(result)


def test_not_a_function() -> None:
    assert not ex.check_flip(42).passed


def test_result_display() -> None:
    r = ex.ExerciseResult("demo", False, "case 'x' failed", ["expected: 1", "got: <2>"])
    assert not r and str(r).startswith("[FAIL] demo") and "&lt;2&gt;" in r._repr_html_()
    assert torch.tensor(1)  # keep torch import used
