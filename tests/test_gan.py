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

    monkeypatch.setattr(cli, "get_datasets", lambda corpus: {"train": _FakeClips()})
    state = tmp_path / "g.pt"
    common = ["train", "--corpus", "drums", "--d", "2", "--n-samples", "1024", "--batch-size", "4", "--n-critic", "1",
              "--chunk", "2", "--state", str(state)]
    assert cli.main(common + ["--steps", "2"]) == 0
    assert json.loads(state.with_suffix(".json").read_text())["steps"] == 2
    assert cli.main(common + ["--steps", "4"]) == 0
    info = json.loads(state.with_suffix(".json").read_text())
    assert info["steps"] == 4 and info["minutes"] > 0
