"""audiomap_lib.attention.transformer_encoder_layer and TransformerEncoderLayer against PyTorch (Chapter 5)."""
from __future__ import annotations

import pytest
import torch

from audiomap_lib import attention

E, H, F, B, T = 16, 4, 24, 3, 9
LENGTHS = torch.tensor([9, 5, 1])  # one clip with a single real frame


def _pair(norm_first: bool, activation: str, seed: int = 0) -> tuple[torch.nn.TransformerEncoderLayer,
                                                                     attention.TransformerEncoderLayer]:
    torch.manual_seed(seed)
    ref = torch.nn.TransformerEncoderLayer(E, H, F, dropout=0.0, activation=activation, batch_first=True,
                                           norm_first=norm_first).double()
    with torch.no_grad():  # layer norms with scales and shifts away from 1 and 0, so that they are tested too
        for norm in (ref.norm1, ref.norm2):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    return ref, attention.TransformerEncoderLayer.from_torch(ref)


def _functional(layer: torch.nn.TransformerEncoderLayer, x: torch.Tensor, mask: torch.Tensor | None,
                norm_first: bool, activation: str) -> torch.Tensor:
    sa = layer.self_attn
    return attention.transformer_encoder_layer(
        x, H, sa.in_proj_weight, sa.in_proj_bias, sa.out_proj.weight, sa.out_proj.bias,
        layer.linear1.weight, layer.linear1.bias, layer.linear2.weight, layer.linear2.bias,
        layer.norm1.weight, layer.norm1.bias, layer.norm2.weight, layer.norm2.bias,
        mask=mask, norm_first=norm_first, activation=activation)


@pytest.mark.parametrize("activation", attention.TRANSFORMER_ACTIVATIONS)
@pytest.mark.parametrize("norm_first", [False, True])
def test_layer_equals_torch_in_outputs_and_gradients_with_padding(norm_first: bool, activation: str) -> None:
    ref, ours = _pair(norm_first, activation)
    x = torch.randn(B, T, E, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    real = attention.make_length_mask(LENGTHS, T)
    expected = ref(x, src_key_padding_mask=~real)  # PyTorch marks the padding, the course the real frames
    got = ours(x, real)
    functional = _functional(ref, x, real, norm_first, activation)
    assert float((got - expected).detach().abs().max()) < 1e-10
    assert float((functional - expected).detach().abs().max()) < 1e-10
    grad_out = torch.randn_like(expected)
    names = [n for n, _ in ref.named_parameters()]
    assert names == [n for n, _ in ours.named_parameters()]  # PyTorch's names, so state_dicts load both ways
    g_ref = torch.autograd.grad(expected, [x, *ref.parameters()], grad_out)
    g_ours = torch.autograd.grad(got, [x, *ours.parameters()], grad_out)
    for name, a, b in zip(["x", *names], g_ours, g_ref):
        assert float((a - b).abs().max()) < 1e-10, name
    assert float(g_ref[0].abs().max()) > 0.1  # a real gradient, not zeros compared with zeros


@pytest.mark.parametrize("norm_first", [False, True])
def test_padding_does_not_reach_the_real_frames(norm_first: bool) -> None:
    _, ours = _pair(norm_first, "relu")
    g = torch.Generator().manual_seed(2)
    x = torch.randn(B, T, E, dtype=torch.float64, generator=g)
    real = attention.make_length_mask(LENGTHS, T)
    noisy = x.clone()
    noisy[~real] = 1e3 * torch.randn(int((~real).sum()), E, dtype=torch.float64, generator=g)
    a, b = ours(x, real), ours(noisy, real)
    torch.testing.assert_close(a[real], b[real], rtol=0, atol=1e-12)
    alone = ours(x[1:2, :5], None)  # the clip of 5 frames, unpadded
    torch.testing.assert_close(alone[0], a[1, :5], rtol=0, atol=1e-12)
    without_mask = ours(noisy, None)
    assert float((without_mask[real] - b[real]).detach().abs().max()) > 1e-3  # the mask is what keeps padding out


def test_without_biases_and_in_eval_mode_with_dropout() -> None:
    torch.manual_seed(3)
    ref = torch.nn.TransformerEncoderLayer(E, H, F, dropout=0.3, batch_first=True, bias=False).double().eval()
    ours = attention.TransformerEncoderLayer.from_torch(ref).eval()
    assert ours.self_attn.in_proj_bias is None and ours.dropout == 0.3
    x = torch.randn(B, T, E, dtype=torch.float64)
    real = attention.make_length_mask(LENGTHS, T)
    with torch.no_grad():
        torch.testing.assert_close(ours(x, real)[real], ref(x, src_key_padding_mask=~real)[real], rtol=0, atol=1e-10)
    ours.train()  # dropout acts only while training, and changes the result
    torch.manual_seed(0)
    assert float((ours(x, real) - ref(x, src_key_padding_mask=~real)).detach().abs().max()) > 1e-3


def test_a_fresh_module_is_initialised_as_torch_does() -> None:
    torch.manual_seed(4)
    ours = attention.TransformerEncoderLayer(64, 4, 128)
    ref = torch.nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
    for (name, a), (_, b) in zip(ours.state_dict().items(), ref.state_dict().items()):
        assert a.shape == b.shape, name
        assert abs(float(a.std()) - float(b.std())) < 0.2 * float(b.std()) + 1e-12, name
    ref.load_state_dict(ours.state_dict())  # and the names load back into PyTorch's layer


def test_bad_arguments_are_refused_with_their_name() -> None:
    ref, _ = _pair(False, "relu")
    x = torch.randn(B, T, E, dtype=torch.float64)
    real = attention.make_length_mask(LENGTHS, T)
    sa = ref.self_attn
    args = [sa.in_proj_weight, sa.in_proj_bias, sa.out_proj.weight, sa.out_proj.bias, ref.linear1.weight,
            ref.linear1.bias, ref.linear2.weight, ref.linear2.bias, ref.norm1.weight, ref.norm1.bias,
            ref.norm2.weight, ref.norm2.bias]
    with pytest.raises(ValueError, match="n_heads"):
        attention.transformer_encoder_layer(x, 5, *args)
    with pytest.raises(ValueError, match="x must"):
        attention.transformer_encoder_layer(x[0], H, *args)
    with pytest.raises(ValueError, match="linear2_weight must have shape"):
        attention.transformer_encoder_layer(x, H, *args[:6], args[6][:, :-1], *args[7:])
    with pytest.raises(ValueError, match="in_proj_weight must have shape"):
        attention.transformer_encoder_layer(x[..., :8], 2, *args)
    with pytest.raises(ValueError, match="norm1_weight must be a tensor"):
        attention.transformer_encoder_layer(x, H, *args[:8], None, *args[9:])
    with pytest.raises(ValueError, match="mask must have shape"):
        attention.transformer_encoder_layer(x, H, *args, mask=real[:, :4])
    with pytest.raises(TypeError, match="mask"):
        attention.transformer_encoder_layer(x, H, *args, mask=real.long())
    with pytest.raises(ValueError, match="activation"):
        attention.transformer_encoder_layer(x, H, *args, activation="tanh")
    with pytest.raises(ValueError, match="eps"):
        attention.transformer_encoder_layer(x, H, *args, eps=0.0)
    with pytest.raises(ValueError, match="dropout"):
        attention.transformer_encoder_layer(x, H, *args, dropout=1.0)
    with pytest.raises(ValueError, match="norm_first"):
        attention.transformer_encoder_layer(x, H, *args, norm_first="yes")
    with pytest.raises(ValueError, match="n_heads must divide"):
        attention.TransformerEncoderLayer(16, 3)
    with pytest.raises(ValueError, match="dim_feedforward"):
        attention.TransformerEncoderLayer(16, 4, 0)
    with pytest.raises(TypeError, match="layer must be"):
        attention.TransformerEncoderLayer.from_torch(torch.nn.Linear(4, 4))  # type: ignore[arg-type]
    odd = torch.nn.TransformerEncoderLayer(E, H, F, batch_first=True, activation=torch.tanh)
    with pytest.raises(ValueError, match="relu' or 'gelu"):
        attention.TransformerEncoderLayer.from_torch(odd)
