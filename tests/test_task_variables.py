"""Tests for helpers.task_variables: the task's variables per trial, and the nulls they get
(pseudo-sessions, within-condition permutations, nuisance regressors)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from helpers.session import Session
from helpers.task_variables import (
    NUISANCE_OF_VARIABLE,
    NULL_OF_VARIABLE,
    REGRESSORS,
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
    assert null_options(session, "outcome", trials=trials)["nuisance"].shape == (200, 8)
    assert side["nuisance"].shape == (200, 12)  # drift 3, choice 2, previous 2 + 2 + 2 + 1
    assert null_options(session, "previous outcome") == {}
    no_choice = replace(session, response=None)
    assert null_options(no_choice, "stimulus side", n_null=30)["nuisance"].shape == (400, 8)
    with pytest.raises(ValueError, match="increasing trial indices"):
        null_options(session, "outcome", trials=trials[::-1])
    with pytest.raises(ValueError, match="Unknown variable"):
        null_options(session, "pupil")


def test_nuisance_regressors_name_their_columns_and_confounds():
    session = toy_session()
    assert set(NUISANCE_OF_VARIABLE) == set(VARIABLES)
    assert all(set(names) <= set(REGRESSORS) for names in NUISANCE_OF_VARIABLE.values())
    columns = nuisance_regressors(session, ("choice", "previous choice", "contrasts",
                                            "previous contrasts after an error"))
    np.testing.assert_array_equal(columns[:, 0], session.response == -1)
    np.testing.assert_array_equal(columns[:, 1], session.response == 1)
    np.testing.assert_array_equal(columns[1:, 2], session.response[:-1] == -1)
    np.testing.assert_array_equal(columns[:, 4], session.contrast_left)
    np.testing.assert_array_equal(columns[1:, 6], session.contrast_left[:-1]
                                  * ~session.is_correct[:-1])
    assert "choice" in NUISANCE_OF_VARIABLE["stimulus side"]
    assert "previous choice" in NUISANCE_OF_VARIABLE["choice"]
    assert {"choice", "contrasts"} <= set(NUISANCE_OF_VARIABLE["outcome"])
    with pytest.raises(ValueError, match="Unknown nuisance regressor"):
        nuisance_regressors(session, ("pupil",))
    with pytest.raises(ValueError, match="no responses"):
        nuisance_regressors(replace(session, response=None), ("choice",))


def choice_only_run(rng: np.random.Generator, n_trials: int = 150, n_bins: int = 6):
    """A task session whose choice follows the stimulus on about 3 trials in 4, and features
    that carry the choice only (and a slow drift): ``(session, features)``."""
    pairs = np.array([[0, 0], [1, 0], [0, 1], [0.5, 0.25], [0.25, 0.5], [0, 0.5], [0.5, 0]])
    index = rng.integers(0, len(pairs), n_trials)
    left, right = pairs[index, 0], pairs[index, 1]
    side = np.where(right > left, 1, np.where(left > right, 0, rng.integers(0, 2, n_trials)))
    rewarded = rng.random(n_trials) < 0.75
    choice = np.where(rewarded, side, 1 - side)
    session = Session(spikes=np.zeros((1, n_trials, 1), int), brain_area=["VISp"],
                      contrast_left=left, contrast_right=right,
                      feedback_type=np.where(rewarded, 1, -1),
                      response=np.where(choice == 1, -1, 1))
    drift = np.cumsum(rng.normal(size=(n_trials, 1, 4)), axis=0) / np.sqrt(n_trials)
    features = rng.normal(size=(n_trials, n_bins, 4)) + drift
    features[:, :, 0] += 2.0 * (choice - choice.mean())[:, None]
    return session, features


def test_stimulus_beyond_choice_keeps_its_false_positive_rate():
    """A population that carries only the choice is not called stimulus-selective: the
    chapter's options (pseudo-sessions + choice as nuisance) flag about 5 % of runs, while
    the pseudo-sessions alone flag most of them."""
    from helpers.decoding import decode_over_time

    rng = np.random.default_rng(7)
    flagged = {True: [], False: []}
    for run in range(30):
        session, features = choice_only_run(rng)
        options = null_options(session, "stimulus side", n_null=40, seed=run)
        target = trial_variable(session, "stimulus side")
        for with_nuisance in (True, False):
            kwargs = options if with_nuisance else {"null_targets": options["null_targets"]}
            table = decode_over_time(features, target, n_permutations=40, **kwargs)
            flagged[with_nuisance].append(bool(table["significant"].any()))
    assert np.mean(flagged[True]) <= 0.15  # 5 % + 2.5 Monte Carlo s.e. of 30 runs
    assert np.mean(flagged[False]) >= 0.5  # the confound the nuisance removes is real
