"""helpers.metrics: the Poisson loss, bits per spike and pseudo-R² (chapter 2); balanced
accuracy, its interval and permutation p-values (chapter 4); the one rate floor."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import gammaln
from sklearn.metrics import balanced_accuracy_score, confusion_matrix

from helpers.metrics import (
    RATE_FLOOR,
    balanced_accuracy,
    balanced_accuracy_by_column,
    balanced_accuracy_from_confusion,
    bits_per_spike,
    poisson_log_likelihood,
    poisson_loss,
    pseudo_r2,
)
from helpers.surrogate import make_session


@pytest.fixture(scope="module")
def simulated():
    """Spikes and true rates of a small simulated session, model layout (trials, bins, neurons)."""
    session = make_session(3, n_trials=40, n_bins=60, area_counts={"VISp": 30, "LGd": 10})
    return session.spikes_by_trial(), session.rates_by_trial()


def _rates_and_spikes(seed=0, shape=(5, 20, 4)):
    generator = torch.Generator().manual_seed(seed)
    rates = torch.rand(shape, generator=generator) * 2 + 0.01
    return rates, torch.poisson(rates, generator=generator)


def test_poisson_loss_matches_torch_and_drops_only_log_factorial():
    rates, spikes = _rates_and_spikes()
    loss = poisson_loss(rates, spikes)
    torch_loss = torch.nn.PoissonNLLLoss(log_input=False)(rates, spikes)
    assert torch.allclose(loss, torch_loss, atol=1e-6)
    exact_nll = -torch.distributions.Poisson(rates).log_prob(spikes).mean()
    dropped_constant = torch.lgamma(spikes + 1).mean()  # log(spikes!): no model parameter in it
    assert torch.allclose(loss + dropped_constant, exact_nll, atol=1e-5)


def test_poisson_loss_is_minimised_by_the_true_mean():
    spikes = torch.tensor([0.0, 1.0, 3.0, 2.0])
    candidates = torch.linspace(0.5, 3.0, 251)
    losses = torch.stack([poisson_loss(torch.full_like(spikes, c), spikes) for c in candidates])
    assert candidates[losses.argmin()] == pytest.approx(spikes.mean().item(), abs=0.01)


def test_poisson_loss_is_finite_at_zero_rate_and_checks_shapes():
    assert torch.isfinite(poisson_loss(torch.zeros(3), torch.ones(3)))
    with pytest.raises(ValueError, match="same shape"):
        poisson_loss(torch.ones(2, 3), torch.ones(3, 2))


def test_log_likelihood_matches_scipy():
    from scipy.stats import poisson

    rates, spikes = np.array([0.3, 2.0, 5.0]), np.array([0, 3, 4])
    assert np.allclose(poisson_log_likelihood(rates, spikes), poisson.logpmf(spikes, rates))


def test_bits_per_spike_is_zero_for_the_null_model(simulated):
    spikes, _ = simulated
    null = np.broadcast_to(spikes.mean(axis=(0, 1)), spikes.shape)
    assert bits_per_spike(null, spikes) == pytest.approx(0.0, abs=1e-9)


def test_bits_per_spike_is_positive_for_true_rates(simulated):
    spikes, rates = simulated
    assert bits_per_spike(rates, spikes) > 0.05


def test_bits_per_spike_is_negative_for_a_bad_model(simulated):
    spikes, rates = simulated
    shuffled = rates[np.random.default_rng(0).permutation(len(rates))][:, ::-1]
    assert bits_per_spike(shuffled * 3, spikes) < 0


def test_bits_per_spike_matches_the_field_formula():
    rng = np.random.default_rng(1)
    rates = rng.uniform(0.05, 1, (6, 30, 3))
    spikes = rng.poisson(rates)
    nll_model = np.sum(rates - spikes * np.log(rates) + gammaln(spikes + 1))
    null = np.broadcast_to(spikes.mean(axis=(0, 1)), spikes.shape)
    nll_null = np.sum(null - spikes * np.log(null) + gammaln(spikes + 1))
    expected = (nll_null - nll_model) / (spikes.sum() * np.log(2))
    assert bits_per_spike(rates, spikes) == pytest.approx(expected, rel=1e-10)
    assert bits_per_spike(torch.as_tensor(rates), torch.as_tensor(spikes)) == pytest.approx(
        expected, rel=1e-6)


def test_zero_rates_are_floored_not_infinite():
    spikes = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert np.isfinite(bits_per_spike(np.array([[0.0, 1.0], [1.0, 0.0]]), spikes))


def test_the_rate_floor_is_what_zero_rates_are_raised_to():
    assert RATE_FLOOR == 1e-6
    spikes = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(poisson_log_likelihood(np.zeros(3), spikes),
                               poisson_log_likelihood(np.full(3, RATE_FLOOR), spikes))


@pytest.mark.parametrize(("rates", "spikes", "message"), [
    (np.ones((2, 3)), np.ones((3, 2)), "match in shape"),
    (np.array([1.0, np.nan]), np.array([1.0, 0.0]), "NaN"),
    (np.array([1.0, -1.0]), np.array([1.0, 0.0]), "non-negative"),
    (np.ones(3), np.zeros(3), "no spikes"),
])
def test_bits_per_spike_rejects_bad_inputs(rates, spikes, message):
    with pytest.raises(ValueError, match=message):
        bits_per_spike(rates, spikes)


def test_pseudo_r2_is_one_for_a_perfect_fit_and_zero_for_the_null(simulated):
    spikes, rates = simulated
    assert np.allclose(pseudo_r2(spikes, spikes)[spikes.sum(axis=(0, 1)) > 0], 1.0)
    null = np.broadcast_to(spikes.mean(axis=(0, 1)), spikes.shape)
    assert np.allclose(np.nan_to_num(pseudo_r2(null, spikes)), 0.0, atol=1e-9)
    r2 = pseudo_r2(rates, spikes)
    assert r2.shape == (spikes.shape[-1],)
    assert np.nanmedian(r2) > 0


def test_pseudo_r2_is_nan_for_a_silent_neuron():
    spikes = np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 0.0]])
    r2 = pseudo_r2(np.full(spikes.shape, 0.5), spikes)
    assert np.isnan(r2[0]) and np.isfinite(r2[1])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.05, 5.0), min_size=4, max_size=4), st.integers(0, 10_000))
def test_pseudo_r2_and_bits_per_spike_share_their_numerator(mean_rates, seed):
    rng = np.random.default_rng(seed)
    true_rates = rng.gamma(2.0, np.array(mean_rates) / 2.0, size=(60, 4))
    spikes = rng.poisson(true_rates).astype(float)
    spikes[0] += 1  # every neuron fires at least once
    rates = np.maximum(true_rates * rng.uniform(0.5, 1.5), 1e-3)
    null = np.broadcast_to(spikes.mean(axis=0), spikes.shape)
    explainable = (poisson_log_likelihood(spikes, spikes)
                   - poisson_log_likelihood(null, spikes)).sum(axis=0)
    gain_from_r2 = np.sum(pseudo_r2(rates, spikes) * explainable)
    assert bits_per_spike(rates, spikes) == pytest.approx(
        gain_from_r2 / (spikes.sum() * np.log(2)), rel=1e-8, abs=1e-10)


# ------------------------------------------------------------------- classification
@pytest.mark.parametrize(("labels", "predictions", "expected"), [
    ([1, 1, 1, 0], [1, 1, 1, 1], 0.5),      # majority class: 75 % accuracy, knows nothing
    ([1, 1, 0, 0], [1, 1, 0, 0], 1.0),
    ([1, 1, 0, 0], [0, 0, 1, 1], 0.0),
    ([1, 1, 0, 0], [1, 0, 0, 0], 0.75),     # recall 1/2 and 2/2
    ([1, 1, 1, 0, 0], [1, 0, 0, 0, 1], (1 / 3 + 1 / 2) / 2),
])
def test_balanced_accuracy_by_hand(labels, predictions, expected) -> None:
    assert balanced_accuracy(labels, predictions) == pytest.approx(expected)


def test_balanced_accuracy_accepts_booleans_and_tensors() -> None:
    labels = np.array([True, True, False, False])
    assert balanced_accuracy(labels, torch.tensor([1, 0, 0, 0])) == pytest.approx(0.75)


def test_majority_class_scores_half_whatever_the_imbalance() -> None:
    labels = np.r_[np.ones(65, int), np.zeros(35, int)]
    assert balanced_accuracy(labels, np.ones(100, int)) == 0.5
    assert np.mean(labels == 1) == 0.65  # while plain accuracy says 65 %


@pytest.mark.parametrize(("labels", "predictions"), [([1, 0, 1], [1, 0]), ([], []),
                                                     ([0.5, 1.0], [1, 0])])
def test_balanced_accuracy_bad_inputs(labels, predictions) -> None:
    with pytest.raises(ValueError):
        balanced_accuracy(labels, predictions)


def test_from_confusion_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    labels, predictions = rng.integers(0, 2, 60), rng.integers(0, 2, 60)
    confusion = confusion_matrix(labels, predictions)
    assert balanced_accuracy_from_confusion(confusion) == pytest.approx(
        balanced_accuracy_score(labels, predictions))
    assert balanced_accuracy_from_confusion([[28, 3], [14, 17]]) == pytest.approx(
        (28 / 31 + 17 / 31) / 2)  # the original project's test set


@pytest.mark.parametrize("confusion", [np.zeros((2, 2)), np.ones((2, 3)), np.ones(4)])
def test_from_confusion_bad_inputs(confusion) -> None:
    with pytest.raises(ValueError):
        balanced_accuracy_from_confusion(confusion)


def test_balanced_accuracy_by_column_equals_scikit_learn_and_weights_resample() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=(50, 3, 4))
    predictions = np.where(rng.random((50, 3, 4)) < 0.7, labels, 1 - labels)
    scores = balanced_accuracy_by_column(labels, predictions)
    assert scores.shape == (3, 4)
    assert scores[1, 2] == pytest.approx(balanced_accuracy_score(labels[:, 1, 2],
                                                                 predictions[:, 1, 2]))
    counts = rng.multinomial(50, np.full(50, 1 / 50), size=2).astype(float)
    resampled = balanced_accuracy_by_column(labels, predictions, counts)
    repeat = np.repeat(np.arange(50), counts[1].astype(int))
    assert resampled[1, 0, 3] == pytest.approx(
        balanced_accuracy_score(labels[repeat, 0, 3], predictions[repeat, 0, 3]))
    with pytest.raises(ValueError, match="same shape"):
        balanced_accuracy_by_column(labels, predictions[:10])
