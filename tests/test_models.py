"""audiomap_lib.models: the log-mel front end, the GRU and the Transformer classifiers (Chapters 4 and 5)."""
from __future__ import annotations

import pytest
import torch

from audiomap_lib import models
from audiomap_lib.spectral import compute_log_mel_spectrogram


def _clips(b: int = 3, t: int = 8000, seed: int = 0) -> torch.Tensor:
    return 0.1 * torch.randn(b, 1, t, generator=torch.Generator().manual_seed(seed))


def test_front_end_is_the_chapter_2_log_mel_minus_its_mean() -> None:
    fe = models.LogMelFrontEnd(sr=16000, n_mels=40, n_fft=400, hop_length=160, f_min=20.0).eval()
    x = _clips()
    feats, frames = fe(x)
    assert feats.shape == (3, 40, 8000 // 160 + 1) and frames.tolist() == [51, 51, 51]
    padded = torch.nn.functional.pad(x[:, 0], (0, 200))  # the front end pads n_fft // 2 zeros at the end
    ref = compute_log_mel_spectrogram(padded, 16000, n_fft=400, hop_length=160, n_mels=40, f_min=20.0)[..., :51]
    ref = ref - ref.mean(dim=(1, 2), keepdim=True)
    bn = fe.norm  # in eval mode with fresh statistics: (x - 0) / sqrt(1 + eps)
    torch.testing.assert_close(feats, ref / (1 + bn.eps) ** 0.5, rtol=1e-4, atol=1e-4)


def test_front_end_gain_invariance_and_errors() -> None:
    fe = models.LogMelFrontEnd(sr=16000).eval()
    x = _clips()
    a, _ = fe(x)
    b, _ = fe(4.0 * x)
    torch.testing.assert_close(a, b, rtol=0.02, atol=0.02)  # exact but for the 1e-6 floor of the log
    with pytest.raises(ValueError, match="mono"):
        fe(torch.randn(2, 2, 800))
    with pytest.raises(ValueError, match="sample rate|sr"):
        models.LogMelFrontEnd(sr=0)


def test_spec_augment_only_while_training() -> None:
    fe = models.LogMelFrontEnd(sr=16000, freq_masks=2, time_masks=2)
    x = _clips()
    fe.eval()
    a, _ = fe(x)
    b, _ = fe(x)
    torch.testing.assert_close(a, b)
    fe.train()
    torch.manual_seed(0)
    c, _ = fe(x)
    assert (c == 0).float().mean() > (a == 0).float().mean()


@pytest.mark.parametrize("cell", list(models.RECURRENT_CELLS))
@pytest.mark.parametrize("pooling", models.POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_classifier_answers_do_not_depend_on_batch_padding(pooling: str, bidirectional: bool, cell: str) -> None:
    torch.manual_seed(1)
    m = models.RecurrentClassifier(n_classes=4, hidden=8, pooling=pooling, bidirectional=bidirectional, sr=16000,
                                   cell=cell).eval()
    assert isinstance(m.recurrent, models.RECURRENT_CELLS[cell])
    x = _clips(3, 4800)
    lengths = torch.tensor([4800, 3200, 1600])
    for i, n in enumerate(lengths.tolist()):
        x[i, :, n:] = 0
    batch = m(x, lengths)
    assert batch.shape == (3, 4)
    longer = torch.cat([x, torch.zeros(3, 1, 1600)], dim=-1)
    torch.testing.assert_close(m(longer, lengths), batch, rtol=1e-4, atol=1e-5)
    alone = m(x[2:, :, :1600], lengths[2:])
    torch.testing.assert_close(alone[0], batch[2], rtol=1e-4, atol=1e-5)
    if pooling in ("attention", "additive"):
        w = m.last_attention
        frames = models.compute_frame_lengths(lengths, 160)
        assert w.shape == (1, int(frames[2]))  # from the last call
        m(x, lengths)
        assert torch.all(m.last_attention[2, int(frames[2]):] == 0)
        torch.testing.assert_close(m.last_attention.sum(-1), torch.ones(3))
    else:
        assert m.last_attention is None


def test_recurrent_classifier_rejects_unknown_pooling_and_cell() -> None:
    with pytest.raises(ValueError, match="pooling"):
        models.RecurrentClassifier(pooling="max", sr=16000)
    with pytest.raises(ValueError, match="cell must be one of"):
        models.RecurrentClassifier(cell="transformer", sr=16000)


@pytest.mark.parametrize("positions", models.TRANSFORMER_POSITIONS)
@pytest.mark.parametrize("norm_first", [True, False])
def test_transformer_classifier_answers_do_not_depend_on_batch_padding(positions: str, norm_first: bool) -> None:
    torch.manual_seed(2)
    m = models.TransformerClassifier(n_classes=4, d_model=8, n_heads=2, n_layers=2, dim_feedforward=16, sr=16000,
                                     positions=positions, norm_first=norm_first).eval()
    assert m.sample_rate_hz == 16000 and len(m.layers) == 2
    x = _clips(3, 4800)
    lengths = torch.tensor([4800, 3200, 1600])
    for i, n in enumerate(lengths.tolist()):
        x[i, :, n:] = 0
    batch = m(x, lengths)
    assert batch.shape == (3, 4) and bool(torch.isfinite(batch).all())
    longer = torch.cat([x, torch.zeros(3, 1, 1600)], dim=-1)
    torch.testing.assert_close(m(longer, lengths), batch, rtol=1e-4, atol=1e-5)
    alone = m(x[2:, :, :1600], lengths[2:])
    torch.testing.assert_close(alone[0], batch[2], rtol=1e-4, atol=1e-5)
    # the answer does depend on the real frames; and on their order exactly when positions are added
    feats, frames = m.front_end(x, lengths)
    reversed_feats = feats.clone()
    reversed_feats[0] = feats[0].flip(-1)  # clip 0 fills all its frames: reversing keeps it unpadded
    with torch.no_grad():
        change = float((m.forward_features(reversed_feats, frames)[0] - m.forward_features(feats, frames)[0]).abs().max())
    if positions == "sinusoidal":
        assert change > 1e-4
    else:
        assert change < 1e-5


def test_transformer_classifier_rejects_bad_arguments_by_name() -> None:
    for kwargs, match in [
        (dict(d_model=8, n_heads=3), "n_heads must divide d_model"),
        (dict(d_model=9, n_heads=3), "d_model must be even"),
        (dict(d_model=0), "d_model"),
        (dict(n_layers=0), "n_layers"),
        (dict(dim_feedforward=-1), "dim_feedforward"),
        (dict(dropout=1.0), "dropout"),
        (dict(positions="learned"), "positions must be one of"),
        (dict(n_classes=0), "n_classes"),
        (dict(norm_first=1), "norm_first"),
        (dict(sr=None), "sample rate"),
        (dict(front_end=models.LogMelFrontEnd(sr=8000), sr=16000), "differs from front_end.sr"),
    ]:
        with pytest.raises(ValueError, match=match):
            models.TransformerClassifier(**{"sr": 16000, **kwargs})
    with pytest.raises(TypeError, match="front_end must be a LogMelFrontEnd"):
        models.TransformerClassifier(front_end=torch.nn.Identity())  # type: ignore[arg-type]
    m = models.TransformerClassifier(d_model=8, n_heads=2, sr=16000).eval()
    feats, frames = m.front_end(_clips(2, 1600))
    with pytest.raises(ValueError, match="feats must have shape"):
        m.forward_features(feats[:, :10], frames)
    with pytest.raises(ValueError, match="frames must have shape"):
        m.forward_features(feats, frames[:1])
    with pytest.raises(ValueError, match="lengths must lie in"):
        m.forward_features(feats, frames + 100)


def test_additive_pooling_is_bahdanau_attention_with_a_learned_query() -> None:
    """pooling="additive": the weights are attention.additive_attention of the learned query over the states."""
    from audiomap_lib.attention import additive_attention, make_length_mask

    torch.manual_seed(2)
    m = models.RecurrentClassifier(n_classes=4, hidden=8, pooling="additive", sr=16000).eval()
    x = _clips(2, 3200)
    lengths = torch.tensor([3200, 1600])
    with torch.no_grad():
        logits = m(x, lengths)
        states, frames = m.encode(x, lengths)
        add = m.attend.additive
        query = m.attend.query.expand(2, -1)
        context, weights = additive_attention(query, states, states, add.w_query, add.w_key, add.v,
                                              make_length_mask(frames, states.shape[1]))
    torch.testing.assert_close(m.last_attention, weights)
    torch.testing.assert_close(logits, m.head(context))
