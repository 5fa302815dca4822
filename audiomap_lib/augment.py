"""Waveform augmentations for training, and the distortions of the robustness curves (Chapter 6).

:class:`WaveformAugment` is a batch augmentation for
``audiomap_lib.training.fit(..., augment=...)``: it is called as
``augment(waveforms (B, 1, T), lengths (B,)) -> waveforms (B, 1, T)`` and applies, each with
its own probability and a seeded random generator,

* **speed perturbation**: play the clip faster or slower by a random factor (resampled with
  :func:`audiomap_lib.io.resample`; tempo and pitch change together, like a tape), then
  re-centred and cropped or zero-padded back to ``T`` samples;
* **pitch** (off by default): move the pitch and formants by a random factor and keep the timing
  (:func:`shift_pitch`: a phase vocoder, :func:`stretch_time`, then resampling);
* **time shift**: move the clip earlier or later, filling with zeros (nothing wraps around);
* **gain**: multiply by a random gain in dB (no clipping: the samples stay floats);
* **babble** (off by default): other voices talking at once: a few other clips of the batch,
  each moved in time, summed (:func:`make_babble`) and added at a random SNR;
* **recorded noise** (off by default): a random stretch of a real recording (a hum, music, a
  record's hiss; :mod:`audiomap_lib.data.noises`) added at a random SNR;
* **noise**: add white noise at a random signal-to-noise ratio;
* **band-limiting** (off by default): resample to a lower rate and back, as a telephone line or a
  cheap recorder does (nothing above half the lower rate survives);
* **reverberation** (off by default): convolve with a simulated room impulse response whose
  reverberation time is drawn at random (:func:`make_room_impulse_response`).

:func:`add_noise_at_snr`, :func:`make_babble`, :func:`make_noise_segments`, :func:`shift_waveform`,
:func:`band_limit` and :func:`reverberate` are the same distortions with fixed amounts, for
measuring accuracy against SNR, babble, recorded noise, shift, bandwidth and room.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from .io import check_batch, check_sample_rate, resample
from .utils import check_non_negative_int, check_positive_int, check_real, check_tensor

__all__ = [
    "WaveformAugment",
    "add_noise_at_snr",
    "band_limit",
    "change_speed",
    "compute_decay_curve_db",
    "compute_rt60_s",
    "make_babble",
    "make_noise_segments",
    "make_room_impulse_response",
    "reverberate",
    "shift_pitch",
    "shift_waveform",
    "stretch_time",
]


def _check_batch(waveforms: torch.Tensor, name: str = "waveforms") -> torch.Tensor:
    if not isinstance(waveforms, torch.Tensor) or not waveforms.is_floating_point():
        raise TypeError(f"{name} must be a floating-point torch.Tensor; got {type(waveforms).__name__}"
                        + (f" of dtype {waveforms.dtype}" if isinstance(waveforms, torch.Tensor) else ""))
    if waveforms.ndim not in (1, 2, 3) or waveforms.shape[-1] == 0:
        raise ValueError(f"{name} must have shape (samples,), (channels, samples) or (batch, 1, samples) "
                         f"with at least one sample; got {tuple(waveforms.shape)}")
    if not bool(torch.isfinite(waveforms).all()):
        raise ValueError(f"{name} holds NaN or infinite samples (a bad recording?); expected finite values")
    return waveforms


def add_noise_at_snr(waveform: torch.Tensor, snr_db: float | torch.Tensor, generator: torch.Generator | None = None,
                     noise: torch.Tensor | None = None) -> torch.Tensor:
    """Add white Gaussian noise so that the signal-to-noise ratio is exactly ``snr_db`` (Chapter 6).

    The noise is scaled so that ``10 log10(P_signal / P_noise) = snr_db`` where ``P`` is the mean
    square over the whole clip (last axis). A silent clip gets no noise (its SNR is undefined).

    Args:
        waveform: ``(T,)``, ``(C, T)`` or ``(B, 1, T)``.
        snr_db: the SNR in dB: a number, or a tensor broadcastable to ``waveform.shape[:-1]``
            (one SNR per clip).
        generator: a seeded ``torch.Generator`` (CPU) for the noise.
        noise: use this noise (same shape as ``waveform``) instead of drawing it.

    Returns:
        The noisy waveform, same shape and dtype (no clipping).
    """
    waveform = _check_batch(waveform, "waveform")
    if isinstance(snr_db, (bool, np.bool_)) or not isinstance(snr_db, (int, float, np.integer, np.floating, torch.Tensor)):
        raise TypeError(f"snr_db must be a number or a tensor of numbers in dB; got {snr_db!r}")
    if isinstance(snr_db, torch.Tensor) and (snr_db.is_complex() or snr_db.dtype == torch.bool):
        raise TypeError(f"snr_db must hold real numbers in dB; got dtype {snr_db.dtype}")
    snr = torch.as_tensor(snr_db).to(torch.float64)
    if not bool(torch.isfinite(snr).all()):
        raise ValueError(f"snr_db must be finite; got {snr_db!r}")
    clips = tuple(waveform.shape[:-1])
    try:
        fits = torch.broadcast_shapes(tuple(snr.shape), clips) == clips
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(f"snr_db must be a number or broadcast to one SNR per clip, shape {clips} "
                         f"(waveform.shape[:-1]); got shape {tuple(snr.shape)}")
    if noise is None:
        noise = torch.randn(waveform.shape, generator=generator, dtype=torch.float32).to(waveform.device)
    else:
        noise = _check_batch(noise, "noise")
        if noise.shape != waveform.shape:
            raise ValueError(f"noise must have the waveform's shape {tuple(waveform.shape)}; got {tuple(noise.shape)}")
    p_s = waveform.double().pow(2).mean(-1)
    p_n = noise.double().pow(2).mean(-1).clamp_min(1e-20)
    scale = torch.sqrt(p_s / (p_n * 10 ** (snr.to(p_s.device) / 10)))  # (…,)
    return (waveform.double() + scale.unsqueeze(-1) * noise.double()).to(waveform.dtype)


def make_babble(talkers: torch.Tensor, n: int, n_talkers: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Babble: several voices talking at once, made from clips of speech (Chapter 6).

    Each of the ``n`` babble clips sums ``n_talkers`` different clips drawn at random from
    ``talkers``, each scaled to the same power (so that no talker dominates) and rotated by a
    random number of samples (circularly: the words start at different times and the babble has
    no silent start). Add it with :func:`add_noise_at_snr` (``noise=``).

    Args:
        talkers: ``(K, 1, T)`` or ``(K, T)`` clips of speech, ``K >= n_talkers``, none silent.
        n: how many babble clips to make.
        n_talkers: voices per babble clip.
        generator: a seeded ``torch.Generator`` (CPU): the same seed, the same babble.

    Returns:
        ``(n, 1, T)`` float32 (``(n, T)`` for ``(K, T)`` input), each of mean power 1.

    Raises:
        ValueError: fewer talkers than ``n_talkers``, a silent talker, or a bad shape.
    """
    talkers = _check_batch(talkers, "talkers")
    if talkers.ndim == 1 or (talkers.ndim == 3 and talkers.shape[1] != 1):
        raise ValueError(f"talkers must have shape (K, 1, T) or (K, T); got {tuple(talkers.shape)}")
    n = check_positive_int(n, "n")
    n_talkers = check_positive_int(n_talkers, "n_talkers")
    flat = talkers.reshape(talkers.shape[0], -1).double()
    k, t = flat.shape
    if k < n_talkers:
        raise ValueError(f"talkers holds {k} clips; n_talkers={n_talkers} different ones are needed for each babble clip")
    power = flat.pow(2).mean(-1)
    if bool((power == 0).any()):
        raise ValueError(f"talkers[{int(torch.nonzero(power == 0)[0])}] is silent; every talker must be speech")
    flat = flat / power.sqrt().unsqueeze(-1)
    picks = torch.rand(n, k, generator=generator).argsort(dim=1)[:, :n_talkers]  # n_talkers different clips each
    shifts = torch.randint(0, t, (n, n_talkers), generator=generator)
    idx = (torch.arange(t).view(1, 1, t) - shifts.unsqueeze(-1)) % t  # torch.roll per (clip, talker)
    babble = torch.gather(flat[picks], 2, idx).sum(1)
    babble = babble / babble.pow(2).mean(-1, keepdim=True).sqrt().clamp_min(1e-12)
    out = babble.to(torch.float32).to(talkers.device)
    return out.unsqueeze(1) if talkers.ndim == 3 else out


def make_noise_segments(noise_bank: tuple[torch.Tensor, ...] | list[torch.Tensor], n: int, length: int,
                        generator: torch.Generator | None = None) -> torch.Tensor:
    """Random stretches of recorded noise, e.g. from :func:`audiomap_lib.data.noises.load_noise_bank` (Chapter 6).

    Each segment comes from a recording drawn at random and starts at a random sample, so that
    it lies wholly inside the recording (nothing wraps around, nothing is padded).

    Args:
        noise_bank: recordings, each ``(samples_i,)`` with ``samples_i >= length``, at the clips' rate.
        n: how many segments.
        length: samples per segment (the clips' length ``T``).
        generator: a seeded ``torch.Generator`` (CPU).

    Returns:
        ``(n, 1, length)`` float32.

    Raises:
        ValueError: an empty bank, a recording shorter than ``length`` or not 1-D, a silent recording.
    """
    if not isinstance(noise_bank, (tuple, list)) or not noise_bank:
        raise ValueError(f"noise_bank must be a non-empty tuple of (samples,) recordings; got {type(noise_bank).__name__}")
    n = check_positive_int(n, "n")
    length = check_positive_int(length, "length")
    for j, rec in enumerate(noise_bank):
        rec = _check_batch(rec, f"noise_bank[{j}]")
        if rec.ndim != 1:
            raise ValueError(f"noise_bank[{j}] must have shape (samples,); got {tuple(rec.shape)}")
        if rec.shape[0] < length:
            raise ValueError(f"noise_bank[{j}] holds {rec.shape[0]} samples, fewer than length={length}: "
                             "a segment must lie inside its recording")
        if not bool(rec.abs().max() > 0):
            raise ValueError(f"noise_bank[{j}] is silent; expected a recording of noise")
    which = torch.randint(0, len(noise_bank), (n,), generator=generator)
    starts = [int(torch.randint(0, noise_bank[int(j)].shape[0] - length + 1, (1,), generator=generator)) for j in which]
    out = torch.stack([noise_bank[int(j)][s: s + length].float() for j, s in zip(which, starts)])
    return out.unsqueeze(1)


def shift_waveform(waveform: torch.Tensor, shift: int) -> torch.Tensor:
    """Move a clip later (``shift > 0``) or earlier (``shift < 0``) by ``shift`` samples (Chapter 6).

    Samples pushed past either end are dropped and the gap is filled with zeros (no wrap-around).

    Returns:
        Tensor of the same shape.
    """
    waveform = _check_batch(waveform, "waveform")
    if isinstance(shift, (bool, np.bool_)) or not isinstance(shift, (int, np.integer)):
        raise TypeError(f"shift must be an int number of samples; got {shift!r}")
    shift = int(shift)
    n = waveform.shape[-1]
    if shift == 0:
        return waveform.clone()
    if abs(shift) >= n:
        return torch.zeros_like(waveform)
    out = torch.zeros_like(waveform)
    if shift > 0:
        out[..., shift:] = waveform[..., : n - shift]
    else:
        out[..., : n + shift] = waveform[..., -shift:]
    return out


def band_limit(waveform: torch.Tensor, sr: int, low_sr: int) -> torch.Tensor:
    """Keep only what a recording at ``low_sr`` Hz can hold: resample down and back up (Chapter 6).

    The clip is resampled from ``sr`` to ``low_sr`` with :func:`audiomap_lib.io.resample` (whose
    anti-aliasing filter removes what lies above ``low_sr / 2``), back to ``sr``, and re-centred,
    cropped or zero-padded to its own length (the round trip can add a sample).

    Args:
        waveform: ``(T,)``, ``(C, T)`` or ``(B, 1, T)`` at ``sr``.
        sr: the clip's sample rate in Hz.
        low_sr: the lower rate in Hz, ``low_sr < sr`` (8000: a telephone line, nothing above 4 kHz).

    Returns:
        Tensor of the same shape and dtype, still at ``sr``.

    Raises:
        ValueError: ``low_sr`` not below ``sr`` (nothing would be removed).
    """
    waveform = _check_batch(waveform, "waveform")
    sr = check_sample_rate(sr, "sr")
    low_sr = check_sample_rate(low_sr, "low_sr")
    if low_sr >= sr:
        raise ValueError(f"low_sr must be below sr={sr} Hz (band-limiting removes what lies above low_sr / 2); got {low_sr} Hz")
    shape = waveform.shape
    flat = waveform.reshape(-1, shape[-1]).float()
    out = resample(resample(flat, sr, low_sr), low_sr, sr)
    return _fit_length(out, shape[-1]).reshape(shape).to(waveform.dtype)


def make_room_impulse_response(rt60_s: float, sr: int, drr_db: float = 0.0, generator: torch.Generator | None = None
                               ) -> torch.Tensor:
    """A simulated room impulse response: a direct path, then exponentially decaying noise (Chapter 6).

    The statistical model of a diffuse room (Polack): after the direct sound, reflections arrive so
    densely that the tail is Gaussian noise under an envelope ``exp(-t / tau)``. Its energy falls by
    60 dB in the **reverberation time** ``RT60``, so ``tau = RT60 / (3 ln 10)``. The tail is scaled so
    that the direct path's energy over the tail's is ``drr_db`` (the direct-to-reverberant ratio:
    about +10 dB close to the microphone, 0 dB or below across a room), and the whole response is
    scaled to unit energy (a white signal keeps its power). A decay measured with Schroeder's
    backward integration gives ``rt60_s`` back (:func:`compute_rt60_s`; checked in the tests).

    Args:
        rt60_s: reverberation time in s, in ``(0, 10]`` (a living room 0.3-0.6 s, a church 2-4 s).
        sr: sample rate in Hz.
        drr_db: direct-to-reverberant energy ratio in dB.
        generator: a seeded ``torch.Generator`` for the noise.

    Returns:
        ``(ceil(rt60_s * sr),)`` float32 tensor with ``h[0]`` the direct path; ``sum(h**2) == 1``.
    """
    rt60_s = check_real(rt60_s, "rt60_s", 0.0, 10.0, low_open=True, unit="s")
    sr = check_sample_rate(sr, "sr")
    drr_db = check_real(drr_db, "drr_db", -60.0, 60.0, unit="dB")
    n = max(2, int(np.ceil(rt60_s * sr)))
    t_s = torch.arange(n, dtype=torch.float64) / sr
    tail = torch.randn(n, generator=generator, dtype=torch.float64) * torch.exp(-t_s * 3 * np.log(10) / rt60_s)
    tail[0] = 0.0
    tail = tail * torch.sqrt(10 ** (-drr_db / 10) / tail.pow(2).sum())  # tail energy / direct energy = 10^(-DRR/10)
    tail[0] = 1.0
    return (tail / tail.pow(2).sum().sqrt()).float()


def compute_decay_curve_db(rir: torch.Tensor) -> torch.Tensor:
    """Schroeder's energy decay curve of an impulse response, in dB (Chapter 6).

    ``EDC[n] = 10 log10( sum_{m >= n} h[m]^2 / sum_m h[m]^2 )``: the energy still to come after
    sample ``n``, a smooth curve from 0 dB down, whose slope is the room's decay rate.

    Args:
        rir: ``(K,)``.

    Returns:
        ``(K,)`` float64, ``0`` at ``n = 0``, falling (``-inf`` after the last non-zero sample).
    """
    h = _check_rir(rir)
    if h.ndim != 1:
        raise ValueError(f"rir must have shape (K,); got {tuple(h.shape)}")
    energy = h.double().pow(2).flip(0).cumsum(0).flip(0)
    if float(energy[0]) == 0.0:
        raise ValueError("rir is all zeros; an impulse response needs at least one non-zero sample")
    return 10 * torch.log10(energy / energy[0])


def compute_rt60_s(rir: torch.Tensor, sr: int, fit_db: tuple[float, float] = (-5.0, -25.0)) -> float:
    """The reverberation time of an impulse response, measured as acousticians do (Chapter 6).

    A least-squares line through Schroeder's decay curve (:func:`compute_decay_curve_db`) between
    ``fit_db[0]`` and ``fit_db[1]`` (-5 to -25 dB: the "T20" of ISO 3382), extrapolated to 60 dB.

    Args:
        rir: ``(K,)``.
        sr: its rate in Hz.
        fit_db: the range of the fit, ``(upper, lower)`` in dB below 0.

    Returns:
        RT60 in s.

    Raises:
        ValueError: the curve does not fall through the fit range (too short a response).
    """
    sr = check_sample_rate(sr, "sr")
    upper, lower = (check_real(v, f"fit_db[{i}]", high=0.0) for i, v in enumerate(fit_db))
    if not lower < upper:
        raise ValueError(f"fit_db must be (upper, lower) with lower < upper <= 0 dB; got {fit_db!r}")
    edc = compute_decay_curve_db(rir)
    keep = (edc <= upper) & (edc >= lower)
    if int(keep.sum()) < 2 or float(edc[torch.isfinite(edc)].min()) > lower:
        raise ValueError(f"the decay curve of rir does not fall from {upper} to {lower} dB; "
                         "pass a longer impulse response or a narrower fit_db")
    t_s = torch.arange(len(edc), dtype=torch.float64)[keep] / sr
    y = edc[keep]
    slope = float(((t_s - t_s.mean()) * (y - y.mean())).sum() / (t_s - t_s.mean()).pow(2).sum())  # dB per second
    return -60.0 / slope


def reverberate(waveform: torch.Tensor, rir: torch.Tensor) -> torch.Tensor:
    """Play a clip in a room: causal convolution with an impulse response, keeping the length (Chapter 6).

    ``y = (x * h)[:T]``: the full linear convolution (through the FFT, as Chapter 3's
    :func:`audiomap_lib.conv.fft_convolve`) cut to the clip's own ``T`` samples, so the direct sound
    stays where it was; the reverberant tail after the clip's end is cut off (the clips of this
    course end in silence, where the tail would be).

    Args:
        waveform: ``(T,)``, ``(C, T)`` or ``(B, 1, T)``.
        rir: the impulse response, ``(K,)`` (one room for every clip) or the waveform's leading
            shape plus ``(K,)`` (one room per clip).

    Returns:
        Tensor of the same shape and dtype.
    """
    waveform = _check_batch(waveform, "waveform")
    rir = _check_rir(rir)
    if rir.ndim != 1 and tuple(rir.shape[:-1]) != tuple(waveform.shape[:-1]):
        raise ValueError(f"rir must have shape (K,) or the waveform's leading shape {tuple(waveform.shape[:-1])} "
                         f"plus (K,); got {tuple(rir.shape)}")
    n, k = waveform.shape[-1], rir.shape[-1]
    size = 1 << max(0, (n + k - 2).bit_length())  # a power of two >= N + K - 1: nothing wraps around
    work = torch.float64 if waveform.dtype == torch.float64 else torch.float32
    x, h = waveform.to(work), rir.to(work).to(waveform.device)
    y = torch.fft.irfft(torch.fft.rfft(x, n=size) * torch.fft.rfft(h, n=size), n=size)
    return y[..., :n].to(waveform.dtype)


def _check_rir(rir: object) -> torch.Tensor:
    """An impulse response: real, finite, at least one sample (NumPy arrays are taken)."""
    h = check_tensor(rir, "rir", shape="(K,)")
    if not h.is_floating_point():
        h = h.float()
    if h.ndim == 0 or h.shape[-1] == 0:
        raise ValueError(f"rir must have at least one sample, shape (K,) or (..., K); got {tuple(h.shape)}")
    if not bool(torch.isfinite(h).all()):
        raise ValueError("rir holds NaN or infinite values; expected finite values")
    return h


def _fit_length(x: torch.Tensor, length: int) -> torch.Tensor:
    """Centre-crop or zero-pad the last axis to ``length``."""
    diff = length - x.shape[-1]
    left = diff // 2 if diff >= 0 else -((-diff) // 2)
    return torch.nn.functional.pad(x, (left, diff - left))


def _speed_rate(factor: float, sr: int) -> int:
    """The resampling target for a speed factor, rounded to a multiple of sr/16 (a short, cheap filter)."""
    step = sr // 16 if sr % 16 == 0 else 100
    return max(step, round(sr / factor / step) * step)


def change_speed(waveform: torch.Tensor, factor: float, sr: int) -> torch.Tensor:
    """Play a clip ``factor`` times faster (tempo and pitch together), keeping its length (Chapter 6).

    The clip is resampled from ``sr`` to ``round(sr / factor)`` with :func:`audiomap_lib.io.resample`
    and played back at ``sr``; then it is re-centred, cropped or zero-padded to its original length.

    Args:
        waveform: ``(T,)``, ``(C, T)`` or ``(B, 1, T)``.
        factor: speed factor > 0 (1.1: 10 % faster and higher).
        sr: the clip's sample rate in Hz (required), which defines the resampling ratio. The target rate is rounded to a
            multiple of ``sr / 16`` (for 16 kHz: 14, 15, 16, 17, 18 kHz ...), which keeps the
            resampling filter short; the factor actually applied is ``sr / target``.

    Returns:
        Tensor of the same shape.
    """
    waveform = _check_batch(waveform, "waveform")
    sr = check_sample_rate(sr, "sr")
    factor = check_real(factor, "factor", 0.25, 4.0)
    new_sr = _speed_rate(factor, sr)
    if new_sr == sr:
        return waveform.clone()
    shape = waveform.shape
    flat = waveform.reshape(-1, shape[-1])
    out = resample(flat, sr, new_sr)
    return _fit_length(out, shape[-1]).reshape(shape).to(waveform.dtype)


def _phase_vocoder(spec: torch.Tensor, rate: float, hop_length: int) -> torch.Tensor:
    """Stretch a one-sided STFT ``(..., freq, frames)`` in time by ``1 / rate``: a phase vocoder
    with identity phase locking (Laroche and Dolson, 1999).

    Output frame ``t`` reads the input at the fractional frame ``t * rate``. Its magnitude is
    interpolated linearly between the two neighbouring input frames (as ``librosa.phase_vocoder``;
    the tests check the magnitudes equal). Each bin's phase advances by its expected advance
    ``2 pi k hop / n_fft`` plus the measured deviation (wrapped to ``[-pi, pi]``), so a partial keeps
    its frequency. Left alone, the bins of one partial drift apart in phase and cancel (the output
    grows quiet and "phasey"); so every bin is then *locked* to the nearest peak of its frame: it
    takes the peak's phase plus the phase difference it had from that peak in the input.
    """
    n_freq, n = spec.shape[-2], spec.shape[-1]
    steps = torch.arange(0, n, rate, dtype=torch.float64, device=spec.device)
    padded = torch.nn.functional.pad(spec, (0, 2))
    i0 = steps.long().to(spec.device)
    alpha = (steps - steps.floor()).to(spec.real.dtype)
    c0, c1 = padded[..., i0], padded[..., i0 + 1]
    magnitude = (1 - alpha) * c0.abs() + alpha * c1.abs()
    n_fft = 2 * (n_freq - 1)
    bins = torch.arange(n_freq, device=spec.device)
    expected = (2 * np.pi * hop_length / n_fft * bins.to(spec.real.dtype)).unsqueeze(-1)
    deviation = torch.angle(c1) - torch.angle(c0) - expected
    deviation = deviation - 2 * np.pi * torch.round(deviation / (2 * np.pi))
    advance = expected + deviation
    phase = torch.angle(spec[..., :1]) + torch.cat([torch.zeros_like(advance[..., :1]), torch.cumsum(advance[..., :-1], -1)], -1)
    # identity phase locking: the nearest peak of each output frame, for every bin
    below_mag = torch.nn.functional.pad(magnitude, (0, 0, 1, 0), value=-1.0)[..., :-1, :]
    above_mag = torch.nn.functional.pad(magnitude, (0, 0, 0, 1), value=-1.0)[..., 1:, :]
    peak = (magnitude > below_mag) & (magnitude >= above_mag)
    k = bins.view(-1, 1).expand_as(magnitude)
    far = 4 * n_freq
    below = torch.where(peak, k, torch.full_like(k, -far)).cummax(dim=-2).values
    above = torch.where(peak, k, torch.full_like(k, 2 * far)).flip(-2).cummin(dim=-2).values.flip(-2)
    nearest = torch.where(k - below <= above - k, below, above).clamp(0, n_freq - 1)
    reference = torch.angle(c0)
    locked = torch.gather(phase, -2, nearest) + reference - torch.gather(reference, -2, nearest)
    return torch.polar(magnitude, locked)


def stretch_time(waveform: torch.Tensor, rate: float, n_fft: int = 512, hop_length: int = 128) -> torch.Tensor:
    """Play a clip ``rate`` times faster without changing its pitch: the phase vocoder (Chapter 6).

    STFT (Hann window, ``n_fft``, ``hop_length``), :func:`_phase_vocoder`, inverse STFT. Unlike
    :func:`change_speed`, pitch and formants stay where they were; only the timing changes, and the
    power per second is kept.

    Args:
        waveform: ``(T,)``, ``(C, T)`` or ``(B, 1, T)``.
        rate: speed factor in ``[0.25, 4]`` (0.8: 25 % longer).
        n_fft, hop_length: the STFT's frame and hop in samples (``hop_length <= n_fft // 2``).

    Returns:
        The stretched clips, ``round(T / rate)`` samples long, same leading shape and dtype.
    """
    waveform = _check_batch(waveform, "waveform")
    rate = check_real(rate, "rate", 0.25, 4.0)
    n_fft = check_positive_int(n_fft, "n_fft")
    hop_length = check_positive_int(hop_length, "hop_length")
    if n_fft < 4 or hop_length > n_fft // 2:
        raise ValueError(f"n_fft must be at least 4 and hop_length at most n_fft // 2 (Hann frames must overlap "
                         f"by half or more to be inverted); got n_fft={n_fft}, hop_length={hop_length}")
    shape = waveform.shape
    if shape[-1] < n_fft // 2 + 1:
        raise ValueError(f"waveform must have more than n_fft / 2 = {n_fft // 2} samples; got {shape[-1]}")
    work = torch.float64 if waveform.dtype == torch.float64 else torch.float32
    flat = waveform.reshape(-1, shape[-1]).to(work)
    window = torch.hann_window(n_fft, dtype=work, device=flat.device)
    spec = torch.stft(flat, n_fft, hop_length, window=window, return_complex=True)
    length = max(1, round(shape[-1] / rate))
    out = torch.istft(_phase_vocoder(spec, rate, hop_length), n_fft, hop_length, window=window, length=length)
    return out.reshape(*shape[:-1], length).to(waveform.dtype)


def shift_pitch(waveform: torch.Tensor, factor: float, sr: int) -> torch.Tensor:
    """Raise (``factor > 1``) or lower the pitch and formants of a clip, keeping its timing (Chapter 6).

    :func:`stretch_time` makes the clip ``factor`` times longer at the same pitch; resampled from
    ``sr`` to ``sr / factor`` and played at ``sr``, it is back to its own length with every frequency
    multiplied by ``factor``: a higher or lower voice at the speaker's own tempo (speed perturbation,
    :func:`change_speed`, changes both). The resampling target is rounded as in :func:`change_speed`
    (a multiple of ``sr / 16``), so the factor applied is ``sr / target``.

    Args:
        waveform: ``(T,)``, ``(C, T)`` or ``(B, 1, T)`` at ``sr``.
        factor: frequency factor in ``[0.5, 2]`` (1.26: four semitones up).
        sr: the clip's rate in Hz.

    Returns:
        Tensor of the same shape and dtype.
    """
    waveform = _check_batch(waveform, "waveform")
    sr = check_sample_rate(sr, "sr")
    factor = check_real(factor, "factor", 0.5, 2.0)
    new_sr = _speed_rate(factor, sr)
    if new_sr == sr:
        return waveform.clone()
    shape = waveform.shape
    longer = stretch_time(waveform.reshape(-1, shape[-1]), new_sr / sr)
    out = resample(longer, sr, new_sr)
    return _fit_length(out, shape[-1]).reshape(shape).to(waveform.dtype)


@dataclass(kw_only=True)
class WaveformAugment:
    """A seeded batch augmentation for :func:`audiomap_lib.training.fit` (Chapter 6).

    Called as ``augment(waveforms (B, 1, T), lengths (B,))``; returns waveforms of the same
    shape (``lengths`` is not changed: the clips keep their length, padding stays at the end
    up to the shift and speed change of each clip).

    Every argument is passed by keyword; ``sr`` has no default.

    Args:
        sr: sample rate of the waveforms in Hz (required, e.g. ``loader.sample_rate_hz``; also
            readable as ``sample_rate_hz``, which :func:`audiomap_lib.training.fit` checks against
            the model's).
        speed: ``(low, high)`` range of speed factors (``None``: off). ``speed_steps`` values are
            spread evenly over it and rounded as in :func:`change_speed` (16 kHz, 0.85-1.15: the
            factors 16/19 ... 16/14); each clip gets one at random, and the clips of one factor
            are resampled together.
        speed_steps: number of candidate factors before rounding.
        pitch: ``(low, high)`` range of frequency factors for :func:`shift_pitch` (``None``: off);
            ``pitch_steps`` values spread over it and rounded as ``speed``; each clip gets one.
        shift_ms: largest time shift in ms, either way (``0``: off).
        gain_db: ``(low, high)`` gain range in dB (``None``: off).
        snr_db: ``(low, high)`` SNR range in dB for added white noise (``None``: off).
        band_sr_hz: candidate lower rates in Hz for :func:`band_limit`, each below ``sr`` (``None``:
            off); each band-limited clip gets one at random.
        rt60_s: ``(low, high)`` range of reverberation times in s for :func:`reverberate` with a
            :func:`make_room_impulse_response` drawn per clip (``None``: off).
        drr_db: ``(low, high)`` range of the rooms' direct-to-reverberant ratios in dB.
        babble_snr_db: ``(low, high)`` SNR range in dB for babble (``None``: off): each babbled clip
            gets :func:`make_babble` of ``babble_talkers`` *other* clips of the same batch (as they
            came in, before any step). A batch of ``b <= babble_talkers`` clips (the last, short
            batch of an epoch) has only ``b - 1`` others, and its babble has that many voices; a
            batch of one clip gets none.
        babble_talkers: voices in each babble.
        recorded_noises: names of recordings from :mod:`audiomap_lib.data.noises` (e.g.
            ``TRAIN_NOISES``), loaded once at ``sr``; each clip that gets one receives a random
            stretch (:func:`make_noise_segments`) at a random SNR from ``recorded_snr_db``
            (``None``: off).
        recorded_snr_db: ``(low, high)`` SNR range in dB for recorded noise.
        p_speed, p_pitch, p_shift, p_gain, p_noise, p_band, p_reverb, p_babble, p_recorded: probability
            of each step per clip. The steps run in the order speed, pitch, shift, babble, recorded
            noise, reverberation, band-limiting, gain, white noise (a voice among other sounds, in a
            room, through a narrow channel, then the recorder's noise).
        seed: seeds the augmentation's own ``torch.Generator`` (same seed, same augmentations).
    """

    sr: int
    speed: tuple[float, float] | None = (0.85, 1.15)
    speed_steps: int = 7
    shift_ms: float = 100.0
    gain_db: tuple[float, float] | None = (-6.0, 6.0)
    snr_db: tuple[float, float] | None = (5.0, 40.0)
    p_speed: float = 0.8
    p_shift: float = 0.8
    p_gain: float = 0.5
    p_noise: float = 0.5
    pitch: tuple[float, float] | None = None
    pitch_steps: int = 7
    p_pitch: float = 0.3
    band_sr_hz: tuple[int, ...] | None = None
    p_band: float = 0.3
    rt60_s: tuple[float, float] | None = None
    drr_db: tuple[float, float] = (-5.0, 10.0)
    p_reverb: float = 0.3
    babble_snr_db: tuple[float, float] | None = None
    babble_talkers: int = 4
    p_babble: float = 0.3
    recorded_noises: tuple[str, ...] | None = None
    recorded_snr_db: tuple[float, float] = (0.0, 20.0)
    p_recorded: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        self.sr = check_sample_rate(self.sr, "sr")
        for name in ("p_speed", "p_pitch", "p_shift", "p_gain", "p_noise", "p_band", "p_reverb", "p_babble", "p_recorded"):
            setattr(self, name, check_real(getattr(self, name), name, 0.0, 1.0))
        for name in ("speed", "pitch", "gain_db", "snr_db", "rt60_s", "drr_db", "babble_snr_db", "recorded_snr_db"):
            r = getattr(self, name)
            if r is None and name not in ("drr_db", "recorded_snr_db"):
                continue
            if not isinstance(r, (tuple, list)) or len(r) != 2:
                raise ValueError(f"{name} must be a (low, high) pair with low <= high, or None; got {r!r}")
            low, high = (check_real(v, f"{name}[{i}]") for i, v in enumerate(r))
            if low > high:
                raise ValueError(f"{name} must be a (low, high) pair with low <= high, or None; got {r!r}")
            setattr(self, name, (low, high))
        if self.speed is not None and not 0.25 <= self.speed[0] <= self.speed[1] <= 4:
            raise ValueError(f"speed factors must lie in [0.25, 4]; got {self.speed!r}")
        if self.rt60_s is not None and not 0 < self.rt60_s[0]:
            raise ValueError(f"rt60_s must be a (low, high) pair of reverberation times > 0 s, or None; got {self.rt60_s!r}")
        if self.rt60_s is not None:
            check_real(self.rt60_s[1], "rt60_s[1]", 0.0, 10.0, low_open=True, unit="s")
        if self.band_sr_hz is not None:
            if isinstance(self.band_sr_hz, (int, np.integer)) or not isinstance(self.band_sr_hz, (tuple, list)) or not self.band_sr_hz:
                raise ValueError(f"band_sr_hz must be a non-empty tuple of rates in Hz below sr={self.sr}, or None; "
                                 f"got {self.band_sr_hz!r}")
            rates = tuple(check_sample_rate(r, f"band_sr_hz[{i}]") for i, r in enumerate(self.band_sr_hz))
            if max(rates) >= self.sr:
                raise ValueError(f"band_sr_hz must hold rates below sr={self.sr} Hz; got {self.band_sr_hz!r}")
            self.band_sr_hz = rates
        if self.pitch is not None and not 0.5 <= self.pitch[0] <= self.pitch[1] <= 2:
            raise ValueError(f"pitch factors must lie in [0.5, 2]; got {self.pitch!r}")
        self.pitch_steps = check_positive_int(self.pitch_steps, "pitch_steps")
        self.speed_steps = check_positive_int(self.speed_steps, "speed_steps")
        self.shift_ms = check_real(self.shift_ms, "shift_ms", 0.0, unit="ms")
        self.babble_talkers = check_positive_int(self.babble_talkers, "babble_talkers")
        self.noise_bank: tuple[torch.Tensor, ...] | None = None
        if self.recorded_noises is not None:
            from .data.noises import load_noise_bank

            if isinstance(self.recorded_noises, str) or not isinstance(self.recorded_noises, (tuple, list)):
                raise ValueError("recorded_noises must be a tuple of names from audiomap_lib.data.noises "
                                 f"(e.g. TRAIN_NOISES), or None; got {self.recorded_noises!r}")
            self.recorded_noises = tuple(self.recorded_noises)
            self.noise_bank = load_noise_bank(self.recorded_noises, self.sr)
        self.seed = check_non_negative_int(self.seed, "seed")
        self.generator = torch.Generator().manual_seed(self.seed)

    @property
    def sample_rate_hz(self) -> int:
        """The rate the waveforms must have, in Hz (``sr``)."""
        return self.sr

    def describe(self) -> dict:
        """The settings as a plain dict."""
        return {k: v for k, v in asdict(self).items()}

    def _coin(self, n: int, p: float) -> torch.Tensor:
        return torch.rand(n, generator=self.generator) < p

    def _uniform(self, n: int, low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=self.generator)

    def __call__(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Augment a batch ``(B, 1, T)``.

        Returns:
            ``(B, 1, T)`` on the same device, same dtype.
        """
        waveforms = _check_batch(waveforms)
        if waveforms.ndim != 3 or waveforms.shape[1] != 1:
            raise ValueError(f"waveforms must have shape (batch, 1, samples); got {tuple(waveforms.shape)}")
        if lengths is not None:
            check_batch(waveforms, lengths)  # the same rules as the models: integer, 1..T, one per clip
        x = waveforms.clone()
        b = x.shape[0]
        if self.speed is not None and self.p_speed > 0:
            use = self._coin(b, self.p_speed)
            rates = sorted({_speed_rate(f, self.sr) for f in torch.linspace(self.speed[0], self.speed[1], self.speed_steps).tolist()})
            factors = [self.sr / r for r in rates]  # the factors change_speed really applies
            pick = torch.randint(0, len(factors), (b,), generator=self.generator)
            for j, f in enumerate(factors):
                rows = torch.nonzero(use & (pick == j)).flatten()
                if len(rows) and abs(f - 1.0) > 1e-6:
                    idx = rows.to(x.device)
                    x[idx] = change_speed(x[idx], f, self.sr)
        if self.pitch is not None and self.p_pitch > 0:
            use = self._coin(b, self.p_pitch)
            rates = sorted({_speed_rate(f, self.sr) for f in torch.linspace(self.pitch[0], self.pitch[1], self.pitch_steps).tolist()})
            factors = [self.sr / r for r in rates]
            pick = torch.randint(0, len(factors), (b,), generator=self.generator)
            for j, f in enumerate(factors):
                rows = torch.nonzero(use & (pick == j)).flatten()
                if len(rows) and abs(f - 1.0) > 1e-6:
                    idx = rows.to(x.device)
                    x[idx] = shift_pitch(x[idx], f, self.sr)
        if self.shift_ms > 0 and self.p_shift > 0:
            use = self._coin(b, self.p_shift)
            most = round(self.shift_ms * self.sr / 1000)
            shifts = torch.randint(-most, most + 1, (b,), generator=self.generator)
            for i in torch.nonzero(use).flatten().tolist():
                x[i] = shift_waveform(x[i], int(shifts[i]))
        if self.babble_snr_db is not None and self.p_babble > 0:
            use = self._coin(b, self.p_babble)
            snr = self._uniform(b, *self.babble_snr_db)
            talkers = min(self.babble_talkers, b - 1)  # the other clips of the batch are the talkers
            for i in (torch.nonzero(use).flatten().tolist() if talkers > 0 else []):
                others = torch.cat([waveforms[:i], waveforms[i + 1:]]).float()
                babble = make_babble(others, 1, talkers, self.generator).to(x.device, x.dtype)
                x[i: i + 1] = add_noise_at_snr(x[i: i + 1], snr[i].view(1, 1).to(x.device), noise=babble)
        if self.noise_bank is not None and self.p_recorded > 0:
            use = self._coin(b, self.p_recorded)
            snr = self._uniform(b, *self.recorded_snr_db)
            rows = torch.nonzero(use).flatten()
            if len(rows):
                segments = make_noise_segments(self.noise_bank, len(rows), x.shape[-1], self.generator)
                idx = rows.to(x.device)
                x[idx] = add_noise_at_snr(x[idx], snr[rows].view(-1, 1).to(x.device), noise=segments.to(x.device, x.dtype))
        if self.rt60_s is not None and self.p_reverb > 0:
            use = self._coin(b, self.p_reverb)
            rt60 = self._uniform(b, *self.rt60_s)
            drr = self._uniform(b, *self.drr_db)
            room_rows = torch.nonzero(use).flatten().tolist()
            if room_rows:
                k = max(2, int(np.ceil(self.rt60_s[1] * self.sr)))
                rirs = torch.zeros(len(room_rows), 1, k)
                for j, i in enumerate(room_rows):
                    h = make_room_impulse_response(float(rt60[i]), self.sr, float(drr[i]), self.generator)
                    rirs[j, 0, : h.shape[0]] = h
                idx = torch.tensor(room_rows, device=x.device)
                x[idx] = reverberate(x[idx], rirs.to(x.device))
        if self.band_sr_hz is not None and self.p_band > 0:
            use = self._coin(b, self.p_band)
            pick = torch.randint(0, len(self.band_sr_hz), (b,), generator=self.generator)
            for j, low_sr in enumerate(self.band_sr_hz):
                rows = torch.nonzero(use & (pick == j)).flatten()
                if len(rows):
                    idx = rows.to(x.device)
                    x[idx] = band_limit(x[idx], self.sr, low_sr)
        if self.gain_db is not None and self.p_gain > 0:
            use = self._coin(b, self.p_gain)
            g = torch.where(use, 10 ** (self._uniform(b, *self.gain_db) / 20), torch.ones(b))
            x = x * g.to(x.device, x.dtype).view(b, 1, 1)
        if self.snr_db is not None and self.p_noise > 0:
            use = self._coin(b, self.p_noise)
            snr = self._uniform(b, *self.snr_db)
            noise = torch.randn(x.shape, generator=self.generator).to(x.device, x.dtype)
            rows = torch.nonzero(use).flatten()
            if len(rows):
                idx = rows.to(x.device)
                x[idx] = add_noise_at_snr(x[idx], snr[rows].view(-1, 1).to(x.device), noise=noise[idx])
        return x
