"""Tests for helpers.session: the Session container, Truth, region groups, the catalogue of the
39 sessions and resolve_session."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from helpers.session import (
    OTHER_REGION,
    REGION_GROUPS,
    Session,
    Truth,
    region_of,
)

AREAS = ["VISp", " TT", "LGd", "root", "CA1", "MOs", "TH", "VISam"]


def make_session(n_neurons: int = 8, n_trials: int = 12, n_bins: int = 60, *,
                 bin_size: float = 0.01, stim_onset: float = 0.2, seed: int = 0,
                 with_truth: bool = True) -> Session:
    """A small session: Poisson counts, every per-trial field, events and (optionally) truth."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.05, 0.5, (n_neurons, n_trials, n_bins))
    truth = None
    if with_truth:
        truth = Truth(rates=rates.transpose(1, 2, 0),  # trials first
                      latents=rng.normal(size=(n_trials, n_bins, 2)),
                      latent_names=("a", "b"),
                      extra={"p_correct": rng.uniform(size=n_trials),
                             "p_choice": rng.dirichlet(np.ones(3), n_trials)})
    return Session(
        spikes=rng.poisson(rates),
        brain_area=[AREAS[i % len(AREAS)] for i in range(n_neurons)],
        contrast_left=rng.choice([0, 0.25, 0.5, 1.0], n_trials),
        contrast_right=rng.choice([0, 0.25, 0.5, 1.0], n_trials),
        feedback_type=rng.choice([-1, 1], n_trials),
        response=rng.choice([-1, 0, 1], n_trials),
        bin_size=bin_size, stim_onset=stim_onset, mouse_name="Toy", date_exp="2020-01-01",
        source="simulated" if with_truth else "real", truth=truth,
        events={"gocue": rng.uniform(0.4, 1.2, n_trials),
                "feedback_time": rng.uniform(0.6, 2.0, n_trials)},
    )


@pytest.fixture
def session() -> Session:
    return make_session()


PER_TRIAL = ("contrast_left", "contrast_right", "feedback_type", "response")


# =============================================================================================
# Region groups
# =============================================================================================
def test_region_of_maps_acronyms_and_ignores_whitespace():
    assert region_of(["VISp", " TT", "LGd", "root", "CA1", "ZZZ"]).tolist() == [
        "vis ctx", "other ctx", "thal", "other", "hipp", "other"]


def test_region_groups_do_not_overlap():
    areas = [area for group in REGION_GROUPS.values() for area in group]
    assert len(areas) == len(set(areas))
    assert OTHER_REGION not in REGION_GROUPS


def test_session_derives_regions_and_strips_acronyms(session):
    assert session.brain_area[1] == "TT" and session.region[1] == "other ctx"
    assert session.regions_present == ["vis ctx", "thal", "hipp", "other ctx", "other"]
    assert session.summary()["regions"] == {"vis ctx": 2, "thal": 2, "hipp": 1,
                                            "other ctx": 2, "other": 1}


# =============================================================================================
# Construction
# =============================================================================================
def test_sizes_names_and_time(session):
    assert (session.n_neurons, session.n_trials, session.n_bins) == (8, 12, 60)
    assert session.name == "Toy 2020-01-01"
    np.testing.assert_allclose(session.time[:2], [-0.195, -0.185])
    assert session.time.shape == (60,)
    np.testing.assert_array_equal(session.is_correct, session.feedback_type == 1)
    np.testing.assert_allclose(session.mean_rates(),
                               session.spikes.mean(axis=(1, 2)) / session.bin_size)


def test_session_events_validated():
    with pytest.raises(ValueError, match="events\\['gocue'\\] has 2 entries"):
        Session(spikes=np.zeros((1, 3, 4), int), brain_area=["VISp"], contrast_left=np.zeros(3),
                contrast_right=np.zeros(3), feedback_type=np.ones(3),
                events={"gocue": np.zeros(2)})


def _session_kwargs(**changes) -> dict:
    kwargs = {"spikes": np.zeros((2, 3, 4), int), "brain_area": ["VISp", "LGd"],
              "contrast_left": np.zeros(3), "contrast_right": np.zeros(3),
              "feedback_type": np.ones(3)}
    return kwargs | changes


@pytest.mark.parametrize(("changes", "message"), [
    ({"spikes": np.zeros((3, 4), int)}, "do not transpose"),
    ({"spikes": np.full((2, 3, 4), 0.5)}, "whole spike counts"),
    ({"spikes": -np.ones((2, 3, 4), int)}, "non-negative"),
    ({"brain_area": ["VISp"]}, "brain_area has 1 entries"),
    ({"contrast_left": np.zeros(2)}, "contrast_left has 2 entries"),
    ({"contrast_right": None}, "contrast_right is required"),
    ({"feedback_type": np.zeros(3)}, "feedback_type must contain only"),
    ({"response": np.full(3, 2)}, "response must contain only"),
    ({"source": "web"}, "source must be"),
    ({"bin_size": 0.0}, "bin_size must be positive"),
    ({"truth": Truth(np.ones((2, 3, 5)), np.zeros((3, 5, 1)), ("x",))}, "truth.rates has shape"),
])
def test_bad_sessions_are_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        Session(**_session_kwargs(**changes))


def test_float_counts_become_integers():
    session = Session(**_session_kwargs(spikes=np.ones((2, 3, 4))))
    assert np.issubdtype(session.spikes.dtype, np.integer)


# =============================================================================================
# Truth
# =============================================================================================
def test_truth_dictionary_access(session):
    truth = session.truth
    assert truth.keys() == ["rates", "latents", "latent_names", "p_correct", "p_choice"]
    assert truth["rates"] is truth.rates and truth["latent_names"] == ("a", "b")
    assert truth["p_correct"].shape == (12,)
    with pytest.raises(KeyError, match="'engagement' is not part.*available"):
        truth["engagement"]


def test_truth_subset_follows_neurons_trials_and_bins(session):
    truth = session.truth
    part = truth.subset(neurons=[1, 3], trials=[0, 5, 7], bins=slice(10, 20))
    np.testing.assert_array_equal(part.rates, truth.rates[[0, 5, 7]][:, 10:20][:, :, [1, 3]])
    assert part.rates.shape == (3, 10, 2)  # trials first, like the latents
    np.testing.assert_array_equal(part.latents, truth.latents[[0, 5, 7], 10:20])
    np.testing.assert_array_equal(part["p_choice"], truth["p_choice"][[0, 5, 7]])
    assert part.latent_names == truth.latent_names
    whole = truth.subset()
    np.testing.assert_array_equal(whole.rates, truth.rates)


# =============================================================================================
# select
# =============================================================================================
def test_select_regions_and_areas(session):
    visual = session.select(regions="vis ctx")
    assert visual.n_neurons == 2 and set(visual.region) == {"vis ctx"}
    assert session.select(regions=["vis ctx", "thal"]).n_neurons == 4
    assert session.select(areas=["LGd", "TH"]).n_neurons == 2
    assert session.select(areas=" LGd").n_neurons == 1
    either = session.select(regions="hipp", areas="LGd")  # a neuron matching either is kept
    assert sorted(either.brain_area) == ["CA1", "LGd"]
    np.testing.assert_array_equal(visual.truth.rates, session.truth.rates[..., [0, 7]])
    assert visual.n_trials == session.n_trials and visual.n_bins == session.n_bins


def test_select_region_without_neurons(session):
    with pytest.raises(ValueError, match="No neurons.*match regions=\\['midbrain'\\].*recorded"):
        session.select(regions="midbrain")
    with pytest.raises(ValueError, match="Unknown region group.*areas="):
        session.select(regions="visual cortex")


def test_select_trials_by_index_keeps_every_per_trial_field(session):
    trials = np.array([7, 2, 9])
    chosen = session.select(trials=trials)
    np.testing.assert_array_equal(chosen.spikes, session.spikes[:, trials])
    for name in PER_TRIAL:
        np.testing.assert_array_equal(getattr(chosen, name), getattr(session, name)[trials])
    for key, value in session.events.items():
        np.testing.assert_array_equal(chosen.events[key], value[trials])
    np.testing.assert_array_equal(chosen.truth.rates, session.truth.rates[trials])
    np.testing.assert_array_equal(chosen.truth.latents, session.truth.latents[trials])
    for key in ("p_correct", "p_choice"):
        np.testing.assert_array_equal(chosen.truth[key], session.truth[key][trials])
    assert chosen.n_neurons == session.n_neurons


def test_select_trials_by_mask_and_with_neurons(session):
    mask = session.is_correct
    correct = session.select(regions="thal", trials=mask)
    assert correct.n_trials == mask.sum() and correct.is_correct.all()
    np.testing.assert_array_equal(correct.spikes, session.spikes[[2, 6]][:, mask])
    np.testing.assert_array_equal(correct.truth["p_correct"], session.truth["p_correct"][mask])
    assert session.select(trials=list(mask)).n_trials == mask.sum()  # a list of bools works


@pytest.mark.parametrize(("trials", "message"), [
    (np.ones(5, bool), "A trial mask needs one entry per trial \\(12\\)"),
    (np.zeros(12, bool), "non-empty"),
    ([], "non-empty"),
    ([1.0, 2.0], "indices or a boolean mask"),
    ([[0, 1]], "1-D"),
    ([0, 12], "must lie in 0..11"),
    ([-13], "must lie in 0..11"),
    ([3, 1, 3], "Trial\\(s\\) \\[3\\] are listed more than once"),
    ([0, -12], "Trial\\(s\\) \\[0\\] are listed more than once"),
])
def test_select_rejects_bad_trials(session, trials, message):
    with pytest.raises(ValueError, match=message):
        session.select(trials=trials)


def test_select_min_rate(session):
    rates = session.mean_rates()
    threshold = float(np.median(rates))
    fast = session.select(min_rate=threshold)
    assert fast.n_neurons == np.sum(rates >= threshold)
    assert (fast.mean_rates() >= threshold).all()
    np.testing.assert_array_equal(fast.truth.rates, session.truth.rates[..., rates >= threshold])
    assert session.select(min_rate=0).n_neurons == session.n_neurons
    visual = session.select(regions="vis ctx", min_rate=threshold)
    assert set(visual.region) <= {"vis ctx"}
    assert visual.n_neurons == np.sum((rates >= threshold) & (session.region == "vis ctx"))


def test_select_min_rate_errors(session):
    fastest = session.mean_rates().max()
    with pytest.raises(ValueError, match=f"fires >= 1000.*fastest fires {fastest:.2f}.*Lower"):
        session.select(min_rate=1000)
    for bad in (-1.0, np.nan):
        with pytest.raises(ValueError, match="min_rate must be a rate >= 0"):
            session.select(min_rate=bad)


# =============================================================================================
# window
# =============================================================================================
def test_window_keeps_bins_whose_centre_lies_inside(session):
    early = session.window(0.0, 0.1)  # 10 bins of 10 ms after stimulus onset
    assert early.n_bins == 10
    np.testing.assert_allclose(early.time, np.arange(10) * 0.01 + 0.005)
    np.testing.assert_array_equal(early.spikes, session.spikes[:, :, 20:30])
    assert early.n_neurons == session.n_neurons and early.n_trials == session.n_trials


def test_window_time_stays_relative_to_stimulus_onset(session):
    late = session.window(0.15, 0.3)
    keep = (session.time >= 0.15 - 1e-9) & (session.time < 0.3 - 1e-9)
    np.testing.assert_allclose(late.time, session.time[keep])
    before = session.window(-0.2, 0.0)
    assert before.n_bins == 20 and (before.time < 0).all()
    np.testing.assert_allclose(before.time, session.time[:20])
    assert session.window(-10, 10).n_bins == session.n_bins


def test_window_cuts_truth_rates_and_latents_but_not_events(session):
    early = session.window(0.0, 0.1)
    np.testing.assert_array_equal(early.truth.rates, session.truth.rates[:, 20:30])
    np.testing.assert_array_equal(early.truth.latents, session.truth.latents[:, 20:30])
    np.testing.assert_array_equal(early.truth["p_correct"], session.truth["p_correct"])
    for key, value in session.events.items():  # event times are per trial, seconds from onset
        np.testing.assert_array_equal(early.events[key], value)
    for name in PER_TRIAL:
        np.testing.assert_array_equal(getattr(early, name), getattr(session, name))


def test_window_outside_the_session_names_the_available_range(session):
    with pytest.raises(ValueError, match=r"\[1.0, 2.0\) s; its bins span -0.195 to 0.395 s"):
        session.window(1.0, 2.0)
    with pytest.raises(ValueError, match="span -0.195 to 0.395"):
        session.window(-1.0, -0.5)


@pytest.mark.parametrize(("start", "end"), [(0.2, 0.2), (0.3, 0.1), (np.nan, 0.1)])
def test_window_needs_end_after_start(session, start, end):
    with pytest.raises(ValueError, match="end > start"):
        session.window(start, end)


def test_a_window_shorter_than_a_bin_may_hold_no_bin(session):
    with pytest.raises(ValueError, match="No bin"):
        session.window(0.001, 0.004)  # no bin centre inside


def test_window_of_a_window_and_select_commute(session):
    twice = session.window(-0.1, 0.3).window(0.0, 0.2)
    once = session.window(0.0, 0.2)
    np.testing.assert_array_equal(twice.spikes, once.spikes)
    np.testing.assert_allclose(twice.time, once.time)
    a = session.window(0.0, 0.2).select(regions="thal", trials=[1, 4])
    b = session.select(regions="thal", trials=[1, 4]).window(0.0, 0.2)
    np.testing.assert_array_equal(a.spikes, b.spikes)
    np.testing.assert_array_equal(a.truth.latents, b.truth.latents)


@settings(max_examples=60, deadline=None)
@given(start=st.integers(-25, 65), length=st.integers(1, 80), bin_size=st.sampled_from(
    [0.01, 0.005, 0.025]), onset_bins=st.integers(0, 30))
def test_window_property(start, length, bin_size, onset_bins):
    """A window whose edges fall on bin edges keeps exactly the bins between them."""
    session = make_session(2, 3, 40, bin_size=bin_size, stim_onset=onset_bins * bin_size,
                           with_truth=False)
    first, last = max(start, 0), min(start + length, 40)  # bin indices [first, last)
    assume(first < last)
    start_s, end_s = (start - onset_bins) * bin_size, (start + length - onset_bins) * bin_size
    windowed = session.window(start_s, end_s)
    assert windowed.n_bins == last - first
    np.testing.assert_array_equal(windowed.spikes, session.spikes[:, :, first:last])
    np.testing.assert_allclose(windowed.time, session.time[first:last], atol=1e-9)
    assert (windowed.time >= start_s - 1e-9).all() and (windowed.time < end_s).all()


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_select_trials_property(data):
    """Selecting trials then selecting again equals selecting the composed indices."""
    n_trials = data.draw(st.integers(1, 20))
    session = make_session(3, n_trials, 5, seed=n_trials)
    first = np.array(data.draw(st.permutations(range(n_trials)).map(
        lambda p: p[:max(1, len(p) // 2)])))
    second = np.array(data.draw(st.permutations(range(len(first)))))
    twice = session.select(trials=first).select(trials=second)
    once = session.select(trials=first[second])
    np.testing.assert_array_equal(twice.spikes, once.spikes)
    np.testing.assert_array_equal(twice.truth["p_choice"], once.truth["p_choice"])
    np.testing.assert_array_equal(twice.events["gocue"], session.events["gocue"][first[second]])
    for name in PER_TRIAL:
        np.testing.assert_array_equal(getattr(twice, name), getattr(session, name)[first[second]])


# =============================================================================================
# the models' layout
# =============================================================================================
def test_spikes_by_trial_is_trials_bins_neurons(session):
    counts = session.spikes_by_trial()
    assert counts.shape == (12, 60, 8) and counts.dtype == np.float32
    assert counts.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(counts, session.spikes.transpose(1, 2, 0))


def test_spikes_by_trial_rebins(session):
    window = session.window(0.0, 0.2)  # 20 bins
    counts = window.spikes_by_trial()
    coarse = window.spikes_by_trial(0.05)
    assert coarse.shape == (12, 4, 8)
    np.testing.assert_array_equal(coarse.sum(axis=1), counts.sum(axis=1))
    np.testing.assert_array_equal(coarse[:, 1], counts[:, 5:10].sum(axis=1))
    np.testing.assert_array_equal(window.spikes_by_trial(0.01), counts)
    assert session.window(0.05, 0.1).spikes_by_trial().shape == (12, 5, 8)


@pytest.mark.parametrize("bin_width", [0.03, 0.015, 0.0, -0.01, np.nan, 0.4])
def test_spikes_by_trial_rejects_bad_bin_widths(session, bin_width):
    with pytest.raises(ValueError, match="must be a multiple of the session's 0.01 s bins"):
        session.window(0.0, 0.2).spikes_by_trial(bin_width)


def test_rates_by_trial(session):
    rates = session.rates_by_trial()
    assert rates.shape == (12, 60, 8) and rates.dtype == np.float32
    np.testing.assert_allclose(rates, session.truth.rates, rtol=1e-6)
    coarse = session.rates_by_trial(0.02)  # spikes per 20 ms bin: the sum of two 10 ms bins
    np.testing.assert_allclose(coarse[:, 0], rates[:, 0] + rates[:, 1], rtol=1e-6)
    with pytest.raises(ValueError, match="must be a multiple"):
        session.rates_by_trial(0.07)


def test_rates_by_trial_on_a_real_session_says_there_is_no_truth():
    real = make_session(with_truth=False)
    with pytest.raises(ValueError, match="Toy 2020-01-01 is real: it has no true rates"):
        real.rates_by_trial()


@settings(max_examples=40, deadline=None)
@given(factor=st.integers(1, 6), n_out=st.integers(1, 8), seed=st.integers(0, 1000))
def test_rebinning_property(factor, n_out, seed):
    """Rebinning by any divisor keeps every neuron's total count per trial."""
    session = make_session(3, 4, factor * n_out, seed=seed)
    coarse = session.spikes_by_trial(factor * session.bin_size)
    assert coarse.shape == (4, n_out, 3)
    np.testing.assert_array_equal(coarse.sum(axis=1), session.spikes.sum(axis=2).T)


# =============================================================================================
# Behaviour in every bin (wheel, pupil, ...) and movement onset
# =============================================================================================
def with_wheel(session: Session, wheel: np.ndarray, **events: np.ndarray) -> Session:
    from dataclasses import replace

    return replace(session, behaviour={"wheel": wheel, "pupil": np.zeros((*wheel.shape, 3))},
                   events={**session.events, **events})


def test_behaviour_follows_select_and_window(session):
    wheel = np.arange(session.n_trials * session.n_bins, dtype=float).reshape(
        session.n_trials, session.n_bins)
    moving = with_wheel(session, wheel)
    assert moving.behaviour["wheel"].dtype == np.float32
    cut = moving.select(trials=[5, 2]).window(0.0, 0.2)
    first = int(np.flatnonzero(session.time >= -1e-9)[0])
    np.testing.assert_array_equal(cut.behaviour["wheel"], wheel[[5, 2], first:first + 20])
    assert cut.behaviour["pupil"].shape == (2, 20, 3)
    rebinned = cut.behaviour_by_trial("wheel", bin_width=0.05)  # mean of 5 bins
    assert rebinned.shape == (2, 4)
    np.testing.assert_allclose(rebinned[0, 0], wheel[5, first:first + 5].mean())
    assert cut.behaviour_by_trial("pupil").shape == (2, 20, 3)


def test_behaviour_shape_is_validated(session):
    from dataclasses import replace

    with pytest.raises(ValueError, match="behaviour\\['wheel'\\] has shape \\(1, 12, 60\\)"):
        replace(session, behaviour={"wheel": np.zeros((1, 12, 60))})
    with pytest.raises(ValueError, match="must be numeric"):
        replace(session, behaviour={"wheel": np.full((12, 60), "x")})


def test_missing_behaviour_names_what_is_missing(session):
    with pytest.raises(ValueError, match="no 'wheel' trace; the behaviour it carries: none"):
        session.behaviour_by_trial("wheel")


def test_latents_by_trial_averages_bins(session):
    latents = session.latents_by_trial(bin_width=0.05)
    assert latents.shape == (12, 12, 2)
    np.testing.assert_allclose(latents[0, 1], session.truth.latents[0, 5:10].mean(axis=0),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="no true latents"):
        make_session(with_truth=False).latents_by_trial()


def synthetic_wheel(session: Session, onsets: np.ndarray) -> np.ndarray:
    """A wheel trace: still (tiny noise) until each onset, then a 0.2 s movement of speed 3."""
    rng = np.random.default_rng(1)
    wheel = rng.normal(0, 0.05, (session.n_trials, session.n_bins))
    for trial, onset in enumerate(onsets):
        if np.isfinite(onset):
            moving = (session.time >= onset - 1e-9) & (session.time < onset + 0.2)
            wheel[trial, moving] = 3.0 * (-1) ** trial
    return wheel


def test_movement_onset_from_a_synthetic_wheel_trace(session):
    from helpers.session import movement_onset

    onsets = np.where(session.response != 0, 0.05 + 0.01 * np.arange(session.n_trials), np.nan)
    onsets[np.flatnonzero(session.response != 0)[0]] = np.nan  # a go trial that never moved
    moving = with_wheel(session, synthetic_wheel(session, onsets))
    found = movement_onset(moving)  # no response_time: the wheel is used
    go = session.response != 0
    assert np.isnan(found[~go]).all()  # no-go trials have no onset
    expected = onsets + 0.5 * session.bin_size  # the centre of the first moving bin
    np.testing.assert_allclose(found[go], expected[go], atol=1e-9)
    assert np.isnan(found[np.flatnonzero(go)[0]])
    # a pre-stimulus movement is ignored; a single-bin twitch below 2 bins is not an onset
    twitch = moving.behaviour["wheel"].copy()
    twitch[:, 2:6] = 5.0
    twitch[:, int(np.flatnonzero(session.time > 0.01)[0])] = 5.0
    found_twitch = movement_onset(with_wheel(session, twitch))
    np.testing.assert_allclose(found_twitch[go], expected[go], atol=1e-9)
    high = movement_onset(moving, method="wheel", threshold=10.0)  # never crossed
    assert np.isnan(high).all()


def test_movement_onset_low_fraction_finds_the_slow_start(session):
    from helpers.session import movement_onset

    onsets = np.where(session.response != 0, 0.1, np.nan)
    wheel = synthetic_wheel(session, onsets)
    ramp = (session.time >= 0.05 - 1e-9) & (session.time < 0.1)  # a slow start at speed 0.5
    wheel[:, ramp] = np.where(np.isfinite(onsets), 0.5, 0.0)[:, None]
    moving = with_wheel(session, wheel)
    go = session.response != 0
    late = movement_onset(moving, method="wheel")  # 0.25 x peak 3: misses the slow start
    early = movement_onset(moving, method="wheel", fraction=0.1)
    np.testing.assert_allclose(late[go], 0.1 + 0.5 * session.bin_size, atol=1e-9)
    np.testing.assert_allclose(early[go], 0.05 + 0.5 * session.bin_size, atol=1e-9)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\)"):
        movement_onset(moving, method="wheel", fraction=1.5)


def test_movement_onset_prefers_response_times(session):
    from helpers.session import movement_onset

    times = np.linspace(0.2, 0.8, session.n_trials)
    timed = with_wheel(session, np.zeros((session.n_trials, session.n_bins)),
                       response_time=times)
    found = movement_onset(timed)
    go = session.response != 0
    np.testing.assert_allclose(found[go], times[go])
    assert np.isnan(found[~go]).all()


def test_movement_onset_bad_input(session):
    from helpers.session import movement_onset

    with pytest.raises(ValueError, match="no wheel trace and no response times"):
        movement_onset(session)
    with pytest.raises(ValueError, match="no response times"):
        movement_onset(session, method="response_time")
    with pytest.raises(ValueError, match="method must be one of"):
        movement_onset(session, method="pupil")


# --------------------------------------------------------------------------- alignment
def test_align_to_event_recuts_each_trial():
    from helpers.session import align_to_event

    time = (np.arange(20) + 0.5) * 0.1 - 0.5  # -0.45 .. 1.45 s
    values = np.tile(time, (4, 1))[:, :, None]  # each bin holds its own time
    events = np.array([0.3, 0.52, np.nan, 1.4])
    aligned, kept, relative = align_to_event(values, time, events, (-0.2, 0.2))
    np.testing.assert_array_equal(kept, [True, True, False, False])  # NaN; window past the end
    np.testing.assert_allclose(relative, [-0.15, -0.05, 0.05, 0.15])
    np.testing.assert_allclose(aligned[0, :, 0], [0.15, 0.25, 0.35, 0.45])  # 0.3 in bin 0.35
    np.testing.assert_allclose(aligned[1, :, 0], [0.35, 0.45, 0.55, 0.65])


def test_align_to_event_window_outside_the_trial_gives_the_range():
    from helpers.session import align_to_event

    time = (np.arange(20) + 0.5) * 0.1 - 0.5
    values = np.zeros((3, 20))
    with pytest.raises(ValueError, match=r"recorded bins \(-0.50 to 1.50 s.*windows from"):
        align_to_event(values, time, np.array([0.3, 0.4, 0.5]), (-1.0, 2.0))
    with pytest.raises(ValueError, match="end > start"):
        align_to_event(values, time, np.array([0.3, 0.4, 0.5]), (0.2, 0.1))
    with pytest.raises(ValueError, match="all event times are NaN"):
        align_to_event(values, time, np.full(3, np.nan), (-0.1, 0.1))


def test_task_conditions_and_trials_with_partner():
    from dataclasses import replace

    from helpers.surrogate import make_session

    session = make_session(0, n_trials=60, n_bins=60, area_counts={"VISp": 5})
    conditions = session.task_conditions()
    assert conditions.shape == (60, 3)
    np.testing.assert_array_equal(conditions[:, 2], session.response)
    mask = session.trials_with_partner()
    _, group, sizes = np.unique(conditions, axis=0, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(mask, sizes[np.ravel(group)] >= 2)
    assert (~mask).any() and session.trials_with_partner(1).all()
    kept = session.select(trials=mask)
    assert kept.trials_with_partner().all()  # every kept trial still has a partner
    with pytest.raises(ValueError, match="no responses"):
        replace(session, response=None).task_conditions()


def test_as_trials_first_is_the_one_layout_check() -> None:
    from helpers.session import as_trials_first

    values = as_trials_first("x", np.zeros((2, 3, 4), dtype=np.int64))
    assert values.dtype == np.float64 and values.shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"x must be \(n_trials, n_bins, n_features\)"):
        as_trials_first("x", np.zeros((3, 4)), "n_features")
    with pytest.raises(ValueError, match="NaN or inf: interpolate"):
        as_trials_first("x", np.full((1, 1, 1), np.nan), fix="interpolate")
