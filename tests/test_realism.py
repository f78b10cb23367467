"""Tests for helpers.realism: the session statistics that check the simulation's realism."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.realism import (
    REAL_DATA_RANGES,
    STATISTIC_LABELS,
    median_fano_factor,
    median_pairwise_correlation,
    session_statistics,
    window_counts,
)
from helpers.session import Session


def _poisson_session(
    rates_hz: np.ndarray, n_trials: int = 200, seed: int = 0, areas: list[str] | None = None
) -> Session:
    """Independent Poisson neurons at constant rates (spikes/s), 100 bins of 10 ms."""
    rng = np.random.default_rng(seed)
    n_neurons = len(rates_hz)
    spikes = rng.poisson(rates_hz[:, None, None] * 0.01, size=(n_neurons, n_trials, 100))
    contrast = rng.choice([0.0, 0.5], size=(2, n_trials))
    return Session(
        spikes=spikes,
        brain_area=areas or ["LGd"] * n_neurons,
        contrast_left=contrast[0],
        contrast_right=contrast[1],
        feedback_type=rng.choice([-1, 1], size=n_trials),
        stim_onset=0.5,
    )


def test_window_counts_sums_the_bins_inside_the_window():
    session = _poisson_session(np.array([5.0, 20.0]), n_trials=7)
    counts = window_counts(session, (0.0, 0.2))
    assert counts.shape == (7, 2)  # trials first, as everywhere in the book
    np.testing.assert_array_equal(counts, session.spikes[:, :, 50:70].sum(axis=2).T)


@pytest.mark.parametrize("window", [(0.2, 0.1), (3.0, 4.0)])
def test_window_counts_rejects_empty_windows(window):
    session = _poisson_session(np.array([5.0]), n_trials=7)
    with pytest.raises(ValueError, match="window"):
        window_counts(session, window)


def test_statistics_have_the_keys_and_labels_of_the_real_ranges():
    session = _poisson_session(np.full(30, 5.0))
    stats = session_statistics(session)
    assert set(stats) == set(REAL_DATA_RANGES) == set(STATISTIC_LABELS)
    assert all(low < high for low, high in REAL_DATA_RANGES.values())


def test_rates_of_a_poisson_population_are_recovered():
    rates_hz = np.array([0.5, 0.8, 2.0, 4.0, 8.0, 12.0, 20.0, 40.0, 60.0, 80.0])
    stats = session_statistics(_poisson_session(rates_hz, n_trials=400))
    assert stats["median_rate_hz"] == pytest.approx(10.0, rel=0.1)
    assert stats["fraction_below_1hz"] == pytest.approx(0.2)


def test_poisson_neurons_have_fano_one_and_no_correlation():
    session = _poisson_session(np.full(40, 10.0), n_trials=400)
    counts = window_counts(session)
    assert median_fano_factor(counts) == pytest.approx(1.0, abs=0.1)
    assert abs(median_pairwise_correlation(counts)) < 0.02


def test_gamma_gain_makes_counts_over_dispersed():
    rng = np.random.default_rng(1)
    mean = 4.0
    gain = rng.gamma(2.0, 0.5, size=(400, 50))  # (trials, neurons): mean 1, variance 0.5
    counts = rng.poisson(mean * gain)
    # Fano = 1 + mean * var(gain) = 3
    assert median_fano_factor(counts) == pytest.approx(3.0, rel=0.15)


def test_silent_neurons_do_not_break_fano_or_correlation():
    counts = np.zeros((50, 3), dtype=int)
    assert np.isnan(median_fano_factor(counts))
    assert np.isnan(median_pairwise_correlation(counts))


def test_stimulus_modulation_false_positive_rate_is_about_five_percent():
    stats = session_statistics(_poisson_session(np.full(200, 10.0), n_trials=300))
    assert stats["fraction_stimulus_modulated"] < 0.1


def test_stimulus_modulation_detects_driven_neurons():
    session = _poisson_session(np.full(20, 5.0), n_trials=200)
    stimulus = (session.contrast_left > 0) | (session.contrast_right > 0)
    session.spikes[:10, stimulus, 50:90] += 1  # +100 spikes/s in the window
    stats = session_statistics(session)
    assert stats["fraction_stimulus_modulated"] >= 0.5


def test_stimulus_modulation_is_nan_without_blank_trials():
    session = _poisson_session(np.full(5, 5.0), n_trials=50)
    session.contrast_left[:] = 0.5
    assert np.isnan(session_statistics(session)["fraction_stimulus_modulated"])


def test_outcome_decoding_is_nan_without_thalamus():
    session = _poisson_session(np.full(5, 5.0), areas=["VISp"] * 5)
    assert np.isnan(session_statistics(session)["outcome_balanced_accuracy_thal"])


def test_outcome_decoding_is_chance_for_unrelated_and_high_for_related_thalamus():
    session = _poisson_session(np.full(20, 5.0), n_trials=300)
    chance = session_statistics(session)["outcome_balanced_accuracy_thal"]
    assert abs(chance - 0.5) < 0.1
    session.spikes[:10, session.is_correct, 50:90] += 1
    assert session_statistics(session)["outcome_balanced_accuracy_thal"] > 0.9


def test_fraction_correct_is_the_rewarded_fraction():
    session = _poisson_session(np.full(3, 5.0))
    assert session_statistics(session)["fraction_correct"] == pytest.approx(
        np.mean(session.feedback_type == 1)
    )


def test_statistics_read_counts_trials_first():
    rng = np.random.default_rng(2)
    shared = rng.gamma(2.0, 0.5, size=(300, 1))  # one gain per trial, shared by all neurons
    counts = rng.poisson(5.0 * shared * np.ones((1, 8)))  # (n_trials, n_neurons)
    assert median_pairwise_correlation(counts) > 0.3  # neurons co-vary across trials
    silent_neuron = counts.copy()
    silent_neuron[:, 0] = 0
    assert median_fano_factor(silent_neuron) == pytest.approx(median_fano_factor(counts[:, 1:]))


def test_realism_table_puts_each_statistic_beside_its_range():
    from helpers.realism import realism_table

    session = _poisson_session(np.full(30, 5.0))
    table = realism_table(session)
    assert list(table.columns) == ["this session", "real low", "real high", "inside"]
    assert list(table.index) == [STATISTIC_LABELS[name] for name in REAL_DATA_RANGES]
    rate = table.loc[STATISTIC_LABELS["median_rate_hz"]]
    assert not rate["inside"] and rate["this session"] > rate["real high"]  # 5 spikes/s
