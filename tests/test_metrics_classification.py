"""Classification metrics (chapter 4): balanced accuracy, its interval, permutation p-values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, confusion_matrix

from helpers.metrics import (
    balanced_accuracy,
    balanced_accuracy_from_confusion,
    cv_confidence_interval,
    permutation_p_value,
)


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


def test_interval_contains_the_estimate_and_narrows_with_more_folds() -> None:
    rng = np.random.default_rng(0)
    few = rng.normal(0.7, 0.05, 5)
    many = np.tile(few, 4)  # same spread, four times the folds
    mean, low, high = cv_confidence_interval(few, test_fraction=0.2)
    assert low < mean < high and mean == pytest.approx(few.mean())
    _, low_many, high_many = cv_confidence_interval(many, test_fraction=0.2)
    assert high_many - low_many < high - low
    _, low_99, high_99 = cv_confidence_interval(few, test_fraction=0.2, level=0.99)
    assert high_99 - low_99 > high - low


def test_interval_is_wider_than_the_naive_standard_error() -> None:
    scores = np.array([0.6, 0.7, 0.65, 0.75, 0.62, 0.68, 0.71, 0.66, 0.64, 0.7])
    mean, low, high = cv_confidence_interval(scores, test_fraction=0.2)
    naive = 1.96 * scores.std(ddof=1) / np.sqrt(len(scores))
    assert (high - low) / 2 > naive


@pytest.mark.parametrize(("scores", "fraction", "level"), [([0.7], 0.2, 0.95),
                                                           ([0.7, 0.8], 1.0, 0.95),
                                                           ([0.7, 0.8], 0.2, 1.5),
                                                           ([0.7, np.nan], 0.2, 0.95)])
def test_interval_bad_inputs(scores, fraction, level) -> None:
    with pytest.raises(ValueError):
        cv_confidence_interval(scores, fraction, level)


def test_p_value_is_uniform_under_the_null() -> None:
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(4000, 20))  # observed and 19 permutations from one distribution
    p_values = np.array([permutation_p_value(row[0], row[1:]) for row in draws])
    assert p_values.min() == pytest.approx(1 / 20)
    assert np.mean(p_values <= 0.05) == pytest.approx(0.05, abs=0.015)
    assert np.mean(p_values <= 0.5) == pytest.approx(0.5, abs=0.03)


def test_p_value_is_small_for_a_strong_signal() -> None:
    null = np.random.default_rng(0).normal(0.5, 0.03, 99)
    assert permutation_p_value(0.8, null) == pytest.approx(0.01)
    assert permutation_p_value(0.3, null) == pytest.approx(1.0)


def test_p_value_bad_inputs() -> None:
    with pytest.raises(ValueError):
        permutation_p_value(0.6, [])
    with pytest.raises(ValueError):
        permutation_p_value(np.nan, [0.5])
