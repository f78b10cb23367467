"""Scores: the Poisson loss and bits per spike (chapter 2), classification metrics (chapter 4)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import gammaln

_RATE_FLOOR = 1e-9  # the field's convention (nlb_tools): zero rates become 1e-9


def poisson_loss(rates: torch.Tensor, spikes: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The course's Poisson loss, ``mean(rates - spikes * log(rates))``.

    Minimising it is maximum likelihood for counts drawn from Poisson(rates): it is the
    negative log-likelihood without the ``log(spikes!)`` term, which does not depend on the model.

    Args:
        rates: predicted rates, spikes per bin, any shape, positive.
        spikes: observed counts, same shape.
        eps: added inside the log so that a zero rate gives a large finite loss, not inf.
    """
    if rates.shape != spikes.shape:
        raise ValueError(f"rates {tuple(rates.shape)} and spikes {tuple(spikes.shape)} "
                         "must have the same shape.")
    return torch.mean(rates - spikes * torch.log(rates + eps))


def _as_float_array(name: str, value: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or inf.")
    return value


def poisson_log_likelihood(rates: np.ndarray, spikes: np.ndarray) -> np.ndarray:
    """Elementwise Poisson log-likelihood ``spikes*log(rate) - rate - log(spikes!)`` (nats)."""
    rates = np.maximum(rates, _RATE_FLOOR)
    return spikes * np.log(rates) - rates - gammaln(spikes + 1)


def bits_per_spike(rates: np.ndarray | torch.Tensor, spikes: np.ndarray | torch.Tensor) -> float:
    """Log-likelihood gain over a per-neuron constant-rate model, in bits per spike.

    The field's definition (Neural Latents Benchmark): ``(LL_model - LL_null) / (n_spikes ln 2)``,
    where the null model predicts each neuron's mean count over the evaluated trials and bins.
    Zero for the null model itself, positive when the model beats it, negative when it is worse.

    Args:
        rates: predicted rates in spikes per bin, ``(..., n_neurons)`` -- neurons on the last axis.
        spikes: observed counts, same shape.
    """
    rates = _as_float_array("rates", rates)
    spikes = _as_float_array("spikes", spikes)
    if rates.shape != spikes.shape:
        raise ValueError(f"rates {rates.shape} and spikes {spikes.shape} must match in shape.")
    if np.any(rates < 0):
        raise ValueError("rates must be non-negative (spikes per bin).")
    n_spikes = spikes.sum()
    if n_spikes == 0:
        raise ValueError("bits per spike is undefined when there are no spikes to predict.")
    flat_spikes = spikes.reshape(-1, spikes.shape[-1])
    null_rates = np.broadcast_to(flat_spikes.mean(axis=0), flat_spikes.shape)
    ll_model = poisson_log_likelihood(rates.reshape(flat_spikes.shape), flat_spikes).sum()
    ll_null = poisson_log_likelihood(null_rates, flat_spikes).sum()
    return float((ll_model - ll_null) / (n_spikes * np.log(2)))


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


def cv_confidence_interval(fold_scores: np.ndarray, test_fraction: float,
                           level: float = 0.95) -> tuple[float, float, float]:
    """Mean score over cross-validation folds with a corrected-resampled-t interval.

    Folds of a (repeated) cross-validation share most of their training trials, so their
    scores are correlated and the textbook ``std / sqrt(n_folds)`` is far too narrow. The
    correction of Nadeau & Bengio (2003) inflates the variance of the mean to
    ``(1 / n_folds + n_test / n_train) * var(fold_scores)``; with t quantiles on
    ``n_folds - 1`` degrees of freedom. The interval narrows as folds (repeats) are added, but
    only down to a floor set by ``n_test / n_train``: re-using the same trials cannot create
    new information. (A bootstrap over trials would ignore the training-set variability.)

    Args:
        fold_scores: one score per fold, shape ``(n_folds,)``, at least 2.
        test_fraction: the fraction of trials tested in each fold, e.g. ``1 / n_splits``.
        level: coverage of the interval.

    Returns:
        ``(mean, low, high)``.
    """
    from scipy import stats

    scores = _as_float_array("fold_scores", fold_scores).ravel()
    if len(scores) < 2:
        raise ValueError(f"need at least 2 fold scores for an interval, got {len(scores)}.")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    mean = float(scores.mean())
    variance = (1 / len(scores) + test_fraction / (1 - test_fraction)) * scores.var(ddof=1)
    half_width = float(stats.t.ppf((1 + level) / 2, len(scores) - 1) * np.sqrt(variance))
    return mean, mean - half_width, mean + half_width


def permutation_p_value(observed: float, null_scores: np.ndarray) -> float:
    """One-sided p-value of ``observed`` against scores obtained with permuted labels.

    ``(1 + #{null >= observed}) / (1 + n_permutations)`` (Ojala & Garriga 2010): the
    observed score counts as one of the permutations, so the p-value is never 0 and its
    smallest possible value is ``1 / (1 + n_permutations)``.

    Args:
        observed: the score with the true labels.
        null_scores: the same score with shuffled labels, shape ``(n_permutations,)``.
    """
    null_scores = _as_float_array("null_scores", null_scores).ravel()
    if len(null_scores) == 0:
        raise ValueError("need at least one permuted score.")
    if not np.isfinite(observed):
        raise ValueError(f"observed must be a finite score, got {observed!r}.")
    return float((1 + np.sum(null_scores >= observed)) / (1 + len(null_scores)))
