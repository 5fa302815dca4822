"""Tests for audiomap_lib.spectral against torch.stft, torchaudio and librosa."""
from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.fft
import torch

from audiomap_lib import spectral
from audiomap_lib.signals import make_chirp, make_noise, make_sine

SR = 16000


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def speechlike() -> torch.Tensor:
    """One second of a chirp plus a tone plus a little noise (energy across the band)."""
    x = make_chirp(100, 6000, 1.0, SR, amplitude=0.4) + make_sine(440, 1.0, SR, amplitude=0.2)
    return x + make_noise(1.0, SR, rms=0.01, seed=0)


def _rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


# ---------------------------------------------------------------- basics

def test_seconds_to_samples() -> None:
    assert spectral.seconds_to_samples(0.025, 16000) == 400
    assert spectral.seconds_to_samples(0.01, 22050) == 220  # round(220.5) -> banker's even
    assert spectral.seconds_to_samples(1e-9, 16000) == 1
    with pytest.raises(ValueError, match="seconds"):
        spectral.seconds_to_samples(0, 16000)


@pytest.mark.parametrize("length", [2, 33, 400, 512])
def test_make_window_matches_torch_periodic(length: int) -> None:
    # ours is computed in float64 and rounded once; torch computes in float32
    torch.testing.assert_close(spectral.make_window(length), torch.hann_window(length, periodic=True),
                               rtol=0, atol=1e-6)
    torch.testing.assert_close(spectral.make_window(length, "hamming"),
                               torch.hamming_window(length, periodic=True), rtol=0, atol=1e-6)
    assert torch.equal(spectral.make_window(length, "rectangular"), torch.ones(length))


def test_make_window_matches_scipy_periodic() -> None:
    import scipy.signal

    np.testing.assert_allclose(spectral.make_window(400).numpy(),
                               scipy.signal.get_window("hann", 400, fftbins=True), atol=1e-7)
    np.testing.assert_allclose(spectral.make_window(400, "hamming").numpy(),
                               scipy.signal.get_window("hamming", 400, fftbins=True), atol=1e-7)
    # NOTE: length 1 is the one case that differs from the references: torch and scipy
    # special-case it to [1.0], while the formula 0.5 - 0.5 cos(0) gives [0.0].
    # A one-sample STFT frame is meaningless, so this is documented, not asserted equal.
    assert spectral.make_window(1).shape == (1,)


def test_make_window_errors() -> None:
    with pytest.raises(ValueError, match="kind"):
        spectral.make_window(16, "kaiser")
    for bad in (0, -4, 16.0):
        with pytest.raises(ValueError, match="length"):
            spectral.make_window(bad)


def test_frame_signal_matches_manual_loop() -> None:
    x = torch.randn(1000, generator=_g(0))
    frames = spectral.frame_signal(x, 256, 100)
    n_frames = 1 + (1000 - 256) // 100
    assert frames.shape == (n_frames, 256) == (8, 256)
    manual = torch.stack([x[m * 100: m * 100 + 256] for m in range(n_frames)])
    assert torch.equal(frames, manual)


def test_frame_signal_batched_and_exact_fit() -> None:
    x = torch.randn(2, 3, 500, generator=_g(1))
    frames = spectral.frame_signal(x, 100, 100)
    assert frames.shape == (2, 3, 5, 100)
    assert torch.equal(frames.reshape(2, 3, 500), x)
    assert spectral.frame_signal(torch.zeros(64), 64, 10).shape == (1, 64)


def test_frame_signal_errors() -> None:
    with pytest.raises(ValueError, match="fewer than frame_length=256"):
        spectral.frame_signal(torch.zeros(100), 256, 64)
    with pytest.raises(ValueError, match="frame_length"):
        spectral.frame_signal(torch.zeros(100), 0, 64)
    with pytest.raises(ValueError, match="hop_length"):
        spectral.frame_signal(torch.zeros(100), 10, 0)


# ---------------------------------------------------------------- STFT

@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("window", ["hann", "hamming"])
def test_compute_stft_matches_torch_stft(center: bool, window: str) -> None:
    x = torch.randn(4000, generator=_g(2))
    w = spectral.make_window(512, window)
    ours = spectral.compute_stft(x, 512, 128, window=window, center=center)
    ref = torch.stft(x, 512, 128, window=w, center=center, pad_mode="reflect", return_complex=True)
    assert ours.dtype == torch.complex64 and ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)


def test_compute_stft_batched_matches_torch_stft() -> None:
    x = torch.randn(2, 3, 3000, generator=_g(3))
    ours = spectral.compute_stft(x, 256, 100)
    ref = torch.stft(x.reshape(6, 3000), 256, 100, window=torch.hann_window(256), center=True,
                     return_complex=True).reshape(2, 3, 129, -1)
    assert ours.shape == ref.shape == (2, 3, 129, 1 + 3000 // 100)
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)
    # each channel on its own gives the same result
    torch.testing.assert_close(spectral.compute_stft(x[1, 2], 256, 100), ours[1, 2], rtol=1e-5, atol=1e-5)


def test_compute_stft_tensor_window() -> None:
    x = torch.randn(2048, generator=_g(4))
    w = torch.blackman_window(256)
    ref = torch.stft(x, 256, 64, window=w, center=False, return_complex=True)
    torch.testing.assert_close(spectral.compute_stft(x, 256, 64, window=w, center=False), ref,
                               rtol=1e-4, atol=1e-4)


def test_compute_stft_matches_librosa(speechlike: torch.Tensor) -> None:
    ours = spectral.compute_stft(speechlike, 512, 128).numpy()
    # librosa >= 0.10 pads with zeros by default; the course (and torch) reflect
    ref = librosa.stft(speechlike.numpy(), n_fft=512, hop_length=128, window="hann",
                       center=True, pad_mode="reflect")
    assert ours.shape == ref.shape
    assert _rel_err(ours, ref) < 1e-5
    ref_nc = librosa.stft(speechlike.numpy(), n_fft=512, hop_length=128, center=False)
    assert _rel_err(spectral.compute_stft(speechlike, 512, 128, center=False).numpy(), ref_nc) < 1e-5


def test_compute_stft_matches_dft_formula() -> None:
    x = torch.randn(64, generator=_g(5), dtype=torch.float64).float()
    n_fft, hop = 16, 8
    X = spectral.compute_stft(x, n_fft, hop, window="hann", center=False).to(torch.complex128)
    w = spectral.make_window(n_fft).double()
    n = torch.arange(n_fft, dtype=torch.float64)
    for m in range(X.shape[-1]):
        seg = x[m * hop: m * hop + n_fft].double() * w
        for k in range(n_fft // 2 + 1):
            ref = (seg * torch.exp(-2j * torch.pi * k * n / n_fft)).sum()
            assert abs(complex(X[k, m]) - complex(ref)) < 1e-5


def test_compute_stft_errors() -> None:
    with pytest.raises(ValueError, match=r"window must have shape \(512,\)"):
        spectral.compute_stft(torch.zeros(4000), 512, 128, window=torch.ones(256))
    with pytest.raises(ValueError, match="reflect padding"):
        spectral.compute_stft(torch.zeros(200), 512, 128, center=True)
    with pytest.raises(ValueError, match="fewer than frame_length"):
        spectral.compute_stft(torch.zeros(300), 512, 128, center=False)


@pytest.mark.parametrize("shape", [(5000,), (2, 4321)])
def test_compute_istft_round_trip(shape) -> None:
    x = torch.randn(*shape, generator=_g(6)) * 0.3
    X = spectral.compute_stft(x, 512, 128)
    y = spectral.compute_istft(X, 512, 128, length=shape[-1])
    assert y.shape == x.shape
    torch.testing.assert_close(y, x, rtol=0, atol=1e-5)


def test_magnitude_and_frequencies_and_times() -> None:
    X = torch.tensor([3 + 4j, -1j], dtype=torch.complex64)
    torch.testing.assert_close(spectral.compute_magnitude(X), torch.tensor([5.0, 1.0]))
    torch.testing.assert_close(spectral.compute_magnitude(X, power=2.0), torch.tensor([25.0, 1.0]))
    with pytest.raises(TypeError, match="complex"):
        spectral.compute_magnitude(torch.ones(3))
    np.testing.assert_allclose(spectral.compute_fft_frequencies(512, 16000).numpy(),
                               librosa.fft_frequencies(sr=16000, n_fft=512), rtol=1e-6)
    np.testing.assert_allclose(spectral.compute_frame_times(10, 160, 16000).numpy(),
                               librosa.frames_to_time(np.arange(10), sr=16000, hop_length=160), rtol=1e-6)
    np.testing.assert_allclose(spectral.compute_frame_times(3, 160, 16000, n_fft=400, center=False).numpy(),
                               (np.arange(3) * 160 + 200) / 16000, rtol=1e-6)
    with pytest.raises(ValueError, match="n_fft"):
        spectral.compute_frame_times(3, 160, 16000, center=False)


def test_sine_peaks_in_the_right_bin() -> None:
    x = make_sine(1000.0, 0.5, SR)
    mag = spectral.compute_magnitude(spectral.compute_stft(x, 512, 128))
    freqs = spectral.compute_fft_frequencies(512, SR)
    assert float(freqs[mag[:, 10].argmax()]) == pytest.approx(1000.0, abs=SR / 512)


# ---------------------------------------------------------------- dB

@pytest.mark.parametrize("top_db", [80.0, 40.0, None])
def test_amplitude_to_db_matches_librosa(speechlike: torch.Tensor, top_db) -> None:
    mag = spectral.compute_magnitude(spectral.compute_stft(speechlike, 512, 128))
    m = mag.numpy()
    # librosa's amin for magnitudes is 1e-5 (1e-10 in power)
    ours_a = spectral.amplitude_to_db(mag, top_db=top_db, amin=1e-5).numpy()
    ref_a = librosa.amplitude_to_db(m, ref=1.0, amin=1e-5, top_db=top_db)
    np.testing.assert_allclose(ours_a, ref_a, rtol=0, atol=1e-4)
    ours_p = spectral.amplitude_to_db(mag**2, power=True, top_db=top_db).numpy()
    ref_p = librosa.power_to_db(m**2, ref=1.0, amin=1e-10, top_db=top_db)
    np.testing.assert_allclose(ours_p, ref_p, rtol=0, atol=1e-4)
    if top_db is not None:
        assert ours_p.max() - ours_p.min() <= top_db + 1e-4


def test_amplitude_to_db_values_and_errors() -> None:
    x = torch.tensor([1.0, 0.1, 0.0])
    torch.testing.assert_close(spectral.amplitude_to_db(x, top_db=None), torch.tensor([0.0, -20.0, -200.0]))
    torch.testing.assert_close(spectral.amplitude_to_db(x, top_db=30), torch.tensor([0.0, -20.0, -30.0]))
    torch.testing.assert_close(spectral.amplitude_to_db(x, power=True, top_db=None),
                               torch.tensor([0.0, -10.0, -100.0]))
    with pytest.raises(TypeError, match="compute_magnitude"):
        spectral.amplitude_to_db(torch.ones(2, dtype=torch.complex64))
    with pytest.raises(ValueError, match="non-negative"):
        spectral.amplitude_to_db(torch.tensor([-1.0]))


# ---------------------------------------------------------------- mel

def test_hz_mel_match_librosa_htk() -> None:
    f = np.array([0.0, 100.0, 440.0, 1000.0, 4000.0, 8000.0, 22050.0])
    np.testing.assert_allclose(spectral.hz_to_mel(torch.tensor(f)).numpy(), librosa.hz_to_mel(f, htk=True),
                               rtol=1e-6, atol=1e-4)
    m = np.linspace(0, 3000, 7)
    np.testing.assert_allclose(spectral.mel_to_hz(torch.tensor(m)).numpy(), librosa.mel_to_hz(m, htk=True),
                               rtol=1e-5, atol=1e-3)
    assert float(spectral.hz_to_mel(1000.0)) == pytest.approx(1000.0, abs=0.1)  # the scale's anchor
    back = spectral.mel_to_hz(spectral.hz_to_mel(torch.tensor(f)))
    np.testing.assert_allclose(back.numpy(), f, rtol=1e-5, atol=1e-3)


def test_spectrogram_matches_torch(speechlike: torch.Tensor) -> None:
    spec = spectral.compute_spectrogram(speechlike, 512, 128)
    ref = spectral.compute_magnitude(spectral.compute_stft(speechlike, 512, 128), power=2.0)
    assert spec.shape == ref.shape
    assert _rel_err(spec.numpy(), ref.numpy()) < 1e-5


def test_mel_spectrogram_matches_librosa(speechlike: torch.Tensor) -> None:
    # torchaudio's MelSpectrogram pads with reflection by default; pass the same to librosa
    import inspect

    import torchaudio.transforms as T

    assert inspect.signature(T.MelSpectrogram).parameters["pad_mode"].default == "reflect"
    assert spectral.make_mel_transform(SR, 512, 160, 64, 0.0, None).spectrogram.pad_mode == "reflect"
    ours = spectral.compute_mel_spectrogram(speechlike, SR, n_fft=512, hop_length=160, n_mels=64).numpy()
    ref = librosa.feature.melspectrogram(
        y=speechlike.numpy(), sr=SR, n_fft=512, hop_length=160, n_mels=64, window="hann",
        center=True, pad_mode="reflect", power=2.0, htk=False, norm="slaney",
    )
    assert ours.shape == ref.shape == (64, 101)
    assert _rel_err(ours, ref) < 1e-4


def test_mel_spectrogram_band_limits_match_librosa(speechlike: torch.Tensor) -> None:
    ours = spectral.compute_mel_spectrogram(speechlike, SR, n_fft=1024, hop_length=256, n_mels=40,
                                            f_min=50.0, f_max=7000.0).numpy()
    ref = librosa.feature.melspectrogram(
        y=speechlike.numpy(), sr=SR, n_fft=1024, hop_length=256, n_mels=40, fmin=50.0, fmax=7000.0,
        center=True, pad_mode="reflect", htk=False, norm="slaney",
    )
    assert _rel_err(ours, ref) < 1e-4


def test_mel_spectrogram_batched_shape() -> None:
    x = torch.randn(2, 3, 8000, generator=_g(7)) * 0.1
    mel = spectral.compute_mel_spectrogram(x, SR, n_mels=32)
    assert mel.shape == (2, 3, 32, 51)
    torch.testing.assert_close(mel[1, 0], spectral.compute_mel_spectrogram(x[1, 0], SR, n_mels=32),
                               rtol=1e-5, atol=1e-7)


def test_log_mel_is_log_of_mel(speechlike: torch.Tensor) -> None:
    mel = spectral.compute_mel_spectrogram(speechlike, SR)
    torch.testing.assert_close(spectral.compute_log_mel_spectrogram(speechlike, SR), torch.log(mel + 1e-6))


def test_log_mel_passes_gradients() -> None:
    x = (torch.randn(4000, generator=_g(8)) * 0.1).requires_grad_(True)
    out = spectral.compute_log_mel_spectrogram(x, SR, n_mels=32)
    out.mean().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert bool(torch.isfinite(x.grad).all())
    assert float(x.grad.abs().sum()) > 0


@pytest.mark.parametrize("f_min, f_max", [(-1.0, None), (5000.0, 4000.0), (0.0, 9000.0), (100.0, 100.0)])
def test_mel_band_errors(f_min, f_max) -> None:
    with pytest.raises(ValueError, match="f_min"):
        spectral.compute_mel_spectrogram(torch.zeros(4000), SR, f_min=f_min, f_max=f_max)


def test_mel_rejects_bad_waveforms() -> None:
    with pytest.raises(ValueError, match="NaN"):
        spectral.compute_mel_spectrogram(torch.tensor([0.0, float("nan")] * 1000), SR)
    with pytest.raises(TypeError, match="pcm_to_float"):
        spectral.compute_mel_spectrogram(torch.zeros(4000, dtype=torch.int16), SR)


# ---------------------------------------------------------------- MFCC

def test_mfcc_matches_librosa(speechlike: torch.Tensor) -> None:
    ours = spectral.compute_mfcc(speechlike, SR, n_mfcc=13, n_fft=512, hop_length=160, n_mels=64).numpy()
    assert ours.shape == (13, 101)
    # torchaudio's MFCC = orthonormal DCT-II of power_to_db(mel, ref=1, amin=1e-10, top_db=80),
    # which is exactly librosa.feature.mfcc's recipe once the mel spectrograms agree
    ref = librosa.feature.mfcc(
        y=speechlike.numpy(), sr=SR, n_mfcc=13, n_fft=512, hop_length=160, n_mels=64,
        center=True, pad_mode="reflect", htk=False, norm="ortho", dct_type=2, lifter=0,
    )
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4 * np.abs(ref).max())
    # and the same recipe built by hand from our own mel spectrogram (float32 vs float64 aside)
    mel = spectral.compute_mel_spectrogram(speechlike, SR, n_fft=512, hop_length=160, n_mels=64).double().numpy()
    db = 10 * np.log10(np.maximum(mel, 1e-10))
    db = np.maximum(db, db.max() - 80.0)
    own = scipy.fft.dct(db, type=2, norm="ortho", axis=0)[:13]
    np.testing.assert_allclose(ours, own, rtol=0, atol=1e-4 * np.abs(own).max())


def test_mfcc_batched_shape() -> None:
    x = torch.randn(2, 4000, generator=_g(9)) * 0.1
    assert spectral.compute_mfcc(x, SR, n_mfcc=20, n_mels=40).shape == (2, 20, 26)


# ---------------------------------------------------------------- Griffin-Lim

def _spectral_convergence(wav: torch.Tensor, mag: torch.Tensor, n_fft: int, hop: int) -> float:
    est = spectral.compute_magnitude(spectral.compute_stft(wav, n_fft, hop))
    n = min(est.shape[-1], mag.shape[-1])
    return float(torch.linalg.norm(est[..., :n] - mag[..., :n]) / torch.linalg.norm(mag[..., :n]))


def test_griffin_lim_beats_random_phase(speechlike: torch.Tensor) -> None:
    n_fft, hop = 512, 128
    x = speechlike[:8000]
    mag = spectral.compute_magnitude(spectral.compute_stft(x, n_fft, hop))
    phase = torch.rand(mag.shape, generator=_g(10)) * 2 * torch.pi
    rand_wav = spectral.compute_istft(torch.polar(mag, phase), n_fft, hop, length=8000)
    gl = spectral.invert_griffin_lim(mag, n_fft, hop, n_iter=32, seed=0)
    assert gl.dtype == torch.float32 and gl.ndim == 1
    assert abs(gl.shape[-1] - 8000) <= hop
    sc_rand = _spectral_convergence(rand_wav, mag, n_fft, hop)
    sc_gl = _spectral_convergence(gl, mag, n_fft, hop)
    assert sc_gl < 0.5 * sc_rand, (sc_gl, sc_rand)


def test_griffin_lim_reproducible_with_seed() -> None:
    x = make_chirp(200, 3000, 0.25, SR)
    mag = spectral.compute_magnitude(spectral.compute_stft(x, 256, 64))
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = spectral.invert_griffin_lim(mag, 256, 64, n_iter=4, seed=1)
    after = torch.rand(3)
    b = spectral.invert_griffin_lim(mag, 256, 64, n_iter=4, seed=1)
    c = spectral.invert_griffin_lim(mag, 256, 64, n_iter=4, seed=2)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.equal(before, after)  # the global generator is left untouched


def test_griffin_lim_power_spectrogram() -> None:
    x = make_sine(500, 0.25, SR)
    mag = spectral.compute_magnitude(spectral.compute_stft(x, 256, 64))
    a = spectral.invert_griffin_lim(mag, 256, 64, n_iter=8, seed=0)
    b = spectral.invert_griffin_lim(mag**2, 256, 64, n_iter=8, power=2.0, seed=0)
    torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)


def test_griffin_lim_bin_count_error() -> None:
    with pytest.raises(ValueError, match="n_fft//2\\+1=257"):
        spectral.invert_griffin_lim(torch.ones(128, 10), 512, 128)


def test_slaney_mel_scale_matches_librosa_default() -> None:
    """The Slaney scale (compute_mel_spectrogram's bands, plot_spectrogram's mel axis) equals librosa's default."""
    import librosa

    from audiomap_lib.spectral import hz_to_mel, mel_to_hz

    f = np.array([0.0, 100.0, 999.0, 1000.0, 1500.0, 4000.0, 8000.0])
    np.testing.assert_allclose(hz_to_mel(torch.tensor(f), "slaney").numpy(), librosa.hz_to_mel(f), rtol=1e-5, atol=1e-5)
    m = librosa.hz_to_mel(f)
    np.testing.assert_allclose(mel_to_hz(torch.tensor(m), "slaney").numpy(), f, rtol=1e-5, atol=1e-3)
    with pytest.raises(ValueError, match="scale"):
        hz_to_mel(100.0, "bark")


def test_mel_filterbank_is_the_transforms_filterbank() -> None:
    fb = spectral.make_mel_filterbank(40, SR, n_fft=512, f_min=20.0)
    assert fb.shape == (40, 257)
    tr = spectral.make_mel_transform(SR, n_fft=512, hop_length=160, n_mels=40, f_min=20.0)
    torch.testing.assert_close(fb, tr.mel_scale.fb.T)
    with pytest.raises(ValueError, match="n_mels must be a positive int"):
        spectral.make_mel_filterbank(0, SR)
    with pytest.raises(ValueError, match="f_min < f_max"):
        spectral.make_mel_filterbank(40, SR, f_min=9000.0)


@pytest.mark.parametrize("n_fft, hop, length", [(512, 128, None), (400, 100, 4000), (256, 64, 6000), (512, 256, None)])
def test_compute_istft_equals_torch_istft_in_values_and_gradients(n_fft: int, hop: int, length: int | None) -> None:
    x = torch.randn(2, 4500, generator=_g(7), dtype=torch.float64)
    X = spectral.compute_stft(x.float(), n_fft, hop).to(torch.complex128).requires_grad_(True)
    ours = spectral.compute_istft(X, n_fft, hop, length=length)
    ref = torch.istft(X, n_fft, hop, window=torch.hann_window(n_fft, dtype=torch.float64), length=length)
    torch.testing.assert_close(ours, ref)
    weights = torch.cos(torch.arange(ours.numel(), dtype=torch.float64)).reshape(ours.shape)
    (g_ours,) = torch.autograd.grad((ours * weights).sum(), X)
    (g_ref,) = torch.autograd.grad((ref * weights).sum(), X)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-5, atol=1e-6)  # the last frame differs by ~1e-6 when padded to length


def test_compute_istft_refuses_windows_that_leave_gaps() -> None:
    X = spectral.compute_stft(torch.randn(3000, generator=_g(8)), 256, 256)
    with pytest.raises(ValueError, match="NOLA"):
        spectral.compute_istft(X, 256, 256)
    with pytest.raises(ValueError, match="frequency bins"):
        spectral.compute_istft(X, 512, 128)
    with pytest.raises(TypeError, match="complex"):
        spectral.compute_istft(X.abs(), 256, 64)
