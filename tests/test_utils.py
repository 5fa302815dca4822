"""Tests for audiomap_lib.utils: profiles, seeding, device choice, cache folder."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from audiomap_lib import utils


@pytest.fixture
def restore_determinism():
    """set_seed switches torch's deterministic mode on globally: put it back afterwards."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    benchmark = torch.backends.cudnn.benchmark
    py_state, np_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    yield
    torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
    torch.backends.cudnn.benchmark = benchmark
    random.setstate(py_state)
    np.random.set_state(np_state)
    torch.set_rng_state(torch_state)


# ---------------------------------------------------------------- profiles

def test_profiles_are_ordered_smallest_first() -> None:
    assert utils.PROFILES == ("quick", "standard", "full")


@pytest.mark.parametrize("value", ["", "   "])
def test_get_profile_defaults_to_standard(monkeypatch, value: str) -> None:
    monkeypatch.delenv("AUDIOMAP_PROFILE", raising=False)
    assert utils.get_profile() == "standard"
    monkeypatch.setenv("AUDIOMAP_PROFILE", value)
    assert utils.get_profile() == "standard"


@pytest.mark.parametrize("value, expected", [("quick", "quick"), ("standard", "standard"),
                                             ("full", "full"), (" FULL ", "full"), ("Quick", "quick")])
def test_get_profile_valid(monkeypatch, value: str, expected: str) -> None:
    monkeypatch.setenv("AUDIOMAP_PROFILE", value)
    assert utils.get_profile() == expected


def test_get_profile_invalid_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("AUDIOMAP_PROFILE", "huge")
    with pytest.raises(ValueError, match="AUDIOMAP_PROFILE") as info:
        utils.get_profile()
    assert "huge" in str(info.value)
    for name in utils.PROFILES:
        assert name in str(info.value)


def test_by_profile_follows_environment(monkeypatch) -> None:
    for name, expected in (("quick", 1), ("standard", 2), ("full", 3)):
        monkeypatch.setenv("AUDIOMAP_PROFILE", name)
        assert utils.by_profile(quick=1, standard=2, full=3) == expected


def test_by_profile_explicit_profile_wins(monkeypatch) -> None:
    monkeypatch.setenv("AUDIOMAP_PROFILE", "quick")
    assert utils.by_profile("a", "b", "c", profile="full") == "c"
    assert utils.by_profile("a", "b", "c", profile="standard") == "b"
    with pytest.raises(ValueError, match="profile must be one of"):
        utils.by_profile(1, 2, 3, profile="medium")


def test_by_profile_propagates_bad_environment(monkeypatch) -> None:
    monkeypatch.setenv("AUDIOMAP_PROFILE", "nope")
    with pytest.raises(ValueError, match="AUDIOMAP_PROFILE"):
        utils.by_profile(1, 2, 3)


# ---------------------------------------------------------------- seeding

def _draw() -> tuple[list[float], np.ndarray, torch.Tensor]:
    return [random.random() for _ in range(5)], np.random.rand(5), torch.rand(5)


def test_set_seed_repeats_all_three_generators(restore_determinism) -> None:
    utils.set_seed(123)
    a = _draw()
    utils.set_seed(123)
    b = _draw()
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])
    assert torch.equal(a[2], b[2])
    utils.set_seed(124)
    c = _draw()
    assert a[0] != c[0]
    assert not np.array_equal(a[1], c[1])
    assert not torch.equal(a[2], c[2])


def test_set_seed_returns_seeded_generator(restore_determinism) -> None:
    g1 = utils.set_seed(7)
    g2 = utils.set_seed(7)
    assert isinstance(g1, torch.Generator)
    assert torch.equal(torch.rand(4, generator=g1), torch.rand(4, generator=g2))
    assert torch.equal(torch.rand(4, generator=utils.set_seed(7)),
                       torch.rand(4, generator=torch.Generator().manual_seed(7)))


def test_set_seed_deterministic_flag(restore_determinism) -> None:
    torch.use_deterministic_algorithms(False)
    utils.set_seed(0, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()
    utils.set_seed(0, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None])
def test_set_seed_rejects_bad_seed(bad, restore_determinism) -> None:
    with pytest.raises(ValueError, match="seed"):
        utils.set_seed(bad)


# ---------------------------------------------------------------- device

def test_get_device_is_cpu_without_accelerators(monkeypatch) -> None:
    monkeypatch.delenv("AUDIOMAP_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert utils.get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_get_device_here_is_cpu(monkeypatch) -> None:
    monkeypatch.delenv("AUDIOMAP_DEVICE", raising=False)
    if torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    assert utils.get_device().type == "cpu"


def test_get_device_explicit_cpu(monkeypatch) -> None:
    monkeypatch.delenv("AUDIOMAP_DEVICE", raising=False)
    assert utils.get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("AUDIOMAP_DEVICE", "cpu")
    assert utils.get_device() == torch.device("cpu")


def test_get_device_cuda_unavailable_errors(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        utils.get_device("cuda")
    with pytest.raises(ValueError, match="cuda:0"):
        utils.get_device("cuda:0")
    monkeypatch.setenv("AUDIOMAP_DEVICE", "cuda")
    with pytest.raises(ValueError, match="CUDA"):
        utils.get_device()


def test_get_device_mps_unavailable_errors(monkeypatch) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match="MPS is not available"):
        utils.get_device("mps")


# ---------------------------------------------------------------- cache dir

def test_get_cache_dir_honours_audiomap_data(monkeypatch, tmp_path: Path) -> None:
    root = tmp_path / "data root"
    monkeypatch.setenv("AUDIOMAP_DATA", str(root))
    got = utils.get_cache_dir()
    assert got == root.resolve()
    assert got.is_dir() and got.is_absolute()
    sub = utils.get_cache_dir("digits", "v1")
    assert sub == (root / "digits" / "v1").resolve()
    assert sub.is_dir()


def test_get_cache_dir_create_false(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AUDIOMAP_DATA", str(tmp_path / "absent"))
    got = utils.get_cache_dir("x", create=False)
    assert got == (tmp_path / "absent" / "x").resolve()
    assert not got.exists()


def test_get_cache_dir_falls_back_to_xdg(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AUDIOMAP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if utils.os.name == "nt":  # pragma: no cover - Windows uses LOCALAPPDATA
        pytest.skip("Windows path")
    assert utils.get_cache_dir(create=False) == (tmp_path / "xdg" / "audiomap").resolve()


def test_make_plain_text_has_no_quotes_in_repr() -> None:
    from audiomap_lib.utils import make_plain_text

    text = make_plain_text("flite: rms")
    assert text == "flite: rms" and repr(text) == "flite: rms" and isinstance(text, str)
    assert repr(make_plain_text(3)) == "3"


# ---------------------------------------------------------------- argument checks, timing

def test_check_positive_int_accepts_numpy_integers_and_refuses_bools_and_floats() -> None:
    assert utils.check_positive_int(3, "n") == 3
    assert utils.check_positive_int(np.int64(5), "n") == 5 and type(utils.check_positive_int(np.int32(5), "n")) is int
    for bad in (0, -2, True, 3.0, 2.5, "3", None):
        with pytest.raises(ValueError, match="n_taps must be a positive int"):
            utils.check_positive_int(bad, "n_taps")
    assert utils.check_non_negative_int(np.uint8(0), "seed") == 0
    for bad in (-1, False, 1.0):
        with pytest.raises(ValueError, match="seed must be a non-negative int"):
            utils.check_non_negative_int(bad, "seed")


def test_compute_median_time_s_calls_warmup_plus_repeats() -> None:
    calls = []
    t = utils.compute_median_time_s(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and 0 <= t < 1
    with pytest.raises(ValueError, match="repeats"):
        utils.compute_median_time_s(lambda: None, repeats=0)


@pytest.mark.parametrize(("prefer", "error", "match"), [
    ("gpu", ValueError, "use 'cuda' for an NVIDIA GPU"),
    ("GPU", ValueError, "prefer='GPU' is not a PyTorch device name"),
    ("tpu", ValueError, "prefer='tpu' is not a device name"),
    ("meta", ValueError, "runs on 'cpu', 'cuda' or 'mps'"),
    (3, TypeError, "prefer must be a device name"),
    (torch.device("cuda", 7), ValueError, "CUDA"),
])
def test_get_device_refuses_names_it_cannot_use(prefer, error, match, monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(error, match=match):
        utils.get_device(prefer)


def test_a_bad_audiomap_device_is_named(monkeypatch) -> None:
    monkeypatch.setenv("AUDIOMAP_DEVICE", "gpu")
    with pytest.raises(ValueError, match="AUDIOMAP_DEVICE='gpu'"):
        utils.get_device()
    assert utils.get_device(torch.device("cpu")) == torch.device("cpu")  # an explicit device wins


def test_check_tensor_kinds_ranks_and_conversions() -> None:
    import numpy as np

    x = torch.randn(3, 4)
    assert utils.check_tensor(x, "x", ndim=2) is x  # no copy
    assert utils.check_tensor(np.ones((2, 2)), "x").dtype == torch.float64
    assert utils.check_tensor(torch.arange(3), "x").dtype == torch.get_default_dtype()  # ints become floats
    assert utils.check_tensor([1, 2], "lengths", kind="int", allow_sequence=True).tolist() == [1, 2]
    for bad, error, match in [
        (torch.zeros(2, dtype=torch.bool), TypeError, "x must hold real numbers"),
        (torch.zeros(2, dtype=torch.complex64), TypeError, "x must hold real numbers"),
        ([1.0, 2.0], TypeError, "x must be a torch.Tensor or numpy array"),
        (None, TypeError, "got NoneType"),
        (torch.zeros(2), ValueError, "x must be 2-D"),
        (torch.zeros(0, 3), ValueError, "x is empty"),
    ]:
        with pytest.raises(error, match=match):
            utils.check_tensor(bad, "x", ndim=2)
    with pytest.raises(TypeError, match="lengths must hold integers"):
        utils.check_tensor(torch.tensor([2.0, 3.5]), "lengths", kind="int")
    with pytest.raises(TypeError, match="mask must hold booleans"):
        utils.check_tensor(torch.ones(2), "mask", kind="bool")
    a, b, c = utils.promote_floats(torch.zeros(1), torch.zeros(1, dtype=torch.float64), None)
    assert a.dtype == b.dtype == torch.float64 and c is None
