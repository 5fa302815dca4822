"""The exercise graders (audiomap_lib.exercises): solutions pass, wrong answers fail helpfully."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from audiomap_lib import exercises as ex
from audiomap_lib.conv import make_lowpass_fir
from audiomap_lib.exercises import solutions as sol

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTER_NOTEBOOKS = {1: "01_audio_as_data", 2: "02_spectrograms", 3: "03_convolution", 4: "04_gru", 5: "05_attention", 6: "06_raw_waveform_cnn", 7: "07_wavegan",
                     8: "08_style_transfer"}
"""Which notebook shows each chapter's exercises (and their solutions in dropdowns)."""


@pytest.mark.parametrize("name", ex.list_exercises())
def test_every_solution_passes_its_grader(name: str) -> None:
    entry = ex.EXERCISES[name]
    result = entry["grade"](sol.SOLUTIONS[name])
    assert result.passed, str(result)
    assert "PASS" in str(result) and "passed" in result._repr_html_()


def test_chapter_3_has_its_exercises() -> None:
    assert set(ex.list_exercises(3)) >= {"flip", "output_length", "causal_conv", "conv_output", "lowpass", "bandpass",
                                         "aliased_frequency", "linear_from_circular"}


@pytest.mark.parametrize("chapter", sorted(CHAPTER_NOTEBOOKS))
def test_every_chapter_has_at_least_four_exercises(chapter: int) -> None:
    assert len(ex.list_exercises(chapter)) >= 4


@pytest.mark.parametrize("name", ex.list_exercises())
def test_notebook_shows_the_same_solution_code(name: str) -> None:
    """The dropdown in the chapter shows exactly the code the tests run."""
    source = inspect.getsource(sol.SOLUTIONS[name]).strip()
    notebook = NOTEBOOKS / f"{CHAPTER_NOTEBOOKS[ex.EXERCISES[name]['chapter']]}.ipynb"
    cells = json.loads(notebook.read_text())["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert source in markdown, f"the notebook's solution for {name!r} differs from exercises.solutions.solution_{name}"


def _stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("name", ex.list_exercises())
def test_unwritten_exercise_says_so(name: str) -> None:
    result = ex.EXERCISES[name]["grade"](_stub)
    assert not result.passed and "NotImplementedError" in result.message


def test_flip_without_flipping_shows_expected_and_got() -> None:
    def no_flip(x, w):
        return F.conv1d(x.view(1, 1, -1), w.view(1, 1, -1), padding=len(w) - 1).view(-1)

    result = ex.grade_flip(no_flip)
    assert not result.passed
    assert "the seed's example" in result.message and "values differ" in result.message
    text = str(result)
    assert "expected: tensor of shape (6,): [1, 3, 4, 7, 4, 2]" in text and "got:" in text


def test_output_length_without_dilation_names_the_case() -> None:
    result = ex.grade_output_length(lambda length, kernel, stride=1, padding=0, dilation=1: (length + 2 * padding - kernel) // stride + 1)
    assert not result.passed and "dilation=4" in result.message and "expected 92, got 98" in result.message


def test_output_length_float_is_refused() -> None:
    result = ex.grade_output_length(lambda length, kernel, stride=1, padding=0, dilation=1: (length - kernel) / stride + 1.0)
    assert not result.passed and "expected an int" in result.message


def test_centered_padding_is_not_causal() -> None:
    def centered(x, w, dilation=1):
        return F.conv1d(x, w, dilation=dilation, padding="same")

    result = ex.grade_causal_conv(centered)
    assert not result.passed and "not causal" in result.message and "hint" in str(result)


def test_conv_that_ignores_stride_reports_shapes() -> None:
    def no_stride(x, w, stride=1, padding=0, dilation=1):
        return F.conv1d(x, w, padding=padding, dilation=dilation)

    result = ex.grade_conv_output(no_stride)
    assert not result.passed and "stride 2" in result.message and "wrong shape" in result.message


def test_rectangular_window_lowpass_fails_the_stop_band() -> None:
    result = ex.grade_lowpass(lambda c, sr, n: make_lowpass_fir(c, sr, n, window="rectangular"))
    assert not result.passed and "stop band" in result.message and "at most -40 dB" in result.message


def test_lowpass_with_wrong_length_or_type() -> None:
    assert "expected 101 taps" in ex.grade_lowpass(lambda c, sr, n: make_lowpass_fir(c, sr, n)[:-1]).message
    assert "expected a 1-D tensor" in ex.grade_lowpass(lambda c, sr, n: [0.0] * n).message


def test_lowpass_alone_is_not_a_bandpass() -> None:
    result = ex.grade_bandpass(lambda lo, hi, sr, n: make_lowpass_fir(hi, sr, n))
    assert not result.passed and "below the band" in result.message


def test_subtracting_lowpasses_is_also_accepted() -> None:
    result = ex.grade_bandpass(lambda lo, hi, sr, n: make_lowpass_fir(hi, sr, n) - make_lowpass_fir(lo, sr, n))
    assert result.passed, str(result)


def test_not_a_function() -> None:
    assert not ex.grade_flip(42).passed


def test_result_display() -> None:
    r = ex.ExerciseResult("demo", False, "case 'x' failed", ["expected: 1", "got: <2>"])
    assert not r and str(r).startswith("[FAIL] demo") and "&lt;2&gt;" in r._repr_html_()
    assert torch.tensor(1)  # keep torch import used


# ---- Chapter 6 (raw-waveform CNN)


def test_chapter_6_has_its_exercises() -> None:
    assert set(ex.list_exercises(6)) >= {"m5_output_length", "collate", "noise_at_snr", "confusion_matrix", "center_frequency",
                                         "m5_masked_average", "rt60"}


def test_m5_length_without_pool_floor_names_the_case() -> None:
    def no_first_layer(length):  # forgets the long first convolution
        n = length
        for _ in range(3):
            n = n // 4
        return n

    result = ex.grade_m5_output_length(no_first_layer)
    assert not result.passed and "length=8000" in result.message and "expected 30, got 125" in result.message


def test_collate_padding_at_the_start_is_refused() -> None:
    def pad_front(batch):
        lengths = torch.tensor([w.shape[-1] for w, _ in batch])
        out = torch.zeros(len(batch), 1, int(lengths.max()))
        for i, (w, _) in enumerate(batch):
            out[i, :, out.shape[-1] - w.shape[-1]:] = w
        return out, torch.tensor([y for _, y in batch]), lengths

    result = ex.grade_collate(pad_front)
    assert not result.passed and "different lengths" in result.message and "waveforms: values differ" in result.message


def test_collate_float_lengths_are_refused() -> None:
    def float_lengths(batch):
        w, y, n = sol.solution_collate(batch)
        return w, y, n.float()

    assert "lengths: expected dtype torch.int64" in ex.grade_collate(float_lengths).message


def test_noise_with_amplitude_instead_of_power_ratio() -> None:
    def amplitude(x, n, snr_db):
        return x + (x.pow(2).mean() / n.pow(2).mean()).sqrt() * 10 ** (-snr_db / 10) * n

    result = ex.grade_noise_at_snr(amplitude)
    assert not result.passed and "snr_db=20.0" in result.message and "power" in str(result)


def test_transposed_confusion_matrix_fails_on_the_asymmetric_case() -> None:
    result = ex.grade_confusion_matrix(lambda p, t, k: sol.solution_confusion_matrix(t, p, k))
    assert not result.passed and "values differ" in result.message


def test_center_frequency_in_bins_not_hz() -> None:
    result = ex.grade_center_frequency(lambda k, sr, n_fft=512: float(torch.fft.rfft(k, n=n_fft).abs().argmax()))
    assert not result.passed and "Hz" in result.message and "k * sr / n_fft" in str(result)


def test_new_derivation_exercises_catch_the_usual_mistakes() -> None:
    import math

    import torch

    from audiomap_lib.exercises import (
        grade_attention_entropy,
        grade_half_life_steps,
        grade_positional_shift,
        grade_textbook_update_gate,
    )
    from audiomap_lib.exercises.solutions import solution_positional_shift, solution_textbook_update_gate

    # PyTorch's gate without the sign flip is z, not 1 - z
    unflipped = grade_textbook_update_gate(lambda *w: tuple(-t for t in solution_textbook_update_gate(*w)))
    assert not unflipped and "1 - z" in unflipped.message
    # rounding down gives a state still above one half
    assert not grade_half_life_steps(lambda z: math.floor(math.log(0.5) / math.log(z)))
    # the inverse rotation (the transpose) moves backwards in time
    wrong_way = grade_positional_shift(lambda k, d: solution_positional_shift(k, d).T.contiguous())
    assert not wrong_way and "PE[t + k]" in wrong_way.message
    # 0 * log 0 computed naively gives NaN on padding
    naive = grade_attention_entropy(lambda w, m: torch.exp(-(w * w.log()).sum(-1)))
    assert not naive


def test_style_exercises_catch_the_usual_mistakes() -> None:
    import scipy.stats
    import torchaudio.transforms as T

    from audiomap_lib.exercises import (
        grade_envelope_kurtosis,
        grade_gram_matrix,
        grade_inconsistency,
        grade_receptive_field_ms,
        grade_spectral_convergence,
        grade_style_loss,
    )
    from audiomap_lib.exercises.solutions import solution_inconsistency
    from audiomap_lib.spectral import compute_griffin_lim

    # a Gram without the average over positions, and the transposed product (positions x positions)
    assert not grade_gram_matrix(lambda f: f @ f.T)
    wrong_side = grade_gram_matrix(lambda f: f.T @ f / f.shape[1])
    assert not wrong_side and "shape" in wrong_side.message
    # a mean instead of a sum of squares
    assert not grade_style_loss(lambda f, g: ((f @ f.T / f.shape[1] - g) ** 2).mean())
    # excess kurtosis (Fisher's, minus 3) is not what the texture statistics use
    assert not grade_envelope_kurtosis(lambda e: torch.from_numpy(scipy.stats.kurtosis(e.numpy(), axis=1)))
    # comparing magnitudes only (a consistent magnitude can still carry inconsistent phases), and no normalisation
    def _nearest(x: torch.Tensor, n: int, h: int) -> torch.Tensor:
        w = torch.hann_window(n, dtype=x.real.dtype)
        return torch.stft(torch.istft(x, n, h, window=w), n, h, window=w, return_complex=True)

    assert not grade_inconsistency(lambda x, n, h: float((x.abs() - _nearest(x, n, h).abs()).norm() / x.abs().norm()))
    assert not grade_inconsistency(lambda x, n, h: float((x - _nearest(x, n, h)).abs().norm()))
    # counting kernel_size hops instead of kernel_size - 1
    assert not grade_receptive_field_ms(lambda k, n, h, sr: 1000 * (k * h + n) / sr)
    # a mean over frames of per-frame convergences
    assert not grade_spectral_convergence(lambda t, e: float(((t - e).norm(dim=0) / t.norm(dim=0)).mean()))
    # a sound a whole number of hops long is consistent, and Griffin-Lim lowers the inconsistency of a random-phase start
    x = torch.sin(torch.arange(4096) * 0.05) * torch.linspace(0, 1, 4096) + 0.05 * torch.randn(4096, generator=torch.Generator().manual_seed(0))
    spec = torch.stft(x.double(), 256, 64, window=torch.hann_window(256, dtype=torch.float64), return_complex=True)
    assert solution_inconsistency(spec, 256, 64) < 1e-10
    phase = torch.exp(2j * torch.pi * torch.rand(spec.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    start = solution_inconsistency(spec.abs() * phase, 256, 64)
    y = compute_griffin_lim(spec.abs(), 256, 64, n_iter=16, init_phase=phase, length=4096)
    after = solution_inconsistency(spec.abs() * torch.exp(1j * torch.stft(
        y, 256, 64, window=torch.hann_window(256, dtype=torch.float64), return_complex=True).angle()), 256, 64)
    assert after < 0.5 * start, (start, after)
    # k plain Griffin-Lim steps from zero phase are torchaudio's GriffinLim without momentum
    mag = spec.abs().float()
    ref = T.GriffinLim(n_fft=256, hop_length=64, n_iter=8, power=1.0, momentum=0.0, rand_init=False, length=4096)(mag)
    ours = compute_griffin_lim(mag, 256, 64, n_iter=8, init_phase=torch.ones(mag.shape, dtype=torch.complex64), length=4096)
    torch.testing.assert_close(ours.float(), ref, rtol=1e-3, atol=1e-4)


def test_chapter_1_and_2_exercises_catch_the_usual_mistakes() -> None:
    import math

    import numpy as np

    from audiomap_lib.digital import encode_mu_law
    from audiomap_lib.exercises import (
        grade_alias_frequency,
        grade_bin_frequencies,
        grade_frame_count,
        grade_hz_to_mel_htk,
        grade_inverse_dft,
        grade_mu_law_compress,
        grade_overlap_add,
        grade_pcm16_to_float,
        grade_quantization_snr_db,
        grade_quantize,
    )
    from audiomap_lib.exercises.solutions import solution_mu_law_compress

    # the tone's own frequency modulo sr, without folding at sr / 2
    assert not grade_alias_frequency(lambda f, sr: f % sr)
    # dividing by 32767 maps -32768 below -1
    assert not grade_pcm16_to_float(lambda x: torch.from_numpy(x.astype(np.float32) / 32767))
    # clamping to +1 gives 2**bits + 1 levels
    assert not grade_quantize(lambda x, b: (torch.round(x / (2 / 2**b)) * (2 / 2**b)).clamp(-1, 1))
    # the rounded rule is not the exact value
    assert not grade_quantization_snr_db(lambda b: 6 * b + 1.76)
    # the natural log without the normalisation by log(1 + mu)
    assert not grade_mu_law_compress(lambda x, mu=255: torch.sign(x) * torch.log1p(mu * x.abs()))
    # rounded to codes, the solution is encode_mu_law's companding
    x = torch.linspace(-1, 1, 201)
    for mu in (255, 15):
        codes = torch.floor((solution_mu_law_compress(x.double(), mu) + 1) / 2 * mu + 0.5).long()
        assert torch.equal(codes, encode_mu_law(x, mu))
    # forgetting the centre padding
    assert not grade_frame_count(lambda n, f, h, center=True: 1 + (n - f) // h)
    # n_fft bins instead of n_fft // 2 + 1
    wrong_bins = grade_bin_frequencies(lambda n, sr: torch.arange(n, dtype=torch.float64) * sr / n)
    assert not wrong_bins and "shape" in wrong_bins.message
    # one copy of the window instead of the sum of the copies that overlap
    assert not grade_overlap_add(lambda w, hop: w[:hop].double())
    # the copies shifted by hop_length - 1 (off by one)
    assert not grade_overlap_add(lambda w, hop: torch.stack([w.double()[r::hop - 1].sum() for r in range(hop)]))
    def inverse(X: torch.Tensor, n: int, sign: float, doubled: str) -> torch.Tensor:
        k = torch.arange(n // 2 + 1, dtype=torch.float64)
        weight = {"none": torch.ones_like(k), "all but 0": torch.where(k == 0, 1.0, 2.0),
                  "right": torch.where((k == 0) | ((n % 2 == 0) & (k == n // 2)), 1.0, 2.0)}[doubled]
        basis = torch.exp(sign * 2j * math.pi * torch.arange(n, dtype=torch.float64)[:, None] * k[None, :] / n)
        return (basis @ (weight * X.to(torch.complex128))).real / n

    assert grade_inverse_dft(lambda X, n: inverse(X, n, +1, "right"))
    # every bin counted once: the mirrored half of the spectrum forgotten
    assert not grade_inverse_dft(lambda X, n: inverse(X, n, +1, "none"))
    # the last bin of an even N doubled too (right only for odd N)
    assert not grade_inverse_dft(lambda X, n: inverse(X, n, +1, "all but 0"))
    # the forward transform's sign
    assert not grade_inverse_dft(lambda X, n: inverse(X, n, -1, "right"))
    # the natural log
    assert not grade_hz_to_mel_htk(lambda f: 2595 * torch.log(1 + f / 700))
    assert math.isclose(float(sol.solution_hz_to_mel_htk(torch.tensor([1000.0]))[0]), 1000.0, rel_tol=1e-3)


def test_clipping_each_gradient_on_its_own_names_the_failing_case() -> None:
    def per_tensor(grads, max_norm):
        return [g * min(1.0, max_norm / (float(g.norm()) + 1e-6)) for g in grads]

    result = ex.grade_clip_gradients(per_tensor)
    assert not result.passed and "two large gradients" in result.message and "gradient 0" in result.message


def test_ch6_derivation_exercises_catch_the_usual_mistakes() -> None:
    plain_mean = ex.grade_m5_masked_average(lambda f, lengths: f.mean(-1))  # counts the padding steps
    assert not plain_mean.passed and "values differ" in plain_mean.message
    counts_padding = ex.grade_m5_masked_average(lambda f, lengths: f.sum(-1) / f.shape[-1])
    assert not counts_padding.passed

    def amplitude_not_energy(rir: torch.Tensor, sr: int) -> float:  # sums |h| instead of h^2
        energy = rir.double().abs().flip(0).cumsum(0).flip(0)
        edc = 10 * torch.log10(energy / energy[0])
        keep = (edc <= -5) & (edc >= -25)
        t = torch.arange(len(rir), dtype=torch.float64)[keep] / sr
        slope = ((t - t.mean()) * (edc[keep] - edc[keep].mean())).sum() / (t - t.mean()).pow(2).sum()
        return float(-60 / slope)

    assert not ex.grade_rt60(amplitude_not_energy).passed
    assert not ex.grade_rt60(lambda rir, sr: len(rir) / sr).passed  # the response's length is not its T60
    assert "seconds" in ex.grade_rt60(lambda rir, sr: "long").message


def test_ch3_derivation_exercises_catch_the_usual_mistakes() -> None:
    no_fold = ex.grade_aliased_frequency(lambda f, sr, stride: f % (sr / stride))  # forgets the fold at the new Nyquist
    assert not no_fold.passed and "expected 1000 Hz" in no_fold.message
    assert not ex.grade_aliased_frequency(lambda f, sr, stride: f).passed  # no aliasing at all
    from audiomap_lib.conv import fft_convolve

    def too_short(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:  # one sample less: the last value wraps
        n = len(x) + len(w) - 2
        return fft_convolve(torch.nn.functional.pad(x, (0, n - len(x))), torch.nn.functional.pad(w, (0, n - len(w))),
                            circular=True)

    result = ex.grade_linear_from_circular(too_short)
    assert not result.passed and "wrong shape" in result.message
