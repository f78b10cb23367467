"""Scores: the Poisson loss, bits per spike and pseudo-R² (chapter 2), classification metrics
(chapter 4)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import gammaln, xlogy

__all__ = [
    "RATE_FLOOR", "poisson_loss", "poisson_log_likelihood", "bits_per_spike", "pseudo_r2",
    "balanced_accuracy", "balanced_accuracy_by_column", "balanced_accuracy_from_confusion",
]

#: The smallest rate (spikes per bin) any model, baseline or score uses: models add it to their
#: output and scores raise zero rates to it, so that ``log(rate)`` stays finite. At 10 ms bins it
#: is 1e-4 spikes/s, far below any neuron's rate.
RATE_FLOOR = 1e-6


def poisson_loss(rates: torch.Tensor, spikes: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The course's Poisson loss, ``mean(rates - spikes * log(rates))`` (chapter 2).

    Minimising it is maximum likelihood for counts drawn from Poisson(rates): it is the mean
    negative log-likelihood without the ``log(spikes!)`` term, which does not depend on the
    model. It equals ``torch.nn.PoissonNLLLoss(log_input=False)``.

    Args:
        rates: predicted rates, spikes per bin, any shape, non-negative.
        spikes: observed counts, same shape.
        eps: added inside the log so that a zero rate gives a large finite loss, not inf.

    Returns:
        A scalar tensor (nats per bin and neuron, up to the dropped constant).
    """
    if rates.shape != spikes.shape:
        raise ValueError(f"rates {tuple(rates.shape)} and spikes {tuple(spikes.shape)} "
                         "must have the same shape (n_trials, n_bins, n_neurons).")
    return torch.mean(rates - spikes * torch.log(rates + eps))


def _as_float_array(name: str, value: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or inf.")
    return value


def _checked_pair(rates: np.ndarray | torch.Tensor,
                  spikes: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 arrays shaped ``(n_samples, n_neurons)``, after checking them."""
    rates = _as_float_array("rates", rates)
    spikes = _as_float_array("spikes", spikes)
    if rates.shape != spikes.shape:
        raise ValueError(f"rates {rates.shape} and spikes {spikes.shape} must match in shape "
                         "(neurons on the last axis).")
    if rates.ndim == 0:
        raise ValueError("rates and spikes must have at least one axis (neurons).")
    if np.any(rates < 0):
        raise ValueError("rates must be non-negative (spikes per bin).")
    if np.any(spikes < 0):
        raise ValueError("spikes must be non-negative counts.")
    n_neurons = spikes.shape[-1]
    return rates.reshape(-1, n_neurons), spikes.reshape(-1, n_neurons)


def poisson_log_likelihood(rates: np.ndarray, spikes: np.ndarray) -> np.ndarray:
    """Elementwise Poisson log-likelihood ``spikes*log(rate) - rate - log(spikes!)`` in nats.

    Rates below :data:`RATE_FLOOR` (1e-6 spikes/bin) are raised to it, so that a zero rate gives
    a large finite penalty; the book floors every rate this way (models, baselines, scores).
    The Neural Latents Benchmark's evaluation code instead replaces only exact zeros, with
    1e-9: the two agree except for rates below 1e-6, where the book's penalty is smaller.
    """
    rates = np.maximum(rates, RATE_FLOOR)
    return xlogy(spikes, rates) - rates - gammaln(spikes + 1)


def bits_per_spike(rates: np.ndarray | torch.Tensor, spikes: np.ndarray | torch.Tensor) -> float:
    """Log-likelihood gain over a per-neuron constant-rate model, in bits per spike (chapter 2).

    The field's definition (Neural Latents Benchmark): ``(LL_model - LL_null) / (n_spikes ln 2)``,
    where the null model predicts each neuron's mean count over the evaluated trials and bins.
    Zero for the null model itself, positive when the model beats it, negative when it is worse.

    Args:
        rates: predicted rates in spikes per bin, ``(..., n_neurons)`` -- neurons on the last axis.
        spikes: observed counts, same shape.

    Raises:
        ValueError: shapes differ, values are NaN/inf or negative, or there are no spikes.
    """
    rates, spikes = _checked_pair(rates, spikes)
    n_spikes = spikes.sum()
    if n_spikes == 0:
        raise ValueError("bits per spike is undefined when there are no spikes to predict.")
    null_rates = np.broadcast_to(spikes.mean(axis=0), spikes.shape)
    ll_model = poisson_log_likelihood(rates, spikes).sum()
    ll_null = poisson_log_likelihood(null_rates, spikes).sum()
    return float((ll_model - ll_null) / (n_spikes * np.log(2)))


def pseudo_r2(rates: np.ndarray | torch.Tensor, spikes: np.ndarray | torch.Tensor) -> np.ndarray:
    """Deviance-based pseudo-R² of every neuron (chapter 2).

    ``1 - D_model / D_null = (LL_model - LL_null) / (LL_saturated - LL_null)``: the fraction of
    the null model's Poisson deviance that the model explains. 1 is a perfect fit (rates equal to
    the counts), 0 the constant-rate null, negative worse than the null. It shares its numerator
    with :func:`bits_per_spike`, but divides by what was explainable instead of by the spikes.

    Args:
        rates: predicted rates in spikes per bin, ``(..., n_neurons)``.
        spikes: observed counts, same shape.

    Returns:
        Pseudo-R² per neuron, ``(n_neurons,)``; NaN for a neuron that never fired.
    """
    rates, spikes = _checked_pair(rates, spikes)
    null_rates = np.broadcast_to(spikes.mean(axis=0), spikes.shape)
    ll_model = poisson_log_likelihood(rates, spikes).sum(axis=0)
    ll_null = poisson_log_likelihood(null_rates, spikes).sum(axis=0)
    ll_saturated = poisson_log_likelihood(spikes, spikes).sum(axis=0)
    explainable = ll_saturated - ll_null
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = (ll_model - ll_null) / explainable
    return np.where(spikes.sum(axis=0) > 0, r2, np.nan)


# --------------------------------------------------------------------------------------------
# Classification (chapter 4): balanced accuracy, its confidence interval, permutation p-values.


def _as_label_array(name: str, value: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.ravel(np.asarray(value))
    if value.dtype == bool:
        value = value.astype(np.int64)
    if not (np.issubdtype(value.dtype, np.integer) or np.all(value == np.round(value))):
        raise ValueError(f"{name} must be class labels (integers or booleans), got {value.dtype}.")
    return value.astype(np.int64)


def balanced_accuracy(labels: np.ndarray | torch.Tensor,
                      predictions: np.ndarray | torch.Tensor) -> float:
    """Mean over classes of the fraction of that class predicted correctly (recall).

    Unlike plain accuracy, it is 0.5 for any classifier that ignores its input on two classes --
    including one that always answers the majority class -- however unbalanced the labels
    are (Brodersen et al. 2010). Wraps :func:`sklearn.metrics.balanced_accuracy_score`.

    Args:
        labels: true classes, integers or booleans, shape ``(n_trials,)``.
        predictions: predicted classes, same shape.

    Returns:
        A number between 0 and 1.

    Raises:
        ValueError: the lengths differ, the arrays are empty or not class labels.
    """
    from sklearn.metrics import balanced_accuracy_score

    labels = _as_label_array("labels", labels)
    predictions = _as_label_array("predictions", predictions)
    if len(labels) != len(predictions):
        raise ValueError(f"labels have {len(labels)} entries but predictions {len(predictions)}.")
    if len(labels) == 0:
        raise ValueError("balanced accuracy is undefined without trials.")
    return float(balanced_accuracy_score(labels, predictions))


def balanced_accuracy_by_column(labels: np.ndarray, predictions: np.ndarray,
                                weights: np.ndarray | None = None) -> np.ndarray:
    """Balanced accuracy of many binary decoders at once, trials on axis 0.

    The vectorised form of :func:`balanced_accuracy` (which wraps scikit-learn and serves one
    decoder), for the thousands of decoders of a permutation test: the mean recall over the
    classes 0 and 1 present among the trials. ``tests/test_metrics.py`` checks that both agree.

    Args:
        labels: ``(n_trials, ...)`` in {0, 1}.
        predictions: the predicted classes, same shape.
        weights: optional ``(n_resamples, n_trials)`` trial weights (bootstrap counts, from
            :func:`helpers.inference.bootstrap_weights`); each row gives one score.

    Returns:
        ``labels.shape[1:]`` scores, or ``(n_resamples, *labels.shape[1:])`` with weights; NaN
        where no trial has a class.
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim == 0:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} must have "
                         "the same shape, trials first.")
    recalls, present = 0.0, 0
    for value in (0, 1):
        members = (labels == value).astype(np.float64)
        hits = members * (predictions == value)
        if weights is None:
            count, correct = members.sum(axis=0), hits.sum(axis=0)
        else:
            count = np.tensordot(weights, members, axes=(1, 0))
            correct = np.tensordot(weights, hits, axes=(1, 0))
        recalls = recalls + np.where(count > 0, correct / np.maximum(count, 1e-300), 0.0)
        present = present + (count > 0)
    return np.where(present > 0, recalls / np.maximum(present, 1), np.nan)


def balanced_accuracy_from_confusion(confusion: np.ndarray) -> float:
    """Balanced accuracy of a confusion matrix ``(n_classes, n_classes)``: rows are the true
    classes, columns the predicted ones (scikit-learn's layout). Classes with no trials are
    skipped, as scikit-learn does."""
    confusion = np.asarray(confusion, dtype=np.float64)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be a square matrix, got shape {confusion.shape}.")
    per_class = confusion.sum(axis=1)
    present = per_class > 0
    if not present.any():
        raise ValueError("the confusion matrix is empty.")
    return float(np.mean(np.diag(confusion)[present] / per_class[present]))
