"""One source of truth: the step-by-step code in a notebook equals the library's.

A chapter that builds a function from scratch marks the cell that defines it
with a first line ``# twin: audiomap_lib.<module>.<name>``. This test runs that
cell on its own (with the imports listed in ``PRELUDE``) and checks that the
notebook's function and the library's give the same results on the inputs
in ``CASES``. If a chapter and the library drift apart, this fails.
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


# Each entry: the library function's dotted name -> a list of (args, kwargs) cases.
CASES: dict[str, list[tuple[tuple, dict]]] = {
    "audiomap_lib.spectral.frame_signal": [
        ((torch.randn(1000, generator=_g(0)), 256, 64), {}),
        ((torch.randn(2, 777, generator=_g(1)), 100, 100), {}),
    ],
    "audiomap_lib.spectral.make_window": [((512,), {}), ((33, "hamming"), {})],
    "audiomap_lib.spectral.compute_stft": [
        ((torch.randn(4000, generator=_g(2)), 512, 128), {}),
        ((torch.randn(2, 3000, generator=_g(3)), 256, 100), {"center": False}),
    ],
    "audiomap_lib.digital.quantize_uniform": [
        ((torch.rand(500, generator=_g(4)) * 2 - 1, 3), {}),
        ((torch.rand(500, generator=_g(5)) * 2 - 1, 8), {}),
    ],
    "audiomap_lib.digital.encode_mu_law": [((torch.rand(500, generator=_g(6)) * 2 - 1,), {})],
    "audiomap_lib.digital.decode_mu_law": [((torch.arange(256),), {})],
    "audiomap_lib.conv.convolve_full": [
        ((torch.tensor([1.0, 3, 2, 1]), torch.tensor([1.0, 0, 2])), {}),
        ((torch.randn(50, generator=_g(7)), torch.randn(9, generator=_g(8))), {}),
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


def _twin_cells() -> dict[str, tuple[Path, str, list[str]]]:
    """Each twin: (notebook, its cell's source, the sources of the notebook's earlier twin cells).

    A twin may call twins defined above it in the same notebook (``gru_forward`` calls
    ``gru_cell``), so those are run first, in notebook order.
    """
    found: dict[str, tuple[Path, str, list[str]]] = {}
    for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
        earlier: list[str] = []
        for cell in json.loads(nb.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            src = "".join(cell["source"])
            first = src.lstrip().splitlines()[0] if src.strip() else ""
            if first.startswith("# twin:"):
                found[first.split(":", 1)[1].strip()] = (nb, src, list(earlier))
                earlier.append(src)
    return found


TWINS = _twin_cells()


def _resolve(dotted: str) -> Callable[..., Any]:
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _same(a: Any, b: Any) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.shape == b.shape, (a.shape, getattr(b, "shape", None))
        if a.is_floating_point() or a.is_complex():
            torch.testing.assert_close(a.to(b.dtype), b, rtol=1e-5, atol=1e-5)
        else:
            assert torch.equal(a.to(b.dtype), b)
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    else:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_every_twin_has_cases() -> None:
    missing = sorted(set(TWINS) - set(CASES))
    assert not missing, f"add test inputs to CASES for the notebook twins {missing}"


def test_every_case_has_a_twin_in_a_notebook() -> None:
    missing = sorted(set(CASES) - set(TWINS))
    assert not missing, f"no notebook cell is marked '# twin: ...' for {missing}"


@pytest.mark.parametrize("dotted", sorted(CASES))
def test_notebook_twin_matches_library(dotted: str) -> None:
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
    for args, kwargs in CASES[dotted]:
        _same(ours(*args, **kwargs), theirs(*args, **kwargs))
