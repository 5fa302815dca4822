"""Chapter 2's from-scratch mel filter bank, Griffin-Lim and constant-Q transform, checked against
librosa and torchaudio with tolerances (issue 13, section 4)."""
from __future__ import annotations

import contextlib
import inspect
import math
import re
from collections.abc import Iterator

import librosa
import numpy as np
import pytest
import torch
import torchaudio.functional as AF

from audiomap_lib import spectral
from audiomap_lib.signals import make_chirp, make_harmonic_tone, make_noise
from audiomap_lib.style import compute_spectral_convergence


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    """torchaudio's melscale_fbanks builds its grids in the default dtype: float64 for a float64 reference."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


# ---------------------------------------------------------------- the mel filter bank

MEL_CASES = [(16000, 512, 40, 0.0, None), (22050, 2048, 128, 20.0, 8000.0), (16000, 400, 64, 0.0, None),
             (44100, 1024, 80, 30.0, 16000.0), (8000, 256, 23, 0.0, None)]


@pytest.mark.parametrize("sr, n_fft, n_mels, f_min, f_max", MEL_CASES)
@pytest.mark.parametrize("scale", ["slaney", "htk"])
@pytest.mark.parametrize("norm", ["slaney", None])
def test_mel_filterbank_equals_librosa_and_torchaudio(sr: int, n_fft: int, n_mels: int, f_min: float,
                                                      f_max: float | None, scale: str, norm: str | None) -> None:
    ours = spectral.compute_mel_filterbank(n_mels, sr, n_fft, f_min, f_max, scale, norm, dtype=torch.float64)
    assert ours.shape == (n_mels, n_fft // 2 + 1) and ours.dtype == torch.float64
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max, htk=scale == "htk",
                              norm=norm, dtype=np.float64)
    assert _rel_err(ours.numpy(), ref) < 1e-12  # measured: at most 2.4e-14
    with _default_dtype(torch.float64):
        ta = AF.melscale_fbanks(n_fft // 2 + 1, f_min, sr / 2 if f_max is None else f_max, n_mels, sr,
                                norm=norm, mel_scale=scale).T
    assert _rel_err(ours.numpy(), ta.numpy()) < 1e-12  # measured: at most 1.4e-14
    if norm == "slaney":  # unit area in Hz: the sum over bins times the bin spacing, for triangles over 10 bins wide
        area = ours.sum(dim=-1) * sr / n_fft
        wide = (ours > 0).sum(dim=-1) > 10
        assert float((area[wide] - 1).abs().max()) < 0.01


def test_mel_filterbank_defaults_are_the_course_settings() -> None:
    params = inspect.signature(spectral.compute_mel_filterbank).parameters
    assert {"norm": params["norm"].default, "mel_scale": params["scale"].default} == spectral.MEL_SETTINGS
    for n_mels, sr, n_fft, f_min in [(40, 16000, 512, 20.0), (64, 16000, 400, 0.0), (12, 16000, 256, 0.0),
                                     (128, 22050, 2048, 0.0)]:
        ours = spectral.compute_mel_filterbank(n_mels, sr, n_fft, f_min)
        course = spectral.make_mel_filterbank(n_mels, sr, n_fft, f_min)  # torchaudio, float32 arithmetic
        assert ours.dtype == course.dtype == torch.float32 and ours.shape == course.shape
        # torchaudio subtracts Hz values of thousands in float32 (ulp ~1e-4 Hz) over triangles ~100 Hz wide: ~1e-6 of the peak
        assert _rel_err(ours.numpy(), course.numpy()) < 5e-6  # measured at most 1.2e-6


def test_torchaudio_bins_are_not_the_fft_bins_for_odd_sizes() -> None:
    """torchaudio evaluates its triangles at linspace(0, sr // 2, bins); the FFT's bins are k * sr / n_fft."""
    for sr, n_fft in [(16000, 401), (11025, 512)]:
        ours = spectral.compute_mel_filterbank(40, sr, n_fft, dtype=torch.float64)
        ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=40, dtype=np.float64)
        assert _rel_err(ours.numpy(), ref) < 1e-12
        with _default_dtype(torch.float64):
            ta = AF.melscale_fbanks(n_fft // 2 + 1, 0.0, sr / 2, 40, sr, norm="slaney", mel_scale="slaney").T
        assert _rel_err(ours.numpy(), ta.numpy()) > 1e-3  # measured 3.4e-2 and 1.4e-3


def test_mel_filterbank_device_and_dtype() -> None:
    fb = spectral.compute_mel_filterbank(16, 8000, 128, device="cpu")
    assert fb.dtype == torch.float32 and fb.device.type == "cpu"
    with pytest.raises(ValueError, match="dtype"):
        spectral.compute_mel_filterbank(16, 8000, 128, dtype=torch.float16)


def test_mel_filterbank_refuses_empty_triangles() -> None:
    with pytest.raises(ValueError, match=r"n_mels=128 is too many for n_fft=256.*contain no FFT bin.*at most n_mels=(\d+)") as info:
        spectral.compute_mel_filterbank(128, 16000, 256)
    found = re.search(r"at most n_mels=(\d+)", str(info.value))
    assert found is not None
    fits = int(found.group(1))
    assert float(spectral.compute_mel_filterbank(fits, 16000, 256).amax(dim=-1).min()) > 0  # the number it gives works
    with pytest.raises(ValueError, match="too many"):
        spectral.compute_mel_filterbank(fits + 1, 16000, 256)
    with pytest.warns(UserWarning, match="[Ee]mpty filters"):  # librosa builds the same bank and only warns
        librosa.filters.mel(sr=16000, n_fft=256, n_mels=128)


def test_mel_filterbank_errors() -> None:
    with pytest.raises(ValueError, match="scale"):
        spectral.compute_mel_filterbank(40, 16000, 512, scale="bark")
    with pytest.raises(ValueError, match="norm"):
        spectral.compute_mel_filterbank(40, 16000, 512, norm="area")
    with pytest.raises(ValueError, match="f_min < f_max"):
        spectral.compute_mel_filterbank(40, 16000, 512, f_min=9000.0)
    with pytest.raises(ValueError, match="f_max"):
        spectral.compute_mel_filterbank(40, 16000, 512, f_max=-1.0)
    with pytest.raises(ValueError, match="n_mels"):
        spectral.compute_mel_filterbank(0, 16000, 512)


# ---------------------------------------------------------------- Griffin-Lim

SR = 16000
N_FFT, HOP = 512, 128


@pytest.fixture(scope="module")
def chirp_harmonics() -> torch.Tensor:
    """Half a second of a chirp plus a harmonic tone, float64."""
    x = make_chirp(100, 4000, 0.5, SR, amplitude=0.4) + make_harmonic_tone(220, 0.5, SR, n_partials=6, peak=0.3)
    return x.double()


def _magnitude(x: torch.Tensor) -> torch.Tensor:
    return spectral._stft(x, N_FFT, HOP, spectral.make_window(N_FFT).to(x.dtype)).abs()


@pytest.mark.parametrize("momentum", [0.0, 0.99])
@pytest.mark.parametrize("start", ["zero phase", "torchaudio's random draw"])
def test_griffin_lim_equals_torchaudio_from_the_same_start(chirp_harmonics: torch.Tensor, momentum: float,
                                                           start: str) -> None:
    mag = _magnitude(chirp_harmonics)
    window = spectral.make_window(N_FFT).double()  # the window compute_istft uses, given to torchaudio too
    rand_init = start != "zero phase"
    torch.manual_seed(3)
    ref = AF.griffinlim(mag, window, N_FFT, HOP, N_FFT, power=1.0, n_iter=32, momentum=momentum, length=None,
                        rand_init=rand_init)
    torch.manual_seed(3)  # torchaudio's draw: torch.rand of complex dtype (real and imaginary parts in [0, 1))
    init = torch.rand(mag.shape, dtype=torch.complex128) if rand_init else torch.ones_like(mag, dtype=torch.complex128)
    ours = spectral.compute_griffin_lim(mag, N_FFT, HOP, n_iter=32, momentum=momentum, init_phase=init)
    assert ours.dtype == torch.float64 and ours.shape == ref.shape == ((mag.shape[-1] - 1) * HOP,)
    assert _rel_err(ours.numpy(), ref.numpy()) < 1e-9  # measured: at most 3e-12


def test_plain_griffin_lim_never_increases_the_spectral_convergence(chirp_harmonics: torch.Tensor) -> None:
    mag = _magnitude(chirp_harmonics)
    y, history = spectral.compute_griffin_lim(mag, N_FFT, HOP, n_iter=60, seed=1, return_history=True)
    assert history.shape == (61,) and history.dtype == torch.float64
    assert bool((torch.diff(history) <= 1e-12).all()), torch.diff(history).max()
    assert float(history[-1]) < 0.5 * float(history[0])
    # the last entry is the returned waveform's, computed as Chapter 8 does
    assert math.isclose(float(history[-1]), float(compute_spectral_convergence(mag, _magnitude(y))), rel_tol=1e-12)
    _, fast = spectral.compute_griffin_lim(mag, N_FFT, HOP, n_iter=60, momentum=0.99, seed=1, return_history=True)
    assert float(fast[-1]) < float(history[-1])  # the fast variant gets further in as many iterations


def test_griffin_lim_from_the_true_phase_stays_there(chirp_harmonics: torch.Tensor) -> None:
    X = spectral._stft(chirp_harmonics, N_FFT, HOP, spectral.make_window(N_FFT).double())
    y, history = spectral.compute_griffin_lim(X.abs(), N_FFT, HOP, n_iter=3, init_phase=X / X.abs(),
                                              length=chirp_harmonics.shape[0], return_history=True)
    assert float(history.max()) < 1e-12
    torch.testing.assert_close(y, chirp_harmonics, rtol=0, atol=1e-10)


def test_griffin_lim_batches_seeds_and_float32(chirp_harmonics: torch.Tensor) -> None:
    mag = _magnitude(chirp_harmonics).float()
    batch = torch.stack([mag, 0.5 * mag])
    y, history = spectral.compute_griffin_lim(batch, N_FFT, HOP, n_iter=4, seed=5, return_history=True)
    assert y.shape == (2, (mag.shape[-1] - 1) * HOP) and y.dtype == torch.float32 and history.shape == (2, 5)
    one = spectral.compute_griffin_lim(mag, N_FFT, HOP, n_iter=4, seed=5)
    assert not torch.equal(one, spectral.compute_griffin_lim(mag, N_FFT, HOP, n_iter=4, seed=6))
    state = torch.random.get_rng_state()
    again = spectral.compute_griffin_lim(mag, N_FFT, HOP, n_iter=4, seed=5)
    assert torch.equal(one, again) and torch.equal(state, torch.random.get_rng_state())  # the global RNG is untouched
    y0 = spectral.compute_griffin_lim(mag, N_FFT, HOP, n_iter=0, init_phase=torch.ones_like(mag, dtype=torch.complex64))
    torch.testing.assert_close(y0, spectral.compute_istft(mag.to(torch.complex64), N_FFT, HOP))


def test_griffin_lim_errors(chirp_harmonics: torch.Tensor) -> None:
    mag = _magnitude(chirp_harmonics)
    with pytest.raises(ValueError, match="n_fft//2\\+1=129"):
        spectral.compute_griffin_lim(mag, 256, 64)
    with pytest.raises(ValueError, match="non-negative"):
        spectral.compute_griffin_lim(-mag, N_FFT, HOP)
    with pytest.raises(ValueError, match="momentum"):
        spectral.compute_griffin_lim(mag, N_FFT, HOP, momentum=1.0)
    with pytest.raises(ValueError, match="length"):
        spectral.compute_griffin_lim(mag, N_FFT, HOP, length=HOP * (mag.shape[-1] + 3))
    with pytest.raises(TypeError, match="init_phase"):
        spectral.compute_griffin_lim(mag, N_FFT, HOP, init_phase=torch.ones_like(mag))
    with pytest.raises(ValueError, match="init_phase"):
        spectral.compute_griffin_lim(mag, N_FFT, HOP, init_phase=torch.ones(3, 4, dtype=torch.complex128))
    with pytest.raises(ValueError, match="n_iter"):
        spectral.compute_griffin_lim(mag, N_FFT, HOP, n_iter=-1)


# ---------------------------------------------------------------- the constant-Q transform

CQT_SR = 22050
B = 12
R = 2 ** (1 / B)
Q_BROWN = 1 / (R - 1)
LIBROSA_FILTER_SCALE = (R + 1) / (R * R + 1)  # librosa's Q is filter_scale / alpha, alpha = (r^2 - 1) / (r^2 + 1)


def test_cqt_frequencies_equal_librosa() -> None:
    fmin = float(librosa.note_to_hz("C1"))
    for n_bins, bpo in [(84, 12), (100, 24), (1, 12)]:
        ours = spectral.compute_cqt_frequencies(fmin, n_bins, bpo, dtype=torch.float64).numpy()
        np.testing.assert_allclose(ours, librosa.cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=bpo),
                                   rtol=1e-14)
    assert spectral.compute_cqt_frequencies(55.0, 3).dtype == torch.float32
    with pytest.raises(ValueError, match="f_min_hz"):
        spectral.compute_cqt_frequencies(0.0, 12)


def test_cqt_tone_at_each_bin_centre_peaks_there_in_both() -> None:
    """Every bin, in ours and in librosa.cqt with its defaults: a tone at f_k peaks in bin k.
    Ours gives it the magnitude A / 2 in every bin (L1-normalised kernels)."""
    fmin, n_bins, hop = float(librosa.note_to_hz("C3")), 60, 512
    freqs = spectral.compute_cqt_frequencies(fmin, n_bins, B, dtype=torch.float64)
    t = torch.arange(CQT_SR // 2, dtype=torch.float64) / CQT_SR
    tones = 0.8 * torch.cos(2 * math.pi * freqs[:, None] * t)  # (n_bins, samples): one tone per row
    ours = spectral.compute_cqt(tones, CQT_SR, hop, fmin, n_bins, B).abs()  # (n_bins tones, n_bins, frames)
    lib = np.abs(librosa.cqt(tones.numpy(), sr=CQT_SR, hop_length=hop, fmin=fmin, n_bins=n_bins, bins_per_octave=B))
    mid = ours.shape[-1] // 2
    assert torch.equal(ours[:, :, mid].argmax(dim=1), torch.arange(n_bins))
    assert np.array_equal(lib[:, :, mid].argmax(axis=1), np.arange(n_bins))
    peak = torch.diagonal(ours[:, :, mid])
    assert float((peak / 0.4 - 1).abs().max()) < 1e-3  # A / 2 with A = 0.8 in every bin


@pytest.fixture(scope="module")
def cqt_signal() -> torch.Tensor:
    """1.5 s of a chirp, a harmonic tone and a little noise at 22.05 kHz, float64."""
    x = (make_chirp(80, 4000, 1.5, CQT_SR, amplitude=0.4) + make_harmonic_tone(196, 1.5, CQT_SR, n_partials=8, peak=0.3)
         + make_noise(1.5, CQT_SR, rms=0.003, seed=0))
    return x.double()


def test_cqt_agrees_with_librosa_single_rate(cqt_signal: torch.Tensor) -> None:
    """librosa.cqt at the same Q (filter_scale), unsparsified kernels and an odd hop (so that it never
    halves the sample rate): the same complex values up to the kernels' definition (librosa's Hann window
    has 2 floor(L/2) + 1 samples and sits half a sample before the frame centre; ours has ceil(L) and is centred)."""
    fmin, n_bins, hop = float(librosa.note_to_hz("C2")), 72, 511
    ours = spectral.compute_cqt(cqt_signal, CQT_SR, hop, fmin, n_bins, B)
    assert ours.dtype == torch.complex128 and ours.shape == (n_bins, 1 + cqt_signal.shape[0] // hop)
    lib = librosa.cqt(cqt_signal.numpy(), sr=CQT_SR, hop_length=hop, fmin=fmin, n_bins=n_bins, bins_per_octave=B,
                      filter_scale=LIBROSA_FILTER_SCALE, sparsity=0.0, scale=False)
    lengths = Q_BROWN * CQT_SR / librosa.cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=B)
    scaled = ours.numpy() * lengths[:, None]  # librosa's scale=False response is L_k times an L1-normalised one
    assert _rel_err(scaled, lib) < 5e-3  # measured 2.1e-3 (complex values: the phases agree too)
    a, b = np.abs(scaled), np.abs(lib)
    corr = np.corrcoef(np.log(a + 1e-6 * a.max()).ravel(), np.log(b + 1e-6 * b.max()).ravel())[0, 1]
    assert corr > 0.999  # measured 0.99982


def test_cqt_against_librosa_defaults(cqt_signal: torch.Tensor) -> None:
    """librosa.cqt as usually called (its own Q, 1 % sparsified kernels, octave-by-octave resampling, scale=True):
    a different transform in the details, the same picture."""
    fmin, n_bins, hop = float(librosa.note_to_hz("C2")), 72, 512
    ours = spectral.compute_cqt(cqt_signal, CQT_SR, hop, fmin, n_bins, B).abs().numpy()
    lib = np.abs(librosa.cqt(cqt_signal.numpy(), sr=CQT_SR, hop_length=hop, fmin=fmin, n_bins=n_bins, bins_per_octave=B))
    lengths = librosa.filters.wavelet_lengths(freqs=librosa.cqt_frequencies(n_bins=n_bins, fmin=fmin), sr=CQT_SR)[0]
    scaled = ours * np.sqrt(lengths)[:, None]  # scale=True divides librosa's L_k by sqrt(L_k)
    corr = np.corrcoef(np.log(scaled + 1e-6 * scaled.max()).ravel(), np.log(lib + 1e-6 * lib.max()).ravel())[0, 1]
    assert corr > 0.97  # measured 0.981
    assert _rel_err(scaled, lib) < 0.05  # measured 2.6e-2


def test_cqt_float32_batches_and_gradients(cqt_signal: torch.Tensor) -> None:
    fmin, n_bins, hop = 110.0, 36, 256
    x = cqt_signal[:8000]
    ref = spectral.compute_cqt(x, CQT_SR, hop, fmin, n_bins)
    single = spectral.compute_cqt(x.float(), CQT_SR, hop, fmin, n_bins)
    assert single.dtype == torch.complex64
    assert _rel_err(single.numpy(), ref.numpy()) < 1e-5
    batch = spectral.compute_cqt(torch.stack([x, -x]).float()[:, None], CQT_SR, hop, fmin, n_bins)
    assert batch.shape == (2, 1, n_bins, 1 + 8000 // hop)
    torch.testing.assert_close(batch[1, 0], -single)
    xg = x.clone().requires_grad_(True)
    spectral.compute_cqt(xg, CQT_SR, hop, fmin, n_bins).abs().sum().backward()
    assert xg.grad is not None and bool(torch.isfinite(xg.grad).all()) and float(xg.grad.abs().max()) > 0


def test_cqt_errors() -> None:
    x = torch.zeros(CQT_SR)
    with pytest.raises(ValueError, match=r"n_bins=120 .*Nyquist.*at most n_bins=(\d+)") as info:
        spectral.compute_cqt(x, CQT_SR, 512, 32.7, 120)
    found = re.search(r"at most n_bins=(\d+)", str(info.value))
    assert found is not None
    fits = int(found.group(1))
    assert float(spectral.compute_cqt_frequencies(32.7, fits)[-1]) < CQT_SR / 2 <= float(
        spectral.compute_cqt_frequencies(32.7, fits + 1)[-1])
    spectral.compute_cqt(x, CQT_SR, 512, 32.7, fits)  # the number it gives works
    with pytest.raises(ValueError, match="f_min_hz=20 Hz needs a kernel of .* samples"):
        spectral.compute_cqt(x[:4000], CQT_SR, 512, 20.0, 12)
    with pytest.raises(ValueError, match="f_min_hz"):
        spectral.compute_cqt(x, CQT_SR, 512, 12000.0, 1)
    with pytest.raises(ValueError, match="hop_length"):
        spectral.compute_cqt(x, CQT_SR, 0, 100.0, 12)
    with pytest.raises(ValueError, match="filter_scale"):
        spectral.compute_cqt(x, CQT_SR, 512, 100.0, 12, filter_scale=0.0)
    with pytest.raises(TypeError, match="waveform"):
        spectral.compute_cqt(x.to(torch.complex64), CQT_SR, 512, 100.0, 12)
