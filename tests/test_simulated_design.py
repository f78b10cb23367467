"""helpers.simulated_design: simulated layouts and the simulated task, trial by trial."""

import numpy as np
import pytest

from helpers.session import REGION_GROUPS
from helpers.simulated_design import TaskBehaviour, default_area_counts, simulate_behaviour


# ----------------------------------------------------------------------------- layouts
@pytest.mark.parametrize("n_neurons", [20, 474, 1769])
def test_default_area_counts_sum_and_include_thalamus(n_neurons):
    for seed in range(5):
        counts = default_area_counts(n_neurons, seed)
        assert sum(counts.values()) == n_neurons
        assert all(n > 0 for n in counts.values())
        groups = {g for g, areas in REGION_GROUPS.items() if set(areas) & set(counts)}
        assert "thal" in groups
        known = {a for areas in REGION_GROUPS.values() for a in areas} | {"root"}
        assert set(counts) <= known


def test_default_area_counts_are_deterministic_and_varied():
    assert default_area_counts(700, 3) == default_area_counts(700, 3)
    layouts = [default_area_counts(700, seed) for seed in range(40)]
    assert len({tuple(sorted(c.items())) for c in layouts}) == 40
    with_vis = [any(a in REGION_GROUPS["vis ctx"] for a in c) for c in layouts]
    assert 0.6 <= np.mean(with_vis) < 1.0


@pytest.mark.parametrize("n_neurons", [0, 5, -3, 2.5])
def test_default_area_counts_rejects_tiny_layouts(n_neurons):
    with pytest.raises(ValueError, match="n_neurons"):
        default_area_counts(n_neurons, 0)


# ----------------------------------------------------------------------------- the task
@pytest.fixture(scope="module")
def behaviour() -> TaskBehaviour:
    return simulate_behaviour(np.random.default_rng(7), 2000)


def test_behaviour_shapes_and_codes(behaviour):
    for name in ("contrast_left", "contrast_right", "engaged", "engagement", "response",
                 "feedback_type", "p_correct", "gocue", "move_time"):
        assert getattr(behaviour, name).shape == (2000,), name
    assert behaviour.p_choice.shape == (2000, 3)
    np.testing.assert_allclose(behaviour.p_choice.sum(axis=1), 1)
    assert set(np.unique(behaviour.contrast_left)) <= {0.0, 0.25, 0.5, 1.0}
    assert set(np.unique(behaviour.response)) <= {-1, 0, 1}
    assert set(np.unique(behaviour.feedback_type)) <= {-1, 1}
    assert np.all((behaviour.engagement > 0) & (behaviour.engagement < 1))


def test_rewards_follow_the_steinmetz_rules(behaviour):
    b = behaviour
    higher_left = b.contrast_left > b.contrast_right
    chose_left = b.response == 1
    assert np.all(b.feedback_type[higher_left & chose_left] == 1)
    assert np.all(b.feedback_type[higher_left & ~chose_left] == -1)
    blank = (b.contrast_left == 0) & (b.contrast_right == 0)
    assert np.all(b.feedback_type[blank] == np.where(b.response[blank] == 0, 1, -1))


def test_p_correct_matches_the_rewards_and_movement_times_the_choices(behaviour):
    b = behaviour
    standard_error = np.sqrt(np.sum(b.p_correct * (1 - b.p_correct))) / len(b.p_correct)
    assert abs(np.mean(b.feedback_type == 1) - b.p_correct.mean()) < 4 * standard_error
    assert np.all(np.isnan(b.move_time[b.response == 0]))
    assert np.all(b.move_time[b.response != 0] > 0)
    assert 0.2 <= np.mean(~b.engaged) <= 0.35  # disengaged bouts and the final block


def test_behaviour_is_reproducible():
    first = simulate_behaviour(np.random.default_rng(3), 100)
    second = simulate_behaviour(np.random.default_rng(3), 100)
    np.testing.assert_array_equal(first.response, second.response)
    np.testing.assert_array_equal(first.p_correct, second.p_correct)


# ----------------------------------------------------------------------------- pseudo-sessions
def test_stimulus_process_recovers_a_repeat_after_error_rule():
    from helpers.simulated_design import StimulusProcess, stimulus_process

    pairs = np.array([[0, 0], [1, 0], [0, 1], [0.5, 0.25], [0.25, 0.5], [0, 0.5], [0.5, 0]])
    rewarded = np.random.default_rng(0).random(2000) < 0.7
    truth = StimulusProcess(pairs, np.full(7, 1 / 7), 0.8, 0.0)
    left, right = truth.draw(rewarded, 1, seed=3)
    fitted = stimulus_process(left[0], right[0], rewarded)
    assert fitted.p_repeat_after_error == pytest.approx(0.8, abs=0.05)
    assert fitted.p_repeat_after_reward < 0.03
    np.testing.assert_allclose(fitted.probabilities, 1 / 7, atol=0.03)
    # pseudo-sessions drawn from it repeat after the same errors, and only there
    left, right = fitted.draw(rewarded, 50, seed=1)
    assert left.shape == right.shape == (50, 2000)
    same = (left[:, 1:] == left[:, :-1]) & (right[:, 1:] == right[:, :-1])
    after_error = same[:, ~rewarded[:-1]].mean()
    after_reward = same[:, rewarded[:-1]].mean()
    assert after_error > 0.75 and after_reward < 0.25
    assert not np.array_equal(left[0], left[1])  # the sessions differ


def test_stimulus_process_of_the_simulation_has_no_repeat_rule():
    from helpers.simulated_design import stimulus_process

    behaviour = simulate_behaviour(np.random.default_rng(4), 600)
    fitted = stimulus_process(behaviour.contrast_left, behaviour.contrast_right,
                              behaviour.feedback_type == 1)
    assert fitted.p_repeat_after_error < 0.1 and fitted.p_repeat_after_reward < 0.1


def test_stimulus_process_bad_input():
    from helpers.simulated_design import stimulus_process

    with pytest.raises(ValueError, match="one entry per trial"):
        stimulus_process(np.zeros(20), np.zeros(19), np.ones(20, bool))
    with pytest.raises(ValueError, match="at least 10 trials"):
        stimulus_process(np.zeros(5), np.zeros(5), np.ones(5, bool))
