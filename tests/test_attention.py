"""Chapter 5 (audiomap_lib.attention): masks, additive and scaled dot-product attention."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from audiomap_lib import attention as att


def test_length_mask() -> None:
    m = att.make_length_mask(torch.tensor([1, 3, 2]), 4)
    assert m.dtype == torch.bool
    assert m.tolist() == [[True, False, False, False], [True, True, True, False], [True, True, False, False]]
    assert att.make_length_mask(torch.tensor([2, 5])).shape == (2, 5)
    with pytest.raises(ValueError, match="lengths"):
        att.make_length_mask(torch.tensor([0, 2]), 3)
    with pytest.raises(ValueError, match="lengths"):
        att.make_length_mask(torch.tensor([[2]]), 3)


def test_masked_softmax_zero_on_masked_and_sums_to_one() -> None:
    s = torch.randn(4, 6)
    mask = att.make_length_mask(torch.tensor([6, 1, 3, 4]), 6)
    w = att.masked_softmax(s, mask)
    assert torch.all(w[~mask] == 0)
    torch.testing.assert_close(w.sum(-1), torch.ones(4))
    torch.testing.assert_close(w[2, :3], torch.softmax(s[2, :3], -1))
    with pytest.raises(ValueError, match="nothing to attend"):
        att.masked_softmax(s, torch.zeros(4, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="boolean"):
        att.masked_softmax(s, mask.float())


@pytest.mark.parametrize("masked", [False, True])
def test_scaled_dot_product_equals_torch_values_and_gradients(masked: bool) -> None:
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 5, 8, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 3, 7, 8, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 3, 7, 6, generator=g, dtype=torch.float64, requires_grad=True)
    mask = att.make_length_mask(torch.tensor([7, 3]), 7)[:, None, None, :] if masked else None
    ours, weights = att.scaled_dot_product_attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-10)
    assert weights.shape == (2, 3, 5, 7)
    if masked:
        assert torch.all(weights[1, ..., 3:] == 0)
    go = torch.randn_like(ref)
    g_ours = torch.autograd.grad(ours, (q, k, v), go)
    g_ref = torch.autograd.grad(ref, (q, k, v), go)
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


def test_additive_attention_hand_computed() -> None:
    # one query, three steps, d_a = 2: every number below is worked out by hand / numpy loops
    query = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    keys = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], dtype=torch.float64)
    w_q = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    w_k = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    v = torch.tensor([1.0, 1.0], dtype=torch.float64)
    e = [math.tanh(1 + 2 * kx) + math.tanh(-1 + ky) for kx, ky in keys[0].tolist()]
    alpha = np.exp(e) / np.exp(e).sum()
    ctx, w = att.additive_attention(query, keys, keys, w_q, w_k, v)
    np.testing.assert_allclose(w[0].numpy(), alpha, rtol=1e-12)
    np.testing.assert_allclose(ctx[0].numpy(), alpha @ keys[0].numpy(), rtol=1e-12)
    # masking the last step renormalises over the first two
    ctx_m, w_m = att.additive_attention(query, keys, keys, w_q, w_k, v, mask=torch.tensor([[True, True, False]]))
    np.testing.assert_allclose(w_m[0, :2].numpy(), np.exp(e[:2]) / np.exp(e[:2]).sum(), rtol=1e-12)
    assert w_m[0, 2] == 0


def test_additive_attention_batched_equals_loop() -> None:
    g = torch.Generator().manual_seed(1)
    q, keys, vals = torch.randn(3, 4, generator=g), torch.randn(3, 6, 5, generator=g), torch.randn(3, 6, 2, generator=g)
    w_q, w_k, v = torch.randn(7, 4, generator=g), torch.randn(7, 5, generator=g), torch.randn(7, generator=g)
    mask = att.make_length_mask(torch.tensor([6, 2, 4]), 6)
    ctx, w = att.additive_attention(q, keys, vals, w_q, w_k, v, mask)
    for b in range(3):
        n = int(mask[b].sum())
        e = torch.stack([v @ torch.tanh(w_q @ q[b] + w_k @ keys[b, j]) for j in range(n)])
        a = torch.softmax(e, 0)
        torch.testing.assert_close(w[b, :n], a)
        torch.testing.assert_close(ctx[b], (a[:, None] * vals[b, :n]).sum(0))
    with pytest.raises(ValueError, match="keys"):
        att.additive_attention(q, keys[0], vals, w_q, w_k, v)


@pytest.mark.parametrize("query,score", [("learned", "dot"), ("middle", "dot"), ("learned", "additive"), ("middle", "additive")])
def test_attention_pooling_ignores_padding(query: str, score: str) -> None:
    torch.manual_seed(2)
    pool = att.AttentionPooling(6, query=query, score=score).eval()
    states = torch.randn(2, 5, 6)
    mask = att.make_length_mask(torch.tensor([5, 3]), 5)
    out, w = pool(states, mask)
    assert out.shape == (2, 6) and w.shape == (2, 5)
    torch.testing.assert_close(w.sum(-1), torch.ones(2))
    garbage = states.clone()
    garbage[1, 3:] = 100.0
    out2, _ = pool(garbage, mask)
    torch.testing.assert_close(out, out2)
    alone, _ = pool(states[1:, :3], None)
    torch.testing.assert_close(alone[0], out[1], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="query"):
        att.AttentionPooling(6, query="first")


def test_compute_masked_mean_ignores_padding() -> None:
    x = torch.randn(3, 6, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    out = att.compute_masked_mean(x, lengths)
    assert out.shape == (3, 2) and out.dtype == torch.float64
    expected = torch.stack([x[b, :n].mean(0) for b, n in enumerate(lengths.tolist())])
    torch.testing.assert_close(out, expected)
    # time on the last axis, (B, C, T)
    torch.testing.assert_close(att.compute_masked_mean(x.transpose(1, 2), lengths, dim=-1), expected)
    with pytest.raises(ValueError, match="dim"):
        att.compute_masked_mean(x, lengths, dim=0)
    with pytest.raises(ValueError, match="lengths must"):
        att.compute_masked_mean(x, torch.tensor([7, 1, 1]))


def test_sinusoidal_positions_follow_the_formula_and_shift_by_rotation():
    from audiomap_lib.attention import compute_sinusoidal_positions
    from audiomap_lib.exercises.solutions import solution_positional_shift

    pe = compute_sinusoidal_positions(50, 12, dtype=torch.float64)
    t, i = np.arange(50)[:, None], np.arange(12)[None, :]
    angle = t / 10000.0 ** (2 * (i // 2) / 12)
    np.testing.assert_allclose(pe.numpy(), np.where(i % 2 == 0, np.sin(angle), np.cos(angle)), atol=1e-12)
    assert compute_sinusoidal_positions(50, 12).dtype == torch.float32
    m = solution_positional_shift(7, 12)  # moving 7 steps is one matrix for every t
    torch.testing.assert_close(pe[:43] @ m.T, pe[7:], atol=1e-10, rtol=0)
    assert compute_sinusoidal_positions(0, 4).shape == (0, 4)


@pytest.mark.parametrize("kwargs, match", [(dict(n_positions=5, d_model=3), "even"), (dict(n_positions=5, d_model=0), "even"),
                                           (dict(n_positions=-1, d_model=4), "n_positions"),
                                           (dict(n_positions=5, d_model=4, base=1.0), "base"),
                                           (dict(n_positions=5, d_model=4, dtype=torch.int64), "dtype")])
def test_sinusoidal_positions_refuse_bad_arguments(kwargs, match):
    from audiomap_lib.attention import compute_sinusoidal_positions

    with pytest.raises(ValueError, match=match):
        compute_sinusoidal_positions(**kwargs)


@pytest.mark.parametrize("bias, masked, average", [(True, False, True), (True, True, True), (False, True, False)])
def test_multi_head_attention_equals_torch_values_and_gradients(bias: bool, masked: bool, average: bool) -> None:
    torch.manual_seed(1)
    mha = torch.nn.MultiheadAttention(12, 3, bias=bias, batch_first=True).double()
    g = torch.Generator().manual_seed(2)
    q = torch.randn(2, 4, 12, generator=g, dtype=torch.float64, requires_grad=True)
    kv = torch.randn(2, 6, 12, generator=g, dtype=torch.float64, requires_grad=True)
    mask = att.make_length_mask(torch.tensor([6, 3]), 6) if masked else None
    ref, ref_w = mha(q, kv, kv, key_padding_mask=None if mask is None else ~mask, average_attn_weights=average)
    out, w = att.multi_head_attention(q, kv, kv, 3, mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight,
                                      mha.out_proj.bias, mask=mask, average_weights=average)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(w, ref_w)
    if masked:
        assert float(w[1, ..., 3:].abs().max()) == 0.0  # padding gets no weight
    weights = torch.cos(torch.arange(out.numel(), dtype=torch.float64)).reshape(out.shape)
    grads = torch.autograd.grad((out * weights).sum(), (q, kv, mha.in_proj_weight, mha.out_proj.weight))
    ref_grads = torch.autograd.grad((ref * weights).sum(), (q, kv, mha.in_proj_weight, mha.out_proj.weight))
    for a, b in zip(grads, ref_grads):
        torch.testing.assert_close(a, b)


def test_multi_head_attention_refuses_bad_shapes() -> None:
    x = torch.randn(1, 3, 8)
    w_in, w_out = torch.randn(24, 8), torch.randn(8, 8)
    with pytest.raises(ValueError, match="n_heads"):
        att.multi_head_attention(x, x, x, 3, w_in, None, w_out, None)
    with pytest.raises(ValueError, match="in_proj_weight"):
        att.multi_head_attention(x, x, x, 2, w_in[:16], None, w_out, None)
    with pytest.raises(ValueError, match="mask"):
        att.multi_head_attention(x, x, x, 2, w_in, None, w_out, None, mask=torch.ones(1, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="key and value"):
        att.multi_head_attention(x, torch.randn(1, 3, 4), x, 2, w_in, None, w_out, None)
