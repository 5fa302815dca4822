"""Attention from scratch: masks, additive (Bahdanau) and scaled dot-product attention (Chapter 5).

Shapes follow PyTorch's own attention function: a batch of queries ``(..., L_q, d)``
attends over keys ``(..., L_k, d)`` and values ``(..., L_k, d_v)``. A *mask* is a
boolean tensor that is ``True`` where a key may be attended to (a real frame) and
``False`` where it may not (padding) -- the convention of
:func:`torch.nn.functional.scaled_dot_product_attention` for boolean masks.

* :func:`make_length_mask` -- lengths to a ``(B, T)`` mask of real frames;
* :func:`masked_softmax` -- softmax that gives masked positions exactly zero weight;
* :func:`compute_masked_mean` -- mean pooling over the real frames only;
* :func:`additive_attention` -- the seed's equations:
  ``e_j = v^T tanh(W_1 s + W_2 h_j)``, ``alpha = softmax(e)``, ``c = sum_j alpha_j h_j``;
* :func:`scaled_dot_product_attention` -- ``softmax(Q K^T / sqrt(d)) V``;
* :func:`multi_head_attention` -- ``h`` heads of scaled dot-product attention side by side, each
  on its own slice of learned projections, equal to ``torch.nn.MultiheadAttention``;
* :func:`compute_sinusoidal_positions` -- the Transformer's positional encoding, which gives
  attention the order of its inputs back;
* :func:`transformer_encoder_layer` -- one Transformer encoder layer (self-attention and a
  feed-forward network, each with a residual connection and layer normalisation), equal to
  ``torch.nn.TransformerEncoderLayer``; :class:`TransformerEncoderLayer` holds its weights;
* :class:`AdditiveAttention` and :class:`AttentionPooling` -- the same as ``nn.Module``\\ s,
  the latter pooling a sequence of states into one vector for classification.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .utils import check_non_negative_int, check_positive_int, check_real, check_tensor, promote_floats

__all__ = [
    "make_length_mask",
    "masked_softmax",
    "compute_masked_mean",
    "additive_attention",
    "scaled_dot_product_attention",
    "multi_head_attention",
    "compute_sinusoidal_positions",
    "TRANSFORMER_ACTIVATIONS",
    "transformer_encoder_layer",
    "AdditiveAttention",
    "AttentionPooling",
    "TransformerEncoderLayer",
]

TRANSFORMER_ACTIVATIONS: tuple[str, ...] = ("relu", "gelu")
"""The non-linearities of the feed-forward network of :func:`transformer_encoder_layer` (PyTorch's two)."""


def make_length_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """A boolean mask of the real (unpadded) steps of each sequence.

    Args:
        lengths: ``(B,)`` integers, each in ``1 .. max_len``.
        max_len: the padded length ``T``; ``None`` means ``max(lengths)``.

    Returns:
        ``bool`` tensor ``(B, T)``: ``mask[b, t]`` is ``True`` for ``t < lengths[b]``.

    Raises:
        TypeError: ``lengths`` is not an integer tensor (a float length would be truncated).
        ValueError: ``lengths`` is not 1-D, or holds a value < 1 or > ``max_len``.
    """
    lengths = check_tensor(lengths, "lengths", ndim=1, kind="int", allow_empty=True, allow_sequence=True, shape="(B,)")
    if max_len is None:
        max_len = int(lengths.max()) if lengths.numel() else 0
    else:
        max_len = check_non_negative_int(max_len, "max_len")
    if lengths.numel() and (int(lengths.min()) < 1 or int(lengths.max()) > max_len):
        raise ValueError(f"lengths must lie in 1..max_len={max_len}; got min {int(lengths.min())}, "
                         f"max {int(lengths.max())}")
    return torch.arange(max_len, device=lengths.device) < lengths.unsqueeze(-1)


def compute_masked_mean(x: torch.Tensor, lengths: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Mean over the real (unpadded) steps of each sequence: mean pooling (Chapter 5; used in 4 and 6).

    ``out[b] = sum_{t < lengths[b]} x[b, ..., t, ...] / lengths[b]``: padded steps
    count neither in the sum nor in the divisor.

    Args:
        x: a batch with the batch on axis 0 and time on axis ``dim``, e.g.
            ``(B, T, H)`` with ``dim=1`` (GRU states) or ``(B, C, T)`` with ``dim=-1``
            (conv feature maps).
        lengths: ``(B,)`` integers, each in ``1 .. T``.
        dim: the time axis (not 0).

    Returns:
        ``x.dtype`` tensor: ``x``'s shape without axis ``dim``, e.g. ``(B, H)`` or ``(B, C)``.

    Raises:
        ValueError: ``dim`` is the batch axis, or ``lengths`` is not ``(B,)`` in ``1 .. T``.
    """
    x = check_tensor(x, "x", allow_empty=True, shape="(B, ..., T, ...)")
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an int axis; got {dim!r}")
    dim = int(dim)
    if x.ndim < 2 or not -x.ndim <= dim < x.ndim or dim % x.ndim == 0:
        raise ValueError(f"dim must name a time axis other than the batch axis 0 of x {tuple(x.shape)}; got dim={dim}")
    dim = dim % x.ndim
    lengths = check_tensor(lengths, "lengths", ndim=1, kind="int", allow_empty=True, allow_sequence=True,
                           shape="(B,)").to(x.device)
    if lengths.shape != (x.shape[0],):
        raise ValueError(f"lengths must have shape (B,) = ({x.shape[0]},) for x of shape {tuple(x.shape)}; got {tuple(lengths.shape)}")
    mask = make_length_mask(lengths, x.shape[dim]).to(x.dtype)  # (B, T)
    shape = [x.shape[0]] + [1] * (x.ndim - 1)
    shape[dim] = x.shape[dim]
    total = (x * mask.view(shape)).sum(dim)
    return total / lengths.to(x.dtype).view([-1] + [1] * (total.ndim - 1))


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None = None, dim: int = -1) -> torch.Tensor:
    """Softmax along ``dim`` in which masked-out positions get weight exactly 0.

    Args:
        scores: any float tensor.
        mask: boolean, broadcastable to ``scores``; ``True`` = may be attended to.
            Every slice along ``dim`` must keep at least one ``True``.
        dim: the axis the weights sum to 1 along.

    Returns:
        Weights shaped like ``scores``, non-negative, summing to 1 along ``dim``.

    Raises:
        ValueError: a non-boolean mask, or a slice with nothing left to attend to.
    """
    scores = check_tensor(scores, "scores", allow_empty=True)
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)) \
            or not -max(scores.ndim, 1) <= dim < max(scores.ndim, 1):
        raise ValueError(f"dim must be an axis of scores {tuple(scores.shape)}; got {dim!r}")
    dim = int(dim)
    if mask is None:
        return torch.softmax(scores, dim=dim)
    if isinstance(mask, torch.Tensor) and mask.dtype != torch.bool:
        raise ValueError(f"mask must be a boolean tensor (True = attend); got dtype {mask.dtype}")
    mask = check_tensor(mask, "mask", kind="bool", allow_empty=True)
    try:
        mask = mask.expand_as(scores)
    except RuntimeError:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not broadcast to scores {tuple(scores.shape)}") from None
    if not bool(mask.any(dim=dim).all()):
        raise ValueError("mask leaves a row with nothing to attend to (all False along the softmax axis)")
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=dim)


def additive_attention(
    query: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    w_query: torch.Tensor,
    w_key: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Additive (Bahdanau) attention of one query over a sequence (Chapter 5).

    ``e_j = v^T tanh(W_q s + W_k h_j)``, ``alpha = softmax(e)`` over real steps,
    ``c = sum_j alpha_j v_j`` (``s`` = query, ``h_j`` = keys, values usually = keys).

    Args:
        query: ``(B, d_q)`` (the decoder state ``s_{i-1}`` of the seed's equations).
        keys: ``(B, T, d_k)`` (the encoder states ``h_j``).
        values: ``(B, T, d_v)``.
        w_query: ``(d_a, d_q)``; w_key: ``(d_a, d_k)``; v: ``(d_a,)``.
        mask: ``(B, T)`` boolean, ``True`` on real steps; ``None``: all real.

    Returns:
        ``(context, weights)``: ``(B, d_v)`` and ``(B, T)`` (zero on masked steps).
    """
    query = check_tensor(query, "query", ndim=2, shape="(B, d_q)")
    keys = check_tensor(keys, "keys", ndim=3, shape="(B, T, d_k)")
    values = check_tensor(values, "values", ndim=3, shape="(B, T, d_v)")
    w_query = check_tensor(w_query, "w_query", ndim=2, shape="(d_a, d_q)")
    w_key = check_tensor(w_key, "w_key", ndim=2, shape="(d_a, d_k)")
    v = check_tensor(v, "v", ndim=1, shape="(d_a,)")
    query, keys, values, w_query, w_key, v = promote_floats(query, keys, values, w_query, w_key, v)
    if w_query.shape[1] != query.shape[1] or w_key.shape[1] != keys.shape[2] or not w_query.shape[0] == w_key.shape[0] == v.shape[0]:
        raise ValueError(f"w_query must be (d_a, d_q), w_key (d_a, d_k) and v (d_a,) for query {tuple(query.shape)} "
                         f"and keys {tuple(keys.shape)}; got {tuple(w_query.shape)}, {tuple(w_key.shape)}, {tuple(v.shape)}")
    if keys.shape[:2] != values.shape[:2] or query.shape[0] != keys.shape[0]:
        raise ValueError(f"batch and time sizes must agree: query {tuple(query.shape)}, keys "
                         f"{tuple(keys.shape)}, values {tuple(values.shape)}")
    scores = torch.tanh((query @ w_query.T).unsqueeze(1) + keys @ w_key.T) @ v  # (B, T)
    weights = masked_softmax(scores, mask, dim=-1)
    context = (weights.unsqueeze(-1) * values).sum(1)
    return context, weights


def scaled_dot_product_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention ``softmax(Q K^T / sqrt(d)) V`` (Chapter 5).

    Equals :func:`torch.nn.functional.scaled_dot_product_attention` with a boolean
    ``attn_mask`` (no dropout, not causal), and also returns the weights.

    Args:
        query: ``(..., L_q, d)``; key: ``(..., L_k, d)``; value: ``(..., L_k, d_v)``.
        mask: boolean, broadcastable to ``(..., L_q, L_k)``; ``True`` = may attend.

    Returns:
        ``(output, weights)``: ``(..., L_q, d_v)`` and ``(..., L_q, L_k)``.
    """
    query = check_tensor(query, "query", ndim=(2, 3, 4), shape="(..., L_q, d)")
    key = check_tensor(key, "key", ndim=(2, 3, 4), shape="(..., L_k, d)")
    value = check_tensor(value, "value", ndim=(2, 3, 4), shape="(..., L_k, d_v)")
    query, key, value = promote_floats(query, key, value)
    try:
        torch.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except RuntimeError:
        raise ValueError(f"query, key and value must have broadcastable batch sizes; got {tuple(query.shape)}, "
                         f"{tuple(key.shape)} and {tuple(value.shape)}") from None
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"query and key must share their last size d; got {tuple(query.shape)} and {tuple(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"key and value must have the same length L_k; got {tuple(key.shape)} and {tuple(value.shape)}")
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    weights = masked_softmax(scores, mask, dim=-1)
    return weights @ value, weights


def multi_head_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    n_heads: int,
    in_proj_weight: torch.Tensor,
    in_proj_bias: torch.Tensor | None,
    out_proj_weight: torch.Tensor,
    out_proj_bias: torch.Tensor | None,
    mask: torch.Tensor | None = None,
    average_weights: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head attention from scaled dot-product attention (Vaswani et al. 2017; Chapter 5).

    ``Q = query W_q^T + b_q``, ``K = key W_k^T + b_k``, ``V = value W_v^T + b_v`` (the three
    blocks of ``in_proj_weight``, as ``torch.nn.MultiheadAttention`` stores them); each of the
    ``n_heads`` heads takes its own ``E / n_heads`` columns and runs
    :func:`scaled_dot_product_attention`; the heads' outputs are concatenated and projected by
    ``out_proj``. Equals ``nn.MultiheadAttention(E, n_heads, batch_first=True)`` with the same
    weights (no dropout).

    Args:
        query: ``(B, L_q, E)``; key, value: ``(B, L_k, E)``.
        n_heads: number of heads; must divide ``E``.
        in_proj_weight: ``(3E, E)``; in_proj_bias: ``(3E,)`` or ``None``.
        out_proj_weight: ``(E, E)``; out_proj_bias: ``(E,)`` or ``None``.
        mask: boolean ``(B, L_k)``, ``True`` where a key may be attended to (a real frame, as
            :func:`make_length_mask` gives). PyTorch's ``key_padding_mask`` is its negation.
        average_weights: return the weights averaged over the heads (PyTorch's default) or per head.

    Returns:
        ``(output (B, L_q, E), weights)``: weights ``(B, L_q, L_k)``, or ``(B, n_heads, L_q, L_k)``.
    """
    query = check_tensor(query, "query", ndim=3, shape="(B, L_q, E)")
    key = check_tensor(key, "key", ndim=3, shape="(B, L_k, E)")
    value = check_tensor(value, "value", ndim=3, shape="(B, L_k, E)")
    b, l_q, e = query.shape
    n_heads = check_non_negative_int(n_heads, "n_heads")
    if n_heads < 1 or e % n_heads:
        raise ValueError(f"n_heads must be a positive divisor of the embedding size E={e}; got {n_heads}")
    if key.shape[0] != b or value.shape[0] != b or key.shape[-1] != e or value.shape[-1] != e or key.shape[1] != value.shape[1]:
        raise ValueError(f"key and value must have shape (B, L_k, E) = ({b}, L_k, {e}) with one L_k; got "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    w_in = check_tensor(in_proj_weight, "in_proj_weight", ndim=2, shape="(3E, E)")
    w_out = check_tensor(out_proj_weight, "out_proj_weight", ndim=2, shape="(E, E)")
    if w_in.shape != (3 * e, e):
        raise ValueError(f"in_proj_weight must have shape (3E, E) = ({3 * e}, {e}); got {tuple(w_in.shape)}")
    if w_out.shape != (e, e):
        raise ValueError(f"out_proj_weight must have shape (E, E) = ({e}, {e}); got {tuple(w_out.shape)}")
    b_in = None if in_proj_bias is None else check_tensor(in_proj_bias, "in_proj_bias", ndim=1, shape="(3E,)")
    b_out = None if out_proj_bias is None else check_tensor(out_proj_bias, "out_proj_bias", ndim=1, shape="(E,)")
    if b_in is not None and b_in.shape != (3 * e,):
        raise ValueError(f"in_proj_bias must have shape (3E,) = ({3 * e},); got {tuple(b_in.shape)}")
    if b_out is not None and b_out.shape != (e,):
        raise ValueError(f"out_proj_bias must have shape (E,) = ({e},); got {tuple(b_out.shape)}")
    if mask is not None:
        mask = check_tensor(mask, "mask", kind="bool", ndim=2, shape="(B, L_k)")
        if mask.shape != (b, key.shape[1]):
            raise ValueError(f"mask must have shape (B, L_k) = ({b}, {key.shape[1]}); got {tuple(mask.shape)}")
        mask = mask[:, None, None, :]  # (B, 1, 1, L_k): the same keys for every head and query
    biases = (None, None, None) if b_in is None else b_in.chunk(3)
    heads = []
    for x, w, bias in zip((query, key, value), w_in.chunk(3), biases):
        y = torch.nn.functional.linear(x, w, bias)  # (B, L, E)
        heads.append(y.reshape(b, y.shape[1], n_heads, e // n_heads).transpose(1, 2))  # (B, h, L, E / h)
    out, weights = scaled_dot_product_attention(heads[0], heads[1], heads[2], mask)  # (B, h, L_q, E / h)
    out = torch.nn.functional.linear(out.transpose(1, 2).reshape(b, l_q, e), w_out, b_out)
    return out, (weights.mean(1) if average_weights else weights)


def compute_sinusoidal_positions(n_positions: int, d_model: int, base: float = 10000.0,
                                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Sinusoidal positional encoding of Vaswani et al. (2017) (Chapter 5).

    ``PE[t, 2i] = sin(t / base^(2i/d))`` and ``PE[t, 2i+1] = cos(t / base^(2i/d))``: each pair of
    columns is a point turning on a circle at its own angular speed ``base^(-2i/d)`` radians per
    step, so moving ``k`` steps is the same rotation for every ``t``.

    Args:
        n_positions: number of positions ``T`` (steps 0 .. T-1).
        d_model: size of each encoding (even, >= 2).
        base: the longest wavelength is ``2 pi base`` steps.
        dtype: a floating dtype.

    Returns:
        ``(n_positions, d_model)``, values in [-1, 1]; added to the frames ``(..., T, d_model)``.
    """
    n_positions = check_non_negative_int(n_positions, "n_positions")
    d_model = check_non_negative_int(d_model, "d_model")
    if d_model < 2 or d_model % 2:
        raise ValueError(f"d_model must be an even integer >= 2 (sine and cosine pairs); got {d_model}")
    if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)) or not math.isfinite(base) or base <= 1:
        raise ValueError(f"base must be a finite number > 1; got {base!r}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch dtype; got {dtype!r}")
    t = torch.arange(n_positions, dtype=torch.float64).unsqueeze(1)
    speed = float(base) ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # radians per step
    pe = torch.empty(n_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(t * speed)
    pe[:, 1::2] = torch.cos(t * speed)
    return pe.to(dtype)


def transformer_encoder_layer(
    x: torch.Tensor,
    n_heads: int,
    in_proj_weight: torch.Tensor,
    in_proj_bias: torch.Tensor | None,
    out_proj_weight: torch.Tensor,
    out_proj_bias: torch.Tensor | None,
    linear1_weight: torch.Tensor,
    linear1_bias: torch.Tensor | None,
    linear2_weight: torch.Tensor,
    linear2_bias: torch.Tensor | None,
    norm1_weight: torch.Tensor,
    norm1_bias: torch.Tensor | None,
    norm2_weight: torch.Tensor,
    norm2_bias: torch.Tensor | None,
    mask: torch.Tensor | None = None,
    norm_first: bool = False,
    activation: str = "relu",
    eps: float = 1e-5,
    dropout: float = 0.0,
    training: bool = False,
) -> torch.Tensor:
    """One Transformer encoder layer (Vaswani et al. 2017) from :func:`multi_head_attention` (Chapter 5).

    Self-attention (every frame queries every real frame) and a two-layer feed-forward network
    applied to each frame alone, ``FF(z) = W_2 act(W_1 z + b_1) + b_2``; each is a residual
    branch with layer normalisation ``LN``, after the sum (``norm_first=False``, the original
    "post-norm" layer) or before the branch (``norm_first=True``, "pre-norm")::

        post-norm:  y = LN_1(x + SA(x));      out = LN_2(y + FF(y))
        pre-norm:   y = x + SA(LN_1(x));      out = y + FF(LN_2(y))

    The weights have the names and layout of ``torch.nn.TransformerEncoderLayer``'s
    ``state_dict`` (``self_attn.in_proj_weight`` is ``in_proj_weight`` here, ``linear1.weight``
    is ``linear1_weight`` ...), and the result equals ``nn.TransformerEncoderLayer(E, n_heads,
    F, batch_first=True)`` with the same weights, ``activation`` and ``norm_first``, without
    dropout (``dropout=0.0`` or in ``eval()`` mode).

    Args:
        x: frames ``(B, T, E)``.
        n_heads: attention heads; must divide ``E``.
        in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias: the self-attention's
            weights, as :func:`multi_head_attention`: ``(3E, E)``, ``(3E,)``, ``(E, E)``, ``(E,)``.
        linear1_weight, linear1_bias: ``(F, E)`` and ``(F,)``, ``F`` the feed-forward width.
        linear2_weight, linear2_bias: ``(E, F)`` and ``(E,)``.
        norm1_weight, norm1_bias, norm2_weight, norm2_bias: the layer norms' scales and shifts, ``(E,)``.
            Every bias may be ``None`` (PyTorch's ``bias=False``).
        mask: boolean ``(B, T)``, ``True`` on real frames (:func:`make_length_mask`); no frame
            attends to padding. PyTorch's ``src_key_padding_mask`` is its negation. ``None``: all real.
        norm_first: pre-norm (``True``) or post-norm (``False``, PyTorch's default).
        activation: one of :data:`TRANSFORMER_ACTIVATIONS`.
        eps: the layer norms' epsilon (> 0).
        dropout: probability in ``[0, 1)`` of dropping a value at PyTorch's three places (the
            attention branch, after the activation, the feed-forward branch); only with ``training``.
            (PyTorch's layer also drops attention weights; this one does not.)
        training: apply ``dropout``.

    Returns:
        ``(B, T, E)``: one vector per frame (padded frames get values too, computed from the
        real frames only; pool them away with :func:`compute_masked_mean`).

    Raises:
        ValueError: shapes that do not fit together, an unknown ``activation``, a bad ``eps`` or
            ``dropout``; the message names the argument.
    """
    x = check_tensor(x, "x", ndim=3, shape="(B, T, E)")
    e = x.shape[-1]
    names = ("in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias", "linear1_weight", "linear1_bias",
             "linear2_weight", "linear2_bias", "norm1_weight", "norm1_bias", "norm2_weight", "norm2_bias")
    given = (in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, linear1_weight, linear1_bias,
             linear2_weight, linear2_bias, norm1_weight, norm1_bias, norm2_weight, norm2_bias)
    w1 = check_tensor(linear1_weight, "linear1_weight", ndim=2, shape="(F, E)")
    f = w1.shape[0]
    wanted = {"in_proj_weight": (3 * e, e), "in_proj_bias": (3 * e,), "out_proj_weight": (e, e), "out_proj_bias": (e,),
              "linear1_weight": (f, e), "linear1_bias": (f,), "linear2_weight": (e, f), "linear2_bias": (e,),
              "norm1_weight": (e,), "norm1_bias": (e,), "norm2_weight": (e,), "norm2_bias": (e,)}
    weights: dict[str, torch.Tensor | None] = {}
    for name, value in zip(names, given):
        if value is None:
            if name.endswith("_weight"):
                raise ValueError(f"{name} must be a tensor of shape {wanted[name]}; got None")
            weights[name] = None
            continue
        t = check_tensor(value, name, ndim=len(wanted[name]), shape=str(wanted[name]))
        if tuple(t.shape) != wanted[name]:
            raise ValueError(f"{name} must have shape {wanted[name]} for x of shape {tuple(x.shape)} "
                             f"(E={e}, F={f}); got {tuple(t.shape)}")
        weights[name] = t
    n_heads = check_non_negative_int(n_heads, "n_heads")
    if n_heads < 1 or e % n_heads:
        raise ValueError(f"n_heads must be a positive divisor of the embedding size E={e}; got {n_heads}")
    if mask is not None:
        mask = check_tensor(mask, "mask", kind="bool", ndim=2, shape="(B, T)")
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise ValueError(f"mask must have shape (B, T) = {tuple(x.shape[:2])}; got {tuple(mask.shape)}")
    if not isinstance(norm_first, (bool, np.bool_)):
        raise ValueError(f"norm_first must be True or False; got {norm_first!r}")
    if not isinstance(activation, str) or activation not in TRANSFORMER_ACTIVATIONS:
        raise ValueError(f"activation must be one of {TRANSFORMER_ACTIVATIONS}; got {activation!r}")
    eps = check_real(eps, "eps", 0.0, low_open=True)
    p = check_real(dropout, "dropout", 0.0, 1.0, high_open=True)
    if not isinstance(training, (bool, np.bool_)):
        raise ValueError(f"training must be True or False; got {training!r}")
    x, *tensors = promote_floats(x, *weights.values())
    w = dict(zip(names, tensors))
    act = torch.nn.functional.relu if activation == "relu" else torch.nn.functional.gelu

    def drop(z: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.dropout(z, p, training=bool(training)) if p else z

    def self_attention(z: torch.Tensor) -> torch.Tensor:
        out, _ = multi_head_attention(z, z, z, n_heads, w["in_proj_weight"], w["in_proj_bias"],
                                      w["out_proj_weight"], w["out_proj_bias"], mask=mask)
        return drop(out)

    def feed_forward(z: torch.Tensor) -> torch.Tensor:
        hidden = drop(act(torch.nn.functional.linear(z, w["linear1_weight"], w["linear1_bias"])))  # (B, T, F)
        return drop(torch.nn.functional.linear(hidden, w["linear2_weight"], w["linear2_bias"]))

    def norm(z: torch.Tensor, i: int) -> torch.Tensor:
        return torch.nn.functional.layer_norm(z, (e,), w[f"norm{i}_weight"], w[f"norm{i}_bias"], eps)

    if norm_first:
        x = x + self_attention(norm(x, 1))
        return x + feed_forward(norm(x, 2))
    x = norm(x + self_attention(x), 1)
    return norm(x + feed_forward(x), 2)


class AdditiveAttention(nn.Module):
    """:func:`additive_attention` with learned ``W_q``, ``W_k`` and ``v`` (Chapter 5).

    Args:
        query_dim, key_dim: sizes ``d_q`` and ``d_k``; attn_dim: the hidden size ``d_a``.
    """

    def __init__(self, query_dim: int, key_dim: int, attn_dim: int = 64) -> None:
        super().__init__()
        self.w_query = nn.Parameter(torch.empty(attn_dim, query_dim))
        self.w_key = nn.Parameter(torch.empty(attn_dim, key_dim))
        self.v = nn.Parameter(torch.empty(attn_dim))
        nn.init.xavier_uniform_(self.w_query)
        nn.init.xavier_uniform_(self.w_key)
        nn.init.normal_(self.v, std=attn_dim ** -0.5)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(context (B, d_v), weights (B, T))``; values default to the keys."""
        return additive_attention(query, keys, keys if values is None else values,
                                  self.w_query, self.w_key, self.v, mask)


class AttentionPooling(nn.Module):
    """Pool a sequence of states ``(B, T, d)`` into one vector ``(B, d)`` with attention weights (Chapter 5).

    The query asks "which frames matter for the class?":

    * ``query="learned"``: one learned query vector shared by every clip;
    * ``query="middle"``: a linear map of the state at each clip's middle real frame
      (the keyword-spotting design of de Andrade et al., 2018).

    The score of each frame is ``"dot"`` (scaled dot product of the query with a
    linear map of the state) or ``"additive"`` (:func:`additive_attention`).

    Args:
        dim: state size ``d``; query, score: as above; attn_dim: size of the additive hidden layer.
    """

    def __init__(self, dim: int, query: str = "learned", score: str = "dot", attn_dim: int = 64) -> None:
        super().__init__()
        if query not in ("learned", "middle"):
            raise ValueError(f"query must be 'learned' or 'middle'; got {query!r}")
        if score not in ("dot", "additive"):
            raise ValueError(f"score must be 'dot' or 'additive'; got {score!r}")
        self.query_kind, self.score_kind = query, score
        self.query = nn.Parameter(torch.randn(dim) * dim ** -0.5) if query == "learned" else None
        self.query_proj = nn.Linear(dim, dim) if query == "middle" else None
        self.key_proj = nn.Linear(dim, dim) if score == "dot" else None
        self.additive = AdditiveAttention(dim, dim, attn_dim) if score == "additive" else None

    def forward(self, states: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(pooled (B, d), weights (B, T))``; weights are zero on masked frames."""
        if states.ndim != 3:
            raise ValueError(f"states must be (B, T, d); got {tuple(states.shape)}")
        b, t, _ = states.shape
        if mask is None:
            mask = torch.ones(b, t, dtype=torch.bool, device=states.device)
        if self.query is not None:
            q = self.query.expand(b, -1)
        else:
            middle = (mask.sum(1) - 1) // 2
            assert self.query_proj is not None  # query == "middle"
            q = self.query_proj(states[torch.arange(b, device=states.device), middle])
        if self.additive is not None:
            return self.additive(q, states, states, mask)
        assert self.key_proj is not None  # score == "dot"
        out, weights = scaled_dot_product_attention(q.unsqueeze(1), self.key_proj(states), states,
                                                    mask.unsqueeze(1))
        return out.squeeze(1), weights.squeeze(1)


class _SelfAttentionWeights(nn.Module):
    """The weights of ``nn.MultiheadAttention`` under its names (``in_proj_weight``, ``out_proj``), initialised as it does."""

    def __init__(self, d_model: int, bias: bool) -> None:
        super().__init__()
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model)) if bias else None
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)
        if self.out_proj.bias is not None:
            nn.init.zeros_(self.out_proj.bias)


class TransformerEncoderLayer(nn.Module):
    """The weights of :func:`transformer_encoder_layer`, as an ``nn.Module`` (Chapter 5).

    Parameters have the names of ``torch.nn.TransformerEncoderLayer`` (``self_attn.in_proj_weight``,
    ``self_attn.out_proj.weight``, ``linear1.weight``, ``norm1.weight`` ...) and its initialisation,
    so a PyTorch layer's ``state_dict`` loads into this one (:meth:`from_torch`). Inputs are
    always batch-first.

    Args:
        d_model: the frame size ``E``.
        n_heads: attention heads (a divisor of ``d_model``).
        dim_feedforward: the feed-forward width ``F``.
        dropout: as in :func:`transformer_encoder_layer`, during training only.
        activation: one of :data:`TRANSFORMER_ACTIVATIONS`.
        norm_first: pre-norm (``True``) or post-norm (``False``).
        eps: the layer norms' epsilon.
        bias: give every linear map and layer norm a bias (PyTorch's ``bias``).
    """

    def __init__(self, d_model: int, n_heads: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", norm_first: bool = False, eps: float = 1e-5, bias: bool = True) -> None:
        super().__init__()
        d_model = check_positive_int(d_model, "d_model")
        n_heads = check_positive_int(n_heads, "n_heads")
        if d_model % n_heads:
            raise ValueError(f"n_heads must divide d_model={d_model}; got {n_heads}")
        dim_feedforward = check_positive_int(dim_feedforward, "dim_feedforward")
        if not isinstance(activation, str) or activation not in TRANSFORMER_ACTIVATIONS:
            raise ValueError(f"activation must be one of {TRANSFORMER_ACTIVATIONS}; got {activation!r}")
        if not isinstance(norm_first, (bool, np.bool_)):
            raise ValueError(f"norm_first must be True or False; got {norm_first!r}")
        if not isinstance(bias, (bool, np.bool_)):
            raise ValueError(f"bias must be True or False; got {bias!r}")
        self.n_heads, self.activation, self.norm_first = n_heads, activation, bool(norm_first)
        self.dropout = check_real(dropout, "dropout", 0.0, 1.0, high_open=True)
        self.eps = check_real(eps, "eps", 0.0, low_open=True)
        self.self_attn = _SelfAttentionWeights(d_model, bias)
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias)
        self.norm1 = nn.LayerNorm(d_model, eps=self.eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=self.eps, bias=bias)

    @classmethod
    def from_torch(cls, layer: nn.TransformerEncoderLayer) -> TransformerEncoderLayer:
        """A copy of a ``torch.nn.TransformerEncoderLayer`` (its weights, dtype and device; ``relu``
        or ``gelu``), which then computes what ``layer`` computes with ``batch_first=True``.

        Raises:
            TypeError: ``layer`` is not an ``nn.TransformerEncoderLayer``.
            ValueError: its activation is neither ``relu`` nor ``gelu``.
        """
        if not isinstance(layer, nn.TransformerEncoderLayer):
            raise TypeError(f"layer must be a torch.nn.TransformerEncoderLayer; got {type(layer).__name__}")
        kind = getattr(layer, "activation_relu_or_gelu", 0)
        if kind not in (1, 2):
            raise ValueError(f"layer must use activation 'relu' or 'gelu'; got {layer.activation!r}")
        weight = layer.self_attn.in_proj_weight
        ours = cls(layer.self_attn.embed_dim, layer.self_attn.num_heads, layer.linear1.out_features,
                   dropout=float(layer.dropout.p), activation=TRANSFORMER_ACTIVATIONS[kind - 1],
                   norm_first=bool(layer.norm_first), eps=float(layer.norm1.eps),
                   bias=layer.self_attn.in_proj_bias is not None)
        ours.to(device=weight.device, dtype=weight.dtype)
        ours.load_state_dict(layer.state_dict())
        return ours

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, T, E)`` frames, ``mask`` ``(B, T)`` ``True`` on real frames -> ``(B, T, E)``."""
        sa = self.self_attn
        return transformer_encoder_layer(
            x, self.n_heads, sa.in_proj_weight, sa.in_proj_bias, sa.out_proj.weight, sa.out_proj.bias,
            self.linear1.weight, self.linear1.bias, self.linear2.weight, self.linear2.bias,
            self.norm1.weight, self.norm1.bias, self.norm2.weight, self.norm2.bias, mask=mask,
            norm_first=self.norm_first, activation=self.activation, eps=self.eps, dropout=self.dropout,
            training=self.training)
