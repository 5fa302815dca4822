"""Chapter 7's pieces: transposed convolution from scratch, WaveGAN's models, phase shuffle, the
losses and gradient penalty, the scores, and the WGAN-GP trainer's exact resume."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from audiomap_lib import conv, gan
from audiomap_lib.training import count_parameters
from audiomap_lib.training.wgan import train_wgan_gp


@pytest.mark.parametrize(("k", "stride", "padding", "output_padding"),
                         [(25, 4, 11, 1), (3, 1, 0, 0), (4, 2, 1, 0), (5, 3, 2, 2), (2, 4, 0, 3), (7, 2, 5, 1)])
def test_conv_transpose1d_equals_pytorch_in_values_and_gradients(k, stride, padding, output_padding) -> None:
    g = torch.Generator().manual_seed(k * 10 + stride)
    x = torch.randn(2, 3, 9, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 4, k, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)
    ours = conv.conv_transpose1d(x, w, b, stride, padding, output_padding)
    ref = F.conv_transpose1d(x, w, b, stride, padding, output_padding)
    assert ours.shape == ref.shape
    assert ours.shape[-1] == conv.compute_conv_transpose_output_length(9, k, stride, padding, output_padding)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    up = torch.randn(ref.shape, generator=g, dtype=torch.float64)
    grads = torch.autograd.grad((ours * up).sum(), (x, w, b))
    ref_grads = torch.autograd.grad((ref * up).sum(), (x, w, b))
    for a, r in zip(grads, ref_grads):
        torch.testing.assert_close(a, r, rtol=1e-12, atol=1e-12)


def test_conv_transpose1d_refuses_what_pytorch_refuses() -> None:
    x, w = torch.zeros(1, 3, 5), torch.zeros(3, 2, 4)
    with pytest.raises(ValueError, match="output_padding must be smaller than stride=2"):
        conv.conv_transpose1d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="weight.shape\\[0\\] must be x's in_channels=3"):
        conv.conv_transpose1d(x, torch.zeros(2, 3, 4))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        conv.conv_transpose1d(x.bool(), w)


def test_wavegan_at_the_papers_size_has_the_papers_weight_counts() -> None:
    g = gan.WaveGANGenerator(d=64, sample_rate_hz=16000)
    d = gan.WaveGANCritic(d=64)
    assert count_parameters(g) == 19_065_345
    assert count_parameters(d) == 17_427_969


@pytest.mark.parametrize("upsample", gan.UPSAMPLE_MODES)
def test_small_wavegan_shapes_and_range(upsample: str) -> None:
    torch.manual_seed(0)
    g = gan.WaveGANGenerator(d=2, n_samples=4096, upsample=upsample, sample_rate_hz=8000)
    d = gan.WaveGANCritic(d=2, n_samples=4096)
    z = gan.make_latents(3, generator=torch.Generator().manual_seed(0))
    assert z.shape == (3, 100) and float(z.min()) >= -1 and float(z.max()) < 1
    with torch.no_grad():
        x = g(z)
    assert x.shape == (3, 1, 4096) and float(x.abs().max()) < 1
    assert d(x).shape == (3,)
    with pytest.raises(ValueError, match="n_samples must be a multiple of 4\\^5"):
        gan.WaveGANGenerator(d=2, n_samples=4000, sample_rate_hz=8000)
    with pytest.raises(ValueError, match="n_samples=4096"):
        d(torch.zeros(2, 1, 4000))
    with pytest.raises(ValueError, match="latent_dim=100"):
        g(torch.zeros(2, 50))


def test_phase_shuffle_shifts_each_example_with_reflection() -> None:
    x = torch.arange(2 * 3 * 10, dtype=torch.float64).view(2, 3, 10).requires_grad_(True)
    assert gan.apply_phase_shuffle(x, 0) is x
    out = gan.apply_phase_shuffle(x, 2, torch.Generator().manual_seed(1))
    again = gan.apply_phase_shuffle(x, 2, torch.Generator().manual_seed(1))
    assert torch.equal(out, again)
    padded = F.pad(x.detach(), (2, 2), mode="reflect")
    for b in range(2):
        matches = [k for k in range(-2, 3) if torch.equal(out[b].detach(), padded[b, :, 2 - k:12 - k])]
        assert len(matches) == 1  # one shift per example, the same for all its channels
    out.sum().backward()
    assert x.grad is not None and float(x.grad.sum()) == pytest.approx(2 * 3 * 10)
    with pytest.raises(ValueError, match="radius=2 needs more than 2"):
        gan.apply_phase_shuffle(torch.zeros(1, 1, 2), 2)


def test_gradient_penalty_matches_a_finite_difference_estimate() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(8, generator=g, dtype=torch.float64)

    def critic(x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return torch.tanh(flat @ a) + 0.3 * (flat ** 2).sum(1)

    real = torch.randn(4, 1, 8, generator=g, dtype=torch.float64)
    fake = torch.randn(4, 1, 8, generator=g, dtype=torch.float64)
    penalty = gan.compute_gradient_penalty(critic, real, fake, 10.0, torch.Generator().manual_seed(5))
    eps = torch.rand(4, 1, 1, generator=torch.Generator().manual_seed(5)).double()
    x_hat = eps * real + (1 - eps) * fake
    h, norms = 1e-6, []
    for b in range(4):
        grad = torch.zeros(8, dtype=torch.float64)
        for i in range(8):
            up, down = x_hat[b:b + 1].clone(), x_hat[b:b + 1].clone()
            up[0, 0, i] += h
            down[0, 0, i] -= h
            grad[i] = (critic(up) - critic(down))[0] / (2 * h)
        norms.append(float(grad.norm()))
    expected = 10.0 * float(np.mean([(n - 1) ** 2 for n in norms]))
    assert float(penalty.detach()) == pytest.approx(expected, rel=1e-6)


def test_gradient_penalty_reaches_the_critics_weights() -> None:
    d = gan.WaveGANCritic(d=2, n_samples=1024, phase_shuffle=0)
    real, fake = torch.randn(3, 1, 1024), torch.randn(3, 1, 1024)
    penalty = gan.compute_gradient_penalty(d, real, fake)
    penalty.backward()
    # every weight matrix shapes the input gradient, so the penalty reaches it (the last bias does not)
    weights = [m.weight for m in [*d.convs, d.dense]]
    assert all(w.grad is not None and float(w.grad.abs().sum()) > 0 for w in weights)


def test_the_saturating_generator_loss_loses_its_gradient_when_the_discriminator_wins() -> None:
    fake = torch.tensor([-10.0], requires_grad=True)  # D(G(z)) = sigmoid(-10): the discriminator is sure
    _, saturating, non_saturating = gan.compute_gan_losses(torch.tensor([10.0]), fake)
    (g_sat,) = torch.autograd.grad(saturating, fake, retain_graph=True)
    (g_ns,) = torch.autograd.grad(non_saturating, fake)
    assert abs(float(g_sat)) < 1e-4 and abs(float(g_ns)) > 0.99


def test_inception_score_bounds_and_histogram() -> None:
    k = 5
    confident_even = torch.eye(k).repeat(4, 1)
    assert gan.compute_inception_score(confident_even)[0] == pytest.approx(k)
    one_class = torch.zeros(20, k)
    one_class[:, 2] = 1
    assert gan.compute_inception_score(one_class)[0] == pytest.approx(1.0)
    assert gan.compute_inception_score(torch.full((20, k), 1 / k))[0] == pytest.approx(1.0)
    assert gan.compute_class_histogram(one_class).tolist() == [0, 0, 20, 0, 0]
    mean, std = gan.compute_inception_score(confident_even, splits=4)
    assert mean == pytest.approx(k) and std == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="sum to 1"):
        gan.compute_inception_score(torch.ones(3, k))


def test_frechet_distance_equals_the_scipy_formula() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, 6, generator=g, dtype=torch.float64)
    b = torch.randn(150, 6, generator=g, dtype=torch.float64) @ torch.randn(6, 6, generator=g, dtype=torch.float64) + 0.5
    mu_a, mu_b = a.mean(0).numpy(), b.mean(0).numpy()
    cov_a, cov_b = np.cov(a.numpy().T), np.cov(b.numpy().T)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    expected = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))
    assert gan.compute_frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    assert gan.compute_frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_nearest_neighbour_distances() -> None:
    q = torch.tensor([[0.0, 0.0], [3.0, 4.0], [3.0, 5.0]])
    assert gan.compute_nearest_neighbour_distances(q).tolist() == pytest.approx([5.0, 1.0, 1.0])
    assert gan.compute_nearest_neighbour_distances(q, torch.tensor([[0.0, 1.0]])).tolist() == pytest.approx(
        [1.0, math.hypot(3, 3), math.hypot(3, 4)])


def _tiny_models(seed: int) -> tuple[gan.WaveGANGenerator, gan.WaveGANCritic]:
    torch.manual_seed(seed)
    return (gan.WaveGANGenerator(d=2, latent_dim=8, n_samples=1024, kernel=9, sample_rate_hz=8000),
            gan.WaveGANCritic(d=2, n_samples=1024, kernel=9))


def _clips() -> torch.Tensor:
    t = torch.arange(1024) / 8000
    freqs = torch.tensor([200.0, 300.0, 450.0, 600.0])[:, None]
    return (0.5 * torch.sin(2 * math.pi * freqs * t)).unsqueeze(1).repeat(4, 1, 1)  # (16, 1, 1024)


def test_wgan_gp_resumes_exactly(tmp_path) -> None:
    settings = dict(batch_size=4, n_critic=2, sample_rate_hz=8000, seed=3, device="cpu", progress=False)
    g_a, d_a = _tiny_models(0)
    torch.manual_seed(11)
    hist_a = train_wgan_gp(g_a, d_a, _clips(), steps=4, **settings)
    g_b, d_b = _tiny_models(0)
    torch.manual_seed(11)
    train_wgan_gp(g_b, d_b, _clips(), steps=2, state_path=tmp_path / "gan.pt", **settings)
    g_c, d_c = _tiny_models(99)  # other weights: the state replaces them
    torch.manual_seed(12345)  # and another global random state: the state restores it
    hist_c = train_wgan_gp(g_c, d_c, _clips(), steps=4, state_path=tmp_path / "gan.pt", **settings)
    for p_a, p_c in zip([*g_a.parameters(), *d_a.parameters()], [*g_c.parameters(), *d_c.parameters()]):
        torch.testing.assert_close(p_a, p_c, rtol=0, atol=0)
    assert hist_c.wasserstein == hist_a.wasserstein and len(hist_c.wasserstein) == 4


def test_wgan_gp_refuses_mismatched_data() -> None:
    g, d = _tiny_models(0)
    with pytest.raises(ValueError, match="clips are at 16000 Hz but the generator makes 8000 Hz"):
        train_wgan_gp(g, d, _clips(), steps=1, sample_rate_hz=16000, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="n_samples=1024"):
        train_wgan_gp(g, d, torch.zeros(8, 1, 1000), steps=1, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="batch_size=64 is more than the 16 clips"):
        train_wgan_gp(g, d, _clips(), steps=1, progress=False)


class _FakeClips:
    """A data set of two classes at 16 kHz, like an AudioClipDataset."""

    sample_rate_hz = 16000
    labels = ("kick", "snare")

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.items = [(0.3 * torch.randn(1, n, generator=g), i % 2) for i, n in enumerate([3000, 2048, 1000, 2500, 2048, 4000])]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i]


def test_make_gan_clips_resamples_explicitly_and_counts_what_it_cuts() -> None:
    from audiomap_lib.gan.data import make_gan_clips
    from audiomap_lib.io import resample

    clips, labels, report = make_gan_clips(_FakeClips(), 1024, 8000)
    assert clips.shape == (6, 1, 1024) and labels.tolist() == [0, 1, 0, 1, 0, 1]
    assert report["cut"] == 3 and report["padded"] == 1  # 1500, 1250, 2000 samples cut; 500 padded and report["source_rate_hz"] == 16000
    torch.testing.assert_close(clips[0, 0], resample(_FakeClips().items[0][0], 16000, 8000)[0, :1024])
    kicks, kick_labels, _ = make_gan_clips(_FakeClips(), 1024, 8000, labels=["kick"])
    assert len(kicks) == 3 and set(kick_labels.tolist()) == {0}
    with pytest.raises(ValueError, match="not classes of this data set"):
        make_gan_clips(_FakeClips(), 1024, 8000, labels=["cowbell"])


def test_the_long_run_command_resumes_and_adds_up_its_steps(tmp_path, monkeypatch) -> None:
    import json

    from audiomap_lib.gan import __main__ as cli

    monkeypatch.setattr(cli, "get_datasets", lambda corpus, source="offline": {"train": _FakeClips()})
    state = tmp_path / "g.pt"
    common = ["train", "--corpus", "drums", "--d", "2", "--n-samples", "1024", "--batch-size", "4", "--n-critic", "1",
              "--chunk", "2", "--state", str(state)]
    assert cli.main(common + ["--steps", "2"]) == 0
    assert json.loads(state.with_suffix(".json").read_text())["steps"] == 2
    assert cli.main(common + ["--steps", "4"]) == 0
    info = json.loads(state.with_suffix(".json").read_text())
    assert info["steps"] == 4 and info["minutes"] > 0


def test_wgan_gp_with_ttur_lazy_penalty_and_average_resumes_exactly(tmp_path) -> None:
    """The CPU recipe's options (a faster critic, the penalty on every 2nd update, a moving average
    of the generator) keep the exact resume, and the average is the formula's."""
    import copy

    settings = dict(batch_size=4, n_critic=2, sample_rate_hz=8000, seed=3, device="cpu", progress=False,
                    critic_lr=3e-4, gp_every=2, ema_decay=0.9)
    g_a, d_a = _tiny_models(0)
    ema_a = copy.deepcopy(g_a)
    hist_a = train_wgan_gp(g_a, d_a, _clips(), steps=4, ema_generator=ema_a, **settings)
    g_b, d_b = _tiny_models(0)
    train_wgan_gp(g_b, d_b, _clips(), steps=2, ema_generator=copy.deepcopy(g_b), state_path=tmp_path / "s.pt", **settings)
    g_c, d_c = _tiny_models(99)
    ema_c = copy.deepcopy(g_c)
    hist_c = train_wgan_gp(g_c, d_c, _clips(), steps=4, ema_generator=ema_c, state_path=tmp_path / "s.pt", **settings)
    for p_a, p_c in zip([*g_a.parameters(), *d_a.parameters(), *ema_a.parameters()],
                        [*g_c.parameters(), *d_c.parameters(), *ema_c.parameters()]):
        torch.testing.assert_close(p_a, p_c, rtol=0, atol=0)
    assert hist_c.wasserstein == hist_a.wasserstein
    assert all(math.isfinite(v) and v >= 0 for v in hist_a.gradient_penalty)  # the latest computed penalty
    # one step: the average moves from the initial weights towards the new ones by 1 - decay, where the
    # decay is warmed up, min(ema_decay, (1 + t) / (10 + t)) = 2 / 11 at step t = 1
    g, d = _tiny_models(0)
    start = [p.detach().clone() for p in g.parameters()]
    ema = copy.deepcopy(g)
    train_wgan_gp(g, d, _clips(), steps=1, ema_generator=ema, ema_decay=0.5, batch_size=4, n_critic=1, progress=False)
    for p0, p1, pe in zip(start, g.parameters(), ema.parameters()):
        torch.testing.assert_close(pe, 2 / 11 * p0 + 9 / 11 * p1.detach())
    with pytest.raises(ValueError, match="ema_generator must be a separate copy"):
        train_wgan_gp(g, d, _clips(), steps=1, ema_generator=g, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="gp_every must be"):
        train_wgan_gp(g, d, _clips(), steps=1, gp_every=0, batch_size=4, progress=False)


def test_lazy_penalty_is_computed_on_every_kth_update_with_k_times_the_weight(monkeypatch) -> None:
    from audiomap_lib.training import wgan

    calls = []
    real_penalty = wgan.compute_gradient_penalty

    def spy(critic, real, fake, weight, generator):
        calls.append(weight)
        return real_penalty(critic, real, fake, weight, generator)

    monkeypatch.setattr(wgan, "compute_gradient_penalty", spy)
    g, d = _tiny_models(0)
    train_wgan_gp(g, d, _clips(), steps=3, n_critic=2, gp_every=3, gp_weight=10.0, batch_size=4, progress=False)
    assert calls == [30.0, 30.0]  # critic updates 0 and 3 of 0..5


def test_classifier_outputs_are_the_heads_inputs_and_softmax() -> None:
    from audiomap_lib import hub
    from audiomap_lib.cnn import LogMelCNN1d

    torch.manual_seed(0)
    model = LogMelCNN1d(n_classes=5, channels=4, input_sr=8000).eval()
    clips = 0.3 * torch.randn(7, 1, 4096)
    probs, emb = hub.compute_classifier_outputs(model, clips, batch_size=3)
    assert probs.shape == (7, 5) and emb.shape == (7, 16)
    torch.testing.assert_close(model.head[-1](emb).softmax(-1), probs)
    torch.testing.assert_close(probs, model(clips).softmax(-1))
    with pytest.raises(ValueError, match=r"clips must have shape \(N, 1, samples\)"):
        hub.compute_classifier_outputs(model, torch.zeros(2, 2, 4096))
    with pytest.raises(TypeError, match="head ending in nn.Linear"):
        hub.compute_classifier_outputs(torch.nn.Identity(), clips)


def test_hub_keeps_one_classifier_per_task(tmp_path) -> None:
    from audiomap_lib import hub
    from audiomap_lib.cnn import LogMelCNN1d

    model = LogMelCNN1d(n_classes=5, channels=4, input_sr=8000)
    path = hub.save_classifier(model, ["kick", "snare", "hihat", "tom", "cymbal"], "drums", tmp_path / "d.pt", n_samples=4096)
    loaded, meta = hub.load_classifier("drums", path)
    assert meta["task"] == "drums" and meta["n_samples"] == 4096 and loaded.labels[0] == "kick"
    with pytest.raises(ValueError, match="holds a 'drums' classifier, not a 'digits' one"):
        hub.load_classifier("digits", path)
    with pytest.raises(ValueError, match="task must be one of"):
        hub.load_classifier("birds", path)
    with pytest.raises(FileNotFoundError, match="no drums classifier .* Chapter 7"):
        hub.load_classifier("drums", tmp_path / "missing.pt")


def test_spectral_features_ignore_loudness_and_scores_of_a_set_against_itself() -> None:
    from audiomap_lib.cnn import LogMelCNN1d
    from audiomap_lib.gan.scores import compute_gan_scores, compute_spectral_features

    g = torch.Generator().manual_seed(0)
    clips = 0.5 * torch.randn(40, 1, 4096, generator=g) * torch.linspace(1, 0.5, 4096)
    feats = compute_spectral_features(clips, 8000)
    # a gain shifts every log value alike, which the normalisation removes (up to the log's 1e-6 floor)
    torch.testing.assert_close(feats, compute_spectral_features(0.5 * clips, 8000), atol=0.02, rtol=0)
    torch.testing.assert_close(feats[:3], compute_spectral_features(clips[:3], 8000))  # no batch statistics
    torch.manual_seed(0)
    model = LogMelCNN1d(n_classes=5, channels=4, input_sr=8000).eval()
    model.labels = ("a", "b", "c", "d", "e")
    s = compute_gan_scores(model, clips, clips, clips)
    assert s["is_ratio"] == pytest.approx(1.0) and s["fid"] == pytest.approx(0.0, abs=1e-6)
    assert s["d_train"] == pytest.approx(0.0, abs=1e-4) and s["d_self"] == pytest.approx(s["d_self_real"])
    assert s["histogram_generated"] == s["histogram_real"] and sum(s["histogram_generated"].values()) == 40


def _fake_scoring(monkeypatch):
    """The long-run command on the fake clips, scored by a small untrained classifier; returns the command's module."""
    from audiomap_lib.cnn import LogMelCNN1d
    from audiomap_lib.gan import __main__ as cli
    from audiomap_lib.gan import scores

    monkeypatch.setattr(cli, "get_datasets", lambda corpus, source="offline": {"train": _FakeClips(), "test": _FakeClips()})
    classifier = LogMelCNN1d(n_classes=2, channels=4, blocks=2, input_sr=8000).eval()  # 1024 samples are enough
    classifier.labels = ("kick", "snare")
    monkeypatch.setattr(scores, "get_gan_scorer", lambda corpus, n, rate, source="offline": (classifier, {"test_accuracy": 0.5}))
    return cli


def test_the_score_command_scores_a_run_beside_the_real_clips(tmp_path, monkeypatch) -> None:
    import json

    cli = _fake_scoring(monkeypatch)
    state = tmp_path / "g.pt"
    assert cli.main(["train", "--corpus", "drums", "--d", "2", "--n-samples", "1024", "--batch-size", "4",
                     "--n-critic", "1", "--ema", "0.9", "--steps", "2", "--state", str(state)]) == 0
    assert cli.main(["score", "--state", str(state), "--n", "250"]) == 0
    out = json.loads(state.with_suffix(".scores.json").read_text())
    assert out["generated"] == 250 and out["averaged"] and out["steps"] == 2
    assert sum(out["histogram_generated"].values()) == 250 and sum(out["histogram_real"].values()) == 6
    generator, info = gan.load_generator(state)
    assert info["ema"] == 0.9 and generator.n_samples == 1024


def test_minibatch_std_critic_sees_the_batch_spread() -> None:
    torch.manual_seed(0)
    plain = gan.WaveGANCritic(d=2, n_samples=1024)
    with_std = gan.WaveGANCritic(d=2, n_samples=1024, minibatch_std=True, phase_shuffle=0)
    # one more input channel at the dense layer: start_len more weights, nothing else
    assert count_parameters(with_std) - count_parameters(plain) == plain.start_len
    x = 0.3 * torch.randn(6, 1, 1024)
    same = x[:1].repeat(6, 1, 1)
    out = with_std(x)
    assert out.shape == (6,)
    # a batch of copies has zero spread: each copy's score is its score alone with spread set to 0
    w = with_std.dense.weight[0, -plain.start_len:]
    spread_term = float(with_std(same)[0] - with_std(same[:1])[0])  # batch of one: spread 0 too
    assert abs(spread_term) < 1e-6
    # a varied batch changes every score by the same spread term
    h = with_std
    alone = torch.stack([h(x[i:i + 1])[0] for i in range(6)])
    diff = out - alone
    torch.testing.assert_close(diff, diff[:1].expand(6), atol=1e-5, rtol=0)
    assert float(diff[0].abs()) > 0 and w.abs().sum() > 0
    with pytest.raises(TypeError, match="minibatch_std must be True or False"):
        gan.WaveGANCritic(d=2, n_samples=1024, minibatch_std=1)


def test_spectrogram_codec_images_and_griffin_lim_round_trip() -> None:
    from audiomap_lib.gan.specgan import SpectrogramCodec

    t = torch.arange(4096) / 8000
    g = torch.Generator().manual_seed(0)
    tones = torch.stack([0.5 * torch.sin(2 * math.pi * f * t) * torch.exp(-t * 8) for f in (110.0, 220.0, 440.0, 880.0)])
    clips = (tones + 0.01 * torch.randn(4, 4096, generator=g)).unsqueeze(1)
    codec = SpectrogramCodec(4096, 8000, size=64).fit(clips)
    assert (codec.hop_length, codec.n_fft) == (64, 128)  # 8 ms hops, 16 ms windows at 8 kHz, as the paper's at 16 kHz
    images = codec.encode(clips)
    assert images.shape == (4, 1, 64, 64) and float(images.abs().max()) <= 1.0
    # per-bin standardisation: each bin's mean over clips and frames is 0 before the clip at 3 std
    z = (codec._log_magnitude(clips) - codec.mean[:, None]) / codec.std[:, None]
    torch.testing.assert_close(z.mean(dim=(0, 2)), torch.zeros(64), atol=1e-4, rtol=0)
    back = codec.decode(images)
    assert back.shape == (4, 1, 4096)
    again = codec.encode(back)
    assert float((again - images).abs().mean()) < 0.1  # Griffin-Lim gives back (nearly) the same image
    restored = SpectrogramCodec.from_dict(codec.to_dict())
    torch.testing.assert_close(restored.encode(clips), images)
    with pytest.raises(RuntimeError, match="call fit"):
        SpectrogramCodec(4096, 8000).encode(clips)
    with pytest.raises(ValueError, match="size must be a power of 2"):
        SpectrogramCodec(4096, 8000, size=48)
    with pytest.raises(ValueError, match="n_samples must be size \\*\\* 2 = 4096"):
        SpectrogramCodec(8192, 8000, size=64)


def test_specgan_models_shapes_and_the_penalty_on_images() -> None:
    from audiomap_lib.gan.specgan import SpecGANCritic, SpecGANGenerator

    torch.manual_seed(0)
    G = SpecGANGenerator(d=4, size=64, n_samples=4096, sample_rate_hz=8000)
    D = SpecGANCritic(d=4, size=64, minibatch_std=True)
    x = G(gan.make_latents(3, 100))
    assert x.shape == (3, 1, 64, 64) and float(x.abs().max()) < 1 and D(x).shape == (3,)
    assert [layer.out_channels for layer in G.layers] == [16, 8, 4, 1]  # 8d, 4d, 2d, d -> 1 image
    assert SpecGANGenerator(d=4, size=128, n_samples=16384, sample_rate_hz=16000).start_channels == 64  # 16d, the paper's
    # a linear critic f(x) = <w, x> has gradient w everywhere: the penalty is weight * (||w|| - 1)^2 exactly
    w = torch.randn(1, 1, 8, 8, dtype=torch.float64)

    def linear(v: torch.Tensor) -> torch.Tensor:
        return (v * w).flatten(1).sum(1)

    real, fake = torch.randn(5, 1, 8, 8, dtype=torch.float64), torch.randn(5, 1, 8, 8, dtype=torch.float64)
    penalty = gan.compute_gradient_penalty(linear, real, fake, 10.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(penalty, 10.0 * (w.norm() - 1) ** 2)


def test_specgan_trains_and_is_scored_through_griffin_lim(tmp_path, monkeypatch) -> None:
    import json

    cli = _fake_scoring(monkeypatch)
    state = tmp_path / "s.pt"
    assert cli.main(["train", "--model", "specgan", "--corpus", "drums", "--d", "2", "--size", "32", "--n-samples", "1024",
                     "--batch-size", "4", "--n-critic", "1", "--steps", "2", "--state", str(state)]) == 0
    info = json.loads(state.with_suffix(".json").read_text())
    assert info["model"] == "specgan" and len(info["codec"]["mean"]) == 32
    generator, _ = gan.load_generator(state)
    clips = gan.generate_clips(generator, info, 3, seed=1)
    assert clips.shape == (3, 1, 1024)
    torch.testing.assert_close(clips, gan.generate_clips(generator, info, 3, seed=1))  # seeded, Griffin-Lim too
    assert cli.main(["score", "--state", str(state), "--n", "250"]) == 0
    out = json.loads(state.with_suffix(".scores.json").read_text())
    assert out["generated"] == 250 and out["is_real_through_griffin_lim"] >= 1.0


class _FakeDigits(_FakeClips):
    """Two 'digits' at 16 kHz: a low and a high tone, so a small classifier can tell them apart."""

    labels = ("zero", "one")

    def __init__(self) -> None:
        t = torch.arange(4096) / 16000
        g = torch.Generator().manual_seed(1)
        self.items = [((0.5 * torch.sin(2 * math.pi * (300.0 if i % 2 == 0 else 2500.0) * t)
                        + 0.01 * torch.randn(4096, generator=g)).unsqueeze(0), i % 2) for i in range(16)]


def test_the_gan_scorer_of_digits_is_its_own_task_at_the_gans_rate(tmp_path, monkeypatch) -> None:
    from audiomap_lib import hub
    from audiomap_lib.data import datasets
    from audiomap_lib.gan import scores

    monkeypatch.setenv("AUDIOMAP_DATA", str(tmp_path))
    monkeypatch.setattr(datasets, "get_datasets", lambda corpus, source="offline", profile=None: {s: _FakeDigits() for s in ("train", "validation", "test")})
    model, meta = scores.get_gan_scorer("digits", 2048, 8000, profile="quick")
    assert model.labels == ("zero", "one") and meta["task"] == "digits_gan" and meta["corpus"] == "digits"
    assert int(meta["sample_rate"]) == 8000 and int(meta["n_samples"]) == 2048 and 0.0 <= meta["test_accuracy"] <= 1.0
    assert (tmp_path / "models" / "quick" / hub.CLASSIFIER_TASKS["digits_gan"][0]).is_file()
    again, meta_again = scores.get_gan_scorer("digits", 2048, 8000, profile="quick")  # loaded, not retrained
    assert meta_again["test_accuracy"] == meta["test_accuracy"]
    with pytest.raises(FileNotFoundError, match="digits_gan"):  # the Chapter 6 digits file is another task
        hub.load_classifier("digits_gan", tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="corpus must be one of"):
        scores.get_gan_scorer("speech", 1024, 8000)
    with pytest.raises(ValueError, match="sample_rate_hz"):
        scores.get_gan_scorer("digits", 1024, -5)


def test_the_post_processing_filter_is_a_same_padded_fir_after_the_tanh() -> None:
    torch.manual_seed(0)
    g = gan.WaveGANGenerator(d=2, n_samples=1024, sample_rate_hz=8000, post_filter_taps=8)
    assert g.post_filter is not None and g.post_filter.bias is None and g.post_filter.weight.shape == (1, 1, 8)
    plain = gan.WaveGANGenerator(d=2, n_samples=1024, sample_rate_hz=8000)
    plain.load_state_dict({k: v for k, v in g.state_dict().items() if not k.startswith("post_filter")})
    z = gan.make_latents(3, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        y, x = g(z), plain(z)
    assert y.shape == x.shape == (3, 1, 1024)
    w = g.post_filter.weight.detach()[0, 0].double()
    # TensorFlow's "same": output[n] = sum_k w[k] x[n + k - (taps - 1) // 2], zeros outside
    xp = np.pad(x[:, 0].double().numpy(), ((0, 0), (3, 4)))
    expected = np.stack([np.correlate(row, w.numpy(), mode="valid") for row in xp])
    np.testing.assert_allclose(y[:, 0].double().numpy(), expected, atol=1e-5)
    bound = math.sqrt(6 / (8 + 8))  # Glorot uniform, fan_in = fan_out = taps
    assert float(w.abs().max()) <= bound
    with pytest.raises(ValueError, match="post_filter_taps"):
        gan.WaveGANGenerator(d=2, n_samples=1024, sample_rate_hz=8000, post_filter_taps=-1)
    with pytest.raises(ValueError, match="post_filter_taps must be at most"):
        gan.WaveGANGenerator(d=2, n_samples=1024, sample_rate_hz=8000, post_filter_taps=2048)


def test_a_run_with_a_post_filter_is_saved_in_half_precision_and_loads_back(tmp_path, monkeypatch) -> None:
    import json

    from audiomap_lib.gan import __main__ as cli

    monkeypatch.setattr(cli, "get_datasets", lambda corpus, source="offline": {"train": _FakeClips()})
    state = tmp_path / "g.pt"
    assert cli.main(["train", "--corpus", "drums", "--d", "2", "--n-samples", "1024", "--batch-size", "4", "--n-critic", "1",
                     "--post-filter-taps", "16", "--ema", "0.9", "--steps", "2", "--state", str(state)]) == 0
    generator, info = gan.load_generator(state)
    assert info["post_filter_taps"] == 16 and generator.post_filter.weight.shape == (1, 1, 16)
    out = gan.save_generator(state, tmp_path / "shipped.pt", half=True, note="test")
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["weights_dtype"] == "float16" and record["note"] == "test"
    assert all(v.dtype == torch.float16 for v in torch.load(out)["model"].values())
    small, _ = gan.load_generator(out)
    assert all(p.dtype == torch.float32 for p in small.parameters())
    z = gan.make_latents(2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(small(z), generator(z), atol=2e-2, rtol=0)  # float16 rounding only
    with pytest.raises(TypeError, match="half must be True or False"):
        gan.save_generator(state, tmp_path / "x.pt", half="yes")


def test_tone_level_finds_a_tone_at_a_quarter_of_the_rate_and_not_in_noise() -> None:
    g = torch.Generator().manual_seed(0)
    noise = 0.1 * torch.randn(8, 1, 4096, generator=g)
    t = torch.arange(4096) / 8000
    tone = noise + 0.05 * torch.sin(2 * math.pi * 2000 * t)
    level_noise = gan.compute_tone_level_db(noise, 8000, 2000)
    level_tone = gan.compute_tone_level_db(tone, 8000, 2000)
    assert abs(level_noise) < 6 and level_tone > 15
    # the same number from numpy: Hann window, mean power, 5 bins against the median of the ring
    x = noise[:, 0].double().numpy()
    x = x - x.mean(-1, keepdims=True)
    power = (np.abs(np.fft.rfft(x * np.hanning(4097)[:-1])) ** 2).mean(0)
    db = 10 * np.log10(power + 1e-30)
    freqs, lib_db = gan.compute_mean_spectrum_db(noise, 8000)
    np.testing.assert_allclose(lib_db.numpy(), db, atol=1e-9)
    np.testing.assert_allclose(freqs.numpy(), np.fft.rfftfreq(4096, 1 / 8000))
    k = 1024
    expected = db[k - 2:k + 3].max() - np.median(np.concatenate([db[k - 150:k - 10], db[k + 10:k + 150]]))
    assert level_noise == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ValueError, match="f_hz must lie in"):
        gan.compute_tone_level_db(noise, 8000, 3990)
    with pytest.raises(ValueError, match="outer_bins must be larger"):
        gan.compute_tone_level_db(noise, 8000, 2000, inner_bins=10, outer_bins=5)


def test_the_remedies_command_trains_each_remedy_per_seed_and_summarises(tmp_path, monkeypatch) -> None:
    import json

    cli = _fake_scoring(monkeypatch)
    out = tmp_path / "remedies.json"
    assert cli.main(["remedies", "--steps", "2", "--seeds", "0", "1", "--n", "250", "--folder", str(tmp_path / "runs"),
                     "--out", str(out), "--", "--d", "2", "--n-samples", "1024", "--batch-size", "4", "--n-critic", "1"]) == 0
    record = json.loads(out.read_text())
    assert [(r["remedy"], r["seed"]) for r in record["runs"]] == [(name, s) for name in cli.REMEDIES for s in (0, 1)]
    assert all(r["steps"] == 2 for r in record["runs"]) and record["command"].startswith("python -m audiomap_lib.gan remedies")
    assert record["remedies"] == cli.REMEDIES
    for name in cli.REMEDIES:
        mine = [r["tone_generated_db"] for r in record["runs"] if r["remedy"] == name]
        s = record["summary"][name]["tone_generated_db"]
        assert s["min"] == min(mine) and s["max"] == max(mine) and s["mean"] == pytest.approx(sum(mine) / 2)
    generator, info = gan.load_generator(tmp_path / "runs" / "post-processing_filter_seed0.pt")
    assert info["post_filter_taps"] == 512 and info["phase_shuffle"] == 0
    _, nearest = gan.load_generator(tmp_path / "runs" / "nearest-neighbour_upsampling_seed1.pt")
    assert nearest["upsample"] == "nearest"
    with pytest.raises(SystemExit):
        cli.main(["remedies", "--seeds", "0"])  # no budget


@pytest.mark.parametrize("path", sorted(gan.PRETRAINED_DIR.glob("*.pt")), ids=lambda p: p.name)
def test_each_shipped_model_is_small_loads_and_records_how_it_was_made(path) -> None:
    assert path.stat().st_size <= 5 * 1024 * 1024, f"{path.name} is over 5 MB"
    generator, info = gan.load_generator(path)
    for key in ("command", "seed", "minutes", "steps", "scores", "corpus"):
        assert key in info, f"{path.name}'s record lacks {key!r}"
    assert info["command"].startswith(("python -m audiomap_lib.gan train", "AUDIOMAP_PROFILE="))
    assert 0 < info["scores"]["is_ratio"] and info["steps"] > 0 and info["minutes"] > 0
    with torch.no_grad():
        clips = generator(gan.make_latents(2, generator=torch.Generator().manual_seed(0)))
    assert clips.shape == (2, 1, info["n_samples"]) and bool(torch.isfinite(clips).all())


def test_the_train_command_takes_its_clips_from_the_source_it_is_given(tmp_path, monkeypatch) -> None:
    import json

    from audiomap_lib.gan import __main__ as cli

    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(cli, "get_datasets", lambda corpus, source="offline": seen.append((corpus, source)) or {"train": _FakeClips()})
    state = tmp_path / "g.pt"
    assert cli.main(["train", "--corpus", "digits", "--source", "sc09", "--d", "2", "--n-samples", "1024", "--batch-size", "4",
                     "--n-critic", "1", "--steps", "1", "--state", str(state)]) == 0
    assert seen == [("digits", "sc09")] and json.loads(state.with_suffix(".json").read_text())["source"] == "sc09"
