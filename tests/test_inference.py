"""The statistics core: bootstrap, permutation tests, folds, intervals, ridge -- each checked
against a library or a closed form, and the tests' false-positive rates on null data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from helpers.inference import (
    autocorrelation_length,
    block_folds,
    bootstrap_summary,
    bootstrap_weights,
    corrected_t_interval,
    holm,
    linear_shifts,
    max_statistic,
    max_statistic_threshold,
    paired_bootstrap,
    permutation_p_value,
    ridge_loo,
    shuffled_folds,
    stratified_folds,
)


# ------------------------------------------------------------------------------ bootstrap
def test_bootstrap_weights_row_zero_is_the_data_and_rows_sum_to_n():
    weights = bootstrap_weights(7, n_boot=50, seed=1)
    assert weights.shape == (51, 7)
    assert np.all(weights[0] == 1)
    assert np.all(weights.sum(axis=1) == 7)
    assert np.array_equal(weights, bootstrap_weights(7, n_boot=50, seed=1))


@pytest.mark.parametrize("n, n_boot", [(1, 10), (5, 0)])
def test_bootstrap_weights_bad_input(n, n_boot):
    with pytest.raises(ValueError, match="at least"):
        bootstrap_weights(n, n_boot)


def test_bootstrap_summary_matches_scipy_percentile_interval():
    rng = np.random.default_rng(0)
    values = rng.normal(size=40)
    weights = bootstrap_weights(40, n_boot=4000, seed=3)
    point, low, high = bootstrap_summary(weights @ values / 40)
    reference = scipy_stats.bootstrap((values,), np.mean, n_resamples=4000, method="percentile",
                                      random_state=3).confidence_interval
    assert point == pytest.approx(values.mean())
    assert low == pytest.approx(reference.low, abs=0.03)
    assert high == pytest.approx(reference.high, abs=0.03)


def test_paired_bootstrap_is_narrower_than_separate_intervals_and_covers():
    rng = np.random.default_rng(1)
    difficulty = rng.normal(0, 1, 200)
    a, b = difficulty + 0.1 + rng.normal(0, 0.1, 200), difficulty + rng.normal(0, 0.1, 200)
    mean, low, high = paired_bootstrap(a, b, seed=0)
    assert low > 0 and mean == pytest.approx(np.mean(a - b))
    _, low_a, high_a = paired_bootstrap(a, seed=0)
    assert high - low < 0.2 * (high_a - low_a)


def test_paired_bootstrap_coverage_on_null_differences():
    rng = np.random.default_rng(2)
    misses = 0
    for _ in range(200):
        _, low, high = paired_bootstrap(rng.normal(size=30), rng.normal(size=30), n_boot=400,
                                        seed=int(rng.integers(1e9)))
        misses += not low <= 0 <= high
    assert misses / 200 < 0.1


@pytest.mark.parametrize("a, b, match", [([1.0, np.nan], None, "NaN"),
                                         ([1.0, 2.0], [1.0], "same units"),
                                         ([], None, "empty")])
def test_paired_bootstrap_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        paired_bootstrap(a, b)


# ------------------------------------------------------------------------------ permutation tests
def test_permutation_p_value_is_uniform_under_the_null():
    rng = np.random.default_rng(1)
    draws = rng.normal(size=(5000, 20))
    p_values = np.array([permutation_p_value(row[0], row[1:]) for row in draws])
    assert np.mean(p_values <= 0.05) == pytest.approx(0.05, abs=4 * np.sqrt(0.05 * 0.95 / 5000))
    assert permutation_p_value(5.0, np.zeros(99)) == pytest.approx(0.01)


def test_permutation_p_value_bad_input():
    with pytest.raises(ValueError, match="empty"):
        permutation_p_value(0.6, [])
    with pytest.raises(ValueError, match="finite"):
        permutation_p_value(np.nan, [0.5])


def test_max_statistic_controls_the_family_wise_error_even_with_heavy_tails():
    rng = np.random.default_rng(0)
    any_hit = []
    for _ in range(300):
        scores = rng.standard_t(2, size=(201, 30))  # observed is row 0, exchangeable
        _, significant = max_statistic(scores[0], scores[1:])
        any_hit.append(significant.any())
    assert np.mean(any_hit) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)


def test_max_statistic_finds_a_planted_effect_and_its_threshold_agrees():
    rng = np.random.default_rng(1)
    null = rng.normal(size=(200, 20))
    observed = rng.normal(size=20)
    observed[12:] += 6
    p_values, significant = max_statistic(observed, null)
    assert significant[12:].all() and not significant[:12].any()
    threshold = max_statistic_threshold(observed, null)
    assert np.array_equal(observed > threshold, significant)
    assert p_values.min() == pytest.approx(1 / 201)


def test_max_statistic_refuses_too_few_permutations():
    with pytest.raises(ValueError, match="at least 19"):
        max_statistic(np.zeros(3), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="n_permutations"):
        max_statistic(np.zeros(3), np.zeros((50, 4)))


def test_holm_against_hand_computation():
    p_values = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005 <= 0.0125, 0.01 <= 0.0167, 0.03 > 0.025: stop
    assert holm(p_values).tolist() == [True, False, False, True]
    assert not holm([0.2, 0.5]).any()


def test_linear_shifts_pairs_central_trials_with_shifted_ones():
    central, shifted = linear_shifts(20, 3)
    assert np.array_equal(central, np.arange(3, 17))
    assert np.array_equal(shifted[0], central)
    assert shifted.shape == (7, 14) and shifted.min() == 0 and shifted.max() == 19
    with pytest.raises(ValueError, match="central"):
        linear_shifts(20, 6)
    _, skipping = linear_shifts(40, 8, min_shift=5)
    offsets = skipping[:, 0] - skipping[0, 0]
    assert offsets.tolist() == [0, -8, -7, -6, -5, 5, 6, 7, 8]
    with pytest.raises(ValueError, match="min_shift"):
        linear_shifts(40, 3, min_shift=4)


def test_autocorrelation_length_of_independent_and_bout_labels():
    rng = np.random.default_rng(0)
    assert autocorrelation_length(rng.integers(0, 2, 400)) == 1
    labels = np.empty(4000, dtype=int)
    labels[0] = 0
    for i in range(1, 4000):
        labels[i] = labels[i - 1] if rng.random() < 0.95 else 1 - labels[i - 1]
    assert 7 <= autocorrelation_length(labels) <= 13  # 0.9 ** k < 1/e at k = 10
    assert autocorrelation_length(np.ones(50)) == 1


# ------------------------------------------------------------------------------ folds, intervals
def test_corrected_t_interval_is_wider_than_the_naive_one_and_narrows_with_folds():
    few = np.array([0.6, 0.65, 0.7, 0.75, 0.8])
    many = np.tile(few, 10)
    mean, low, high = corrected_t_interval(few, test_fraction=0.2)
    assert low < mean < high
    naive = scipy_stats.t.ppf(0.975, 4) * few.std(ddof=1) / np.sqrt(5)
    assert (high - low) / 2 > naive
    _, low_many, high_many = corrected_t_interval(many, test_fraction=0.2)
    assert high_many - low_many < high - low


@pytest.mark.parametrize("scores, fraction, level", [([0.5], 0.2, 0.95), ([0.5, 0.6], 1.0, 0.95),
                                                     ([0.5, 0.6], 0.2, 1.5)])
def test_corrected_t_interval_bad_input(scores, fraction, level):
    with pytest.raises(ValueError):
        corrected_t_interval(scores, fraction, level)


def test_folds_cover_every_trial_once_per_repeat():
    labels = np.array([0] * 12 + [1] * 28)
    folds = stratified_folds(labels, n_splits=4, n_repeats=2, seed=0)
    assert len(folds) == 8
    tested = np.concatenate([test for _, test in folds[:4]])
    assert np.array_equal(np.sort(tested), np.arange(40))
    assert all(labels[test].mean() == pytest.approx(0.7) for _, test in folds)
    for train, test in block_folds(40, 4) + shuffled_folds(40, 4, seed=2):
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 40
    blocks = [test for _, test in block_folds(40, 4)]
    assert all(np.all(np.diff(block) == 1) for block in blocks)


def test_folds_bad_input():
    with pytest.raises(ValueError, match="fewer folds"):
        block_folds(5, 5)
    with pytest.raises(ValueError, match="at least 2"):
        shuffled_folds(10, 1)


# ------------------------------------------------------------------------------ ridge
def test_ridge_loo_matches_scikit_learn_ridgecv():
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6)) * [1, 2, 3, 1, 1, 5]
    y = x @ rng.normal(size=6) + rng.normal(size=80)
    alphas = (0.1, 1.0, 10.0, 100.0)
    _, predicted = ridge_loo(x[None, :60], y[None, :60, None], x[None, 60:], alphas)
    reference = make_pipeline(StandardScaler(), RidgeCV(alphas=alphas)).fit(x[:60], y[:60])
    assert np.allclose(predicted[0, :, 0], reference.predict(x[60:]), atol=1e-6)


def test_folds_are_stratified_disjoint_and_cover_every_trial_once_per_repeat() -> None:
    labels = np.r_[np.ones(40, int), np.zeros(20, int)]
    folds = stratified_folds(labels, n_splits=4, n_repeats=2, seed=0)
    assert len(folds) == 8
    for repeat in range(2):
        tested = np.concatenate([test for _, test in folds[4 * repeat:4 * repeat + 4]])
        np.testing.assert_array_equal(np.sort(tested), np.arange(60))
    for train, test in folds:
        assert not np.intersect1d(train, test).size
        assert len(train) + len(test) == 60
        assert labels[test].mean() == pytest.approx(2 / 3, abs=0.05)


def test_folds_are_reproducible() -> None:
    labels = np.r_[np.ones(40, int), np.zeros(20, int)]
    same = stratified_folds(labels, seed=3), stratified_folds(labels, seed=3)
    for (train_a, test_a), (train_b, test_b) in zip(*same, strict=True):
        np.testing.assert_array_equal(train_a, train_b)
        np.testing.assert_array_equal(test_a, test_b)
    other = stratified_folds(labels, seed=4)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(same[0], other, strict=True))


def test_folds_need_enough_trials_per_class() -> None:
    with pytest.raises(ValueError, match="n_splits=5 cannot be greater"):
        stratified_folds(np.array([0, 0, 1, 1, 1, 1]), n_splits=5)
