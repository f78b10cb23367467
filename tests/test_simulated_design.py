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
