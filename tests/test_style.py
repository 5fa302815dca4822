"""Chapter 8 (audiomap_lib.style): Gram matrices, feature networks, texture statistics, the optimisation."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from audiomap_lib import signals, style
from audiomap_lib.cnn import LogMelCNN1d

SR = 8000
SMALL = style.ORIGINAL_RECIPE.with_(sr_hz=SR, n_fft=256, hop_length=64, n_filters=64, kernel_size=5, n_iter=30,
                                    griffin_lim_iters=16)


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_gram_equals_the_direct_formula_and_ignores_position_order() -> None:
    f = _rand(2, 5, 7)
    direct = np.zeros((2, 5, 5))
    for b in range(2):
        for i in range(5):
            for j in range(5):
                direct[b, i, j] = sum(float(f[b, i, p] * f[b, j, p]) for p in range(7)) / 7
    g = style.compute_gram(f)
    np.testing.assert_allclose(g.numpy(), direct, rtol=1e-12)
    torch.testing.assert_close(g, g.transpose(-1, -2))
    torch.testing.assert_close(style.compute_gram(f[..., torch.randperm(7)]), g)  # time order is thrown away
    with pytest.raises(ValueError, match="features"):
        style.compute_gram(torch.zeros(3, 0))


def test_losses_are_sums_of_squares_as_in_the_reference() -> None:
    f, t = _rand(4, 9, seed=1), _rand(4, 9, seed=2)
    target_gram = style.compute_gram(t)
    l2_loss = lambda x: float((x ** 2).sum() / 2)  # noqa: E731  TensorFlow's tf.nn.l2_loss
    assert math.isclose(float(style.compute_style_loss(f, target_gram)), 2 * l2_loss(style.compute_gram(f) - target_gram),
                        rel_tol=1e-12)
    assert math.isclose(float(style.compute_content_loss(f, t)), 2 * l2_loss(f - t), rel_tol=1e-12)
    with pytest.raises(ValueError, match="target_gram"):
        style.compute_style_loss(f, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="target_features"):
        style.compute_content_loss(f, t[:, :5])


def test_log_spectrogram_equals_torch_stft() -> None:
    x = torch.randn(3000, generator=torch.Generator().manual_seed(0))
    ref = torch.log1p(torch.stft(x, 256, 64, window=torch.hann_window(256), return_complex=True).abs())
    torch.testing.assert_close(style.compute_log_spectrogram(x, 256, 64), ref, rtol=1e-5, atol=1e-5)


def test_random_conv1d_is_a_relu_conv_with_the_reference_scale() -> None:
    net = style.RandomConv1dFeatures(n_bins=129, n_filters=256, kernel_size=11, seed=3)
    expected_std = math.sqrt(2) * math.sqrt(2 / ((129 + 256) * 11))
    assert abs(float(net.weight.std()) / expected_std - 1) < 0.01
    conv = torch.nn.Conv1d(129, 256, 11, bias=False)
    conv.weight.data.copy_(net.weight)
    s = torch.rand(2, 129, 40)
    torch.testing.assert_close(net(s), torch.relu(conv(s)))
    assert net(s[0]).shape == (256, 30)
    torch.testing.assert_close(style.RandomConv1dFeatures(129, 256, 11, seed=3).weight, net.weight)  # seeded
    assert not any(p.requires_grad for p in net.parameters())
    with pytest.raises(ValueError, match="frequency bins"):
        net(torch.rand(128, 40))
    with pytest.raises(ValueError, match="receptive field"):
        net(torch.rand(129, 10))


def test_random_conv2d_equals_the_torch_layers() -> None:
    net = style.RandomConv2dFeatures(channels=(4, 6), seed=1)
    ref = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1, bias=False), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Conv2d(4, 6, 3, padding=1, bias=False), torch.nn.ReLU())
    ref[0].weight.data.copy_(net.weight0)
    ref[3].weight.data.copy_(net.weight1)
    s = torch.rand(33, 20)
    torch.testing.assert_close(net(s), ref(s[None, None])[0].reshape(6, -1))
    # the same filter slides over frequency: a spectrogram moved up by 2 bins (4 after pooling... 1 cell)
    # gives the same maps moved up, so the Gram barely changes
    moved = torch.zeros(33, 20)
    moved[2:] = s[:-2]
    g, gm = style.compute_gram(net(s)), style.compute_gram(net(moved))
    assert float((g - gm).norm() / g.norm()) < 0.1
    with pytest.raises(ValueError, match="channels"):
        style.RandomConv2dFeatures(channels=())


def test_classifier_features_hook_a_layer() -> None:
    torch.manual_seed(0)
    model = LogMelCNN1d(n_classes=3, channels=4, blocks=2, input_sr=SR)
    feats = style.ClassifierFeatures(model, "body.0")  # the first convolution
    out = feats(torch.randn(SR))
    assert out.ndim == 2 and out.shape[0] == 4
    with pytest.raises(ValueError, match="body.0"):  # the body's blocks are run one by one, never the body itself
        style.ClassifierFeatures(model, "body")(torch.randn(SR))
    with pytest.raises(ValueError, match="layer"):
        style.ClassifierFeatures(model, "no_such_layer")


def test_spectral_convergence_and_receptive_field() -> None:
    t, m = torch.rand(2, 5, 6), torch.rand(2, 5, 6)
    ref = np.linalg.norm((t - m).numpy(), axis=(1, 2)) / np.linalg.norm(t.numpy(), axis=(1, 2))
    np.testing.assert_allclose(style.compute_spectral_convergence(t, m).numpy(), ref, rtol=1e-6)
    assert float(style.compute_spectral_convergence(t, t).max()) == 0.0
    assert math.isclose(style.compute_receptive_field_ms(11, 2048, 512, 22050), 1000 * 7168 / 22050)
    with pytest.raises(ValueError, match="magnitude"):
        style.compute_spectral_convergence(t, m[:, :4])


def test_texture_statistics_match_scipy_and_numpy() -> None:
    x = signals.make_noise(3.0, SR, color="pink", rms=0.1, seed=0)
    st = style.compute_texture_statistics(x, SR, n_bands=12, n_fft=256, hop_length=32)
    mag = torch.stft(x, 256, 32, window=torch.hann_window(256), return_complex=True).abs().double()
    from audiomap_lib.spectral import make_mel_filterbank
    env = ((make_mel_filterbank(12, SR, 256).double() @ mag) ** 0.3).numpy()
    np.testing.assert_allclose(st["mean"].numpy(), env.mean(1), rtol=1e-4)
    np.testing.assert_allclose(st["cv"].numpy(), env.std(1) / env.mean(1), rtol=1e-4)
    np.testing.assert_allclose(st["skewness"].numpy(), scipy.stats.skew(env, axis=1), rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(st["kurtosis"].numpy(), scipy.stats.kurtosis(env, axis=1, fisher=False), rtol=1e-3)
    iu = np.triu_indices(12, 1)
    np.testing.assert_allclose(st["correlation"].numpy(), np.corrcoef(env)[iu], rtol=1e-3, atol=1e-6)
    assert st["modulation"].shape == (12, 7) and float(st["modulation"].sum(-1).max()) <= 1 + 1e-9


def test_texture_statistics_see_a_slow_modulation() -> None:
    t = torch.arange(4 * SR) / SR
    noise = signals.make_noise(4.0, SR, color="white", rms=0.1, seed=1)
    tremolo = noise * (1 + 0.9 * torch.sin(2 * math.pi * 5.0 * t))  # 5 Hz: the 4-8 Hz band
    mod = style.compute_texture_statistics(tremolo, SR, n_bands=8, n_fft=256, hop_length=32)["modulation"]
    assert bool((mod.argmax(-1) == 3).all())  # bands 0.5-1, 1-2, 2-4, 4-8 ...: index 3
    flat = style.compute_texture_statistics(noise, SR, n_bands=8, n_fft=256, hop_length=32)["modulation"]
    assert float(mod[:, 3].min()) > 3 * float(flat[:, 3].max())


def test_texture_distance_orders_sounds() -> None:
    a = signals.make_noise(3.0, SR, color="pink", seed=1)
    b = signals.make_noise(3.0, SR, color="pink", seed=2)
    tone = signals.make_harmonic_tone(220.0, 3.0, SR)
    kw = dict(n_bands=16, n_fft=256, hop_length=32)
    assert style.compute_texture_distance(a, a, SR, **kw) == 0.0
    d_ab, d_at = style.compute_texture_distance(a, b, SR, **kw), style.compute_texture_distance(a, tone, SR, **kw)
    assert math.isclose(d_ab, style.compute_texture_distance(b, a, SR, **kw))
    assert d_ab < 0.2 * d_at  # two takes of one texture are far closer than noise and a tone
    # the band levels alone: a tone an octave up has the same texture kind but other band levels
    up = signals.make_harmonic_tone(440.0, 3.0, SR)
    assert style.compute_texture_distance(tone, up, SR, groups=("mean",), **kw) > 0.1
    assert math.isclose(style.compute_texture_distance(a, b, SR, groups=style.TEXTURE_GROUPS, **kw), d_ab)
    with pytest.raises(ValueError, match="groups"):
        style.compute_texture_distance(a, b, SR, groups=("loudness",), **kw)
    with pytest.raises(ValueError, match="2 s"):
        style.compute_texture_statistics(a[: SR], SR)
    with pytest.raises(ValueError, match="sr_hz"):
        style.compute_texture_distance(a, b)


def test_texture_synthesis_lowers_the_style_loss_and_repeats() -> None:
    noise = signals.make_noise(1.0, SR, color="pink", seed=3)
    recipe = SMALL.with_(content_weight=0.0)
    net = style.RandomConv1dFeatures(129, 64, 5, seed=0)
    start = style.compute_style_loss(net(torch.randn(129, 1 + SR // 64, generator=torch.Generator().manual_seed(0)) * 1e-3),
                                     style.compute_gram(net(style.compute_log_spectrogram(noise, 256, 64))))
    res = style.transfer_style(None, noise, SR, recipe=recipe)
    assert res.n_evaluations <= recipe.n_iter and len(res.losses) == res.n_evaluations
    assert res.style_loss < 0.01 * float(start)
    assert res.waveform.shape == noise.shape and res.seconds_optimise > 0 and res.seconds_phase > 0
    again = style.transfer_style(None, noise, SR, recipe=recipe)
    torch.testing.assert_close(again.waveform, res.waveform)  # seeded


@pytest.mark.parametrize("domain", ["spectrogram", "waveform"])
def test_transfer_from_content_with_a_large_content_weight_stays_near_the_content(domain: str) -> None:
    content = signals.make_harmonic_tone(330.0, 1.0, SR)
    style_clip = signals.make_noise(1.0, SR, color="pink", seed=4)
    res = style.transfer_style(content, style_clip, SR, recipe=SMALL.with_(content_weight=1e3, init="content",
                                                                           domain=domain, n_iter=5))
    c_spec = style.compute_log_spectrogram(content, 256, 64)
    rel = float((res.log_spectrogram - c_spec).norm() / c_spec.norm())
    assert rel < 0.05
    assert res.losses[-1] <= res.losses[0]


def test_waveform_domain_gradient_matches_finite_differences() -> None:
    # the differentiable STFT: d loss / d waveform, checked in float64 along a random direction
    net = style.RandomConv1dFeatures(65, 8, 3, seed=0).double()
    target = style.compute_gram(net(style.compute_log_spectrogram(torch.randn(800, dtype=torch.float64), 128, 32)))
    x = torch.randn(800, dtype=torch.float64, requires_grad=True)

    def loss(w: torch.Tensor) -> torch.Tensor:
        return style.compute_style_loss(net(torch.log1p(torch.stft(w, 128, 32, window=torch.hann_window(128, dtype=w.dtype),
                                                                   return_complex=True).abs())), target)

    loss(x).backward()
    v = torch.randn(800, dtype=torch.float64)
    eps = 1e-6
    fd = (loss(x.detach() + eps * v) - loss(x.detach() - eps * v)) / (2 * eps)
    assert math.isclose(float(x.grad @ v), float(fd), rel_tol=1e-5)
    # and the library's log spectrogram is the one differentiated here
    torch.testing.assert_close(style.compute_log_spectrogram(x.detach().float(), 128, 32),
                               torch.log1p(torch.stft(x.detach().float(), 128, 32, window=torch.hann_window(128),
                                                      return_complex=True).abs()), rtol=1e-5, atol=1e-5)


def test_adam_and_classifier_features_in_the_waveform_domain() -> None:
    torch.manual_seed(0)
    model = LogMelCNN1d(n_classes=3, channels=4, blocks=2, input_sr=SR)
    feats = style.ClassifierFeatures(model, "body.4")  # the second block's convolution
    clip = signals.make_noise(1.0, SR, color="pink", seed=5)
    res = style.transfer_style(None, clip, SR, recipe=SMALL.with_(content_weight=0.0, optimizer="adam", domain="waveform",
                                                                  n_iter=10), features=feats, lr=1e-3)
    assert res.n_evaluations == 10 and res.losses[-1] < res.losses[0] and res.seconds_phase == 0.0
    with pytest.raises(ValueError, match="waveform"):
        style.transfer_style(None, clip, SR, recipe=SMALL.with_(content_weight=0.0), features=feats)


def test_bad_input_gets_clear_errors() -> None:
    tone = signals.make_harmonic_tone(330.0, 1.0, SR)
    with pytest.raises(ValueError, match="resample"):
        style.transfer_style(tone, tone, SR, style_sr_hz=16000, recipe=SMALL)
    with pytest.raises(ValueError, match="recipe works at"):
        style.transfer_style(tone, tone, 16000, recipe=SMALL)
    with pytest.raises(ValueError, match="mono"):
        style.transfer_style(tone, torch.stack([tone, tone]), SR, recipe=SMALL)
    with pytest.raises(ValueError, match="receptive field"):
        style.transfer_style(tone, tone[:300], SR, recipe=SMALL)
    with pytest.raises(ValueError, match="texture synthesis"):
        style.transfer_style(None, tone, SR, recipe=SMALL)
    with pytest.raises(ValueError, match="optimizer"):
        style.transfer_style(tone, tone, SR, recipe=SMALL.with_(optimizer="sgd"))
    with pytest.raises(ValueError, match="init"):
        style.transfer_style(tone, tone, SR, recipe=SMALL.with_(init="zeros"))
