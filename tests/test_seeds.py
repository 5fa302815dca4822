"""The spread of a measurement over seeds, and the claims it allows (audiomap_lib.training.seeds)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from audiomap_lib.training import (
    Spread,
    compute_bootstrap_interval,
    compute_spread,
    is_always_above,
    run_over_seeds,
    spreads_overlap,
)


def test_spread_matches_numpy():
    values = [0.91, 0.87, 0.95, 0.9]
    s = compute_spread(values)
    assert s.n == 4
    assert s.mean == pytest.approx(np.mean(values), abs=1e-15)
    assert s.std == pytest.approx(np.std(values, ddof=1), abs=1e-15)
    assert (s.low, s.high) == (0.87, 0.95)
    assert s.format(scale=100, unit="%") == "90.8 (87.0-95.0) %"
    assert compute_spread([0.5]).format(digits=2) == "0.50" and compute_spread([0.5]).std == 0.0


def test_spread_accepts_numpy_and_tensor_scalars():
    s = compute_spread([np.float32(0.25), torch.tensor(0.75), 1])
    assert s.values == (0.25, 0.75, 1.0)


@pytest.mark.parametrize("bad, match", [([], "at least one"), ([0.1, float("nan")], r"values\[1\] must be finite"),
                                        (["0.3"], "real number"), ([True], "real number"),
                                        ([torch.ones(2)], "one number")])
def test_compute_spread_refuses_bad_values(bad, match):
    with pytest.raises(ValueError, match=match):
        compute_spread(bad)


def test_claims_from_spreads():
    a, b, c = Spread((0.9, 0.95)), Spread((0.8, 0.85)), Spread((0.84, 0.92))
    assert is_always_above(a, b) and not is_always_above(b, a)
    assert not is_always_above(a, b, margin=0.06) and is_always_above(a, b, margin=0.04)
    assert not is_always_above(a, c) and spreads_overlap(a, c) and spreads_overlap(c, b)
    assert not spreads_overlap(a, b)
    assert is_always_above([0.9], [0.8])  # plain sequences work too
    with pytest.raises(ValueError, match="a must be a Spread"):
        is_always_above([], b)


def test_run_over_seeds_keeps_seed_order_and_checks_names():
    spreads = run_over_seeds(lambda seed: {"acc": seed / 10, "loss": 1.0 - seed / 10}, [3, 1, 2])
    assert spreads["acc"].values == (0.3, 0.1, 0.2) and spreads["loss"].values == (0.7, 0.9, 0.8)
    with pytest.raises(ValueError, match="distinct"):
        run_over_seeds(lambda s: {"a": 1.0}, [0, 0])
    with pytest.raises(ValueError, match="at least one seed"):
        run_over_seeds(lambda s: {"a": 1.0}, [])
    with pytest.raises(ValueError, match="non-negative integers"):
        run_over_seeds(lambda s: {"a": 1.0}, [-1])
    with pytest.raises(ValueError, match="earlier seeds returned"):
        run_over_seeds(lambda s: {"a": 1.0} if s == 0 else {"b": 1.0}, [0, 1])


def test_bootstrap_interval_covers_the_binomial_spread():
    # 900 right of 1000: the normal approximation gives 0.9 +- 1.96 * sqrt(0.9 * 0.1 / 1000)
    correct = torch.zeros(1000, dtype=torch.bool)
    correct[:900] = True
    low, high = compute_bootstrap_interval(correct, n_resamples=4000, seed=1)
    half = 1.96 * (0.9 * 0.1 / 1000) ** 0.5
    assert low == pytest.approx(0.9 - half, abs=0.004) and high == pytest.approx(0.9 + half, abs=0.004)
    assert compute_bootstrap_interval(correct, seed=1) == compute_bootstrap_interval(correct, seed=1)
    assert compute_bootstrap_interval(torch.ones(5, dtype=torch.bool)) == (1.0, 1.0)


@pytest.mark.parametrize("kwargs, match", [(dict(correct=torch.ones(3)), "bool tensor"),
                                           (dict(correct=torch.ones(0, dtype=torch.bool)), "non-empty"),
                                           (dict(correct=torch.ones(3, dtype=torch.bool), n_resamples=10), "n_resamples"),
                                           (dict(correct=torch.ones(3, dtype=torch.bool), level=1.0), "level")])
def test_bootstrap_interval_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compute_bootstrap_interval(**kwargs)
