"""Tests for helpers.surrogate: the simulated session with known ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.metrics import bits_per_spike
from helpers.realism import CO_SMOOTHING_TARGETS, REAL_DATA_RANGES, session_statistics
from helpers.session import Session
from helpers.simulated_design import default_area_counts
from helpers.surrogate import DEFAULT_AREA_COUNTS, LATENT_NAMES, make_session

SMALL = {"VISp": 30, "LGd": 20, "MOs": 10, "CA1": 5, "root": 3}
EXTRA_PER_TRIAL = ("p_correct", "engagement", "engaged", "choice", "gocue", "move_time")


@pytest.fixture(scope="module")
def default_session() -> Session:
    return make_session()


@pytest.fixture(scope="module")
def small_session() -> Session:
    return make_session(3, n_trials=60, n_bins=120, area_counts=SMALL)


# ----------------------------------------------------------------------------- format
def test_default_session_has_the_lederberg_layout(default_session):
    summary = default_session.summary()
    assert (summary["n_neurons"], summary["n_trials"], summary["n_bins"]) == (698, 340, 250)
    assert summary["regions"]["vis ctx"] == 145
    assert summary["regions"]["thal"] == 155
    assert set(default_session.brain_area) == set(DEFAULT_AREA_COUNTS)
    assert default_session.source == "simulated"
    assert default_session.bin_size == 0.01 and default_session.stim_onset == 0.5


def test_shapes_and_dtypes(small_session):
    session, truth = small_session, small_session.truth
    assert session.spikes.shape == (68, 60, 120) and session.spikes.dtype == np.int16
    assert truth.rates.shape == session.spikes.transpose(1, 2, 0).shape  # trials first
    assert truth.rates.dtype == np.float32
    assert truth.latents.shape == (60, 120, len(LATENT_NAMES))
    assert truth.latent_names == LATENT_NAMES
    for key in EXTRA_PER_TRIAL:
        assert truth[key].shape == (60,), key
    assert truth["p_choice"].shape == (60, 3)
    assert np.all(truth.rates > 0) and np.all(np.isfinite(truth.rates))


def test_contrasts_follow_the_task_design(default_session):
    left, right = default_session.contrast_left, default_session.contrast_right
    assert set(np.unique(np.r_[left, right])) == {0.0, 0.25, 0.5, 1.0}
    one_side = (left == 0) != (right == 0)
    both_blank = (left == 0) & (right == 0)
    equal = (left == right) & ~both_blank
    assert one_side.mean() > 0.4 and both_blank.any() and equal.any()


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_session_bit_for_bit(small_session):
    again = make_session(3, n_trials=60, n_bins=120, area_counts=SMALL)
    for name in ("spikes", "contrast_left", "contrast_right", "feedback_type", "response"):
        np.testing.assert_array_equal(getattr(again, name), getattr(small_session, name))
    np.testing.assert_array_equal(again.truth.rates, small_session.truth.rates)
    np.testing.assert_array_equal(again.truth.latents, small_session.truth.latents)
    for key in EXTRA_PER_TRIAL:
        np.testing.assert_array_equal(again.truth[key], small_session.truth[key])


def test_different_seeds_differ(small_session):
    other = make_session(4, n_trials=60, n_bins=120, area_counts=SMALL)
    assert not np.array_equal(other.spikes, small_session.spikes)


def test_global_numpy_random_state_is_untouched():
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state is the point)
    make_session(0, n_trials=20, n_bins=100, area_counts={"VISp": 5})
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


# ----------------------------------------------------------------------------- truth
def test_spikes_average_to_the_true_rates(default_session):
    spikes, rates = default_session.spikes, default_session.truth.rates
    assert spikes.mean() == pytest.approx(rates.mean(), rel=0.03)
    per_neuron = np.corrcoef(spikes.mean(axis=(1, 2)), rates.mean(axis=(0, 1)))[0, 1]
    assert per_neuron > 0.98


def test_p_correct_is_a_probability_consistent_with_feedback(default_session):
    truth, correct = default_session.truth, default_session.is_correct
    p_correct = truth["p_correct"]
    assert np.all((p_correct >= 0) & (p_correct <= 1))
    np.testing.assert_allclose(truth["p_choice"].sum(axis=1), 1.0)
    standard_error = np.sqrt(np.sum(p_correct * (1 - p_correct))) / len(p_correct)
    assert abs(correct.mean() - p_correct.mean()) < 3 * standard_error
    likely = p_correct > 0.7
    assert correct[likely].mean() > correct[~likely].mean() + 0.2


def test_feedback_follows_the_steinmetz_rules(default_session):
    session = default_session
    left, right, response = session.contrast_left, session.contrast_right, session.response
    correct = session.is_correct
    blank = (left == 0) & (right == 0)
    np.testing.assert_array_equal(correct[blank], response[blank] == 0)
    unequal = left != right
    np.testing.assert_array_equal(correct[unequal], response[unequal] == np.sign(left - right)[
        unequal])
    equal = (left == right) & ~blank
    assert not correct[equal & (response == 0)].any()
    np.testing.assert_array_equal(session.truth["choice"], response)


def test_latents_match_the_behaviour(default_session):
    session, truth = default_session, default_session.truth
    latents = dict(zip(LATENT_NAMES, np.moveaxis(truth.latents, 2, 0), strict=True))
    before = session.time < 0
    assert np.all(latents["stim_left"][:, before] == 0)
    assert np.all(latents["stim_right"][session.contrast_right == 0] == 0)
    assert np.all(latents["choice"][session.response == 0] == 0)
    assert np.all(latents["action"][session.response == 0] == 0)
    np.testing.assert_allclose(latents["engagement"], truth["engagement"][:, None] + 0 * before,
                               rtol=1e-6)
    assert np.array_equal(np.isnan(truth["move_time"]), session.response == 0)
    engaged = truth["engaged"]
    assert truth["engagement"][engaged].min() > truth["engagement"][~engaged].mean()


def test_engagement_is_visible_in_prestimulus_thalamus(default_session):
    thalamus = default_session.select("thal")
    pre = thalamus.spikes[:, :, thalamus.time < 0].sum(axis=(0, 2))
    engaged = thalamus.truth["engaged"]
    assert pre[engaged].mean() > 1.2 * pre[~engaged].mean()


def test_vis_ctx_rates_share_low_dimensional_structure(default_session):
    vis = default_session.select("vis ctx")
    rates = np.log(vis.truth.rates.reshape(-1, vis.n_neurons).T)
    rates -= rates.mean(axis=1, keepdims=True)
    singular = np.linalg.svd(rates[:, ::97], compute_uv=False) ** 2
    explained = np.cumsum(singular) / singular.sum()
    # 145 neurons, 15 latent dimensions: visual transient and sustained (left, right), action,
    # engagement, gain, the region's rotation (2) and slow fluctuations (2), and the 4 fast
    # private latents of the coupling model; choice does not reach visual cortex.
    assert explained[14] > 0.999
    assert explained[9] < 0.99


def test_the_stimulus_kicks_the_visual_rotation(default_session):
    session, truth = default_session, default_session.truth
    rotation = truth.latents[..., [LATENT_NAMES.index("vis_rot_1"),
                                   LATENT_NAMES.index("vis_rot_2")]]
    kick = int(np.argmax(session.time >= 0.05))  # the bin the kick lands in
    strong_right = (session.contrast_right == 1) & (session.contrast_left == 0)
    blank = (session.contrast_right == 0) & (session.contrast_left == 0)
    # condition-dependent part: the same push on every trial of a condition, to the right side's
    # direction (1, 0) for a right grating
    push = rotation[strong_right, kick].mean(axis=0) - rotation[blank, kick].mean(axis=0)
    assert push[0] > 0.4 and abs(push[1]) < 0.4
    # trial-specific part: trajectories fan out after the kick (unit variance at rest)
    stimulus = ~blank
    before = rotation[stimulus, kick - 5].var(axis=0).mean()
    after = rotation[stimulus, kick].var(axis=0).mean()
    assert before < 1.3 and after > 1.5 * before


def test_visual_cortex_leaves_co_smoothing_headroom(default_session):
    """The true rates of the visual neurons >= 1 spike/s score well above what a real RNN
    reaches on them (0.386 bits/spike): a model fitted to the simulation has room to improve."""
    visual = default_session.select("vis ctx", min_rate=1.0)
    oracle = bits_per_spike(visual.rates_by_trial(), visual.spikes_by_trial())
    assert oracle >= CO_SMOOTHING_TARGETS["oracle_bps"][0]
    assert 40 <= visual.n_neurons <= 90  # real: 63 of 145


# ----------------------------------------------------------------------------- realism
#: Sampling noise of the two trial-based statistics on 340 trials: a single session may land
#: this far outside the real range (resampling only the spikes of one session moves the
#: decoding accuracy by up to 0.05); their mean over seeds must land inside it.
TRIAL_NOISE = {"fraction_correct": 0.03, "outcome_balanced_accuracy_thal": 0.05}


@pytest.fixture(scope="module")
def statistics_by_seed(default_session) -> dict[int, dict[str, float]]:
    return {seed: session_statistics(default_session if seed == 0 else make_session(seed))
            for seed in (0, 1, 2)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_statistics_land_in_real_data_ranges(seed, statistics_by_seed):
    outside = {}
    for name, value in statistics_by_seed[seed].items():
        low, high = REAL_DATA_RANGES[name]
        slack = TRIAL_NOISE.get(name, 0.0)
        if not low - slack <= value <= high + slack:
            outside[name] = round(value, 3)
    assert not outside, f"seed {seed}: outside the real-data ranges: {outside}"


def test_trial_based_statistics_average_into_the_real_ranges(statistics_by_seed):
    for name in TRIAL_NOISE:
        mean = np.mean([stats[name] for stats in statistics_by_seed.values()])
        low, high = REAL_DATA_RANGES[name]
        assert low <= mean <= high, (name, mean)


def test_a_smaller_layout_still_looks_real():
    counts = default_area_counts(400, seed=5)
    stats = session_statistics(make_session(5, n_trials=250, area_counts=counts))
    for name in ("median_rate_hz", "fraction_below_1hz", "median_fano_factor",
                 "median_pairwise_correlation", "fraction_stimulus_modulated"):
        low, high = REAL_DATA_RANGES[name]
        assert low <= stats[name] <= high, (name, stats[name])


# ----------------------------------------------------------------------------- bad options
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_trials": -5}, "n_trials"),
        ({"n_trials": 3}, "n_trials"),
        ({"n_bins": 0}, "n_bins"),
        ({"bin_size": 0.0}, "bin_size"),
        ({"stim_onset": 5.0}, "stim_onset"),
        ({"area_counts": {}}, "area_counts"),
        ({"area_counts": {"VISp": 0, "LGd": 0}}, "zero neurons"),
        ({"area_counts": {"VISp": -2}}, "non-negative"),
        ({"area_counts": {"VISp": 2.5}}, "integer"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_options_raise_clear_errors(options, message):
    options = {"n_trials": 20, "n_bins": 100, "area_counts": {"VISp": 4}} | options
    with pytest.raises(ValueError, match=message):
        make_session(**options)


def test_unknown_acronyms_are_allowed_and_grouped_as_other():
    session = make_session(0, n_trials=20, n_bins=100, area_counts={"XYZ": 3, "VISp": 2,
                                                                     "LGd": 0})
    assert list(session.region) == ["other"] * 3 + ["vis ctx"] * 2


# ----------------------------------------------------------------------------- wheel
def test_simulated_wheel_follows_the_action_latent_and_the_movement_time(small_session):
    from helpers.session import movement_onset

    session, truth = small_session, small_session.truth
    wheel = session.behaviour["wheel"]
    assert wheel.shape == (60, 120) and wheel.dtype == np.float32
    go = session.response != 0
    moved = go & (truth["move_time"] < session.time[-1] - 0.3)  # moved inside the window
    assert moved.sum() > 10
    action = truth.latents[:, :, LATENT_NAMES.index("action")]
    # the wheel turns with the action latent, in the direction of the choice
    signed = np.sign(wheel[moved].sum(axis=1))
    np.testing.assert_array_equal(signed, session.response[moved])
    assert np.corrcoef(np.abs(wheel[go]).ravel(), action[go].ravel())[0, 1] > 0.9
    assert np.abs(wheel[~go]).max() < 0.5 * np.abs(wheel[moved]).max(axis=1).min()
    # the wheel starts moving within 0.1 s of the true movement time; the response is
    # registered after it
    onset = movement_onset(session, method="wheel")
    assert np.all(np.abs(onset[moved] - truth["move_time"][moved]) < 0.1)
    response_time = session.events["response_time"]
    assert np.isnan(response_time[~go]).all()
    assert np.all(response_time[go] > truth["move_time"][go])
    again = make_session(3, n_trials=60, n_bins=120, area_counts=SMALL)
    np.testing.assert_array_equal(again.behaviour["wheel"], wheel)


# ----------------------------------------------------------------------------- coupling
def test_coupling_truth_matches_what_was_simulated():
    from helpers.surrogate import COUPLED_PAIRS

    session = make_session(7, n_trials=40, n_bins=100,
                           area_counts={"VISp": 25, "LGd": 25, "CA1": 20})
    coupling = session.truth.coupling
    assert coupling.pairs == (("vis ctx", "thal"),)  # the only coupled pair recorded
    assert ("vis ctx", "thal") in COUPLED_PAIRS and coupling.rank == 2
    assert coupling.lag_s == pytest.approx(0.03)
    assert set(coupling.private_latents) == {"vis ctx", "thal", "hipp"}
    projection = coupling.projections[("vis ctx", "thal")]
    assert projection.shape[0] == 2
    np.testing.assert_allclose(projection @ projection.T, np.eye(2), atol=1e-10)
    for latents in coupling.private_latents.values():
        assert latents.shape[:2] == (40, 100)
    # The thalamus's log rates, minus what the session-wide latents explain, are explained by
    # its own private latents and the projected visual latents 3 bins (30 ms) earlier.
    thal = session.select("thal")
    log_rates = np.log(thal.truth.rates).reshape(-1, thal.n_neurons)
    lag = int(round(coupling.lag_s / session.bin_size))
    source = coupling.private_latents["vis ctx"] @ projection.T  # (trials, bins, rank)

    def explained(regressors):
        design = np.concatenate([session.truth.latents, *regressors], axis=2)
        design = np.c_[design[:, lag:].reshape(-1, design.shape[2]),
                       np.ones(40 * (100 - lag))]
        target = log_rates.reshape(40, 100, -1)[:, lag:].reshape(-1, thal.n_neurons)
        residual = target - design @ np.linalg.lstsq(design, target, rcond=None)[0]
        return 1 - residual.var() / target.var()

    private = coupling.private_latents["thal"]
    delayed = np.zeros_like(source)
    delayed[:, lag:] = source[:, :-lag]
    assert explained([private, delayed]) > 0.995  # exact up to the rate saturation
    assert explained([private, source]) < explained([private, delayed]) - 0.01  # the lag matters
    others = session.select("hipp")
    assert np.isfinite(others.truth.rates).all()


def test_coupling_survives_select_and_window():
    session = make_session(8, n_trials=30, n_bins=100, area_counts={"VISp": 12, "LGd": 12})
    cut = session.select("thal", trials=np.arange(10)).window(0.0, 0.3)
    private = cut.truth.coupling.private_latents["vis ctx"]
    assert private.shape == (10, cut.n_bins, 4)
    np.testing.assert_array_equal(
        private, session.truth.coupling.private_latents["vis ctx"][:10][:, 50:80])


def test_pairs_without_both_regions_are_not_coupled():
    coupling = make_session(9, n_trials=20, n_bins=60, area_counts={"CA1": 10}).truth.coupling
    assert coupling.pairs == () and coupling.projections == {}
