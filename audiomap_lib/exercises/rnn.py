"""Chapter 4 (Gated recurrent units): exercises with automatic checks and worked solutions."""
from __future__ import annotations

from collections.abc import Callable

import torch

from .core import Case, ExerciseResult, _rand, compare_values, register, run_cases

__all__ = [
    "grade_rnn_step",
    "grade_gru_update",
    "grade_gru_cell",
    "grade_gru_parameter_count",
    "grade_last_real_state",
    "grade_textbook_update_gate",
    "grade_half_life_steps",
    "grade_clip_gradients",
]


# ---- Exercise "rnn_step": one step of a vanilla RNN


def _rnn_step_cases() -> list[Case]:
    cases = []
    for label, b, i, h, seed in [("one clip", 1, 3, 2, 0), ("a batch", 4, 5, 3, 1), ("wide state", 2, 2, 8, 2)]:
        cell = torch.nn.RNNCell(i, h).double()
        with torch.no_grad():
            cell.bias_hh.zero_()
        x, state = _rand(b, i, seed=seed), _rand(b, h, seed=seed + 10)
        with torch.no_grad():
            expected = cell(x, state)
        cases.append(Case(label, (x, state, cell.weight_ih.detach(), cell.weight_hh.detach(), cell.bias_ih.detach()),
                          expected=expected))
    return cases


@register("rnn_step", 4, "one vanilla RNN step")
def grade_rnn_step(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x, h, w_ih, w_hh, b)`` -> ``(B, H)`` against ``torch.nn.RNNCell``."""
    return run_cases("rnn_step", fn, _rnn_step_cases(),
                     hint="rows of x are clips: multiply by the transposed weights (x @ w_ih.T), then tanh.")


# ---- Exercise "gru_update": PyTorch's state update


def _gru_update_cases() -> list[Case]:
    h, n = _rand(2, 4, seed=3), _rand(2, 4, seed=4)
    z = torch.sigmoid(_rand(2, 4, seed=5))
    return [
        Case("z = 1 keeps the old state", (torch.ones(2, 4, dtype=torch.float64), n, h), expected=h.clone()),
        Case("z = 0 takes the candidate", (torch.zeros(2, 4, dtype=torch.float64), n, h), expected=n.clone()),
        Case("random gates", (z, n, h), expected=(1 - z) * n + z * h),
    ]


@register("gru_update", 4, "PyTorch's GRU state update")
def grade_gru_update(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(z, n, h)`` -> the new state, PyTorch's convention (not the seed's)."""
    return run_cases("gru_update", fn, _gru_update_cases(),
                     hint="in torch.nn.GRU the update gate z weights the OLD state: h_new = (1 - z) * n + z * h.")


# ---- Exercise "gru_cell": PyTorch's GRU cell from its weights


def _gru_cell_cases() -> list[Case]:
    cases = []
    for label, b, i, hsz, seed in [("one clip", 1, 3, 2, 6), ("a batch", 5, 4, 3, 7), ("40 mel bands in", 2, 40, 6, 8)]:
        torch.manual_seed(seed)
        cell = torch.nn.GRUCell(i, hsz).double()
        x, h = _rand(b, i, seed=seed), _rand(b, hsz, seed=seed + 20)
        with torch.no_grad():
            expected = cell(x, h)
        params = tuple(p.detach() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
        cases.append(Case(label, (x, h) + params, expected=expected))
    return cases


@register("gru_cell", 4, "PyTorch's GRU cell from its weights")
def grade_gru_cell(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(x, h, w_ih, w_hh, b_ih, b_hh)`` -> ``(B, H)`` against ``torch.nn.GRUCell``."""
    return run_cases("gru_cell", fn, _gru_cell_cases(),
                     hint="split x @ w_ih.T + b_ih and h @ w_hh.T + b_hh into 3 chunks (r, z, n); "
                          "r multiplies (W_hn h + b_hn), and h_new = (1 - z) * n + z * h.")


# ---- Exercise "gru_parameter_count"


def _count_cases() -> list[Case]:
    grid = [(40, 64, 1, False), (40, 64, 2, False), (13, 32, 1, True), (40, 128, 3, True), (1, 1, 1, False)]
    cases = []
    for i, hsz, layers, bi in grid:
        gru = torch.nn.GRU(i, hsz, num_layers=layers, bidirectional=bi)
        cases.append(Case(f"input {i}, hidden {hsz}, {layers} layer(s), bidirectional={bi}",
                          (i, hsz, layers, bi), expected=sum(p.numel() for p in gru.parameters())))
    return cases


@register("gru_parameter_count", 4, "count a GRU's weights")
def grade_gru_parameter_count(fn: Callable[..., int]) -> ExerciseResult:
    """Grade ``fn(input_size, hidden, layers=1, bidirectional=False)`` -> ``int`` against ``torch.nn.GRU``."""
    return run_cases("gru_parameter_count", fn, _count_cases(),
                     hint="PyTorch has two bias vectors per gate (b_ih and b_hh); a layer above a "
                          "bidirectional layer sees 2 * hidden inputs.")


# ---- Exercise "last_real_state": the state at each clip's last real frame


def _last_cases() -> list[Case]:
    s = _rand(4, 6, 3, seed=30)
    lengths = torch.tensor([6, 1, 3, 5])
    return [
        Case("no padding", (s, torch.full((4,), 6)), expected=s[:, -1].clone()),
        Case("padded clips", (s, lengths), expected=torch.stack([s[b, n - 1] for b, n in enumerate(lengths.tolist())])),
        Case("one clip", (s[:1], torch.tensor([2])), expected=s[:1, 1].clone()),
    ]


@register("last_real_state", 4, "the last real state of padded sequences")
def grade_last_real_state(fn: Callable[..., torch.Tensor]) -> ExerciseResult:
    """Grade ``fn(states (B, T, H), lengths (B,))`` -> ``(B, H)``."""
    return run_cases("last_real_state", fn, _last_cases(),
                     hint="states[:, -1] reads padding for short clips; index each row at lengths - 1.")


# ---- Exercise "textbook_update_gate": a derivation, checked on random GRUs


def _textbook_gate_cases() -> list[Case]:
    from ..rnn import convert_gru_weights_to_textbook

    cases = []
    for label, i, hsz, seed in [("2 inputs, 3 units", 2, 3, 40), ("40 mel bands, 8 units", 40, 8, 41)]:
        torch.manual_seed(seed)
        cell = torch.nn.GRUCell(i, hsz).double()
        params = tuple(p.detach() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
        ref = convert_gru_weights_to_textbook(*params)
        cases.append(Case(label, params, expected=(ref["w_z"], ref["b_z"])))
    return cases


def _compare_update_gate(expected: tuple[torch.Tensor, torch.Tensor], got: object) -> str | None:
    """Check the defining property on random inputs, then the weights themselves."""
    if not (isinstance(got, tuple) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got)):
        return "expected a tuple (w_z, b_z) of two tensors"
    w_z, b_z = got
    if w_z.shape != expected[0].shape or b_z.shape != expected[1].shape:
        return (f"wrong shapes: expected w_z {tuple(expected[0].shape)} (it reads [h, x]) and b_z "
                f"{tuple(expected[1].shape)}, got {tuple(w_z.shape)} and {tuple(b_z.shape)}")
    hx = _rand(5, w_z.shape[1], seed=42)
    want = torch.sigmoid(hx @ expected[0].T + expected[1])  # = 1 - z of PyTorch
    have = torch.sigmoid(hx @ w_z.double().T + b_z.double())
    if not torch.allclose(have, want, atol=1e-8):
        return (f"sigmoid(w_z [h, x] + b_z) is not 1 - z of PyTorch's gate (largest gap "
                f"{float((have - want).abs().max()):.3g}); check the sign and the order [h, x]")
    return None


@register("textbook_update_gate", 4, "derive the textbook update gate from PyTorch's")
def grade_textbook_update_gate(fn: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> ExerciseResult:
    """Grade ``fn(w_ih, w_hh, b_ih, b_hh)`` -> ``(w_z (H, H + I), b_z (H,))``: on random inputs
    ``sigmoid(w_z @ [h, x] + b_z)`` must equal ``1 - z`` of ``torch.nn.GRUCell``."""
    return run_cases("textbook_update_gate", fn, _textbook_gate_cases(), compare=_compare_update_gate,
                     hint="PyTorch stacks its gates as (r, z, n); the update gate's rows are the middle third. "
                          "1 - sigmoid(a) = sigmoid(-a).")


# ---- Exercise "half_life_steps": how long a GRU keeps its state, derived and simulated


def _half_life_cases() -> list[Case]:
    cases = []
    for z in (0.5, 0.9, 0.99, 0.999, 0.25):
        h, t = torch.ones(1, dtype=torch.float64), 0
        while float(h) > 0.5:  # simulate PyTorch's update with a zero candidate
            h = z * h + (1 - z) * torch.zeros_like(h)  # PyTorch's update h' = (1 - z) n + z h, n = 0
            t += 1
        cases.append(Case(f"z = {z}", (z,), expected=t))
    return cases


@register("half_life_steps", 4, "derive how long a gate keeps the state")
def grade_half_life_steps(fn: Callable[[float], int]) -> ExerciseResult:
    """Grade ``fn(z)`` -> ``int`` against a simulation of ``h <- (1 - z) * 0 + z * h`` from ``h = 1``."""
    return run_cases("half_life_steps", fn, _half_life_cases(),
                     hint="after t steps the state is z**t; solve z**t <= 1/2 for the smallest whole t "
                          "(logarithms, and round up).")


# ---- Exercise "clip_gradients": clipping by the global norm


def _torch_clipped(grads: list[torch.Tensor], max_norm: float) -> list[torch.Tensor]:
    """The reference: ``torch.nn.utils.clip_grad_norm_`` on parameters that carry copies of ``grads``."""
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params if p.grad is not None]


def _clip_cases() -> list[Case]:
    big = [_rand(4, 3, seed=40) * 10, _rand(5, seed=41) * 10]
    small = [_rand(3, seed=42) * 1e-3, _rand(2, 2, seed=43) * 1e-3]
    uneven = [_rand(6, seed=44) * 100, _rand(6, seed=45) * 1e-2]
    cases = []
    for label, grads, max_norm in [("two large gradients, threshold 1", big, 1.0),
                                   ("small gradients are left alone", small, 5.0),
                                   ("one huge and one tiny gradient: one factor for both", uneven, 0.5),
                                   ("a single tensor", big[:1], 2.0)]:
        cases.append(Case(label, ([g.clone() for g in grads], max_norm), expected=_torch_clipped(grads, max_norm)))
    return cases


def _compare_tensor_lists(expected: list[torch.Tensor], got: object) -> str | None:
    if not isinstance(got, (list, tuple)) or len(got) != len(expected):
        return f"expected a list of {len(expected)} tensors (one per gradient), got {type(got).__name__}" + (
            f" of length {len(got)}" if isinstance(got, (list, tuple)) else "")
    for i, (e, g) in enumerate(zip(expected, got)):
        problem = compare_values(e, g)
        if problem:
            return f"gradient {i}: {problem}"
    return None


@register("clip_gradients", 4, "clip gradients by their global norm")
def grade_clip_gradients(fn: Callable[[list[torch.Tensor], float], list[torch.Tensor]]) -> ExerciseResult:
    """Grade ``fn(grads, max_norm)`` -> clipped copies against ``torch.nn.utils.clip_grad_norm_``."""
    return run_cases("clip_gradients", fn, _clip_cases(), compare=_compare_tensor_lists,
                     hint="compute ONE norm over all tensors together (square root of the sum of all squared "
                          "entries), then multiply every tensor by min(1, max_norm / (norm + 1e-6)).")
