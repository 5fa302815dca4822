"""Every public entry point under hostile input (Hypothesis).

The property, for each entry point and each of its arguments: replace that argument of a valid
call by a generated value (other dtypes, NumPy vs torch, NaN/Inf, empty, wrong rank, bools,
strings, numpy integers, negative or zero sizes ...). Then either

* the value is one a correct function must accept (e.g. ``np.int64(16)`` for ``n_fft``): the call
  returns a result that passes the entry point's own check (finite, right shape and dtype);
* or it must be refused: the call raises ``ValueError`` or ``TypeError`` whose message names the
  argument. Any other exception is an "obscure" failure; returning is a "silent" one;
* or either outcome is fine (``None`` below), but an error must still be clear.

Entry points: io, signals, digital, spectral (Chapters 1-2), conv (3), rnn (4), attention (5),
augment and the metrics (4-6), gan (7), the MIDI events and melodies of data.instruments and data.midi, and style (8); the classifiers are in ``tests/test_model_inputs.py``, files and
downloads in ``tests/test_io.py`` and ``tests/test_download_faults.py``.

Settings: ``HYPOTHESIS_PROFILE=ci`` (the default here, 25 examples per argument) or ``deep``.

The tally (good / obscure / silent / over-strict per module, every value of every pool):
``.venv/bin/python tests/test_hostile_inputs.py``.
"""
from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiomap_lib import attention, augment, conv, digital, gan, io, rnn, signals, spectral, style, training
from audiomap_lib.data import instruments, midi
from audiomap_lib.data.midi import SOUNDFONTS, list_soundfonts
from audiomap_lib.training import metrics, seeds

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

Verdict = bool | None  # True: must be accepted; False: must be refused; None: either


# ---------------------------------------------------------------------------
# hostile values, each with a judge saying whether a correct function accepts it


def _is_real_number(v: Any) -> bool:
    return not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, float, np.integer, np.floating))


def _is_int(v: Any) -> bool:
    return not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, np.integer))


ODD_VALUES = [None, True, False, "16", b"1", [], [16], (16,), 1j, float("nan"), float("inf"), float("-inf"),
              torch.tensor(16), np.array([16]), object()]


@dataclass
class Arg:
    """One argument: where its hostile values come from and which of them are valid."""

    values: st.SearchStrategy
    accepts: Callable[[Any], Verdict]


def int_arg(good: list[int], low: int = 1, high: int | None = None, none_ok: bool = False) -> Arg:
    """An integer argument; ``good`` are values valid with the other arguments of the call."""
    pool = good + [low - 1, low - 7, 2.5, float(good[0])] + ODD_VALUES
    pool += [np.int64(good[0]), np.int32(good[-1]), np.float64(good[0])]

    def accepts(v: Any) -> Verdict:
        if v is None and none_ok:
            return True
        if not _is_int(v):
            return False
        if v < low or (high is not None and v > high):
            return False
        return True if int(v) in good else None

    return Arg(st.sampled_from(pool), accepts)


def sr_arg(good: list[int]) -> Arg:
    """A sample rate in Hz: an int; a float that is a whole number may be taken as one."""
    base = int_arg(good)

    def accepts(v: Any) -> Verdict:
        if isinstance(v, (float, np.floating)) and not isinstance(v, bool) and math.isfinite(v) and float(v).is_integer():
            return None if v > 0 else False
        return base.accepts(v)

    return Arg(base.values, accepts)


def float_arg(good: list[float], low: float | None = None, high: float | None = None,
              low_open: bool = False, high_open: bool = False, none_ok: bool = False, tensor_ok: bool = False) -> Arg:
    """A real-number argument with an allowed range (open or closed at each end)."""
    pool: list[Any] = list(good) + [np.float32(good[0]), np.float64(good[-1]), np.int64(1)] + ODD_VALUES
    for bound in (low, high):
        if bound is not None:
            pool += [bound, bound - 1.0, bound + 1e-3, bound - 1e-3, -bound - 1.0]

    def accepts(v: Any) -> Verdict:
        if v is None and none_ok:
            return True
        if tensor_ok and isinstance(v, (torch.Tensor, np.ndarray)):
            return None
        if not _is_real_number(v) or not math.isfinite(float(v)):
            return False
        x = float(v)
        if low is not None and (x < low or (low_open and x == low)):
            return False
        if high is not None and (x > high or (high_open and x == high)):
            return False
        return True if any(x == g for g in good) else None

    return Arg(st.sampled_from(pool), accepts)


def choice_arg(good: list[str]) -> Arg:
    pool = good + [g.upper() for g in good] + ["nonsense", "", 3] + ODD_VALUES[:6]
    return Arg(st.sampled_from(pool), lambda v: True if v in good else (None if isinstance(v, str) and v.lower() in good else False))


@st.composite
def arrays(draw: Any, ranks: tuple[int, ...], good_lengths: tuple[int, ...], low: float = -1.0, high: float = 1.0) -> Any:
    """A NumPy array or torch tensor of some dtype, rank and length, maybe with NaN/Inf."""
    dtype = draw(st.sampled_from(["float32", "float64", "float16", "int16", "int32", "uint8", "bool", "complex64"]))
    rank = draw(st.sampled_from(sorted({*ranks, 0, 1, 2, 3})))
    length = draw(st.sampled_from([*good_lengths, 0, 1, 2]))
    shape = tuple([draw(st.sampled_from([1, 2]))] * (rank - 1) + [length]) if rank else ()
    data = np.random.default_rng(draw(st.integers(0, 2**16))).uniform(low, high, size=shape)
    if shape and draw(st.booleans()) and data.size:
        data.flat[draw(st.integers(0, data.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if dtype in ("int16", "int32", "uint8"):
        data = np.nan_to_num(data * 100).astype(dtype)
    else:
        data = data.astype(dtype)
    return torch.from_numpy(np.ascontiguousarray(data)) if draw(st.booleans()) else data


def waveform_arg(ranks: tuple[int, ...] = (1, 2), good_lengths: tuple[int, ...] = (400,), low: float = -1.0,
                 high: float = 1.0, strict_lengths: bool = False) -> Arg:
    """A waveform: real floats, finite, of an allowed rank and at least one sample."""

    def accepts(v: Any) -> Verdict:
        if not isinstance(v, (np.ndarray, torch.Tensor)):
            return False
        t = torch.as_tensor(v)
        if not t.is_floating_point() or t.ndim not in ranks or t.numel() == 0 or t.shape[-1] == 0:
            return False
        if not bool(torch.isfinite(t).all()):
            return False
        if t.shape[-1] in good_lengths:
            return True
        return False if strict_lengths else None

    return Arg(arrays(ranks, good_lengths, low, high) | st.sampled_from(ODD_VALUES), accepts)


def _finite_tensor(out: Any) -> None:
    assert isinstance(out, torch.Tensor), type(out)
    if out.is_floating_point() or out.is_complex():
        assert bool(torch.isfinite(out).all()), "non-finite values in the result"


@dataclass
class Entry:
    """An entry point: a valid call, its arguments' hostile values, a check of its results."""

    fn: Callable[..., Any]
    valid: dict[str, Any]
    args: dict[str, Arg]
    check: Callable[[Any, dict[str, Any]], None] = field(default=lambda out, kw: _finite_tensor(out))


W = torch.sin(torch.linspace(0, 60, 400)) * 0.5  # a valid mono waveform (400 samples)


def _shape_kept(out: Any, kw: dict[str, Any]) -> None:
    _finite_tensor(out)
    assert tuple(out.shape) == tuple(torch.as_tensor(kw["waveform"]).shape)
    assert out.dtype == torch.float32


def _number(out: Any, kw: dict[str, Any]) -> None:
    assert isinstance(out, (int, float)) and math.isfinite(out), out


ENTRIES: dict[str, Entry] = {
    # io
    "io.check_waveform": Entry(io.check_waveform, {"x": W, "name": "x"}, {"x": waveform_arg()}),
    "io.check_mono": Entry(io.check_mono, {"waveform": W}, {"waveform": waveform_arg()}),
    "io.to_mono": Entry(io.to_mono, {"waveform": W}, {"waveform": waveform_arg()}),
    "io.compute_rms": Entry(io.compute_rms, {"waveform": W}, {"waveform": waveform_arg(low=-1e30, high=1e30)}),
    "io.normalize_peak": Entry(io.normalize_peak, {"waveform": W, "peak": 0.99},
                               {"waveform": waveform_arg(low=-1e30, high=1e30),
                                "peak": float_arg([0.5, 0.99, 1.0], 0.0, 1.0, low_open=True)}, _shape_kept),
    "io.normalize_rms": Entry(io.normalize_rms, {"waveform": W, "rms": 0.1},
                              {"waveform": waveform_arg(low=-1e30, high=1e30),
                               "rms": float_arg([0.05, 0.1], 0.0, None, low_open=True)}, _shape_kept),
    "io.pad_or_crop": Entry(io.pad_or_crop, {"waveform": W, "length": 500},
                            {"waveform": waveform_arg(ranks=(1, 2, 3)), "length": int_arg([100, 400, 500]),
                             "mode": choice_arg(["center", "start", "end"])}),
    "io.resample": Entry(io.resample, {"waveform": W, "orig_sr": 16000, "new_sr": 8000},
                         {"waveform": waveform_arg(), "orig_sr": sr_arg([16000, 8000]),
                          "new_sr": sr_arg([8000, 22050])}),
    "io.trim_silence": Entry(io.trim_silence, {"waveform": W, "sr": 16000},
                             {"waveform": waveform_arg(ranks=(1,)), "sr": sr_arg([16000, 8000]),
                              "threshold_db": float_arg([-40.0, -20.0], None, 0.0),
                              "frame_ms": float_arg([10.0, 5.0], 0.0, None, low_open=True),
                              "margin_ms": float_arg([0.0, 50.0], 0.0, None)}),
    "io.pcm_to_float": Entry(io.pcm_to_float, {"x": np.array([0, 100, -100], dtype=np.int16)},
                             {"x": Arg(arrays((1, 2), (3,)) | st.sampled_from(ODD_VALUES), lambda v: None)}),
    # signals
    "signals.make_time": Entry(signals.make_time, {"duration_s": 0.01, "sr": 8000},
                               {"duration_s": float_arg([0.01, 0.5], 0.0, None, low_open=True),
                                "sr": sr_arg([8000, 16000])}),
    "signals.make_sine": Entry(signals.make_sine, {"freq_hz": 440.0, "duration_s": 0.01, "sr": 8000},
                               {"freq_hz": float_arg([440.0, 5000.0, 0.0], 0.0, None),
                                "duration_s": float_arg([0.01, 0.02], 0.0, None, low_open=True),
                                "sr": sr_arg([8000, 16000]),
                                "amplitude": float_arg([0.5, 1.0, 0.0], None, None),
                                "phase": float_arg([0.0, 1.0, -3.0], None, None)}),
    "signals.make_chirp": Entry(signals.make_chirp, {"f0_hz": 100.0, "f1_hz": 3000.0, "duration_s": 0.01, "sr": 8000},
                                {"f0_hz": float_arg([100.0, 50.0, 0.0], 0.0, None),
                                 "f1_hz": float_arg([3000.0, 1000.0, 0.0], 0.0, None),
                                 "duration_s": float_arg([0.01], 0.0, None, low_open=True),
                                 "sr": sr_arg([8000, 16000]),
                                 "method": choice_arg(["linear", "exponential"])}),
    "signals.make_harmonic_tone": Entry(signals.make_harmonic_tone, {"f0_hz": 220.0, "duration_s": 0.01, "sr": 8000},
                                        {"f0_hz": float_arg([220.0, 110.0, 0.0], 0.0, None),
                                         "duration_s": float_arg([0.01], 0.0, None, low_open=True),
                                         "sr": sr_arg([8000, 16000]),
                                         "n_partials": int_arg([1, 4, 8]),
                                         "peak": float_arg([0.5, 1.0], 0.0, 1.0, low_open=True)}),
    "signals.make_noise": Entry(signals.make_noise, {"duration_s": 0.01, "sr": 8000},
                                {"duration_s": float_arg([0.01, 0.5], 0.0, None, low_open=True),
                                 "sr": sr_arg([8000, 16000]),
                                 "color": choice_arg(["white", "pink"]),
                                 "rms": float_arg([0.1, 0.2], 0.0, None, low_open=True),
                                 "seed": int_arg([0, 1, 123], low=0, none_ok=True)}),
    "signals.make_adsr_envelope": Entry(signals.make_adsr_envelope, {"duration_s": 1.0, "sr": 8000},
                                        {"duration_s": float_arg([1.0, 0.5], 0.0, None, low_open=True),
                                         "sr": sr_arg([8000, 16000]),
                                         "attack_s": float_arg([0.01, 0.0], 0.0, None),
                                         "decay_s": float_arg([0.1, 0.0], 0.0, None),
                                         "sustain": float_arg([0.7, 0.0, 1.0], 0.0, 1.0),
                                         "release_s": float_arg([0.2, 0.0], 0.0, None)}),
    "signals.make_fade": Entry(signals.make_fade, {"waveform": W, "sr": 8000},
                               {"waveform": waveform_arg(ranks=(1, 2)), "sr": sr_arg([8000, 16000]),
                                "fade_in_s": float_arg([0.01, 0.0], 0.0, None),
                                "fade_out_s": float_arg([0.01, 0.0], 0.0, None)}),
    # digital
    "digital.compute_alias_frequency": Entry(digital.compute_alias_frequency, {"freq_hz": 5000.0, "sr": 8000},
                                             {"freq_hz": float_arg([5000.0, 0.0, 3000.0], 0.0, None),
                                              "sr": sr_arg([8000, 16000])}, _number),
    "digital.quantize_uniform": Entry(digital.quantize_uniform, {"waveform": W, "bits": 8},
                                      {"waveform": waveform_arg(ranks=(1, 2, 3)), "bits": int_arg([1, 3, 8, 16], 1, 32),
                                       "dither": Arg(st.sampled_from([None, "tpdf", "TPDF", "rpdf", "", 3, True]),
                                                     lambda v: True if v in (None, "tpdf") else False),
                                       "seed": int_arg([0, 7], low=0, none_ok=True)}),
    "digital.downsample": Entry(digital.downsample, {"waveform": W, "sr": 16000, "factor": 2},
                                {"waveform": waveform_arg(ranks=(1, 2)), "sr": sr_arg([16000, 8000]),
                                 "factor": int_arg([2, 1, 4]), "n_taps": int_arg([101, 31])},
                                lambda out, kw: _finite_tensor(out[0])),
    "digital.compute_snr_db": Entry(digital.compute_snr_db, {"reference": W, "estimate": W * 0.9},
                                    {"reference": waveform_arg(), "estimate": waveform_arg()}, _number),
    "digital.compute_expected_quantization_snr_db": Entry(digital.compute_expected_quantization_snr_db, {"bits": 8},
                                                          {"bits": int_arg([1, 8, 16], 1, 64)}, _number),
    "digital.encode_mu_law": Entry(digital.encode_mu_law, {"waveform": W, "mu": 255},
                                   {"waveform": waveform_arg(ranks=(1, 2, 3)), "mu": int_arg([255, 15, 1])}),
    "digital.decode_mu_law": Entry(digital.decode_mu_law, {"codes": torch.arange(256), "mu": 255},
                                   {"mu": int_arg([255], 1)}),
    # spectral
    "spectral.seconds_to_samples": Entry(spectral.seconds_to_samples, {"seconds": 0.5, "sr": 16000},
                                         {"seconds": float_arg([0.5, 1.0], 0.0, None, low_open=True),
                                          "sr": sr_arg([16000, 8000])}, lambda out, kw: None),
    "spectral.make_window": Entry(spectral.make_window, {"length": 16},
                                  {"length": int_arg([16, 64, 1]), "kind": choice_arg(["hann", "hamming", "rectangular"])}),
    "spectral.frame_signal": Entry(spectral.frame_signal, {"waveform": W, "frame_length": 64, "hop_length": 16},
                                   {"waveform": waveform_arg(ranks=(1,)), "frame_length": int_arg([64, 32]),
                                    "hop_length": int_arg([16, 8])}),
    "spectral.compute_stft": Entry(spectral.compute_stft, {"waveform": W, "n_fft": 64, "hop_length": 16},
                                   {"waveform": waveform_arg(), "n_fft": int_arg([64, 32]),
                                    "hop_length": int_arg([16, 8])}),
    "spectral.compute_spectrogram": Entry(spectral.compute_spectrogram, {"waveform": W, "n_fft": 64, "hop_length": 16},
                                          {"waveform": waveform_arg(), "n_fft": int_arg([64, 32]),
                                           "hop_length": int_arg([16, 8]),
                                           "power": float_arg([1.0, 2.0], 0.0, None, low_open=True)}),
    "spectral.amplitude_to_db": Entry(spectral.amplitude_to_db, {"x": W.abs() + 0.01},
                                      {"x": waveform_arg(ranks=(1, 2, 3), low=0.0, high=2.0),
                                       "top_db": float_arg([80.0, 40.0], 0.0, None, low_open=True, none_ok=True),
                                       "amin": float_arg([1e-10, 1e-5], 0.0, None, low_open=True)}),
    "spectral.compute_fft_frequencies": Entry(spectral.compute_fft_frequencies, {"n_fft": 64, "sr": 16000},
                                              {"n_fft": int_arg([64, 32]), "sr": sr_arg([16000, 8000])}),
    "spectral.compute_mel_spectrogram": Entry(spectral.compute_mel_spectrogram,
                                              {"waveform": W, "sr": 16000, "n_fft": 128, "hop_length": 32, "n_mels": 16},
                                              {"waveform": waveform_arg(), "sr": sr_arg([16000, 8000]),
                                               "n_fft": int_arg([128, 64]), "hop_length": int_arg([32, 16]),
                                               "n_mels": int_arg([16, 8]),
                                               "f_min": float_arg([0.0, 50.0], 0.0, None)}),
    "spectral.compute_mfcc": Entry(spectral.compute_mfcc,
                                   {"waveform": W, "sr": 16000, "n_mfcc": 8, "n_fft": 128, "hop_length": 32, "n_mels": 16},
                                   {"waveform": waveform_arg(), "n_mfcc": int_arg([8, 4]),
                                    "n_mels": int_arg([16, 12])}),
    "spectral.hz_to_mel": Entry(spectral.hz_to_mel, {"freq_hz": 440.0},
                                {"freq_hz": float_arg([440.0, 0.0, 8000.0], None, None, tensor_ok=True),
                                 "scale": choice_arg(["htk", "slaney"])}),
    "spectral.mel_to_hz": Entry(spectral.mel_to_hz, {"mel": 500.0},
                                {"mel": float_arg([500.0, 0.0], None, None, tensor_ok=True), "scale": choice_arg(["htk", "slaney"])}),
}


# ---------------------------------------------------------------------------
# the from-scratch primitives of Chapters 3-5 and the augmentations and metrics of Chapters 4-6:
# tensors in every dtype, NumPy, lists, other ranks, empty, NaN; plus their size arguments


def tensor_arg(valid: torch.Tensor, kind: str = "real", none_ok: bool = False, sequence_ok: bool = False) -> Arg:
    """Variants of a valid tensor argument. ``kind="real"``: float64 must be accepted, integers
    may be (converted to float), bool and complex must be refused; ``"int"``: integer dtypes
    only; ``"bool"``: boolean masks only."""
    v = valid
    pool: list[Any] = [v.double(), v.numpy().copy(), v.tolist(), v[None], v.reshape(-1), v[..., :0], None, "x", 3, object()]
    if v.is_floating_point():
        nan = v.clone().reshape(-1)
        nan[0] = float("nan")
        pool += [(v * 10).round().to(torch.int64), v.to(torch.complex64), v > 0, nan.reshape(v.shape), v.half()]
    elif v.dtype == torch.bool:
        pool += [v.to(torch.int64), v.float()]
    else:
        pool += [v.float() + 0.5, v.bool(), v.to(torch.int32), v.numpy().astype(np.int64)]

    def accepts(x: Any) -> Verdict:
        if x is None:
            return True if none_ok else False
        if isinstance(x, list):
            return None if sequence_ok else False
        if isinstance(x, (np.ndarray, torch.Tensor)):
            t = torch.as_tensor(x)
            if t.dtype == torch.bool:
                return True if kind == "bool" and t.shape == v.shape else (None if kind == "bool" else False)
            if t.is_complex():
                return False
            if kind == "bool":
                return False
            if kind == "int":
                return False if t.is_floating_point() else (True if t.shape == v.shape else None)
            finite = bool(torch.isfinite(t).all())
            return True if finite and t.shape == v.shape and t.dtype in (torch.float32, torch.float64) else None
        return False

    return Arg(st.sampled_from(pool), accepts)


def _tensor_result(out: Any, kw: dict[str, Any]) -> None:
    """A tensor (or a tuple of them); finite when every input tensor was."""
    outs = out if isinstance(out, tuple) else (out,)
    finite_in = all(bool(torch.isfinite(torch.as_tensor(v)).all()) for v in kw.values()
                    if isinstance(v, (torch.Tensor, np.ndarray)) and not torch.as_tensor(v).dtype == torch.bool
                    and not torch.as_tensor(v).is_complex())
    for o in outs:
        assert isinstance(o, torch.Tensor), type(o)
        if finite_in and o.is_floating_point():
            assert bool(torch.isfinite(o).all()), "non-finite values from finite inputs"


def _fraction(out: Any, kw: dict[str, Any]) -> None:
    assert isinstance(out, float) and (math.isnan(out) or 0.0 <= out <= 1.0), out


def _padding_ok(v: Any) -> Verdict:
    if _is_int(v):
        return v >= 0
    if isinstance(v, str):
        return v in ("same", "causal", "valid")
    if isinstance(v, tuple):
        return len(v) == 2 and all(_is_int(p) and p >= 0 for p in v)
    return False


g = torch.Generator().manual_seed(0)
X1, K1 = torch.randn(40, generator=g), torch.randn(5, generator=g)
XC, WC, BC = torch.randn(2, 3, 20, generator=g), torch.randn(4, 3, 5, generator=g), torch.randn(4, generator=g)
HID, INP = 4, 3
XS, HS = torch.randn(2, INP, generator=g), torch.randn(2, HID, generator=g)
WIH3, WHH3, B3 = torch.randn(3 * HID, INP, generator=g), torch.randn(3 * HID, HID, generator=g), torch.randn(3 * HID, generator=g)
WIH1, WHH1 = torch.randn(HID, INP, generator=g), torch.randn(HID, HID, generator=g)
SEQ = torch.randn(2, 5, INP, generator=g)
WT = torch.randn(HID, HID + INP, generator=g)
Q, KK, V = torch.randn(2, 3, 8, generator=g), torch.randn(2, 4, 8, generator=g), torch.randn(2, 4, 6, generator=g)
MASK = torch.tensor([[True, True, False, False], [True, True, True, True]]).unsqueeze(1).expand(2, 3, 4).clone()
LENGTHS = torch.tensor([2, 4])
PRED, LAB = torch.tensor([0, 1, 2, 2]), torch.tensor([0, 2, 2, 1])
WB = torch.sin(torch.linspace(0, 60, 400)).repeat(2, 1, 1) * 0.5  # (2, 1, 400)
RIR = augment.make_room_impulse_response(0.1, 8000, generator=torch.Generator().manual_seed(0))  # (800,)

ENTRIES.update({
    # conv (Chapter 3)
    "conv.convolve_full": Entry(conv.convolve_full, {"x": X1, "w": K1},
                                {"x": tensor_arg(X1, sequence_ok=True), "w": tensor_arg(K1, sequence_ok=True)}, _tensor_result),
    "conv.correlate": Entry(conv.correlate, {"x": X1, "w": K1},
                            {"x": tensor_arg(X1, sequence_ok=True), "w": tensor_arg(K1, sequence_ok=True),
                             "mode": choice_arg(["valid", "full"])}, _tensor_result),
    "conv.conv1d": Entry(conv.conv1d, {"x": XC, "weight": WC, "bias": BC},
                         {"x": tensor_arg(XC), "weight": tensor_arg(WC), "bias": tensor_arg(BC, none_ok=True),
                          "stride": int_arg([1, 2, 3]), "dilation": int_arg([1, 2]), "groups": int_arg([1], high=1),
                          "padding": Arg(st.sampled_from([0, 2, (1, 3), "same", "causal", "valid", -1, (1,), "x", 2.5, None,
                                                          np.int64(1)]),
                                         _padding_ok)},
                         _tensor_result),
    "conv.conv1d_loop": Entry(conv.conv1d_loop, {"x": XC[..., :8], "weight": WC, "bias": BC},
                              {"x": tensor_arg(XC[..., :8]), "weight": tensor_arg(WC), "bias": tensor_arg(BC, none_ok=True),
                               "stride": int_arg([1, 2])}, _tensor_result),
    "conv.apply_fir": Entry(conv.apply_fir, {"waveform": X1, "kernel": K1},
                            {"waveform": tensor_arg(X1, sequence_ok=True), "kernel": tensor_arg(K1, sequence_ok=True),
                             "mode": choice_arg(["center", "causal"])}, _tensor_result),
    "conv.compute_frequency_response": Entry(conv.compute_frequency_response, {"kernel": K1, "sr": 8000},
                                             {"kernel": tensor_arg(K1, sequence_ok=True), "sr": sr_arg([8000, 16000]),
                                              "n_fft": int_arg([64, 4096])}, _tensor_result),
    "conv.make_moving_average": Entry(conv.make_moving_average, {"n": 5}, {"n": int_arg([1, 5, 9])}),
    "conv.make_lowpass_fir": Entry(conv.make_lowpass_fir, {"cutoff_hz": 1000.0, "sr": 8000, "n_taps": 31},
                                   {"cutoff_hz": float_arg([1000.0, 500.0], 0.0, 4000.0, low_open=True, high_open=True),
                                    "sr": sr_arg([8000, 16000]), "n_taps": int_arg([31, 11, 1]),
                                    "window": choice_arg(["hamming", "hann", "rectangular"])}),
    "conv.make_highpass_fir": Entry(conv.make_highpass_fir, {"cutoff_hz": 1000.0, "sr": 8000, "n_taps": 31},
                                    {"cutoff_hz": float_arg([1000.0, 500.0], 0.0, 4000.0, low_open=True, high_open=True),
                                     "sr": sr_arg([8000, 16000]), "n_taps": int_arg([31, 11])}),
    "conv.make_echo_kernel": Entry(conv.make_echo_kernel, {"delay_s": 0.01, "gain": 0.5, "sr": 8000},
                                   {"delay_s": float_arg([0.01, 0.002], 0.0, None, low_open=True),
                                    "gain": float_arg([0.5, -0.3, 0.0], None, None), "sr": sr_arg([8000, 16000])}),
    "conv.compute_conv_output_length": Entry(conv.compute_conv_output_length, {"length": 100, "kernel": 5},
                                             {"length": int_arg([100, 5]), "kernel": int_arg([5, 1]),
                                              "stride": int_arg([1, 2]), "dilation": int_arg([1, 3])},
                                             lambda out, kw: None if isinstance(out, int) and out >= 1 else pytest.fail(repr(out))),
    "conv.compute_padding": Entry(conv.compute_padding, {"kernel": 5},
                                  {"kernel": int_arg([5, 1]), "stride": int_arg([1], high=1), "dilation": int_arg([1, 2])},
                                  lambda out, kw: None if isinstance(out, tuple) and min(out) >= 0 else pytest.fail(repr(out))),
    # rnn (Chapter 4)
    "rnn.rnn_cell": Entry(rnn.rnn_cell, {"x": XS, "h": HS, "w_ih": WIH1, "w_hh": WHH1},
                          {"x": tensor_arg(XS), "h": tensor_arg(HS), "w_ih": tensor_arg(WIH1), "w_hh": tensor_arg(WHH1)},
                          _tensor_result),
    "rnn.gru_cell": Entry(rnn.gru_cell, {"x": XS, "h": HS, "w_ih": WIH3, "w_hh": WHH3, "b_ih": B3, "b_hh": B3},
                          {"x": tensor_arg(XS), "h": tensor_arg(HS), "w_ih": tensor_arg(WIH3), "w_hh": tensor_arg(WHH3),
                           "b_ih": tensor_arg(B3, none_ok=True), "b_hh": tensor_arg(B3, none_ok=True)}, _tensor_result),
    "rnn.gru_forward": Entry(rnn.gru_forward, {"x": SEQ, "h0": None, "w_ih": WIH3, "w_hh": WHH3},
                             {"x": tensor_arg(SEQ), "h0": tensor_arg(HS, none_ok=True), "w_ih": tensor_arg(WIH3),
                              "w_hh": tensor_arg(WHH3)}, _tensor_result),
    "rnn.rnn_forward": Entry(rnn.rnn_forward, {"x": SEQ, "h0": None, "w_ih": WIH1, "w_hh": WHH1},
                             {"x": tensor_arg(SEQ), "h0": tensor_arg(HS, none_ok=True), "w_ih": tensor_arg(WIH1)},
                             _tensor_result),
    "rnn.gru_cell_textbook": Entry(rnn.gru_cell_textbook, {"x": XS, "h": HS, "w_z": WT, "w_r": WT, "w_h": WT},
                                   {"x": tensor_arg(XS), "h": tensor_arg(HS), "w_z": tensor_arg(WT),
                                    "b_z": tensor_arg(torch.zeros(HID), none_ok=True)}, _tensor_result),
    # attention (Chapter 5)
    "attention.make_length_mask": Entry(attention.make_length_mask, {"lengths": LENGTHS, "max_len": 6},
                                        {"lengths": tensor_arg(LENGTHS, kind="int", sequence_ok=True),
                                         "max_len": int_arg([6, 4], low=4, none_ok=True)},
                                        lambda out, kw: None if out.dtype == torch.bool else pytest.fail(str(out.dtype))),
    "attention.masked_softmax": Entry(attention.masked_softmax, {"scores": Q @ KK.transpose(1, 2), "mask": MASK},
                                      {"scores": tensor_arg(Q @ KK.transpose(1, 2)), "mask": tensor_arg(MASK, kind="bool", none_ok=True),
                                       "dim": int_arg([-1, 2], low=-3, high=2)}, _tensor_result),
    "attention.compute_masked_mean": Entry(attention.compute_masked_mean, {"x": SEQ, "lengths": LENGTHS},
                                           {"x": tensor_arg(SEQ), "lengths": tensor_arg(LENGTHS, kind="int", sequence_ok=True)},
                                           _tensor_result),
    "attention.scaled_dot_product_attention": Entry(attention.scaled_dot_product_attention,
                                                    {"query": Q, "key": KK, "value": V, "mask": MASK},
                                                    {"query": tensor_arg(Q), "key": tensor_arg(KK), "value": tensor_arg(V),
                                                     "mask": tensor_arg(MASK, kind="bool", none_ok=True)}, _tensor_result),
    # augment (Chapter 6)
    "augment.add_noise_at_snr": Entry(augment.add_noise_at_snr, {"waveform": WB, "snr_db": 10.0},
                                      {"waveform": waveform_arg(ranks=(1, 2, 3)),
                                       "snr_db": float_arg([10.0, -5.0, 0.0], None, None, tensor_ok=True)}, _tensor_result),
    "augment.shift_waveform": Entry(augment.shift_waveform, {"waveform": WB, "shift": 3},
                                    {"waveform": waveform_arg(ranks=(1, 2, 3)),
                                     "shift": Arg(st.sampled_from([3, -3, 0, 1000, np.int64(2), 2.5, True, None, "3"]),
                                                  lambda v: True if _is_int(v) else False)},
                                    _tensor_result),
    "augment.change_speed": Entry(augment.change_speed, {"waveform": WB, "factor": 1.1, "sr": 16000},
                                  {"waveform": waveform_arg(ranks=(1, 2, 3)), "factor": float_arg([1.1, 0.9, 1.0], 0.25, 4.0),
                                   "sr": sr_arg([16000, 8000])}, _tensor_result),
    "augment.band_limit": Entry(augment.band_limit, {"waveform": WB, "sr": 16000, "low_sr": 8000},
                                {"waveform": waveform_arg(ranks=(1, 2, 3)), "sr": sr_arg([16000, 22050]),
                                 "low_sr": sr_arg([8000, 6000])}, _tensor_result),
    "augment.stretch_time": Entry(augment.stretch_time, {"waveform": WB, "rate": 0.8},
                                  {"waveform": waveform_arg(ranks=(1, 2, 3)), "rate": float_arg([0.8, 1.25], 0.25, 4.0),
                                   "n_fft": int_arg([256, 300], low=4, high=400), "hop_length": int_arg([32, 64], low=1, high=128)},
                                  lambda out, kw: _finite_tensor(out)),
    "augment.shift_pitch": Entry(augment.shift_pitch, {"waveform": WB, "factor": 1.2, "sr": 16000},
                                 {"waveform": waveform_arg(ranks=(1, 2, 3)), "factor": float_arg([1.2, 0.9, 1.0], 0.5, 2.0),
                                  "sr": sr_arg([16000, 8000])}, _tensor_result),
    "augment.make_room_impulse_response": Entry(augment.make_room_impulse_response, {"rt60_s": 0.05, "sr": 8000, "drr_db": 0.0},
                                                {"rt60_s": float_arg([0.05, 0.1], 0.0, 10.0, low_open=True),
                                                 "sr": sr_arg([8000, 16000]), "drr_db": float_arg([0.0, 10.0], -60.0, 60.0)},
                                                _tensor_result),
    "augment.reverberate": Entry(augment.reverberate, {"waveform": WB, "rir": RIR},
                                 {"waveform": waveform_arg(ranks=(1, 2, 3)), "rir": tensor_arg(RIR)}, _tensor_result),
    "augment.compute_decay_curve_db": Entry(augment.compute_decay_curve_db, {"rir": RIR}, {"rir": tensor_arg(RIR)},
                                            lambda out, kw: None),
    "augment.compute_rt60_s": Entry(augment.compute_rt60_s, {"rir": RIR, "sr": 8000}, {"rir": tensor_arg(RIR), "sr": sr_arg([8000, 16000])},
                                    _number),
    # metrics (Chapters 4-6)
    "metrics.compute_accuracy": Entry(metrics.compute_accuracy, {"predicted": PRED, "labels": LAB},
                                      {"predicted": tensor_arg(PRED, kind="int", sequence_ok=True),
                                       "labels": tensor_arg(LAB, kind="int", sequence_ok=True)}, _fraction),
    "metrics.compute_confusion_matrix": Entry(metrics.compute_confusion_matrix, {"predicted": PRED, "labels": LAB, "n_classes": 3},
                                              {"predicted": tensor_arg(PRED, kind="int", sequence_ok=True),
                                               "labels": tensor_arg(LAB, kind="int", sequence_ok=True),
                                               "n_classes": int_arg([3, 5], low=3)}, _tensor_result),
    "metrics.compute_per_class_accuracy": Entry(metrics.compute_per_class_accuracy, {"predicted": PRED, "labels": LAB, "n_classes": 3},
                                                {"predicted": tensor_arg(PRED, kind="int", sequence_ok=True),
                                                 "n_classes": int_arg([3, 4], low=3)}, lambda out, kw: None),
})

ENTRIES["attention.compute_sinusoidal_positions"] = Entry(
    attention.compute_sinusoidal_positions, {"n_positions": 10, "d_model": 8},
    {"n_positions": int_arg([10, 1], low=0), "d_model": int_arg([8, 2, 16], low=2),
     "base": float_arg([10000.0, 100.0], 1.0, None, low_open=True)}, _tensor_result)
_gt = torch.Generator().manual_seed(5)
_E, _F = 8, 12
LAYER = {"x": torch.randn(2, 4, _E, generator=_gt), "n_heads": 2,
         "in_proj_weight": torch.randn(3 * _E, _E, generator=_gt), "in_proj_bias": torch.randn(3 * _E, generator=_gt),
         "out_proj_weight": torch.randn(_E, _E, generator=_gt), "out_proj_bias": torch.randn(_E, generator=_gt),
         "linear1_weight": torch.randn(_F, _E, generator=_gt), "linear1_bias": torch.randn(_F, generator=_gt),
         "linear2_weight": torch.randn(_E, _F, generator=_gt), "linear2_bias": torch.randn(_E, generator=_gt),
         "norm1_weight": torch.ones(_E), "norm1_bias": torch.zeros(_E), "norm2_weight": torch.ones(_E),
         "norm2_bias": torch.zeros(_E), "mask": torch.tensor([[True, True, False, False], [True, True, True, True]])}
ENTRIES["attention.transformer_encoder_layer"] = Entry(
    attention.transformer_encoder_layer, LAYER,
    {"x": tensor_arg(LAYER["x"]), "n_heads": int_arg([2, 4, 1, 8], low=1),
     "in_proj_bias": tensor_arg(LAYER["in_proj_bias"], none_ok=True),
     "linear1_weight": tensor_arg(LAYER["linear1_weight"]), "norm1_weight": tensor_arg(LAYER["norm1_weight"]),
     "mask": tensor_arg(LAYER["mask"], kind="bool", none_ok=True),
     "norm_first": Arg(st.sampled_from([True, False, np.bool_(True), 1, 0, "yes", None]),
                       lambda v: isinstance(v, (bool, np.bool_))),
     "activation": choice_arg(["relu", "gelu"]), "eps": float_arg([1e-5, 1e-3], 0.0, None, low_open=True),
     "dropout": float_arg([0.0, 0.5], 0.0, 1.0, high_open=True)}, _tensor_result)
CORRECT = torch.tensor([True, False, True, True, False, True])


def _interval(out: Any, kw: dict[str, Any]) -> None:
    low, high = out
    assert 0.0 <= low <= high <= 1.0, out


ENTRIES.update({
    # comparisons over seeds (Chapters 4-7)
    "seeds.compute_bootstrap_interval": Entry(seeds.compute_bootstrap_interval, {"correct": CORRECT, "n_resamples": 200},
                                              {"correct": tensor_arg(CORRECT, kind="bool"),
                                               "n_resamples": int_arg([200, 500], low=100),
                                               "level": float_arg([0.95, 0.5], 0.0, 1.0, low_open=True, high_open=True)},
                                              _interval),
    "seeds.compute_sign_test_p": Entry(seeds.compute_sign_test_p, {"n_better": 13, "n_worse": 1},
                                       {"n_better": int_arg([13, 0, 2], low=0), "n_worse": int_arg([1, 0, 5], low=0)}, _number),
    "seeds.compute_spread": Entry(seeds.compute_spread, {"values": [0.5, 0.7]},
                                  {"values": Arg(st.sampled_from([[0.5, 0.7], (0.1,), [], [float("nan")], ["a"], [True], None, 3,
                                                                  [torch.ones(2)], [np.float64(0.2), 1]]),
                                                 lambda v: True if isinstance(v, (list, tuple)) and v and all(
                                                     _is_real_number(x) and math.isfinite(float(x)) for x in v) else False)},
                                  lambda out, kw: None),
})

PROBS = torch.softmax(torch.randn(6, 4, generator=g), dim=1)
EMB_A, EMB_B = torch.randn(12, 3, generator=g), torch.randn(10, 3, generator=g) + 1
WT1 = torch.randn(3, 2, 5, generator=g)
XG = 0.3 * torch.randn(2, 1, 400, generator=g)  # two clips of 400 samples (one 25 ms frame at 16 kHz)
XT = 0.3 * torch.randn(2, 1, 2048, generator=g)  # long enough for 150 bins either side of a quarter of the rate

ENTRIES.update({
    # Chapter 7
    "conv.conv_transpose1d": Entry(conv.conv_transpose1d, {"x": XC[..., :6], "weight": WT1, "stride": 2, "padding": 1},
                                   {"x": tensor_arg(XC[..., :6]), "weight": tensor_arg(WT1), "bias": tensor_arg(BC[:2], none_ok=True),
                                    "stride": int_arg([2, 1, 4]), "padding": int_arg([1, 0, 2], low=0),
                                    "output_padding": int_arg([0, 1], low=0, high=1)}, _tensor_result),
    "conv.compute_conv_transpose_output_length": Entry(
        conv.compute_conv_transpose_output_length, {"length": 16, "kernel": 25, "stride": 4, "padding": 11, "output_padding": 1},
        {"length": int_arg([16, 4]), "kernel": int_arg([25, 9]), "stride": int_arg([4, 2], low=2), "padding": int_arg([11, 0], low=0)},
        lambda out, kw: None if isinstance(out, int) and out >= 1 else pytest.fail(repr(out))),
    "gan.apply_phase_shuffle": Entry(gan.apply_phase_shuffle, {"x": XC, "radius": 2},
                                     {"x": tensor_arg(XC), "radius": int_arg([2, 0, 1], low=0, high=19)}, _tensor_result),
    "gan.make_latents": Entry(gan.make_latents, {"n": 3}, {"n": int_arg([3, 1]), "latent_dim": int_arg([100, 8])}),
    "gan.compute_inception_score": Entry(gan.compute_inception_score, {"probabilities": PROBS},
                                         {"probabilities": tensor_arg(PROBS), "splits": int_arg([1, 2, 3], high=6)},
                                         lambda out, kw: None if 1 - 1e-6 <= out[0] <= 4 + 1e-6 else pytest.fail(repr(out))),
    "gan.compute_class_histogram": Entry(gan.compute_class_histogram, {"probabilities": PROBS},
                                         {"probabilities": tensor_arg(PROBS)}, _tensor_result),
    "gan.compute_frechet_distance": Entry(gan.compute_frechet_distance, {"embeddings_a": EMB_A, "embeddings_b": EMB_B},
                                          {"embeddings_a": tensor_arg(EMB_A), "embeddings_b": tensor_arg(EMB_B)},
                                          lambda out, kw: None if isinstance(out, float) else pytest.fail(repr(out))),
    "gan.compute_nearest_neighbour_distances": Entry(gan.compute_nearest_neighbour_distances, {"queries": EMB_A},
                                                     {"queries": tensor_arg(EMB_A), "references": tensor_arg(EMB_B, none_ok=True)},
                                                     _tensor_result),
    "gan.compute_wasserstein_estimate": Entry(gan.compute_wasserstein_estimate,
                                              {"real_scores": EMB_A[:, 0], "fake_scores": EMB_B[:, 0]},
                                              {"real_scores": tensor_arg(EMB_A[:, 0]), "fake_scores": tensor_arg(EMB_B[:, 0])},
                                              _tensor_result),
    "gan.compute_spectral_features": Entry(gan.compute_spectral_features, {"clips": XG, "sample_rate_hz": 8000},
                                           {"clips": tensor_arg(XG), "sample_rate_hz": sr_arg([8000, 16000])},
                                           _tensor_result),
    "gan.compute_mean_spectrum_db": Entry(gan.compute_mean_spectrum_db, {"clips": XT, "sample_rate_hz": 8000},
                                          {"clips": tensor_arg(XT), "sample_rate_hz": sr_arg([8000, 16000])},
                                          lambda out, kw: None if len(out) == 2 else pytest.fail(repr(out))),
    "gan.compute_tone_level_db": Entry(gan.compute_tone_level_db, {"clips": XT, "sample_rate_hz": 8000, "f_hz": 2000.0},
                                       {"clips": tensor_arg(XT), "sample_rate_hz": sr_arg([8000, 16000])},
                                       lambda out, kw: None if isinstance(out, float) else pytest.fail(repr(out))),
    "gan.find_longest_run": Entry(gan.find_longest_run, {"corpus": "drums"}, {"corpus": choice_arg(["drums", "digits"])},
                                  lambda out, kw: None if out is None or out.is_file() else pytest.fail(repr(out))),
})



def midi_arg(good: list[int], low: int, high: int, refused: tuple[int, ...] = ()) -> Arg:
    """A MIDI number in ``[low, high]`` (pitch, velocity, program, channel); ``refused`` are in range but invalid."""
    base = int_arg(good, low, high)
    return Arg(base.values | st.sampled_from([high + 1, *refused]),
               lambda v: False if _is_int(v) and int(v) in refused else base.accepts(v))


def notes_arg(valid: list[Any], element_ok: Callable[[Any], bool], bad: list[Any]) -> Arg:
    """One value per note (``pitches``, ``durations_s``): a list, tuple or 1-D array as long as ``valid``."""
    pool = [valid, tuple(valid), np.array(valid), torch.tensor(valid), valid[:1], [], [valid], np.array([valid]),
            None, "ab", valid[0], *[[b, *valid[1:]] for b in bad]]

    def accepts(v: Any) -> Verdict:
        if isinstance(v, (np.ndarray, torch.Tensor)):
            if v.ndim != 1:
                return False
            v = v.tolist()
        return isinstance(v, (list, tuple)) and len(v) == len(valid) and all(element_ok(x) for x in v)

    return Arg(st.sampled_from(pool), accepts)


def _events(out: Any, kw: dict[str, Any]) -> None:
    assert isinstance(out, list) and out, out
    assert all(isinstance(t, float) and math.isfinite(t) and isinstance(m, bytes) and m[0] >= 0x80 for t, m in out), out


def _melody(out: Any, kw: dict[str, Any]) -> None:
    _finite_tensor(out)
    seconds = sum(float(d) for d in (kw["durations_s"].tolist() if hasattr(kw["durations_s"], "tolist") else kw["durations_s"]))
    assert out.dtype == torch.float32 and tuple(out.shape) == (round((seconds + instruments.RELEASE_S) * kw["sample_rate_hz"]),)


PITCHES = notes_arg([60, 64], lambda x: _is_int(x) and 0 <= x <= 127, [128, -1, 60.0, True, "60"])
DURATIONS = notes_arg([0.5, 0.25], lambda x: _is_real_number(x) and math.isfinite(x) and x > 0,
                      [0.0, -0.5, float("nan"), float("inf"), True, "0.5", None])
MIDI_ARGS = {"program": midi_arg([40, 0, 127], 0, 127), "velocity": midi_arg([80, 1, 127], 1, 127),
             "channel": midi_arg([0, 3, 15], 0, 15, refused=(9,))}  # 9: the drum channel
ENTRIES.update({
    # Chapter 8: MIDI messages of notes and melodies
    "instruments.make_note_events": Entry(instruments.make_note_events,
                                          {"pitch": 69, "velocity": 80, "program": 40, "start_s": 0.5, "duration_s": 1.0},
                                          {"pitch": midi_arg([69, 0, 127], 0, 127), **MIDI_ARGS,
                                           "start_s": float_arg([0.5, 0.0], 0.0, None),
                                           "duration_s": float_arg([1.0, 0.25], 0.0, None, low_open=True)}, _events),
    "instruments.make_melody_events": Entry(instruments.make_melody_events,
                                            {"pitches": [60, 64], "durations_s": [0.5, 0.25], "program": 40},
                                            {"pitches": PITCHES, "durations_s": DURATIONS, **MIDI_ARGS,
                                             "start_s": float_arg([0.0, 1.5], 0.0, None)}, _events),
})
if shutil.which("fluidsynth") is not None and "TimGM6mb" in list_soundfonts():  # the smallest SoundFont: fast to load
    tim = SOUNDFONTS["TimGM6mb"][0]
    ENTRIES["instruments.render_melody"] = Entry(
        instruments.render_melody,
        {"pitches": [69], "durations_s": [0.1], "program": 0, "soundfont": "TimGM6mb", "sample_rate_hz": 8000},
        {"pitches": notes_arg([69], lambda x: _is_int(x) and 0 <= x <= 127, [128, 69.0]),
         "durations_s": notes_arg([0.1], lambda x: _is_real_number(x) and math.isfinite(x) and x > 0, [0.0, float("nan")]),
         "program": midi_arg([0, 56], 0, 127), "velocity": midi_arg([100, 1], 1, 127),
         "sample_rate_hz": sr_arg([8000, 22050]),
         "soundfont": Arg(st.sampled_from(["TimGM6mb", tim, Path(tim), "timgm6mb", "Nonsense", "", None, 3, b"TimGM6mb",
                                           "/nonexistent/x.sf2", __file__]),
                          lambda v: v in ("TimGM6mb", tim, Path(tim)))},
        _melody)

FEATS = torch.randn(4, 9, generator=g)
GRAM = style.compute_gram(torch.randn(4, 12, generator=g))
MAG = torch.rand(5, 6, generator=g) + 0.1
RAIN_ARGS = {"duration_s": float_arg([0.01, 0.5], 0.0, None, low_open=True), "sr": sr_arg([8000, 16000]),
             "drops_per_s": float_arg([150.0, 20.0], 0.0, None, low_open=True),
             "peak": float_arg([0.9, 0.5], 0.0, None, low_open=True)}
W3 = torch.sin(torch.linspace(0, 3000, 3 * 4000)) * 0.5  # 3 s at 4 kHz


def _texture(out: Any, kw: dict[str, Any]) -> None:
    assert set(out) == set(style.TEXTURE_GROUPS) and all(bool(torch.isfinite(v).all()) for v in out.values()), out


ENTRIES.update({
    # Chapter 8: rain, a drum loop, style transfer's pieces
    "signals.make_rain": Entry(signals.make_rain, {"duration_s": 0.01, "sr": 8000, "seed": 0}, RAIN_ARGS),
    "midi.make_drum_loop_events": Entry(midi.make_drum_loop_events, {"bars": 1},
                                        {"bars": int_arg([1, 2]), "bpm": float_arg([120.0, 90.0], 0.0, 1000.0, True, True),
                                         "kit": int_arg([0, 25], low=0, high=127), "start_s": float_arg([0.0, 1.0], 0.0, None)},
                                        _events),
    "conv.fft_convolve": Entry(conv.fft_convolve, {"x": FEATS[0], "w": FEATS[1, :3]},
                               {"x": tensor_arg(FEATS[0], sequence_ok=True), "w": tensor_arg(FEATS[1, :3], sequence_ok=True)},
                               _tensor_result),
    "style.compute_gram": Entry(style.compute_gram, {"features": FEATS}, {"features": tensor_arg(FEATS)}, _tensor_result),
    "style.compute_style_loss": Entry(style.compute_style_loss, {"features": FEATS, "target_gram": GRAM},
                                      {"features": tensor_arg(FEATS), "target_gram": tensor_arg(GRAM)}, _tensor_result),
    "style.compute_content_loss": Entry(style.compute_content_loss, {"features": FEATS, "target_features": FEATS.flip(1)},
                                        {"features": tensor_arg(FEATS), "target_features": tensor_arg(FEATS.flip(1))},
                                        _tensor_result),
    "style.compute_spectral_convergence": Entry(style.compute_spectral_convergence,
                                                {"target_magnitude": MAG, "magnitude": MAG.flip(0)},
                                                {"target_magnitude": tensor_arg(MAG), "magnitude": tensor_arg(MAG.flip(0))},
                                                _tensor_result),
    "style.compute_receptive_field_ms": Entry(style.compute_receptive_field_ms,
                                              {"kernel_size": 11, "n_fft": 2048, "hop_length": 512, "sr_hz": 22050},
                                              {"kernel_size": int_arg([11, 1]), "n_fft": int_arg([2048, 512]),
                                               "hop_length": int_arg([512, 128]), "sr_hz": sr_arg([22050, 16000])}, _number),
    "style.compute_log_spectrogram": Entry(style.compute_log_spectrogram, {"waveform": W, "n_fft": 64, "hop_length": 16},
                                           {"waveform": waveform_arg((1, 2), (400,)), "n_fft": int_arg([64, 128]),
                                            "hop_length": int_arg([16, 32])}),
    "style.compute_texture_statistics": Entry(style.compute_texture_statistics, {"waveform": W3, "sr_hz": 4000, "n_bands": 8,
                                                                                 "n_fft": 128, "hop_length": 32},
                                              {"waveform": waveform_arg((1,), (12000,)), "sr_hz": sr_arg([4000]),
                                               "n_bands": int_arg([8, 4]), "compression": float_arg([0.3, 0.5], 0.0, None, True)},
                                              _texture),
})

GL_MAG = torch.stft(W, 64, 16, window=torch.hann_window(64), return_complex=True).abs()  # (33, 26)
ENTRIES.update({
    # Chapter 2's from-scratch mel filter bank, Griffin-Lim and constant-Q transform
    "spectral.compute_mel_filterbank": Entry(spectral.compute_mel_filterbank, {"n_mels": 16, "sr": 16000, "n_fft": 128},
                                             {"n_mels": int_arg([16, 8]), "sr": sr_arg([16000, 8000]),
                                              "n_fft": int_arg([128, 256]), "f_min": float_arg([0.0, 50.0], 0.0, None),
                                              "f_max": float_arg([8000.0, 4000.0], 0.0, None, low_open=True, none_ok=True),
                                              "scale": choice_arg(["slaney", "htk"])}),
    "spectral.compute_griffin_lim": Entry(spectral.compute_griffin_lim, {"magnitude": GL_MAG, "n_fft": 64, "hop_length": 16,
                                                                        "n_iter": 2},
                                          {"magnitude": tensor_arg(GL_MAG), "n_fft": int_arg([64]),
                                           "hop_length": int_arg([16, 8]), "n_iter": int_arg([2, 0], low=0),
                                           "momentum": float_arg([0.0, 0.99], 0.0, 1.0, high_open=True),
                                           "seed": int_arg([0, 5], low=0), "length": int_arg([400, 410], none_ok=True),
                                           "window": choice_arg(["hann", "hamming", "rectangular"])}),
    "spectral.compute_cqt_frequencies": Entry(spectral.compute_cqt_frequencies, {"f_min_hz": 55.0, "n_bins": 12},
                                              {"f_min_hz": float_arg([55.0, 32.7], 0.0, None, low_open=True),
                                               "n_bins": int_arg([12, 84]), "bins_per_octave": int_arg([12, 24])}),
    "spectral.compute_cqt": Entry(spectral.compute_cqt, {"waveform": W, "sr": 8000, "hop_length": 64, "f_min_hz": 500.0,
                                                         "n_bins": 24},
                                  {"waveform": waveform_arg(ranks=(1, 2, 3)), "sr": sr_arg([8000, 6000]),
                                   "hop_length": int_arg([64, 32]), "f_min_hz": float_arg([500.0, 1000.0], 0.0, None, low_open=True),
                                   "n_bins": int_arg([24, 12]), "bins_per_octave": int_arg([12, 16]),
                                   "filter_scale": float_arg([1.0, 0.5], 0.0, None, low_open=True),
                                   "window": choice_arg(["hann", "hamming", "rectangular"])}),
})
WIH4, WHH4 = torch.randn(4 * HID, INP, generator=g), torch.randn(4 * HID, HID, generator=g)
ENTRIES.update({
    # Chapter 4's LSTM and gradient clipping
    "rnn.lstm_cell": Entry(rnn.lstm_cell, {"x": XS, "h": HS, "c": HS, "w_ih": WIH4, "w_hh": WHH4},
                           {"x": tensor_arg(XS), "h": tensor_arg(HS), "c": tensor_arg(HS), "w_ih": tensor_arg(WIH4),
                            "w_hh": tensor_arg(WHH4)}, _tensor_result),
    "rnn.lstm_forward": Entry(rnn.lstm_forward, {"x": SEQ, "h0": None, "c0": None, "w_ih": WIH4, "w_hh": WHH4},
                              {"x": tensor_arg(SEQ), "h0": tensor_arg(HS, none_ok=True), "c0": tensor_arg(HS, none_ok=True),
                               "w_ih": tensor_arg(WIH4)}, lambda out, kw: _tensor_result(out[0], kw)),
    "core.clip_gradient_norm": Entry(training.clip_gradient_norm, {"parameters": [], "max_norm": 1.0},
                                    {"max_norm": float_arg([1.0, 1e-3], 0.0, None, low_open=True)}),
})

CASES = [(name, arg) for name, entry in ENTRIES.items() for arg in entry.args]


@pytest.mark.parametrize(("name", "arg"), CASES, ids=[f"{n}:{a}" for n, a in CASES])
def test_clear_error_or_correct_result(name: str, arg: str, data: Any = None) -> None:
    entry = ENTRIES[name]
    spec = entry.args[arg]

    @given(value=spec.values)
    def run(value: Any) -> None:
        kwargs = {**entry.valid, arg: value}
        verdict = spec.accepts(value)
        try:
            out = entry.fn(**kwargs)
        except (ValueError, TypeError) as exc:
            assert verdict is not True, f"{name}({arg}={value!r}) refused a valid value: {exc}"
            assert arg in str(exc), f"{name}({arg}={value!r}): the error does not name {arg!r}: {exc}"
            return
        except Exception as exc:  # an obscure internal error
            pytest.fail(f"{name}({arg}={value!r}) raised {type(exc).__name__}: {exc}")
        assert verdict is not False, f"{name}({arg}={value!r}) silently accepted an invalid value"
        entry.check(out, kwargs)

    run()


def test_every_entry_point_of_these_modules_is_covered() -> None:
    covered = set(ENTRIES)
    skipped = {  # covered elsewhere: files (test_io, test_download), rates, transforms built for others
        "io.load_audio", "io.save_audio", "io.check_sample_rate", "io.check_same_rate", "spectral.compute_istft",
        "io.check_batch",  # tests/test_model_inputs.py, through every classifier
        "spectral.compute_magnitude", "spectral.compute_frame_times", "spectral.compute_log_mel_spectrogram",
        "spectral.invert_griffin_lim", "spectral.make_mel_transform", "spectral.make_mel_filterbank",
        # sequences of layer sizes, checked in tests/test_conv.py; helpers of the chapters' demos
        "conv.compute_receptive_field", "rnn.convert_gru_weights_to_textbook", "rnn.compute_state_gradient_norms",
        "attention.additive_attention",  # the checks of scaled_dot_product_attention; tests/test_attention.py
        "attention.multi_head_attention",  # eight tensors of linked shapes; tests/test_attention.py
        "metrics.compute_group_accuracy",  # groups are strings; tests/test_training.py
        # take a critic or logits of one; tests/test_gan.py
        "gan.compute_gradient_penalty", "gan.compute_critic_loss", "gan.compute_generator_loss", "gan.compute_gan_losses",
        # take a classifier or train one, or read and write run files; tests/test_gan.py and Chapter 7
        "gan.compute_gan_scores", "gan.get_drum_classifier", "gan.get_gan_scorer", "gan.load_generator", "gan.save_generator",
        "gan.generate_clips",
        # take Spreads or a training function; tests/test_seeds.py
        "seeds.is_always_above", "seeds.spreads_overlap", "seeds.run_over_seeds",
        "seeds.find_study_record", "seeds.read_study_record", "seeds.write_study_record",  # files; tests/test_speakers.py
        # their valid inputs depend on each other (enough talkers, recordings long enough): tests/test_augment.py
        "augment.make_babble", "augment.make_noise_segments",
        # builds a corpus (tests/test_instruments.py); render_melody is covered above where fluidsynth is installed
        "instruments.build_instrument_notes", "instruments.render_melody",
        # render with FluidSynth, or take a network or statistics dicts (tests/test_style.py, tests/test_instruments.py)
        "instruments.render_events", "style.transfer_style", "style.compute_texture_distance", "midi.render_midi",
        "midi.write_midi_file", "midi.list_soundfonts", "midi.encode_variable_length",
    }
    public = {f"{m.__name__.split('.')[-1]}.{n}" for m in (io, signals, digital, spectral, conv, rnn, attention, augment, metrics, seeds, gan,
                                                          instruments, midi, style)
              for n in m.__all__
              if callable(getattr(m, n)) and not isinstance(getattr(m, n), type) and n[0].islower()}
    assert public - covered - skipped == set()


# ---------------------------------------------------------------------------
# the tally of issue 9: every value of every argument, classified (run: python tests/test_hostile_inputs.py)


def _values_of(strategy: Any, draws: int = 15) -> list[Any]:
    """Every value of a ``sampled_from`` pool; ``draws`` examples of anything else (seeded)."""
    inner = getattr(strategy, "wrapped_strategy", strategy)
    if hasattr(inner, "elements"):
        return list(inner.elements)
    if hasattr(inner, "original_strategies"):
        return [v for s in inner.original_strategies for v in _values_of(s, draws)]
    import random
    import warnings

    random.seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [strategy.example() for _ in range(draws)]


def compute_tally() -> dict[str, dict[str, int]]:
    """Call every entry point with every hostile value of each argument; count the outcomes per module.

    Outcomes: ``good`` (a clear error naming the argument, or a result that passes the check),
    ``obscure`` (another exception, or an error that does not name the argument), ``silent``
    (an invalid value accepted, or a result that fails the check), ``over-strict`` (a valid value refused).
    """
    tally: dict[str, dict[str, int]] = {}
    for name, entry in ENTRIES.items():
        row = tally.setdefault(name.split(".")[0], {"good": 0, "obscure": 0, "silent": 0, "over-strict": 0, "entry points": 0})
        row["entry points"] += 1
        for arg, spec in entry.args.items():
            for value in _values_of(spec.values):
                verdict = spec.accepts(value)
                try:
                    out = entry.fn(**{**entry.valid, arg: value})
                except (ValueError, TypeError) as exc:
                    row["over-strict" if verdict is True else ("good" if arg in str(exc) else "obscure")] += 1
                    continue
                except Exception:
                    row["obscure"] += 1
                    continue
                if verdict is False:
                    row["silent"] += 1
                    continue
                try:
                    entry.check(out, {**entry.valid, arg: value})
                    row["good"] += 1
                except (AssertionError, pytest.fail.Exception):
                    row["silent"] += 1
    return tally


if __name__ == "__main__":
    import time

    start = time.perf_counter()
    result = compute_tally()
    cols = ["entry points", "good", "obscure", "silent", "over-strict"]
    print(f"{'module':<12}" + "".join(f"{c:>14}" for c in cols))
    for module, row in result.items():
        print(f"{module:<12}" + "".join(f"{row[c]:>14}" for c in cols))
    total = {c: sum(r[c] for r in result.values()) for c in cols}
    print(f"{'total':<12}" + "".join(f"{total[c]:>14}" for c in cols))
    print(f"({sum(total[c] for c in cols[1:])} calls in {time.perf_counter() - start:.1f} s)")
