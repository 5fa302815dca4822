"""Tests for audiomap_lib.plots and audiomap_lib.players (headless, Agg backend)."""
from __future__ import annotations

import re
import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from IPython.display import HTML, Audio  # noqa: E402

from audiomap_lib import players, plots, spectral  # noqa: E402
from audiomap_lib.signals import make_sine  # noqa: E402

SR = 8000


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def tone() -> torch.Tensor:
    return make_sine(440.0, 0.25, SR, amplitude=0.5)


# ---------------------------------------------------------------- plot_waveform

def test_plot_waveform_uses_given_axes(tone) -> None:
    fig, ax = plt.subplots()
    out = plots.plot_waveform(tone, SR, ax=ax, title="a tone")
    assert out is ax
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_title() == "a tone"
    line = ax.get_lines()[0]
    x, y = line.get_data()
    np.testing.assert_allclose(x, np.arange(len(tone)) / SR)
    np.testing.assert_allclose(y, tone.numpy())
    assert ax.get_xlim() == pytest.approx((0.0, (len(tone) - 1) / SR))


def test_plot_waveform_new_axes_start_and_stem(tone) -> None:
    ax = plots.plot_waveform(tone[:20].unsqueeze(0), SR, start_s=1.0, stem=True)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_xlim()[0] == pytest.approx(1.0)
    assert ax.get_xlabel() == "time (s)"


def test_plot_waveform_errors(tone) -> None:
    with pytest.raises(ValueError, match="mono"):
        plots.plot_waveform(torch.stack([tone, tone]), SR)
    with pytest.raises(ValueError, match="shape"):
        plots.plot_waveform(torch.zeros(1, 1, 10), SR)
    with pytest.raises(ValueError):
        plots.plot_waveform(tone, 0)


# ---------------------------------------------------------------- plot_spectrogram

@pytest.fixture(scope="module")
def spec_db(tone) -> torch.Tensor:
    mag = spectral.compute_magnitude(spectral.compute_stft(tone, 256, 64))
    return spectral.amplitude_to_db(mag)


@pytest.mark.parametrize("y_axis, scale", [("linear", "linear"), ("log", "log")])
def test_plot_spectrogram_linear_log(spec_db, y_axis: str, scale: str) -> None:
    fig, ax = plt.subplots()
    out = plots.plot_spectrogram(spec_db, SR, 64, ax=ax, y_axis=y_axis, title="spec")
    assert out is ax
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_ylabel() == "frequency (Hz)"
    assert ax.get_yscale() == scale
    lo, hi = ax.get_ylim()
    assert hi == pytest.approx(SR / 2 + (SR / 2) / (spec_db.shape[0] - 1) / 2)
    assert lo >= 0 if y_axis == "linear" else lo > 0
    # the time axis spans the frames in seconds
    n_frames = spec_db.shape[1]
    assert ax.get_xlim()[1] == pytest.approx((n_frames - 0.5) * 64 / SR)
    assert len(fig.axes) == 2  # the colour bar


def test_plot_spectrogram_mel(tone) -> None:
    mel = spectral.compute_log_mel_spectrogram(tone, SR, n_fft=256, hop_length=64, n_mels=32,
                                               f_min=20.0, f_max=3800.0)
    ax = plots.plot_spectrogram(mel, SR, 64, y_axis="mel", f_min=20.0, f_max=3800.0, colorbar=False, unit="")
    assert ax.get_ylabel() == "frequency (Hz)"
    assert ax.get_yscale() == "function"
    assert ax.get_ylim() == pytest.approx((20.0, 3800.0), rel=1e-4)
    ticks = list(ax.get_yticks())
    assert ticks == [250, 500, 1000, 2000]
    assert len(ax.figure.axes) == 1  # no colour bar


def test_plot_spectrogram_errors(spec_db) -> None:
    with pytest.raises(ValueError, match=r"\(bins, frames\)"):
        plots.plot_spectrogram(spec_db[0], SR, 64)
    with pytest.raises(ValueError, match=r"\(bins, frames\)"):
        plots.plot_spectrogram(spec_db[None], SR, 64)
    with pytest.raises(ValueError, match="y_axis"):
        plots.plot_spectrogram(spec_db, SR, 64, y_axis="bark")


# ---------------------------------------------------------------- responses / spectra

def test_plot_frequency_response_moving_average() -> None:
    fig, ax = plt.subplots()
    out = plots.plot_frequency_response(np.ones(4) / 4, SR, ax=ax, n_fft=1024, label="mean of 4")
    assert out is ax
    assert ax.get_xlabel() == "frequency (Hz)"
    assert ax.get_ylabel() == "gain (dB)"
    f, y = ax.get_lines()[0].get_data()
    assert f[0] == 0 and f[-1] == pytest.approx(SR / 2)
    assert y[0] == pytest.approx(0.0, abs=1e-9)          # DC gain 1
    k = np.argmin(np.abs(f - SR / 4))
    assert y[k] < -100                                    # a zero at sr/4
    assert ax.get_legend() is not None
    lin = plots.plot_frequency_response(torch.tensor([0.5, 0.5]), SR, db=False)
    assert lin.get_ylabel() == "gain"
    np.testing.assert_allclose(lin.get_lines()[0].get_data()[1][0], 1.0)
    with pytest.raises(ValueError, match="empty"):
        plots.plot_frequency_response([], SR)


def test_plot_spectrum_peak_at_tone(tone) -> None:
    fig, ax = plt.subplots()
    out = plots.plot_spectrum(tone, SR, ax=ax)
    assert out is ax
    assert ax.get_xlabel() == "frequency (Hz)"
    assert ax.get_ylabel() == "magnitude (dB)"
    f, y = ax.get_lines()[0].get_data()
    assert f[np.argmax(y)] == pytest.approx(440.0, abs=SR / len(tone))
    # scaled so that a sine's peak reads close to its amplitude (0.5 -> about -6 dB)
    assert y.max() == pytest.approx(20 * np.log10(0.5), abs=1.5)
    lin = plots.plot_spectrum(tone, SR, db=False)
    assert lin.get_ylabel() == "magnitude"
    with pytest.raises(ValueError, match="shape"):
        plots.plot_spectrum(torch.stack([tone, tone]), SR)


def test_plots_compose_into_grid(tone, spec_db) -> None:
    fig, axes = plt.subplots(1, 3)
    assert plots.plot_waveform(tone, SR, ax=axes[0]) is axes[0]
    assert plots.plot_spectrogram(spec_db, SR, 64, ax=axes[1], colorbar=False) is axes[1]
    assert plots.plot_spectrum(tone, SR, ax=axes[2]) is axes[2]
    assert len(plt.get_fignums()) == 1


# ---------------------------------------------------------------- players

def test_make_player_returns_audio(tone) -> None:
    p = players.make_player(tone, SR)
    assert isinstance(p, Audio)
    assert p.data[:4] == b"RIFF" and p.data[8:12] == b"WAVE"
    # the embedded WAV header carries the rate (bytes 24-27, little-endian) and one channel
    assert struct.unpack("<I", p.data[24:28])[0] == SR
    assert struct.unpack("<H", p.data[22:24])[0] == 1
    p2 = players.make_player(tone.unsqueeze(0).numpy(), SR)
    assert p2.data == p.data


def test_make_player_errors(tone) -> None:
    with pytest.raises(ValueError, match="normalize=True"):
        players.make_player(tone * 3, SR)
    assert isinstance(players.make_player(tone * 3, SR, normalize=True), Audio)
    with pytest.raises(ValueError, match="mono"):
        players.make_player(torch.stack([tone, tone]), SR)


def test_make_player_grid_html(tone) -> None:
    items = {"4 bits <low>": tone, "8 bits & more": tone * 0.5, 'say "hi"': tone * 0.25,
             "16 bits": tone * 0.1, "raw": tone.numpy()}
    grid = players.make_player_grid(items, SR, columns=2, title="Quantisation <demo>")
    assert isinstance(grid, HTML)
    h = grid.data
    assert h.count("<audio") == 5
    assert h.count("</audio>") == 5
    assert h.count("<tr>") == 3  # 5 players, 2 per row
    assert h.count("<td") == 5
    assert "4 bits &lt;low&gt;" in h and "<low>" not in h
    assert "8 bits &amp; more" in h
    assert "say &quot;hi&quot;" in h
    assert "Quantisation &lt;demo&gt;" in h and "<caption" in h
    assert len(re.findall(r"data:audio/wav;base64,", h)) == 5


def test_make_player_grid_list_of_pairs(tone) -> None:
    grid = players.make_player_grid([("a", tone), ("b", tone)], SR)
    assert grid.data.count("<audio") == 2
    assert grid.data.count("<tr>") == 1
    assert "<caption" not in grid.data


def test_make_player_grid_refuses_loud_unless_normalised(tone) -> None:
    loud = {"ok": tone, "loud": tone * 4}
    with pytest.raises(ValueError, match="normalize=True"):
        players.make_player_grid(loud, SR)
    grid = players.make_player_grid(loud, SR, normalize=True)
    assert grid.data.count("<audio") == 2


def test_make_player_grid_errors(tone) -> None:
    with pytest.raises(ValueError, match="mono"):
        players.make_player_grid({"stereo": torch.stack([tone, tone])}, SR)
    with pytest.raises(ValueError, match="empty"):
        players.make_player_grid({}, SR)
    with pytest.raises(ValueError, match="empty"):
        players.make_player_grid([], SR)
    with pytest.raises(ValueError, match="columns"):
        players.make_player_grid({"a": tone}, SR, columns=0)
    with pytest.raises(TypeError, match="pcm_to_float"):
        players.make_player_grid({"int": (tone.numpy() * 1000).astype(np.int16)}, SR)
