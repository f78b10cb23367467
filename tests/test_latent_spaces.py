"""Tests for helpers.latent_spaces: linear maps between latent spaces both ways, trial-to-trial
residuals, and seed agreement against untrained networks."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.latent_spaces import compare_latents, linear_r2, seed_agreement, trial_residuals

RNG = np.random.default_rng(0)
SCHEMA = ["model", "metric", "score", "low", "high", "interval"]


def test_two_way_r2_is_near_one_for_an_invertible_linear_map():
    true = RNG.normal(size=(100, 20, 4))
    mixing = RNG.normal(size=(4, 4)) + 2 * np.eye(4)
    learned = true @ mixing + 0.5
    comparison = compare_latents(learned, true, names=("a", "b", "c", "d"), n_boot=50)
    assert list(comparison.table.columns[:6]) == SCHEMA
    assert (comparison.table["low"] <= comparison.table["score"]).all()
    assert (comparison.table["score"] <= comparison.table["high"]).all()
    assert (comparison.to_true > 0.99).all() and (comparison.to_learned > 0.99).all()
    assert list(comparison.to_true.index) == ["a", "b", "c", "d"]
    assert comparison.summary().startswith("4 of 4 true latents recovered")
    assert comparison.summary().endswith("factors with R² < 0.5: none")
    assert comparison.recovered() == ["a", "b", "c", "d"]
    assert comparison.extra_dimensions() == []


def test_two_way_r2_is_low_for_noise_and_flags_extra_dimensions():
    true = RNG.normal(size=(100, 20, 3))
    noise = RNG.normal(size=(100, 20, 3))
    assert (linear_r2(noise, true) < 0.05).all()
    learned = np.concatenate([true, noise[..., :1]], axis=-1)  # one extra dimension
    comparison = compare_latents(learned, true, n_boot=50)
    assert (comparison.to_true > 0.99).all()
    assert comparison.to_learned.iloc[:3].min() > 0.99 and comparison.to_learned.iloc[3] < 0.05
    assert comparison.extra_dimensions() == ["factor 4"]
    assert comparison.summary().endswith("R² < 0.5: 4")
    extra = comparison.table[comparison.table["dimension"] == "factor 4"].iloc[0]
    assert extra["high"] < 0.1  # the interval, too, says the truth does not explain it


def test_linear_r2_checks_shapes():
    with pytest.raises(ValueError, match="must share"):
        linear_r2(np.zeros((10, 5, 2)), np.zeros((10, 6, 2)))
    with pytest.raises(ValueError, match="names for 2 true latents"):
        compare_latents(np.zeros((10, 5, 2)), RNG.normal(size=(10, 5, 2)), names=("a",))
    with pytest.raises(ValueError, match="NaN"):
        linear_r2(np.full((10, 5, 2), np.nan), np.zeros((10, 5, 2)))


def test_trial_residuals_remove_the_shared_time_course():
    values = RNG.normal(size=(30, 8, 2)) + np.linspace(0, 5, 8)[None, :, None]
    residuals = trial_residuals(values)
    np.testing.assert_allclose(residuals.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(residuals[3] - residuals[4], values[3] - values[4])


def test_seed_agreement_separates_shared_structure_from_a_shared_time_course():
    n_trials, n_bins = 120, 30
    course = np.sin(np.linspace(0, 3, n_bins))[None, :, None]  # every trial's time course
    signal = RNG.normal(size=(n_trials, n_bins, 3))  # what varies between trials
    trained = [(signal + course) @ RNG.normal(size=(3, 5))
               + 0.3 * RNG.normal(size=(n_trials, n_bins, 5)) for _ in range(3)]
    untrained = [course @ RNG.normal(size=(1, 5)) + RNG.normal(size=(n_trials, n_bins, 5))
                 for _ in range(3)]
    flat = seed_agreement(trained, untrained, n_boot=100)
    assert list(flat.columns[:6]) == SCHEMA
    table = flat.set_index(["model", "values"])
    gain = table.loc[("trained - untrained", "trial residuals")]
    assert gain["low"] > 0.5  # trained networks share trial-to-trial structure
    assert table.loc[("untrained", "trial residuals"), "score"] < 0.05
    assert table.loc[("trained", "raw"), "n_pairs"] == 3
    # two copies of the same untrained space: no excess agreement
    same = seed_agreement(untrained, untrained, n_boot=100).set_index(["model", "values"])
    assert same.loc[("trained - untrained", "raw"), "score"] == pytest.approx(0)
    with pytest.raises(ValueError, match="at least 2 trained and 2 untrained"):
        seed_agreement(trained[:1], untrained)
