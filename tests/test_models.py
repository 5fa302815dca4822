"""audiomap_lib.models: the log-mel front end and the GRU classifier (Chapters 4 and 5)."""
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


@pytest.mark.parametrize("pooling", models.POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_gru_classifier_answers_do_not_depend_on_batch_padding(pooling: str, bidirectional: bool) -> None:
    torch.manual_seed(1)
    m = models.GRUClassifier(n_classes=4, hidden=8, pooling=pooling, bidirectional=bidirectional, sr=16000).eval()
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
    if pooling == "attention":
        w = m.last_attention
        frames = models.compute_frame_lengths(lengths, 160)
        assert w.shape == (1, int(frames[2]))  # from the last call
        m(x, lengths)
        assert torch.all(m.last_attention[2, int(frames[2]):] == 0)
        torch.testing.assert_close(m.last_attention.sum(-1), torch.ones(3))
    else:
        assert m.last_attention is None


def test_gru_classifier_rejects_unknown_pooling() -> None:
    with pytest.raises(ValueError, match="pooling"):
        models.GRUClassifier(pooling="max", sr=16000)
