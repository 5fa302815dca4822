"""Twins: the step-by-step code in a notebook gives the library's values on stated cases.

A chapter that builds a function from scratch marks the cell that defines it
with a first line ``# twin: audiomap_lib.<module>.<name>``. This test runs that
cell on its own (with the imports listed in ``PRELUDE``) and checks, on the
inputs in ``CASES``, that the notebook's function and the library's return the
same values with the same dtype, shape and device, and, where the library's
result is differentiable, the same gradients with respect to every floating-point
input. The guarantee is "the same results on these cases", not "the same code":
the cases cover the library's branches (window kinds, ``mu`` values, padding
modes, masks, optional biases, float32 and float64 inputs, and the GPU when
there is one). A ``# twin:`` name used by two cells fails the test.
"""
from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PRELUDE = "import math\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\n"


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _with_grad(value: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``value`` carrying ``grad`` as its ``.grad``, like a parameter after ``backward()``."""
    value.grad = grad
    return value


# Each entry: the library function's dotted name -> a list of (args, kwargs) cases.
CASES: dict[str, list[tuple[tuple, dict]]] = {
    "audiomap_lib.spectral.frame_signal": [
        ((torch.randn(1000, generator=_g(0)), 256, 64), {}),
        ((torch.randn(2, 777, generator=_g(1)), 100, 100), {}),
    ],
    "audiomap_lib.spectral.make_window": [((512,), {}), ((33, "hamming"), {}), ((16, "rectangular"), {})],
    "audiomap_lib.spectral.compute_stft": [
        ((torch.randn(4000, generator=_g(2)), 512, 128), {}),
        ((torch.randn(2, 3000, generator=_g(3)), 256, 100), {"center": False}),
        ((torch.randn(1500, generator=_g(31)), 128, 32), {"window": "hamming"}),
        ((torch.randn(1500, generator=_g(32)), 64, 16), {"window": "rectangular", "center": False}),
        ((torch.randn(1500, generator=_g(33)), 64, 16), {"window": torch.hann_window(64, periodic=False)}),
    ],
    "audiomap_lib.digital.quantize_uniform": [
        ((torch.rand(500, generator=_g(4)) * 2 - 1, 3), {}),
        ((torch.rand(500, generator=_g(5)) * 2 - 1, 8), {}),
        ((torch.rand(500, generator=_g(34)) * 2 - 1, 1), {}),
        ((torch.rand(500, generator=_g(35), dtype=torch.float64) * 2 - 1, 16), {}),
    ],
    "audiomap_lib.digital.encode_mu_law": [
        ((torch.rand(500, generator=_g(6)) * 2 - 1,), {}),
        ((torch.rand(500, generator=_g(36)) * 2 - 1,), {"mu": 15}),
        ((torch.tensor([-1.0, 0.0, 1.0]),), {"mu": 1}),
    ],
    "audiomap_lib.digital.decode_mu_law": [((torch.arange(256),), {}), ((torch.arange(16),), {"mu": 15})],
    "audiomap_lib.conv.convolve_full": [
        ((torch.tensor([1.0, 3, 2, 1]), torch.tensor([1.0, 0, 2])), {}),
        ((torch.randn(50, generator=_g(7)), torch.randn(9, generator=_g(8))), {}),
        ((torch.randn(30, generator=_g(37), dtype=torch.float64), torch.randn(4, generator=_g(38))), {}),
    ],
    "audiomap_lib.conv.correlate": [
        ((torch.randn(40, generator=_g(9)), torch.randn(5, generator=_g(10))), {}),
        ((torch.randn(40, generator=_g(11)), torch.randn(5, generator=_g(12))), {"mode": "full"}),
    ],
    "audiomap_lib.conv.conv1d_loop": [
        ((torch.randn(2, 4, 30, generator=_g(13)), torch.randn(6, 2, 3, generator=_g(14)), torch.randn(6, generator=_g(15))),
         {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}),
        ((torch.randn(1, 3, 25, generator=_g(16)), torch.randn(4, 3, 4, generator=_g(17))), {"padding": "same"}),
        ((torch.randn(1, 3, 25, generator=_g(18)), torch.randn(4, 3, 3, generator=_g(19))), {"padding": "causal", "dilation": 3}),
    ],
    "audiomap_lib.conv.conv1d": [
        ((torch.randn(2, 4, 30, generator=_g(20)), torch.randn(6, 2, 3, generator=_g(21)), torch.randn(6, generator=_g(22))),
         {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}),
        ((torch.randn(3, 3, 25, generator=_g(23)), torch.randn(4, 3, 4, generator=_g(24))), {"padding": "same"}),
        ((torch.randn(1, 4, 25, generator=_g(25)), torch.randn(4, 1, 3, generator=_g(26))), {"padding": "causal", "dilation": 3, "groups": 4}),
    ],
    "audiomap_lib.conv.compute_conv_output_length": [
        ((16000, 80), {"stride": 4}), ((100, 3), {"stride": 2, "padding": 1, "dilation": 3}), ((37, 4, 3, 5, 2), {}),
    ],
    "audiomap_lib.conv.compute_receptive_field": [
        (([3, 3, 3],), {}), (([2] * 8, [1] * 8, [2 ** i for i in range(8)]), {}), (([80, 3, 3], [4, 1, 2], [1, 2, 1]), {}),
    ],
    "audiomap_lib.rnn.rnn_cell": [
        ((torch.randn(3, 5, generator=_g(40)), torch.randn(3, 4, generator=_g(41)), torch.randn(4, 5, generator=_g(42)),
          torch.randn(4, 4, generator=_g(43)), torch.randn(4, generator=_g(44)), torch.randn(4, generator=_g(45))), {}),
        ((torch.randn(2, 5, generator=_g(46)), torch.randn(2, 4, generator=_g(47)), torch.randn(4, 5, generator=_g(48)),
          torch.randn(4, 4, generator=_g(49))), {}),
    ],
    "audiomap_lib.rnn.rnn_forward": [
        ((torch.randn(2, 7, 5, generator=_g(50)), None, torch.randn(4, 5, generator=_g(51)) * 0.5,
          torch.randn(4, 4, generator=_g(52)) * 0.5, torch.randn(4, generator=_g(53)), torch.randn(4, generator=_g(54))), {}),
        ((torch.randn(2, 7, 5, generator=_g(55)), torch.randn(2, 4, generator=_g(56)), torch.randn(4, 5, generator=_g(57)),
          torch.randn(4, 4, generator=_g(58))), {}),
    ],
    "audiomap_lib.rnn.gru_cell": [
        ((torch.randn(3, 5, generator=_g(60)), torch.randn(3, 4, generator=_g(61)), torch.randn(12, 5, generator=_g(62)),
          torch.randn(12, 4, generator=_g(63)), torch.randn(12, generator=_g(64)), torch.randn(12, generator=_g(65))), {}),
        ((torch.randn(1, 2, generator=_g(66)), torch.randn(1, 3, generator=_g(67)), torch.randn(9, 2, generator=_g(68)),
          torch.randn(9, 3, generator=_g(69))), {}),
    ],
    "audiomap_lib.rnn.gru_forward": [
        ((torch.randn(2, 9, 5, generator=_g(70)), None, torch.randn(12, 5, generator=_g(71)),
          torch.randn(12, 4, generator=_g(72)), torch.randn(12, generator=_g(73)), torch.randn(12, generator=_g(74))), {}),
        ((torch.randn(2, 9, 5, generator=_g(75)), torch.randn(2, 4, generator=_g(76)), torch.randn(12, 5, generator=_g(77)),
          torch.randn(12, 4, generator=_g(78))), {}),
    ],
    "audiomap_lib.attention.compute_sinusoidal_positions": [
        ((60, 16), {}), ((5, 2), {"dtype": torch.float64}), ((7, 8), {"base": 100.0}),
    ],
    "audiomap_lib.spectral.compute_istft": [
        ((torch.stft(torch.randn(3000, generator=_g(92)), 512, 128, window=torch.hann_window(512), return_complex=True), 512, 128),
         {}),
        ((torch.stft(torch.randn(2, 2000, generator=_g(93), dtype=torch.float64), 256, 64,
                     window=torch.hann_window(256, dtype=torch.float64), return_complex=True), 256, 64), {"length": 2000}),
    ],
    "audiomap_lib.spectral.compute_mel_filterbank": [
        ((40, 16000, 512), {}),  # the course's setting: Slaney scale, Slaney norm, float32
        ((64, 16000, 400), {"scale": "htk", "norm": None}),
        ((23, 8000, 256), {"scale": "htk"}),
        ((80, 44100, 1024, 30.0, 16000.0), {"norm": None, "dtype": torch.float64}),
        ((128, 22050, 2048, 20.0, 8000.0), {"dtype": torch.float64}),
    ],
    "audiomap_lib.spectral.compute_griffin_lim": [
        ((torch.stft(torch.randn(3000, generator=_g(101)), 256, 64, window=torch.hann_window(256), return_complex=True).abs(),
          256, 64), {"n_iter": 4}),  # plain, float32, random start
        ((torch.stft(torch.randn(3000, generator=_g(102), dtype=torch.float64), 256, 64,
                     window=torch.hann_window(256, dtype=torch.float64), return_complex=True).abs(), 256, 64),
         {"n_iter": 16, "momentum": 0.99, "seed": 3, "return_history": True}),  # fast, torchaudio's momentum
        ((torch.stft(torch.randn(2, 2000, generator=_g(103), dtype=torch.float64), 128, 32,
                     window=torch.hann_window(128, dtype=torch.float64), return_complex=True).abs(), 128, 32),
         {"n_iter": 8, "length": 2000, "return_history": True}),  # a batch, a given length
        ((torch.stft(torch.randn(2000, generator=_g(104)), 128, 32, window=torch.hann_window(128), return_complex=True).abs(),
          128, 32), {"n_iter": 3, "momentum": 0.5,
                     "init_phase": torch.polar(torch.ones(65, 63), 2 * math.pi * torch.rand(65, 63, generator=_g(105)))}),
        ((torch.rand(33, 20, generator=_g(106)), 64, 16), {"n_iter": 0, "init_phase": torch.ones(33, 20, dtype=torch.complex64)}),
    ],
    "audiomap_lib.spectral.compute_cqt": [
        ((torch.randn(4000, generator=_g(107)), 16000, 128, 110.0, 36), {}),
        ((torch.randn(2, 3000, generator=_g(108), dtype=torch.float64), 22050, 255, 220.0, 48),
         {"bins_per_octave": 24, "filter_scale": 0.8}),
        ((torch.randn(2, 1, 2000, generator=_g(109)), 8000, 100, 200.0, 20), {"window": "hamming"}),
    ],
    "audiomap_lib.rnn.lstm_cell": [
        ((torch.randn(3, 5, generator=_g(110)), torch.randn(3, 4, generator=_g(111)), torch.randn(3, 4, generator=_g(112)),
          torch.randn(16, 5, generator=_g(113)), torch.randn(16, 4, generator=_g(114)), torch.randn(16, generator=_g(115)),
          torch.randn(16, generator=_g(116))), {}),
        ((torch.randn(2, 3, generator=_g(117), dtype=torch.float64), torch.randn(2, 2, generator=_g(118), dtype=torch.float64),
          torch.randn(2, 2, generator=_g(119), dtype=torch.float64), torch.randn(8, 3, generator=_g(120), dtype=torch.float64),
          torch.randn(8, 2, generator=_g(121), dtype=torch.float64)), {}),  # float64, no biases
    ],
    "audiomap_lib.rnn.lstm_forward": [
        ((torch.randn(2, 6, 5, generator=_g(122)), None, None, torch.randn(16, 5, generator=_g(123)),
          torch.randn(16, 4, generator=_g(124)), torch.randn(16, generator=_g(125)), torch.randn(16, generator=_g(126))), {}),
        ((torch.randn(3, 4, 2, generator=_g(127), dtype=torch.float64), torch.randn(3, 3, generator=_g(128), dtype=torch.float64),
          torch.randn(3, 3, generator=_g(129), dtype=torch.float64), torch.randn(12, 2, generator=_g(130), dtype=torch.float64),
          torch.randn(12, 3, generator=_g(131), dtype=torch.float64)), {}),
    ],
    "audiomap_lib.training.core.clip_gradient_norm": [
        (([_with_grad(torch.randn(4, 3, generator=_g(132)), 100 * torch.randn(4, 3, generator=_g(133))),
           _with_grad(torch.randn(5, generator=_g(134)), torch.randn(5, generator=_g(135))), torch.randn(2, generator=_g(136))], 1.0),
         {}),  # clipped; the last tensor has no gradient
        (([_with_grad(torch.randn(3, generator=_g(137)), 1e-3 * torch.randn(3, generator=_g(138)))], 5.0), {}),  # left alone
        (([torch.randn(3, generator=_g(139))], 1.0), {}),  # no gradients at all
    ],
    "audiomap_lib.conv.fft_convolve": [
        ((torch.randn(300, generator=_g(70)), torch.randn(31, generator=_g(71))), {}),
        ((torch.randn(64, generator=_g(72), dtype=torch.float64), torch.randn(64, generator=_g(73), dtype=torch.float64)), {}),
        ((torch.randn(100, generator=_g(74)), torch.randn(9, generator=_g(75))), {"circular": True}),
    ],
    "audiomap_lib.attention.multi_head_attention": [
        ((torch.randn(2, 5, 8, generator=_g(80)), torch.randn(2, 7, 8, generator=_g(81)), torch.randn(2, 7, 8, generator=_g(82)),
          2, torch.randn(24, 8, generator=_g(83)), torch.randn(24, generator=_g(84)), torch.randn(8, 8, generator=_g(85)),
          torch.randn(8, generator=_g(86))), {}),
        ((torch.randn(1, 4, 6, generator=_g(87), dtype=torch.float64), torch.randn(1, 4, 6, generator=_g(88), dtype=torch.float64),
          torch.randn(1, 4, 6, generator=_g(89), dtype=torch.float64), 3, torch.randn(18, 6, generator=_g(90), dtype=torch.float64),
          None, torch.randn(6, 6, generator=_g(91), dtype=torch.float64), None),
         {"mask": torch.tensor([[True, True, False, False]])}),
    ],
    "audiomap_lib.style.compute_gram": [
        ((torch.randn(6, 40, generator=_g(60)),), {}),
        ((torch.randn(2, 3, 5, 7, generator=_g(61), dtype=torch.float64),), {}),
        ((torch.relu(torch.randn(4, 1, generator=_g(62))),), {}),
    ],
    "audiomap_lib.attention.make_length_mask": [
        ((torch.tensor([3, 1, 5]),), {}), ((torch.tensor([2, 4]), 6), {}),
    ],
    "audiomap_lib.attention.masked_softmax": [
        ((torch.randn(3, 6, generator=_g(80)), torch.arange(6) < torch.tensor([[6], [2], [4]])), {}),
        ((torch.randn(2, 5, generator=_g(81)),), {}),
        ((torch.randn(2, 4, 3, generator=_g(82)), torch.tensor([[True], [True], [False], [True]])), {"dim": 1}),
    ],
    "audiomap_lib.attention.additive_attention": [
        ((torch.randn(3, 4, generator=_g(83)), torch.randn(3, 6, 5, generator=_g(84)), torch.randn(3, 6, 2, generator=_g(85)),
          torch.randn(7, 4, generator=_g(86)), torch.randn(7, 5, generator=_g(87)), torch.randn(7, generator=_g(88))),
         {"mask": torch.arange(6) < torch.tensor([[6], [2], [4]])}),
        ((torch.randn(1, 2, generator=_g(89)), torch.randn(1, 3, 2, generator=_g(90)), torch.randn(1, 3, 2, generator=_g(91)),
          torch.randn(3, 2, generator=_g(92)), torch.randn(3, 2, generator=_g(93)), torch.randn(3, generator=_g(94))), {}),
    ],
    "audiomap_lib.attention.scaled_dot_product_attention": [
        ((torch.randn(2, 3, 5, 8, generator=_g(95)), torch.randn(2, 3, 7, 8, generator=_g(96)),
          torch.randn(2, 3, 7, 4, generator=_g(97))), {}),
        ((torch.randn(2, 1, 8, generator=_g(98)), torch.randn(2, 7, 8, generator=_g(99)), torch.randn(2, 7, 8, generator=_g(100)),
          (torch.arange(7) < torch.tensor([[7], [3]])).unsqueeze(1)), {}),
    ],
    "audiomap_lib.cnn.compute_output_lengths": [
        ((torch.tensor([8000, 4000, 12345, 90]), [(80, 4, 0), (4, 4, 0), (3, 1, 1), (4, 4, 0), (3, 1, 1)]), {}),
        ((torch.tensor([16000]), [(80, 4, 0)]), {}),
    ],
    "audiomap_lib.augment.shift_waveform": [
        ((torch.randn(2, 1, 100, generator=_g(27)), 7), {}), ((torch.randn(50, generator=_g(28)), -13), {}),
        ((torch.randn(50, generator=_g(29)), 0), {}), ((torch.randn(50, generator=_g(30)), 60), {}),
    ],
}


def _twin_cells(notebooks: list[Path]) -> tuple[dict[str, tuple[Path, str, list[str]]], dict[str, list[str]]]:
    """Each twin: (notebook, its cell's source, the sources of the notebook's earlier twin cells).

    A twin may call twins defined above it in the same notebook (``gru_forward`` calls
    ``gru_cell``), so those are run first, in notebook order. Also returns the twin names
    marked more than once, each with the cells that mark it (the first is kept above).
    """
    found: dict[str, tuple[Path, str, list[str]]] = {}
    places: dict[str, list[str]] = {}
    for nb in sorted(notebooks):
        earlier: list[str] = []
        for index, cell in enumerate(json.loads(nb.read_text())["cells"]):
            if cell["cell_type"] != "code":
                continue
            src = "".join(cell["source"])
            first = src.lstrip().splitlines()[0] if src.strip() else ""
            if first.startswith("# twin:"):
                name = first.split(":", 1)[1].strip()
                places.setdefault(name, []).append(f"{nb.name} cell {index}")
                found.setdefault(name, (nb, src, list(earlier)))
                earlier.append(src)
    return found, {name: where for name, where in places.items() if len(where) > 1}


TWINS, DUPLICATE_TWINS = _twin_cells(list(NOTEBOOKS.glob("*.ipynb")))
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU"))]


def _resolve(dotted: str) -> Callable[..., Any]:
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _same(ours: Any, theirs: Any, what: str = "result") -> None:
    """Assert that the notebook's value equals the library's: type, dtype, shape, device, values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, torch.Tensor), f"{what}: the notebook returns {type(ours).__name__}, the library a tensor"
        assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} in the notebook, {theirs.dtype} in the library"
        assert ours.shape == theirs.shape, f"{what}: shape {tuple(ours.shape)} in the notebook, {tuple(theirs.shape)} in the library"
        assert ours.device == theirs.device, f"{what}: device {ours.device} in the notebook, {theirs.device} in the library"
        if theirs.is_floating_point() or theirs.is_complex():
            torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5, msg=lambda m: f"{what}: {m}")
        else:
            assert torch.equal(ours, theirs), f"{what}: values differ"
    elif isinstance(theirs, (tuple, list)):
        assert isinstance(ours, type(theirs)) and len(ours) == len(theirs), f"{what}: {ours!r} vs {theirs!r}"
        for i, (x, y) in enumerate(zip(ours, theirs)):
            _same(x, y, f"{what}[{i}]")
    elif isinstance(theirs, (bool, int, float)):
        assert type(ours) is type(theirs), f"{what}: {type(ours).__name__} in the notebook, {type(theirs).__name__} in the library"
        assert math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-9), f"{what}: {ours} vs {theirs}"
    else:
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-6)


def _prepare(value: Any, device: str) -> Any:
    """A fresh copy of an argument on ``device``; floating-point tensors become leaves that need gradients
    (a tensor that carries a ``.grad``, as a parameter does, keeps a copy of it)."""
    if isinstance(value, torch.Tensor):
        out = value.detach().clone().to(device)
        if out.is_floating_point():
            out.requires_grad_(True)
            if value.grad is not None:
                out.grad = value.grad.detach().clone().to(device)
        return out
    if isinstance(value, tuple):
        return tuple(_prepare(v, device) for v in value)
    if isinstance(value, list):
        return [_prepare(v, device) for v in value]
    return value


def _leaves(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value] if value.requires_grad else []
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _leaves(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _leaves(v)]
    return []


def _loss(result: Any) -> torch.Tensor | None:
    """A fixed weighted sum of every differentiable output (real and imaginary parts), or None."""
    parts = [result] if isinstance(result, torch.Tensor) else [r for r in result if isinstance(r, torch.Tensor)] \
        if isinstance(result, (tuple, list)) else []
    total = None
    for t in parts:
        if not t.requires_grad:
            continue
        real = torch.view_as_real(t) if t.is_complex() else t
        weights = torch.cos(torch.arange(real.numel(), dtype=torch.float64, device=real.device)).reshape(real.shape)
        term = (real * weights.to(real.dtype)).sum()
        total = term if total is None else total + term
    return total


def test_no_twin_name_is_marked_twice() -> None:
    assert not DUPLICATE_TWINS, f"each '# twin:' name may mark one cell only; marked twice: {DUPLICATE_TWINS}"


def test_a_duplicate_twin_name_is_reported(tmp_path: Path) -> None:
    cell = {"cell_type": "code", "source": ["# twin: audiomap_lib.io.to_mono\n", "def to_mono(x):\n", "    return x\n"]}
    for name in ("a.ipynb", "b.ipynb"):
        (tmp_path / name).write_text(json.dumps({"cells": [cell]}))
    found, duplicates = _twin_cells(list(tmp_path.glob("*.ipynb")))
    assert found["audiomap_lib.io.to_mono"][0].name == "a.ipynb"
    assert duplicates == {"audiomap_lib.io.to_mono": ["a.ipynb cell 0", "b.ipynb cell 0"]}


def test_every_twin_has_cases() -> None:
    missing = sorted(set(TWINS) - set(CASES))
    assert not missing, f"add test inputs to CASES for the notebook twins {missing}"


def test_every_case_has_a_twin_in_a_notebook() -> None:
    missing = sorted(set(CASES) - set(TWINS))
    assert not missing, f"no notebook cell is marked '# twin: ...' for {missing}"


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dotted", sorted(CASES))
def test_notebook_twin_matches_library(dotted: str, device: str) -> None:
    if dotted not in TWINS:
        pytest.fail(f"no notebook cell is marked '# twin: {dotted}'")
    nb, src, earlier = TWINS[dotted]
    namespace: dict[str, Any] = {}
    exec(compile(PRELUDE, "prelude", "exec"), namespace)
    for i, before in enumerate(earlier):
        exec(compile(before, f"{nb.name}:twin-{i}", "exec"), namespace)
    exec(compile(src, f"{nb.name}:{dotted}", "exec"), namespace)
    name = dotted.rsplit(".", 1)[1]
    assert name in namespace, f"{nb.name}: the twin cell for {dotted} does not define {name}()"
    ours, theirs = namespace[name], _resolve(dotted)
    for case, (args, kwargs) in enumerate(CASES[dotted]):
        what = f"{dotted}, case {case}"
        our_in, their_in = _prepare((args, kwargs), device), _prepare((args, kwargs), device)
        our_out, their_out = ours(*our_in[0], **our_in[1]), theirs(*their_in[0], **their_in[1])
        _same(our_out, their_out, what)
        for i, (a, b) in enumerate(zip(_leaves(our_in), _leaves(their_in))):  # gradients changed in place
            if b.grad is not None or a.grad is not None:
                assert a.grad is not None and b.grad is not None, f"{what}: input {i} has a .grad in one version only"
                _same(a.grad, b.grad, f"{what}, .grad of input {i} afterwards")
        their_loss = _loss(their_out)
        if their_loss is None:
            continue  # not differentiable (integer results, or no floating-point input)
        our_loss = _loss(our_out)
        assert our_loss is not None, f"{what}: the library's result has a gradient, the notebook's does not"
        our_leaves, their_leaves = _leaves(our_in), _leaves(their_in)
        our_grads = torch.autograd.grad(our_loss, our_leaves, allow_unused=True)
        their_grads = torch.autograd.grad(their_loss, their_leaves, allow_unused=True)
        for i, (g_ours, g_theirs) in enumerate(zip(our_grads, their_grads)):
            if g_theirs is None or g_ours is None:
                assert g_ours is None and g_theirs is None, f"{what}: input {i} has a gradient in one version only"
            else:
                _same(g_ours, g_theirs, f"{what}, gradient of input {i}")
