"""Tests for helpers.regression: lagged designs, ridge and reduced-rank regression (chapter 3)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.metrics import bits_per_spike
from helpers.regression import (
    ReducedRankRates,
    RidgeRates,
    lag_profile,
    lagged_design,
    lagged_features,
)
from helpers.surrogate import make_session


def planted(rank: int, seed: int = 0, n_trials: int = 120, n_bins: int = 40,
            n_inputs: int = 30, n_outputs: int = 20):
    """Counts whose rates are a rank-``rank`` linear map of the inputs (plus a baseline)."""
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(n_trials, n_bins, n_inputs))
    mapping = rng.normal(size=(n_inputs, rank)) @ rng.normal(size=(rank, n_outputs))
    mapping *= 0.4 / np.sqrt(n_inputs * rank)
    rates = np.clip(1.0 + inputs @ mapping, 0.05, None)
    return inputs, rng.poisson(rates).astype(float), rates


# ----------------------------------------------------------------------------- lagged designs
def test_lagged_design_shifts_within_trials_lag_major():
    inputs = np.arange(2 * 5 * 2, dtype=float).reshape(2, 5, 2)
    design = lagged_design(inputs, [-1, 0, 2])
    assert design.shape == (2, 5, 6)
    np.testing.assert_array_equal(design[:, :, 2:4], inputs)  # lag 0 is the input itself
    np.testing.assert_array_equal(design[1, 3, 0:2], inputs[1, 2])  # lag -1 reads the past
    np.testing.assert_array_equal(design[1, 0, 0:2], inputs[1, 0])  # edge: the first bin
    np.testing.assert_array_equal(design[0, 1, 4:6], inputs[0, 3])  # lag +2 reads the future
    np.testing.assert_array_equal(design[0, 4, 4:6], inputs[0, 4])  # never the next trial


def test_causal_lags_leak_nothing_from_the_future():
    rng = np.random.default_rng(1)
    inputs = rng.poisson(1.0, size=(3, 30, 4)).astype(float)
    changed = inputs.copy()
    changed[:, 20:] = rng.poisson(5.0, size=(3, 10, 4))  # only bins >= 20 differ
    for lags in ([-3, -1, 0], [-10, -5]):
        before = lagged_design(inputs, lags)[:, :20]
        after = lagged_design(changed, lags)[:, :20]
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(lagged_design(inputs, [0, 1])[:, :20],
                              lagged_design(changed, [0, 1])[:, :20])


def test_lagged_features_are_causal_with_smoothing_and_read_before_the_window():
    session = make_session(0, n_trials=12, n_bins=100, area_counts={"VISp": 6, "LGd": 6})
    features = lagged_features(session, 0.0, 0.3, (-0.1, 0.0), smooth_s=0.05)
    window = session.window(0.0, 0.3)
    assert features.shape == (12, window.n_bins, 2 * 12)
    future = session.select()
    future.spikes = future.spikes.copy()
    after = session.time >= 0.1
    future.spikes[:, :, after] = 9  # change every bin from 0.1 s on
    changed = lagged_features(future, 0.0, 0.3, (-0.1, 0.0), smooth_s=0.05)
    before = window.time < 0.1 - 1e-9
    np.testing.assert_array_equal(features[:, before], changed[:, before])
    counts = session.spikes_by_trial()
    first = int(np.flatnonzero(np.isclose(session.time, window.time[0]))[0])
    raw = lagged_features(session, 0.0, 0.3, (-0.1,), neurons=[2, 5])
    np.testing.assert_array_equal(raw[:, 0], counts[:, first - 10][:, [2, 5]])


@pytest.mark.parametrize("lags, message", [([], "non-empty"), ([0.5, 1.0], "whole bins"),
                                           ([0, 0], "repeat")])
def test_lagged_design_rejects_bad_lags(lags, message):
    with pytest.raises(ValueError, match=message):
        lagged_design(np.zeros((2, 5, 3)), np.asarray(lags))


def test_lagged_features_reject_bad_units():
    session = make_session(0, n_trials=10, n_bins=80, area_counts={"VISp": 4})
    with pytest.raises(ValueError, match="multiples"):
        lagged_features(session, 0.0, 0.2, (-0.015,))
    with pytest.raises(ValueError, match="smooth_s"):
        lagged_features(session, 0.0, 0.2, (0.0,), smooth_s=0.013)
    with pytest.raises(ValueError, match="end > start"):
        lagged_features(session, 0.2, 0.1, (0.0,))
    with pytest.raises(ValueError, match=r"\(n_trials, n_bins"):
        lagged_design(np.zeros((5, 3)), [0])


# ----------------------------------------------------------------------------- ridge and RRR
def test_reduced_rank_recovers_a_planted_rank():
    for rank in (1, 2, 3):
        inputs, counts, _ = planted(rank, seed=rank)
        model = ReducedRankRates(seed=0).fit(inputs, counts)
        assert model.rank == rank, (rank, model.rank, model.cv_scores.mean(axis=0))


def test_full_rank_equals_ridge():
    inputs, counts, _ = planted(2, seed=4)
    ridge = RidgeRates(seed=3).fit(inputs[:90], counts[:90])
    reduced = ReducedRankRates(seed=3).fit(inputs[:90], counts[:90])
    assert reduced.penalty == ridge.penalty
    np.testing.assert_allclose(reduced.predict(inputs[90:], rank=counts.shape[-1]),
                               ridge.predict(inputs[90:]), rtol=1e-8, atol=1e-10)


def test_ridge_predicts_held_out_trials_and_floors_the_rates():
    inputs, counts, rates = planted(3, seed=5)
    model = RidgeRates(seed=0).fit(inputs[:100], counts[:100])
    predicted = model.predict(inputs[100:])
    assert predicted.shape == counts[100:].shape
    assert predicted.min() >= 0.1 * counts[:100].mean(axis=(0, 1)).min() - 1e-12
    score = bits_per_spike(predicted, counts[100:])
    assert 0 < score <= bits_per_spike(rates[100:], counts[100:]) + 0.01
    assert model.penalty in model.penalties


def test_a_fixed_rank_is_kept_and_checked():
    inputs, counts, _ = planted(2, seed=6, n_outputs=5)
    assert ReducedRankRates(rank=4).fit(inputs, counts).rank == 4
    with pytest.raises(ValueError, match="exceeds"):
        ReducedRankRates(rank=6).fit(inputs, counts)
    with pytest.raises(ValueError, match="positive integer"):
        ReducedRankRates(rank=0).fit(inputs, counts)
    with pytest.raises(ValueError, match="rank must lie"):
        ReducedRankRates().fit(inputs, counts).predict(inputs, rank=6)


def test_regressions_reject_bad_inputs():
    inputs, counts, _ = planted(1, seed=7, n_trials=20)
    with pytest.raises(RuntimeError, match="fit"):
        RidgeRates().predict(inputs)
    with pytest.raises(ValueError, match="share"):
        RidgeRates().fit(inputs, counts[:, :-1])
    with pytest.raises(ValueError, match="NaN"):
        RidgeRates().fit(np.full_like(inputs, np.nan), counts)
    with pytest.raises(ValueError, match="at least 3 training trials"):
        RidgeRates().fit(inputs[:2], counts[:2])
    with pytest.raises(ValueError, match="features"):
        RidgeRates().fit(inputs, counts).predict(inputs[..., :-1])


def test_lag_profile_finds_the_lag_that_carries_the_signal():
    rng = np.random.default_rng(8)
    source = rng.poisson(2.0, size=(150, 60, 10)).astype(float)
    lags = (-5, -3, 0, 2)
    shifted = lagged_design(source, [-3])  # the target follows the source by 3 bins
    counts = rng.poisson(np.clip(1 + 0.3 * (shifted - 2) @ rng.normal(size=(10, 8)), 0.05, None))
    model = RidgeRates().fit(lagged_design(source, list(lags)), counts.astype(float))
    profile = lag_profile(model, lags)
    assert profile.shape == (4,) and lags[int(np.argmax(profile))] == -3
    with pytest.raises(ValueError, match="split into"):
        lag_profile(model, (0, 1, 2))
    with pytest.raises(RuntimeError, match="Fit"):
        lag_profile(RidgeRates(), lags)
