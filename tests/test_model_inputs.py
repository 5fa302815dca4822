"""The classifiers of Chapters 4-6 at their door: dtypes, lengths and sizes they must refuse or accept."""
from __future__ import annotations

import pytest
import torch

from audiomap_lib import cnn, models

SR = 16000


def _models() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {
        "raw M5": cnn.RawAudioCNN("m5", channels=8, input_sr=SR),
        "log-mel 2-D": cnn.LogMelCNN2d(channels=4, blocks=2, input_sr=SR),
        "log-mel 1-D": cnn.LogMelCNN1d(channels=4, blocks=2, input_sr=SR),
        "GRU": models.RecurrentClassifier(hidden=8, sr=SR, pooling="mean"),
    }


MODELS = _models()


@pytest.mark.parametrize("name", MODELS)
def test_float64_and_float16_batches_give_the_float32_logits(name: str) -> None:
    model = MODELS[name].eval()
    x = torch.randn(2, 1, 8000) * 0.1
    lengths = torch.tensor([8000, 6000])
    with torch.no_grad():
        ref = model(x, lengths)
        torch.testing.assert_close(model(x.double(), lengths), ref)
        assert torch.isfinite(model(x.half(), lengths)).all()


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize(("lengths", "error", "match"), [
    (torch.tensor([0, 8000]), ValueError, r"lengths must lie in 1\.\.8000"),
    (torch.tensor([8000, 9000]), ValueError, r"lengths must lie in 1\.\.8000"),
    (torch.tensor([20.05, 14.1]), TypeError, "lengths must be an integer tensor"),
    (torch.tensor([8000]), ValueError, r"lengths must have shape \(batch=2,\)"),
    ([8000, 8000], TypeError, "lengths must be an integer tensor"),
])
def test_bad_lengths_are_refused(name: str, lengths, error, match) -> None:
    with pytest.raises(error, match=match):
        MODELS[name].eval()(torch.zeros(2, 1, 8000), lengths)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize(("x", "error", "match"), [
    (torch.zeros(2, 1, 8000, dtype=torch.int16), TypeError, "floating-point"),
    (torch.full((2, 1, 8000), float("nan")), ValueError, "NaN"),
    (torch.zeros(2, 2, 8000), ValueError, "mono"),
    (torch.zeros(0, 1, 8000), ValueError, "empty"),
])
def test_bad_waveforms_are_refused(name: str, x, error, match) -> None:
    with pytest.raises(error, match=match):
        MODELS[name].eval()(x)


def test_huge_or_impossible_configurations_are_refused_before_allocating() -> None:
    with pytest.raises(ValueError, match="blocks=16 halves the 40 mel bands"):
        cnn.LogMelCNN2d(blocks=16, input_sr=SR)
    with pytest.raises(ValueError, match="MAX_PARAMETERS"):
        cnn.LogMelCNN1d(channels=4096, blocks=8, input_sr=SR)
    with pytest.raises(ValueError, match="hop_length"):
        models.LogMelFrontEnd(SR, hop_length=0)
    with pytest.raises(ValueError, match="n_mels"):
        models.LogMelFrontEnd(SR, n_mels=-1)


@pytest.mark.parametrize(("model", "name"), [
    (cnn.RawAudioCNN("m18", channels=4, input_sr=SR), "M18"),
    (cnn.RawAudioCNN("m5", channels=4, input_sr=SR), "M5"),
    (cnn.RawAudioCNN("m11", channels=4, input_sr=SR, model_sr=SR), "M11 at 16 kHz"),
    (cnn.RawAudioCNN("m3", channels=4, input_sr=22050), "M3 from 22.05 kHz"),
    (cnn.LogMelCNN2d(channels=4, blocks=3, input_sr=SR), "log-mel 2-D"),
    (cnn.LogMelCNN1d(channels=4, blocks=2, input_sr=SR), "log-mel 1-D"),
])
def test_min_input_samples_is_exactly_the_shortest_clip_a_model_takes(model: torch.nn.Module, name: str) -> None:
    n = model.min_input_samples
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, n) * 0.1).shape == (1, 10)
        with pytest.raises(ValueError, match=f"min_input_samples={n}"):
            model(torch.randn(1, 1, n - 1) * 0.1)
    # and the formula is the real limit: below it, the layers themselves fail
    if isinstance(model, cnn.RawAudioCNN):
        x, _ = model.compute_input(torch.randn(1, 1, n) * 0.1)
        assert model.stages(x).shape[-1] >= 1


def test_min_input_length_inverts_the_output_length_formula() -> None:
    layers = [(80, 4, 0), (4, 4, 0), (3, 1, 1), (4, 4, 0), (3, 1, 1)]
    need = cnn.compute_min_input_length(layers)
    length = need
    for k, s, p in layers:
        length = (length + 2 * p - k) // s + 1
    assert length == 1
    length = need - 1
    for k, s, p in layers:
        length = (length + 2 * p - k) // s + 1
        if length < 1:
            break
    assert length < 1


def test_predict_digit_refuses_a_clip_too_short_for_m18() -> None:
    from audiomap_lib import hub

    model = cnn.RawAudioCNN("m18", channels=4, input_sr=SR)
    n = model.min_input_samples
    assert n > SR // 10  # longer than predict_digit's own 100 ms floor
    with pytest.raises(ValueError, match=f"at least {n} samples"):
        hub.predict_digit(model, torch.randn(n - 1) * 0.1, SR)
    assert hub.predict_digit(model, torch.randn(n) * 0.1, SR).probabilities.shape == (10,)
