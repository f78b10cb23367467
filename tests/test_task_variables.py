"""Tests for helpers.task_variables: the task's variables per trial, and the nulls they get
(pseudo-sessions, within-condition permutations, nuisance regressors)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from helpers.session import Session
from helpers.task_variables import (
    NULL_OF_VARIABLE,
    VARIABLES,
    nuisance_regressors,
    null_options,
    pseudo_targets,
    trial_variable,
    within_condition_targets,
)


def toy_session(n_trials: int = 40, n_bins: int = 50, wheel: bool = True) -> Session:
    rng = np.random.default_rng(1)
    return Session(
        spikes=rng.poisson(0.3, (6, n_trials, n_bins)), brain_area=["VISp"] * 6,
        contrast_left=rng.choice([0, 0.25, 0.5, 1.0], n_trials),
        contrast_right=rng.choice([0, 0.25, 0.5, 1.0], n_trials),
        feedback_type=rng.choice([-1, 1], n_trials), response=rng.choice([-1, 0, 1], n_trials),
        stim_onset=0.2, behaviour={"wheel": rng.normal(size=(n_trials, n_bins))} if wheel else {},
    )


def repeating_session(n_trials: int = 400) -> Session:
    """A session whose contrasts repeat after every error (the task's rule, strictly)."""
    rng = np.random.default_rng(2)
    pairs = np.array([[0, 0], [1, 0], [0, 1], [0.5, 0.25], [0.25, 0.5], [0, 0.5], [0.5, 0]])
    rewarded = rng.random(n_trials) < 0.7
    index = rng.integers(0, len(pairs), n_trials)
    for t in range(1, n_trials):
        if not rewarded[t - 1]:
            index[t] = index[t - 1]
    return Session(spikes=np.zeros((2, n_trials, 10), int), brain_area=["VISp"] * 2,
                   contrast_left=pairs[index, 0], contrast_right=pairs[index, 1],
                   feedback_type=np.where(rewarded, 1, -1),
                   response=rng.choice([-1, 0, 1], n_trials))


# --------------------------------------------------------------------------- variables
def test_trial_variables_follow_their_definitions():
    session = toy_session()
    left, right = session.contrast_left, session.contrast_right
    side = trial_variable(session, "stimulus side")
    assert np.all(side[right > left] == 1) and np.all(side[left > right] == 0)
    assert np.isnan(side[left == right]).all()
    np.testing.assert_allclose(trial_variable(session, "contrast difference"), right - left)
    choice = trial_variable(session, "choice")
    assert np.all(choice[session.response == -1] == 1)
    assert np.all(choice[session.response == 1] == 0)
    assert np.isnan(choice[session.response == 0]).all()
    np.testing.assert_array_equal(trial_variable(session, "movement"), session.response != 0)
    np.testing.assert_array_equal(trial_variable(session, "outcome"), session.is_correct)
    previous = trial_variable(session, "previous outcome")
    assert np.isnan(previous[0])
    np.testing.assert_array_equal(previous[1:], session.is_correct[:-1])
    np.testing.assert_array_equal(trial_variable(session, "previous stimulus side")[1:],
                                  side[:-1])
    speed = trial_variable(session, "wheel speed", bin_width=0.05)
    assert speed.shape == (40, 10) and (speed >= 0).all()
    assert set(VARIABLES) == set(NULL_OF_VARIABLE)


def test_missing_variables_are_named():
    session = toy_session(wheel=False)
    with pytest.raises(ValueError, match="Cannot decode 'wheel speed'.*no wheel trace"):
        trial_variable(session, "wheel speed")
    with pytest.raises(ValueError, match="Cannot decode 'choice'.*no responses"):
        trial_variable(replace(session, response=None), "choice")
    with pytest.raises(ValueError, match="Unknown variable 'pupil'"):
        trial_variable(session, "pupil")


# --------------------------------------------------------------------------- pseudo-sessions
def test_pseudo_targets_keep_the_repeat_rule_but_not_the_sequence():
    session = repeating_session()
    real = trial_variable(session, "contrast difference")
    null = pseudo_targets(session, "contrast difference", n_null=100, seed=3)
    assert null.shape == (100, session.n_trials)
    error = ~session.is_correct[:-1]
    repeats = (null[:, 1:] == null[:, :-1])[:, error].mean()
    assert repeats > 0.9  # repeats after the mouse's errors, as in the session
    assert np.mean(null == real[None]) < 0.4  # but a different sequence
    side = pseudo_targets(session, "stimulus side", n_null=5)
    assert set(np.unique(side)) == {0.0, 1.0}  # equal pseudo-contrasts get a random side
    previous = pseudo_targets(session, "previous stimulus side", n_null=5, seed=0)
    np.testing.assert_array_equal(previous[:, 1:], pseudo_targets(
        session, "stimulus side", n_null=5, seed=0)[:, :-1])
    with pytest.raises(ValueError, match="not a variable the experimenter generated"):
        pseudo_targets(session, "choice")


def test_within_condition_targets_permute_inside_each_condition_only():
    rng = np.random.default_rng(0)
    conditions = rng.integers(0, 4, 200)
    target = (conditions >= 2) + 0.0
    flip = rng.random(200) < 0.3
    target[flip] = 1 - target[flip]
    target[:10] = np.nan
    null = within_condition_targets(target, conditions, n_null=50, seed=1)
    assert null.shape == (50, 200) and np.isnan(null[:, :10]).all()
    for c in range(4):  # each condition keeps its own values, reordered
        members = (conditions == c) & np.isfinite(target)
        np.testing.assert_array_equal(np.sort(null[:, members], axis=1),
                                      np.tile(np.sort(target[members]), (50, 1)))
    assert np.mean(null[:, 10:] != target[None, 10:]) > 0.1  # it moves trials
    with pytest.raises(ValueError, match="one entry per trial"):
        within_condition_targets(target, conditions[:100])
    with pytest.raises(ValueError, match="no condition holds two trials"):
        within_condition_targets(target[10:20], np.arange(10))


def test_nuisance_regressors_hold_slow_drift_and_the_previous_outcome():
    session = toy_session()
    nuisance = nuisance_regressors(session, n_drift=2)
    assert nuisance.shape == (40, 3)
    np.testing.assert_allclose(nuisance[1:, -1], session.is_correct[:-1])
    assert nuisance[0, -1] == pytest.approx(session.is_correct.mean())
    assert np.all(np.diff(nuisance[:, 0]) < 0)  # the slowest cosine falls across the session
    with pytest.raises(ValueError, match="n_drift must be >= 0"):
        nuisance_regressors(session, n_drift=-1)


def test_null_options_give_each_variable_its_null_for_the_decoded_trials():
    session = repeating_session()
    trials = np.arange(0, 400, 2)
    side = null_options(session, "stimulus side", trials=trials, n_null=30)
    assert side["null_targets"].shape == (30, 200)
    choice = null_options(session, "choice", trials=trials, n_null=30)["null_targets"]
    real = trial_variable(session, "choice")[trials]
    np.testing.assert_array_equal(np.isnan(choice[0]), np.isnan(real))
    assert null_options(session, "outcome", trials=trials)["nuisance"].shape == (200, 4)
    assert null_options(session, "previous outcome") == {}
    with pytest.raises(ValueError, match="increasing trial indices"):
        null_options(session, "outcome", trials=trials[::-1])
    with pytest.raises(ValueError, match="Unknown variable"):
        null_options(session, "pupil")
