"""Tests for audiomap_lib.io: file round trips, waveform checks, PCM, resampling, levels."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
import torch

from audiomap_lib import io
from audiomap_lib.signals import make_sine


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _rand_wave(shape, seed=0, peak=0.9) -> torch.Tensor:
    return (torch.rand(shape, generator=_g(seed)) * 2 - 1) * peak


# ---------------------------------------------------------------- save / load

def test_round_trip_pcm16_within_one_lsb(tmp_path: Path) -> None:
    x = _rand_wave((2, 4000), seed=1)
    p = io.save_audio(tmp_path / "sub" / "a.wav", x, 16000)
    assert p.is_file()
    y, sr = io.load_audio(p)
    assert sr == 16000
    assert y.dtype == torch.float32 and y.shape == (2, 4000)
    assert float((y - x).abs().max()) <= 1 / 32768 + 1e-7
    info = sf.info(str(p))
    assert info.subtype == "PCM_16" and info.channels == 2 and info.samplerate == 16000


def test_round_trip_float_exact(tmp_path: Path) -> None:
    x = _rand_wave(3000, seed=2)
    p = io.save_audio(tmp_path / "b.wav", x, 22050, subtype="FLOAT")
    y, sr = io.load_audio(p)
    assert sr == 22050
    assert y.shape == (1, 3000)  # always (channels, samples)
    assert torch.equal(y[0], x)


def test_float_subtype_may_exceed_one(tmp_path: Path) -> None:
    x = _rand_wave(100, seed=3, peak=1.0) * 2.0
    p = io.save_audio(tmp_path / "loud.wav", x, 8000, subtype="FLOAT")
    y, _ = io.load_audio(p)
    assert torch.equal(y[0], x)


def test_round_trip_numpy_input(tmp_path: Path) -> None:
    x = _rand_wave(500, seed=4).numpy().astype(np.float64)
    p = io.save_audio(tmp_path / "c.flac", x, 8000)
    y, sr = io.load_audio(p, sr=8000)
    assert sr == 8000
    assert np.abs(y[0].numpy() - x).max() <= 1 / 32768 + 1e-7


def test_load_wrong_rate_names_both(tmp_path: Path) -> None:
    p = io.save_audio(tmp_path / "d.wav", _rand_wave(1000), 44100)
    with pytest.raises(ValueError) as info:
        io.load_audio(p, sr=16000)
    msg = str(info.value)
    assert "44100" in msg and "16000" in msg
    assert "resample" in msg


def test_load_mono_averages_channels(tmp_path: Path) -> None:
    x = torch.stack([_rand_wave(800, seed=5, peak=0.4), _rand_wave(800, seed=6, peak=0.4)])
    p = io.save_audio(tmp_path / "e.wav", x, 16000, subtype="FLOAT")
    y, _ = io.load_audio(p, mono=True)
    assert y.shape == (1, 800)
    torch.testing.assert_close(y[0], x.mean(0), rtol=0, atol=1e-7)


def test_load_missing_and_garbage(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        io.load_audio(tmp_path / "nope.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(ValueError, match="could not read"):
        io.load_audio(bad)


def test_save_refuses_peak_above_one(tmp_path: Path) -> None:
    x = torch.tensor([0.0, 0.5, -1.2, 0.1])
    with pytest.raises(ValueError, match="normalize_peak") as info:
        io.save_audio(tmp_path / "f.wav", x, 16000)
    assert "1.200" in str(info.value)
    assert not (tmp_path / "f.wav").exists()
    # exactly 1.0 is allowed
    io.save_audio(tmp_path / "g.wav", torch.tensor([0.0, 1.0, -1.0]), 16000)


def test_save_rejects_bad_rate(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sr"):
        io.save_audio(tmp_path / "h.wav", _rand_wave(10), 0)
    with pytest.raises(TypeError, match="sr"):
        io.save_audio(tmp_path / "h.wav", _rand_wave(10), 16000.5)


# ---------------------------------------------------------------- check_waveform

def test_check_waveform_passes_float32_through() -> None:
    x = _rand_wave(100)
    assert io.check_waveform(x) is x
    y = io.check_waveform(np.zeros((2, 5), dtype=np.float64))
    assert y.dtype == torch.float32 and y.shape == (2, 5)
    z = io.check_waveform(torch.zeros(7, dtype=torch.float64))
    assert z.dtype == torch.float32


def test_check_waveform_wrong_rank() -> None:
    with pytest.raises(ValueError, match=r"waveform must have shape .*got shape \(1, 2, 3\)"):
        io.check_waveform(torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="clip"):
        io.check_waveform(torch.tensor(0.5), name="clip")
    assert io.check_waveform(torch.zeros(1, 2, 3), ndim=(3,)).shape == (1, 2, 3)


def test_check_waveform_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        io.check_waveform(torch.zeros(0))
    with pytest.raises(ValueError, match="empty"):
        io.check_waveform(torch.zeros(2, 0))
    assert io.check_waveform(torch.zeros(0), allow_empty=True).numel() == 0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_waveform_non_finite(bad: float) -> None:
    x = torch.zeros(10)
    x[3] = bad
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        io.check_waveform(x)
    with pytest.raises(ValueError, match="NaN or infinite"):
        io.check_waveform(x.numpy())


@pytest.mark.parametrize("arr", [np.zeros(4, dtype=np.int16), np.zeros(4, dtype=np.int32),
                                 np.zeros(4, dtype=np.uint8), torch.zeros(4, dtype=torch.int16)])
def test_check_waveform_int_points_to_pcm_to_float(arr) -> None:
    with pytest.raises(TypeError, match="pcm_to_float"):
        io.check_waveform(arr)


@pytest.mark.parametrize("arr", [np.zeros(4, dtype=np.complex64), np.zeros(4, dtype=bool),
                                 torch.zeros(4, dtype=torch.complex64)])
def test_check_waveform_non_real(arr) -> None:
    with pytest.raises(TypeError, match="floating-point"):
        io.check_waveform(arr)


@pytest.mark.parametrize("obj", [[0.1, 0.2], 0.5, "audio", None])
def test_check_waveform_not_an_array(obj) -> None:
    with pytest.raises(TypeError, match="torch.Tensor or numpy array"):
        io.check_waveform(obj)


def test_check_sample_rate() -> None:
    assert io.check_sample_rate(16000) == 16000
    assert io.check_sample_rate(np.int64(8000)) == 8000
    assert io.check_sample_rate(44100.0) == 44100
    for bad in (True, 16000.5, "16000", None):
        with pytest.raises(TypeError):
            io.check_sample_rate(bad)
    for bad in (0, -1):
        with pytest.raises(ValueError):
            io.check_sample_rate(bad)


def test_check_same_rate() -> None:
    assert io.check_same_rate(16000, 16000) == 16000
    with pytest.raises(ValueError, match=r"a=16000 Hz, b=22050 Hz.*resample"):
        io.check_same_rate(16000, 22050, names=("a", "b"))


# ---------------------------------------------------------------- PCM

def test_pcm_to_float_int16() -> None:
    x = np.array([-32768, -1, 0, 1, 16384, 32767], dtype=np.int16)
    y = io.pcm_to_float(x)
    assert y.dtype == torch.float32
    np.testing.assert_array_equal(y.numpy(), (x.astype(np.float64) / 32768).astype(np.float32))
    assert float(y.min()) == -1.0 and float(y.max()) < 1.0


def test_pcm_to_float_int32_and_int8_and_tensor() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-(2**31), 2**31, size=(2, 100), dtype=np.int32)
    y = io.pcm_to_float(x)
    assert y.shape == (2, 100)
    np.testing.assert_allclose(y.numpy(), x / 2**31, rtol=1e-7, atol=0)
    z = io.pcm_to_float(torch.tensor([-128, 0, 64], dtype=torch.int8))
    np.testing.assert_array_equal(z.numpy(), [-1.0, 0.0, 0.5])


def test_pcm_to_float_int64() -> None:
    ok = np.array([-(2**31), 0, 2**30], dtype=np.int64)
    np.testing.assert_array_equal(io.pcm_to_float(ok).numpy(), [-1.0, 0.0, 0.5])
    with pytest.raises(ValueError, match="int32 PCM range"):
        io.pcm_to_float(np.array([0, 2**31], dtype=np.int64))
    with pytest.raises(ValueError, match="int32 PCM range"):
        io.pcm_to_float(np.array([-(2**31) - 1], dtype=np.int64))


def test_pcm_to_float_rejects_float_and_uint() -> None:
    with pytest.raises(TypeError, match="integer PCM"):
        io.pcm_to_float(np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="int8, int16 or int32"):
        io.pcm_to_float(np.zeros(3, dtype=np.uint16))


def test_pcm_matches_soundfile_reading(tmp_path: Path) -> None:
    x = _rand_wave(1000, seed=9)
    p = io.save_audio(tmp_path / "pcm.wav", x, 16000)
    raw, _ = sf.read(str(p), dtype="int16")
    y, _ = io.load_audio(p)
    torch.testing.assert_close(io.pcm_to_float(raw), y[0], rtol=0, atol=0)


# ---------------------------------------------------------------- mono / resample

def test_to_mono() -> None:
    x = _rand_wave((3, 50))
    m = io.to_mono(x)
    assert m.shape == (1, 50)
    torch.testing.assert_close(m[0], x.mean(0))
    v = _rand_wave(50)
    assert torch.equal(io.to_mono(v), v)


def test_resample_sine_against_scipy() -> None:
    n = 22051  # not a multiple of 441: the output length needs a ceiling
    x = make_sine(440.0, n / 44100, 44100, amplitude=0.5)
    assert x.shape == (n,)
    y = io.resample(x, 44100, 16000)
    expected_len = math.ceil(n * 16000 / 44100)
    assert y.shape == (expected_len,) == (8001,)
    ref = scipy.signal.resample_poly(x.double().numpy(), 160, 441)
    assert ref.shape == (expected_len,)
    # away from the edges, two different band-limited interpolators agree closely
    inner = slice(200, -200)
    assert np.abs(y.numpy()[inner] - ref[inner]).max() < 3e-3
    rms_y = float(y[inner].pow(2).mean().sqrt())
    assert rms_y == pytest.approx(float(np.sqrt(np.mean(ref[inner] ** 2))), rel=1e-3)
    assert rms_y == pytest.approx(0.5 / math.sqrt(2), rel=2e-3)
    # the spectral peak stays at 440 Hz
    spec = np.abs(np.fft.rfft(y.numpy() * np.hanning(len(y))))
    freqs = np.fft.rfftfreq(len(y), 1 / 16000)
    assert abs(freqs[np.argmax(spec)] - 440.0) <= 16000 / len(y)


def test_resample_batched_and_identity() -> None:
    x = _rand_wave((2, 1000))
    y = io.resample(x, 16000, 8000)
    assert y.shape == (2, 500)
    same = io.resample(x, 16000, 16000)
    assert torch.equal(same, x) and same is not x
    with pytest.raises(ValueError, match="new_sr"):
        io.resample(x, 16000, 0)


# ---------------------------------------------------------------- levels

def test_compute_rms() -> None:
    x = torch.tensor([[3.0, -4.0], [1.0, 1.0]])
    torch.testing.assert_close(io.compute_rms(x), torch.tensor([math.sqrt(12.5), 1.0]))
    s = make_sine(100, 1.0, 8000, amplitude=0.8)
    assert float(io.compute_rms(s)) == pytest.approx(0.8 / math.sqrt(2), rel=1e-5)


def test_normalize_peak() -> None:
    x = torch.tensor([0.1, -0.4, 0.2])
    y = io.normalize_peak(x, peak=0.8)
    torch.testing.assert_close(y, x * 2.0)
    assert float(y.abs().max()) == pytest.approx(0.8)
    assert float(io.normalize_peak(x).abs().max()) == pytest.approx(0.99)
    with pytest.raises(ValueError, match="silent"):
        io.normalize_peak(torch.zeros(10))
    for bad in (0.0, 1.5, -0.5):
        with pytest.raises(ValueError, match="peak"):
            io.normalize_peak(x, peak=bad)


def test_normalize_rms() -> None:
    x = make_sine(220, 0.5, 8000, amplitude=0.3)
    y = io.normalize_rms(x, rms=0.2)
    assert float(y.pow(2).mean().sqrt()) == pytest.approx(0.2, rel=1e-5)
    torch.testing.assert_close(y, x * (0.2 / x.double().pow(2).mean().sqrt()).float())
    with pytest.raises(ValueError, match="silent"):
        io.normalize_rms(torch.zeros(10))
    with pytest.raises(ValueError, match="positive"):
        io.normalize_rms(x, rms=0.0)
    # a sine's peak is sqrt(2) * rms: rms 0.8 would peak at 1.13
    with pytest.raises(ValueError, match="smaller rms"):
        io.normalize_rms(x, rms=0.8)


def test_normalize_rms_over_all_channels() -> None:
    x = torch.tensor([[0.1, -0.1], [0.3, -0.3]])
    y = io.normalize_rms(x, rms=0.1)
    assert float(y.pow(2).mean().sqrt()) == pytest.approx(0.1, rel=1e-6)
    torch.testing.assert_close(y[1] / y[0], torch.tensor([3.0, 3.0]))


# ---------------------------------------------------------------- pad_or_crop

def test_pad_or_crop_modes_pad() -> None:
    x = torch.tensor([1.0, 2.0, 3.0])
    torch.testing.assert_close(io.pad_or_crop(x, 6, "center"), torch.tensor([0, 1, 2, 3, 0, 0.0]))
    torch.testing.assert_close(io.pad_or_crop(x, 5, "start"), torch.tensor([1, 2, 3, 0, 0.0]))
    torch.testing.assert_close(io.pad_or_crop(x, 5, "end"), torch.tensor([0, 0, 1, 2, 3.0]))
    assert torch.equal(io.pad_or_crop(x, 3), x)


def test_pad_or_crop_modes_crop() -> None:
    x = torch.arange(10, dtype=torch.float32)
    torch.testing.assert_close(io.pad_or_crop(x, 5, "center"), torch.tensor([2, 3, 4, 5, 6.0]))
    torch.testing.assert_close(io.pad_or_crop(x, 4, "start"), torch.arange(4, dtype=torch.float32))
    torch.testing.assert_close(io.pad_or_crop(x, 4, "end"), torch.arange(6, 10, dtype=torch.float32))


def test_pad_or_crop_batched_shapes() -> None:
    x = _rand_wave((2, 3, 100))
    assert io.pad_or_crop(x, 128).shape == (2, 3, 128)
    y = io.pad_or_crop(x, 64, "start")
    assert torch.equal(y, x[..., :64])


def test_pad_or_crop_errors() -> None:
    x = torch.zeros(10)
    with pytest.raises(ValueError, match="allow_crop=False"):
        io.pad_or_crop(x, 5, allow_crop=False)
    assert io.pad_or_crop(x, 12, allow_crop=False).shape == (12,)
    with pytest.raises(ValueError, match="mode"):
        io.pad_or_crop(x, 5, mode="middle")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="length"):
            io.pad_or_crop(x, bad)


def test_check_mono_flattens_one_channel_and_refuses_stereo() -> None:
    from audiomap_lib.io import check_mono

    assert check_mono(torch.zeros(1, 10)).shape == (10,)
    assert check_mono(torch.zeros(10)).shape == (10,)
    with pytest.raises(ValueError, match="mono"):
        check_mono(torch.zeros(2, 10), name="clip")


def test_trim_silence_cuts_digital_silence():
    tone = torch.sin(torch.arange(1600) * 0.3)
    wav = torch.cat([torch.zeros(3200), tone, torch.zeros(800)])
    out = io.trim_silence(wav, 16000)
    assert abs(out.shape[0] - 1600) <= 160
    assert io.trim_silence(torch.zeros(1000), 16000).numel() == 0
    with pytest.raises(ValueError, match="waveform must have shape"):
        io.trim_silence(torch.zeros(2, 100), 16000)
    with pytest.raises(ValueError, match="frame_ms"):
        io.trim_silence(wav, 16000, frame_ms=0)


def test_trim_silence_keeps_a_margin_of_the_clip_never_padded():
    g = torch.Generator().manual_seed(0)
    word = 0.5 * torch.sin(torch.arange(4800) * 0.2)  # 300 ms at 16 kHz, starts on a 10 ms frame
    floor = 1e-4 * torch.randn(16000, generator=g)  # a quiet noise floor, far below -40 dB
    wav = floor.clone()
    wav[6400:11200] += word
    plain = io.trim_silence(wav, 16000)
    assert torch.equal(io.trim_silence(wav, 16000, margin_ms=0.0), plain)  # the default: no margin
    assert torch.equal(plain, wav[6400:11200])
    kept = io.trim_silence(wav, 16000, margin_ms=50.0)  # 800 samples of the clip itself on each side
    assert torch.equal(kept, wav[6400 - 800:11200 + 800])
    # near the clip's edges the margin is shorter: it never pads
    edge = torch.cat([word, torch.zeros(1600)])
    assert torch.equal(io.trim_silence(edge, 16000, margin_ms=50.0), edge[: 4800 + 800])
    assert io.trim_silence(torch.zeros(1000), 16000, margin_ms=50.0).numel() == 0
    with pytest.raises(ValueError, match="margin_ms"):
        io.trim_silence(wav, 16000, margin_ms=-1.0)
    with pytest.raises(ValueError, match="margin_ms"):
        io.trim_silence(wav, 16000, margin_ms=float("nan"))


def test_truncated_wav_is_refused(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(str(path), np.zeros(16_000, dtype=np.float32), 16_000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: 44 + 2 * 478])  # the header still announces 16000 frames
    with pytest.raises(ValueError, match=r"truncated: its WAV header announces 16000 frames, the file holds 478"):
        io.load_audio(path)
    whole = tmp_path / "whole.wav"
    whole.write_bytes(data)
    wav, sr = io.load_audio(whole)
    assert wav.shape == (1, 16_000) and sr == 16_000


def test_rms_of_large_signals_and_bad_levels():
    big = torch.full((1000,), 1e25)
    assert torch.isclose(io.compute_rms(big), torch.tensor(1e25), rtol=1e-6)
    out = io.normalize_rms(big, rms=0.1)
    assert torch.allclose(out, torch.full((1000,), 0.1))
    for bad in (float("nan"), float("inf"), 0, -1, True, "0.1"):
        with pytest.raises(ValueError, match="rms"):
            io.normalize_rms(torch.ones(10) * 0.01, rms=bad)
        with pytest.raises(ValueError, match="peak"):
            io.normalize_peak(torch.ones(10) * 0.01, peak=bad)


def test_save_audio_refuses_channels_last_and_unknown_subtypes(tmp_path):
    stereo = np.zeros((16_000, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"looks like \(samples, channels\).*waveform.T"):
        io.save_audio(tmp_path / "x.wav", stereo, 16_000)
    io.save_audio(tmp_path / "x.wav", stereo.T, 16_000)
    assert sf.info(str(tmp_path / "x.wav")).channels == 2
    with pytest.raises(ValueError, match="subtype"):
        io.save_audio(tmp_path / "y.wav", stereo.T, 16_000, subtype="PCM_17")
