"""Tests for helpers.splits: trial and neuron splits, class balancing, the co-smoothing split,
folds for decoding and class weights. Every split is without replacement and reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from helpers.splits import (
    BALANCING,
    CoSmoothingData,
    balance_trials,
    balanced_class_weights,
    balanced_subset,
    check_labels,
    co_smoothing_split,
    split_neurons,
    split_trials,
    subsample_trials,
)
from helpers.surrogate import make_session


# --------------------------------------------------------------------------- split_trials
def test_split_trials_basic():
    train, test = split_trials(100, 0.2, seed=1)
    assert len(test) == 20 and len(train) == 80
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(100))
    again = split_trials(100, 0.2, seed=1)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    assert not np.array_equal(test, split_trials(100, 0.2, seed=2)[1])


def test_split_trials_stratified():
    labels = np.array([1] * 70 + [0] * 30)
    train, test = split_trials(labels, 0.2, seed=0)  # labels -> stratified by default
    assert labels[test].sum() == 14 and len(test) == 20
    _, test = split_trials(100, 0.2, stratify=labels)
    assert labels[test].sum() == 14


@pytest.mark.parametrize("args, kwargs, message", [
    ((100, 0.0), {}, "strictly between 0 and 1"),
    ((100, 1.0), {}, "strictly between 0 and 1"),
    ((100, 1.5), {}, "strictly between 0 and 1"),
    ((1, 0.5), {}, "both sets need at least one trial"),
    ((np.ones(10), 0.2), {}, "single class"),
    ((np.array([0] * 9 + [1]), 0.2), {}, r"class\(es\) \[1\] have fewer than 2"),
    ((10, 0.2), {"stratify": np.ones(9)}, "one label per trial"),
    ((10, 0.2), {"stratify": True}, "needs labels"),
    ((np.ones((5, 2)), 0.2), {}, "1-D"),
    ((np.array([0, 1] * 3 + [2] * 2), 0.1), {}, "Cannot stratify"),
])
def test_split_trials_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        split_trials(*args, **kwargs)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 300), fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2**31))
def test_split_trials_property(n, fraction, seed):
    assume(np.ceil(n * fraction) < n)
    train, test = split_trials(n, fraction, seed=seed)
    assert len(np.intersect1d(train, test)) == 0
    assert len(np.unique(train)) == len(train) and len(np.unique(test)) == len(test)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(n))
    assert len(test) == int(np.ceil(n * fraction))


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(st.sampled_from([0, 1, 2]), min_size=4, max_size=200),
       fraction=st.floats(0.1, 0.5), seed=st.integers(0, 1000))
def test_split_trials_stratified_property(labels, fraction, seed):
    labels = np.array(labels)
    classes, counts = np.unique(labels, return_counts=True)
    n_test = int(np.ceil(len(labels) * fraction))
    assume(len(classes) >= 2 and counts.min() >= 2 and len(classes) <= n_test < len(labels))
    assume(len(labels) - n_test >= len(classes))
    train, test = split_trials(labels, fraction, seed=seed)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(labels)
    for c, count in zip(classes, counts, strict=True):  # each class's share kept to +-1 trial
        assert abs(np.sum(labels[test] == c) - count * n_test / len(labels)) <= 1


# --------------------------------------------------------------------------- balance_trials
def test_balance_trials_basic():
    labels = np.array([True] * 236 + [False] * 104)
    chosen = balance_trials(labels, seed=0)
    assert len(chosen) == 208 and labels[chosen].sum() == 104
    assert np.array_equal(chosen, balance_trials(labels, seed=0))
    assert not np.array_equal(np.sort(chosen), np.arange(208))  # shuffled, not trial order


@pytest.mark.parametrize("labels, message", [
    (np.ones(5), "single class"),
    (np.array([]), "non-empty 1-D"),
    (np.ones((3, 2)), "non-empty 1-D"),
])
def test_balance_trials_bad_input(labels, message):
    with pytest.raises(ValueError, match=message):
        balance_trials(labels)


@settings(max_examples=60, deadline=None)
@given(labels=st.lists(st.sampled_from(["a", "b", "c"]), min_size=2, max_size=300),
       seed=st.integers(0, 2**31))
def test_balance_trials_property(labels, seed):
    labels = np.array(labels)
    classes, counts = np.unique(labels, return_counts=True)
    assume(len(classes) >= 2)
    chosen = balance_trials(labels, seed)
    assert len(np.unique(chosen)) == len(chosen) == len(classes) * counts.min()
    assert chosen.min() >= 0 and chosen.max() < len(labels)
    _, chosen_counts = np.unique(labels[chosen], return_counts=True)
    assert (chosen_counts == counts.min()).all()


def test_split_then_balance_never_mixes():
    labels = np.random.default_rng(0).random(340) < 0.69
    train, test = split_trials(labels, 0.2, seed=0)
    balanced = train[balance_trials(labels[train], seed=0)]
    assert len(np.intersect1d(balanced, test)) == 0
    assert labels[balanced].mean() == 0.5



def test_balanced_subset_is_sorted_and_within_the_trials():
    labels = np.array([0, 0, 0, 1, 1, 0, 0, 1, 0, 0])
    idx = np.array([0, 2, 3, 4, 5, 6, 7, 9])
    chosen = balanced_subset(idx, labels, seed=1)
    assert np.array_equal(chosen, np.sort(chosen)) and set(chosen) <= set(idx)
    assert np.bincount(labels[chosen]).tolist() == [3, 3]
    assert BALANCING == ("weights", "undersample")


# --------------------------------------------------------------------------- subsample_trials
def test_subsample_trials_keeps_the_class_shares():
    labels = np.r_[np.ones(40, int), np.zeros(20, int)]
    train = np.arange(0, 60, 2)  # 20 correct, 10 incorrect
    kept = subsample_trials(train, labels, 12, seed=0)
    assert len(kept) == 12 and set(kept) <= set(train)
    assert np.array_equal(kept, np.sort(kept)) and len(np.unique(kept)) == 12
    assert labels[kept].sum() == 8  # 2/3 correct, as in the training trials
    assert np.array_equal(kept, subsample_trials(train, labels, 12, seed=0))
    assert subsample_trials(train, labels, None) is train
    assert subsample_trials(train, labels, 30) is train
    assert subsample_trials(train, labels, 99) is train


@settings(max_examples=60, deadline=None)
@given(n_train=st.integers(8, 120), data=st.data())
def test_subsample_trials_returns_exactly_the_trials_asked_for(n_train, data):
    labels = np.array(data.draw(st.lists(st.sampled_from([0, 1]), min_size=n_train,
                                         max_size=n_train)))
    counts = np.bincount(labels, minlength=2)
    assume(counts.min() >= 2)
    n_trials = data.draw(st.integers(2, n_train - 2))
    train = np.arange(n_train)
    kept = subsample_trials(train, labels, n_trials, seed=data.draw(st.integers(0, 100)))
    assert len(kept) == n_trials and len(np.unique(kept)) == n_trials


@pytest.mark.parametrize(("n_trials", "message"), [
    (0, "positive number of trials"), (-3, "positive number of trials"),
    (2.5, "positive number of trials"), (1, "Cannot draw a stratified 1 of 20"),
    (19, "Cannot draw a stratified 19 of 20"),
])
def test_subsample_trials_bad_numbers(n_trials, message):
    labels = np.array([0, 1] * 10)
    with pytest.raises(ValueError, match=message):
        subsample_trials(np.arange(20), labels, n_trials)


# --------------------------------------------------------------------------- neurons
@pytest.mark.parametrize("n_neurons", [2, 3, 145])
def test_split_neurons_is_without_replacement(n_neurons):
    heldin, heldout = split_neurons(n_neurons, 0.5, seed=4)
    assert len(np.unique(heldin)) == len(heldin) and len(np.unique(heldout)) == len(heldout)
    assert len(heldin) >= 1 and len(heldout) >= 1
    assert np.array_equal(np.sort(np.r_[heldin, heldout]), np.arange(n_neurons))


def test_split_neurons_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least 2 neurons"):
        split_neurons(1)
    with pytest.raises(ValueError, match="integer >= 2"):
        split_neurons(10.0)
    with pytest.raises(ValueError, match="heldout_fraction"):
        split_neurons(10, 1.0)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 500), fraction=st.floats(0.01, 0.99), seed=st.integers(0, 2**31))
def test_split_neurons_property(n, fraction, seed):
    heldin, heldout = split_neurons(n, fraction, seed=seed)
    assert len(np.intersect1d(heldin, heldout)) == 0 and min(len(heldin), len(heldout)) >= 1
    assert np.array_equal(np.sort(np.r_[heldin, heldout]), np.arange(n))
    assert np.array_equal(heldin, np.sort(heldin)) and np.array_equal(heldout, np.sort(heldout))


# --------------------------------------------------------------------------- co-smoothing
@pytest.fixture(scope="module")
def split_session():
    """A small simulated session cut into a co-smoothing split (the models' layout)."""
    session = make_session(1, n_trials=80, n_bins=60, area_counts={"VISp": 40, "VISam": 20})
    split = co_smoothing_split(session.n_trials, session.n_neurons, seed=0)
    return session, split, split.apply(session.spikes_by_trial())


def test_co_smoothing_split_never_leaks_trials_or_neurons(split_session):
    session, split, data = split_session
    assert not set(split.train_trials) & set(split.test_trials)
    assert not set(split.heldin_neurons) & set(split.heldout_neurons)
    assert sorted([*split.train_trials, *split.test_trials]) == list(range(session.n_trials))
    assert sorted([*split.heldin_neurons, *split.heldout_neurons]) == list(
        range(session.n_neurons))
    assert isinstance(data, CoSmoothingData)
    assert data.train_inputs.shape == (64, 60, 30) and data.test_targets.shape == (16, 60, 30)
    assert data.train_targets.shape == (64, 60, 30) and data.test_inputs.shape == (16, 60, 30)
    assert data.test_targets.dtype == np.float32
    expected = session.spikes[split.heldout_neurons][:, split.test_trials].transpose(1, 2, 0)
    assert np.array_equal(data.test_targets, expected)
    inputs = session.spikes[split.heldin_neurons][:, split.train_trials].transpose(1, 2, 0)
    assert np.array_equal(data.train_inputs, inputs)


def test_co_smoothing_split_cuts_true_rates_the_same_way(split_session):
    session, split, _ = split_session
    truth = split.apply(session.rates_by_trial())
    expected = session.truth.rates[split.test_trials][:, :, split.heldout_neurons]
    np.testing.assert_allclose(truth.test_targets, expected, rtol=1e-6)


def test_co_smoothing_split_is_reproducible_and_stratifiable():
    a, b = co_smoothing_split(50, 20, seed=3), co_smoothing_split(50, 20, seed=3)
    for name in ("train_trials", "test_trials", "heldin_neurons", "heldout_neurons"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    labels = np.r_[np.ones(35, int), np.zeros(15, int)]
    split = co_smoothing_split(labels, 20, test_fraction=0.2, heldout_fraction=0.25, seed=0)
    assert len(split.test_trials) == 10 and labels[split.test_trials].sum() == 7
    assert len(split.heldout_neurons) == 5


def test_apply_checks_the_layout(split_session):
    session, split, _ = split_session
    with pytest.raises(ValueError, match="This split is for 80 trials x 60 neurons"):
        split.apply(np.zeros((3, 80, 60)))
    with pytest.raises(ValueError, match="spikes_by_trial"):
        split.apply(session.spikes)  # the session's layout (neurons, trials, bins)
    with pytest.raises(ValueError, match="n_trials, n_bins, n_neurons"):
        split.apply(np.zeros((80, 60)))


# --------------------------------------------------------------------------- folds
def test_check_labels() -> None:
    labels = check_labels(np.r_[np.ones(6, bool), np.zeros(5, bool)], n_splits=5, n_trials=11)
    assert labels.dtype == np.int64 and labels.sum() == 6
    with pytest.raises(ValueError, match="labels have 11 entries but the spikes have 12"):
        check_labels(labels, n_splits=5, n_trials=12)
    with pytest.raises(ValueError, match="both classes 0 and 1"):
        check_labels(np.ones(10, int), n_splits=2)
    with pytest.raises(ValueError, match="both classes"):
        check_labels(np.array([0, 1, 2, 1, 0, 1, 0, 2]), n_splits=2)
    with pytest.raises(ValueError, match="Too few trials of class 0 \\(3\\).*at least 4"):
        check_labels(np.r_[np.ones(10, int), np.zeros(3, int)], n_splits=2)


# --------------------------------------------------------------------------- class weights
def test_class_weights_equalise_the_classes() -> None:
    labels = np.r_[np.ones(30, int), np.zeros(10, int)]
    weights = balanced_class_weights(labels)
    np.testing.assert_allclose(weights, [2.0, 2 / 3])
    assert weights[0] * 10 == pytest.approx(weights[1] * 30)
    assert weights.dtype == np.float32
    np.testing.assert_allclose(balanced_class_weights(labels.astype(bool)), weights)


@pytest.mark.parametrize(("labels", "message"), [
    (np.array([0.0, 1.0, 1.0]), "integer classes 0..1"),
    (np.array([0, 1, 2]), "integer classes 0..1"),
    (np.array([-1, 1]), "integer classes 0..1"),
    (np.array([], int), "integer classes 0..1"),
    (np.ones(4, int), "every class needs trials"),
])
def test_class_weights_bad_labels(labels, message) -> None:
    with pytest.raises(ValueError, match=message):
        balanced_class_weights(labels)


# ----------------------------------------------------------------------------- chapter 3
from helpers.splits import (  # noqa: E402
    MIN_REGION_NEURONS,
    cross_region_split,
    shuffle_within_conditions,
)


@pytest.fixture(scope="module")
def two_regions():
    return make_session(2, n_trials=40, n_bins=60,
                        area_counts={"VISp": 40, "LGd": 30, "CA1": 12, "MOs": 4})


@given(st.lists(st.integers(2, 9), min_size=1, max_size=6), st.integers(0, 1000))
@settings(max_examples=60, deadline=None)
def test_shuffle_pairs_only_within_conditions_and_never_a_trial_with_itself(sizes, seed):
    labels = np.random.default_rng(seed).permutation(np.repeat(np.arange(len(sizes)), sizes))
    partner = shuffle_within_conditions(labels, seed=seed)
    assert (partner != np.arange(len(labels))).all()
    assert (labels[partner] == labels).all()


def test_shuffle_draws_nearby_partners_within_each_set():
    conditions = np.tile([0, 1], 50)  # 100 trials, two conditions, alternating
    sets = (np.arange(100) >= 70).astype(int)
    partner = shuffle_within_conditions(conditions, sets=sets, seed=0, n_nearest=2)
    assert (sets[partner] == sets).all() and (conditions[partner] == conditions).all()
    assert np.abs(partner - np.arange(100)).max() <= 4  # among the 2 nearest of its condition
    draws = {tuple(shuffle_within_conditions(conditions, sets=sets, seed=s)) for s in range(5)}
    assert len(draws) == 5  # each seed its own permutation


def test_shuffle_matches_response_times():
    conditions = np.zeros(40, dtype=int)
    response_time = np.tile([0.2, 0.6], 20)  # alternating fast and slow responses
    partner = shuffle_within_conditions(conditions, response_time=response_time, seed=1,
                                        n_nearest=2)
    assert (response_time[partner] == response_time).mean() >= 0.9  # edges may not match
    plain = shuffle_within_conditions(conditions, seed=1, n_nearest=2)
    assert (response_time[plain] == response_time).mean() <= 0.7
    no_go = np.full(40, np.nan)  # no response time: nearest trials only
    assert (shuffle_within_conditions(conditions, response_time=no_go) != np.arange(40)).all()


def test_shuffle_accepts_rows_of_conditions_and_is_reproducible():
    conditions = np.c_[[0, 0, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0]]
    partner = shuffle_within_conditions(conditions, seed=3)
    assert (conditions[partner] == conditions).all() and (partner != np.arange(6)).all()
    assert np.array_equal(partner, shuffle_within_conditions(conditions, seed=3))


def test_shuffle_rejects_a_trial_alone_in_its_condition():
    with pytest.raises(ValueError, match="alone in their condition.*trials_with_partner"):
        shuffle_within_conditions(np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="alone in their condition within its set"):
        shuffle_within_conditions(np.array([0, 0, 0, 0]), sets=np.array([0, 0, 0, 1]))
    with pytest.raises(ValueError, match="at least one trial"):
        shuffle_within_conditions(np.array([]))
    with pytest.raises(ValueError, match="one label per trial"):
        shuffle_within_conditions(np.array([0, 0]), sets=np.array([0]))


def test_cross_region_split_draws_disjoint_neurons_of_the_right_regions(two_regions):
    split = cross_region_split(two_regions, "vis ctx", "thal", min_rate=None, n_source=20,
                               seed=1)
    region = two_regions.region
    assert (region[split.source_neurons] == "vis ctx").all() and len(split.source_neurons) == 20
    assert (region[split.heldout_neurons] == "thal").all()
    assert (region[split.heldin_neurons] == "thal").all()
    assert len(np.intersect1d(split.heldin_neurons, split.heldout_neurons)) == 0
    assert len(split.heldin_neurons) + len(split.heldout_neurons) == 30
    assert len(np.intersect1d(split.train_trials, split.test_trials)) == 0
    assert not split.within and "source neurons predict" in split.describe()
    again = cross_region_split(two_regions, "hipp", "thal", min_rate=None, seed=1)
    assert np.array_equal(again.heldout_neurons, split.heldout_neurons)  # same target split
    assert np.array_equal(again.test_trials, split.test_trials)  # same trials for every pair


def test_a_split_by_conditions_leaves_every_trial_a_partner_in_its_set():
    conditions = np.repeat(np.arange(12), np.arange(2, 14))  # conditions of 2 to 13 trials
    session = make_session(0, n_trials=len(conditions), n_bins=60,
                           area_counts={"VISp": 20, "LGd": 20})
    split = cross_region_split(session, "vis ctx", "thal", min_rate=None,
                               conditions=conditions, seed=3)
    for trials in (split.train_trials, split.test_trials):
        assert np.bincount(conditions[trials]).max() >= 2
        assert 1 not in np.bincount(conditions[trials])  # 0 or >= 2 per condition and set
    assert 0.1 < len(split.test_trials) / len(conditions) < 0.3
    partners = split.partners(conditions, n_permutations=20, seed=0)
    assert partners.shape == (20, len(conditions))
    test = np.isin(np.arange(len(conditions)), split.test_trials)
    assert (test[partners] == test).all() and (conditions[partners] == conditions).all()
    with pytest.raises(ValueError, match="single trial"):
        cross_region_split(session, "vis ctx", "thal", min_rate=None,
                           conditions=np.r_[conditions[:-1], 99], seed=0)
    with pytest.raises(ValueError, match="n_permutations"):
        split.partners(conditions, n_permutations=0)


def test_same_source_and_target_is_within_region(two_regions):
    split = cross_region_split(two_regions, "thal", "thal", min_rate=None, n_source=10, seed=0)
    assert split.within and "within-region" in split.describe()
    assert np.isin(split.source_neurons, split.heldin_neurons).all()
    assert len(np.intersect1d(split.source_neurons, split.heldout_neurons)) == 0


def test_cross_region_split_bad_inputs(two_regions):
    with pytest.raises(ValueError, match=r"no neurons in 'midbrain'.*\['vis ctx', 'thal'"):
        cross_region_split(two_regions, "midbrain", "thal", min_rate=None)
    with pytest.raises(ValueError, match="Unknown region group 'visual'"):
        cross_region_split(two_regions, "vis ctx", "visual", min_rate=None)
    with pytest.raises(ValueError, match=f"has 4 neurons; .* at least {MIN_REGION_NEURONS}"):
        cross_region_split(two_regions, "other ctx", "thal", min_rate=None)
    with pytest.raises(ValueError, match=r"firing >= 1000"):
        cross_region_split(two_regions, "vis ctx", "thal", min_rate=1000.0)
    with pytest.raises(ValueError, match="has 40 neurons; ask for fewer"):
        cross_region_split(two_regions, "vis ctx", "thal", min_rate=None, n_source=41)
    with pytest.raises(ValueError, match="positive integer"):
        cross_region_split(two_regions, "vis ctx", "thal", min_rate=None, n_source=0)
    with pytest.raises(ValueError, match="conditions for 40 trials"):
        cross_region_split(two_regions, "vis ctx", "thal", min_rate=None,
                           conditions=np.zeros(3))
