"""Linear maps from one population to another, fitted in closed form (chapter 3).

Rates of target neurons are predicted from the recent (or surrounding) activity of source
neurons, the design of Semedo et al. (2019):

- :func:`lagged_design` stacks time-shifted copies of the source counts; with only lags
  ``<= 0`` a row reads nothing later than its own bin (a *causal* design).
- :func:`lagged_features` does it on a :class:`~helpers.session.Session`, for a time window in
  seconds, with lags in seconds and a causal boxcar smoothing, reading the bins before the
  window when the lags need them; ``subtract=`` removes the task first (residuals).
- :func:`condition_offsets`: every trial's condition PSTH (stimulus x choice) from training
  trials only; subtracting it leaves the trial-to-trial *residuals* Semedo et al. analysed.
- :class:`RidgeRates`: ridge regression of target counts on the design, penalty chosen by
  K-fold cross-validation over training trials (held-out Poisson likelihood).
- :class:`ReducedRankRates`: the ridge solution projected onto its top ``rank`` predictive
  dimensions (reduced-rank regression), rank chosen by cross-validation with an interval;
  at full rank it *is* the ridge solution. :meth:`ReducedRankRates.predict_dominant` predicts
  from the source's top principal dimensions instead (Semedo's "dominant dimensions").
- :func:`pair_data` cuts one region pair into training and test arrays (residuals by default);
  :func:`coupling_gains` scores the real pairing against the trial-shuffle control and the
  condition PSTH; :func:`lag_profile` is the residual cross-covariance by lag, with intervals.

Both estimators follow scikit-learn's conventions (``__init__`` stores settings, ``fit``
returns ``self``, fitted values end in ``_``). They fit a linear model of expected counts
around an optional ``offset`` (e.g. the condition PSTH: the model then fits the residuals) and
return rates in spikes per bin, floored at a fraction of each neuron's mean training rate (a
linear prediction can dip below zero, which a rate cannot). Arrays are in the models' layout
``(n_trials, n_bins, n_neurons)``.

Why not :func:`helpers.inference.ridge_loo`: that solver picks a penalty per target column by
leave-one-out *squared error* on rows, which suits decoding a variable per bin. Here rows of
one trial are strongly correlated in time (lagged, smoothed features), so the penalty is chosen
by K-fold over whole *trials*, by the Poisson likelihood the models are scored with, and one
penalty serves all target neurons -- the shared weights the reduced-rank step needs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy
from threadpoolctl import threadpool_limits

from helpers.baselines import ConditionPSTH
from helpers.inference import bootstrap_summary, bootstrap_weights, shuffled_folds
from helpers.metrics import RATE_FLOOR
from helpers.session import Session, as_trials_first
from helpers.splits import CrossRegionSplit

__all__ = ["lagged_design", "lagged_features", "condition_offsets", "RidgeRates",
           "ReducedRankRates", "RIDGE_PENALTIES", "PairData", "pair_data", "coupling_gains",
           "region_pair_gains", "behaviour_features", "rank_curves", "lag_profile",
           "LagProfile"]

#: Ridge penalties tried by cross-validation, relative to the mean eigenvalue of ``X'X``.
RIDGE_PENALTIES: tuple[float, ...] = (1e-2, 1e-1, 1.0, 10.0, 100.0)


def _as_array(name: str, value: np.ndarray) -> np.ndarray:
    return as_trials_first(name, value)


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


def _lag_bins(session: Session, lags_s: tuple[float, ...], start: float, end: float,
              ) -> np.ndarray:
    lags = np.asarray(lags_s, dtype=float)
    lag_bins = np.round(lags / session.bin_size).astype(int)
    if lags.ndim != 1 or not np.allclose(lag_bins * session.bin_size, lags):
        raise ValueError(f"lags_s must be multiples of the {session.bin_size} s bins, got "
                         f"{lags.tolist()}.")
    if len(lags) and np.abs(lags).max() >= end - start:
        raise ValueError(f"the window [{start}, {end}) s is shorter than the longest lag "
                         f"({np.abs(lags).max():g} s): widen the window or use shorter lags.")
    return lag_bins


def _smoothing_bins(session: Session, smooth_s: float) -> int:
    width = int(round(smooth_s / session.bin_size))
    if smooth_s < 0 or not np.isclose(width * session.bin_size, smooth_s):
        raise ValueError(f"smooth_s must be a multiple of the {session.bin_size} s bins >= 0, "
                         f"got {smooth_s}.")
    return width


def _causal_boxcar(values: np.ndarray, width: int) -> np.ndarray:
    """Each bin becomes the mean of itself and the ``width - 1`` bins before it (axis 1)."""
    if width <= 1:
        return values
    cumulative = np.cumsum(np.pad(values, ((0, 0), (width, 0), (0, 0))), axis=1)
    return (cumulative[:, width:] - cumulative[:, :-width]) / width


def _lagged_window(session: Session, counts: np.ndarray, window: tuple[float, float],
                   lags_s: tuple[float, ...], smooth_s: float) -> np.ndarray:
    """Lag and smooth counts of every bin ``(n_trials, session.n_bins, n)``; keep the window."""
    bins = session.bins_in(*window)  # the window's bins (clear errors for a bad window)
    lag_bins = _lag_bins(session, lags_s, *window)
    width = _smoothing_bins(session, smooth_s)
    return lagged_design(_causal_boxcar(counts, width), lag_bins)[:, bins]


def lagged_features(session: Session, start: float, end: float, lags_s: tuple[float, ...], *,
                    neurons: np.ndarray | None = None, smooth_s: float = 0.0,
                    subtract: np.ndarray | None = None) -> np.ndarray:
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
        subtract: ``(n_trials, session.n_bins, n_neurons)`` to subtract from the counts of
            *every* bin first, e.g. :func:`condition_offsets` (residual features).

    Returns:
        ``(n_trials, n_window_bins, n_lags * n_neurons)``, float64, lag-major.

    Raises:
        ValueError: lags or ``smooth_s`` that are not whole bins, a window shorter than the
            longest lag, or ``subtract`` of the wrong shape.
    """
    counts = session.spikes_by_trial().astype(np.float64)  # (trials, bins, neurons)
    if neurons is not None:
        counts = counts[..., np.asarray(neurons)]
    if subtract is not None:
        if np.shape(subtract) != counts.shape:
            raise ValueError(f"subtract must match the counts read, {counts.shape} "
                             f"(trials, all bins, neurons), got {np.shape(subtract)}.")
        counts = counts - subtract
    return _lagged_window(session, counts, (start, end), lags_s, smooth_s)


def _around(session: Session, window: tuple[float, float], reach_s: float) -> Session:
    """The session cut to ``window`` plus ``reach_s`` seconds on each side (what lags and
    smoothing read), within the recorded bins: less to copy and smooth."""
    session.bins_in(*window)  # a bad window: a clear error
    half = session.bin_size / 2
    start = max(window[0] - reach_s - half, session.time[0] - half)
    end = min(window[1] + reach_s + half, session.time[-1] + half)
    return session.window(start, end)


def condition_offsets(counts: np.ndarray, conditions: np.ndarray,
                      train_trials: np.ndarray) -> np.ndarray:
    """Every trial's condition PSTH, estimated from the training trials only.

    A :class:`~helpers.baselines.ConditionPSTH` (smoothed over 2 bins, shrunk towards the
    all-trials PSTH) is fitted on ``counts[train_trials]``; every trial, training or test, gets
    the PSTH of its condition. ``counts - offsets`` are the residuals: what the task (stimulus
    x choice) does not explain, without any test trial shaping its own baseline.

    Args:
        counts: ``(n_trials, n_bins, n_neurons)``.
        conditions: ``(n_trials,)`` or ``(n_trials, n_features)``, e.g.
            ``session.task_conditions()``.
        train_trials: indices of the training trials.

    Returns:
        ``(n_trials, n_bins, n_neurons)`` rates in spikes per bin.
    """
    counts = _as_array("counts", counts)
    conditions = np.asarray(conditions)
    if len(conditions) != len(counts):
        raise ValueError(f"{len(conditions)} conditions for {len(counts)} trials.")
    psth = ConditionPSTH().fit(counts[train_trials], conditions[train_trials])
    return psth.predict(conditions)


# =============================================================================================
# Ridge and reduced-rank regression
# =============================================================================================
def _one_blas_thread(function):
    """Run ``function`` with one BLAS thread: these products are small, and on a busy 2-core
    machine threads that wait for each other make them many times slower."""
    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)
    return wrapped


def _flat(array: np.ndarray) -> np.ndarray:
    return array.reshape(-1, array.shape[-1])


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
        order = np.argsort(eigvals)[::-1]  # dominant (largest-variance) dimensions first
        return cls(x_mean, x_scale, y_mean, scatter, np.maximum(eigvals[order], 0),
                   eigvecs[:, order], xty)

    def weights(self, penalty: float, n_components: int | None = None) -> np.ndarray:
        """Ridge weights ``(n_features, n_targets)`` on standardised features; ``penalty`` is
        relative to the mean eigenvalue of ``X'X``. With ``n_components``, only the top
        principal dimensions of the features are used (principal-component regression)."""
        scale = penalty * max(self.eigvals.mean(), 1e-12)
        vecs, vals = self.eigvecs[:, :n_components], self.eigvals[:n_components]
        return vecs @ ((vecs.T @ self.xty) / (vals + scale)[:, None])

    def directions(self, weights: np.ndarray) -> np.ndarray:
        """Right singular vectors of the fitted values ``X W`` on the training rows
        (``(n_targets, n_targets)``, most predictive first): eigenvectors of ``W' X'X W``."""
        eigvals, eigvecs = np.linalg.eigh(weights.T @ self.scatter @ weights)
        return eigvecs[:, np.argsort(eigvals)[::-1]]

    def predict(self, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return self.y_mean + ((x - self.x_mean) / self.x_scale) @ weights


def _log_likelihood(rates: np.ndarray, counts: np.ndarray) -> float:
    """Poisson log-likelihood summed over entries, without the model-free ``log(y!)``."""
    return float((xlogy(counts, rates) - rates).sum())


def _one_se_rank(scores: np.ndarray) -> int:
    """The smallest rank whose mean held-out score is within one standard error (of the
    difference to the best rank, paired over folds) of the best: ``scores (n_folds, n_ranks)``."""
    best = int(np.argmax(scores.mean(axis=0)))
    loss = scores - scores[:, [best]]  # <= 0 on average at every rank
    error = loss.std(axis=0, ddof=1) / np.sqrt(len(loss))
    return int(np.flatnonzero(loss.mean(axis=0) >= -error)[0]) + 1


class RidgeRates:
    """Ridge regression of target counts on source features, penalty chosen by K-fold
    cross-validation over training trials (held-out Poisson log-likelihood).

    Args:
        penalties: candidate penalties, relative to the mean eigenvalue of ``X'X``.
        n_folds: folds of training trials for the choice.
        floor_fraction: predicted rates are at least this fraction of each neuron's mean
            training rate (and at least :data:`~helpers.metrics.RATE_FLOOR`).
        seed: seeds the folds.

    Fitted attributes: ``penalty_`` (the chosen penalty), ``coef_`` ``(n_features, n_targets)``
    on standardised features, ``cv_scores_`` ``(n_folds, n_penalties)`` held-out
    log-likelihood (nats, without ``log(y!)``; no rows when a single penalty leaves nothing to
    choose), ``n_features_in_``.
    """

    _needs_folds = False  # reduced-rank regression also chooses its rank on the folds

    def __init__(self, penalties: tuple[float, ...] = RIDGE_PENALTIES, n_folds: int = 5,
                 floor_fraction: float = 0.1, seed: int = 0) -> None:
        self.penalties = penalties
        self.n_folds = n_folds
        self.floor_fraction = floor_fraction
        self.seed = seed

    def _prepare(self, inputs: np.ndarray, targets: np.ndarray, offset: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        inputs, targets = _as_array("inputs", inputs), _as_array("targets", targets)
        if inputs.shape[:2] != targets.shape[:2]:
            raise ValueError(f"inputs {inputs.shape} and targets {targets.shape} must share "
                             "(n_trials, n_bins).")
        offset = np.zeros_like(targets) if offset is None else _as_array("offset", offset)
        if offset.shape != targets.shape:
            raise ValueError(f"offset {offset.shape} must match targets {targets.shape}.")
        if not 0 <= self.floor_fraction < 1:
            raise ValueError(f"floor_fraction must be in [0, 1), got {self.floor_fraction}.")
        return inputs, targets, offset

    def _folds(self, inputs: np.ndarray, targets: np.ndarray, offset: np.ndarray) -> list:
        """For each fold: the fit on the other training trials and the fold's rows."""
        folds = [test for _, test in shuffled_folds(len(inputs), self.n_folds, self.seed)]
        residual = targets - offset
        parts = [_Moments.of(_flat(inputs[f]), _flat(residual[f])) for f in folds]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        self._total = total
        return [(_LinearFit.of(total - part), _flat(inputs[f]), _flat(targets[f]),
                 _flat(offset[f])) for f, part in zip(folds, parts, strict=True)]

    def _floor(self, targets: np.ndarray) -> np.ndarray:
        return np.maximum(self.floor_fraction * targets.mean(axis=0), RATE_FLOOR)

    @_one_blas_thread
    def fit(self, inputs: np.ndarray, targets: np.ndarray,
            offset: np.ndarray | None = None) -> RidgeRates:
        """Choose the penalty on folds of the training trials, refit on all of them.

        Args:
            inputs: source features of the training trials ``(n_trials, n_bins, n_features)``,
                e.g. from :func:`lagged_features`.
            targets: target counts of the same trials ``(n_trials, n_bins, n_targets)``.
            offset: rates the linear model adds to, same shape as ``targets`` (e.g.
                :func:`condition_offsets`: the model then fits the residuals); 0 if ``None``.
        """
        inputs, targets, offset = self._prepare(inputs, targets, offset)
        if len(self.penalties) == 1 and not self._needs_folds:  # nothing to choose
            self._total = _Moments.of(_flat(inputs), _flat(targets - offset))
            self._fold_fits = []
        else:
            self._fold_fits = self._folds(inputs, targets, offset)
        rows = []
        for fit, x, y, off in self._fold_fits:
            projected = ((x - fit.x_mean) / fit.x_scale) @ fit.eigvecs  # (rows, n_features)
            loadings = fit.eigvecs.T @ fit.xty
            floor, base = self._floor(y), off + fit.y_mean
            scale = max(fit.eigvals.mean(), 1e-12)
            rows.append([_log_likelihood(np.maximum(base + projected @ (
                loadings / (fit.eigvals + p * scale)[:, None]), floor), y)
                for p in self.penalties])
        self.cv_scores_ = np.array(rows).reshape(-1, len(self.penalties))
        self.penalty_ = float(self.penalties[int(np.argmax(self.cv_scores_.sum(axis=0)))])
        self._fit = _LinearFit.of(self._total)
        self._floor_ = self._floor(_flat(targets))
        self.coef_ = self._fit.weights(self.penalty_)
        self.n_features_in_ = inputs.shape[-1]
        return self

    def _checked(self, inputs: np.ndarray, offset: np.ndarray | None) -> tuple:
        if not hasattr(self, "coef_"):
            raise RuntimeError("Call fit(inputs, targets) before predict.")
        inputs = _as_array("inputs", inputs)
        if inputs.shape[-1] != self.n_features_in_:
            raise ValueError(f"fitted on {self.n_features_in_} features, got "
                             f"{inputs.shape[-1]}.")
        shape = (*inputs.shape[:2], self.coef_.shape[1])
        offset = np.zeros(shape) if offset is None else _as_array("offset", offset)
        if offset.shape != shape:
            raise ValueError(f"offset {offset.shape} must be {shape}, like the prediction.")
        return inputs, offset

    def _predict_with(self, inputs: np.ndarray, offset: np.ndarray | None,
                      weights: np.ndarray) -> np.ndarray:
        inputs, offset = self._checked(inputs, offset)
        rates = np.maximum(_flat(offset) + self._fit.predict(_flat(inputs), weights),
                           self._floor_)
        return rates.reshape(offset.shape)

    def predict(self, inputs: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """Rates ``(n_trials, n_bins, n_targets)`` in spikes per bin (``offset`` as in
        :meth:`fit`, for the trials predicted)."""
        return self._predict_with(inputs, offset, getattr(self, "coef_", None))


class ReducedRankRates(RidgeRates):
    """Reduced-rank (ridge) regression: the ridge weights restricted to the target dimensions
    they predict best (Semedo et al. 2019's "communication subspace").

    ``W_r = W_ridge V_r V_r'``, where ``V_r`` holds the top ``r`` right singular vectors of the
    ridge fit's predictions on the training trials. The penalty is chosen as in
    :class:`RidgeRates`; then, unless ``rank`` is given, the rank is the *smallest* one whose
    cross-validated log-likelihood falls short of the best rank's by less than one standard
    error (of the difference, paired over folds), the usual rule for an honest dimensionality.
    At full rank the model equals :class:`RidgeRates`.

    Args:
        rank: a fixed rank, or ``None`` to choose it by cross-validation.
        max_rank: the largest rank tried (the rank grid is ``1..max_rank``).
        n_boot: bootstrap resamples of the folds for the chosen rank's interval.
        penalties, n_folds, floor_fraction, seed: as :class:`RidgeRates`.

    Fitted attributes (besides :class:`RidgeRates`'): ``rank_``, ``rank_interval_``
    ``(low, high)`` (95 % bootstrap of the rank rule over folds), ``rank_scores_``
    ``(n_folds, max_rank)`` held-out log-likelihood per fold and rank, ``directions_``
    ``(n_targets, n_targets)`` the predictive dimensions, best first, ``ridge_coef_`` (full
    rank); ``coef_`` is the rank-``rank_`` solution.
    """

    _needs_folds = True

    def __init__(self, rank: int | None = None, max_rank: int = 10, n_boot: int = 200,
                 penalties: tuple[float, ...] = RIDGE_PENALTIES, n_folds: int = 10,
                 floor_fraction: float = 0.1, seed: int = 0) -> None:
        super().__init__(penalties=penalties, n_folds=n_folds, floor_fraction=floor_fraction,
                         seed=seed)
        self.rank = rank
        self.max_rank = max_rank
        self.n_boot = n_boot

    def _check_ranks(self, n_targets: int) -> None:
        if self.rank is not None and (isinstance(self.rank, bool) or not isinstance(
                self.rank, (int, np.integer)) or not 1 <= self.rank <= n_targets):
            raise ValueError(f"rank must be None or an integer in 1..{n_targets} (the target "
                             f"neurons), got {self.rank!r}.")
        if not isinstance(self.max_rank, (int, np.integer)) or self.max_rank < 1:
            raise ValueError(f"max_rank must be a positive integer, got {self.max_rank!r}.")
        if self.rank is None and n_targets < self.max_rank:
            raise ValueError(f"the target has {n_targets} neurons, fewer than the rank grid "
                             f"1..{self.max_rank}: pass max_rank <= {n_targets}, or predict a "
                             "larger target (more held-out neurons).")

    @_one_blas_thread
    def fit(self, inputs: np.ndarray, targets: np.ndarray,
            offset: np.ndarray | None = None) -> ReducedRankRates:
        """Choose the penalty, then the rank (unless one was given), on folds of the training
        trials; refit on all of them. Shapes as in :meth:`RidgeRates.fit`."""
        self._check_ranks(np.shape(targets)[-1])
        super().fit(inputs, targets, offset)
        n_ranks = min(self.max_rank, self.coef_.shape[1])
        rows = []
        for fit, x, y, off in self._fold_fits:
            weights = fit.weights(self.penalty_)
            directions = fit.directions(weights)[:, :n_ranks]
            scores = ((x - fit.x_mean) / fit.x_scale) @ weights @ directions
            floor = self._floor(y)
            rows.append([_log_likelihood(np.maximum(
                off + fit.y_mean + scores[:, :r] @ directions[:, :r].T, floor), y)
                for r in range(1, n_ranks + 1)])
        self.rank_scores_ = np.array(rows)
        chosen = [_one_se_rank(self.rank_scores_[np.repeat(np.arange(len(rows)), w.astype(int))])
                  for w in bootstrap_weights(len(rows), self.n_boot, self.seed)]
        _, low, high = bootstrap_summary(np.array(chosen, dtype=float))
        self.rank_interval_ = (int(np.floor(low)), int(np.ceil(high)))
        self.rank_ = int(chosen[0]) if self.rank is None else int(self.rank)
        self.ridge_coef_ = self.coef_
        self.directions_ = self._fit.directions(self.ridge_coef_)
        self.coef_ = self._rank_weights(self.rank_)
        return self

    def _rank_weights(self, rank: int) -> np.ndarray:
        if not 1 <= rank <= self.directions_.shape[1]:
            raise ValueError(f"rank must lie in 1..{self.directions_.shape[1]}, got {rank}.")
        top = self.directions_[:, :rank]
        return self.ridge_coef_ @ top @ top.T

    def predict(self, inputs: np.ndarray, offset: np.ndarray | None = None,
                rank: int | None = None) -> np.ndarray:
        """Rates ``(n_trials, n_bins, n_targets)`` in spikes per bin, at the chosen rank or at
        ``rank`` (1 to ``n_targets``)."""
        self._checked(inputs, offset)
        weights = self.coef_ if rank is None else self._rank_weights(int(rank))
        return self._predict_with(inputs, offset, weights)

    def predict_dominant(self, inputs: np.ndarray, offset: np.ndarray | None = None, *,
                         n_components: int) -> np.ndarray:
        """Rates predicted from the source's ``n_components`` *dominant* dimensions (its top
        principal components on the training rows, standardised features), same penalty: the
        comparison curve of Semedo et al.'s Fig. 5."""
        self._checked(inputs, offset)
        if not 1 <= n_components <= len(self._fit.eigvals):
            raise ValueError(f"n_components must lie in 1..{len(self._fit.eigvals)}, got "
                             f"{n_components}.")
        return self._predict_with(inputs, offset, self._fit.weights(self.penalty_, n_components))


# =============================================================================================
# One region pair: data, coupling gains, lags
# =============================================================================================
@dataclass(frozen=True)
class PairData:
    """One region pair's arrays for every trial of the session, cut by its split.

    Attributes:
        inputs: lagged source features ``(n_trials, n_bins, n_lags * n_source)`` (residuals of
            the condition PSTH when ``residual``).
        targets: counts of the held-out target neurons ``(n_trials, n_bins, n_targets)``.
        offsets: the targets' condition PSTH from training trials (same shape), which residual
            models add their prediction to; ``None`` for models of raw counts.
        split: the :class:`~helpers.splits.CrossRegionSplit`.
    """

    inputs: np.ndarray
    targets: np.ndarray
    offsets: np.ndarray | None
    split: CrossRegionSplit

    def _cut(self, trials: np.ndarray, partner: np.ndarray | None) -> tuple:
        source = trials if partner is None else partner[trials]
        offsets = None if self.offsets is None else self.offsets[trials]
        return self.inputs[source], self.targets[trials], offsets

    def train(self, partner: np.ndarray | None = None) -> tuple:
        """``(inputs, targets, offsets)`` of the training trials, for ``model.fit(*...)``; with
        ``partner`` (a shuffle), each trial's inputs come from its partner trial."""
        return self._cut(self.split.train_trials, partner)

    def test(self, partner: np.ndarray | None = None) -> tuple:
        """``(inputs, targets, offsets)`` of the test trials (see :meth:`train`)."""
        return self._cut(self.split.test_trials, partner)


def pair_data(session: Session, split: CrossRegionSplit, conditions: np.ndarray, *,
              window: tuple[float, float], lags_s: tuple[float, ...], smooth_s: float = 0.0,
              residual: bool = True, within_trial: bool = False) -> PairData:
    """The arrays of one region pair: lagged source features and target counts in ``window``.

    With ``residual`` (the default, as Semedo et al. 2019), each neuron's condition PSTH
    (:func:`condition_offsets`, from the split's *training* trials) is subtracted from the
    source before lagging, and kept as the targets' offset: models then explain the
    trial-to-trial residuals, and what the task drives in both regions is not counted as
    shared. ``residual=False`` gives raw counts (the comparison that shows how much the shared
    task structure inflates the rank).

    With ``within_trial``, each trial's own mean residual over the window is removed too (from
    the source, and added to the target's offset): what stays constant within a trial -- a
    shared gain, engagement, slow drift -- is then not counted either, and the models explain
    only fluctuations *within* trials. The target's offset then uses its own trial mean, so
    scores are relative to that baseline, not to the PSTH.

    Args:
        session, split: the recording and a :func:`~helpers.splits.cross_region_split` of it.
        conditions: ``(n_trials, ...)`` e.g. ``session.task_conditions()``.
        window: seconds from stimulus onset; lags_s, smooth_s: as :func:`lagged_features`.
    """
    if within_trial and not residual:
        raise ValueError("within_trial removes each trial's mean residual: use residual=True.")
    session = _around(session, window, max(np.abs(lags_s), default=0.0) + smooth_s)
    counts = session.spikes_by_trial()
    train, bins = split.train_trials, session.bins_in(*window)
    source = counts[..., split.source_neurons].astype(np.float64)
    targets = counts[:, bins][..., split.heldout_neurons].astype(np.float64)
    offsets = None
    if residual:
        source = source - condition_offsets(source, conditions, train)
        offsets = condition_offsets(counts[..., split.heldout_neurons].astype(np.float64),
                                    conditions, train)[:, bins]
    if within_trial:
        source = source - source[:, bins].mean(axis=1, keepdims=True)
        offsets = offsets + (targets - offsets).mean(axis=1, keepdims=True)
    inputs = _lagged_window(session, source, window, lags_s, smooth_s)
    return PairData(inputs, targets, offsets, split)


@_one_blas_thread
def coupling_gains(data: PairData, partners: np.ndarray, *, seed: int = 0,
                   n_boot: int = 1000):
    """Ridge on the real pairing against the same model on shuffled partners, and against the
    condition PSTH, scored on the test trials.

    The shuffle control is refitted for every row of ``partners`` (from
    :meth:`~helpers.splits.CrossRegionSplit.partners`); its spread over permutations is inside
    the interval (:func:`~helpers.evaluation.score_gains` with draws). Its penalty is chosen by
    cross-validation on the first draw (on shuffled data, not on the real pairing) and kept for
    the others, which are exchangeable with it.

    Returns:
        ``(table, predictions)``: a score table of ridge's gain in bits/spike over each
        reference, its column ``over`` = ``"shuffle"`` or ``"psth"`` (the latter only for
        residual data), and the test-trial rates by model (``"ridge"``, ``"shuffle"`` stacked
        over permutations, ``"psth"``).
    """
    import pandas as pd

    from helpers.evaluation import score_gains

    partners = np.atleast_2d(np.asarray(partners))
    if partners.shape[1] != len(data.targets):
        raise ValueError(f"partners must be (n_permutations, {len(data.targets)} trials), got "
                         f"{partners.shape}.")
    test_inputs, test_targets, test_offsets = data.test()
    predictions = {"ridge": RidgeRates(seed=seed).fit(*data.train()).predict(
        test_inputs, test_offsets)}
    first = RidgeRates(seed=seed).fit(*data.train(partners[0]))  # penalty by cross-validation
    chosen = RidgeRates(penalties=(first.penalty_,), seed=seed)  # kept for the other draws
    predictions["shuffle"] = np.stack([
        (first if i == 0 else chosen.fit(*data.train(p))).predict(data.test(p)[0], test_offsets)
        for i, p in enumerate(partners)])
    references = ["shuffle"]
    if test_offsets is not None:
        predictions["psth"] = test_offsets
        references.append("psth")
    table = pd.concat([score_gains({k: predictions[k] for k in ("ridge", reference)},
                                   test_targets, reference=reference, n_boot=n_boot,
                                   seed=seed).assign(over=reference)
                       for reference in references])
    return table, predictions


@dataclass(frozen=True)
class LagProfile:
    """Residual cross-covariance between two populations by lag, with bootstrap intervals.

    Attributes:
        lags_s: ``(n_lags,)`` seconds, symmetric; negative = the source leads the target.
        profile, low, high: ``(n_lags,)`` the strength of the cross-covariance at each lag
            (the top singular value of the source x target cross-correlation matrix) and its
            95 % bootstrap interval over trials.
        peak_s, peak_low_s, peak_high_s: the lag of the peak and its 95 % interval.
    """

    lags_s: np.ndarray
    profile: np.ndarray
    low: np.ndarray
    high: np.ndarray
    peak_s: float
    peak_low_s: float
    peak_high_s: float


@_one_blas_thread
def lag_profile(session: Session, split: CrossRegionSplit, conditions: np.ndarray, *,
                window: tuple[float, float], max_lag_s: float = 0.1, smooth_s: float = 0.0,
                n_components: int = 10, n_boot: int = 500, seed: int = 0) -> LagProfile:
    """At which lag the residuals of two regions covary most, on the training trials.

    Source and target residuals (condition PSTH removed, :func:`pair_data`) are z-scored per
    neuron and reduced to their top ``n_components`` principal components (which carry the
    shared signal; the rest is mostly spiking noise). For each lag ``tau`` in
    ``-max_lag_s .. +max_lag_s`` the cross-correlation matrix ``C(tau)`` between the source at
    ``t + tau`` and the target at ``t`` is summarised by its top singular value (the
    best-correlated pair of population directions: noise adds a floor that is the same at every
    lag, a low-rank coupling adds a peak). A peak at a negative lag means the source leads.
    Trials are resampled for the intervals.
    """
    step = session.bin_size
    n_side = int(round(max_lag_s / step))
    if n_side < 1 or not np.isclose(n_side * step, max_lag_s):
        raise ValueError(f"max_lag_s must be a positive multiple of the {step} s bins, got "
                         f"{max_lag_s}.")
    lags = np.arange(-n_side, n_side + 1) * step
    _lag_bins(session, tuple(lags), *window)  # a window shorter than the lags: a clear error
    session = _around(session, window, max_lag_s + smooth_s)
    bins, train = session.bins_in(*window), split.train_trials
    counts = session.spikes_by_trial()[train]
    residuals = {}
    for name, neurons in (("source", split.source_neurons), ("target", split.heldout_neurons)):
        values = counts[..., neurons].astype(np.float64)
        values = values - condition_offsets(values, conditions[train], np.arange(len(train)))
        values = _components(values, values[:, bins], n_components)  # (trials, all bins, k)
        residuals[name] = _causal_boxcar(values, _smoothing_bins(session, smooth_s))
    x = lagged_design(residuals["source"], np.arange(-n_side, n_side + 1))[:, bins]
    x = x.reshape(*x.shape[:2], len(lags), -1)  # (trials, bins, lags, components)
    y = residuals["target"][:, bins]
    per_trial = np.einsum("tblk,tbm->tlkm", x, y).reshape(len(x), -1)
    weights = bootstrap_weights(len(x), n_boot, seed)
    covariance = (weights @ per_trial) / (weights.sum(axis=1, keepdims=True) * x.shape[1])
    covariance = covariance.reshape(len(weights), len(lags), x.shape[-1], y.shape[-1])
    strength = np.linalg.svd(covariance, compute_uv=False)[..., 0]  # (n_boot + 1, n_lags)
    profile, low, high = bootstrap_summary(strength)
    peak, peak_low, peak_high = bootstrap_summary(lags[np.argmax(strength, axis=1)])
    return LagProfile(lags, profile, low, high, peak, peak_low, peak_high)


def _components(values: np.ndarray, reference: np.ndarray, n_components: int) -> np.ndarray:
    """``values (..., n)`` z-scored with ``reference (trials, bins, n)``'s statistics and
    projected on its top principal components, each scaled to unit variance."""
    flat = _flat(reference)
    mean, scale = flat.mean(axis=0), flat.std(axis=0) + 1e-9
    standard = (flat - mean) / scale
    eigvals, eigvecs = np.linalg.eigh(standard.T @ standard / len(standard))
    top = np.argsort(eigvals)[::-1][:n_components]
    return ((values - mean) / scale) @ (eigvecs[:, top] / np.sqrt(eigvals[top] + 1e-12))


def behaviour_features(session: Session, conditions: np.ndarray, train_trials: np.ndarray, *,
                       window: tuple[float, float], lags_s: tuple[float, ...],
                       smooth_s: float = 0.0, names: tuple[str, ...] = ("wheel",)
                       ) -> np.ndarray:
    """Lagged residual behaviour (each trace and its absolute value, condition PSTH removed),
    laid out like :func:`pair_data`'s inputs: the behaviour baseline a coupling claim must beat
    (movement drives many regions at once).

    Raises:
        ValueError: a trace the session does not carry (the message lists those it has).
    """
    traces = []
    for name in names:
        trace = session.behaviour_by_trial(name).astype(np.float64)
        trace = trace.reshape(*trace.shape[:2], -1)
        traces += [trace, np.abs(trace)]
    values = np.concatenate(traces, axis=2)
    residual = values - condition_offsets(values - values.min(), conditions, train_trials) \
        - values.min()
    return _lagged_window(session, residual, window, lags_s, smooth_s)


def region_pair_gains(session: Session, conditions: np.ndarray, partners: np.ndarray, *,
                      regions: list[str], n_source: int, window: tuple[float, float],
                      lags_s: tuple[float, ...], smooth_s: float = 0.0, seed: int = 0,
                      n_boot: int = 1000):
    """:func:`coupling_gains` for every ordered pair of ``regions`` at ``n_source`` source
    neurons each (a larger region would otherwise win by size alone).

    Returns:
        A ``pandas.DataFrame``, one row per pair and reference, with the columns of
        :func:`~helpers.evaluation.score_gains` plus ``source``, ``target``, ``pair`` and
        ``over``.
    """
    import pandas as pd

    from helpers.splits import cross_region_split

    rows = []
    for source in regions:
        for target in regions:
            if source == target:
                continue
            split = cross_region_split(session, source, target, n_source=n_source,
                                       min_rate=None, conditions=conditions, seed=seed)
            data = pair_data(session, split, conditions, window=window, lags_s=lags_s,
                             smooth_s=smooth_s)
            table, _ = coupling_gains(data, partners, seed=seed, n_boot=n_boot)
            rows.append(table.assign(source=source, target=target,
                                     pair=f"{source} -> {target}"))
    return pd.concat(rows).rename_axis("model").reset_index()


@_one_blas_thread
def rank_curves(model: ReducedRankRates, data: PairData, *, seed: int = 0, n_boot: int = 500):
    """Test-trial gain over the condition PSTH at every rank, from the predictive dimensions
    (reduced-rank regression) and from the source's dominant dimensions (top principal
    components), with paired bootstrap intervals (Semedo et al. 2019, Fig. 5).

    Returns:
        A ``pandas.DataFrame`` with columns ``dimensions`` (``"predictive"`` or
        ``"dominant"``), ``rank`` and the score columns of
        :func:`~helpers.evaluation.score_gains`.
    """
    from helpers.evaluation import score_gains

    inputs, targets, offsets = data.test()
    if offsets is None:
        raise ValueError("rank_curves scores gains over the condition PSTH: use residual data "
                         "(pair_data(..., residual=True)).")
    ranks = range(1, model.rank_scores_.shape[1] + 1)
    predictions = {("predictive", r): model.predict(inputs, offsets, rank=r) for r in ranks}
    predictions.update({("dominant", r): model.predict_dominant(inputs, offsets, n_components=r)
                        for r in ranks})
    table = score_gains({**predictions, "psth": offsets}, targets, reference="psth",
                        seed=seed, n_boot=n_boot)
    table["dimensions"] = [key[0] for key in table.index]
    table["rank"] = [key[1] for key in table.index]
    return table.reset_index(drop=True)
