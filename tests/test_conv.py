"""Reference checks for audiomap_lib.conv (Chapter 3): PyTorch, NumPy and SciPy agree with it."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F

from audiomap_lib import conv


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ convolution / correlation


@pytest.mark.parametrize("n,k", [(4, 3), (1, 1), (10, 10), (3, 8), (100, 17)])
def test_convolve_full_matches_numpy(n: int, k: int) -> None:
    x = torch.randn(n, generator=_g(n), dtype=torch.float64)
    w = torch.randn(k, generator=_g(k + 100), dtype=torch.float64)
    np.testing.assert_allclose(conv.convolve_full(x, w).numpy(), np.convolve(x.numpy(), w.numpy()), atol=1e-12)


@pytest.mark.parametrize("mode", ["valid", "full"])
@pytest.mark.parametrize("n,k", [(4, 3), (10, 10), (50, 7)])
def test_correlate_matches_numpy(n: int, k: int, mode: str) -> None:
    x = torch.randn(n, generator=_g(n), dtype=torch.float64)
    w = torch.randn(k, generator=_g(k + 7), dtype=torch.float64)
    np.testing.assert_allclose(conv.correlate(x, w, mode).numpy(), np.correlate(x.numpy(), w.numpy(), mode), atol=1e-12)


def test_seed_example_is_a_cross_correlation() -> None:
    x, w = torch.tensor([1.0, 3, 2, 1]), torch.tensor([1.0, 0, 2])
    assert conv.convolve_full(x, w).tolist() == [1, 3, 4, 7, 4, 2]
    assert conv.correlate(F.pad(x, (0, 2)), w).tolist() == [5, 5, 2, 1]  # the seed's answer
    assert torch.equal(conv.convolve_full(x, w), conv.correlate(x, w.flip(0), "full"))


def test_convolve_and_correlate_errors() -> None:
    with pytest.raises(ValueError, match="x must be 1-D"):
        conv.convolve_full(torch.zeros(2, 3), torch.ones(2))
    with pytest.raises(ValueError, match="w is empty"):
        conv.convolve_full(torch.zeros(3), torch.ones(0))
    with pytest.raises(ValueError, match="mode must be"):
        conv.correlate(torch.zeros(5), torch.ones(2), mode="same")
    with pytest.raises(ValueError, match="len\\(x\\) >= len\\(w\\)"):
        conv.correlate(torch.zeros(2), torch.ones(5))


# ------------------------------------------------------------------------------ conv layers

GRID = list(itertools.product([1, 2], [1, 3], [0, 2, "same", "causal"], [1, 2], [1, 2]))  # stride, dil, pad, groups, batch


def _reference(x, w, b, stride, padding, dilation, groups):
    left, right = conv.compute_padding(w.shape[-1], padding, stride, dilation)
    return F.conv1d(F.pad(x, (left, right)), w, b, stride=stride, dilation=dilation, groups=groups)


@pytest.mark.parametrize("fn", [conv.conv1d, conv.conv1d_loop], ids=["unfold", "loop"])
@pytest.mark.parametrize("stride,dilation,padding,groups,batch", GRID)
def test_conv1d_forward_and_gradients_match_torch(fn, stride, dilation, padding, groups, batch) -> None:
    if padding == "same" and stride != 1:
        pytest.skip("'same' needs stride 1 (checked in the error tests)")
    seed = hash((stride, dilation, str(padding), groups, batch)) % 10_000
    x = torch.randn(batch, 4, 23, generator=_g(seed), dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 4 // groups, 4, generator=_g(seed + 1), dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, generator=_g(seed + 2), dtype=torch.float64, requires_grad=True)
    ours = fn(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    ref = _reference(x, w, b, stride, padding, dilation, groups)
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-10)
    up = torch.randn(ref.shape, generator=_g(seed + 3), dtype=torch.float64)
    g_ours = torch.autograd.grad((ours * up).sum(), (x, w, b))
    g_ref = torch.autograd.grad((ref * up).sum(), (x, w, b))
    for a, r in zip(g_ours, g_ref):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("k,d", [(3, 1), (4, 1), (4, 3), (5, 2), (2, 1)])
def test_same_padding_matches_torch_same(k: int, d: int) -> None:
    x = torch.randn(2, 3, 17, generator=_g(k * 10 + d))
    w = torch.randn(5, 3, k, generator=_g(k + d))
    torch.testing.assert_close(conv.conv1d(x, w, padding="same", dilation=d), F.conv1d(x, w, padding="same", dilation=d))


def test_causal_padding_is_causal() -> None:
    x = torch.randn(1, 2, 40, generator=_g(5))
    w = torch.randn(3, 2, 5, generator=_g(6))
    y = conv.conv1d(x, w, padding="causal", dilation=2)
    x2 = x.clone()
    x2[..., 25:] += 1
    y2 = conv.conv1d(x2, w, padding="causal", dilation=2)
    assert y.shape[-1] == 40
    torch.testing.assert_close(y[..., :25], y2[..., :25])
    assert not torch.allclose(y[..., 25:], y2[..., 25:])


def test_conv1d_float32_and_nn_layer() -> None:
    layer = torch.nn.Conv1d(4, 8, 5, stride=2, padding=1, dilation=2, groups=2)
    x = torch.randn(3, 4, 64, generator=_g(9))
    torch.testing.assert_close(conv.conv1d(x, layer.weight, layer.bias, 2, 1, 2, 2), layer(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(x=torch.zeros(4, 10), weight=torch.zeros(1, 4, 3)), r"x must be 3-D of shape \(batch, in_channels, time\)"),
        (dict(x=torch.zeros(1, 4, 10), weight=torch.zeros(1, 4)), r"weight must be 3-D of shape \(out_channels"),
        (dict(x=torch.zeros(1, 5, 10), weight=torch.zeros(2, 2, 3), groups=2), "in_channels \\(5\\) is not divisible by groups \\(2\\)"),
        (dict(x=torch.zeros(1, 4, 10), weight=torch.zeros(3, 2, 3), groups=2), "out_channels \\(3"),
        (dict(x=torch.zeros(1, 4, 10), weight=torch.zeros(2, 3, 3)), "weight.shape\\[1\\] must be"),
        (dict(x=torch.zeros(1, 4, 10), weight=torch.zeros(2, 4, 3), bias=torch.zeros(3)), "bias must be"),
        (dict(x=torch.zeros(1, 4, 10), weight=torch.zeros(2, 4, 3), stride=2, padding="same"), "needs stride=1"),
        (dict(x=torch.zeros(1, 4, 10), weight=torch.zeros(2, 4, 3), padding="full"), "padding must be"),
        (dict(x=torch.zeros(1, 4, 10), weight=torch.zeros(2, 4, 3), padding=-1), "padding must be"),
        (dict(x=torch.zeros(1, 4, 10), weight=torch.zeros(2, 4, 3), stride=0), "stride must be a positive int"),
        (dict(x=torch.zeros(1, 4, 3), weight=torch.zeros(2, 4, 3), dilation=2), "shorter than the dilated kernel"),
    ],
)
@pytest.mark.parametrize("fn", [conv.conv1d, conv.conv1d_loop], ids=["unfold", "loop"])
def test_conv1d_errors_name_the_argument(fn, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        fn(**kwargs)


# ---------------------------------------------------------------- output length, receptive field


@pytest.mark.parametrize("length,k,s,p,d", list(itertools.product([16, 37, 100], [1, 3, 4], [1, 2, 3], [0, 1, 5], [1, 2])))
def test_output_length_matches_layer(length, k, s, p, d) -> None:
    layer = torch.nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
    assert conv.compute_conv_output_length(length, k, s, p, d) == layer(torch.zeros(1, 1, length)).shape[-1]


def test_output_length_with_named_padding() -> None:
    assert conv.compute_conv_output_length(100, 5, padding="same", dilation=3) == 100
    assert conv.compute_conv_output_length(100, 5, padding="causal", dilation=3) == 100
    assert conv.compute_conv_output_length(100, 5, padding="valid") == 96
    assert conv.compute_conv_output_length(100, 5, padding=(3, 1)) == 100


def _measured_receptive_field(kernels, strides, dilations, length=400) -> int:
    layers = [torch.nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False) for k, s, d in zip(kernels, strides, dilations)]
    for layer in layers:
        torch.nn.init.constant_(layer.weight, 1.0)  # positive weights: no cancellation
    x = torch.zeros(1, 1, length, requires_grad=True)
    y = x
    for layer in layers:
        y = layer(y)
    y[0, 0, y.shape[-1] // 2].backward()
    nz = torch.nonzero(x.grad[0, 0]).flatten()
    return int(nz.max() - nz.min() + 1)


@pytest.mark.parametrize(
    "kernels,strides,dilations",
    [([3], [1], [1]), ([3, 3, 3], [1, 1, 1], [1, 1, 1]), ([3, 3, 3], [1, 1, 1], [1, 2, 4]),
     ([80, 3, 3, 3], [4, 1, 1, 1], [1, 1, 1, 1]), ([5, 5], [2, 2], [1, 1]), ([4, 3, 2], [2, 3, 1], [2, 1, 3])],
)
def test_receptive_field_matches_layers(kernels, strides, dilations) -> None:
    assert conv.compute_receptive_field(kernels, strides, dilations) == _measured_receptive_field(kernels, strides, dilations)


def test_receptive_field_errors() -> None:
    with pytest.raises(ValueError, match="kernels is empty"):
        conv.compute_receptive_field([])
    with pytest.raises(ValueError, match="one entry per layer"):
        conv.compute_receptive_field([3, 3], [1])
    with pytest.raises(ValueError, match="kernels\\[1\\] must be a positive int"):
        conv.compute_receptive_field([3, 0])


# ---------------------------------------------------------------------------------- FIR design


@pytest.mark.parametrize("window", ["hamming", "hann", "blackman"])
@pytest.mark.parametrize("cutoff,sr,n", [(1000.0, 16000, 101), (300.0, 8000, 51), (5000.0, 22050, 64)])
def test_lowpass_matches_firwin(cutoff, sr, n, window) -> None:
    ref = scipy.signal.firwin(n, cutoff, fs=sr, window=window)
    np.testing.assert_allclose(conv.make_lowpass_fir(cutoff, sr, n, window).numpy(), ref, atol=1e-6)


def test_lowpass_rectangular_matches_firwin_boxcar() -> None:
    ref = scipy.signal.firwin(41, 2000, fs=16000, window="boxcar")
    np.testing.assert_allclose(conv.make_lowpass_fir(2000, 16000, 41, "rectangular").numpy(), ref, atol=1e-6)


@pytest.mark.parametrize("cutoff,sr,n", [(1000.0, 16000, 101), (300.0, 8000, 51)])
def test_highpass_matches_firwin(cutoff, sr, n) -> None:
    ref = scipy.signal.firwin(n, cutoff, fs=sr, pass_zero=False)
    # firwin scales the gain at sr/2 to 1; spectral inversion leaves it 1 - H_low(sr/2) (~1e-3 off)
    np.testing.assert_allclose(conv.make_highpass_fir(cutoff, sr, n).numpy(), ref, atol=2e-3)
    _, h = scipy.signal.freqz(conv.make_highpass_fir(cutoff, sr, n).numpy(), worN=[0.0, sr / 2], fs=sr)
    assert abs(h[0]) < 1e-6 and abs(abs(h[1]) - 1) < 2e-3


def test_moving_average_and_echo() -> None:
    ma = conv.make_moving_average(5)
    assert ma.shape == (5,) and torch.isclose(ma.sum(), torch.tensor(1.0))
    echo = conv.make_echo_kernel(0.25, 0.5, 16000)
    assert echo.shape == (4001,) and echo[0] == 1 and echo[4000] == 0.5 and echo[1:4000].abs().sum() == 0


def test_fir_errors() -> None:
    with pytest.raises(ValueError, match="cutoff_hz must lie strictly between 0 and sr/2"):
        conv.make_lowpass_fir(9000, 16000, 31)
    with pytest.raises(ValueError, match="n_taps must be odd"):
        conv.make_highpass_fir(1000, 16000, 30)
    with pytest.raises(ValueError, match="window must be one of"):
        conv.make_lowpass_fir(1000, 16000, 31, window="kaiser")
    with pytest.raises(ValueError, match="n must be a positive int"):
        conv.make_moving_average(0)
    with pytest.raises(ValueError, match="delay_s must be at least one sample"):
        conv.make_echo_kernel(0.0, 0.5, 16000)


@pytest.mark.parametrize("k", [1, 4, 31])
def test_apply_fir_is_true_convolution(k: int) -> None:
    x = torch.randn(2, 300, generator=_g(k), dtype=torch.float64)
    h = torch.randn(k, generator=_g(k + 1), dtype=torch.float64)
    full = np.stack([np.convolve(row, h.numpy()) for row in x.numpy()])
    np.testing.assert_allclose(conv.apply_fir(x, h, "causal").numpy(), full[:, :300], atol=1e-12)
    same = np.stack([np.convolve(row, h.numpy(), "same") for row in x.numpy()])
    # numpy's 'same' centres like ours for odd kernels; for even ones it drops one sample less
    start = (k - 1) // 2
    np.testing.assert_allclose(conv.apply_fir(x, h).numpy(), full[:, start:start + 300], atol=1e-12)
    if k % 2:
        np.testing.assert_allclose(conv.apply_fir(x, h).numpy(), same, atol=1e-12)


def test_apply_fir_errors() -> None:
    with pytest.raises(ValueError, match="mode must be"):
        conv.apply_fir(torch.zeros(10), torch.ones(3), mode="same")
    with pytest.raises(ValueError, match="kernel must be 1-D"):
        conv.apply_fir(torch.zeros(10), torch.ones(1, 3))


def test_frequency_response_fft_grid_equals_direct_evaluation() -> None:
    h = conv.make_lowpass_fir(1000.0, 16000, 31)
    f, gain = conv.compute_frequency_response(h, 16000, n_fft=256)
    assert f.shape == gain.shape == (129,) and f[-1] == 8000 and gain.dtype == torch.float64
    _, direct = conv.compute_frequency_response(h, 16000, freqs_hz=f)
    torch.testing.assert_close(gain, direct)
    _, h_scipy = scipy.signal.freqz(h.numpy(), worN=f.numpy(), fs=16000)
    np.testing.assert_allclose(gain.numpy(), np.abs(h_scipy), atol=1e-6)
    # a bank of kernels (C, K), in dB
    _, db = conv.compute_frequency_response(torch.stack([h, 2 * h]), 16000, freqs_hz=[0.0], db=True)
    torch.testing.assert_close(db[:, 0], torch.tensor([0.0, 20 * np.log10(2)], dtype=torch.float64), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="kernel is empty"):
        conv.compute_frequency_response([], 16000)


def test_layers_and_cells_take_float64_and_numpy_like_pytorch_in_float64() -> None:
    import numpy as np

    from audiomap_lib import attention, rnn

    g = torch.Generator().manual_seed(1)
    x, w, b = torch.randn(2, 3, 20, generator=g), torch.randn(4, 3, 5, generator=g), torch.randn(4, generator=g)
    ref = torch.nn.functional.conv1d(x.double(), w.double(), b.double(), padding=2)
    for fn in (conv.conv1d, conv.conv1d_loop):
        out = fn(x.double(), w, b.numpy(), padding=2)
        assert out.dtype == torch.float64
        torch.testing.assert_close(out, ref)
    cell = torch.nn.GRUCell(3, 4).double()
    xs, hs = torch.randn(2, 3, generator=g, dtype=torch.float64), torch.randn(2, 4, generator=g, dtype=torch.float64)
    out = rnn.gru_cell(xs, hs.float(), cell.weight_ih.float(), cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(out, cell(xs, hs), rtol=1e-5, atol=1e-6)
    q, k, v = (torch.randn(2, 3, 8, generator=g) for _ in range(3))
    out, _ = attention.scaled_dot_product_attention(q.double(), np.asarray(k), v)
    torch.testing.assert_close(out, torch.nn.functional.scaled_dot_product_attention(q.double(), k.double(), v.double()))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        conv.conv1d(x.to(torch.complex64), w)
    with pytest.raises(TypeError, match="w must hold real numbers"):
        conv.convolve_full(torch.ones(4), torch.ones(2, dtype=torch.bool))


@pytest.mark.parametrize("n, k", [(1000, 77), (5, 5), (64, 1), (3, 10), (4096, 4096)])
def test_fft_convolution_equals_numpy_and_scipy(n: int, k: int) -> None:
    import scipy.signal

    g = torch.Generator().manual_seed(n + k)
    x, w = torch.randn(n, generator=g, dtype=torch.float64), torch.randn(k, generator=g, dtype=torch.float64)
    y = conv.fft_convolve(x, w)
    np.testing.assert_allclose(y.numpy(), np.convolve(x.numpy(), w.numpy()), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(y.numpy(), scipy.signal.fftconvolve(x.numpy(), w.numpy()), rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(y, conv.convolve_full(x, w))
    assert conv.fft_convolve(x.float(), w.float()).dtype == torch.float32


def test_circular_convolution_wraps_the_tail_to_the_start() -> None:
    g = torch.Generator().manual_seed(3)
    x, w = torch.randn(50, generator=g, dtype=torch.float64), torch.randn(8, generator=g, dtype=torch.float64)
    linear = conv.convolve_full(x, w)
    wrapped = linear[:50].clone()
    wrapped[:7] += linear[50:]  # the K - 1 samples past the end come back at the start
    torch.testing.assert_close(conv.fft_convolve(x, w, circular=True), wrapped)
    # the definition: y[n] = sum_m x[m] w[(n - m) mod N]
    wpad = torch.nn.functional.pad(w, (0, 42))
    direct = torch.stack([sum(x[m] * wpad[(i - m) % 50] for m in range(50)) for i in range(50)])
    torch.testing.assert_close(conv.fft_convolve(x, w, circular=True), direct)
    with pytest.raises(ValueError, match="circular"):
        conv.fft_convolve(w, x, circular=True)
