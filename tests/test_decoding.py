"""Tests for helpers.decoding: task variables, simpler representations, alignment to events,
time-resolved decoding with a shuffled null, and the two-way comparison of latent spaces."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from helpers.decoding import (
    VARIABLES,
    align_to_event,
    causal_smooth,
    compare_latents,
    decode_over_time,
    first_decodable_time,
    linear_r2,
    pca_trajectories,
    trial_variable,
)
from helpers.session import Session

RNG = np.random.default_rng(0)


def toy_session(n_trials: int = 40, n_bins: int = 50, wheel: bool = True) -> Session:
    rng = np.random.default_rng(1)
    return Session(
        spikes=rng.poisson(0.3, (6, n_trials, n_bins)), brain_area=["VISp"] * 6,
        contrast_left=rng.choice([0, 0.25, 0.5, 1.0], n_trials),
        contrast_right=rng.choice([0, 0.25, 0.5, 1.0], n_trials),
        feedback_type=rng.choice([-1, 1], n_trials), response=rng.choice([-1, 0, 1], n_trials),
        stim_onset=0.2, behaviour={"wheel": rng.normal(size=(n_trials, n_bins))} if wheel else {},
    )


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
    speed = trial_variable(session, "wheel speed", bin_width=0.05)
    assert speed.shape == (40, 10) and (speed >= 0).all()
    assert set(VARIABLES) == {"stimulus side", "contrast difference", "choice", "movement",
                              "wheel speed", "outcome"}


def test_missing_variables_are_named():
    session = toy_session(wheel=False)
    with pytest.raises(ValueError, match="Cannot decode 'wheel speed'.*no wheel trace"):
        trial_variable(session, "wheel speed")
    with pytest.raises(ValueError, match="Cannot decode 'choice'.*no responses"):
        trial_variable(replace(session, response=None), "choice")
    with pytest.raises(ValueError, match="Unknown variable 'pupil'"):
        trial_variable(session, "pupil")


# --------------------------------------------------------------------------- representations
def test_causal_smooth_never_looks_ahead():
    spikes = RNG.poisson(1.0, (3, 20, 4)).astype(float)
    smoothed = causal_smooth(spikes, tau_bins=2.0)
    changed = spikes.copy()
    changed[:, 12:] += 5
    again = causal_smooth(changed, tau_bins=2.0)
    np.testing.assert_array_equal(again[:, :12], smoothed[:, :12])
    assert not np.allclose(again[:, 12:], smoothed[:, 12:])
    np.testing.assert_allclose(causal_smooth(spikes, 0), np.log1p(spikes))


def test_pca_trajectories_shape_and_fit_trials():
    features = RNG.normal(size=(30, 10, 6))
    projected = pca_trajectories(features, 3, fit_trials=np.arange(20))
    assert projected.shape == (30, 10, 3)
    with pytest.raises(ValueError, match="n_components must be between 1 and 6"):
        pca_trajectories(features, 7)


# --------------------------------------------------------------------------- alignment
def test_align_to_event_recuts_each_trial():
    time = (np.arange(20) + 0.5) * 0.1 - 0.5  # -0.45 .. 1.45 s
    values = np.tile(time, (4, 1))[:, :, None]  # each bin holds its own time
    events = np.array([0.3, 0.52, np.nan, 1.4])
    aligned, kept, relative = align_to_event(values, time, events, (-0.2, 0.2))
    np.testing.assert_array_equal(kept, [True, True, False, False])  # NaN; window past the end
    np.testing.assert_allclose(relative, [-0.15, -0.05, 0.05, 0.15])
    np.testing.assert_allclose(aligned[0, :, 0], [0.15, 0.25, 0.35, 0.45])  # 0.3 in bin 0.35
    np.testing.assert_allclose(aligned[1, :, 0], [0.35, 0.45, 0.55, 0.65])


def test_align_to_event_window_outside_the_trial_gives_the_range():
    time = (np.arange(20) + 0.5) * 0.1 - 0.5
    values = np.zeros((3, 20))
    with pytest.raises(ValueError, match=r"recorded bins \(-0.50 to 1.50 s.*windows from"):
        align_to_event(values, time, np.array([0.3, 0.4, 0.5]), (-1.0, 2.0))
    with pytest.raises(ValueError, match="end > start"):
        align_to_event(values, time, np.array([0.3, 0.4, 0.5]), (0.2, 0.1))
    with pytest.raises(ValueError, match="all event times are NaN"):
        align_to_event(values, time, np.full(3, np.nan), (-0.1, 0.1))


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
    assert (late["score"] > 0.85).all() and (late["low"] > late["null_high"]).all()
    assert early["score"].between(0.35, 0.65).all()
    assert abs(table["null_mean"].mean() - 0.5) < 0.03  # shuffled labels: chance
    assert first_decodable_time(table) == pytest.approx(0.3)


def test_decoder_on_shuffled_labels_is_at_chance():
    features, labels = planted()
    shuffled = np.random.default_rng(5).permutation(labels)
    table = decode_over_time(features, shuffled, n_shuffles=0)
    assert abs(table["score"].mean() - 0.5) < 0.05
    assert np.isnan(first_decodable_time(table))


def test_decoder_regression_with_per_bin_target():
    target = RNG.normal(size=(150, 8))
    features = RNG.normal(size=(150, 8, 5))
    features[..., 2] += target
    table = decode_over_time(features, target, n_shuffles=5)
    assert (table["metric"] == "R²").all()
    assert (table["score"] > 0.3).all() and (table["null_mean"].abs() < 0.1).all()


def test_decoder_drops_undefined_trials_and_checks_its_input():
    features, labels = planted()
    labels[:10] = np.nan
    assert (decode_over_time(features, labels, n_shuffles=0)["n_trials"] == 190).all()
    one_class = np.zeros(200)
    one_class[:3] = 1
    with pytest.raises(ValueError, match="Too few trials of class 1"):
        decode_over_time(features, one_class)
    with pytest.raises(ValueError, match="target must be"):
        decode_over_time(features, labels[:50])
    with pytest.raises(ValueError, match="features must be"):
        decode_over_time(features[0], labels)


# --------------------------------------------------------------------------- latent spaces
def test_two_way_r2_is_near_one_for_an_invertible_linear_map():
    true = RNG.normal(size=(100, 20, 4))
    mixing = RNG.normal(size=(4, 4)) + 2 * np.eye(4)
    learned = true @ mixing + 0.5
    comparison = compare_latents(learned, true, names=("a", "b", "c", "d"))
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
    comparison = compare_latents(learned, true)
    assert (comparison.to_true > 0.99).all()
    assert comparison.to_learned.iloc[:3].min() > 0.99 and comparison.to_learned.iloc[3] < 0.05
    assert comparison.extra_dimensions() == ["factor 4"]
    assert comparison.summary().endswith("R² < 0.5: 4")


def test_linear_r2_checks_shapes():
    with pytest.raises(ValueError, match="must share"):
        linear_r2(np.zeros((10, 5, 2)), np.zeros((10, 6, 2)))
    with pytest.raises(ValueError, match="names for 2 true latents"):
        compare_latents(np.zeros((10, 5, 2)), RNG.normal(size=(10, 5, 2)), names=("a",))
