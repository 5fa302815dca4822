"""Signal makers: test sounds with known content (Chapter 1).

Every maker takes a duration in seconds and a sample rate ``sr`` in Hz and
returns a mono ``torch.float32`` tensor of shape ``(round(duration * sr),)``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .io import check_sample_rate, check_waveform

__all__ = [
    "make_time",
    "make_sine",
    "make_chirp",
    "make_harmonic_tone",
    "make_noise",
    "make_adsr_envelope",
    "make_fade",
]


def _check_duration(duration: float) -> None:
    if not isinstance(duration, (int, float)) or not duration > 0 or math.isinf(duration):
        raise ValueError(f"duration must be a positive number of seconds; got {duration!r}")


def _check_frequency(freq: float, sr: int, name: str = "freq", allow_above_nyquist: bool = True) -> None:
    if not isinstance(freq, (int, float)) or math.isnan(freq) or freq < 0:
        raise ValueError(f"{name} must be a non-negative frequency in Hz; got {freq!r}")
    if not allow_above_nyquist and freq >= sr / 2:
        raise ValueError(f"{name}={freq} Hz is at or above the Nyquist frequency sr/2={sr / 2} Hz")


def make_time(duration: float, sr: int) -> torch.Tensor:
    """Sample instants ``n / sr`` for ``n = 0 .. round(duration*sr) - 1``.

    Returns:
        ``float64`` tensor of shape ``(samples,)``, in seconds (float64 keeps
        long phases exact; makers cast to float32 at the end).
    """
    sr = check_sample_rate(sr)
    _check_duration(duration)
    n = int(round(duration * sr))
    if n == 0:
        raise ValueError(f"duration={duration} s at sr={sr} Hz gives zero samples")
    return torch.arange(n, dtype=torch.float64) / sr


def make_sine(freq: float, duration: float, sr: int, amplitude: float = 0.5, phase: float = 0.0) -> torch.Tensor:
    """A sinusoid ``amplitude * sin(2*pi*freq*t + phase)``.

    Frequencies above Nyquist (``sr/2``) are allowed on purpose: Chapter 1 uses
    them to demonstrate aliasing.

    Returns:
        ``float32`` tensor of shape ``(samples,)``.
    """
    t = make_time(duration, sr)
    _check_frequency(freq, sr)
    return (amplitude * torch.sin(2 * math.pi * freq * t + phase)).to(torch.float32)


def make_chirp(
    f0: float, f1: float, duration: float, sr: int, amplitude: float = 0.5, method: str = "linear"
) -> torch.Tensor:
    """A sweep whose instantaneous frequency goes from ``f0`` to ``f1`` Hz.

    ``linear``: f(t) = f0 + (f1 - f0) t / T; ``exponential``: f(t) = f0 (f1/f0)^(t/T).
    The phase is the integral of 2*pi*f(t), so the sweep is click-free. Matches
    :func:`scipy.signal.chirp` (with ``phi=-90`` degrees, i.e. a sine).

    Returns:
        ``float32`` tensor of shape ``(samples,)``.
    """
    t = make_time(duration, sr)
    _check_frequency(f0, sr, "f0")
    _check_frequency(f1, sr, "f1")
    T = float(duration)
    if method == "linear":
        phase = 2 * math.pi * (f0 * t + 0.5 * (f1 - f0) / T * t**2)
    elif method == "exponential":
        if f0 <= 0 or f1 <= 0:
            raise ValueError(f"exponential chirp needs f0 > 0 and f1 > 0; got f0={f0}, f1={f1}")
        if f0 == f1:
            phase = 2 * math.pi * f0 * t
        else:
            k = math.log(f1 / f0) / T
            phase = 2 * math.pi * f0 * (torch.exp(k * t) - 1) / k
    else:
        raise ValueError(f"method must be 'linear' or 'exponential'; got {method!r}")
    return (amplitude * torch.sin(phase)).to(torch.float32)


def make_harmonic_tone(
    f0: float | torch.Tensor,
    duration: float,
    sr: int,
    n_partials: int = 8,
    amplitudes: Sequence[float] | None = None,
    peak: float = 0.5,
    drop_above_nyquist: bool = False,
) -> torch.Tensor:
    """A harmonic tone: partials at f0, 2 f0, 3 f0, ... with given amplitudes.

    Args:
        f0: fundamental in Hz, a number or a tensor of shape ``(samples,)``
            giving f0 at every sample (a glide). The phase of partial k is
            ``2*pi*k * cumsum(f0)/sr``, so all partials move together.
        n_partials: how many partials (ignored when ``amplitudes`` is given).
        amplitudes: the amplitude of each partial; default ``1/k``.
        peak: the output is scaled so its largest absolute value is ``peak``.
        drop_above_nyquist: partials whose frequency would exceed ``sr/2`` raise a
            ``ValueError`` unless this is ``True``, in which case they are muted
            (at the samples where they would alias).

    Returns:
        ``float32`` tensor of shape ``(samples,)``.
    """
    t = make_time(duration, sr)
    n = t.shape[0]
    if amplitudes is None:
        if not isinstance(n_partials, int) or n_partials < 1:
            raise ValueError(f"n_partials must be a positive int; got {n_partials!r}")
        amps = [1.0 / k for k in range(1, n_partials + 1)]
    else:
        amps = [float(a) for a in amplitudes]
        if not amps:
            raise ValueError("amplitudes must hold at least one value")
    if isinstance(f0, torch.Tensor):
        f0_t = f0.to(torch.float64)
        if f0_t.shape != (n,):
            raise ValueError(f"f0 as a tensor must have shape ({n},) (one value per sample); got {tuple(f0_t.shape)}")
        if bool((f0_t < 0).any()):
            raise ValueError("f0 must be non-negative everywhere")
    else:
        _check_frequency(f0, sr, "f0")
        f0_t = torch.full((n,), float(f0), dtype=torch.float64)
    base_phase = 2 * math.pi * (torch.cumsum(f0_t, 0) - f0_t) / sr  # phase 0 at t=0
    out = torch.zeros(n, dtype=torch.float64)
    for k, a in enumerate(amps, start=1):
        fk = k * f0_t
        above = fk >= sr / 2
        if bool(above.any()):
            if not drop_above_nyquist:
                raise ValueError(
                    f"partial {k} reaches {float(fk.max()):.1f} Hz >= Nyquist {sr / 2} Hz; "
                    f"use fewer partials, a lower f0, or drop_above_nyquist=True"
                )
        out += torch.where(above, torch.zeros_like(fk), a * torch.sin(k * base_phase))
    m = out.abs().max()
    if m > 0:
        out = out * (peak / m)
    return out.to(torch.float32)


def make_noise(duration: float, sr: int, color: str = "white", rms: float = 0.1, seed: int | None = None) -> torch.Tensor:
    """Gaussian noise, white (flat spectrum) or pink (power falls as 1/f).

    Pink noise is made by shaping white noise's spectrum by ``1/sqrt(f)``
    (DC removed), which gives a -3 dB/octave power slope.

    Args:
        color: ``"white"`` or ``"pink"``.
        rms: the RMS level of the result.
        seed: seed for a private generator (``None``: the global one).

    Returns:
        ``float32`` tensor of shape ``(samples,)`` with the requested RMS.
    """
    t = make_time(duration, sr)
    n = t.shape[0]
    if rms <= 0:
        raise ValueError(f"rms must be positive; got {rms}")
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    white = torch.randn(n, generator=gen, dtype=torch.float64)
    if color == "white":
        out = white
    elif color == "pink":
        spec = torch.fft.rfft(white)
        f = torch.fft.rfftfreq(n, d=1.0 / sr, dtype=torch.float64)
        scale = torch.zeros_like(f)
        scale[1:] = 1.0 / torch.sqrt(f[1:])
        out = torch.fft.irfft(spec * scale, n=n)
    else:
        raise ValueError(f"color must be 'white' or 'pink'; got {color!r}")
    out = out - out.mean()
    out = out * (rms / out.pow(2).mean().sqrt())
    return out.to(torch.float32)


def make_adsr_envelope(
    duration: float, sr: int, attack: float = 0.01, decay: float = 0.1, sustain: float = 0.7, release: float = 0.2
) -> torch.Tensor:
    """A piecewise-linear attack-decay-sustain-release envelope.

    Args:
        attack, decay, release: segment lengths in seconds; their sum must not
            exceed ``duration``.
        sustain: the sustain level in [0, 1].

    Returns:
        ``float32`` tensor of shape ``(samples,)`` with values in [0, 1].
    """
    t = make_time(duration, sr)
    for name, v in (("attack", attack), ("decay", decay), ("release", release)):
        if v < 0:
            raise ValueError(f"{name} must be >= 0 seconds; got {v}")
    if not 0 <= sustain <= 1:
        raise ValueError(f"sustain must lie in [0, 1]; got {sustain}")
    if attack + decay + release > duration:
        raise ValueError(
            f"attack + decay + release = {attack + decay + release} s exceeds duration={duration} s"
        )
    T = t.shape[0] / sr
    knots_t = [0.0, attack, attack + decay, T - release, T]
    knots_v = [0.0, 1.0, sustain, sustain, 0.0]
    env = torch.from_numpy(__import__("numpy").interp(t.numpy(), knots_t, knots_v))
    return env.to(torch.float32)


def make_fade(waveform: torch.Tensor, sr: int, fade_in: float = 0.01, fade_out: float = 0.01) -> torch.Tensor:
    """Apply linear fade-in and fade-out (seconds) to avoid clicks at the edges.

    Returns:
        ``float32`` tensor, same shape as ``waveform``.
    """
    wav = check_waveform(waveform)
    sr = check_sample_rate(sr)
    n = wav.shape[-1]
    a, b = int(round(fade_in * sr)), int(round(fade_out * sr))
    if a < 0 or b < 0 or a + b > n:
        raise ValueError(f"fade_in + fade_out = {fade_in + fade_out} s must fit in the signal ({n / sr:.3f} s)")
    gain = torch.ones(n)
    if a:
        gain[:a] = torch.linspace(0, 1, a)
    if b:
        gain[n - b:] = torch.linspace(1, 0, b)
    return wav * gain
