"""Chapter 6: the models (audiomap_lib.cnn), their anatomy (anatomy), the saved classifier (hub) and plots."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from audiomap_lib import anatomy, cnn, hub, plots
from audiomap_lib.conv import compute_conv_output_length, compute_receptive_field
from audiomap_lib.training import count_parameters


def _m5_params(c: int, n_classes: int) -> int:
    """Hand count: first conv (no bias) 80c, convs 3*in*out (no bias), BN 2 per channel, linear."""
    widths = [c, c, 2 * c, 4 * c]
    convs = 80 * c + 3 * (c * c + c * 2 * c + 2 * c * 4 * c)
    bns = 2 * sum(widths)
    return convs + bns + 4 * c * n_classes + n_classes


@pytest.mark.parametrize("channels", [8, 32, 128])
def test_m5_parameter_count_matches_hand_formula(channels: int) -> None:
    model = cnn.RawAudioCNN("m5", n_classes=10, channels=channels, input_sr=16000)
    assert count_parameters(model) == _m5_params(channels, 10)
    assert model.widths == [channels, channels, 2 * channels, 4 * channels]


def test_family_shapes_and_lengths_of_padding_are_ignored() -> None:
    torch.manual_seed(0)
    for config in ("m3", "m5", "m11", "m18"):
        model = cnn.RawAudioCNN(config, n_classes=7, channels=8, input_sr=16000).eval()
        assert model(torch.randn(3, 1, 16000), torch.tensor([16000, 9000, 12000])).shape == (3, 7)
    model = cnn.RawAudioCNN("m5", channels=8, input_sr=16000).eval()
    clip = torch.randn(1, 1, 12000)
    padded = F.pad(clip, (0, 4000))
    with torch.no_grad():
        a = model(clip, torch.tensor([12000]))
        b = model(padded, torch.tensor([12000]))
        c = model(padded, torch.tensor([16000]))
    # with lengths, the padding barely matters (only the frames at the clip's edge see it);
    # averaging over the padding too changes the logits far more
    assert float((a - b).abs().max()) < 0.2 * float((a - c).abs().max())


def test_framed_conv_equals_conv1d_forward_and_backward() -> None:
    torch.manual_seed(1)
    layer = cnn.FramedConv1d(6, 80, stride=4, bias=True)
    ref = torch.nn.Conv1d(1, 6, 80, stride=4)
    ref.load_state_dict(layer.state_dict())
    x = torch.randn(2, 1, 1000, requires_grad=True)
    torch.testing.assert_close(layer(x), ref(x), atol=1e-5, rtol=1e-5)
    g1 = torch.autograd.grad(layer(x).square().sum(), (x, layer.weight))
    g2 = torch.autograd.grad(ref(x).square().sum(), (x, ref.weight))
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-4)
    with pytest.raises(ValueError, match="batch, 1, samples"):
        layer(torch.randn(2, 2, 1000))


def test_layer_shapes_follow_the_chapter_3_formula() -> None:
    model = cnn.RawAudioCNN("m5", channels=8, input_sr=16000, model_sr=8000)
    rows = anatomy.compute_layer_shapes(model, 16000)
    assert rows[0]["shape"] == (1, 1, 8000)  # resampled explicitly to 8 kHz
    first = compute_conv_output_length(8000, 80, stride=4)
    assert rows[1]["shape"] == (1, 8, first)
    assert rows[-1]["shape"] == (1, 10)
    assert sum(r["params"] for r in rows) == count_parameters(model)
    table = anatomy.format_layer_table(rows)
    assert "FramedConv1d(1, 8, k=80, s=4)" in table and f"{count_parameters(model):,}" in table
    lengths = cnn.compute_output_lengths(torch.tensor([8000]), model.layer_specs)
    assert int(lengths) == rows[-3]["shape"][-1]


def test_receptive_field_in_ms() -> None:
    model = cnn.RawAudioCNN("m5", channels=8, input_sr=16000, model_sr=8000)
    assert anatomy.compute_receptive_field_ms(model, 1) == (80, 10.0)
    specs = model.layer_specs
    whole = compute_receptive_field([k for k, _, _ in specs], [s for _, s, _ in specs])
    samples, ms = anatomy.compute_receptive_field_ms(model)
    assert samples == whole and math.isclose(ms, 1000 * whole / 8000)
    assert anatomy.compute_receptive_field_ms(cnn.RawAudioCNN("m5", channels=8, input_sr=16000, model_sr=16000), 1)[1] == 5.0


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="config must be one of"):
        cnn.RawAudioCNN("m7", input_sr=16000)
    with pytest.raises(ValueError, match="channels"):
        cnn.RawAudioCNN("m5", channels=0, input_sr=16000)
    with pytest.raises(ValueError, match=r"\(batch, 1, samples\)"):
        cnn.RawAudioCNN("m5", channels=4, input_sr=16000)(torch.randn(2, 16000))


def test_log_mel_baselines() -> None:
    x, lengths = torch.randn(2, 1, 16000), torch.tensor([16000, 8000])
    for model in (cnn.LogMelCNN2d(channels=4, input_sr=16000), cnn.LogMelCNN1d(channels=8, input_sr=16000)):
        assert model.eval()(x, lengths).shape == (2, 10)
    assert count_parameters(cnn.LogMelCNN1d(channels=8, n_mels=40, input_sr=16000)) > count_parameters(cnn.LogMelCNN1d(channels=8, n_mels=20, input_sr=16000))


def test_filter_responses_find_known_centers() -> None:
    sr, n = 8000, torch.arange(80, dtype=torch.float64)
    freqs_hz = [2000.0, 500.0, 1000.0]
    w = torch.stack([torch.cos(2 * math.pi * f * n / sr) * torch.hann_window(80, periodic=False, dtype=torch.float64)
                     for f in freqs_hz])[:, None]
    f, db, centers = anatomy.compute_filter_responses(w, sr, n_fft=800)
    assert db.shape == (3, 401) and f[-1] == sr / 2
    assert centers.tolist() == [500.0, 1000.0, 2000.0]  # sorted
    assert torch.allclose(db.amax(-1), torch.zeros(3, dtype=torch.float64))
    assert anatomy.compute_center_frequency(w[0, 0], sr, n_fft=800) == 2000.0
    _, dbm, cm = anatomy.compute_mel_filter_responses(40, 8000, n_fft=512)
    assert dbm.shape == (40, 257) and bool((cm[1:] >= cm[:-1]).all())
    with pytest.raises(ValueError, match="weight must"):
        anatomy.compute_filter_responses(torch.zeros(3, 2, 80), sr)


def test_plots_return_axes() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = cnn.RawAudioCNN("m5", channels=8, input_sr=16000)
    f, db, _ = anatomy.compute_filter_responses(model.first_layer.weight, 8000)
    _, axes = plt.subplots(1, 3)
    assert plots.plot_filter_bank(f, db, ax=axes[0]) is axes[0]
    assert plots.plot_kernels(model.first_layer.weight, 8000, ax=axes[1]) is axes[1]
    assert plots.plot_probabilities(torch.full((10,), 0.1), [str(i) for i in range(10)], ax=axes[2]) is axes[2]
    plt.close("all")


@pytest.mark.parametrize("factory", [lambda: cnn.RawAudioCNN("m5", channels=8, input_sr=16000), lambda: cnn.LogMelCNN1d(channels=8, input_sr=16000)])
def test_save_load_round_trip_gives_equal_logits(tmp_path, factory) -> None:
    torch.manual_seed(2)
    model = factory()
    with torch.no_grad():  # make the BatchNorm statistics non-trivial
        model.train()(torch.randn(4, 1, 16000))
    model.eval()
    labels = [f"c{i}" for i in range(10)]
    path = hub.save_digit_classifier(model, labels, tmp_path / "clf.pt", test_accuracy=0.5)
    loaded, meta = hub.load_digit_classifier(path)
    assert meta["labels"] == labels and meta["sample_rate"] == 16000 and meta["test_accuracy"] == 0.5
    assert loaded.labels == tuple(labels) and not loaded.training
    x = torch.randn(3, 1, 16000)
    with torch.no_grad():
        torch.testing.assert_close(model(x), loaded(x))
    with pytest.raises(ValueError, match="labels"):
        hub.save_digit_classifier(model, labels[:3], tmp_path / "bad.pt")
    with pytest.raises(FileNotFoundError, match="Chapter 6"):
        hub.load_digit_classifier(tmp_path / "missing.pt")


def test_predict_digit_resamples_and_checks_input() -> None:
    torch.manual_seed(3)
    model = cnn.RawAudioCNN("m5", channels=8, input_sr=16000, model_sr=8000).eval()
    model.labels = tuple(str(i) for i in range(10))
    clip = torch.randn(16000) * 0.1
    same = hub.predict_digit(model, clip, 16000)
    assert not same.resampled and same.probabilities.shape == (10,)
    assert math.isclose(float(same.probabilities.sum()), 1.0, rel_tol=1e-5)
    from audiomap_lib.io import resample

    at_8k = resample(clip, 16000, 8000)
    p = hub.predict_digit(model, at_8k, 8000)
    assert p.resampled and p.input_sr == 8000 and p.model_sr == 16000 and "resampled 8000 -> 16000 Hz" in str(p)
    with torch.no_grad():
        direct = model(resample(at_8k, 8000, 16000).view(1, 1, -1)).softmax(-1)[0]
    torch.testing.assert_close(p.probabilities, direct)
    assert hub.predict_digit(model, clip[None], 16000).label == same.label
    with pytest.raises(ValueError, match="mono"):
        hub.predict_digit(model, torch.randn(2, 16000), 16000)
    with pytest.raises(ValueError, match="shape"):
        hub.predict_digit(model, torch.randn(1, 1, 16000), 16000)
    with pytest.raises(TypeError):
        hub.predict_digit(model, torch.zeros(16000, dtype=torch.int16), 16000)
    with pytest.raises(ValueError, match="100 ms"):
        hub.predict_digit(model, torch.randn(800), 16000)
    with pytest.raises(ValueError, match="sr"):
        hub.predict_digit(model, clip, 0)


def test_log_energy_front_end_and_loudness_normalisation() -> None:
    torch.manual_seed(4)
    model = cnn.RawAudioCNN("m5", channels=8, input_sr=16000, first_activation="log_energy").eval()
    assert count_parameters(model) == _m5_params(8, 10)  # same weights, another nonlinearity
    x = torch.randn(2, 1, 16000) * 0.1
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(10 * x), atol=1e-4, rtol=1e-4)  # loudness does not matter
    pool = cnn.LogEnergyPool(4)
    y = pool(torch.ones(1, 2, 9) * 2)
    assert y.shape == (1, 2, 2) and torch.allclose(y, torch.log(torch.tensor(4.0 + 1e-4)))
    with pytest.raises(ValueError, match="first_activation"):
        cnn.RawAudioCNN("m5", input_sr=16000, first_activation="tanh")


def test_each_profile_keeps_its_own_saved_classifier(tmp_path, monkeypatch) -> None:
    """A quick test run must never replace the classifier a standard run trained (Chapter 7 scores with it)."""
    monkeypatch.setenv("AUDIOMAP_DATA", str(tmp_path))
    labels = [f"c{i}" for i in range(10)]
    saved = {}
    for profile, seed in (("standard", 0), ("quick", 1)):
        monkeypatch.setenv("AUDIOMAP_PROFILE", profile)
        torch.manual_seed(seed)
        saved[profile] = hub.save_digit_classifier(cnn.LogMelCNN1d(channels=8, input_sr=16000), labels, profile=profile)
    assert saved["quick"] != saved["standard"] and saved["quick"].parent.name == "quick"
    monkeypatch.setenv("AUDIOMAP_PROFILE", "standard")
    _, meta = hub.load_digit_classifier()
    assert meta["profile"] == "standard"


@pytest.mark.parametrize("make", [
    lambda: cnn.LogMelCNN1d(n_classes=5, channels=8, blocks=3, input_sr=16000),
    lambda: cnn.LogMelCNN2d(n_classes=5, channels=4, blocks=3, input_sr=16000),
    lambda: cnn.RawAudioCNN("m3", n_classes=5, channels=8, input_sr=16000),
    lambda: cnn.RawAudioCNN("m5", n_classes=5, channels=8, input_sr=16000),
    lambda: cnn.RawAudioCNN("m11", n_classes=5, channels=8, input_sr=16000),
    lambda: cnn.RawAudioCNN("m5", n_classes=5, channels=8, input_sr=16000, first_activation="log_energy"),
], ids=["logmel-1d", "logmel-2d", "m3", "m5", "m11", "m5-log-energy"])
def test_a_clip_gets_the_same_logits_alone_or_padded_in_a_batch(make) -> None:
    """The lengths are used, not ignored: padding changes nothing (the mistake of seed 002)."""
    torch.manual_seed(0)
    model = make()
    model.train()
    g = torch.Generator().manual_seed(1)
    for _ in range(3):  # BatchNorm statistics that map padding zeros to non-zero values
        model(torch.randn(8, 1, 16000, generator=g) * 0.1, torch.full((8,), 16000))
    model.eval()
    short, long = torch.randn(1, 1, 9137, generator=g) * 0.1, torch.randn(1, 1, 16000, generator=g) * 0.1
    batch = torch.cat([torch.nn.functional.pad(short, (0, 16000 - 9137)), long])
    with torch.no_grad():
        alone = model(short, torch.tensor([9137]))
        together = model(batch, torch.tensor([9137, 16000]))
        ignored = model(batch, torch.tensor([16000, 16000]))  # lengths ignored: the zeros count
    torch.testing.assert_close(together[0], alone[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(together[1], model(long, torch.tensor([16000]))[0], rtol=1e-5, atol=1e-6)
    assert float((ignored[0] - alone[0]).abs().max()) > 1e-3
