"""Signal makers: test sounds with known content (Chapter 1).

Every maker takes a duration in seconds and a sample rate ``sr`` in Hz and
returns a mono ``torch.float32`` tensor of shape ``(round(duration * sr),)``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .io import check_sample_rate, check_waveform
from .utils import check_non_negative_int, check_positive_int, check_real

__all__ = [
    "make_time",
    "make_sine",
    "make_chirp",
    "make_harmonic_tone",
    "make_noise",
    "make_rain",
    "make_adsr_envelope",
    "make_fade",
]


def _check_duration(duration_s: object) -> float:
    return check_real(duration_s, "duration_s", 0.0, low_open=True, unit="s")


def _check_frequency(freq: object, sr: int, name: str = "freq_hz", allow_above_nyquist: bool = True) -> float:
    f = check_real(freq, name, 0.0, unit="Hz")
    if not allow_above_nyquist and f >= sr / 2:
        raise ValueError(f"{name}={f} Hz is at or above the Nyquist frequency sr/2={sr / 2} Hz")
    return f


def make_time(duration_s: float, sr: int) -> torch.Tensor:
    """Sample instants ``n / sr`` for ``n = 0 .. round(duration_s*sr) - 1``.

    Returns:
        ``float64`` tensor of shape ``(samples,)``, in seconds (float64 keeps
        long phases exact; makers cast to float32 at the end).
    """
    sr = check_sample_rate(sr)
    duration_s = _check_duration(duration_s)
    n = int(round(duration_s * sr))
    if n == 0:
        raise ValueError(f"duration_s={duration_s} s at sr={sr} Hz gives zero samples")
    return torch.arange(n, dtype=torch.float64) / sr


def make_sine(freq_hz: float, duration_s: float, sr: int, amplitude: float = 0.5, phase: float = 0.0) -> torch.Tensor:
    """A sinusoid ``amplitude * sin(2*pi*freq_hz*t + phase)``.

    Frequencies above Nyquist (``sr/2``) are allowed on purpose: Chapter 1 uses
    them to demonstrate aliasing.

    Returns:
        ``float32`` tensor of shape ``(samples,)``.
    """
    t = make_time(duration_s, sr)
    freq_hz = _check_frequency(freq_hz, sr)
    amplitude = check_real(amplitude, "amplitude")
    phase = check_real(phase, "phase")
    return (amplitude * torch.sin(2 * math.pi * freq_hz * t + phase)).to(torch.float32)


def make_chirp(
    f0_hz: float, f1_hz: float, duration_s: float, sr: int, amplitude: float = 0.5, method: str = "linear"
) -> torch.Tensor:
    """A sweep whose instantaneous frequency goes from ``f0_hz`` to ``f1_hz`` Hz.

    ``linear``: f(t) = f0_hz + (f1_hz - f0_hz) t / T; ``exponential``: f(t) = f0_hz (f1_hz/f0_hz)^(t/T).
    The phase is the integral of 2*pi*f(t), so the sweep is click-free. Matches
    :func:`scipy.signal.chirp` (with ``phi=-90`` degrees, i.e. a sine).

    Returns:
        ``float32`` tensor of shape ``(samples,)``.
    """
    t = make_time(duration_s, sr)
    f0_hz = _check_frequency(f0_hz, sr, "f0_hz")
    f1_hz = _check_frequency(f1_hz, sr, "f1_hz")
    amplitude = check_real(amplitude, "amplitude")
    T = float(duration_s)
    if method == "linear":
        phase = 2 * math.pi * (f0_hz * t + 0.5 * (f1_hz - f0_hz) / T * t**2)
    elif method == "exponential":
        if f0_hz <= 0 or f1_hz <= 0:
            raise ValueError(f"exponential chirp needs f0_hz > 0 and f1_hz > 0; got f0_hz={f0_hz}, f1_hz={f1_hz}")
        if f0_hz == f1_hz:
            phase = 2 * math.pi * f0_hz * t
        else:
            k = math.log(f1_hz / f0_hz) / T
            phase = 2 * math.pi * f0_hz * (torch.exp(k * t) - 1) / k
    else:
        raise ValueError(f"method must be 'linear' or 'exponential'; got {method!r}")
    return (amplitude * torch.sin(phase)).to(torch.float32)


def make_harmonic_tone(
    f0_hz: float | torch.Tensor,
    duration_s: float,
    sr: int,
    n_partials: int = 8,
    amplitudes: Sequence[float] | None = None,
    peak: float = 0.5,
    drop_above_nyquist: bool = False,
) -> torch.Tensor:
    """A harmonic tone: partials at f0_hz, 2 f0_hz, 3 f0_hz, ... with given amplitudes.

    Args:
        f0_hz: fundamental in Hz, a number or a tensor of shape ``(samples,)``
            giving f0_hz at every sample (a glide). The phase of partial k is
            ``2*pi*k * cumsum(f0_hz)/sr``, so all partials move together.
        n_partials: how many partials (ignored when ``amplitudes`` is given).
        amplitudes: the amplitude of each partial; default ``1/k``.
        peak: the output is scaled so its largest absolute value is ``peak``.
        drop_above_nyquist: partials whose frequency would exceed ``sr/2`` raise a
            ``ValueError`` unless this is ``True``, in which case they are muted
            (at the samples where they would alias).

    Returns:
        ``float32`` tensor of shape ``(samples,)``.
    """
    t = make_time(duration_s, sr)
    sr = int(sr)
    n = t.shape[0]
    peak = check_real(peak, "peak", 0.0, 1.0, low_open=True)
    if amplitudes is None:
        n_partials = check_positive_int(n_partials, "n_partials")
        amps = [1.0 / k for k in range(1, n_partials + 1)]
    else:
        amps = [check_real(a, "amplitudes") for a in amplitudes]
        if not amps:
            raise ValueError("amplitudes must hold at least one value")
    if isinstance(f0_hz, torch.Tensor):
        f0_t = f0_hz.to(torch.float64)
        if not bool(torch.isfinite(f0_t).all()):
            raise ValueError("f0_hz must be finite everywhere")
        if f0_t.shape != (n,):
            raise ValueError(f"f0_hz as a tensor must have shape ({n},) (one value per sample); got {tuple(f0_t.shape)}")
        if bool((f0_t < 0).any()):
            raise ValueError("f0_hz must be non-negative everywhere")
    else:
        f0_hz = _check_frequency(f0_hz, sr, "f0_hz")
        f0_t = torch.full((n,), float(f0_hz), dtype=torch.float64)
    base_phase = 2 * math.pi * (torch.cumsum(f0_t, 0) - f0_t) / sr  # phase 0 at t=0
    out = torch.zeros(n, dtype=torch.float64)
    for k, a in enumerate(amps, start=1):
        fk = k * f0_t
        above = fk >= sr / 2
        if bool(above.any()):
            if not drop_above_nyquist:
                raise ValueError(
                    f"partial {k} reaches {float(fk.max()):.1f} Hz >= Nyquist {sr / 2} Hz; "
                    f"use fewer partials, a lower f0_hz, or drop_above_nyquist=True"
                )
        out += torch.where(above, torch.zeros_like(fk), a * torch.sin(k * base_phase))
    m = out.abs().max()
    if m > 0:
        out = out * (peak / m)
    return out.to(torch.float32)


def make_noise(duration_s: float, sr: int, color: str = "white", rms: float = 0.1, seed: int | None = None) -> torch.Tensor:
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
    t = make_time(duration_s, sr)
    sr = int(sr)
    n = t.shape[0]
    rms = check_real(rms, "rms", 0.0, low_open=True)
    if seed is not None:
        seed = check_non_negative_int(seed, "seed")
    if color not in ("white", "pink"):
        raise ValueError(f"color must be 'white' or 'pink'; got {color!r}")
    if n < 2:
        raise ValueError(f"duration_s={duration_s} s at sr={sr} Hz gives {n} sample; noise needs at least 2")
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


def make_rain(duration_s: float, sr: int, drops_per_s: float = 150.0, peak: float = 0.9,
              seed: int | None = None) -> torch.Tensor:
    """A rain-like texture: many short, decaying drops over a soft noise bed (Chapters 1 and 8).

    Each drop is a sine at a frequency drawn log-uniformly between 1.5 and 6 kHz (at most
    0.45 ``sr``), with an exponential decay of 2 to 8 ms and a level drawn log-uniformly over
    26 dB; drop times are uniform (a Poisson process). Under them lies pink noise. Sound
    textures like this one are what McDermott & Simoncelli's statistics describe well: the same
    statistics everywhere, no events that matter one by one.

    Args:
        drops_per_s: mean number of drops per second.
        peak: the peak level of the result.
        seed: seed for a private generator (``None``: the global one).

    Returns:
        ``float32`` tensor of shape ``(samples,)``, peak ``peak``.
    """
    t = make_time(duration_s, sr)
    sr = int(sr)
    n = t.shape[0]
    rate = check_real(drops_per_s, "drops_per_s", 0.0, low_open=True)
    peak = check_real(peak, "peak", 0.0, low_open=True)
    if seed is not None:
        seed = check_non_negative_int(seed, "seed")
    if n < 2:
        raise ValueError(f"duration_s={duration_s} s at sr={sr} Hz gives {n} sample; rain needs at least 2")
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    n_drops = max(1, round(rate * n / sr))
    length = min(n, round(0.05 * sr))  # 50 ms: more than 6 time constants of the slowest drop
    starts = torch.randint(0, n - length + 1, (n_drops,), generator=gen)
    f_hi = min(6000.0, 0.45 * sr)
    freqs = torch.exp(torch.empty(n_drops, dtype=torch.float64).uniform_(math.log(min(1500.0, f_hi / 2)), math.log(f_hi), generator=gen))
    taus = torch.empty(n_drops, dtype=torch.float64).uniform_(0.002, 0.008, generator=gen)
    levels = torch.exp(torch.empty(n_drops, dtype=torch.float64).uniform_(math.log(0.05), 0.0, generator=gen))
    tt = torch.arange(length, dtype=torch.float64) / sr
    drops = levels[:, None] * torch.sin(2 * math.pi * freqs[:, None] * tt) * torch.exp(-tt / taus[:, None])
    out = torch.zeros(n, dtype=torch.float64)
    out.index_add_(0, (starts[:, None] + torch.arange(length)).flatten(), drops.flatten())
    bed = make_noise(duration_s, sr, color="pink", rms=1.0, seed=None if seed is None else seed + 1).double()
    out = out + 0.1 * bed * out.abs().max()
    return (out * (peak / out.abs().max())).to(torch.float32)


def make_adsr_envelope(
    duration_s: float, sr: int, attack_s: float = 0.01, decay_s: float = 0.1, sustain: float = 0.7, release_s: float = 0.2
) -> torch.Tensor:
    """A piecewise-linear attack-decay-sustain-release envelope (segment lengths in seconds).

    Args:
        attack_s, decay_s, release_s: segment lengths in seconds; their sum must not
            exceed ``duration_s``.
        sustain: the sustain level in [0, 1].

    Returns:
        ``float32`` tensor of shape ``(samples,)`` with values in [0, 1].
    """
    t = make_time(duration_s, sr)
    sr = int(sr)
    duration_s = float(duration_s)
    attack_s = check_real(attack_s, "attack_s", 0.0, unit="s")
    decay_s = check_real(decay_s, "decay_s", 0.0, unit="s")
    release_s = check_real(release_s, "release_s", 0.0, unit="s")
    sustain = check_real(sustain, "sustain", 0.0, 1.0)
    if attack_s + decay_s + release_s > duration_s:
        raise ValueError(
            f"attack_s + decay_s + release_s = {attack_s + decay_s + release_s} s exceeds duration_s={duration_s} s"
        )
    T = t.shape[0] / sr
    knots_t = [0.0, attack_s, attack_s + decay_s, T - release_s, T]
    knots_v = [0.0, 1.0, sustain, sustain, 0.0]
    env = torch.from_numpy(__import__("numpy").interp(t.numpy(), knots_t, knots_v))
    return env.to(torch.float32)


def make_fade(waveform: torch.Tensor, sr: int, fade_in_s: float = 0.01, fade_out_s: float = 0.01) -> torch.Tensor:
    """Apply linear fade-in and fade-out (seconds) to avoid clicks at the edges.

    Returns:
        ``float32`` tensor, same shape as ``waveform``.
    """
    wav = check_waveform(waveform)
    sr = check_sample_rate(sr)
    fade_in_s = check_real(fade_in_s, "fade_in_s", 0.0, unit="s")
    fade_out_s = check_real(fade_out_s, "fade_out_s", 0.0, unit="s")
    n = wav.shape[-1]
    a, b = int(round(fade_in_s * sr)), int(round(fade_out_s * sr))
    if a + b > n:
        raise ValueError(
            f"fade_in_s + fade_out_s = {fade_in_s + fade_out_s} s must fit in the waveform "
            f"({n} samples = {n / sr:.3f} s at sr={sr} Hz)"
        )
    gain = torch.ones(n)
    if a:
        gain[:a] = torch.linspace(0, 1, a)
    if b:
        gain[n - b:] = torch.linspace(1, 0, b)
    return wav * gain
