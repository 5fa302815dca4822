"""Recurrent networks from scratch: a vanilla RNN and the GRU, checked against PyTorch (Chapter 4).

All functions take batch-first sequences ``x`` of shape ``(B, T, input_size)`` and a
state ``h`` of shape ``(B, hidden)``, and use PyTorch's weight layout, so the
weights of a ``torch.nn.RNN`` / ``torch.nn.GRU`` can be copied in directly:

* :func:`rnn_cell`, :func:`rnn_forward` -- ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``;
* :func:`gru_cell`, :func:`gru_forward` -- PyTorch's GRU (``W_ih`` stacks the
  reset, update and candidate rows ``[W_ir; W_iz; W_in]``)::

      r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
      z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
      n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
      h_t = (1 - z_t) * n_t + z_t * h_{t-1}

* :func:`gru_cell_textbook` -- the form of seed 002 (and of most textbooks):
  gates from the concatenation ``[h_{t-1}, x_t]``, the reset applied *before* the
  recurrent product, and ``h_t = (1 - z_t) * h_{t-1} + z_t * h~_t``;
* :class:`ScratchGRU` -- a multi-layer GRU module built from :func:`gru_forward`
  whose weights can be copied from ``torch.nn.GRU`` (:meth:`ScratchGRU.from_torch`);
* :func:`lstm_cell`, :func:`lstm_forward` -- PyTorch's LSTM (``W_ih`` stacks the input,
  forget, cell and output rows ``[W_ii; W_if; W_ig; W_io]``)::

      i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
      f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
      g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
      o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
      c_t = f_t * c_{t-1} + i_t * g_t
      h_t = o_t * tanh(c_t)

* :func:`compute_state_gradient_norms` -- how much the last state depends on each
  earlier input: the vanishing (and exploding) gradient, measured. The remedy for the
  exploding one, gradient clipping, is :func:`audiomap_lib.training.core.clip_gradient_norm`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .utils import check_tensor, promote_floats

__all__ = [
    "rnn_cell",
    "rnn_forward",
    "gru_cell",
    "gru_forward",
    "gru_cell_textbook",
    "convert_gru_weights_to_textbook",
    "ScratchGRU",
    "lstm_cell",
    "lstm_forward",
    "compute_state_gradient_norms",
]


def _check_args(shapes: dict[str, tuple[int, str]], **args: object) -> list[Any]:
    """Check each tensor argument (``None`` allowed where the shape string says "or None") and
    give them one float dtype (:func:`audiomap_lib.utils.promote_floats`)."""
    out: list[torch.Tensor | None] = []
    for name, value in args.items():
        ndim, shape = shapes[name]
        if value is None and "None" in shape:
            out.append(None)
            continue
        out.append(check_tensor(value, name, ndim=ndim, shape=shape.replace(" or None", "")))
    return promote_floats(*out)


_STEP = {"x": (2, "(B, input_size)"), "h": (2, "(B, hidden)"), "w_ih": (2, "(gates * hidden, input_size)"),
         "w_hh": (2, "(gates * hidden, hidden)"), "b_ih": (1, "(gates * hidden,) or None"),
         "b_hh": (1, "(gates * hidden,) or None")}
_SEQ = {**_STEP, "x": (3, "(B, T, input_size)"), "h0": (2, "(B, hidden) or None")}


def _check_biases(b_ih: torch.Tensor | None, b_hh: torch.Tensor | None, rows: int) -> None:
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and tuple(b.shape) != (rows,):
            raise ValueError(f"{name} must be None or have shape (gates * hidden,)=({rows},); got {tuple(b.shape)}")


def _check_step(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor, gates: int) -> None:
    if x.ndim != 2 or h.ndim != 2 or x.shape[0] != h.shape[0]:
        raise ValueError(f"x must be (B, input_size) and h (B, hidden) with the same B; got "
                         f"{tuple(x.shape)} and {tuple(h.shape)}")
    hidden = h.shape[1]
    if tuple(w_ih.shape) != (gates * hidden, x.shape[1]) or tuple(w_hh.shape) != (gates * hidden, hidden):
        raise ValueError(f"w_ih must be ({gates}*hidden, input_size)={(gates * hidden, x.shape[1])} and w_hh "
                         f"({gates}*hidden, hidden)={(gates * hidden, hidden)} for x {tuple(x.shape)} and h "
                         f"{tuple(h.shape)}; got {tuple(w_ih.shape)} and {tuple(w_hh.shape)}")


def _check_sequence(x: torch.Tensor, h0: torch.Tensor | None, hidden: int) -> torch.Tensor:
    if x.ndim != 3:
        raise ValueError(f"x must be a batch-first sequence (B, T, input_size); got shape {tuple(x.shape)}")
    if h0 is None:
        return x.new_zeros(x.shape[0], hidden)
    if tuple(h0.shape) != (x.shape[0], hidden):
        raise ValueError(f"h0 must be (B, hidden)={(x.shape[0], hidden)}; got {tuple(h0.shape)}")
    return h0


def rnn_cell(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
             b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None) -> torch.Tensor:
    """One step of a vanilla (Elman) RNN with ``tanh``, as ``torch.nn.RNNCell`` (Chapter 4).

    Args:
        x: input ``(B, input_size)``; h: previous state ``(B, hidden)``.
        w_ih: ``(hidden, input_size)``; w_hh: ``(hidden, hidden)``; b_ih, b_hh: ``(hidden,)`` or ``None``.

    Returns:
        The new state ``(B, hidden)``, values in (-1, 1).
    """
    x, h, w_ih, w_hh, b_ih, b_hh = _check_args(_STEP, x=x, h=h, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    _check_step(x, h, w_ih, w_hh, 1)
    _check_biases(b_ih, b_hh, w_hh.shape[0])
    pre = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        pre = pre + b_ih
    if b_hh is not None:
        pre = pre + b_hh
    return torch.tanh(pre)


def rnn_forward(x: torch.Tensor, h0: torch.Tensor | None, w_ih: torch.Tensor, w_hh: torch.Tensor,
                b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Run :func:`rnn_cell` over a sequence, as a one-layer ``torch.nn.RNN(batch_first=True)`` (Chapter 4).

    Returns:
        ``(outputs, h_last)``: every state ``(B, T, hidden)`` and the last one ``(B, hidden)``.
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = _check_args(_SEQ, x=x, h0=h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    h = _check_sequence(x, h0, w_hh.shape[0])
    outputs = []
    for t in range(x.shape[1]):
        h = rnn_cell(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h


def gru_cell(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
             b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None) -> torch.Tensor:
    """One step of PyTorch's GRU, equal to ``torch.nn.GRUCell`` (Chapter 4).

    Args:
        x: input ``(B, input_size)``; h: previous state ``(B, hidden)``.
        w_ih: ``(3*hidden, input_size)`` = rows ``[W_ir; W_iz; W_in]``;
        w_hh: ``(3*hidden, hidden)`` = rows ``[W_hr; W_hz; W_hn]``;
        b_ih, b_hh: ``(3*hidden,)`` or ``None``.

    Returns:
        The new state ``(B, hidden)``: ``(1 - z) * n + z * h``.
    """
    x, h, w_ih, w_hh, b_ih, b_hh = _check_args(_STEP, x=x, h=h, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    _check_step(x, h, w_ih, w_hh, 3)
    _check_biases(b_ih, b_hh, w_hh.shape[0])
    gi = x @ w_ih.T
    gh = h @ w_hh.T
    if b_ih is not None:
        gi = gi + b_ih
    if b_hh is not None:
        gh = gh + b_hh
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def gru_forward(x: torch.Tensor, h0: torch.Tensor | None, w_ih: torch.Tensor, w_hh: torch.Tensor,
                b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Run :func:`gru_cell` over a sequence, as a one-layer ``torch.nn.GRU(batch_first=True)`` (Chapter 4).

    Returns:
        ``(outputs, h_last)``: every state ``(B, T, hidden)`` and the last one ``(B, hidden)``.
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = _check_args(_SEQ, x=x, h0=h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    h = _check_sequence(x, h0, w_hh.shape[1])
    outputs = []
    for t in range(x.shape[1]):
        h = gru_cell(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h


def gru_cell_textbook(x: torch.Tensor, h: torch.Tensor, w_z: torch.Tensor, w_r: torch.Tensor,
                      w_h: torch.Tensor, b_z: torch.Tensor | None = None, b_r: torch.Tensor | None = None,
                      b_h: torch.Tensor | None = None) -> torch.Tensor:
    """One GRU step in the form of seed 002 and most textbooks (Chapter 4)::

        z_t  = sigmoid(W_z [h_{t-1}, x_t] + b_z)
        r_t  = sigmoid(W_r [h_{t-1}, x_t] + b_r)
        h~_t = tanh(W_h [r_t * h_{t-1}, x_t] + b_h)
        h_t  = (1 - z_t) * h_{t-1} + z_t * h~_t

    Args:
        x: ``(B, input_size)``; h: ``(B, hidden)``.
        w_z, w_r, w_h: ``(hidden, hidden + input_size)`` each (acting on ``[h, x]``);
        b_z, b_r, b_h: ``(hidden,)`` or ``None`` (the seed writes no biases).

    Returns:
        The new state ``(B, hidden)``.
    """
    shapes = {"x": (2, "(B, input_size)"), "h": (2, "(B, hidden)"), "w_z": (2, "(hidden, hidden + input_size)"),
              "w_r": (2, "(hidden, hidden + input_size)"), "w_h": (2, "(hidden, hidden + input_size)"),
              "b_z": (1, "(hidden,) or None"), "b_r": (1, "(hidden,) or None"), "b_h": (1, "(hidden,) or None")}
    x, h, w_z, w_r, w_h, b_z, b_r, b_h = _check_args(shapes, x=x, h=h, w_z=w_z, w_r=w_r, w_h=w_h, b_z=b_z, b_r=b_r, b_h=b_h)
    if x.ndim != 2 or h.ndim != 2 or x.shape[0] != h.shape[0]:
        raise ValueError(f"x must be (B, input_size) and h (B, hidden); got {tuple(x.shape)}, {tuple(h.shape)}")
    want = (h.shape[1], h.shape[1] + x.shape[1])
    for name, b in (("b_z", b_z), ("b_r", b_r), ("b_h", b_h)):
        if b is not None and tuple(b.shape) != (h.shape[1],):
            raise ValueError(f"{name} must be None or have shape (hidden,)=({h.shape[1]},); got {tuple(b.shape)}")
    for name, w in (("w_z", w_z), ("w_r", w_r), ("w_h", w_h)):
        if tuple(w.shape) != want:
            raise ValueError(f"{name} must be (hidden, hidden + input_size)={want}; got {tuple(w.shape)}")

    def affine(w: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor) -> torch.Tensor:
        return v @ w.T + (b if b is not None else 0)

    hx = torch.cat([h, x], dim=1)
    z = torch.sigmoid(affine(w_z, b_z, hx))
    r = torch.sigmoid(affine(w_r, b_r, hx))
    h_tilde = torch.tanh(affine(w_h, b_h, torch.cat([r * h, x], dim=1)))
    return (1 - z) * h + z * h_tilde


def convert_gru_weights_to_textbook(
    w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Map PyTorch GRU weights to the textbook form of :func:`gru_cell_textbook` (Chapter 4).

    The update gate is re-parameterised exactly: ``sigmoid(-a) = 1 - sigmoid(a)``,
    so negating its weights swaps the roles of ``z`` and ``1 - z``. The reset gate
    cannot be mapped exactly: PyTorch multiplies ``r`` *after* the product
    ``W_hn h + b_hn``, the textbook *before* it. The two cells agree when every
    reset gate is open (``r = 1``) and differ otherwise: same size, different functions.

    Returns:
        ``{"w_z", "w_r", "w_h", "b_z", "b_r", "b_h"}`` with shapes ``(hidden, hidden + input_size)``
        and ``(hidden,)``.
    """
    i_r, i_z, i_n = w_ih.chunk(3, dim=0)
    h_r, h_z, h_n = w_hh.chunk(3, dim=0)
    bi_r, bi_z, bi_n = b_ih.chunk(3)
    bh_r, bh_z, bh_n = b_hh.chunk(3)
    return {
        "w_z": -torch.cat([h_z, i_z], dim=1),
        "w_r": torch.cat([h_r, i_r], dim=1),
        "w_h": torch.cat([h_n, i_n], dim=1),
        "b_z": -(bi_z + bh_z),
        "b_r": bi_r + bh_r,
        "b_h": bi_n + bh_n,
    }


class ScratchGRU(nn.Module):
    """A (multi-layer, unidirectional, batch-first) GRU built from :func:`gru_forward` (Chapter 4).

    It has the same parameters, names and shapes as ``torch.nn.GRU(input_size,
    hidden_size, num_layers, batch_first=True)``, so :meth:`from_torch` copies one
    in and both compute the same outputs, final states and gradients. It is slow
    (a Python loop over time); the course trains with ``torch.nn.GRU`` once the
    two are shown equal.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        bound = hidden_size ** -0.5
        for layer in range(num_layers):
            size_in = input_size if layer == 0 else hidden_size
            for name, shape in ((f"weight_ih_l{layer}", (3 * hidden_size, size_in)),
                                (f"weight_hh_l{layer}", (3 * hidden_size, hidden_size)),
                                (f"bias_ih_l{layer}", (3 * hidden_size,)),
                                (f"bias_hh_l{layer}", (3 * hidden_size,))):
                self.register_parameter(name, nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    @classmethod
    def from_torch(cls, gru: nn.GRU) -> ScratchGRU:
        """A :class:`ScratchGRU` holding a copy of ``gru``'s weights (``gru`` must be batch-first,
        unidirectional, with biases)."""
        if not gru.batch_first or gru.bidirectional or not gru.bias:
            raise ValueError("gru must be batch_first=True, bidirectional=False, bias=True")
        out = cls(gru.input_size, gru.hidden_size, gru.num_layers)
        out.load_state_dict(gru.state_dict())
        return out.to(next(gru.parameters()).dtype)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the GRU.

        Args:
            x: ``(B, T, input_size)``; h0: ``(num_layers, B, hidden)`` or ``None`` (zeros).

        Returns:
            ``(outputs, h_n)``: the last layer's states ``(B, T, hidden)`` and every
            layer's final state ``(num_layers, B, hidden)``, as ``torch.nn.GRU``.
        """
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"x must be (B, T, input_size={self.input_size}); got {tuple(x.shape)}")
        finals = []
        out = x
        for layer in range(self.num_layers):
            h = None if h0 is None else h0[layer]
            out, h_last = gru_forward(out, h, getattr(self, f"weight_ih_l{layer}"),
                                      getattr(self, f"weight_hh_l{layer}"),
                                      getattr(self, f"bias_ih_l{layer}"), getattr(self, f"bias_hh_l{layer}"))
            finals.append(h_last)
        return out, torch.stack(finals)


def compute_state_gradient_norms(
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    h0: torch.Tensor,
) -> torch.Tensor:
    """How strongly the *last* state depends on each input: ``||d sum(h_T) / d x_t||`` for every ``t`` (Chapter 4).

    Args:
        step: one recurrence step ``step(x_t (B, input), h (B, hidden)) -> h_new``, e.g.
            ``lambda x, h: rnn_cell(x, h, w_ih, w_hh)``.
        x: the input sequence ``(B, T, input_size)``.
        h0: the first state ``(B, hidden)``, e.g. ``torch.zeros(B, hidden)``.

    Returns:
        ``float`` tensor ``(T,)``: the gradient norm (over batch and features) for each input step;
        small values at early ``t`` mean the last state has "forgotten" them (a vanishing gradient).
    """
    if x.ndim != 3:
        raise ValueError(f"x must be (B, T, input_size); got {tuple(x.shape)}")
    if h0.ndim != 2 or h0.shape[0] != x.shape[0]:
        raise ValueError(f"h0 must be (B={x.shape[0]}, hidden); got {tuple(h0.shape)}")
    x = x.detach().clone().requires_grad_(True)
    h = h0
    for t in range(x.shape[1]):
        h = step(x[:, t], h)
    (grad,) = torch.autograd.grad(h.sum(), x)
    return grad.norm(dim=(0, 2)).detach()


def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of PyTorch's LSTM, equal to ``torch.nn.LSTMCell`` (Chapter 4).

    Args:
        x: input ``(B, input_size)``; h: previous output state ``(B, hidden)``;
        c: previous cell state ``(B, hidden)``.
        w_ih: ``(4*hidden, input_size)`` = rows ``[W_ii; W_if; W_ig; W_io]`` (input, forget,
            cell candidate, output); w_hh: ``(4*hidden, hidden)`` in the same order;
        b_ih, b_hh: ``(4*hidden,)`` or ``None``.

    Returns:
        ``(h_new, c_new)``, each ``(B, hidden)``: ``c_new = f * c + i * g`` and
        ``h_new = o * tanh(c_new)``.
    """
    x, h, w_ih, w_hh, b_ih, b_hh = _check_args(_STEP, x=x, h=h, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    _check_step(x, h, w_ih, w_hh, 4)
    _check_biases(b_ih, b_hh, w_hh.shape[0])
    c = check_tensor(c, "c", ndim=2, shape="(B, hidden)")
    if c.shape != h.shape:
        raise ValueError(f"c must have the shape of h {tuple(h.shape)}; got {tuple(c.shape)}")
    c = c.to(h.dtype)
    gates = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        gates = gates + b_ih
    if b_hh is not None:
        gates = gates + b_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


def lstm_forward(x: torch.Tensor, h0: torch.Tensor | None, c0: torch.Tensor | None, w_ih: torch.Tensor,
                 w_hh: torch.Tensor, b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None,
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Run :func:`lstm_cell` over a sequence, as a one-layer ``torch.nn.LSTM(batch_first=True)`` (Chapter 4).

    Args:
        x: ``(B, T, input_size)``; h0, c0: ``(B, hidden)`` or ``None`` (zeros).
        w_ih, w_hh, b_ih, b_hh: as :func:`lstm_cell`.

    Returns:
        ``(outputs, (h_last, c_last))``: every output state ``(B, T, hidden)`` and the last
        output and cell states ``(B, hidden)`` each, as ``torch.nn.LSTM`` returns them (without
        its layer dimension).
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = _check_args(_SEQ, x=x, h0=h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    h = _check_sequence(x, h0, w_hh.shape[1])
    if c0 is None:
        c = torch.zeros_like(h)
    else:
        c = check_tensor(c0, "c0", ndim=2, shape="(B, hidden)")
        if c.shape != h.shape:
            raise ValueError(f"c0 must be (B, hidden)={tuple(h.shape)}; got {tuple(c.shape)}")
    outputs = []
    for t in range(x.shape[1]):
        h, c = lstm_cell(x[:, t], h, c, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (h, c)

