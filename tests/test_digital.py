"""Tests for audiomap_lib.digital: aliasing, quantisation, SNR and mu-law (vs torchaudio)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchaudio.functional as AF

from audiomap_lib import digital
from audiomap_lib.signals import make_sine


def _uniform(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# ---------------------------------------------------------------- aliasing

@pytest.mark.parametrize(
    "freq, sr, expected",
    [
        (9000, 16000, 7000),
        (1000, 16000, 1000),
        (8000, 16000, 8000),
        (16000, 16000, 0),
        (17000, 16000, 1000),
        (25000, 16000, 7000),
        (44100 - 440, 44100, 440),
        (0, 8000, 0),
        (12345.5, 8000, 3654.5),
    ],
)
def test_compute_alias_frequency_cases(freq, sr, expected) -> None:
    got = digital.compute_alias_frequency(freq, sr)
    assert got == pytest.approx(expected)
    assert 0 <= got <= sr / 2


@pytest.mark.parametrize("freq", [440.0, 7000.0, 9000.0, 12500.0, 23000.0, 33000.0])
def test_alias_frequency_matches_fft_of_sampled_sine(freq: float) -> None:
    sr = 16000  # one second: bins are 1 Hz wide
    x = make_sine(freq, 1.0, sr, amplitude=1.0).double().numpy()
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    peak = np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spec)]
    assert peak == pytest.approx(digital.compute_alias_frequency(freq, sr), abs=1.0)


def test_compute_alias_frequency_errors() -> None:
    with pytest.raises(ValueError, match="sr"):
        digital.compute_alias_frequency(100, 0)
    with pytest.raises(ValueError, match="freq"):
        digital.compute_alias_frequency(-1, 8000)


# ---------------------------------------------------------------- quantisation

@pytest.mark.parametrize("bits", [1, 2, 3, 4, 8])
def test_quantize_levels_and_error(bits: int) -> None:
    x = _uniform(20000, seed=bits)
    x[0], x[1] = -1.0, 1.0
    q = digital.quantize_uniform(x, bits)
    assert q.dtype == torch.float32 and q.shape == x.shape
    levels = torch.unique(q)
    assert levels.numel() <= 2**bits
    delta = 2.0 / 2**bits
    # every level is a multiple of delta within [-1, 1 - delta]
    k = levels.double() / delta
    torch.testing.assert_close(k, torch.round(k), rtol=0, atol=1e-6)
    assert float(levels.min()) >= -1.0 and float(levels.max()) <= 1.0 - delta + 1e-7
    # inside the representable range the error is at most delta / 2
    inside = x <= 1.0 - delta / 2
    err = (q.double() - x.double()).abs()
    assert float(err[inside].max()) <= delta / 2 + 1e-7
    # at the top the value is clipped to 1 - delta, so the error is at most delta
    assert float(err.max()) <= delta + 1e-7
    assert float(q[1]) == pytest.approx(1.0 - delta)
    assert float(q[0]) == -1.0


def test_quantize_uses_every_level_for_dense_input() -> None:
    x = torch.linspace(-1, 1, 10001)
    for bits in (2, 5):
        assert torch.unique(digital.quantize_uniform(x, bits)).numel() == 2**bits


def test_quantize_mid_tread_keeps_zero() -> None:
    q = digital.quantize_uniform(torch.tensor([0.0, 0.01, -0.01]), 4)
    assert torch.equal(q, torch.zeros(3))


def test_quantize_errors() -> None:
    x = torch.zeros(10)
    for bad in (0, 33, 4.0, True):
        with pytest.raises(ValueError, match="bits"):
            digital.quantize_uniform(x, bad)
    with pytest.raises(ValueError, match="peaks at 1.500"):
        digital.quantize_uniform(torch.tensor([0.0, 1.5]), 8)


@pytest.mark.parametrize("bits", list(range(8, 17)))
def test_quantization_snr_matches_6db_per_bit(bits: int) -> None:
    # a full-scale sine at a frequency unrelated to sr, so the error is noise-like
    x = make_sine(997.0, 1.0, 48000, amplitude=1.0)
    q = digital.quantize_uniform(x, bits)
    snr = digital.compute_snr_db(x, q)
    assert snr == pytest.approx(digital.compute_expected_quantization_snr_db(bits), abs=1.0)


def test_expected_snr_formula() -> None:
    assert digital.compute_expected_quantization_snr_db(16) == pytest.approx(6.0206 * 16 + 1.7609, abs=1e-3)
    assert digital.compute_expected_quantization_snr_db(8) - digital.compute_expected_quantization_snr_db(7) \
        == pytest.approx(20 * math.log10(2))


def test_compute_snr_db() -> None:
    ref = torch.tensor([1.0, -1.0, 1.0, -1.0])
    est = ref + torch.tensor([0.1, -0.1, 0.1, -0.1])
    assert digital.compute_snr_db(ref, est) == pytest.approx(20.0, abs=1e-5)  # 10 log10(1 / 0.01)
    assert digital.compute_snr_db(ref, ref) == math.inf
    with pytest.raises(ValueError, match="silent"):
        digital.compute_snr_db(torch.zeros(4), ref)
    with pytest.raises(ValueError, match="same shape"):
        digital.compute_snr_db(ref, ref[:3])


# ---------------------------------------------------------------- mu-law

def test_mu_law_encode_matches_torchaudio() -> None:
    x = _uniform(100000, seed=0)
    x[:5] = torch.tensor([-1.0, 1.0, 0.0, 1e-6, -1e-6])
    ours = digital.encode_mu_law(x)
    ref = AF.mu_law_encoding(x, 256)
    assert ours.dtype == torch.int64 and ours.shape == x.shape
    assert int((ours - ref).abs().max()) <= 1
    assert float((ours == ref).float().mean()) >= 0.99
    assert int(ours.min()) >= 0 and int(ours.max()) <= 255
    assert int(ours[0]) == 0 and int(ours[1]) == 255


def test_mu_law_decode_matches_torchaudio() -> None:
    codes = torch.arange(256)
    torch.testing.assert_close(digital.decode_mu_law(codes), AF.mu_law_decoding(codes, 256), rtol=0, atol=1e-6)
    codes15 = torch.arange(16)
    torch.testing.assert_close(digital.decode_mu_law(codes15, mu=15), AF.mu_law_decoding(codes15, 16),
                               rtol=0, atol=1e-6)


def test_mu_law_round_trip_error_is_small_and_relative() -> None:
    x = _uniform(5000, seed=1)
    y = digital.decode_mu_law(digital.encode_mu_law(x))
    assert y.shape == x.shape and y.dtype == torch.float32
    err = (y - x).abs().double()
    # the companded value is off by at most half a code step (1/mu); mapped back through
    # dx/dy = ln(1+mu)/mu * (1 + mu|x|) this bounds the error, fine for quiet samples
    mu = 255
    bound = (1 / mu) * math.log1p(mu) / mu * (1 + mu * torch.maximum(x.abs(), y.abs()).double())
    assert bool((err <= bound * (1 + 1e-4) + 1e-7).all())
    assert float(err.max()) < 0.035  # the largest steps are near full scale
    small = x.abs() < 0.001
    assert float(err[small].max()) < 1.1e-4  # quiet samples get fine steps
    # decoding a code and re-encoding it gives the same code
    codes = torch.arange(256)
    assert torch.equal(digital.encode_mu_law(digital.decode_mu_law(codes)), codes)


def test_mu_law_errors() -> None:
    with pytest.raises(ValueError, match="peaks at"):
        digital.encode_mu_law(torch.tensor([0.0, 1.01]))
    with pytest.raises(ValueError, match="mu"):
        digital.encode_mu_law(torch.zeros(3), mu=0)
    with pytest.raises(TypeError, match="integer tensor"):
        digital.decode_mu_law(torch.zeros(3))
    with pytest.raises(TypeError, match="integer tensor"):
        digital.decode_mu_law(np.arange(3))
    with pytest.raises(ValueError, match=r"0\.\.255"):
        digital.decode_mu_law(torch.tensor([0, 256]))
    with pytest.raises(ValueError, match=r"0\.\.255"):
        digital.decode_mu_law(torch.tensor([-1, 3]))


def test_snr_per_clip_along_an_axis() -> None:
    ref = torch.ones(3, 1, 100)
    est = ref + torch.tensor([0.1, 0.01, 1.0]).view(3, 1, 1)  # noise power 0.01, 1e-4, 1 per sample
    snr = digital.compute_snr_db(ref, est, axis=-1)
    assert snr.shape == (3, 1)
    torch.testing.assert_close(snr.flatten(), torch.tensor([20.0, 40.0, 0.0]), atol=1e-4, rtol=0)
    assert digital.compute_snr_db(ref, est) == pytest.approx(10 * math.log10(300 / (100 * (0.01 + 1e-4 + 1))))
    silent = ref.clone()
    silent[1] = 0
    with pytest.raises(ValueError, match="silent"):
        digital.compute_snr_db(silent, est, axis=-1)


def test_downsampling_without_a_filter_aliases_and_with_one_does_not() -> None:
    import scipy.signal

    from audiomap_lib.signals import make_chirp

    sr = 16000
    sweep = make_chirp(100.0, 7900.0, 2.0, sr)  # crosses the new Nyquist frequency (4 kHz) at t = 0.99 s
    plain, new_sr = digital.downsample(sweep, sr, 2, antialias=False)
    assert new_sr == 8000 and torch.equal(plain, sweep[::2])
    filtered, _ = digital.downsample(sweep, sr, 2)
    half = len(filtered) // 2

    def late_over_early_db(x: torch.Tensor) -> float:
        return 10 * math.log10(float(x[half + 500:].pow(2).mean() / x[: half - 500].pow(2).mean()))

    assert late_over_early_db(plain) > -1  # the upper half of the sweep folds back, as loud as ever
    assert late_over_early_db(filtered) < -40  # the filter removed it first
    # SciPy's decimator (an FIR filter, then every 2nd sample) suppresses it too; both keep the low half
    reference = torch.from_numpy(scipy.signal.decimate(sweep.numpy().astype(np.float64), 2, ftype="fir").copy()).float()
    assert late_over_early_db(reference) < -20
    mid = slice(500, half - 1500)
    assert float((filtered[mid] - reference[mid]).abs().max()) < 0.05
    with pytest.raises(ValueError, match="factor"):
        digital.downsample(sweep, sr, 3)


def test_tpdf_dither_removes_distortion_and_repeats() -> None:
    sr, bits = 48000, 8
    lsb = 2 / 2**bits
    quiet = make_sine(1000.0, 1.0, sr, amplitude=1.5 * lsb)

    def third_harmonic_db(y: torch.Tensor) -> float:
        spec = np.abs(np.fft.rfft(y.numpy().astype(np.float64) * np.hanning(len(y))))
        return 20 * math.log10(spec[3000] / spec[1000])  # 1 Hz bins: 3 kHz against 1 kHz

    plain = digital.quantize_uniform(quiet, bits)
    dithered = digital.quantize_uniform(quiet, bits, dither="tpdf", seed=0)
    assert third_harmonic_db(plain) > -30 and third_harmonic_db(dithered) < -40
    assert np.corrcoef((plain - quiet).numpy(), quiet.numpy())[0, 1] < -0.3  # the error follows the signal
    assert abs(np.corrcoef((dithered - quiet).numpy(), quiet.numpy())[0, 1]) < 0.05  # now it does not
    # TPDF noise of one step on each side: the error's power is delta^2 / 12 + delta^2 / 6 = delta^2 / 4
    assert abs(float((dithered - quiet).pow(2).mean()) / (lsb**2 / 4) - 1) < 0.05
    torch.testing.assert_close(digital.quantize_uniform(quiet, bits, dither="tpdf", seed=0), dithered)
    with pytest.raises(ValueError, match="dither"):
        digital.quantize_uniform(quiet, bits, dither="rpdf")
