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
