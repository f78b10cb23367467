"""Tests for helpers.regression: lagged designs, ridge and reduced-rank regression, region pairs
(residuals, the shuffle control, lags) on planted couplings (chapter 3)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.metrics import bits_per_spike
from helpers.regression import (
    ReducedRankRates,
    RidgeRates,
    behaviour_features,
    coupling_gains,
    lag_profile,
    lagged_design,
    lagged_features,
    pair_data,
    rank_curves,
    region_pair_gains,
)
from helpers.splits import cross_region_split
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
    with pytest.raises(ValueError, match="shorter than the longest lag.*widen the window"):
        lagged_features(session, 0.0, 0.05, (-0.1, 0.0))
    with pytest.raises(ValueError, match="subtract must match"):
        lagged_features(session, 0.0, 0.2, (0.0,), subtract=np.zeros((10, 80, 3)))
    with pytest.raises(ValueError, match=r"\(n_trials, n_bins"):
        lagged_design(np.zeros((5, 3)), [0])


# ----------------------------------------------------------------------------- ridge and RRR
def test_reduced_rank_recovers_a_planted_rank():
    for rank in (1, 2, 3):
        inputs, counts, _ = planted(rank, seed=rank)
        model = ReducedRankRates(seed=0).fit(inputs, counts)
        assert model.rank_ == rank, (rank, model.rank_, model.rank_scores_.mean(axis=0))
        low, high = model.rank_interval_
        assert low <= rank <= high and model.rank is None  # the hyperparameter is untouched
        assert model.rank_scores_.shape == (10, 10)


def test_full_rank_equals_ridge_and_fixed_ranks_are_kept():
    inputs, counts, _ = planted(2, seed=4)
    ridge = RidgeRates(seed=3, n_folds=10).fit(inputs[:90], counts[:90])
    reduced = ReducedRankRates(seed=3).fit(inputs[:90], counts[:90])
    assert reduced.penalty_ == ridge.penalty_
    np.testing.assert_allclose(reduced.predict(inputs[90:], rank=counts.shape[-1]),
                               ridge.predict(inputs[90:]), rtol=1e-8, atol=1e-10)
    fixed = ReducedRankRates(rank=4).fit(inputs, counts)
    assert fixed.rank_ == 4 and fixed.rank == 4
    assert np.linalg.matrix_rank(fixed.coef_, tol=1e-8) == 4


def test_an_offset_is_what_the_model_adds_to():
    inputs, counts, rates = planted(2, seed=9)
    offset = np.broadcast_to(rates.mean(axis=0), rates.shape)  # a "PSTH" of the true rates
    model = RidgeRates(seed=0).fit(inputs[:90], counts[:90], offset[:90])
    with_offset = model.predict(inputs[90:], offset[90:])
    assert with_offset.shape == counts[90:].shape
    assert bits_per_spike(with_offset, counts[90:]) > bits_per_spike(offset[90:], counts[90:])
    high = model.predict(inputs[90:], offset[90:] + 10.0)  # far above the rate floor:
    np.testing.assert_allclose(model.predict(inputs[90:], offset[90:] + 11.0) - high, 1.0)
    with pytest.raises(ValueError, match="offset"):
        model.predict(inputs[90:], offset[:5])


def test_dominant_dimensions_predict_worse_than_predictive_ones():
    rng = np.random.default_rng(3)
    loud = rng.normal(size=(120, 40, 2)) * 5  # high-variance source dimensions, irrelevant
    quiet = rng.normal(size=(120, 40, 2))  # low-variance ones that drive the target
    inputs = np.concatenate([loud, quiet, rng.normal(size=(120, 40, 6)) * 2], axis=2)
    counts = rng.poisson(np.exp(0.5 * quiet @ rng.normal(size=(2, 12)))).astype(float)
    model = ReducedRankRates(seed=0).fit(inputs[:90], counts[:90])
    predictive = bits_per_spike(model.predict(inputs[90:], rank=2), counts[90:])
    dominant = bits_per_spike(model.predict_dominant(inputs[90:], n_components=2), counts[90:])
    assert predictive > 0.05 > dominant
    with pytest.raises(ValueError, match="n_components"):
        model.predict_dominant(inputs, n_components=0)


def test_ridge_predicts_held_out_trials_and_floors_the_rates():
    inputs, counts, rates = planted(3, seed=5)
    model = RidgeRates(seed=0).fit(inputs[:100], counts[:100])
    predicted = model.predict(inputs[100:])
    assert predicted.shape == counts[100:].shape
    assert predicted.min() >= 0.1 * counts[:100].mean(axis=(0, 1)).min() - 1e-12
    score = bits_per_spike(predicted, counts[100:])
    assert 0 < score <= bits_per_spike(rates[100:], counts[100:]) + 0.01
    assert model.penalty_ in model.penalties and model.n_features_in_ == inputs.shape[-1]


def test_rank_settings_are_checked():
    inputs, counts, _ = planted(2, seed=6, n_outputs=5)
    with pytest.raises(ValueError, match=r"integer in 1\.\.5"):
        ReducedRankRates(rank=6).fit(inputs, counts)
    with pytest.raises(ValueError, match=r"integer in 1\.\.5"):
        ReducedRankRates(rank=0).fit(inputs, counts)
    with pytest.raises(ValueError, match="fewer than the rank grid.*max_rank <= 5"):
        ReducedRankRates().fit(inputs, counts)
    model = ReducedRankRates(max_rank=5).fit(inputs, counts)
    with pytest.raises(ValueError, match="rank must lie"):
        model.predict(inputs, rank=6)


def test_regressions_reject_bad_inputs():
    inputs, counts, _ = planted(1, seed=7, n_trials=20)
    with pytest.raises(RuntimeError, match="fit"):
        RidgeRates().predict(inputs)
    with pytest.raises(ValueError, match="share"):
        RidgeRates().fit(inputs, counts[:, :-1])
    with pytest.raises(ValueError, match="NaN"):
        RidgeRates().fit(np.full_like(inputs, np.nan), counts)
    with pytest.raises(ValueError, match="at least 5 trials"):
        RidgeRates().fit(inputs[:2], counts[:2])
    with pytest.raises(ValueError, match="features"):
        RidgeRates().fit(inputs, counts).predict(inputs[..., :-1])


# ----------------------------------------------------------------------------- region pairs
@pytest.fixture(scope="module")
def coupled_session():
    """vis ctx -> thal coupled (rank 2, 30 ms); hipp shares only session-wide signals."""
    session = make_session(1, n_trials=340, n_bins=100,
                           area_counts={"VISp": 120, "LGd": 60, "CA1": 120})
    session = session.select(trials=session.trials_with_partner(), min_rate=1.0)
    return session, session.task_conditions()


def test_pair_data_removes_the_training_trials_condition_psth(coupled_session):
    session, conditions = coupled_session
    split = cross_region_split(session, "vis ctx", "thal", min_rate=None, conditions=conditions)
    data = pair_data(session, split, conditions, window=(0.0, 0.3), lags_s=(-0.05, 0.0))
    raw = pair_data(session, split, conditions, window=(0.0, 0.3), lags_s=(-0.05, 0.0),
                    residual=False)
    np.testing.assert_array_equal(data.targets, raw.targets)  # targets stay counts
    assert raw.offsets is None and data.offsets.shape == data.targets.shape
    x, y, offsets = data.train()
    assert abs((y - offsets).mean()) < 0.02 * y.mean()  # residuals ~ 0 on training trials
    changed = session.select()
    changed.spikes = session.spikes.copy()
    changed.spikes[:, split.test_trials] = 0  # the test trials do not shape the PSTH
    again = pair_data(changed, split, conditions, window=(0.0, 0.3), lags_s=(-0.05, 0.0))
    np.testing.assert_allclose(again.offsets, data.offsets)
    partner = split.partners(conditions, n_permutations=1)[0]
    np.testing.assert_array_equal(data.test(partner)[0], data.inputs[partner[split.test_trials]])


def test_coupling_gain_finds_the_coupled_pair_and_not_the_uncoupled(coupled_session):
    session, conditions = coupled_session
    partners = None
    found = {}
    for source in ("vis ctx", "hipp"):
        split = cross_region_split(session, source, "thal", min_rate=None, n_source=20,
                                   conditions=conditions, seed=0)
        if partners is None:
            partners = split.partners(conditions, n_permutations=20,
                                      response_time=session.events["response_time"])
        data = pair_data(session, split, conditions, window=(0.0, 0.5),
                         lags_s=(-0.1, 0.0, 0.1), smooth_s=0.1)
        table, predictions = coupling_gains(data, partners, n_boot=300)
        assert predictions["shuffle"].shape[0] == 20
        found[source] = table.set_index("over", append=True).loc[("ridge", "shuffle")]
    assert found["vis ctx"]["low"] > 0  # power: the planted coupling
    assert found["hipp"]["low"] <= 0 <= found["hipp"]["high"]  # no coupling planted
    with pytest.raises(ValueError, match="partners must be"):
        coupling_gains(data, partners[:, :5])


def test_lag_profile_peaks_at_the_planted_lead(coupled_session):
    session, conditions = coupled_session
    split = cross_region_split(session, "vis ctx", "thal", min_rate=None, conditions=conditions)
    lag = lag_profile(session, split, conditions, window=(0.0, 0.5), max_lag_s=0.1,
                      smooth_s=0.05, n_boot=200)
    assert lag.lags_s[0] == pytest.approx(-0.1) and lag.lags_s[-1] == pytest.approx(0.1)
    assert lag.peak_s == pytest.approx(-0.03) and lag.peak_low_s <= -0.03 <= lag.peak_high_s
    reverse = cross_region_split(session, "thal", "vis ctx", min_rate=None,
                                 conditions=conditions)
    assert lag_profile(session, reverse, conditions, window=(0.0, 0.5),
                       smooth_s=0.05, n_boot=200).peak_s > 0
    with pytest.raises(ValueError, match="max_lag_s"):
        lag_profile(session, split, conditions, window=(0.0, 0.5), max_lag_s=0.015)
    with pytest.raises(ValueError, match="shorter than the longest lag"):
        lag_profile(session, split, conditions, window=(0.0, 0.05), max_lag_s=0.1)


def test_within_trial_residuals_remove_each_trials_mean(coupled_session):
    session, conditions = coupled_session
    split = cross_region_split(session, "vis ctx", "thal", min_rate=None, conditions=conditions)
    data = pair_data(session, split, conditions, window=(0.0, 0.3), lags_s=(0.0,),
                     within_trial=True)
    np.testing.assert_allclose(data.inputs.mean(axis=1), 0, atol=1e-9)  # the lag-0 block
    np.testing.assert_allclose((data.targets - data.offsets).mean(axis=1), 0, atol=1e-9)
    with pytest.raises(ValueError, match="residual=True"):
        pair_data(session, split, conditions, window=(0.0, 0.3), lags_s=(0.0,),
                  residual=False, within_trial=True)


def test_rank_curves_and_behaviour_features(coupled_session):
    session, conditions = coupled_session
    split = cross_region_split(session, "vis ctx", "thal", min_rate=None, conditions=conditions)
    data = pair_data(session, split, conditions, window=(0.0, 0.3), lags_s=(-0.05, 0.0))
    model = ReducedRankRates(max_rank=4).fit(*data.train())
    curves = rank_curves(model, data, n_boot=50)
    assert sorted(set(curves["dimensions"])) == ["dominant", "predictive"]
    assert curves.groupby("dimensions")["rank"].apply(list).loc["predictive"] == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="residual"):
        rank_curves(model, pair_data(session, split, conditions, window=(0.0, 0.3),
                                     lags_s=(-0.05, 0.0), residual=False))
    wheel = behaviour_features(session, conditions, split.train_trials, window=(0.0, 0.3),
                               lags_s=(-0.05, 0.0))
    assert wheel.shape == (session.n_trials, data.targets.shape[1], 4)  # 2 lags x (v, |v|)
    assert abs(wheel[split.train_trials].mean()) < 0.05 * np.abs(wheel).mean() + 1e-9
    with pytest.raises(ValueError, match="no 'pupil' trace"):
        behaviour_features(session, conditions, split.train_trials, window=(0.0, 0.3),
                           lags_s=(0.0,), names=("pupil",))


def test_region_pair_gains_covers_every_ordered_pair(coupled_session):
    session, conditions = coupled_session
    split = cross_region_split(session, "vis ctx", "thal", min_rate=None, conditions=conditions)
    partners = split.partners(conditions, n_permutations=2)
    table = region_pair_gains(session, conditions, partners, regions=["vis ctx", "thal"],
                              n_source=10, window=(0.0, 0.3), lags_s=(0.0,), n_boot=20)
    assert sorted(table["pair"].unique()) == ["thal -> vis ctx", "vis ctx -> thal"]
    assert set(table["over"]) == {"shuffle", "psth"} and (table["p_gain"] > 0).all()


def test_a_single_penalty_skips_the_cross_validation():
    inputs, counts, _ = planted(2, seed=11)
    chosen = RidgeRates(seed=0).fit(inputs, counts)
    fixed = RidgeRates(penalties=(chosen.penalty_,)).fit(inputs, counts)
    assert fixed.cv_scores_.shape == (0, 1) and fixed.penalty_ == chosen.penalty_
    np.testing.assert_allclose(fixed.coef_, chosen.coef_)
