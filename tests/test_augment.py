"""audiomap_lib.augment (Chapter 6): shapes kept, SNR hit, shifts exact, seeded reproducibility."""
from __future__ import annotations

import pytest
import torch

from audiomap_lib import augment as A
from audiomap_lib.digital import compute_snr_db


def _batch(b: int = 6, t: int = 8000, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.2 * torch.randn(b, 1, t, generator=g) * torch.hann_window(t)


@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 30.0])
def test_add_noise_hits_the_snr(snr: float) -> None:
    x = _batch()
    y = A.add_noise_at_snr(x, snr, torch.Generator().manual_seed(1))
    assert y.shape == x.shape and y.dtype == x.dtype
    torch.testing.assert_close(compute_snr_db(x, y, axis=-1), torch.full((6, 1), snr), atol=1e-3, rtol=0)


def test_add_noise_per_clip_snr_and_seed() -> None:
    x = _batch(3)
    snr = torch.tensor([0.0, 10.0, 20.0]).view(3, 1)
    y = A.add_noise_at_snr(x, snr, torch.Generator().manual_seed(1))
    torch.testing.assert_close(compute_snr_db(x, y, axis=-1), snr, atol=1e-3, rtol=0)
    y2 = A.add_noise_at_snr(x, snr, torch.Generator().manual_seed(1))
    assert torch.equal(y, y2)
    with pytest.raises(ValueError, match="noise must have"):
        A.add_noise_at_snr(x, 10.0, noise=torch.zeros(3))
    with pytest.raises(TypeError):
        A.add_noise_at_snr(torch.zeros(10, dtype=torch.int16), 10.0)


def test_shift_waveform_is_exact_and_zero_filled() -> None:
    x = torch.arange(1.0, 11.0)
    assert A.shift_waveform(x, 3).tolist() == [0, 0, 0, 1, 2, 3, 4, 5, 6, 7]
    assert A.shift_waveform(x, -2).tolist() == [3, 4, 5, 6, 7, 8, 9, 10, 0, 0]
    assert A.shift_waveform(x, 20).abs().sum() == 0
    with pytest.raises(TypeError, match="shift"):
        A.shift_waveform(x, 1.5)


def test_change_speed_keeps_length_and_moves_pitch() -> None:
    sr = 8000
    t = torch.arange(sr) / sr
    tone = torch.sin(2 * torch.pi * 500 * t)
    fast = A.change_speed(tone, 16 / 14, sr)  # resampled 8000 -> 7000 Hz, played at 8000
    assert fast.shape == tone.shape
    spec = torch.fft.rfft(fast[2000:6000] * torch.hann_window(4000)).abs()
    peak_hz = float(spec.argmax()) * sr / 4000
    assert abs(peak_hz - 500 * 16 / 14) <= 4  # 14 % faster: 500 Hz becomes 571 Hz
    with pytest.raises(ValueError, match="factor"):
        A.change_speed(tone, 0.0, sr)


def test_augment_keeps_shape_and_repeats_with_seed() -> None:
    x = _batch(8, 16000)
    lengths = torch.full((8,), 16000)
    aug = A.WaveformAugment(sr=16000, seed=3)
    y = aug(x, lengths)
    assert y.shape == x.shape and y.dtype == x.dtype and not torch.equal(x, y)
    assert torch.equal(A.WaveformAugment(sr=16000, seed=3)(x, lengths), y)
    assert not torch.equal(A.WaveformAugment(sr=16000, seed=4)(x, lengths), y)
    assert torch.equal(x, _batch(8, 16000))  # the input is not modified
    off = A.WaveformAugment(sr=16000, speed=None, shift_ms=0, gain_db=None, snr_db=None)
    assert torch.equal(off(x, lengths), x)


def test_noise_only_augment_respects_the_snr_range() -> None:
    x = _batch(16, 4000)
    y = A.WaveformAugment(sr=16000, speed=None, shift_ms=0, gain_db=None, snr_db=(10.0, 20.0), p_noise=1.0, seed=0)(x, None)
    snr = compute_snr_db(x, y, axis=-1)
    assert bool((snr >= 10 - 1e-3).all() and (snr <= 20 + 1e-3).all())


def test_augment_validates_its_settings() -> None:
    with pytest.raises(ValueError, match="p_noise"):
        A.WaveformAugment(sr=16000, p_noise=2.0)
    with pytest.raises(ValueError, match="speed"):
        A.WaveformAugment(sr=16000, speed=(1.2, 0.8))
    with pytest.raises(ValueError, match=r"\(batch, 1, samples\)"):
        A.WaveformAugment(sr=16000)(torch.zeros(100), None)


def test_add_noise_refuses_snrs_that_would_change_the_shape() -> None:
    x = _batch(2, 100)
    with pytest.raises(ValueError, match=r"snr_db must be a number or broadcast to one SNR per clip, shape \(2, 1\)"):
        A.add_noise_at_snr(x, torch.tensor([1.0, 2.0, 3.0]))
    assert A.add_noise_at_snr(x, torch.tensor([[5.0], [10.0]])).shape == x.shape  # one per clip
    assert A.add_noise_at_snr(x, torch.tensor(5.0)).shape == x.shape
    with pytest.raises(ValueError, match="waveform holds NaN"):
        A.add_noise_at_snr(torch.full((10,), float("nan")), 10.0)
    with pytest.raises(TypeError, match="snr_db"):
        A.add_noise_at_snr(x, "10")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_augment_keeps_float64_and_float16(dtype: torch.dtype) -> None:
    x = _batch(4, 4000)
    aug = A.WaveformAugment(sr=16000, p_speed=1.0, p_shift=1.0, p_gain=1.0, p_noise=1.0)
    ref = A.WaveformAugment(sr=16000, p_speed=1.0, p_shift=1.0, p_gain=1.0, p_noise=1.0)(x)
    out = aug(x.to(dtype))
    assert out.dtype == dtype and out.shape == x.shape
    tol = 1e-5 if dtype == torch.float64 else 2e-2
    torch.testing.assert_close(out.float(), ref, atol=tol, rtol=tol)


def test_augment_refuses_stereo_integer_and_non_finite_batches() -> None:
    aug = A.WaveformAugment(sr=16000)
    with pytest.raises(ValueError, match=r"\(batch, 1, samples\)"):
        aug(torch.zeros(4, 2, 100))
    with pytest.raises(TypeError, match="floating-point"):
        aug(torch.zeros(4, 1, 100, dtype=torch.int16))
    with pytest.raises(ValueError, match="NaN"):
        aug(torch.full((4, 1, 100), float("inf")))
    with pytest.raises(ValueError, match="seed"):
        A.WaveformAugment(sr=16000, seed=-1)
    with pytest.raises(ValueError, match="shift_ms"):
        A.WaveformAugment(sr=16000, shift_ms=float("nan"))
    import numpy as np
    assert A.WaveformAugment(sr=16000, seed=np.int64(3), speed_steps=np.int32(5)).seed == 3


# ------------------------------------------------------------- band-limiting and rooms (Chapter 6)


def test_band_limit_removes_what_lies_above_half_the_low_rate() -> None:
    import numpy as np

    x = torch.randn(4, 1, 16000, generator=torch.Generator().manual_seed(0))
    y = A.band_limit(x, 16000, 8000)
    assert y.shape == x.shape and y.dtype == x.dtype
    power = torch.fft.rfft(y[:, 0]).abs().pow(2).numpy()
    f_hz = np.fft.rfftfreq(16000, 1 / 16000)
    above = 10 * np.log10(power[:, f_hz > 5000].sum() / power.sum())
    assert above < -45  # white noise had half its energy there
    below = torch.fft.rfft(x[:, 0]).abs().pow(2).numpy()[:, f_hz < 3000].sum() / power[:, f_hz < 3000].sum()
    assert abs(10 * np.log10(below)) < 0.2  # the pass band is kept
    from audiomap_lib.io import resample

    torch.testing.assert_close(y[0, 0, :15990], resample(resample(x[0, 0], 16000, 8000), 8000, 16000)[:15990])
    with pytest.raises(ValueError, match="low_sr"):
        A.band_limit(x, 16000, 16000)


@pytest.mark.parametrize("rt60_s", [0.2, 0.5, 1.2])
def test_room_impulse_response_decays_in_its_rt60(rt60_s: float) -> None:
    """Schroeder's backward integration of h^2, fitted from -5 to -25 dB (T20), gives RT60 back."""
    import numpy as np

    sr = 16000
    h = A.make_room_impulse_response(rt60_s, sr, drr_db=-20.0, generator=torch.Generator().manual_seed(1))
    assert h.shape == (int(np.ceil(rt60_s * sr)),) and abs(float(h.pow(2).sum()) - 1) < 1e-5
    energy = h.double().pow(2).flip(0).cumsum(0).flip(0)
    edc_db = (10 * torch.log10(energy / energy[0])).numpy()
    keep = (edc_db < -5) & (edc_db > -25)
    slope_db_per_s = np.polyfit(np.arange(len(h))[keep] / sr, edc_db[keep], 1)[0]
    assert abs(-60 / slope_db_per_s - rt60_s) < 0.05 * rt60_s
    np.testing.assert_allclose(A.compute_decay_curve_db(h).numpy(), edc_db)  # the library's curve and fit
    assert abs(A.compute_rt60_s(h, sr) - (-60 / slope_db_per_s)) < 1e-6
    with pytest.raises(ValueError, match="does not fall"):
        A.compute_rt60_s(h[:20], sr)


def test_room_impulse_response_direct_to_reverberant_ratio() -> None:
    import math

    for drr_db in (-5.0, 0.0, 10.0):
        h = A.make_room_impulse_response(0.4, 8000, drr_db=drr_db, generator=torch.Generator().manual_seed(0))
        measured = 10 * math.log10(float(h[0] ** 2) / float(h[1:].pow(2).sum()))
        assert abs(measured - drr_db) < 1e-3
    with pytest.raises(ValueError, match="rt60_s"):
        A.make_room_impulse_response(0.0, 8000)


def test_reverberate_equals_scipy_fftconvolve_cut_to_length() -> None:
    import scipy.signal

    from audiomap_lib.conv import fft_convolve

    x = _batch(3, 4000)
    h = A.make_room_impulse_response(0.3, 8000, generator=torch.Generator().manual_seed(2))
    y = A.reverberate(x, h)
    ref = scipy.signal.fftconvolve(x.double().numpy(), h.double().numpy()[None, None, :])[..., :4000]
    torch.testing.assert_close(y.double(), torch.from_numpy(ref), atol=1e-5, rtol=0)
    torch.testing.assert_close(A.reverberate(x[0, 0], h), fft_convolve(x[0, 0], h)[:4000], atol=1e-5, rtol=0)
    rooms = torch.stack([h, torch.zeros_like(h).index_fill_(0, torch.tensor([0]), 1.0), h]).unsqueeze(1)  # (3, 1, K)
    per_clip = A.reverberate(x, rooms)
    torch.testing.assert_close(per_clip[1], x[1])  # a unit impulse is no room at all
    torch.testing.assert_close(per_clip[0], y[0])
    with pytest.raises(ValueError, match="rir"):
        A.reverberate(x, torch.ones(2, 5))


def test_augment_band_and_reverb_steps_are_seeded_and_checked() -> None:
    x = _batch(8, 16000)
    kw = dict(speed=None, shift_ms=0, gain_db=None, snr_db=None, band_sr_hz=(8000,), p_band=1.0)
    y = A.WaveformAugment(sr=16000, seed=0, **kw)(x)
    torch.testing.assert_close(y, A.band_limit(x, 16000, 8000))
    room = dict(speed=None, shift_ms=0, gain_db=None, snr_db=None, rt60_s=(0.3, 0.6), p_reverb=1.0)
    r1 = A.WaveformAugment(sr=16000, seed=5, **room)(x)
    assert torch.equal(r1, A.WaveformAugment(sr=16000, seed=5, **room)(x)) and not torch.allclose(r1, x)
    off = A.WaveformAugment(sr=16000, seed=5, **{**room, "p_reverb": 0.0})(x)
    assert torch.equal(off, x)
    assert A.WaveformAugment(sr=16000).describe()["band_sr_hz"] is None  # off by default: Chapter 6's recipe
    with pytest.raises(ValueError, match="band_sr_hz"):
        A.WaveformAugment(sr=16000, band_sr_hz=(16000,))
    with pytest.raises(ValueError, match="band_sr_hz"):
        A.WaveformAugment(sr=16000, band_sr_hz=8000)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rt60_s"):
        A.WaveformAugment(sr=16000, rt60_s=(0.0, 0.5))
    with pytest.raises(ValueError, match="rt60_s"):
        A.WaveformAugment(sr=16000, rt60_s=(0.6, 0.5))


# ------------------------------------------------------------- time stretch and pitch (Chapter 6)


def _harmonic(sr: int = 16000, f0_hz: float = 120.0) -> torch.Tensor:
    import math

    t = torch.arange(sr, dtype=torch.float64) / sr
    phase = 2 * math.pi * torch.cumsum(f0_hz * (1 + 0.05 * torch.sin(2 * math.pi * 5 * t)), 0) / sr  # a vibrato
    return sum(torch.sin(k * phase) / k for k in range(1, 20)) * torch.hann_window(sr, periodic=False, dtype=torch.float64)


def test_phase_vocoder_magnitudes_are_librosas_and_rate_one_is_the_identity() -> None:
    import librosa
    import numpy as np

    x = _harmonic()
    window = torch.hann_window(512, dtype=torch.float64)
    spec = torch.stft(x, 512, 128, window=window, return_complex=True)
    for rate in (0.8, 1.25):
        ours = A._phase_vocoder(spec, rate, 128)
        ref = librosa.phase_vocoder(spec.numpy(), rate=rate, hop_length=128)
        assert ours.shape == ref.shape
        np.testing.assert_allclose(ours.abs().numpy(), np.abs(ref), atol=1e-9)  # locking moves phases only
    torch.testing.assert_close(A.stretch_time(x, 1.0), x, atol=1e-9, rtol=0)


@pytest.mark.parametrize("rate", [0.6, 0.8125, 1.25])
def test_stretch_time_keeps_pitch_and_power(rate: float) -> None:
    x = _harmonic()
    y = A.stretch_time(x, rate)
    assert y.shape == (round(16000 / rate),)
    power_ratio = float(y.pow(2).mean() / x.pow(2).mean())
    assert abs(power_ratio - 1) < 0.05  # phase locking: the partials do not cancel

    def centroid_hz(w: torch.Tensor) -> float:  # the power-weighted mean frequency
        power = torch.fft.rfft(w).abs().pow(2)
        return float((power * torch.fft.rfftfreq(len(w), 1 / 16000)).sum() / power.sum())

    # the same pitch and timbre, for longer or shorter (within 8 %: fast vibrato on high partials smears a little)
    assert abs(centroid_hz(y) / centroid_hz(x) - 1) < 0.08


@pytest.mark.parametrize("factor", [16 / 13, 16 / 19])
def test_shift_pitch_moves_every_frequency_and_keeps_the_timing(factor: float) -> None:
    import math

    sr = 16000
    t = torch.arange(sr) / sr
    envelope = torch.hann_window(sr)
    tone = torch.sin(2 * math.pi * 200 * t) * envelope
    y = A.shift_pitch(tone, factor, sr)
    assert y.shape == tone.shape and y.dtype == tone.dtype
    spec = torch.fft.rfft(y[4000:12000] * torch.hann_window(8000)).abs()
    assert abs(float(spec.argmax()) * sr / 8000 - 200 * factor) <= 2
    centre = lambda w: float((w.pow(2) * t).sum() / w.pow(2).sum())  # noqa: E731 - the energy's centre in time
    assert abs(centre(y) - centre(tone)) < 0.01  # s: the word stays where it was
    assert abs(float(y.pow(2).sum() / tone.pow(2).sum()) - 1) < 0.05
    assert torch.equal(A.shift_pitch(tone, 1.0, sr), tone)
    with pytest.raises(ValueError, match="factor"):
        A.shift_pitch(tone, 3.0, sr)


def test_augment_pitch_step_is_seeded_and_off_by_default() -> None:
    x = _batch(6, 16000)
    kw = dict(speed=None, shift_ms=0, gain_db=None, snr_db=None, pitch=(0.85, 1.3), p_pitch=1.0)
    a = A.WaveformAugment(sr=16000, seed=2, **kw)(x)
    assert torch.equal(a, A.WaveformAugment(sr=16000, seed=2, **kw)(x)) and not torch.allclose(a, x)
    assert A.WaveformAugment(sr=16000).describe()["pitch"] is None
    with pytest.raises(ValueError, match="pitch"):
        A.WaveformAugment(sr=16000, pitch=(0.4, 1.2))


def _tones(k: int, t: int) -> torch.Tensor:
    """k talkers, each a sine with its own whole number of cycles (a roll keeps a sine in its FFT bin)."""
    n = torch.arange(t, dtype=torch.float64)
    return torch.stack([(0.1 + 0.3 * i) * torch.sin(2 * torch.pi * (5 + 7 * i) * n / t) for i in range(k)]).unsqueeze(1).float()


def test_babble_sums_different_talkers_at_equal_power() -> None:
    k, t, n_talkers = 8, 4000, 3
    babble = A.make_babble(_tones(k, t), 5, n_talkers, torch.Generator().manual_seed(0))
    assert babble.shape == (5, 1, t) and babble.dtype == torch.float32
    torch.testing.assert_close(babble.pow(2).mean(-1), torch.ones(5, 1), atol=1e-5, rtol=0)  # unit power
    bins = torch.fft.rfft(babble[:, 0].double()).abs().pow(2)
    for row in bins:
        used = torch.nonzero(row > 1e-6 * row.max()).flatten().tolist()
        assert len(used) == n_talkers and all((b - 5) % 7 == 0 for b in used)  # n_talkers different talkers
        torch.testing.assert_close(row[used], row[used].mean().expand(len(used)), rtol=1e-4, atol=0)  # none louder


def test_babble_is_a_sum_of_rolled_clips_and_is_seeded() -> None:
    talkers = _batch(6, 500, seed=3)
    one = A.make_babble(talkers, 4, 1, torch.Generator().manual_seed(1))
    for row in one[:, 0]:  # a single talker: one of the clips, rolled, at unit power
        unit = talkers[:, 0] / talkers[:, 0].pow(2).mean(-1, keepdim=True).sqrt()
        assert any(torch.allclose(torch.roll(unit[j], s), row, atol=1e-5) for j in range(6) for s in range(500))
    a = A.make_babble(talkers, 4, 3, torch.Generator().manual_seed(7))
    assert torch.equal(a, A.make_babble(talkers, 4, 3, torch.Generator().manual_seed(7)))
    assert A.make_babble(talkers[:, 0], 2, 3).shape == (2, 500)  # (K, T) in, (n, T) out


def test_babble_refuses_too_few_or_silent_talkers() -> None:
    with pytest.raises(ValueError, match="talkers holds 2 clips; n_talkers=3"):
        A.make_babble(_batch(2, 100), 1, 3)
    silent = _batch(4, 100)
    silent[2] = 0
    with pytest.raises(ValueError, match=r"talkers\[2\] is silent"):
        A.make_babble(silent, 1, 2)
    with pytest.raises(ValueError, match="n_talkers"):
        A.make_babble(_batch(4, 100), 1, 0)
    with pytest.raises(TypeError, match="talkers must be a floating-point"):
        A.make_babble(torch.ones(4, 1, 100, dtype=torch.int64), 1, 2)
    with pytest.raises(ValueError, match=r"talkers must have shape \(K, 1, T\)"):
        A.make_babble(torch.ones(4, 2, 100), 1, 2)


def test_noise_segments_lie_inside_their_recordings() -> None:
    bank = (torch.arange(1000, dtype=torch.float32) + 1, -(torch.arange(3000, dtype=torch.float32) + 1))
    seg = A.make_noise_segments(bank, 50, 800, torch.Generator().manual_seed(0))
    assert seg.shape == (50, 1, 800)
    for s in seg[:, 0]:
        rec = bank[0] if s[0] > 0 else bank[1]
        start = int(abs(s[0])) - 1
        assert torch.equal(s, rec[start: start + 800])  # one contiguous stretch, nothing wrapped or padded
    assert {bool(s[0, 0] > 0) for s in seg} == {True, False}  # both recordings drawn
    with pytest.raises(ValueError, match=r"noise_bank\[0\] holds 1000 samples, fewer than length=1200"):
        A.make_noise_segments(bank, 1, 1200)
    with pytest.raises(ValueError, match=r"noise_bank\[1\] is silent"):
        A.make_noise_segments((bank[0], torch.zeros(2000)), 1, 10)
    with pytest.raises(ValueError, match="non-empty tuple"):
        A.make_noise_segments((), 1, 10)
    with pytest.raises(ValueError, match=r"noise_bank\[0\] must have shape \(samples,\)"):
        A.make_noise_segments((torch.ones(2, 100),), 1, 10)


def test_augment_babble_and_recorded_noise_hit_their_snr() -> None:
    x = _batch(8, 16000)
    babble = A.WaveformAugment(sr=16000, speed=None, shift_ms=0, gain_db=None, snr_db=None, babble_snr_db=(7.0, 7.0),
                               p_babble=1.0, babble_talkers=3, seed=0)
    y = babble(x)
    torch.testing.assert_close(compute_snr_db(x, y, axis=-1), torch.full((8, 1), 7.0), atol=1e-3, rtol=0)
    assert torch.equal(y, A.WaveformAugment(**{**babble.describe(), "seed": 0})(x))  # seeded
    small = babble(x[:3])  # the last, short batch of an epoch: two other clips, a babble of two voices
    torch.testing.assert_close(compute_snr_db(x[:3], small, axis=-1), torch.full((3, 1), 7.0), atol=1e-3, rtol=0)
    assert torch.equal(babble(x[:1]), x[:1])  # one clip has no other clip to babble with
    recorded = A.WaveformAugment(sr=16000, speed=None, shift_ms=0, gain_db=None, snr_db=None,
                                 recorded_noises=("vinyl_hiss",), recorded_snr_db=(3.0, 3.0), p_recorded=1.0)
    y = recorded(x)
    torch.testing.assert_close(compute_snr_db(x, y, axis=-1), torch.full((8, 1), 3.0), atol=1e-3, rtol=0)
    assert not torch.allclose(y[0] - x[0], y[1] - x[1])  # each clip gets its own stretch
    off = A.WaveformAugment(sr=16000, speed=None, shift_ms=0, gain_db=None, snr_db=None)
    assert off.noise_bank is None and torch.equal(off(x), x)  # both off by default
    with pytest.raises(ValueError, match="name must be one of the recorded noises"):
        A.WaveformAugment(sr=16000, recorded_noises=("rain",))
    with pytest.raises(ValueError, match="recorded_noises must be a tuple of names"):
        A.WaveformAugment(sr=16000, recorded_noises="vinyl_hiss")
    with pytest.raises(ValueError, match="babble_snr_db must be a"):
        A.WaveformAugment(sr=16000, babble_snr_db=(10.0, 0.0))
