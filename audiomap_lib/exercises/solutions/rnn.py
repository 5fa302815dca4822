"""Chapter 4: the worked solutions of the exercises graded in :mod:`audiomap_lib.exercises.rnn` (teacher edition only)."""
from __future__ import annotations

import math

import torch

__all__ = [
    "solution_rnn_step",
    "solution_gru_update",
    "solution_gru_cell",
    "solution_gru_parameter_count",
    "solution_last_real_state",
    "solution_textbook_update_gate",
    "solution_half_life_steps",
    "solution_clip_gradients",
]


def solution_rnn_step(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                      b: torch.Tensor) -> torch.Tensor:
    """h_new = tanh(W_ih x + W_hh h + b) for a batch: x (B, I), h (B, H) -> (B, H)."""
    return torch.tanh(x @ w_ih.T + h @ w_hh.T + b)


def solution_gru_update(z: torch.Tensor, n: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """PyTorch's GRU update: z close to 1 keeps the old state h, close to 0 takes the candidate n."""
    return (1 - z) * n + z * h


def solution_gru_cell(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                      b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One torch.nn.GRUCell step from its weights (rows: reset, update, candidate)."""
    i_r, i_z, i_n = (x @ w_ih.T + b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)  # the reset gate acts AFTER the recurrent product
    return (1 - z) * n + z * h


def solution_gru_parameter_count(input_size: int, hidden: int, layers: int = 1, bidirectional: bool = False) -> int:
    """Weights of torch.nn.GRU: per layer and direction 3 gates x (W_ih, W_hh, b_ih, b_hh)."""
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(layers):
        size_in = input_size if layer == 0 else hidden * directions
        total += directions * 3 * (hidden * size_in + hidden * hidden + 2 * hidden)
    return total


def solution_last_real_state(states: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """states (B, T, H), lengths (B,) -> (B, H): the state at step lengths[b] - 1 of each clip."""
    batch = torch.arange(states.shape[0])
    return states[batch, lengths - 1]


def solution_textbook_update_gate(w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor,
                                  b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights ``(w_z (H, H + I), b_z (H,))`` of the textbook update gate, which reads ``[h, x]`` and
    must equal ``1 - z`` of PyTorch's GRU: ``sigmoid(-a) = 1 - sigmoid(a)``, so negate PyTorch's."""
    _, i_z, _ = w_ih.chunk(3, dim=0)
    _, h_z, _ = w_hh.chunk(3, dim=0)
    return -torch.cat([h_z, i_z], dim=1), -(b_ih.chunk(3)[1] + b_hh.chunk(3)[1])


def solution_half_life_steps(z: float) -> int:
    """Smallest t with z**t <= 1/2: a state updated by h <- z h + (1 - z) * 0 halves after t steps."""
    return math.ceil(math.log(0.5) / math.log(z) - 1e-9)


def solution_clip_gradients(grads: list[torch.Tensor], max_norm: float) -> list[torch.Tensor]:
    """Copies of ``grads`` scaled by one factor so that their global L2 norm is at most ``max_norm``."""
    total = math.sqrt(sum(float(g.pow(2).sum()) for g in grads))
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads]
