"""Linear maps from one population to another, fitted in closed form (chapter 3).

Rates of target neurons are predicted from the recent (or surrounding) activity of source
neurons, the design of Semedo et al. (2019):

- :func:`lagged_design` stacks time-shifted copies of the source counts; with only lags
  ``<= 0`` a row reads nothing later than its own bin (a *causal* design).
- :func:`lagged_features` does it on a :class:`~helpers.session.Session`, for a time window in
  seconds, with lags in seconds and a causal boxcar smoothing, reading the bins before the
  window when the lags need them.
- :class:`RidgeRates`: ridge regression of target counts on the design, penalty chosen by
  cross-validation over training trials.
- :class:`ReducedRankRates`: the ridge solution projected onto its top ``rank`` predictive
  dimensions (reduced-rank regression), rank chosen by cross-validation; at full rank it *is*
  the ridge solution.

Both fit a linear model of expected counts and return rates in spikes per bin, floored at a
fraction of each neuron's mean training rate (a linear prediction can dip below zero, which a
rate cannot). Arrays are in the models' layout ``(n_trials, n_bins, n_neurons)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import xlogy

from helpers.metrics import RATE_FLOOR
from helpers.session import Session

__all__ = ["lagged_design", "lagged_features", "RidgeRates", "ReducedRankRates",
           "lag_profile", "RIDGE_PENALTIES"]

#: Ridge penalties tried by cross-validation, relative to the mean eigenvalue of ``X'X``.
RIDGE_PENALTIES: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


def _as_array(name: str, value: np.ndarray) -> np.ndarray:
    value = np.asarray(value, dtype=np.float64)
    if value.ndim != 3:
        raise ValueError(f"{name} must be shaped (n_trials, n_bins, n_neurons), got "
                         f"{value.shape}. Use session.spikes_by_trial().")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or inf.")
    return value


def _check_lags(lags_bins: np.ndarray | list[int]) -> np.ndarray:
    lags = np.asarray(lags_bins)
    if lags.ndim != 1 or len(lags) == 0 or not np.issubdtype(lags.dtype, np.integer):
        raise ValueError(f"lags must be a non-empty 1-D list of whole bins, got {lags_bins!r}.")
    if len(np.unique(lags)) != len(lags):
        raise ValueError(f"lags must not repeat, got {lags.tolist()}.")
    return lags


def lagged_design(inputs: np.ndarray, lags_bins: np.ndarray | list[int]) -> np.ndarray:
    """Time-shifted copies of ``inputs``, one block of neurons per lag.

    Block ``j`` of row ``t`` holds ``inputs[:, t + lags_bins[j], :]``: a negative lag reads the
    past, a positive one the future. Shifts never cross trials; bins beyond the trial's edges
    repeat its first or last bin, so a block with a lag ``<= 0`` never reads a bin after ``t``.

    Args:
        inputs: ``(n_trials, n_bins, n_inputs)``.
        lags_bins: lags in bins, e.g. ``[-3, -2, -1, 0]``.

    Returns:
        ``(n_trials, n_bins, n_lags * n_inputs)``: lag-major (all neurons at the first lag, then
        all at the second...).
    """
    inputs = _as_array("inputs", inputs)
    lags = _check_lags(lags_bins)
    n_bins = inputs.shape[1]
    blocks = [inputs[:, np.clip(np.arange(n_bins) + lag, 0, n_bins - 1), :] for lag in lags]
    return np.concatenate(blocks, axis=2)


def lagged_features(session: Session, start: float, end: float, lags_s: tuple[float, ...], *,
                    neurons: np.ndarray | None = None, smooth_s: float = 0.0) -> np.ndarray:
    """Lagged (and causally smoothed) counts of a session's neurons for bins in a window.

    The bins before ``start`` and after ``end`` that the lags reach are read from the session,
    so the first bins of the window see real history rather than padding.

    Args:
        session: the recording (all its bins: the lags may reach outside the window).
        start, end: the window in seconds from stimulus onset (as :meth:`Session.window`).
        lags_s: lags in seconds, multiples of the bin size; negative = the source's past.
        neurons: indices of the neurons to read (e.g. ``split.source_neurons``); all if
            ``None``.
        smooth_s: width of a *causal* boxcar: each bin becomes the mean of itself and the
            preceding bins within ``smooth_s`` seconds (0: raw counts). A lag ``<= 0`` then still
            reads nothing after its bin.

    Returns:
        ``(n_trials, n_window_bins, n_lags * n_neurons)``, float64, lag-major.
    """
    lags = np.asarray(lags_s, dtype=float)
    lag_bins = np.round(lags / session.bin_size).astype(int)
    if not np.allclose(lag_bins * session.bin_size, lags):
        raise ValueError(f"lags_s must be multiples of the {session.bin_size} s bins, got "
                         f"{lags.tolist()}.")
    width = int(round(smooth_s / session.bin_size))
    if smooth_s < 0 or not np.isclose(width * session.bin_size, smooth_s):
        raise ValueError(f"smooth_s must be a multiple of the {session.bin_size} s bins >= 0, "
                         f"got {smooth_s}.")
    bins = session.bins_in(start, end)  # the window's bins (clear errors for a bad window)
    counts = session.spikes_by_trial().astype(np.float64)  # (trials, bins, neurons)
    if neurons is not None:
        counts = counts[..., np.asarray(neurons)]
    if width > 1:
        cumulative = np.cumsum(np.pad(counts, ((0, 0), (width, 0), (0, 0))), axis=1)
        counts = (cumulative[:, width:] - cumulative[:, :-width]) / width
    design = lagged_design(counts, lag_bins)
    return design[:, bins]


# =============================================================================================
# Ridge and reduced-rank regression
# =============================================================================================
def _flat(array: np.ndarray) -> np.ndarray:
    return array.reshape(-1, array.shape[-1])


def _folds(n_trials: int, n_folds: int, seed: int) -> list[np.ndarray]:
    if n_trials < n_folds:
        raise ValueError(f"need at least {n_folds} training trials for {n_folds}-fold "
                         f"cross-validation, got {n_trials}.")
    return np.array_split(np.random.default_rng(seed).permutation(n_trials), n_folds)


@dataclass
class _Moments:
    """Sufficient statistics of a least-squares fit: sums and cross-products of rows."""

    n: int
    sum_x: np.ndarray
    sum_y: np.ndarray
    xtx: np.ndarray
    xty: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> _Moments:
        return cls(len(x), x.sum(axis=0), y.sum(axis=0), x.T @ x, x.T @ y)

    def __sub__(self, other: _Moments) -> _Moments:
        return _Moments(self.n - other.n, self.sum_x - other.sum_x, self.sum_y - other.sum_y,
                        self.xtx - other.xtx, self.xty - other.xty)

    def __add__(self, other: _Moments) -> _Moments:
        return _Moments(self.n + other.n, self.sum_x + other.sum_x, self.sum_y + other.sum_y,
                        self.xtx + other.xtx, self.xty + other.xty)


@dataclass
class _LinearFit:
    """Centred, standardised least squares from :class:`_Moments`: means, the eigen-
    decomposition of the features' scatter matrix and their cross-products with the targets."""

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray
    scatter: np.ndarray
    eigvals: np.ndarray
    eigvecs: np.ndarray
    xty: np.ndarray

    @classmethod
    def of(cls, moments: _Moments) -> _LinearFit:
        x_mean, y_mean = moments.sum_x / moments.n, moments.sum_y / moments.n
        scatter = moments.xtx - moments.n * np.outer(x_mean, x_mean)
        x_scale = np.sqrt(np.maximum(np.diag(scatter) / moments.n, 0)) + 1e-9
        scatter = scatter / np.outer(x_scale, x_scale)
        xty = (moments.xty - moments.n * np.outer(x_mean, y_mean)) / x_scale[:, None]
        eigvals, eigvecs = np.linalg.eigh(scatter)
        return cls(x_mean, x_scale, y_mean, scatter, np.maximum(eigvals, 0), eigvecs, xty)

    def weights(self, penalty: float) -> np.ndarray:
        """Ridge weights ``(n_features, n_targets)`` on standardised features; ``penalty`` is
        relative to the mean eigenvalue of ``X'X``."""
        scale = penalty * max(self.eigvals.mean(), 1e-12)
        return self.eigvecs @ ((self.eigvecs.T @ self.xty) / (self.eigvals + scale)[:, None])

    def directions(self, weights: np.ndarray) -> np.ndarray:
        """Right singular vectors of the fitted values ``X W`` on the training rows
        (``(n_targets, n_targets)``, most predictive first): eigenvectors of ``W' X'X W``."""
        eigvals, eigvecs = np.linalg.eigh(weights.T @ self.scatter @ weights)
        return eigvecs[:, np.argsort(eigvals)[::-1]]

    def predict(self, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return self.y_mean + ((x - self.x_mean) / self.x_scale) @ weights


def _rates(prediction: np.ndarray, floor: np.ndarray) -> np.ndarray:
    return np.maximum(prediction, floor)


def _log_likelihood(rates: np.ndarray, counts: np.ndarray) -> float:
    """Poisson log-likelihood summed over entries, without the model-free ``log(y!)``."""
    return float((xlogy(counts, rates) - rates).sum())


@dataclass
class RidgeRates:
    """Ridge regression of target counts on source features, penalty chosen by K-fold
    cross-validation over training trials (held-out Poisson log-likelihood).

    Attributes:
        penalties: candidate penalties, relative to the mean eigenvalue of ``X'X``.
        n_folds: folds of training trials for the choice.
        floor_fraction: predicted rates are at least this fraction of each neuron's mean
            training rate (and at least :data:`~helpers.metrics.RATE_FLOOR`).
        seed: seeds the folds.
        penalty: the chosen penalty (after :meth:`fit`).
        weights: ``(n_features, n_targets)`` on standardised features (after :meth:`fit`).
    """

    penalties: tuple[float, ...] = RIDGE_PENALTIES
    n_folds: int = 3
    floor_fraction: float = 0.1
    seed: int = 0
    penalty: float | None = None
    weights: np.ndarray | None = field(default=None, repr=False)
    _fit: _LinearFit | None = field(default=None, repr=False)
    _floor: np.ndarray | None = field(default=None, repr=False)

    def _prepare(self, inputs: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inputs, targets = _as_array("inputs", inputs), _as_array("targets", targets)
        if inputs.shape[:2] != targets.shape[:2]:
            raise ValueError(f"inputs {inputs.shape} and targets {targets.shape} must share "
                             "(n_trials, n_bins).")
        if not 0 <= self.floor_fraction < 1:
            raise ValueError(f"floor_fraction must be in [0, 1), got {self.floor_fraction}.")
        return inputs, targets

    def _cv_scores(self, inputs: np.ndarray, targets: np.ndarray,
                   score_rank: bool) -> tuple[np.ndarray, _Moments]:
        """Held-out log-likelihood per fold: ``(n_folds, n_penalties)`` or, with
        ``score_rank``, ``(n_folds, n_targets)`` per rank at the chosen penalty; and the
        moments of all training rows."""
        folds = _folds(len(inputs), self.n_folds, self.seed)
        parts = [_Moments.of(_flat(inputs[fold]), _flat(targets[fold])) for fold in folds]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        rows = []
        for fold, part in zip(folds, parts, strict=True):
            fit = _LinearFit.of(total - part)
            x_val, y_val = _flat(inputs[fold]), _flat(targets[fold])
            floor = np.maximum(self.floor_fraction * fit.y_mean, RATE_FLOOR)
            if not score_rank:
                rows.append([_log_likelihood(_rates(fit.predict(x_val, fit.weights(p)), floor),
                                             y_val) for p in self.penalties])
                continue
            weights = fit.weights(self.penalty)
            directions = fit.directions(weights)[:, :self._max_rank(y_val.shape[1])]
            scores = ((x_val - fit.x_mean) / fit.x_scale) @ weights @ directions
            rows.append([_log_likelihood(_rates(
                fit.y_mean + scores[:, :r] @ directions[:, :r].T, floor), y_val)
                for r in range(1, directions.shape[1] + 1)])
        return np.array(rows), total

    def fit(self, inputs: np.ndarray, targets: np.ndarray) -> RidgeRates:
        """Choose the penalty on folds of the training trials, refit on all of them.

        Args:
            inputs: source features of the training trials ``(n_trials, n_bins, n_features)``,
                e.g. from :func:`lagged_features`.
            targets: target counts of the same trials ``(n_trials, n_bins, n_targets)``.
        """
        inputs, targets = self._prepare(inputs, targets)
        scores, total = self._cv_scores(inputs, targets, score_rank=False)
        self.penalty = float(self.penalties[int(np.argmax(scores.sum(axis=0)))])
        self._fit = _LinearFit.of(total)
        self._floor = np.maximum(self.floor_fraction * self._fit.y_mean, RATE_FLOOR)
        self.weights = self._fit.weights(self.penalty)
        return self

    def _max_rank(self, n_targets: int) -> int:
        return n_targets

    def _check_fitted(self, inputs: np.ndarray) -> np.ndarray:
        if self._fit is None:
            raise RuntimeError("Call fit(inputs, targets) before predict.")
        inputs = _as_array("inputs", inputs)
        if inputs.shape[-1] != len(self._fit.x_mean):
            raise ValueError(f"fitted on {len(self._fit.x_mean)} features, got "
                             f"{inputs.shape[-1]}.")
        return inputs

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Rates ``(n_trials, n_bins, n_targets)`` in spikes per bin."""
        inputs = self._check_fitted(inputs)
        prediction = self._fit.predict(_flat(inputs), self.weights)
        return _rates(prediction, self._floor).reshape(*inputs.shape[:2], -1)


@dataclass
class ReducedRankRates(RidgeRates):
    """Reduced-rank (ridge) regression: the ridge weights restricted to the ``rank`` target
    dimensions they predict best (Semedo et al. 2019's "communication subspace").

    ``W_r = W_ridge V_r V_r'``, where ``V_r`` holds the top ``rank`` right singular vectors of
    the ridge fit's predictions on the training trials. The penalty is chosen as in
    :class:`RidgeRates`; then the rank is the *smallest* one whose cross-validated
    log-likelihood falls short of the best rank's by less than one standard error (of the
    difference, paired over folds), the usual rule for an honest dimensionality. At full rank
    the model equals :class:`RidgeRates`.

    Attributes:
        rank: the chosen rank (after :meth:`fit`), or a fixed rank given by the user.
        max_rank: the largest rank tried by cross-validation.
        cv_scores: held-out log-likelihood per fold and rank, ``(n_folds, n_ranks)``, nats
            (without the model-free ``log(y!)`` term).
        directions: ``(n_targets, n_targets)``, the predictive dimensions, best first.
    """

    rank: int | None = None
    max_rank: int = 10
    cv_scores: np.ndarray | None = field(default=None, repr=False)
    directions: np.ndarray | None = field(default=None, repr=False)
    _fixed_rank: bool = field(default=False, repr=False)

    def _max_rank(self, n_targets: int) -> int:
        return min(self.max_rank, n_targets)

    def fit(self, inputs: np.ndarray, targets: np.ndarray) -> ReducedRankRates:
        """Choose the penalty, then the rank (unless one was given), on folds of the training
        trials; refit on all of them. Shapes as in :meth:`RidgeRates.fit`."""
        if self.rank is not None and not self._fixed_rank:
            if not isinstance(self.rank, (int, np.integer)) or self.rank < 1:
                raise ValueError(f"rank must be a positive integer or None, got {self.rank!r}.")
            self._fixed_rank = True
        super().fit(inputs, targets)
        inputs, targets = self._prepare(inputs, targets)
        n_targets = targets.shape[-1]
        if self._fixed_rank and self.rank > n_targets:
            raise ValueError(f"rank {self.rank} exceeds the {n_targets} target neurons.")
        self.cv_scores = self._cv_scores(inputs, targets, score_rank=True)[0]
        if not self._fixed_rank:
            best = int(np.argmax(self.cv_scores.mean(axis=0)))
            loss = self.cv_scores - self.cv_scores[:, [best]]  # paired over folds, <= 0 at best
            error = loss.std(axis=0, ddof=1) / np.sqrt(len(loss))
            self.rank = int(np.flatnonzero(loss.mean(axis=0) >= -error)[0]) + 1
        self.directions = self._fit.directions(self.weights)
        return self

    def predict(self, inputs: np.ndarray, rank: int | None = None) -> np.ndarray:
        """Rates ``(n_trials, n_bins, n_targets)`` in spikes per bin, at the chosen rank or at
        ``rank`` (1 to ``n_targets``)."""
        inputs = self._check_fitted(inputs)
        rank = self.rank if rank is None else rank
        if not 1 <= rank <= self.directions.shape[1]:
            raise ValueError(f"rank must lie in 1..{self.directions.shape[1]}, got {rank}.")
        projection = self.directions[:, :rank] @ self.directions[:, :rank].T
        prediction = self._fit.predict(_flat(inputs), self.weights @ projection)
        return _rates(prediction, self._floor).reshape(*inputs.shape[:2], -1)


def lag_profile(model: RidgeRates, lags_s: tuple[float, ...]) -> np.ndarray:
    """Where a fitted lagged model puts its weight: the root-mean-square weight of each lag's
    block (standardised features, all source and target neurons), ``(n_lags,)``.

    Args:
        model: a fitted :class:`RidgeRates` (or :class:`ReducedRankRates`) on a lag-major
            design from :func:`lagged_design` / :func:`lagged_features`.
        lags_s: the lags of that design.
    """
    if model.weights is None:
        raise RuntimeError("Fit the model before asking for its lag profile.")
    n_lags = len(lags_s)
    if model.weights.shape[0] % n_lags:
        raise ValueError(f"{model.weights.shape[0]} features do not split into {n_lags} lags.")
    blocks = model.weights.reshape(n_lags, -1, model.weights.shape[1])
    return np.sqrt((blocks ** 2).mean(axis=(1, 2)))
