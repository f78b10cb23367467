"""Everything a model must beat: baselines for predicted rates (chapter 2) and for decoding
trial labels (chapter 4).

All take arrays in the models' layout, ``(n_trials, n_bins, n_neurons)``, rates in spikes per
bin. Each is fitted on training trials only and then predicts other trials.

Rates:

- :func:`constant_rates`: every neuron fires at its mean training rate (the null model of bits
  per spike, up to the difference between training and test means);
- :class:`ConditionPSTH`: the average time course of trials with the same stimulus;
- :class:`SmoothingGLM`: the field's smoothing baseline (Neural Latents Benchmark): smooth the
  held-in spikes with a Gaussian kernel, then a Poisson GLM maps them to held-out rates;
- :func:`baseline_rates`: all of them on one co-smoothing split.

Labels: :func:`fit_logistic` (regularised logistic regression on window counts),
:func:`majority_predictions` and, on simulated data, :func:`best_achievable_predictions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from helpers.metrics import RATE_FLOOR, poisson_log_likelihood
from helpers.runtime import cpu_threads
from helpers.splits import (
    BALANCING,
    CoSmoothingData,
    CoSmoothingSplit,
    balanced_subset,
    split_trials,
)

__all__ = [
    "constant_rates", "smooth_spikes", "ConditionPSTH", "SmoothingGLM", "fit_smoothing_glm",
    "fit_condition_psth", "baseline_rates", "fit_logistic", "logistic_features",
    "majority_predictions", "best_achievable_predictions",
]


def _as_counts(name: str, spikes: np.ndarray) -> np.ndarray:
    spikes = np.asarray(spikes, dtype=np.float64)
    if spikes.ndim != 3:
        raise ValueError(f"{name} must be shaped (n_trials, n_bins, n_neurons), got "
                         f"{spikes.shape}. A Session's spikes are (n_neurons, n_trials, n_bins): "
                         "use session.spikes_by_trial().")
    if not np.all(np.isfinite(spikes)):
        raise ValueError(f"{name} contains NaN or inf.")
    return spikes


def constant_rates(train_spikes: np.ndarray, n_trials: int) -> np.ndarray:
    """Each neuron's mean training rate, in every bin of ``n_trials`` new trials.

    Args:
        train_spikes: counts ``(n_train_trials, n_bins, n_neurons)``.
        n_trials: how many trials to predict.

    Returns:
        Rates ``(n_trials, n_bins, n_neurons)``, spikes per bin.
    """
    train_spikes = _as_counts("train_spikes", train_spikes)
    mean = np.maximum(train_spikes.mean(axis=(0, 1)), RATE_FLOOR)
    return np.broadcast_to(mean, (n_trials, *train_spikes.shape[1:])).copy()


def smooth_spikes(spikes: np.ndarray, sigma_bins: float) -> np.ndarray:
    """Gaussian-smooth counts along time (axis 1), e.g. ``sigma_bins=4`` is 40 ms at 10 ms bins.

    Args:
        spikes: counts ``(n_trials, n_bins, n_neurons)``.
        sigma_bins: kernel standard deviation in bins; 0 returns the counts unchanged.

    Returns:
        Smoothed counts, same shape, float64 (spikes per bin, so the mean is preserved).
    """
    spikes = _as_counts("spikes", spikes)
    if sigma_bins < 0:
        raise ValueError(f"sigma_bins must be >= 0, got {sigma_bins}.")
    if sigma_bins == 0:
        return spikes
    return gaussian_filter1d(spikes, sigma_bins, axis=1, mode="nearest")


@dataclass
class ConditionPSTH:
    """Predict a trial by the average time course of training trials with the same stimulus.

    Each condition's PSTH is smoothed in time and shrunk towards the PSTH of all training trials:
    ``(n_c * psth_c + shrinkage * psth_all) / (n_c + shrinkage)``, where ``n_c`` is the number of
    training trials of the condition. Without shrinkage, a condition seen in only a few trials
    gives noisy, overconfident rates (a zero where a spike may come costs a lot).

    Attributes:
        sigma_bins: Gaussian smoothing of the PSTHs along time, in bins.
        shrinkage: weight of the all-trials PSTH, in trials.
    """

    sigma_bins: float = 2.0
    shrinkage: float = 5.0
    _psths: dict = field(default_factory=dict, repr=False)
    _pooled: np.ndarray | None = field(default=None, repr=False)

    def fit(self, spikes: np.ndarray, conditions: np.ndarray) -> ConditionPSTH:
        """Average training counts ``(n_trials, n_bins, n_neurons)`` per condition; conditions are
        one value or one row per trial, e.g. ``np.c_[contrast_left, contrast_right]``."""
        spikes = _as_counts("spikes", spikes)
        keys = _condition_keys(conditions)
        if len(keys) != len(spikes):
            raise ValueError(f"{len(keys)} conditions for {len(spikes)} trials.")
        self._pooled = smooth_spikes(spikes.mean(axis=0, keepdims=True), self.sigma_bins)[0]
        self._psths = {}
        for key in set(keys):
            trials = np.array([k == key for k in keys])
            psth = smooth_spikes(spikes[trials].mean(axis=0, keepdims=True), self.sigma_bins)[0]
            n = trials.sum()
            self._psths[key] = (n * psth + self.shrinkage * self._pooled) / (n + self.shrinkage)
        return self

    def predict(self, conditions: np.ndarray) -> np.ndarray:
        """Rates ``(n_trials, n_bins, n_neurons)`` in spikes per bin for trials of these
        conditions; a condition never seen in training gets the all-trials PSTH."""
        if self._pooled is None:
            raise RuntimeError("Call fit(spikes, conditions) before predict.")
        rates = np.stack([self._psths.get(key, self._pooled)
                          for key in _condition_keys(conditions)])
        return np.maximum(rates, RATE_FLOOR)


def _condition_keys(conditions: np.ndarray) -> list[tuple]:
    """One hashable key per trial from ``(n_trials,)`` or ``(n_trials, n_features)``."""
    conditions = np.asarray(conditions)
    return [tuple(np.atleast_1d(row).tolist()) for row in conditions]


@dataclass
class SmoothingGLM:
    """Smoothed held-in spikes -> Poisson GLM -> held-out rates (the field's smoothing baseline).

    ``rates = exp(standardised(smooth(inputs)) @ weights + bias)``, one GLM per target neuron,
    all fitted at once by L-BFGS on the mean Poisson loss plus ``alpha/2 * |weights|^2`` per
    neuron (the same objective as scikit-learn's ``PoissonRegressor``).

    Attributes:
        sigma_bins: Gaussian kernel width applied to the inputs, in bins.
        alpha: L2 penalty on the weights.
        max_iter: L-BFGS iterations.
    """

    sigma_bins: float = 4.0
    alpha: float = 1e-2
    max_iter: int = 100
    weights: np.ndarray | None = field(default=None, repr=False)
    bias: np.ndarray | None = field(default=None, repr=False)
    _mean: np.ndarray | None = field(default=None, repr=False)
    _scale: np.ndarray | None = field(default=None, repr=False)

    def _features(self, inputs: np.ndarray) -> torch.Tensor:
        smoothed = smooth_spikes(inputs, self.sigma_bins)
        flat = smoothed.reshape(-1, smoothed.shape[-1])
        return torch.as_tensor((flat - self._mean) / self._scale, dtype=torch.float32)

    def fit(self, inputs: np.ndarray, targets: np.ndarray) -> SmoothingGLM:
        """Fit on training trials: inputs ``(n_trials, n_bins, n_inputs)`` (held-in counts),
        targets ``(n_trials, n_bins, n_outputs)`` (held-out counts). Returns ``self``."""
        inputs, targets = _as_counts("inputs", inputs), _as_counts("targets", targets)
        if inputs.shape[:2] != targets.shape[:2]:
            raise ValueError(f"inputs {inputs.shape} and targets {targets.shape} must share "
                             "(n_trials, n_bins).")
        smoothed = smooth_spikes(inputs, self.sigma_bins).reshape(-1, inputs.shape[-1])
        self._mean, self._scale = smoothed.mean(axis=0), smoothed.std(axis=0) + 1e-6
        features = self._features(inputs)
        counts = torch.as_tensor(targets.reshape(-1, targets.shape[-1]), dtype=torch.float32)
        weights = torch.zeros(features.shape[1], counts.shape[1], requires_grad=True)
        bias = torch.log(counts.mean(dim=0).clamp_min(RATE_FLOOR)).requires_grad_()
        optimizer = torch.optim.LBFGS([weights, bias], max_iter=self.max_iter,
                                      line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            log_rates = features @ weights + bias
            loss = (torch.exp(log_rates) - counts * log_rates).mean(dim=0).sum()
            loss = loss + 0.5 * self.alpha * weights.pow(2).sum()
            loss.backward()
            return loss

        with cpu_threads(1):
            optimizer.step(closure)
        self.weights, self.bias = weights.detach().numpy(), bias.detach().numpy()
        return self

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Rates ``(n_trials, n_bins, n_outputs)`` in spikes per bin from held-in counts."""
        if self.weights is None:
            raise RuntimeError("Call fit(inputs, targets) before predict.")
        inputs = _as_counts("inputs", inputs)
        if inputs.shape[-1] != self.weights.shape[0]:
            raise ValueError(f"fitted on {self.weights.shape[0]} input neurons, "
                             f"got {inputs.shape[-1]}.")
        log_rates = self._features(inputs).numpy() @ self.weights + self.bias
        rates = np.exp(np.clip(log_rates, -30, 10)).reshape(*inputs.shape[:2], -1)
        return np.maximum(rates, RATE_FLOOR)


def _tuned(build, grid: list[tuple], fit_args: tuple[np.ndarray, np.ndarray],
           predict_arg: np.ndarray, target: np.ndarray, validation: float, seed: int):
    """Fit ``build(*settings)`` for every settings of ``grid`` on a validation split of the
    training trials, keep the best by validation log-likelihood, refit it on all of them."""
    fit_idx, val_idx = split_trials(len(target), validation, seed=seed)
    scores = [poisson_log_likelihood(
        build(*settings).fit(*(a[fit_idx] for a in fit_args)).predict(predict_arg[val_idx]),
        target[val_idx]).sum() for settings in grid]
    return build(*grid[int(np.argmax(scores))]).fit(*fit_args)


def fit_smoothing_glm(inputs: np.ndarray, targets: np.ndarray, *,
                      sigmas: tuple[float, ...] = (2.0, 4.0, 8.0),
                      alphas: tuple[float, ...] = (1e-2, 1e-1, 1.0),
                      validation: float = 0.2, seed: int = 0) -> SmoothingGLM:
    """Choose the kernel width and penalty on a validation split of the training trials, then
    refit the best :class:`SmoothingGLM` on all of them (a fair, tuned baseline).

    Args:
        inputs: held-in counts of the training trials, ``(n_trials, n_bins, n_inputs)``.
        targets: held-out counts of the same trials, ``(n_trials, n_bins, n_outputs)``.
        sigmas: kernel widths to try, in bins.
        alphas: L2 penalties to try.
        validation: share of the training trials used to choose.
        seed: seeds the validation split.
    """
    grid = [(sigma, alpha) for sigma in sigmas for alpha in alphas]
    return _tuned(SmoothingGLM, grid, (inputs, targets), inputs, targets, validation, seed)


def fit_condition_psth(spikes: np.ndarray, conditions: np.ndarray, *,
                       sigmas: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0),
                       shrinkages: tuple[float, ...] = (1.0, 5.0, 20.0),
                       validation: float = 0.2, seed: int = 0) -> ConditionPSTH:
    """Choose the smoothing and shrinkage of :class:`ConditionPSTH` on a validation split of
    the training trials, then refit on all of them.

    Args:
        spikes: training counts ``(n_trials, n_bins, n_neurons)``.
        conditions: condition of each training trial (see :meth:`ConditionPSTH.fit`).
        sigmas: smoothing widths to try, in bins.
        shrinkages: shrinkage strengths to try (see :class:`ConditionPSTH`).
        validation: share of the training trials used to choose.
        seed: seeds the validation split.
    """
    spikes, conditions = _as_counts("spikes", spikes), np.asarray(conditions)
    grid = [(sigma, shrinkage) for sigma in sigmas for shrinkage in shrinkages]
    return _tuned(ConditionPSTH, grid, (spikes, conditions), conditions, spikes, validation,
                  seed)


def baseline_rates(data: CoSmoothingData, split: CoSmoothingSplit, conditions: np.ndarray, *,
                   true_rates: np.ndarray | None = None, seed: int = 0,
                   glm_sigmas: tuple[float, ...] = (4.0, 8.0),
                   glm_alphas: tuple[float, ...] = (0.1, 1.0)) -> dict[str, np.ndarray]:
    """Test-trial predictions of the held-out neurons by every baseline, fitted on training
    trials only (see :mod:`helpers.baselines`).

    Args:
        data: the arrays of the split (from :meth:`CoSmoothingSplit.apply`).
        split: the split itself (for the trial indices of ``conditions``).
        conditions: stimulus condition of every trial of the session, ``(n_trials,)`` or
            ``(n_trials, n_features)``, e.g. ``np.c_[contrast_left, contrast_right]``.
        true_rates: simulated sessions only: the true rates in the models' layout
            ``(n_trials, n_bins, n_neurons)`` (``session.rates_by_trial()``); adds the oracle.
        seed: seeds the validation splits that tune the smoothing and PSTH baselines.
        glm_sigmas, glm_alphas: the smoothing baseline's grid (kernel widths in bins, penalties).

    Returns:
        Identifier (``"null"``, ``"psth"``, ``"smoothing"``, ``"oracle"``; display names in
        :data:`helpers.evaluation.LABELS`) -> rates ``(n_test_trials, n_bins, n_heldout)`` in
        spikes per bin.
    """
    conditions = np.asarray(conditions)
    n_trials = len(np.union1d(split.train_trials, split.test_trials))
    if len(conditions) != n_trials:
        raise ValueError(f"conditions has {len(conditions)} rows but the split covers {n_trials} "
                         "trials: pass one condition per trial of the session.")
    glm = fit_smoothing_glm(data.train_inputs, data.train_targets, sigmas=glm_sigmas,
                            alphas=glm_alphas, seed=seed)
    psth = fit_condition_psth(data.train_targets, conditions[split.train_trials], seed=seed)
    rates = {
        "null": constant_rates(data.train_targets, len(data.test_targets)),
        "psth": psth.predict(conditions[split.test_trials]),
        "smoothing": glm.predict(data.test_inputs),
    }
    if true_rates is not None:
        rates["oracle"] = split.apply(true_rates).test_targets
    return rates


# ------------------------------------------------------------------------------------------ labels
def fit_logistic(counts: np.ndarray, labels: np.ndarray, train_idx: np.ndarray, *,
                 balance: str = "weights", seed: int = 0) -> Any:
    """The logistic-regression baseline, fitted on the trials ``train_idx`` only.

    Features are each neuron's ``log1p`` spike count summed over the window, standardised;
    the L2 strength ``C`` (1e-5 to 10, one per decade) is chosen by an inner stratified 5-fold
    search on balanced accuracy, within the training trials.

    Args:
        counts: counts of all trials ``(n_trials, n_bins, n_neurons)``.
        labels: classes ``(n_trials,)``.
        train_idx: the training trials.
        balance: ``"weights"`` (``class_weight="balanced"``) or ``"undersample"``.
        seed: seeds the undersampling.

    Returns:
        A fitted scikit-learn pipeline; call ``predict(logistic_features(counts))``.
    """
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if balance not in BALANCING:
        raise ValueError(f"balance must be one of {BALANCING}, got {balance!r}.")
    idx = balanced_subset(train_idx, labels, seed) if balance == "undersample" else train_idx
    classifier = LogisticRegressionCV(  # liblinear: ~10x faster than lbfgs at this size
        Cs=np.logspace(-5, 1, 7), cv=5, scoring="balanced_accuracy", solver="liblinear",
        class_weight="balanced" if balance == "weights" else None)
    pipeline = make_pipeline(StandardScaler(), classifier)
    return pipeline.fit(logistic_features(counts[idx]), labels[idx])


def logistic_features(counts: np.ndarray) -> np.ndarray:
    """``log1p`` of each neuron's total count in the window: ``(n_trials, n_neurons)``."""
    return np.log1p(np.asarray(counts).sum(axis=1))


def majority_predictions(train_labels: np.ndarray, n_trials: int) -> np.ndarray:
    """The training set's most common class for each of ``n_trials`` trials, ``(n_trials,)``."""
    return np.full(n_trials, np.bincount(np.asarray(train_labels)).argmax())


def best_achievable_predictions(p_correct: np.ndarray, train_labels: np.ndarray) -> np.ndarray:
    """The balanced-accuracy-optimal decision from the true ``p_correct`` (simulations only).

    Predicting "correct" when ``p_correct > pi``, where ``pi`` is the fraction of correct
    training trials, maximises the expected balanced accuracy: a trial's contribution to the
    correct class's recall is ``p / pi`` and to the other's ``(1 - p) / (1 - pi)``.

    Args:
        p_correct: true probability of a correct answer of the trials to classify ``(n,)``.
        train_labels: labels of the training trials, to estimate ``pi``.

    Returns:
        Predicted classes ``(n,)``.
    """
    return (np.asarray(p_correct) > np.mean(train_labels)).astype(np.int64)
