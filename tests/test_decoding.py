"""Tests for helpers.decoding: simpler representations (causal smoothing in seconds, PCA, the
causal linear predictive projection, the smoothing chosen on training trials), time-resolved
decoding, and the paired comparison of representations over time (false positives and power).
The null calibration of decode_over_time itself is in tests/test_inference.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.decoding import (
    best_smoothing,
    causal_smooth,
    compare_over_time,
    decode_over_time,
    first_decodable_time,
    pca_trajectories,
    plot_over_time,
    predictive_projection,
)

RNG = np.random.default_rng(0)


# --------------------------------------------------------------------------- representations
def test_causal_smooth_never_looks_ahead_and_takes_seconds():
    spikes = RNG.poisson(1.0, (3, 20, 4)).astype(float)
    smoothed = causal_smooth(spikes, 0.1, bin_size=0.05)
    changed = spikes.copy()
    changed[:, 12:] += 5
    again = causal_smooth(changed, 0.1, bin_size=0.05)
    np.testing.assert_array_equal(again[:, :12], smoothed[:, :12])
    assert not np.allclose(again[:, 12:], smoothed[:, 12:])
    np.testing.assert_allclose(causal_smooth(spikes, 0, bin_size=0.05), np.log1p(spikes))
    # the same time constant in seconds gives the same filter at any bin size
    np.testing.assert_allclose(causal_smooth(spikes, 0.1, bin_size=0.05),
                               causal_smooth(spikes, 0.2, bin_size=0.1))
    impulse = np.zeros((1, 40, 1))
    impulse[0, 0] = np.e - 1  # log1p -> 1
    decay = causal_smooth(impulse, 0.1, bin_size=0.01)[0, :, 0]
    assert decay[10] / decay[0] == pytest.approx(np.exp(-1), rel=1e-9)  # 0.1 s = 10 bins
    with pytest.raises(ValueError, match="tau_s must be >= 0"):
        causal_smooth(spikes, -1, bin_size=0.05)
    with pytest.raises(ValueError, match="bin_size must be positive"):
        causal_smooth(spikes, 0.1, bin_size=0)


def test_pca_trajectories_shape_and_fit_trials():
    features = RNG.normal(size=(30, 10, 6))
    projected = pca_trajectories(features, 3, fit_trials=np.arange(20))
    assert projected.shape == (30, 10, 3)
    with pytest.raises(ValueError, match="n_components must be between 1 and 6"):
        pca_trajectories(features, 7)


def test_predictive_projection_is_causal_and_finds_the_shared_dimensions():
    n_trials, n_bins = 80, 15
    drive = RNG.normal(size=(n_trials, n_bins, 2))  # two latent signals
    heldin = RNG.poisson(np.exp(0.5 + 0.5 * drive @ RNG.normal(size=(2, 12))))
    heldout = RNG.poisson(np.exp(0.5 + 0.5 * drive @ RNG.normal(size=(2, 10))))
    train = np.arange(60)
    projection = predictive_projection(heldin, heldout, 2, train_trials=train)
    assert projection.shape == (n_trials, n_bins, 2)
    # the two dimensions carry the latent signals on the unseen trials (R² of a linear map)
    test = slice(60, None)
    x = np.c_[projection[test].reshape(-1, 2), np.ones(20 * n_bins)]
    for k in range(2):
        y = drive[test, :, k].ravel()
        residual = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
        assert 1 - residual.var() / y.var() > 0.5
    changed = heldin.copy()
    changed[:, 10:] += 3
    again = predictive_projection(changed, heldout, 2, train_trials=train)
    assert not np.allclose(again, projection)  # the fit changes, but not by looking ahead:
    refit = predictive_projection(np.concatenate([heldin[:, :10], changed[:, 10:]], axis=1),
                                  heldout, 2, train_trials=train)
    np.testing.assert_allclose(refit, again)
    with pytest.raises(ValueError, match="n_components must be between 1 and 10"):
        predictive_projection(heldin, heldout, 11, train_trials=train)
    with pytest.raises(ValueError, match="must share"):
        predictive_projection(heldin[:, :5], heldout, 2, train_trials=train)


def test_predictive_projection_reads_no_future_bin():
    heldin = RNG.poisson(2.0, (50, 12, 6)).astype(float)
    heldout = RNG.poisson(2.0, (50, 12, 5)).astype(float)
    train = np.arange(40)
    base = predictive_projection(heldin, heldout, 2, train_trials=train)
    later = heldin.copy()
    later[40:, 8:] += 4  # test trials change after bin 8: the fit is the same
    changed = predictive_projection(later, heldout, 2, train_trials=train)
    np.testing.assert_allclose(changed[:, :8], base[:, :8])
    assert not np.allclose(changed[40:, 8:], base[40:, 8:])


def test_best_smoothing_prefers_the_time_constant_that_carries_the_signal():
    labels = RNG.integers(0, 2, 120).astype(float)
    spikes = RNG.poisson(1.0, (120, 20, 6)).astype(float)
    spikes[:, ::4, 0] += 3 * labels[:, None]  # a sparse signal: smoothing gathers it
    tau, scores = best_smoothing(spikes, labels, bin_size=0.05, taus_s=(0.0, 0.2))
    assert tau == 0.2 and scores[0.2] > scores[0.0]
    with pytest.raises(ValueError, match="taus_s is empty"):
        best_smoothing(spikes, labels, bin_size=0.05, taus_s=())


# --------------------------------------------------------------------------- decoding
def planted(n_trials: int = 200, n_bins: int = 12, n_features: int = 10):
    labels = RNG.integers(0, 2, n_trials).astype(float)
    features = RNG.normal(size=(n_trials, n_bins, n_features))
    features[:, 6:, 0] += 3.0 * (labels[:, None] - 0.5)  # the label appears from bin 6 on
    return features, labels


def test_decoder_finds_a_planted_signal_and_stays_at_chance_without_one():
    features, labels = planted()
    table = decode_over_time(features, labels, time=np.arange(12) * 0.05, model="toy")
    assert list(table["model"].unique()) == ["toy"]
    assert (table["metric"] == "balanced accuracy").all()
    early, late = table.iloc[:6], table.iloc[6:]
    assert (late["score"] > 0.85).all() and late["significant"].all()
    assert early["score"].between(0.35, 0.65).all() and not early["significant"].any()
    assert abs(table["null_mean"].mean() - 0.5) < 0.03  # shifted labels: chance
    assert first_decodable_time(table) == pytest.approx(0.3)


def test_decoder_on_shuffled_labels_is_at_chance():
    features, labels = planted()
    shuffled = np.random.default_rng(5).permutation(labels)
    table = decode_over_time(features, shuffled, null="shuffle")
    assert abs(table["score"].mean() - 0.5) < 0.05
    assert np.isnan(first_decodable_time(table))


def test_decoder_regression_with_per_bin_target():
    target = RNG.normal(size=(150, 8))
    features = RNG.normal(size=(150, 8, 5))
    features[..., 2] += target
    table = decode_over_time(features, target, n_permutations=40)
    assert (table["metric"] == "R²").all()
    assert (table["score"] > 0.2).all() and table["null_mean"].between(-0.2, 0.05).all()
    assert table["significant"].all()


def test_decoder_drops_undefined_trials_and_checks_its_input():
    features, labels = planted()
    labels[:10] = np.nan
    assert (decode_over_time(features, labels, null="shuffle")["n_trials"] == 190).all()
    one_class = np.zeros(200)
    one_class[:3] = 1
    with pytest.raises(ValueError, match="Too few trials of class 1"):
        decode_over_time(features, one_class)
    with pytest.raises(ValueError, match="target must be"):
        decode_over_time(features, labels[:50])
    with pytest.raises(ValueError, match="features must be"):
        decode_over_time(features[0], labels)


# --------------------------------------------------------------------------- paired comparisons
def two_representations(rng, n_trials=120, n_bins=10, size_a=1.0, size_b=1.0):
    """Two noisy copies of the same features, each with a label signal from bin 5 on."""
    labels = rng.integers(0, 2, n_trials).astype(float)
    base = rng.normal(size=(n_trials, n_bins, 4))
    a, b = (base + 0.5 * rng.normal(size=base.shape) for _ in range(2))
    a[:, 5:, 0] += size_a * (labels[:, None] - 0.5)
    b[:, 5:, 0] += size_b * (labels[:, None] - 0.5)
    return {"a": a, "b": b}, labels


def test_compare_over_time_rarely_separates_equal_representations():
    rng = np.random.default_rng(11)
    flagged = [compare_over_time(*two_representations(rng), reference="a", n_boot=300)
               ["significant"].any() for _ in range(30)]
    assert np.mean(flagged) <= 0.17  # family-wise 5 %: 1.5 expected in 30, 5 is p < 0.02


def test_compare_over_time_finds_a_better_representation_only_where_it_is():
    rng = np.random.default_rng(12)
    representations, labels = two_representations(rng, n_trials=200, size_a=2.5, size_b=0.3)
    table = compare_over_time(representations, labels, reference="a", time=np.arange(10) * 0.05)
    assert list(table.columns[:6]) == ["model", "time", "metric", "score", "low", "high"]
    assert (table["model"] == "a - b").all()
    assert table["metric"].iloc[0] == "balanced accuracy difference"
    assert table.iloc[5:]["significant"].all() and (table.iloc[5:]["score"] > 0.2).all()
    assert not table.iloc[:5]["significant"].any()
    assert (table["low"] <= table["score"]).all() and (table["score"] <= table["high"]).all()


def test_compare_over_time_bad_input():
    representations, labels = two_representations(np.random.default_rng(0))
    with pytest.raises(ValueError, match="reference 'c' must be one of"):
        compare_over_time(representations, labels, reference="c")
    with pytest.raises(ValueError, match="reference 'a' must be one of at least two"):
        compare_over_time({"a": representations["a"]}, labels, reference="a")
    with pytest.raises(ValueError, match="target must be"):
        compare_over_time(representations, labels[:50], reference="a")


def test_plot_over_time_draws_a_curve_its_band_and_significant_bins():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    features, labels = planted()
    table = decode_over_time(features, labels, time=np.arange(12) * 0.05, model="toy")
    ax = plot_over_time(table)
    score, threshold, dots = ax.lines[:3]
    np.testing.assert_allclose(score.get_ydata(), table["score"])
    np.testing.assert_allclose(threshold.get_ydata(), table["threshold"])
    assert len(dots.get_xdata()) == table["significant"].sum()
    assert ax.get_ylabel() == "balanced accuracy" and score.get_label() == "toy"
    with pytest.raises(ValueError, match="several curves"):
        plot_over_time(pd.concat([table, table], ignore_index=True))
    plt.close("all")
