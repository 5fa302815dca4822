"""audiomap_lib.training: the course trainer, its metrics, History and resumable training states."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from audiomap_lib import training as tr


class TinyNet(nn.Module):
    """Classifies sine tones by pitch from the magnitude spectrum (called as model(x, lengths))."""

    def __init__(self, n_classes: int = 3) -> None:
        super().__init__()
        self.lin = nn.Linear(65, n_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.lin(torch.fft.rfft(x[:, 0], n=128).abs().log1p())


def _tones(n: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n,), generator=g)
    t = torch.arange(128) / 128
    freq = torch.tensor([5.0, 20.0, 40.0])[labels] + torch.rand(n, generator=g)
    x = torch.sin(2 * math.pi * freq[:, None] * t + torch.rand(n, 1, generator=g) * 6) + 0.3 * torch.randn(n, 128, generator=g)
    batches = []
    for i in range(0, n, 16):
        batches.append((x[i:i + 16, None], labels[i:i + 16], torch.full((len(labels[i:i + 16]),), 128)))
    return batches


def test_fit_learns_keeps_best_epoch_and_checkpoints(tmp_path) -> None:
    torch.manual_seed(0)
    model = TinyNet()
    train, val = _tones(128, 1), _tones(64, 2)
    h = tr.fit(model, train, val, epochs=6, lr=0.05, schedule="onecycle", checkpoint=tmp_path / "best.pt",
               device="cpu", progress=False, verbose=False)
    assert h.epochs == 6 and len(h.val_acc) == len(h.lr) == len(h.seconds) == 6
    assert h.best_val_acc > 0.9
    assert h.best_epoch == int(np.argmax(h.val_acc)) + 1
    logits, labels = tr.predict(model, val, device="cpu")
    assert tr.compute_accuracy(logits, labels) == pytest.approx(h.best_val_acc)
    other = TinyNet()
    meta = tr.load_checkpoint(h.checkpoint, other)["meta"]
    assert meta["epoch"] == h.best_epoch
    torch.testing.assert_close(other(*val[0][::2]), model(*val[0][::2]))
    assert h.lr[-1] < 0.05 * 0.01  # one-cycle anneals to (almost) zero
    assert all(s > 0 for s in h.samples_per_second)


def test_fit_stops_early_without_improvement() -> None:
    torch.manual_seed(0)
    model = TinyNet()
    train = _tones(32, 1)
    noise = [(x, torch.randint(0, 3, y.shape, generator=torch.Generator().manual_seed(9)), n) for x, y, n in _tones(32, 2)]
    h = tr.fit(model, train, noise, epochs=30, lr=1e-9, schedule="constant", patience=2, device="cpu",
               progress=False, verbose=False)
    assert h.stopped_early and h.epochs == h.best_epoch + 2 < 30


def test_fit_applies_augment_to_training_only_and_is_reproducible() -> None:
    calls = []

    def augment(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        calls.append(x.shape[0])
        return x

    results = []
    for _ in range(2):
        torch.manual_seed(3)
        model = TinyNet()
        h = tr.fit(model, _tones(48, 1), _tones(32, 2), epochs=2, augment=augment, device="cpu",
                   progress=False, verbose=False)
        results.append((h.train_loss, h.val_acc))
    assert sum(calls) == 2 * 2 * 48
    assert results[0] == results[1]


class _Bad(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(128, 3)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.lin(x)  # (B, 1, 3): not (B, n_classes)


def test_fit_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="epochs"):
        tr.fit(TinyNet(), _tones(16, 1), _tones(16, 2), epochs=0)
    with pytest.raises(ValueError, match="schedule"):
        tr.fit(TinyNet(), _tones(16, 1), _tones(16, 2), epochs=1, schedule="step")
    with pytest.raises(ValueError, match="empty"):
        tr.fit(TinyNet(), [], _tones(16, 2), epochs=1)
    with pytest.raises(ValueError, match="logits of shape"):
        tr.fit(_Bad(), _tones(16, 1), _tones(16, 2), epochs=1, device="cpu", progress=False)
    with pytest.raises(ValueError, match=r"\(waveforms, labels, lengths\)"):
        tr.predict(TinyNet(), [(torch.zeros(2, 1, 128), torch.zeros(2))], device="cpu")


def test_metrics_against_numpy() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    p = np.where(rng.random(200) < 0.7, y, rng.integers(0, 4, 200))
    cm = tr.compute_confusion_matrix(torch.from_numpy(p), torch.from_numpy(y), 4)
    ref = np.zeros((4, 4), dtype=int)
    for a, b in zip(y, p):
        ref[a, b] += 1
    np.testing.assert_array_equal(cm.numpy(), ref)
    assert tr.compute_accuracy(torch.from_numpy(p), torch.from_numpy(y)) == pytest.approx((p == y).mean())
    np.testing.assert_allclose(tr.compute_per_class_accuracy(torch.from_numpy(p), torch.from_numpy(y), 4).numpy(),
                               ref.diagonal() / ref.sum(1))
    logits = torch.nn.functional.one_hot(torch.from_numpy(p), 4).float()
    assert tr.compute_accuracy(logits, torch.from_numpy(y)) == pytest.approx((p == y).mean())
    groups = ["a" if i % 3 else "b" for i in range(200)]
    acc = tr.compute_group_accuracy(torch.from_numpy(p), torch.from_numpy(y), groups)
    sel = np.array(groups) == "b"
    assert acc["b"] == (pytest.approx((p[sel] == y[sel]).mean()), int(sel.sum()))
    with pytest.raises(ValueError, match="one group per clip"):
        tr.compute_group_accuracy(torch.from_numpy(p), torch.from_numpy(y), groups[:-1])
    with pytest.raises(ValueError, match="labels"):
        tr.compute_accuracy(torch.zeros(3, dtype=torch.long), torch.zeros(4, dtype=torch.long))


def test_plots_return_axes_and_count_parameters() -> None:
    matplotlib.use("Agg")
    from audiomap_lib import plots
    h = tr.History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.8], val_loss=[1.1, 0.7], val_acc=[0.4, 0.7],
                   lr=[1e-3, 1e-4], seconds=[1.0, 1.0], samples_per_second=[10.0, 10.0], best_epoch=2)
    assert plots.plot_history(h, "loss") is not None
    ax = plots.plot_history(h, "accuracy")
    assert ax.get_ylabel() == "accuracy (%)"
    ax = plots.plot_confusion_matrix(torch.eye(3, dtype=torch.int64) * 5, ["a", "b", "c"], normalize=True)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert tr.count_parameters(TinyNet()) == 65 * 3 + 3
    assert h.total_seconds == 2.0 and h.best_val_acc == 0.7


class _DropNet(TinyNet):
    """TinyNet with dropout, so that the run draws from torch's global generator too."""

    def __init__(self) -> None:
        super().__init__()
        self.drop = nn.Dropout(0.3)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.lin(self.drop(torch.fft.rfft(x[:, 0], n=128).abs().log1p()))


def _resumable_run(state_path, crash_at: int | None = None) -> tuple[nn.Module, tr.History]:
    """3 epochs of 4 shuffled batches, with dropout and a noisy augmentation (global RNG)."""
    from audiomap_lib.data.datasets import make_loader

    torch.manual_seed(0)
    np.random.seed(0)
    model = _DropNet()
    clips = [(x[i], int(y[i])) for x, y, _ in _tones(64, 1) for i in range(len(y))]
    train = make_loader(clips, 16, shuffle=True, seed=5)
    calls = [0]

    def augment(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        calls[0] += 1
        if crash_at is not None and calls[0] == crash_at:
            raise KeyboardInterrupt("simulated interruption")
        return x + 0.05 * torch.randn_like(x)

    h = tr.fit(model, train, _tones(32, 2), epochs=3, lr=0.05, schedule="onecycle", augment=augment,
               state_path=state_path, device="cpu", progress=False, verbose=False)
    return model, h


def test_training_state_resumes_exactly(tmp_path) -> None:
    reference, h_ref = _resumable_run(None)
    state = tmp_path / "run" / "state.pt"
    with pytest.raises(KeyboardInterrupt):
        _resumable_run(state, crash_at=7)  # in epoch 2 of 3 (4 batches per epoch): epoch 1 is on disk
    saved = torch.load(state, weights_only=True)
    assert saved["epoch"] == 1 and saved["step"] == 4 and not saved["extra"]["finished"]
    resumed, h = _resumable_run(state)  # a fresh process would do the same: new model, new loader
    for (name, a), b in zip(reference.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    timing = ("seconds", "samples_per_second")
    assert {k: v for k, v in h.to_dict().items() if k not in timing} == {k: v for k, v in h_ref.to_dict().items() if k not in timing}
    again, h_again = _resumable_run(state)  # a finished state: nothing more to train
    assert h_again.epochs == 3 and all(torch.equal(a, b) for a, b in zip(reference.parameters(), again.parameters()))
    with pytest.raises(ValueError, match="other settings"):
        tr.fit(_DropNet(), _tones(64, 1), _tones(32, 2), epochs=5, state_path=state, device="cpu",
               progress=False, verbose=False)


def test_save_and_load_training_state_round_trip(tmp_path) -> None:
    import random

    model = TinyNet()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    g = torch.Generator().manual_seed(3)
    history = tr.History(loss=[1.0, 0.5])
    path = tr.save_training_state(tmp_path / "s.pt", model, opt, sched, step=2, epoch=1, history=history,
                                  generators={"g": g}, note="x")
    expect = (random.random(), float(np.random.rand()), float(torch.rand(())), float(torch.rand((), generator=g)))
    random.random(), np.random.rand(), torch.rand(())  # move every generator on
    other = TinyNet()
    out = tr.load_training_state(path, other, torch.optim.AdamW(other.parameters(), lr=1e-3),
                                 torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10), generators={"g": g})
    assert (random.random(), float(np.random.rand()), float(torch.rand(())), float(torch.rand((), generator=g))) == expect
    assert out["step"] == 2 and out["epoch"] == 1 and out["extra"] == {"note": "x"}
    assert out["history"].loss == [1.0, 0.5]
    assert torch.equal(other.lin.weight, model.lin.weight)
    with pytest.raises(ValueError, match="scheduler"):
        tr.load_training_state(path, other, opt)
    with pytest.raises(ValueError, match="not a training state"):
        tr.load_training_state(tr.save_checkpoint(tmp_path / "w.pt", model), other, opt, sched)


def test_history_logs_any_named_metric() -> None:
    h = tr.History()
    h.log(critic_loss=1.0, generator_loss=2.0)
    h.log(critic_loss=0.5, gradient_penalty=0.1)
    assert h.epochs == 2 and h.critic_loss == [1.0, 0.5] and h["critic_loss"] == [1.0, 0.5]
    assert math.isnan(h.generator_loss[1]) and math.isnan(h.gradient_penalty[0])
    assert repr(tr.History.from_dict(h.to_dict()).to_dict()) == repr(h.to_dict())  # nan != nan, so compare text
    with pytest.raises(AttributeError, match="critic_loss"):
        _ = h.val_acc
    with pytest.raises(ValueError, match="taken"):
        h.log(epochs=1.0)
    with pytest.raises(ValueError, match="same number"):
        tr.History(a=[1.0], b=[1.0, 2.0])


def test_fit_refuses_what_would_train_silently_wrong() -> None:
    train = _tones(32, 1)
    with pytest.raises(ValueError, match="val_loader is empty"):
        tr.fit(TinyNet(), train, [], epochs=2, device="cpu", progress=False, verbose=False)
    with pytest.raises(ValueError, match="val_loader gave no clips"):
        tr.fit(TinyNet(), train, iter([]), epochs=2, device="cpu", progress=False, verbose=False)
    x, y, lengths = train[0]
    poisoned = [(x.clone().index_fill_(2, torch.tensor([3]), float("nan")), y, lengths)] + train[1:]
    with pytest.raises(ValueError, match="train_loader gave waveforms with NaN"):
        tr.fit(TinyNet(), poisoned, _tones(16, 2), epochs=1, device="cpu", progress=False, verbose=False)


@pytest.mark.parametrize("n_batches, epochs", [(1, 1), (1, 2), (2, 2), (1, 3), (1, 4), (2, 3), (3, 3), (5, 1)])
def test_one_cycle_schedule_works_for_tiny_runs(n_batches: int, epochs: int) -> None:
    """Quick-sized runs (epochs x batches = 1 ... 9 steps) train; a ZeroDivisionError hid here for 4 steps."""
    torch.manual_seed(0)
    train = _tones(16 * n_batches, 1)
    h = tr.fit(TinyNet(), train, _tones(16, 2), epochs=epochs, schedule="onecycle", device="cpu",
               progress=False, verbose=False)
    assert h.epochs == epochs and all(math.isfinite(v) for v in h.train_loss)


def test_metrics_refuse_out_of_range_and_float_classes() -> None:
    with pytest.raises(ValueError, match=r"labels must lie in range\(n_classes=3\)"):
        tr.compute_confusion_matrix(torch.tensor([1]), torch.tensor([-1]), 3)
    with pytest.raises(ValueError, match=r"predicted must lie in range\(n_classes=3\)"):
        tr.compute_confusion_matrix(torch.tensor([-1]), torch.tensor([1]), 3)
    with pytest.raises(TypeError, match="predicted must hold integer class indices"):
        tr.compute_accuracy(torch.tensor([3.7, 1.0]), torch.tensor([3, 1]))
    with pytest.raises(TypeError, match="labels must hold integer class indices"):
        tr.compute_accuracy(torch.tensor([3, 1]), torch.tensor([3.0, 1.0]))
    assert tr.compute_accuracy(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1])) == 0.5


@pytest.mark.parametrize("content", ["empty", "text", "truncated", "pickle of an object"])
def test_bad_checkpoint_files_give_a_clear_error_naming_the_file(tmp_path, content: str) -> None:
    import pickle

    good = tr.save_checkpoint(tmp_path / "good.pt", TinyNet(), epoch=1)
    bad = tmp_path / f"{content.replace(' ', '_')}.pt"
    bad.write_bytes({"empty": b"", "text": b"hello, world\n", "truncated": good.read_bytes()[:300],
                     "pickle of an object": pickle.dumps(TinyNet)}[content])
    model = TinyNet()
    for load in (lambda: tr.load_checkpoint(bad), lambda: tr.load_training_state(bad, model, torch.optim.SGD(model.parameters(), 0.1))):
        with pytest.raises(ValueError, match=str(bad.name)):
            load()
    from audiomap_lib import hub

    with pytest.raises(ValueError, match="cannot be read|is empty|not unpickled"):
        hub.load_digit_classifier(bad)


def test_fit_on_a_missing_gpu_says_so_before_training(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    model = TinyNet()
    with pytest.raises(ValueError, match="device='cuda' asks for a CUDA GPU"):
        tr.fit(model, _tones(32, 0), _tones(16, 1), epochs=1, device="cuda", progress=False)
    with pytest.raises(ValueError, match="device='gpu' is not a PyTorch device name"):
        tr.predict(model, _tones(16, 1), device="gpu")
