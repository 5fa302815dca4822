"""Tests for audiomap_lib.signals: each maker against a formula or a reference (scipy)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch

from audiomap_lib import signals


def _peak_bins(x: np.ndarray, sr: int, count: int) -> list[float]:
    spec = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    idx = np.argsort(spec)[::-1][:count]
    return sorted(float(freqs[i]) for i in idx)


# ---------------------------------------------------------------- time / sine

def test_make_time() -> None:
    t = signals.make_time(0.5, 100)
    assert t.dtype == torch.float64 and t.shape == (50,)
    np.testing.assert_array_equal(t.numpy(), np.arange(50) / 100)
    assert signals.make_time(0.0149, 1000).shape == (15,)  # round(14.9)
    with pytest.raises(ValueError, match="zero samples"):
        signals.make_time(0.0001, 1000)
    for bad in (0, -1.0, math.inf, math.nan, "1"):
        with pytest.raises(ValueError, match="duration"):
            signals.make_time(bad, 1000)


def test_make_sine_matches_numpy_formula() -> None:
    sr, f, dur = 16000, 441.3, 0.25
    x = signals.make_sine(f, dur, sr, amplitude=0.7, phase=0.3)
    n = np.arange(round(dur * sr))
    ref = 0.7 * np.sin(2 * np.pi * f * n / sr + 0.3)
    assert x.dtype == torch.float32 and x.shape == (4000,)
    np.testing.assert_allclose(x.numpy(), ref, rtol=0, atol=1e-6)


def test_make_sine_above_nyquist_is_allowed() -> None:
    # 9 kHz at 16 kHz is allowed on purpose (aliasing demos): samples equal a -7 kHz sine
    x = signals.make_sine(9000, 0.01, 16000)
    y = signals.make_sine(7000, 0.01, 16000)
    np.testing.assert_allclose(x.numpy(), -y.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="freq"):
        signals.make_sine(-5, 0.1, 16000)


# ---------------------------------------------------------------- chirp

@pytest.mark.parametrize("f0, f1", [(100.0, 4000.0), (3000.0, 200.0)])
def test_make_chirp_linear_matches_scipy(f0: float, f1: float) -> None:
    sr, dur = 16000, 0.75
    x = signals.make_chirp(f0, f1, dur, sr, amplitude=0.5, method="linear")
    t = np.arange(round(dur * sr)) / sr
    ref = 0.5 * scipy.signal.chirp(t, f0=f0, t1=dur, f1=f1, method="linear", phi=-90)
    np.testing.assert_allclose(x.numpy(), ref, rtol=0, atol=1e-4)


@pytest.mark.parametrize("f0, f1", [(50.0, 6000.0), (5000.0, 100.0)])
def test_make_chirp_exponential_matches_scipy_logarithmic(f0: float, f1: float) -> None:
    sr, dur = 16000, 1.0
    x = signals.make_chirp(f0, f1, dur, sr, amplitude=0.9, method="exponential")
    t = np.arange(round(dur * sr)) / sr
    ref = 0.9 * scipy.signal.chirp(t, f0=f0, t1=dur, f1=f1, method="logarithmic", phi=-90)
    np.testing.assert_allclose(x.numpy(), ref, rtol=0, atol=1e-4)


def test_make_chirp_constant_exponential_is_a_sine() -> None:
    x = signals.make_chirp(440, 440, 0.1, 8000, method="exponential")
    torch.testing.assert_close(x, signals.make_sine(440, 0.1, 8000), atol=1e-6, rtol=0)


def test_make_chirp_errors() -> None:
    with pytest.raises(ValueError, match="f0_hz > 0"):
        signals.make_chirp(0, 100, 0.1, 8000, method="exponential")
    with pytest.raises(ValueError, match="method"):
        signals.make_chirp(10, 100, 0.1, 8000, method="quadratic")
    with pytest.raises(ValueError, match="f1"):
        signals.make_chirp(10, -100, 0.1, 8000)


# ---------------------------------------------------------------- harmonic tone

def test_harmonic_tone_peaks_and_one_over_k() -> None:
    sr, f0 = 16000, 250.0  # one second: FFT bins are 1 Hz wide, partials on bins
    x = signals.make_harmonic_tone(f0, 1.0, sr, n_partials=6, peak=0.5)
    assert x.shape == (sr,)
    assert float(x.abs().max()) == pytest.approx(0.5, rel=1e-6)
    assert _peak_bins(x.numpy(), sr, 6) == [f0 * k for k in range(1, 7)]
    spec = np.abs(np.fft.rfft(x.numpy()))
    amps = np.array([spec[int(f0 * k)] for k in range(1, 7)])
    np.testing.assert_allclose(amps / amps[0], [1 / k for k in range(1, 7)], rtol=1e-4)


def test_harmonic_tone_custom_amplitudes_and_phase() -> None:
    sr = 8000
    x = signals.make_harmonic_tone(100.0, 0.5, sr, amplitudes=[0.0, 1.0, 0.5], peak=1.0)
    n = np.arange(4000)
    ref = np.sin(2 * np.pi * 200 * n / sr) + 0.5 * np.sin(2 * np.pi * 300 * n / sr)
    ref = ref / np.abs(ref).max()
    np.testing.assert_allclose(x.numpy(), ref, atol=1e-5)


def test_harmonic_tone_glide_tensor() -> None:
    sr, dur = 8000, 0.5
    n = round(sr * dur)
    f0 = torch.linspace(200, 400, n)
    x = signals.make_harmonic_tone(f0, dur, sr, amplitudes=[1.0], peak=1.0)
    # one partial: sin(2 pi cumsum(f0) / sr), phase 0 at t = 0
    phase = 2 * np.pi * (np.cumsum(f0.double().numpy()) - f0.double().numpy()) / sr
    np.testing.assert_allclose(x.numpy(), np.sin(phase) / np.abs(np.sin(phase)).max(), atol=1e-5)
    with pytest.raises(ValueError, match=r"shape \(4000,\)"):
        signals.make_harmonic_tone(torch.full((n - 1,), 200.0), dur, sr)
    with pytest.raises(ValueError, match=r"shape \(4000,\)"):
        signals.make_harmonic_tone(torch.full((1, n), 200.0), dur, sr)
    with pytest.raises(ValueError, match="non-negative"):
        signals.make_harmonic_tone(-f0, dur, sr)


def test_harmonic_tone_above_nyquist() -> None:
    with pytest.raises(ValueError, match="Nyquist"):
        signals.make_harmonic_tone(1000.0, 0.1, 8000, n_partials=5)  # 4th partial = 4000 Hz
    x = signals.make_harmonic_tone(1000.0, 1.0, 8000, n_partials=5, drop_above_nyquist=True)
    assert _peak_bins(x.numpy(), 8000, 3) == [1000.0, 2000.0, 3000.0]
    spec = np.abs(np.fft.rfft(x.numpy()))
    assert spec[4000] < 1e-6 * spec[1000]
    # a glide crossing Nyquist: the partial is muted only where it would alias
    f0 = torch.linspace(1000, 2000, 8000)
    y = signals.make_harmonic_tone(f0, 1.0, 8000, amplitudes=[0.0, 0.0, 1.0], drop_above_nyquist=True)
    assert float(y[:2000].abs().max()) > 0.4
    assert float(y[-2000:].abs().max()) == 0.0
    with pytest.raises(ValueError, match="n_partials"):
        signals.make_harmonic_tone(100.0, 0.1, 8000, n_partials=0)
    with pytest.raises(ValueError, match="amplitudes"):
        signals.make_harmonic_tone(100.0, 0.1, 8000, amplitudes=[])


# ---------------------------------------------------------------- noise

def _psd_slope_db_per_octave(x: np.ndarray, sr: int) -> float:
    f, p = scipy.signal.welch(x, fs=sr, nperseg=4096)
    band = (f >= 50) & (f <= 6000)
    return float(np.polyfit(np.log2(f[band]), 10 * np.log10(p[band]), 1)[0])


def test_pink_noise_slope_is_minus_three_db_per_octave() -> None:
    x = signals.make_noise(4.0, 16000, color="pink", rms=0.1, seed=1)
    assert _psd_slope_db_per_octave(x.numpy(), 16000) == pytest.approx(-3.0, abs=0.3)


def test_white_noise_is_flat() -> None:
    x = signals.make_noise(4.0, 16000, color="white", rms=0.1, seed=1)
    assert abs(_psd_slope_db_per_octave(x.numpy(), 16000)) < 0.3
    # and near-Gaussian: about 68 % of samples within one standard deviation
    frac = float((x.abs() < 0.1).float().mean())
    assert frac == pytest.approx(0.6827, abs=0.01)


@pytest.mark.parametrize("color", ["white", "pink"])
@pytest.mark.parametrize("rms", [0.01, 0.25])
def test_noise_rms_and_zero_mean(color: str, rms: float) -> None:
    x = signals.make_noise(0.5, 8000, color=color, rms=rms, seed=3)
    assert x.dtype == torch.float32 and x.shape == (4000,)
    assert float(x.double().pow(2).mean().sqrt()) == pytest.approx(rms, rel=1e-5)
    assert abs(float(x.double().mean())) < 1e-6


def test_noise_seed_reproducible() -> None:
    a = signals.make_noise(0.2, 8000, color="pink", seed=5)
    b = signals.make_noise(0.2, 8000, color="pink", seed=5)
    c = signals.make_noise(0.2, 8000, color="pink", seed=6)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    torch.manual_seed(0)
    d = signals.make_noise(0.2, 8000)
    torch.manual_seed(0)
    e = signals.make_noise(0.2, 8000)
    assert torch.equal(d, e)


def test_noise_errors() -> None:
    with pytest.raises(ValueError, match="color"):
        signals.make_noise(0.1, 8000, color="brown")
    with pytest.raises(ValueError, match="rms"):
        signals.make_noise(0.1, 8000, rms=0)


# ---------------------------------------------------------------- envelopes

def test_adsr_knots() -> None:
    sr = 1000
    env = signals.make_adsr_envelope(1.0, sr, attack_s=0.1, decay_s=0.2, sustain=0.5, release_s=0.3)
    assert env.shape == (1000,)
    e = env.numpy()
    assert e[0] == 0.0
    assert e[100] == pytest.approx(1.0)          # end of attack
    assert e[50] == pytest.approx(0.5)           # half-way up
    assert e[200] == pytest.approx(0.75)         # half-way down the decay
    assert e[300] == pytest.approx(0.5)          # sustain starts
    assert np.allclose(e[300:700], 0.5)          # sustain holds
    assert e[700] == pytest.approx(0.5)          # release starts at T - release
    assert e[850] == pytest.approx(0.25)
    assert e.min() >= 0 and e.max() <= 1
    assert np.all(np.diff(e[:100]) > 0) and np.all(np.diff(e[700:]) < 0)


def test_adsr_errors() -> None:
    with pytest.raises(ValueError, match="exceeds duration"):
        signals.make_adsr_envelope(0.3, 1000, attack_s=0.1, decay_s=0.1, release_s=0.2)
    with pytest.raises(ValueError, match="sustain"):
        signals.make_adsr_envelope(1.0, 1000, sustain=1.5)
    with pytest.raises(ValueError, match="attack"):
        signals.make_adsr_envelope(1.0, 1000, attack_s=-0.1)


def test_make_fade() -> None:
    sr = 1000
    x = torch.ones(100)
    y = signals.make_fade(x, sr, fade_in_s=0.01, fade_out_s=0.02)
    np.testing.assert_allclose(y[:10].numpy(), np.linspace(0, 1, 10), atol=1e-7)
    np.testing.assert_allclose(y[-20:].numpy(), np.linspace(1, 0, 20), atol=1e-7)
    assert torch.equal(y[10:80], torch.ones(70))
    st = signals.make_fade(torch.ones(2, 100), sr, fade_in_s=0.01, fade_out_s=0.0)
    assert st.shape == (2, 100)
    assert torch.equal(st[0], st[1]) and st[0, 0] == 0 and st[0, -1] == 1
    with pytest.raises(ValueError, match="must fit"):
        signals.make_fade(x, sr, fade_in_s=0.06, fade_out_s=0.06)
    with pytest.raises(ValueError, match="fade_in_s must be"):
        signals.make_fade(x, sr, fade_in_s=-0.01)


def test_rain_is_sparse_drops_in_their_band_and_repeats() -> None:
    import scipy.stats

    sr = 22050
    rain = signals.make_rain(2.0, sr, drops_per_s=100.0, peak=0.8, seed=3)
    assert rain.dtype == torch.float32 and rain.shape == (2 * sr,)
    assert abs(float(rain.abs().max()) - 0.8) < 1e-6
    torch.testing.assert_close(signals.make_rain(2.0, sr, drops_per_s=100.0, peak=0.8, seed=3), rain)
    # more than half of the energy lies in the drops' band, 1.5-6 kHz (the rest is the pink bed)
    power = np.abs(np.fft.rfft(rain.numpy().astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(rain.shape[0], 1 / sr)
    assert power[(freqs >= 1400) & (freqs <= 6200)].sum() > 0.5 * power.sum()
    # rare loud events: the samples are far more peaked than Gaussian noise's (kurtosis 3)
    assert scipy.stats.kurtosis(rain.numpy(), fisher=False) > 4.5
    assert abs(scipy.stats.kurtosis(signals.make_noise(2.0, sr, color="pink", seed=3).numpy(), fisher=False) - 3) < 0.5
    with pytest.raises(ValueError, match="drops_per_s"):
        signals.make_rain(1.0, sr, drops_per_s=0.0)
