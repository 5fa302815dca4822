"""Convolution from scratch, and FIR filters built with it (Chapter 3).

Two operations are easy to confuse:

* **convolution** ``y[n] = sum_m x[m] * w[n - m]`` -- the kernel is flipped;
* **cross-correlation** ``y[n] = sum_k x[n + k] * w[k]`` -- it is not.

Deep-learning "convolution" layers (``torch.nn.Conv1d``, ``F.conv1d``) compute the
cross-correlation. The two agree once the kernel is flipped: ``convolve_full(x, w)``
equals a fully padded ``correlate`` with ``w.flip(-1)``.

Layer functions (``conv1d_loop``, ``conv1d``) use PyTorch's layout:

* input ``x``: ``(batch, in_channels, time)``;
* weight: ``(out_channels, in_channels // groups, kernel)``;
* bias: ``(out_channels,)`` or ``None``;
* output: ``(batch, out_channels, out_time)`` with ``out_time`` from
  :func:`compute_conv_output_length`.

Times and lengths are in samples; frequencies in Hz; ``sr`` is the sample rate in Hz.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .io import check_sample_rate
from .spectral import amplitude_to_db
from .utils import check_non_negative_int, check_positive_int, check_real, check_tensor, promote_floats

__all__ = [
    "convolve_full",
    "correlate",
    "fft_convolve",
    "compute_padding",
    "compute_conv_output_length",
    "compute_receptive_field",
    "conv1d_loop",
    "conv1d",
    "compute_conv_transpose_output_length",
    "conv_transpose1d",
    "make_moving_average",
    "make_lowpass_fir",
    "make_highpass_fir",
    "make_echo_kernel",
    "apply_fir",
    "compute_frequency_response",
]

Padding = int | str | tuple
WINDOWS = ("hamming", "hann", "blackman", "rectangular")


# ----------------------------------------------------------------------------- checks


def _as_1d(x: object, name: str) -> torch.Tensor:
    """A 1-D real signal or kernel: a tensor, array or list (integers become floats; bool and complex are refused)."""
    return check_tensor(x, name, ndim=1, allow_sequence=True, shape="(samples,)")


def _same_dtype(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    dtype = torch.promote_types(a.dtype, b.dtype)
    return a.to(dtype), b.to(dtype)


# ------------------------------------------------------------- convolution, correlation


def convolve_full(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """True (flipped-kernel) convolution of two 1-D signals, full length (Chapter 3).

    ``y[n] = sum_m x[m] * w[n - m]`` for ``n = 0 .. N + K - 2``: every shift at which
    ``x`` and the flipped ``w`` overlap. Equals ``numpy.convolve(x, w)``.

    Args:
        x: signal, shape ``(N,)``.
        w: kernel, shape ``(K,)``.

    Returns:
        Shape ``(N + K - 1,)``, the promoted dtype of ``x`` and ``w``.
    """
    x = _as_1d(x, "x")
    w = _as_1d(w, "w")
    x, w = _same_dtype(x, w)
    k = w.shape[0]
    padded = F.pad(x, (k - 1, k - 1))  # zeros where x is not defined
    windows = padded.unfold(0, k, 1)  # (N + K - 1, K): windows[n, j] = padded[n + j]
    return windows @ w.flip(0)  # sum_j x[n + j - (K-1)] * w[K-1-j] = sum_m x[m] w[n-m]


def correlate(x: torch.Tensor, w: torch.Tensor, mode: str = "valid") -> torch.Tensor:
    """Cross-correlation of two 1-D signals, as deep-learning layers compute it (Chapter 3).

    ``y[n] = sum_k x[n + k] * w[k]`` -- the kernel is *not* flipped. Equals
    ``numpy.correlate(x, w, mode)`` for real inputs.

    Args:
        x: signal, shape ``(N,)``.
        w: kernel, shape ``(K,)``.
        mode: ``"valid"`` (only full overlaps, ``N - K + 1`` values; needs ``N >= K``)
            or ``"full"`` (every partial overlap, ``N + K - 1`` values).

    Returns:
        1-D tensor of the length given by ``mode``.
    """
    x = _as_1d(x, "x")
    w = _as_1d(w, "w")
    x, w = _same_dtype(x, w)
    k = w.shape[0]
    if mode == "full":
        x = F.pad(x, (k - 1, k - 1))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'full'; got {mode!r}")
    if x.shape[0] < k:
        raise ValueError(f"mode='valid' needs len(x) >= len(w); got {x.shape[0]} < {k}")
    return x.unfold(0, k, 1) @ w


def fft_convolve(x: torch.Tensor, w: torch.Tensor, circular: bool = False) -> torch.Tensor:
    """Convolution through the FFT: the convolution theorem (Chapter 3).

    The DFT turns *circular* convolution into a product: ``DFT(x (*) w) = DFT(x) * DFT(w)``
    when both have length ``L`` and indices wrap around modulo ``L``. Zero-padding both to
    ``L >= N + K - 1`` leaves room for every partial overlap, so nothing wraps and the circular
    result equals the linear one, :func:`convolve_full`.

    Args:
        x: signal, shape ``(N,)``.
        w: kernel, shape ``(K,)``; with ``circular`` it must not be longer than ``x``.
        circular: ``False``: the linear convolution, ``N + K - 1`` values (as
            ``scipy.signal.fftconvolve``); ``True``: the circular convolution of length ``N``
            (``w`` zero-padded to ``N``): the tail that does not fit wraps to the start.

    Returns:
        1-D tensor of the promoted dtype of ``x`` and ``w`` (real).

    Raises:
        ValueError: ``circular`` with a kernel longer than the signal.
    """
    x = _as_1d(x, "x")
    w = _as_1d(w, "w")
    x, w = _same_dtype(x, w)
    n, k = x.shape[0], w.shape[0]
    if circular:
        if k > n:
            raise ValueError(f"circular=True needs len(w) <= len(x); got {k} > {n}")
        length = n
    else:
        length = n + k - 1
    size = length if circular else 1 << max(0, (length - 1).bit_length())  # a power of two >= N + K - 1 (fast FFT)
    y = torch.fft.irfft(torch.fft.rfft(x, n=size) * torch.fft.rfft(w, n=size), n=size)
    return y[:length]


# ------------------------------------------------------------------- layer arithmetic


def compute_padding(kernel: int, padding: Padding = 0, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Zeros to add (left, right) of the time axis for a padding rule (Chapter 3).

    Args:
        kernel: kernel length in samples.
        padding: an int ``p`` (``p`` zeros on each side, as in PyTorch), a pair
            ``(left, right)``, ``"valid"`` (none), ``"same"`` (output as long as the
            input; needs ``stride == 1``; an odd total puts the extra zero on the right,
            as PyTorch does) or ``"causal"`` (all ``dilation * (kernel - 1)`` zeros on
            the left: output ``t`` sees only inputs ``<= t``).
        stride, dilation: as in :func:`conv1d`.

    Returns:
        ``(left, right)`` numbers of zeros.
    """
    kernel = check_positive_int(kernel, "kernel")
    stride = check_positive_int(stride, "stride")
    dilation = check_positive_int(dilation, "dilation")
    total = dilation * (kernel - 1)
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "same":
            if stride != 1:
                raise ValueError(f"padding='same' needs stride=1 (the output cannot keep the length otherwise); got stride={stride}")
            return total // 2, total - total // 2
        if padding == "causal":
            return total, 0
        raise ValueError(f"padding must be an int, a (left, right) pair, 'valid', 'same' or 'causal'; got {padding!r}")
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2 or any(isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer)) or p < 0
                                    for p in padding):
            raise ValueError(f"padding as a pair must be two non-negative ints (left, right); got {padding!r}")
        return int(padding[0]), int(padding[1])
    if isinstance(padding, (bool, np.bool_)) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"padding must be a non-negative int, a (left, right) pair, 'valid', 'same' or 'causal'; got {padding!r}")
    return int(padding), int(padding)


def compute_conv_output_length(
    length: int, kernel: int, stride: int = 1, padding: Padding = 0, dilation: int = 1
) -> int:
    """Output length of a 1-D convolution layer (Chapter 3).

    ``out = floor((length + left + right - dilation * (kernel - 1) - 1) / stride) + 1``,
    where ``left + right`` is the padding (``2 * padding`` for an int).

    Args:
        length: input length in samples.
        kernel, stride, padding, dilation: as in :func:`conv1d`.

    Returns:
        The number of output samples (at least 1).

    Raises:
        ValueError: the padded input is shorter than the dilated kernel.
    """
    length = check_positive_int(length, "length")
    left, right = compute_padding(kernel, padding, stride, dilation)
    kernel, stride, dilation = int(kernel), int(stride), int(dilation)  # checked by compute_padding
    span = dilation * (kernel - 1) + 1
    padded = length + left + right
    if padded < span:
        raise ValueError(
            f"the padded input ({padded} samples) is shorter than the dilated kernel span "
            f"dilation*(kernel-1)+1 = {span}; use a shorter kernel, more padding or a longer input"
        )
    return (padded - span) // stride + 1


def compute_receptive_field(
    kernels: Sequence[int], strides: Sequence[int] | None = None, dilations: Sequence[int] | None = None
) -> int:
    """Receptive field (in input samples) of one output of a stack of 1-D conv layers (Chapter 3).

    ``r = 1 + sum_i dilation_i * (kernel_i - 1) * prod_{j < i} stride_j``: each layer
    widens the field by its dilated span minus one, measured in steps of the
    product of the earlier strides.

    Args:
        kernels: kernel length of each layer, first layer first.
        strides: stride of each layer (default all 1).
        dilations: dilation of each layer (default all 1).

    Returns:
        Number of input samples that one output sample depends on.
    """
    kernels = list(kernels)
    if not kernels:
        raise ValueError("kernels is empty; expected one kernel length per layer")
    strides = [1] * len(kernels) if strides is None else list(strides)
    dilations = [1] * len(kernels) if dilations is None else list(dilations)
    if len(strides) != len(kernels) or len(dilations) != len(kernels):
        raise ValueError(
            f"kernels, strides and dilations need one entry per layer; got lengths "
            f"{len(kernels)}, {len(strides)}, {len(dilations)}"
        )
    field, jump = 1, 1
    for i, (k, s, d) in enumerate(zip(kernels, strides, dilations)):
        check_positive_int(k, f"kernels[{i}]")
        check_positive_int(s, f"strides[{i}]")
        check_positive_int(d, f"dilations[{i}]")
        field += d * (k - 1) * jump
        jump *= s
    return field


# ------------------------------------------------------------------------ conv layers


def _check_layer_args(x, weight, bias, stride, padding, dilation, groups):
    """Check a conv layer's arguments; returns ``(x, weight, bias)`` in one float dtype and the padding and length."""
    x = check_tensor(x, "x", ndim=3, shape="(batch, in_channels, time)")
    weight = check_tensor(weight, "weight", ndim=3, shape="(out_channels, in_channels // groups, kernel)")
    if bias is not None:
        bias = check_tensor(bias, "bias", ndim=1, shape="(out_channels,)")
    x, weight, bias = promote_floats(x, weight, bias)
    groups = check_positive_int(groups, "groups")
    check_positive_int(stride, "stride")
    check_positive_int(dilation, "dilation")
    c_in, c_out, k = x.shape[1], weight.shape[0], weight.shape[2]
    if c_in % groups:
        raise ValueError(f"in_channels ({c_in}) is not divisible by groups ({groups})")
    if c_out % groups:
        raise ValueError(f"out_channels ({c_out}, weight.shape[0]) is not divisible by groups ({groups})")
    if weight.shape[1] != c_in // groups:
        raise ValueError(
            f"weight.shape[1] must be in_channels // groups = {c_in} // {groups} = {c_in // groups}; "
            f"got weight of shape {tuple(weight.shape)}"
        )
    if bias is not None and (not isinstance(bias, torch.Tensor) or tuple(bias.shape) != (c_out,)):
        raise ValueError(f"bias must be None or a tensor of shape (out_channels,) = ({c_out},); got {tuple(getattr(bias, 'shape', ()))!r}")
    left, right = compute_padding(k, padding, stride, dilation)
    out_len = compute_conv_output_length(x.shape[2], k, stride, (left, right), dilation)
    return x, weight, bias, left, right, out_len


def conv1d_loop(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: Padding = 0,
    dilation: int = 1,
    groups: int = 1,
) -> torch.Tensor:
    """A 1-D convolution layer written as a loop over output times (Chapter 3).

    Computes, like ``torch.nn.functional.conv1d`` (a cross-correlation),
    ``y[b, o, t] = bias[o] + sum_{c, k} xp[b, g*C_g + c, t*stride + k*dilation] * weight[o, c, k]``
    where ``xp`` is the padded input and ``g = o // (out_channels // groups)`` is the
    group of output channel ``o``. Slow but readable; differentiable.

    Args:
        x: input, shape ``(batch, in_channels, time)``.
        weight: shape ``(out_channels, in_channels // groups, kernel)``.
        bias: shape ``(out_channels,)`` or ``None``.
        stride: step between output samples, in input samples.
        padding: see :func:`compute_padding` (int, ``(left, right)``, ``"same"``, ``"causal"``).
        dilation: spacing between kernel taps, in input samples.
        groups: split channels into this many independent groups.

    Returns:
        Shape ``(batch, out_channels, out_time)``.
    """
    x, weight, bias, left, right, out_len = _check_layer_args(x, weight, bias, stride, padding, dilation, groups)
    xp = F.pad(x, (left, right))
    batch, c_in = x.shape[:2]
    c_out, c_g, k = weight.shape
    o_g = c_out // groups
    taps = torch.arange(k, device=x.device) * dilation  # offsets of the kernel taps
    outputs = []
    for t in range(out_len):
        window = xp[:, :, t * stride + taps]  # (batch, in_channels, kernel)
        per_group = []
        for g in range(groups):
            xg = window[:, g * c_g:(g + 1) * c_g]  # (batch, C_g, kernel)
            wg = weight[g * o_g:(g + 1) * o_g]  # (O_g, C_g, kernel)
            per_group.append((xg.unsqueeze(1) * wg.unsqueeze(0)).sum(dim=(2, 3)))  # (batch, O_g)
        outputs.append(torch.cat(per_group, dim=1))
    y = torch.stack(outputs, dim=-1)  # (batch, out_channels, out_time)
    if bias is not None:
        y = y + bias[None, :, None]
    return y


def conv1d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: Padding = 0,
    dilation: int = 1,
    groups: int = 1,
) -> torch.Tensor:
    """A 1-D convolution layer, vectorised with ``Tensor.unfold`` (Chapter 3).

    The same result as :func:`conv1d_loop` and ``torch.nn.functional.conv1d``
    (a cross-correlation): ``unfold`` cuts the padded input into all windows of
    the dilated kernel span at once, every ``dilation``-th sample of each window is
    kept, and one ``einsum`` multiplies windows by the weights in every group.

    Args:
        x: input, shape ``(batch, in_channels, time)``.
        weight: shape ``(out_channels, in_channels // groups, kernel)``.
        bias: shape ``(out_channels,)`` or ``None``.
        stride, padding, dilation, groups: as in :func:`conv1d_loop`.

    Returns:
        Shape ``(batch, out_channels, out_time)``.
    """
    x, weight, bias, left, right, out_len = _check_layer_args(x, weight, bias, stride, padding, dilation, groups)
    xp = F.pad(x, (left, right))
    batch, c_in = x.shape[:2]
    c_out, c_g, k = weight.shape
    span = dilation * (k - 1) + 1
    windows = xp.unfold(2, span, stride)[..., ::dilation]  # (batch, in_channels, out_time, kernel)
    windows = windows.reshape(batch, groups, c_g, out_len, k)
    w = weight.reshape(groups, c_out // groups, c_g, k)
    y = torch.einsum("bgctk,gock->bgot", windows, w).reshape(batch, c_out, out_len)
    if bias is not None:
        y = y + bias[None, :, None]
    return y


# ------------------------------------------------------------- transposed convolution


def compute_conv_transpose_output_length(length: int, kernel: int, stride: int = 1, padding: int = 0,
                                         output_padding: int = 0) -> int:
    """Output length of a 1-D transposed convolution (Chapter 7): ``(L - 1) s - 2 p + K + output_padding``.

    Args:
        length: input length ``L`` (samples); kernel: ``K``; stride: ``s``; padding: ``p``
            (samples removed at each end of the full output); output_padding: samples added at the end.

    Returns:
        The output length in samples (at least 1).

    Raises:
        ValueError: a size that is not a positive (or non-negative) int, ``output_padding >= stride``
            (PyTorch's rule), or a padding that leaves no output.
    """
    length = check_positive_int(length, "length")
    kernel = check_positive_int(kernel, "kernel")
    stride = check_positive_int(stride, "stride")
    padding = check_non_negative_int(padding, "padding")
    output_padding = check_non_negative_int(output_padding, "output_padding")
    if output_padding >= stride:
        raise ValueError(f"output_padding must be smaller than stride={stride}; got {output_padding}")
    out = (length - 1) * stride - 2 * padding + kernel + output_padding
    if out < 1:
        raise ValueError(f"padding={padding} removes the whole output of length {out + 2 * padding} "
                         f"(length {length}, kernel {kernel}, stride {stride})")
    return out


def conv_transpose1d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
) -> torch.Tensor:
    """A 1-D transposed convolution from scratch: zero-stuffing, then an ordinary convolution (Chapter 7).

    Equal to ``torch.nn.functional.conv_transpose1d`` (groups 1, dilation 1). The input is
    *stuffed*: ``stride - 1`` zeros between neighbouring samples; the stuffed signal is
    convolved (a true convolution, :func:`conv1d` with the flipped kernel) over its full length,
    which gives ``(L - 1) s + K`` samples; ``padding`` samples are then cut from each end and
    ``output_padding`` kept at the end. Each input sample thus paints one copy of the kernel,
    ``stride`` samples after the previous one: where the copies overlap unevenly
    (``K`` not a multiple of ``s``) the output gets a periodic pattern, the checkerboard artefact.

    Args:
        x: ``(batch, in_channels, L)``.
        weight: ``(in_channels, out_channels, K)``, the layout of ``nn.ConvTranspose1d``.
        bias: ``(out_channels,)`` or ``None``.
        stride, padding, output_padding: as in ``nn.ConvTranspose1d``
            (see :func:`compute_conv_transpose_output_length`).

    Returns:
        ``(batch, out_channels, (L - 1) s - 2 p + K + output_padding)``.
    """
    x = check_tensor(x, "x", ndim=3, shape="(batch, in_channels, time)")
    weight = check_tensor(weight, "weight", ndim=3, shape="(in_channels, out_channels, kernel)")
    if bias is not None:
        bias = check_tensor(bias, "bias", ndim=1, shape="(out_channels,)")
    x, weight, bias = promote_floats(x, weight, bias)
    c_in, c_out, k = weight.shape
    if x.shape[1] != c_in:
        raise ValueError(f"weight.shape[0] must be x's in_channels={x.shape[1]}; got weight of shape {tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"bias must have shape (out_channels,)=({c_out},); got {tuple(bias.shape)}")
    out_len = compute_conv_transpose_output_length(x.shape[-1], k, stride, padding, output_padding)
    stride, padding = int(stride), int(padding)
    b, _, n = x.shape
    stuffed = x.new_zeros(b, c_in, (n - 1) * stride + 1)
    stuffed[..., ::stride] = x  # stride - 1 zeros between neighbouring samples
    # a true convolution over the full length: correlate with the flipped kernel, padded by K - 1
    conv_weight = weight.transpose(0, 1).flip(-1)  # (out_channels, in_channels, K)
    full = conv1d(stuffed, conv_weight, None, padding=k - 1)  # (B, out, (n - 1) s + K)
    extra = max(0, padding + out_len - full.shape[-1])  # output_padding beyond the full output: zeros
    if extra:
        full = F.pad(full, (0, extra))
    y = full[..., padding:padding + out_len]
    if bias is not None:
        y = y + bias[None, :, None]
    return y


# -------------------------------------------------------------------------- FIR design


def make_moving_average(n: int) -> torch.Tensor:
    """A moving-average kernel: ``n`` taps of ``1/n`` (Chapter 3).

    A crude low-pass filter: its response has its first zero at ``sr / n`` Hz.

    Returns:
        ``float32`` tensor of shape ``(n,)`` summing to 1.
    """
    n = check_positive_int(n, "n")
    return torch.full((n,), 1.0 / n)


def _window(n: int, kind: str) -> torch.Tensor:
    if kind == "hamming":
        return torch.hamming_window(n, periodic=False, dtype=torch.float64)
    if kind == "hann":
        return torch.hann_window(n, periodic=False, dtype=torch.float64)
    if kind == "blackman":
        return torch.blackman_window(n, periodic=False, dtype=torch.float64)
    if kind == "rectangular":
        return torch.ones(n, dtype=torch.float64)
    raise ValueError(f"window must be one of {', '.join(WINDOWS)}; got {kind!r}")


def _check_cutoff(cutoff_hz: float, sr: int) -> None:
    sr = check_sample_rate(sr)
    cutoff_hz = check_real(cutoff_hz, "cutoff_hz", unit="Hz")
    if not 0 < cutoff_hz < sr / 2:
        raise ValueError(f"cutoff_hz must lie strictly between 0 and sr/2 = {sr / 2:g} Hz; got {cutoff_hz!r}")


def make_lowpass_fir(cutoff_hz: float, sr: int, n_taps: int, window: str = "hamming") -> torch.Tensor:
    """A windowed-sinc low-pass FIR filter (Chapter 3).

    ``h[n] = (2 fc / sr) * sinc(2 fc / sr * (n - (n_taps - 1) / 2)) * window[n]``, scaled
    so that the gain at 0 Hz is exactly 1 (like ``scipy.signal.firwin``). The kernel is
    symmetric, so the filter delays every frequency by ``(n_taps - 1) / 2`` samples.

    Args:
        cutoff_hz: the -6 dB frequency, in Hz, between 0 and ``sr / 2``.
        sr: sample rate in Hz.
        n_taps: kernel length; more taps give a sharper transition
            (about ``3.3 * sr / n_taps`` Hz wide for a Hamming window).
        window: ``"hamming"``, ``"hann"``, ``"blackman"`` or ``"rectangular"``.

    Returns:
        ``float32`` tensor of shape ``(n_taps,)``.
    """
    n_taps = check_positive_int(n_taps, "n_taps")
    _check_cutoff(cutoff_hz, sr)
    fc = float(cutoff_hz) / sr  # cycles per sample
    n = torch.arange(n_taps, dtype=torch.float64) - (n_taps - 1) / 2
    h = 2 * fc * torch.sinc(2 * fc * n) * _window(n_taps, window)
    return (h / h.sum()).float()


def make_highpass_fir(cutoff_hz: float, sr: int, n_taps: int, window: str = "hamming") -> torch.Tensor:
    """A high-pass FIR filter by spectral inversion of :func:`make_lowpass_fir` (Chapter 3).

    ``h_high = delta - h_low``: an impulse (which passes everything) minus the
    low-pass, so what the low-pass keeps is removed. The impulse sits at the centre tap.

    Args:
        cutoff_hz, sr, window: as in :func:`make_lowpass_fir`.
        n_taps: kernel length; must be odd (so the centre tap exists).

    Returns:
        ``float32`` tensor of shape ``(n_taps,)``.
    """
    n_taps = check_positive_int(n_taps, "n_taps")
    if n_taps % 2 == 0:
        raise ValueError(f"n_taps must be odd for a high-pass filter (spectral inversion needs a centre tap); got {n_taps}")
    h = -make_lowpass_fir(cutoff_hz, sr, n_taps, window).double()
    h[(n_taps - 1) // 2] += 1.0
    return h.float()


def make_echo_kernel(delay_s: float, gain: float, sr: int) -> torch.Tensor:
    """A kernel that adds one echo: ``y[n] = x[n] + gain * x[n - D]`` (Chapter 3).

    Args:
        delay_s: echo delay in seconds (``D = round(delay_s * sr)`` samples, at least 1).
        gain: echo amplitude relative to the direct sound (e.g. 0.5).
        sr: sample rate in Hz.

    Returns:
        ``float32`` tensor of shape ``(D + 1,)``: 1 at tap 0, ``gain`` at tap ``D``.
    """
    sr = check_sample_rate(sr)
    delay_s = check_real(delay_s, "delay_s", 0.0, 60.0, unit="s")
    gain = check_real(gain, "gain")
    delay = round(delay_s * sr)
    if delay < 1:
        raise ValueError(f"delay_s must be at least one sample (1/sr = {1 / sr:g} s); got {delay_s!r}")
    h = torch.zeros(delay + 1)
    h[0] = 1.0
    h[delay] = float(gain)
    return h


def apply_fir(waveform: torch.Tensor, kernel: torch.Tensor, mode: str = "center") -> torch.Tensor:
    """Filter a waveform with an FIR kernel by true convolution, keeping its length (Chapter 3).

    Computes the full convolution ``y = x * h`` (kernel flipped) and keeps
    ``len(x)`` samples of it:

    * ``"center"``: drop ``(K - 1) // 2`` samples at the start (like
      ``numpy.convolve(x, h, "same")``): a symmetric kernel then adds no delay;
    * ``"causal"``: keep the first ``len(x)`` samples: ``y[n]`` uses only
      ``x[0..n]``, as a real-time filter does (use it for echoes).

    Uses ``F.conv1d`` (a cross-correlation) with the flipped kernel for speed;
    Chapter 3 checks that this equals :func:`convolve_full`.

    Args:
        waveform: shape ``(..., samples)``.
        kernel: shape ``(K,)``.
        mode: ``"center"`` (as :func:`audiomap_lib.io.pad_or_crop` spells it) or ``"causal"``.

    Returns:
        Same shape as ``waveform``.
    """
    waveform = check_tensor(waveform, "waveform", allow_sequence=True, shape="(..., samples)")
    if waveform.ndim < 1:
        raise ValueError(f"waveform must have shape (..., samples) with samples > 0; got {tuple(waveform.shape)}")
    x = waveform
    h = _as_1d(kernel, "kernel").to(x.dtype)  # the waveform's dtype wins, as before
    k = h.shape[0]
    if mode == "center":
        left = (k - 1) // 2
    elif mode == "causal":
        left = 0
    else:
        raise ValueError(f"mode must be 'center' or 'causal'; got {mode!r}")
    n = x.shape[-1]
    flat = x.reshape(-1, 1, n)
    full = F.conv1d(F.pad(flat, (k - 1, k - 1)), h.flip(0).view(1, 1, k))  # (rows, 1, n + k - 1)
    return full[:, 0, left:left + n].reshape(waveform.shape)



# ------------------------------------------------------------------ frequency response


def compute_frequency_response(
    kernel: torch.Tensor | Sequence[float], sr: int, freqs_hz: torch.Tensor | Sequence[float] | None = None,
    n_fft: int = 4096, db: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The magnitude response ``|H(f)|`` of FIR kernels (Chapter 3; used in Chapters 3 and 6).

    ``H(f) = sum_n h[n] exp(-2 pi i f n / sr)``, the discrete-time Fourier
    transform of the taps. With ``freqs_hz=None`` it is evaluated on the
    ``max(n_fft, K) // 2 + 1`` bins of a zero-padded FFT, from 0 to ``sr / 2``
    (``torch.fft.rfft``); otherwise directly at the frequencies given.

    Args:
        kernel: the taps, shape ``(..., K)`` (one kernel, or a bank of them).
        sr: sample rate in Hz.
        freqs_hz: frequencies in Hz, shape ``(F,)``; ``None``: the FFT bins.
        n_fft: FFT size when ``freqs_hz`` is ``None`` (at least ``K`` is used).
        db: return the gain in dB (``20 log10 |H|``, floored at -200 dB) instead of the linear gain.

    Returns:
        ``(freqs_hz, gain)``: ``float64`` tensors of shapes ``(F,)`` in Hz and
        ``(..., F)`` (linear, or dB when ``db``).

    Raises:
        ValueError: an empty kernel, a bad ``sr`` or ``n_fft``.
    """
    h = check_tensor(kernel.detach().cpu() if isinstance(kernel, torch.Tensor) else kernel, "kernel",
                     allow_sequence=True, allow_empty=True, shape="(..., K)").to(torch.float64)
    if h.ndim == 0 or h.shape[-1] == 0:
        raise ValueError(f"kernel is empty (shape {tuple(h.shape)}); expected at least one tap, shape (..., K)")
    sr = check_sample_rate(sr)
    if freqs_hz is None:
        n = max(check_positive_int(n_fft, "n_fft"), h.shape[-1])
        magnitude = torch.fft.rfft(h, n=n).abs()
        freqs = torch.arange(n // 2 + 1, dtype=torch.float64) * sr / n
    else:
        freqs = torch.as_tensor(freqs_hz, dtype=torch.float64).flatten()
        taps = torch.arange(h.shape[-1], dtype=torch.float64)
        phase = torch.exp(-2j * math.pi * freqs[:, None] * taps / sr)  # (F, K)
        magnitude = (h.to(torch.complex128) @ phase.T).abs()  # (..., F)
    return freqs, amplitude_to_db(magnitude, top_db=None) if db else magnitude
