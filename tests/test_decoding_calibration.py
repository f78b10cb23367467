"""Is "decodable" calibrated? :func:`helpers.decoding.decode_over_time` run many times on data
where nothing is decodable (its family-wise false-positive rate must be within Monte Carlo
error of 5 %), and on a planted signal (its onset must be found).

The scenarios are Harris (2020)'s: i.i.d. noise; labels in bouts against features that drift
across the session (a trial shuffle calls this decodable in every run); labels and features
that both drift, tested against pseudo-sessions drawn from the labels' own process.
``benchmarks/latents.py`` prints the same rates at the chapter's settings.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.decoding import decode_over_time, first_decodable_time, onset_interval


def _bouts(rng: np.random.Generator, n: int, p_stay: float = 0.95) -> np.ndarray:
    """A stationary two-state Markov chain of labels."""
    labels = np.empty(n, dtype=int)
    labels[0] = rng.integers(2)
    for i in range(1, n):
        labels[i] = labels[i - 1] if rng.random() < p_stay else 1 - labels[i - 1]
    return labels


def _drift(rng: np.random.Generator, n: int, n_bins: int, n_features: int) -> np.ndarray:
    """Features that wander across trials (a random walk) plus bin-to-bin noise."""
    walk = np.cumsum(rng.normal(size=(n, 1, n_features)), axis=0)
    return walk + 0.5 * rng.normal(size=(n, n_bins, n_features))


def _any_significant_rate(make, n_runs: int) -> float:
    hits = [decode_over_time(*make(np.random.default_rng(run)))["significant"].any()
            for run in range(n_runs)]
    return float(np.mean(hits))


def _limit(n_runs: int, rate: float = 0.05) -> float:
    """5 % plus three Monte Carlo standard errors."""
    return rate + 3 * np.sqrt(rate * (1 - rate) / n_runs)


def test_iid_noise_is_significant_in_at_most_5_percent_of_runs():
    def make(rng):
        return rng.normal(size=(200, 30, 8)), rng.integers(0, 2, 200)

    assert _any_significant_rate(make, 100) <= _limit(100)


def test_labels_in_bouts_against_drifting_features_with_the_default_null():
    def make(rng):
        return _drift(rng, 200, 30, 8), _bouts(rng, 200)

    assert _any_significant_rate(make, 100) <= _limit(100)


def test_labels_in_bouts_keep_their_power_with_the_default_null():
    """Short shifts of bout labels return nearly the real labels; they are skipped, so a real
    signal carried by bout labels (e.g. go vs no-go) is still found."""
    found = []
    for run in range(20):
        rng = np.random.default_rng(run)
        labels = _bouts(rng, 200)
        features = rng.normal(size=(200, 30, 8))
        features[:, 15:, 0] += 0.8 * (2 * labels[:, None] - 1)
        found.append(decode_over_time(features, labels)["significant"].to_numpy()[15:].any())
    assert np.mean(found) >= 0.8


def test_a_trial_shuffle_is_fooled_by_the_same_drift():
    """The reason the default is not a shuffle (the test bites: the old rule failed here)."""
    rng = np.random.default_rng(0)
    hits = [decode_over_time(_drift(rng, 200, 30, 8), _bouts(rng, 200), null="shuffle",
                             n_permutations=100)["significant"].any() for _ in range(10)]
    assert np.mean(hits) >= 0.5


def test_drifting_labels_and_features_against_pseudo_sessions():
    hits = []
    for run in range(100):
        rng = np.random.default_rng(run)
        labels = np.cumsum(rng.normal(size=120))
        null_targets = np.cumsum(rng.normal(size=(100, 120)), axis=1)
        table = decode_over_time(_drift(rng, 120, 10, 4), labels, null_targets=null_targets)
        hits.append(table["significant"].any())
    assert np.mean(hits) <= _limit(100)


def test_a_planted_signal_is_found_at_its_onset():
    onsets = []
    for run in range(30):
        rng = np.random.default_rng(run)
        labels = rng.integers(0, 2, 200)
        features = rng.normal(size=(200, 30, 8))
        features[:, 15:, 0] += 0.8 * (2 * labels[:, None] - 1)
        onsets.append(first_decodable_time(decode_over_time(features, labels)))
    assert np.mean(np.abs(np.asarray(onsets) - 15) <= 2) >= 0.8


def test_onset_interval_brackets_a_planted_onset():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 200)
    features = rng.normal(size=(200, 20, 4))
    features[:, 8:, 0] += 1.0 * (2 * labels[:, None] - 1)
    onset, low, high = onset_interval(features, labels, n_boot=200)
    assert onset == pytest.approx(8) and low <= 8 <= high
    noise_onset, _, noise_high = onset_interval(rng.normal(size=(200, 20, 4)), labels,
                                                n_boot=50)
    assert np.isnan(noise_onset)


@pytest.mark.parametrize("change, match", [
    ("constant", "both classes"), ("few", "Too few trials of class"), ("nan", "NaN"),
    ("one bin", "at least 2 bins"), ("null", "null must be one of"),
    ("short nulls", "null_targets must be")])
def test_bad_input_names_the_fix(change, match):
    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(100, 6, 3)), rng.integers(0, 2, 100)
    options = {}
    if change == "constant":
        labels = np.ones(100)
    elif change == "few":
        labels = np.r_[np.ones(97), np.zeros(3)]
    elif change == "nan":
        features[3, 2, 1] = np.nan
    elif change == "one bin":
        features = features[:, :1]
    elif change == "null":
        options["null"] = "circular"
    else:
        options["null_targets"] = rng.integers(0, 2, (5, 100))
    with pytest.raises(ValueError, match=match):
        decode_over_time(features, labels, **options)
