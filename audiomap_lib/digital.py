"""Digitisation: sampling, quantisation and encodings (Chapter 1).

A continuous sound becomes numbers in three steps: *sampling* (take values
every ``1/sr`` seconds), *quantisation* (round each value to one of ``2**bits``
levels) and *encoding* (store the level, e.g. linear PCM or mu-law).
"""
from __future__ import annotations

import math

import torch

from .io import check_sample_rate, check_waveform
from .utils import check_non_negative_int, check_positive_int, check_real

__all__ = [
    "compute_alias_frequency",
    "downsample",
    "quantize_uniform",
    "compute_snr_db",
    "compute_expected_quantization_snr_db",
    "encode_mu_law",
    "decode_mu_law",
]


def compute_alias_frequency(freq_hz: float, sr: int) -> float:
    """The frequency (Hz) at which a sinusoid of ``freq_hz`` Hz is heard after sampling at ``sr``.

    Sampling folds every frequency into ``[0, sr/2]``:
    ``f_alias = | freq_hz - sr * round(freq_hz / sr) |``.

    Returns:
        The alias in Hz, in ``[0, sr/2]``.
    """
    sr = check_sample_rate(sr)
    freq_hz = check_real(freq_hz, "freq_hz", 0.0, unit="Hz")
    return float(abs(freq_hz - sr * round(freq_hz / sr)))


def downsample(waveform: torch.Tensor, sr: int, factor: int, antialias: bool = True, n_taps: int = 101
               ) -> tuple[torch.Tensor, int]:
    """Keep every ``factor``-th sample, with or without a low-pass filter first (Chapter 1).

    Without the filter, everything between the new Nyquist frequency ``sr / (2 factor)`` and the
    old one folds back into the new band (:func:`compute_alias_frequency`). With it, a
    Hamming-windowed sinc low-pass (:func:`audiomap_lib.conv.make_lowpass_fir`, ``n_taps`` taps,
    cut-off at 0.9 of the new Nyquist frequency, applied without delay) removes that band first.

    Args:
        waveform: ``(..., samples)`` float.
        sr: its rate in Hz.
        factor: keep one sample in ``factor`` (an int >= 1).
        antialias: low-pass filter first.
        n_taps: the filter's length (odd).

    Returns:
        ``(waveform at the new rate, new rate in Hz)``; the new rate is ``sr / factor`` and must be
        a whole number.

    Raises:
        ValueError: ``sr`` is not a multiple of ``factor``.
    """
    from .conv import apply_fir, make_lowpass_fir

    x = check_waveform(waveform, ndim=(1, 2))
    sr = check_sample_rate(sr)
    factor = check_positive_int(factor, "factor")
    if sr % factor:
        raise ValueError(f"factor must divide sr={sr} Hz so that the new rate is whole; got {factor}")
    new_sr = sr // factor
    if antialias and factor > 1:
        x = apply_fir(x, make_lowpass_fir(0.45 * new_sr, sr, check_positive_int(n_taps, "n_taps")))
    return x[..., ::factor].contiguous(), new_sr


def _check_bits(bits: object, most: int) -> int:
    n = check_positive_int(bits, "bits")
    if n > most:
        raise ValueError(f"bits must be an int in 1..{most}; got {bits!r}")
    return n


def quantize_uniform(waveform: torch.Tensor, bits: int, dither: str | None = None, seed: int | None = None
                     ) -> torch.Tensor:
    """Round a waveform in [-1, 1] to a mid-tread uniform grid of ``2**bits`` levels.

    The step is ``delta = 2 / 2**bits``; values are rounded to the nearest
    multiple of ``delta`` and limited to the representable range
    ``[-1, 1 - delta]`` (as integer PCM is).

    With ``dither="tpdf"``, noise with a triangular distribution on ``(-delta, delta)`` (the sum
    of two independent uniform noises of one step each) is added before rounding: the error
    then no longer depends on the signal (no distortion, no harmonics), at the price of a
    slightly higher noise floor (Chapter 1 measures both).

    Args:
        waveform: float samples in [-1, 1].
        bits: bits per sample, 1..32.
        dither: ``None`` or ``"tpdf"``.
        seed: seeds the dither noise (``None``: the global generator).

    Returns:
        ``float32`` tensor of the same shape holding the quantised values.

    Raises:
        ValueError: ``bits`` out of range, or samples outside [-1, 1]
            (they would be clipped).
    """
    wav = check_waveform(waveform, ndim=(1, 2, 3))
    bits = _check_bits(bits, 32)
    peak = float(wav.abs().max())
    if peak > 1.0:
        raise ValueError(f"waveform peaks at {peak:.3f}; quantize_uniform expects values in [-1, 1]")
    if dither not in (None, "tpdf"):
        raise ValueError(f"dither must be None or 'tpdf'; got {dither!r}")
    if seed is not None:
        seed = check_non_negative_int(seed, "seed")
    delta = 2.0 / 2**bits
    x = wav.double()
    if dither == "tpdf":
        gen = None if seed is None else torch.Generator().manual_seed(seed)
        x = x + (torch.rand(x.shape, generator=gen, dtype=torch.float64) - torch.rand(x.shape, generator=gen,
                                                                                     dtype=torch.float64)) * delta
    q = torch.round(x / delta) * delta
    q = q.clamp(-1.0, 1.0 - delta)
    return q.to(torch.float32)


def compute_snr_db(reference: torch.Tensor, estimate: torch.Tensor, axis: int | None = None) -> float | torch.Tensor:
    """Signal-to-noise ratio of ``estimate`` against ``reference`` in dB (Chapters 1 and 6).

    ``SNR = 10 log10( sum(reference**2) / sum((estimate - reference)**2) )``.

    Args:
        reference, estimate: waveforms of the same shape.
        axis: ``None`` sums over everything and returns one number; an axis (e.g. ``-1``)
            sums along it and returns one SNR per clip (Chapter 6's noisy batches).

    Returns:
        With ``axis=None`` a float in dB (``inf`` if the two are identical); else a tensor
        shaped like ``reference`` without ``axis``, in dB.
    """
    ref = check_waveform(reference, "reference", ndim=(1, 2, 3)).double()
    est = check_waveform(estimate, "estimate", ndim=(1, 2, 3)).double()
    if ref.shape != est.shape:
        raise ValueError(f"reference and estimate must have the same shape; got {tuple(ref.shape)} and {tuple(est.shape)}")
    dims = tuple(range(ref.ndim)) if axis is None else axis
    noise = (est - ref).pow(2).sum(dims)
    signal = ref.pow(2).sum(dims)
    if bool((signal == 0).any()):
        raise ValueError("reference is silent (in at least one clip); the SNR is undefined")
    if axis is not None:
        return (10 * torch.log10(signal / noise)).to(reference.dtype)
    if noise == 0:
        return math.inf
    return float(10 * torch.log10(signal / noise))


def compute_expected_quantization_snr_db(bits: int) -> float:
    """The textbook SNR of a full-scale sine quantised with ``bits`` bits: 6.02 N + 1.76 dB.

    Derivation: the error is ~uniform in ``[-delta/2, delta/2]`` (power
    ``delta**2 / 12``, with ``delta = 2 / 2**N``) and a full-scale sine has power 1/2,
    so SNR = 10 log10(1.5 * 4**N) = 6.0206 N + 1.7609 dB.

    Args:
        bits: bits per sample, 1..64.

    Returns:
        The SNR in dB.
    """
    bits = _check_bits(bits, 64)
    return 10 * math.log10(1.5) + 20 * math.log10(2) * bits


def encode_mu_law(waveform: torch.Tensor, mu: int = 255) -> torch.Tensor:
    """Mu-law companding followed by quantisation to ``mu + 1`` integer codes.

    ``F(x) = sign(x) ln(1 + mu|x|) / ln(1 + mu)``, then codes
    ``round((F(x) + 1) / 2 * mu)`` in ``0..mu`` (as in ITU-T G.711 / WaveNet).

    Returns:
        ``int64`` tensor of codes, same shape as ``waveform``.
    """
    wav = check_waveform(waveform, ndim=(1, 2, 3))
    mu = check_positive_int(mu, "mu")
    peak = float(wav.abs().max())
    if peak > 1.0:
        raise ValueError(f"waveform peaks at {peak:.3f}; encode_mu_law expects values in [-1, 1]")
    x = wav.double()
    y = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    return torch.floor((y + 1) / 2 * mu + 0.5).to(torch.int64)


def decode_mu_law(codes: torch.Tensor, mu: int = 255) -> torch.Tensor:
    """Invert :func:`encode_mu_law`: codes ``0..mu`` back to floats in [-1, 1].

    Returns:
        ``float32`` tensor, same shape as ``codes``.
    """
    mu = check_positive_int(mu, "mu")
    if not isinstance(codes, torch.Tensor) or codes.is_floating_point() or codes.is_complex() or codes.dtype == torch.bool:
        raise TypeError("codes must be an integer tensor produced by encode_mu_law")
    if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) > mu):
        raise ValueError(f"codes must lie in 0..{mu}; got range {int(codes.min())}..{int(codes.max())}")
    y = codes.double() / mu * 2 - 1
    x = torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu
    return x.to(torch.float32)
