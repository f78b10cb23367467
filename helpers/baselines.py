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

Labels: :class:`LogisticBaseline` (regularised logistic regression on window counts),
:func:`majority_predictions` and, on simulated data, :func:`best_achievable_predictions`.
"""

from __future__ import annotations

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
    "BIN_SIZE", "constant_rates", "smooth_spikes", "ConditionPSTH", "SmoothingGLM",
    "fit_smoothing_glm", "fit_condition_psth", "baseline_rates", "LogisticBaseline",
    "logistic_features", "majority_predictions", "best_achievable_predictions",
]


#: Seconds per bin of the course's files (every session's ``bin_size``): the default
#: ``bin_size`` of the smoothers, whose widths are in seconds.
BIN_SIZE = 0.01


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


def smooth_spikes(spikes: np.ndarray, sigma_s: float, bin_size: float = BIN_SIZE) -> np.ndarray:
    """Gaussian-smooth counts along time (axis 1).

    Args:
        spikes: counts ``(n_trials, n_bins, n_neurons)``.
        sigma_s: kernel standard deviation in seconds, e.g. 0.04; 0 returns the counts.
        bin_size: seconds per bin of ``spikes`` (the session's ``bin_size``, or the
            ``bin_width`` they were summed to).

    Returns:
        Smoothed counts, same shape, float64 (spikes per bin, so the mean is preserved).
    """
    spikes = _as_counts("spikes", spikes)
    if not sigma_s >= 0 or not bin_size > 0:
        raise ValueError(f"sigma_s must be >= 0 and bin_size > 0 seconds, got sigma_s={sigma_s}, "
                         f"bin_size={bin_size}.")
    if sigma_s == 0:
        return spikes
    return gaussian_filter1d(spikes, sigma_s / bin_size, axis=1, mode="nearest")


class ConditionPSTH:
    """Predict a trial by the average time course of training trials with the same stimulus.

    Each condition's PSTH is smoothed in time and shrunk towards the PSTH of all training trials:
    ``(n_c * psth_c + shrinkage * psth_all) / (n_c + shrinkage)``, where ``n_c`` is the number of
    training trials of the condition. Without shrinkage, a condition seen in only a few trials
    gives noisy, overconfident rates (a zero where a spike may come costs a lot).

    Args:
        sigma_s: Gaussian smoothing of the PSTHs along time, seconds.
        shrinkage: weight of the all-trials PSTH, in trials.
        bin_size: seconds per bin of the counts.

    Attributes:
        psths_: condition key -> shrunk PSTH ``(n_bins, n_neurons)``, set by :meth:`fit`.
        pooled_: the all-trials PSTH ``(n_bins, n_neurons)``, set by :meth:`fit`.
    """

    def __init__(self, sigma_s: float = 0.02, shrinkage: float = 5.0,
                 bin_size: float = BIN_SIZE) -> None:
        self.sigma_s, self.shrinkage, self.bin_size = sigma_s, shrinkage, bin_size

    def __repr__(self) -> str:
        return (f"ConditionPSTH(sigma_s={self.sigma_s}, shrinkage={self.shrinkage}, "
                f"bin_size={self.bin_size})")

    def fit(self, spikes: np.ndarray, conditions: np.ndarray) -> ConditionPSTH:
        """Average training counts ``(n_trials, n_bins, n_neurons)`` per condition; conditions are
        one value or one row per trial, e.g. ``np.c_[contrast_left, contrast_right]``."""
        spikes = _as_counts("spikes", spikes)
        keys = _condition_keys(conditions)
        if len(keys) != len(spikes):
            raise ValueError(f"{len(keys)} conditions for {len(spikes)} trials.")

        def psth(trials: np.ndarray) -> np.ndarray:
            mean = spikes[trials].mean(axis=0, keepdims=True)
            return smooth_spikes(mean, self.sigma_s, self.bin_size)[0]

        self.pooled_ = psth(np.ones(len(keys), dtype=bool))
        self.psths_ = {}
        for key in set(keys):
            trials = np.array([k == key for k in keys])
            n = trials.sum()
            self.psths_[key] = (n * psth(trials) + self.shrinkage * self.pooled_) \
                / (n + self.shrinkage)
        return self

    def predict(self, conditions: np.ndarray) -> np.ndarray:
        """Rates ``(n_trials, n_bins, n_neurons)`` in spikes per bin for trials of these
        conditions; a condition never seen in training gets the all-trials PSTH."""
        if not hasattr(self, "pooled_"):
            raise RuntimeError("Call fit(spikes, conditions) before predict.")
        rates = np.stack([self.psths_.get(key, self.pooled_)
                          for key in _condition_keys(conditions)])
        return np.maximum(rates, RATE_FLOOR)


def _condition_keys(conditions: np.ndarray) -> list[tuple]:
    """One hashable key per trial from ``(n_trials,)`` or ``(n_trials, n_features)``."""
    conditions = np.asarray(conditions)
    return [tuple(np.atleast_1d(row).tolist()) for row in conditions]


class SmoothingGLM:
    """Smoothed held-in spikes -> Poisson GLM -> held-out rates (the field's smoothing baseline).

    ``rates = exp(standardised(smooth(inputs)) @ weights + bias)``, one GLM per target neuron,
    all fitted at once by L-BFGS on the mean Poisson loss plus ``alpha/2 * |weights|^2`` per
    neuron (the same objective as scikit-learn's ``PoissonRegressor``).

    Args:
        sigma_s: Gaussian kernel width applied to the inputs, seconds.
        alpha: L2 penalty on the weights.
        n_iter: L-BFGS iterations.
        bin_size: seconds per bin of the counts.

    Attributes:
        weights_: ``(n_inputs, n_outputs)``, set by :meth:`fit`.
        bias_: ``(n_outputs,)`` log rates, set by :meth:`fit`.
        mean_, scale_: the smoothed inputs' standardisation ``(n_inputs,)``.
    """

    def __init__(self, sigma_s: float = 0.04, alpha: float = 1e-2, n_iter: int = 100,
                 bin_size: float = BIN_SIZE) -> None:
        self.sigma_s, self.alpha, self.n_iter, self.bin_size = sigma_s, alpha, n_iter, bin_size

    def __repr__(self) -> str:
        return (f"SmoothingGLM(sigma_s={self.sigma_s}, alpha={self.alpha}, "
                f"n_iter={self.n_iter}, bin_size={self.bin_size})")

    def _features(self, inputs: np.ndarray) -> torch.Tensor:
        smoothed = smooth_spikes(inputs, self.sigma_s, self.bin_size)
        flat = smoothed.reshape(-1, smoothed.shape[-1])
        return torch.as_tensor((flat - self.mean_) / self.scale_, dtype=torch.float32)

    def fit(self, inputs: np.ndarray, targets: np.ndarray) -> SmoothingGLM:
        """Fit on training trials: inputs ``(n_trials, n_bins, n_inputs)`` (held-in counts),
        targets ``(n_trials, n_bins, n_outputs)`` (held-out counts). Returns ``self``."""
        inputs, targets = _as_counts("inputs", inputs), _as_counts("targets", targets)
        if inputs.shape[:2] != targets.shape[:2]:
            raise ValueError(f"inputs {inputs.shape} and targets {targets.shape} must share "
                             "(n_trials, n_bins).")
        smoothed = smooth_spikes(inputs, self.sigma_s, self.bin_size)
        smoothed = smoothed.reshape(-1, inputs.shape[-1])
        self.mean_, self.scale_ = smoothed.mean(axis=0), smoothed.std(axis=0) + 1e-6
        features = self._features(inputs)
        counts = torch.as_tensor(targets.reshape(-1, targets.shape[-1]), dtype=torch.float32)
        weights = torch.zeros(features.shape[1], counts.shape[1], requires_grad=True)
        bias = torch.log(counts.mean(dim=0).clamp_min(RATE_FLOOR)).requires_grad_()
        optimizer = torch.optim.LBFGS([weights, bias], max_iter=self.n_iter,
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
        self.weights_, self.bias_ = weights.detach().numpy(), bias.detach().numpy()
        return self

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Rates ``(n_trials, n_bins, n_outputs)`` in spikes per bin from held-in counts."""
        if not hasattr(self, "weights_"):
            raise RuntimeError("Call fit(inputs, targets) before predict.")
        inputs = _as_counts("inputs", inputs)
        if inputs.shape[-1] != self.weights_.shape[0]:
            raise ValueError(f"fitted on {self.weights_.shape[0]} input neurons, "
                             f"got {inputs.shape[-1]}.")
        log_rates = self._features(inputs).numpy() @ self.weights_ + self.bias_
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
                      sigmas_s: tuple[float, ...] = (0.02, 0.04, 0.08),
                      alphas: tuple[float, ...] = (1e-2, 1e-1, 1.0),
                      validation: float = 0.2, seed: int = 0,
                      bin_size: float = BIN_SIZE) -> SmoothingGLM:
    """Choose the kernel width and penalty on a validation split of the training trials, then
    refit the best :class:`SmoothingGLM` on all of them (a fair, tuned baseline).

    Args:
        inputs: held-in counts of the training trials, ``(n_trials, n_bins, n_inputs)``.
        targets: held-out counts of the same trials, ``(n_trials, n_bins, n_outputs)``.
        sigmas_s: kernel widths to try, seconds.
        alphas: L2 penalties to try.
        validation: share of the training trials used to choose.
        seed: seeds the validation split.
        bin_size: seconds per bin of the counts.
    """
    grid = [(sigma, alpha, 100, bin_size) for sigma in sigmas_s for alpha in alphas]
    return _tuned(SmoothingGLM, grid, (inputs, targets), inputs, targets, validation, seed)


def fit_condition_psth(spikes: np.ndarray, conditions: np.ndarray, *,
                       sigmas_s: tuple[float, ...] = (0.01, 0.02, 0.04, 0.08),
                       shrinkages: tuple[float, ...] = (1.0, 5.0, 20.0),
                       validation: float = 0.2, seed: int = 0,
                       bin_size: float = BIN_SIZE) -> ConditionPSTH:
    """Choose the smoothing and shrinkage of :class:`ConditionPSTH` on a validation split of
    the training trials, then refit on all of them.

    Args:
        spikes: training counts ``(n_trials, n_bins, n_neurons)``.
        conditions: condition of each training trial (see :meth:`ConditionPSTH.fit`).
        sigmas_s: smoothing widths to try, seconds.
        shrinkages: shrinkage strengths to try (see :class:`ConditionPSTH`).
        validation: share of the training trials used to choose.
        seed: seeds the validation split.
        bin_size: seconds per bin of the counts.
    """
    spikes, conditions = _as_counts("spikes", spikes), np.asarray(conditions)
    grid = [(sigma, shrinkage, bin_size) for sigma in sigmas_s for shrinkage in shrinkages]
    return _tuned(ConditionPSTH, grid, (spikes, conditions), conditions, spikes, validation,
                  seed)


def baseline_rates(data: CoSmoothingData, split: CoSmoothingSplit, conditions: np.ndarray, *,
                   true_rates: np.ndarray | None = None, seed: int = 0,
                   glm_sigmas_s: tuple[float, ...] = (0.04, 0.08),
                   glm_alphas: tuple[float, ...] = (0.1, 1.0),
                   bin_size: float = BIN_SIZE) -> dict[str, np.ndarray]:
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
        glm_sigmas_s, glm_alphas: the smoothing baseline's grid (kernel widths in seconds,
            penalties).
        bin_size: seconds per bin of the split's counts.

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
    glm = fit_smoothing_glm(data.train_inputs, data.train_targets, sigmas_s=glm_sigmas_s,
                            alphas=glm_alphas, seed=seed, bin_size=bin_size)
    psth = fit_condition_psth(data.train_targets, conditions[split.train_trials], seed=seed,
                              bin_size=bin_size)
    rates = {
        "null": constant_rates(data.train_targets, len(data.test_targets)),
        "psth": psth.predict(conditions[split.test_trials]),
        "smoothing": glm.predict(data.test_inputs),
    }
    if true_rates is not None:
        rates["oracle"] = split.apply(true_rates).test_targets
    return rates


# ------------------------------------------------------------------------------------------ labels
class LogisticBaseline:
    """The decoding baseline: regularised logistic regression on window counts (chapter 4).

    Features are each neuron's ``log1p`` spike count summed over the window
    (:func:`logistic_features`), standardised; the L2 strength ``C`` (1e-5 to 10, one per
    decade) is chosen by an inner stratified 5-fold search on balanced accuracy, within the
    training trials. A scikit-learn-style estimator: ``__init__`` stores, ``fit(X, y)``
    returns ``self``, fitted values end in ``_``.

    Args:
        balance: ``"weights"`` (``class_weight="balanced"``) or ``"undersample"`` (fit on a
            random class-balanced subset of the training trials).
        seed: seeds the undersampling.

    Attributes:
        pipeline_: the fitted scikit-learn pipeline (scaler + ``LogisticRegressionCV``).
        C_: the chosen inverse L2 strength.
    """

    def __init__(self, balance: str = "weights", seed: int = 0) -> None:
        self.balance = balance
        self.seed = seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticBaseline:  # noqa: N803 (sklearn)
        """Fit on training counts ``X`` ``(n_trials, n_bins, n_neurons)`` and classes ``y``
        ``(n_trials,)``. Returns ``self``."""
        from sklearn.linear_model import LogisticRegressionCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if self.balance not in BALANCING:
            raise ValueError(f"balance must be one of {BALANCING}, got {self.balance!r}.")
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim != 3 or len(X) != len(y):
            raise ValueError(f"X must be counts (n_trials, n_bins, n_neurons) with one label per "
                             f"trial in y; got X {X.shape} and y {y.shape}.")
        idx = np.arange(len(y))
        if self.balance == "undersample":
            idx = balanced_subset(idx, y, self.seed)
        classifier = LogisticRegressionCV(  # liblinear: ~10x faster than lbfgs at this size
            Cs=np.logspace(-5, 1, 7), cv=5, scoring="balanced_accuracy", solver="liblinear",
            class_weight="balanced" if self.balance == "weights" else None)
        self.pipeline_ = make_pipeline(StandardScaler(), classifier).fit(
            logistic_features(X[idx]), y[idx])
        self.C_ = float(classifier.C_[0])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted classes ``(n_trials,)`` for counts ``(n_trials, n_bins, n_neurons)``."""
        if not hasattr(self, "pipeline_"):
            raise RuntimeError("Call fit(X, y) on the training trials before predict.")
        return self.pipeline_.predict(logistic_features(X))


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
