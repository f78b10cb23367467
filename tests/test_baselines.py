"""Baselines and co-smoothing evaluation (helpers.baselines, helpers.evaluation, chapter 2)."""

import numpy as np
import pytest

from helpers import baselines
from helpers.evaluation import co_smoothing_split, score_rates, split_neurons
from helpers.metrics import bits_per_spike
from helpers.surrogate import make_session


@pytest.fixture(scope="module")
def split_session():
    """A small simulated session cut into a co-smoothing split."""
    session = make_session(1, n_trials=80, n_bins=60, area_counts={"VISp": 40, "VISam": 20})
    split = co_smoothing_split(session.n_trials, session.n_neurons, seed=0)
    return session, split, split.apply(session.spikes), split.apply(session.truth.rates)


# ----------------------------------------------------------------------------- splits
def test_co_smoothing_split_never_leaks_trials_or_neurons(split_session):
    session, split, data, _ = split_session
    assert not set(split.train_trials) & set(split.test_trials)
    assert not set(split.heldin_neurons) & set(split.heldout_neurons)
    assert sorted([*split.train_trials, *split.test_trials]) == list(range(session.n_trials))
    assert sorted([*split.heldin_neurons, *split.heldout_neurons]) == list(
        range(session.n_neurons))
    assert data.train_inputs.shape == (64, 60, 30) and data.test_targets.shape == (16, 60, 30)
    expected = session.spikes[split.heldout_neurons][:, split.test_trials].transpose(1, 2, 0)
    assert np.array_equal(data.test_targets, expected)


@pytest.mark.parametrize("n_neurons", [2, 3, 145])
def test_split_neurons_is_without_replacement(n_neurons):
    heldin, heldout = split_neurons(n_neurons, 0.5, seed=4)
    assert len(np.unique(heldin)) == len(heldin) and len(np.unique(heldout)) == len(heldout)
    assert len(heldin) >= 1 and len(heldout) >= 1
    assert np.array_equal(np.sort(np.r_[heldin, heldout]), np.arange(n_neurons))


def test_split_neurons_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least 2 neurons"):
        split_neurons(1)
    with pytest.raises(ValueError, match="heldout_fraction"):
        split_neurons(10, 1.0)


def test_apply_checks_the_layout(split_session):
    _, split, _, _ = split_session
    with pytest.raises(ValueError, match="this split is for"):
        split.apply(np.zeros((3, 80, 60)))


# -------------------------------------------------------------------------- baselines
def test_baselines_beat_the_null_and_stay_below_the_truth(split_session):
    session, split, data, truth = split_session
    null = baselines.constant_rates(data.train_targets, len(data.test_targets))
    glm = baselines.SmoothingGLM(sigma_bins=3.0, alpha=0.1).fit(data.train_inputs,
                                                                 data.train_targets)
    conditions = np.c_[session.contrast_left, session.contrast_right]
    psth = baselines.ConditionPSTH(sigma_bins=4.0, shrinkage=20.0).fit(
        data.train_targets, conditions[split.train_trials]).predict(conditions[split.test_trials])
    scores = {name: bits_per_spike(rates, data.test_targets) for name, rates in
              {"null": null, "glm": glm.predict(data.test_inputs), "psth": psth,
               "truth": truth.test_targets}.items()}
    assert scores["null"] <= 0.0
    assert scores["glm"] > 0.0 and scores["psth"] > scores["null"]
    assert scores["truth"] > max(scores["glm"], scores["psth"])


def test_constant_rates_are_the_training_means():
    train = np.random.default_rng(0).poisson(0.4, (5, 7, 3))
    rates = baselines.constant_rates(train, 2)
    assert rates.shape == (2, 7, 3)
    assert np.allclose(rates[1, 4], train.mean(axis=(0, 1)))


def test_condition_psth_averages_within_a_condition_and_falls_back_to_all_trials():
    train = np.zeros((4, 3, 1))
    train[:2] = 1.0  # condition "a" fires, condition "b" does not
    psth = baselines.ConditionPSTH(sigma_bins=0, shrinkage=0).fit(train, ["a", "a", "b", "b"])
    rates = psth.predict(np.array(["b", "a", "new"]))
    assert np.allclose(rates[1], 1.0) and np.allclose(rates[0], 1e-6)
    assert np.allclose(rates[2], 0.5)
    shrunk = baselines.ConditionPSTH(sigma_bins=0, shrinkage=2).fit(train, [[0, 1], [0, 1],
                                                                            [1, 0], [1, 0]])
    assert np.allclose(shrunk.predict(np.array([[0, 1]])), (2 * 1.0 + 2 * 0.5) / 4)
    with pytest.raises(RuntimeError, match="fit"):
        baselines.ConditionPSTH().predict(["a"])


def test_smooth_spikes_keeps_the_mean_and_checks_the_layout():
    spikes = np.random.default_rng(0).poisson(0.5, (3, 200, 2)).astype(float)
    smoothed = baselines.smooth_spikes(spikes, 4.0)
    assert smoothed.shape == spikes.shape
    assert smoothed.mean() == pytest.approx(spikes.mean(), rel=0.02)
    assert smoothed.std() < spikes.std()
    with pytest.raises(ValueError, match="n_trials, n_bins, n_neurons"):
        baselines.smooth_spikes(np.ones((3, 4)), 1.0)
    with pytest.raises(ValueError, match="sigma_bins"):
        baselines.smooth_spikes(spikes, -1.0)


def test_glm_errors_are_clear():
    glm = baselines.SmoothingGLM()
    with pytest.raises(RuntimeError, match="fit"):
        glm.predict(np.ones((1, 5, 2)))
    with pytest.raises(ValueError, match="share"):
        glm.fit(np.ones((2, 5, 2)), np.ones((3, 5, 1)))
    with pytest.raises(ValueError, match="NaN"):
        glm.fit(np.full((2, 5, 2), np.nan), np.ones((2, 5, 1)))


def test_tuned_baselines_pick_settings_from_the_grid(split_session):
    session, split, data, _ = split_session
    glm = baselines.fit_smoothing_glm(data.train_inputs, data.train_targets, sigmas=(1.0, 4.0),
                                      alphas=(0.1, 1.0))
    assert glm.sigma_bins in (1.0, 4.0) and glm.weights is not None
    conditions = np.c_[session.contrast_left, session.contrast_right][split.train_trials]
    psth = baselines.fit_condition_psth(data.train_targets, conditions, sigmas=(2.0, 4.0))
    assert psth.sigma_bins in (2.0, 4.0) and psth.shrinkage in (1.0, 5.0, 20.0)


# ----------------------------------------------------------------------------- scoring
def test_score_rates_reports_intervals_ratios_and_fraction_of_oracle(split_session):
    _, _, data, truth = split_session
    null = baselines.constant_rates(data.train_targets, len(data.test_targets))
    half = 0.5 * truth.test_targets + 0.5 * null
    rows = score_rates({"truth": truth.test_targets, "half": half, "null": null},
                       data.test_targets, reference="half", oracle="truth", n_boot=200)
    by_name = {row["model"]: row for row in rows}
    for row in rows:
        assert row["bps_low"] <= row["bps"] <= row["bps_high"]
    assert by_name["truth"]["fraction_of_oracle"] == pytest.approx(1.0)
    assert by_name["half"]["ratio"] == pytest.approx(1.0)
    assert by_name["truth"]["bps"] == pytest.approx(
        bits_per_spike(truth.test_targets, data.test_targets))
    assert by_name["truth"]["median_pseudo_r2"] > by_name["null"]["median_pseudo_r2"]


def test_score_rates_rejects_unknown_names_and_shapes(split_session):
    _, _, data, truth = split_session
    with pytest.raises(KeyError, match="oracle"):
        score_rates({"truth": truth.test_targets}, data.test_targets, oracle="oracle")
    with pytest.raises(ValueError, match="rates"):
        score_rates({"bad": truth.test_targets[:, :5]}, data.test_targets)
