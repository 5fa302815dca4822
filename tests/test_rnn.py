"""Chapter 4 (audiomap_lib.rnn): the from-scratch RNN and GRU equal PyTorch's layers."""
from __future__ import annotations

import pytest
import torch

from audiomap_lib import rnn, training

B, T, IN, H = 3, 9, 5, 4


def _x(seed: int = 0) -> torch.Tensor:
    return torch.randn(B, T, IN, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _grads(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: p.grad.clone() for k, p in module.named_parameters()}


def test_rnn_forward_equals_nn_rnn_values_and_gradients() -> None:
    torch.manual_seed(0)
    ref = torch.nn.RNN(IN, H, batch_first=True).double()
    x = _x()
    h0 = torch.randn(B, H, dtype=torch.float64)
    out_ref, h_ref = ref(x, h0.unsqueeze(0))
    out, h = rnn.rnn_forward(x, h0, ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0)
    torch.testing.assert_close(out, out_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h, h_ref[0], rtol=1e-12, atol=1e-12)
    (out_ref.pow(2).sum() + h_ref.sum()).backward()
    g_ref = _grads(ref)
    ref.zero_grad()
    out, h = rnn.rnn_forward(x, h0, ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0)
    (out.pow(2).sum() + h.sum()).backward()
    for k, g in _grads(ref).items():
        torch.testing.assert_close(g, g_ref[k], rtol=1e-10, atol=1e-12)


def test_gru_cell_equals_nn_grucell() -> None:
    torch.manual_seed(1)
    cell = torch.nn.GRUCell(IN, H).double()
    x, h = _x()[:, 0], torch.randn(B, H, dtype=torch.float64)
    torch.testing.assert_close(rnn.gru_cell(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh),
                               cell(x, h), rtol=1e-12, atol=1e-12)
    # without biases too
    cell_nb = torch.nn.GRUCell(IN, H, bias=False).double()
    torch.testing.assert_close(rnn.gru_cell(x, h, cell_nb.weight_ih, cell_nb.weight_hh), cell_nb(x, h))


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_scratch_gru_equals_nn_gru_outputs_states_gradients(layers: int) -> None:
    torch.manual_seed(layers)
    ref = torch.nn.GRU(IN, H, num_layers=layers, batch_first=True).double()
    ours = rnn.ScratchGRU.from_torch(ref)
    x = _x(layers)
    h0 = torch.randn(layers, B, H, dtype=torch.float64)
    out_ref, h_ref = ref(x, h0)
    out, h = ours(x, h0)
    torch.testing.assert_close(out, out_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h, h_ref, rtol=1e-12, atol=1e-12)
    target = torch.randn_like(out_ref)
    ((out_ref - target).pow(2).sum() + h_ref.sum()).backward()
    ((out - target).pow(2).sum() + h.sum()).backward()
    g_ref, g = _grads(ref), _grads(ours)
    assert set(g) == set(g_ref)
    for k in g:
        torch.testing.assert_close(g[k], g_ref[k], rtol=1e-10, atol=1e-12)


def test_gru_forward_zero_initial_state_is_default() -> None:
    ref = torch.nn.GRU(IN, H, batch_first=True).double()
    out_ref, _ = ref(_x(3))
    out, _ = rnn.gru_forward(_x(3), None, ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0)
    torch.testing.assert_close(out, out_ref)


def test_textbook_gru_matches_pytorch_when_reset_gates_are_open_only() -> None:
    torch.manual_seed(4)
    cell = torch.nn.GRUCell(IN, H).double()
    x, h = _x()[:, 0], torch.randn(B, H, dtype=torch.float64)
    w = rnn.convert_gru_weights_to_textbook(cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    diff = (rnn.gru_cell_textbook(x, h, **w) - cell(x, h)).abs().max()
    assert diff > 1e-3, "the two variants should differ in general (reset before vs after the product)"
    with torch.no_grad():  # open every reset gate: r = sigmoid(large) = 1
        cell.weight_ih[:H].zero_()
        cell.weight_hh[:H].zero_()
        cell.bias_ih[:H].fill_(50.0)
    w = rnn.convert_gru_weights_to_textbook(cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(rnn.gru_cell_textbook(x, h, **w), cell(x, h), rtol=1e-9, atol=1e-9)


def test_textbook_gru_update_rule_by_hand() -> None:
    # z = 1 makes the new state the candidate; z = 0 keeps the old state.
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    zeros = torch.zeros(4, 7, dtype=torch.float64)
    w_h = torch.randn(4, 7, dtype=torch.float64)
    keep = rnn.gru_cell_textbook(x, h, zeros, zeros, w_h, b_z=torch.full((4,), -60.0, dtype=torch.float64))
    torch.testing.assert_close(keep, h)
    new = rnn.gru_cell_textbook(x, h, zeros, zeros, w_h, b_z=torch.full((4,), 60.0, dtype=torch.float64))
    r_h = 0.5 * h  # r = sigmoid(0) = 0.5
    torch.testing.assert_close(new, torch.tanh(torch.cat([r_h, x], 1) @ w_h.T))


def test_state_gradient_norms_equal_autograd_through_nn_rnn_and_vanish() -> None:
    torch.manual_seed(5)
    ref = torch.nn.RNN(IN, H, batch_first=True, bias=False).double()
    x = _x(5)
    norms = rnn.compute_state_gradient_norms(
        lambda xt, h: rnn.rnn_cell(xt, h, ref.weight_ih_l0, ref.weight_hh_l0), x, torch.zeros(B, H, dtype=torch.float64))
    xx = x.clone().requires_grad_(True)
    _, h = ref(xx)
    (g,) = torch.autograd.grad(h.sum(), xx)
    torch.testing.assert_close(norms, g.norm(dim=(0, 2)))
    assert norms.shape == (T,)
    long = torch.randn(2, 60, IN, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        ref.weight_hh_l0.mul_(0.5)
    n = rnn.compute_state_gradient_norms(
        lambda xt, h: rnn.rnn_cell(xt, h, ref.weight_ih_l0, ref.weight_hh_l0), long, torch.zeros(2, H, dtype=torch.float64))
    assert n[0] < 1e-6 * n[-1]


def test_bad_inputs_name_the_argument() -> None:
    w_ih, w_hh = torch.randn(3 * H, IN), torch.randn(3 * H, H)
    with pytest.raises(ValueError, match="w_ih"):
        rnn.gru_cell(torch.randn(B, IN + 1), torch.randn(B, H), w_ih, w_hh)
    with pytest.raises(ValueError, match="h0"):
        rnn.gru_forward(torch.randn(B, T, IN), torch.randn(B + 1, H), w_ih, w_hh)
    with pytest.raises(ValueError, match=r"\(B, T, input_size\)"):
        rnn.gru_forward(torch.randn(T, IN), None, w_ih, w_hh)
    with pytest.raises(ValueError, match="bidirectional"):
        rnn.ScratchGRU.from_torch(torch.nn.GRU(IN, H, batch_first=True, bidirectional=True))
    with pytest.raises(ValueError, match="w_z"):
        rnn.gru_cell_textbook(torch.randn(B, IN), torch.randn(B, H), torch.randn(H, H), torch.randn(H, H + IN), torch.randn(H, H + IN))


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_forward_equals_nn_lstm_values_and_gradients(bias: bool) -> None:
    torch.manual_seed(5)
    ref = torch.nn.LSTM(IN, H, batch_first=True, bias=bias).double()
    x = _x(5)
    h0, c0 = torch.randn(B, H, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    biases = (ref.bias_ih_l0, ref.bias_hh_l0) if bias else (None, None)
    out_ref, (h_ref, c_ref) = ref(x, (h0[None], c0[None]))
    out, (h, c) = rnn.lstm_forward(x, h0, c0, ref.weight_ih_l0, ref.weight_hh_l0, *biases)
    for ours, theirs in ((out, out_ref), (h, h_ref[0]), (c, c_ref[0])):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    (out_ref.pow(2).sum() + c_ref.sum()).backward()
    g_ref = _grads(ref)
    ref.zero_grad()
    out, (h, c) = rnn.lstm_forward(x, h0, c0, ref.weight_ih_l0, ref.weight_hh_l0, *biases)
    (out.pow(2).sum() + c.sum()).backward()
    for k, g in _grads(ref).items():
        torch.testing.assert_close(g, g_ref[k], rtol=1e-10, atol=1e-12)


def test_lstm_cell_equals_nn_lstmcell_and_zero_state_is_default() -> None:
    torch.manual_seed(6)
    cell = torch.nn.LSTMCell(IN, H).double()
    x, h, c = _x(6)[:, 0], torch.randn(B, H, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    h_ref, c_ref = cell(x, (h, c))
    h_new, c_new = rnn.lstm_cell(x, h, c, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(h_new, h_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(c_new, c_ref, rtol=1e-12, atol=1e-12)
    ref = torch.nn.LSTM(IN, H, batch_first=True).double()
    w = (ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0)
    zeros = torch.zeros(B, H, dtype=torch.float64)
    torch.testing.assert_close(rnn.lstm_forward(_x(7), None, None, *w)[0], rnn.lstm_forward(_x(7), zeros, zeros, *w)[0])
    with pytest.raises(ValueError, match="4\\*hidden"):
        rnn.lstm_cell(x, h, c, torch.randn(3 * H, IN), torch.randn(3 * H, H))
    with pytest.raises(ValueError, match="c0"):
        rnn.lstm_forward(_x(7), zeros, torch.zeros(B, H + 1), *w)
    with pytest.raises(ValueError, match="c must"):
        rnn.lstm_cell(x, h, torch.zeros(B + 1, H), *w)


@pytest.mark.parametrize("max_norm", [1e-3, 0.5, 1e6])
def test_clip_gradient_norm_equals_torch_clip_grad_norm(max_norm: float) -> None:
    torch.manual_seed(8)
    nets = [torch.nn.GRU(IN, H, batch_first=True).double() for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    for net in nets:
        out, _ = net(_x(8))
        out.pow(3).sum().backward()
    nets[0].bias_hh_l0.grad = None  # a parameter without a gradient is skipped by both
    nets[1].bias_hh_l0.grad = None
    total_ref = torch.nn.utils.clip_grad_norm_(nets[0].parameters(), max_norm)
    total = training.clip_gradient_norm(nets[1].parameters(), max_norm)
    torch.testing.assert_close(total, total_ref, rtol=1e-12, atol=0)
    for (name, p_ref), (_, p) in zip(nets[0].named_parameters(), nets[1].named_parameters()):
        if p_ref.grad is None:
            assert p.grad is None, name
        else:
            torch.testing.assert_close(p.grad, p_ref.grad, rtol=1e-12, atol=1e-15)
    after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in nets[1].parameters() if p.grad is not None]))
    assert after <= max_norm * (1 + 1e-9) or max_norm > total


def test_clip_gradient_norm_rejects_bad_max_norm_and_handles_no_gradients() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    assert float(training.clip_gradient_norm([p], 1.0)) == 0.0
    for bad in (0, -1.0, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError, match="max_norm"):
            training.clip_gradient_norm([p], bad)  # type: ignore[arg-type]


def test_state_gradient_norms_explode_when_the_recurrent_matrix_grows() -> None:
    # in the nearly linear regime (small inputs) the Jacobian is about W_hh: spectral radius
    # below 1 shrinks the gradient geometrically with the lag, above 1 it grows
    q, _ = torch.linalg.qr(torch.randn(H, H, generator=torch.Generator().manual_seed(9), dtype=torch.float64))
    x = 1e-4 * _x(9)
    w_ih = torch.eye(H, IN, dtype=torch.float64)
    n_small = rnn.compute_state_gradient_norms(lambda xt, h: rnn.rnn_cell(xt, h, w_ih, 0.5 * q), x, torch.zeros(B, H, dtype=torch.float64))
    n_big = rnn.compute_state_gradient_norms(lambda xt, h: rnn.rnn_cell(xt, h, w_ih, 1.5 * q), x, torch.zeros(B, H, dtype=torch.float64))
    torch.testing.assert_close(n_small[0] / n_small[-1], torch.tensor(0.5 ** (T - 1), dtype=torch.float64), rtol=1e-3, atol=0)
    torch.testing.assert_close(n_big[0] / n_big[-1], torch.tensor(1.5 ** (T - 1), dtype=torch.float64), rtol=1e-3, atol=0)
