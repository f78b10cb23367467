"""What a representation of the spikes encodes: time-resolved decoding of task variables,
against nulls that hold for trial-ordered data, and paired comparisons of representations
(chapter 5).

A *representation* is any array in the models' layout ``(n_trials, n_bins, n_features)``: the
factors of a :class:`~helpers.models.LatentRNN`, smoothed spikes, their principal components.
The task variables and the null each needs live in :mod:`helpers.task_variables`; maps between
latent spaces in :mod:`helpers.latent_spaces`.

- :func:`causal_smooth`, :func:`pca_trajectories`, :func:`predictive_projection`: the simpler
  representations a latent model must beat, computed without looking into the future or at
  test trials; :func:`best_smoothing` chooses the smoothing on training trials.
- :func:`decode_over_time`: one cross-validated linear decoder per time bin, with intervals
  and a test corrected over the bins of the window (max statistic over a linear-shift,
  trial-shuffle or pseudo-session null); :func:`first_decodable_time` reads when a variable
  appears and :func:`onset_interval` gives that time an interval.
- :func:`compare_over_time`: one representation against others, bin by bin, paired over the
  same trials and folds, with a band that holds over the window.
- :func:`plot_over_time`: one curve of either table, its band and its significant bins.

All decoders are ridge regressions (a closed form per bin, the penalty chosen per bin by
leave-one-out error within the training trials), so hundreds of them run in a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.inference import (
    autocorrelation_length,
    block_folds,
    bootstrap_weights,
    corrected_t_interval,
    linear_shifts,
    max_statistic,
    max_statistic_threshold,
    ridge_loo,
    shuffled_folds,
    stratified_folds,
)
from helpers.metrics import balanced_accuracy_by_column
from helpers.session import as_trials_first
from helpers.splits import check_labels

__all__ = [
    "ALPHAS", "causal_smooth", "pca_trajectories", "predictive_projection", "best_smoothing",
    "NULLS", "decode_over_time", "first_decodable_time", "onset_interval", "compare_over_time",
    "plot_over_time",
]

#: Ridge penalties tried for every decoder (on standardised features).
ALPHAS: tuple[float, ...] = tuple(np.logspace(-2, 4, 7).tolist())


def _one_blas_thread():
    """A context in which numpy's BLAS uses one thread: the small batched SVDs of the ridge
    decoders are many times slower with two threads when other programs compete for the
    cores (measured: 80x the CPU time on a busy 2-core machine), and barely faster without."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


# =============================================================================================
# Simpler representations
# =============================================================================================
def causal_smooth(spikes: np.ndarray, tau_s: float = 0.05, *, bin_size: float) -> np.ndarray:
    """``log(1 + counts)`` smoothed by a causal exponential filter along time (axis 1): each
    bin mixes only itself and earlier bins, as a causal model's state does.

    Args:
        spikes: counts ``(n_trials, n_bins, n_neurons)``.
        tau_s: time constant of the filter in seconds (0: no smoothing, only ``log1p``).
        bin_size: seconds per bin of ``spikes`` (e.g. the models' 0.05).

    Returns:
        float64, same shape.
    """
    spikes = np.asarray(spikes, dtype=np.float64)
    if spikes.ndim != 3:
        raise ValueError(f"spikes must be (n_trials, n_bins, n_neurons), got {spikes.shape}.")
    if not tau_s >= 0:
        raise ValueError(f"tau_s must be >= 0 seconds, got {tau_s!r}.")
    if not bin_size > 0:
        raise ValueError(f"bin_size must be positive seconds, got {bin_size!r}.")
    values = np.log1p(spikes)
    if tau_s == 0:
        return values
    decay = np.exp(-bin_size / tau_s)
    out = np.empty_like(values)
    out[:, 0] = values[:, 0]
    for t in range(1, values.shape[1]):
        out[:, t] = decay * out[:, t - 1] + (1 - decay) * values[:, t]
    return out


def pca_trajectories(features: np.ndarray, n_components: int,
                     fit_trials: np.ndarray | None = None) -> np.ndarray:
    """Principal components of a representation, fitted on some trials, applied to all.

    Args:
        features: ``(n_trials, n_bins, n_features)``, e.g. :func:`causal_smooth` output.
        n_components: how many components to keep (e.g. as many as a model's factors).
        fit_trials: trials to fit the components on (e.g. the training trials of the model
            it is compared with); all trials when ``None``.

    Returns:
        ``(n_trials, n_bins, n_components)``.
    """
    from sklearn.decomposition import PCA

    features = _as_features("features", features)
    if not 1 <= n_components <= features.shape[-1]:
        raise ValueError(f"n_components must be between 1 and {features.shape[-1]} (the "
                         f"number of features), got {n_components}.")
    fit = features if fit_trials is None else features[np.asarray(fit_trials)]
    pca = PCA(n_components=n_components).fit(fit.reshape(-1, features.shape[-1]))
    flat = pca.transform(features.reshape(-1, features.shape[-1]))
    return flat.reshape(*features.shape[:2], n_components)


def predictive_projection(inputs: np.ndarray, targets: np.ndarray, n_components: int, *,
                          train_trials: np.ndarray, n_lags: int = 3,
                          alphas: tuple[float, ...] = ALPHAS) -> np.ndarray:
    """A causal *linear* latent model of the same dimension as a network's factors: reduced-rank
    ridge regression from the recent held-in activity to the held-out counts, fitted on the
    training trials, its ``n_components`` most predictive dimensions returned for every trial.

    The design holds ``log(1 + counts)`` of the held-in neurons in the current bin and the
    ``n_lags - 1`` bins before it (zeros before the first bin), so a bin reads nothing later
    than itself, as :class:`~helpers.models.LatentRNN`'s factors do. Ridge weights ``W`` (penalty
    per held-out neuron by leave-one-out error); the projection is ``X W V``, where ``V`` holds
    the top right singular vectors of the fitted values on the training trials.

    Args:
        inputs: held-in counts ``(n_trials, n_bins, n_in)``.
        targets: held-out counts ``(n_trials, n_bins, n_out)``.
        n_components: dimension of the projection (e.g. the network's factors).
        train_trials: trial indices to fit on.
        n_lags: bins of history, the current one included.

    Returns:
        ``(n_trials, n_bins, n_components)``.
    """
    inputs, targets = _as_features("inputs", inputs), _as_features("targets", targets)
    if inputs.shape[:2] != targets.shape[:2]:
        raise ValueError(f"inputs {inputs.shape[:2]} and targets {targets.shape[:2]} must share "
                         "(n_trials, n_bins).")
    if not 1 <= n_components <= targets.shape[-1]:
        raise ValueError(f"n_components must be between 1 and {targets.shape[-1]} (held-out "
                         f"neurons), got {n_components}.")
    if n_lags < 1:
        raise ValueError(f"n_lags must be >= 1, got {n_lags}.")
    values = np.log1p(inputs)
    padded = np.pad(values, ((0, 0), (n_lags - 1, 0), (0, 0)))
    design = np.concatenate([padded[:, n_lags - 1 - lag:padded.shape[1] - lag]
                             for lag in range(n_lags)], axis=-1)
    train = np.asarray(train_trials)
    flat = design.reshape(1, -1, design.shape[-1])
    with _one_blas_thread():
        fitted, predicted = ridge_loo(design[train].reshape(1, -1, design.shape[-1]),
                                      targets[train].reshape(1, -1, targets.shape[-1]), flat,
                                      alphas)
    centre = fitted[0].mean(axis=0)
    directions = np.linalg.svd(fitted[0] - centre, full_matrices=False)[2][:n_components].T
    projection = (predicted[0] - centre) @ directions
    return projection.reshape(*inputs.shape[:2], n_components)


# =============================================================================================
# Time-resolved decoding
# =============================================================================================
#: The nulls :func:`decode_over_time` knows (``null_targets`` is the third, pseudo-sessions).
NULLS: dict[str, str] = {
    "shift": "linear shift of the target across trials (trial-ordered data, drift allowed)",
    "shuffle": "trial shuffle of the target (exchangeable trials only)",
}


def _as_features(name: str, features: np.ndarray) -> np.ndarray:
    return as_trials_first(name, features, "n_features",
                           "drop those trials or fill the gaps (e.g. zeros for bins without "
                           "spikes) before decoding")


def _r2(target: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """R² per batch entry and column over the rows: ``(B, n, C)`` -> ``(B, C)``."""
    residual = ((target - predicted) ** 2).sum(axis=1)
    total = ((target - target.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    return 1 - residual / np.where(total > 0, total, np.nan)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over rows where ``mask``: ``(B, n, C)`` -> ``(B, C)``."""
    return (values * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)


def _partial_out(x_train: np.ndarray, x_test: np.ndarray, n_train: np.ndarray,
                 n_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove from the features ``(B, n, d)`` what the nuisance regressors ``(n, k)`` explain
    linearly, fitted on the training trials only."""
    design_train = np.column_stack([np.ones(len(n_train)), n_train])
    design_test = np.column_stack([np.ones(len(n_test)), n_test])
    batch, _, width = x_train.shape
    flat = x_train.transpose(1, 0, 2).reshape(len(n_train), -1)
    beta = np.linalg.lstsq(design_train, flat, rcond=None)[0]
    fit_train = (design_train @ beta).reshape(len(n_train), batch, width).transpose(1, 0, 2)
    fit_test = (design_test @ beta).reshape(len(n_test), batch, width).transpose(1, 0, 2)
    return x_train - fit_train, x_test - fit_test


@dataclass(frozen=True)
class _Problem:
    """A decoding problem after validation: features ``(n, B, d)``, candidate targets
    ``(C, n)`` or ``(C, n, B)`` (column 0 the real one, the rest the null), folds."""

    features: np.ndarray
    columns: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    kind: str
    nuisance: np.ndarray | None
    null: str


def _checked_target(target: np.ndarray, n_trials: int, n_bins: int) -> np.ndarray:
    target = np.asarray(target, dtype=float)
    if target.shape not in ((n_trials,), (n_trials, n_bins)):
        raise ValueError(f"target must be ({n_trials},) or ({n_trials}, {n_bins}) to match the "
                         f"features, got {target.shape}.")
    return target


def _checked_null_targets(null_targets: np.ndarray, target: np.ndarray,
                          valid: np.ndarray) -> np.ndarray:
    null_targets = np.asarray(null_targets, dtype=float)
    if null_targets.shape[1:] != target.shape or len(null_targets) < 19:
        raise ValueError(f"null_targets must be (n_null >= 19, *{target.shape}) -- draws of the "
                         f"variable from its own process, 200 or more -- got "
                         f"{null_targets.shape}.")
    null_targets = null_targets[:, valid]
    if not np.all(np.isfinite(null_targets)):
        raise ValueError("null_targets have NaN on trials where the target is defined: draw "
                         "them for the same trials.")
    return null_targets


def _problem(features, target, *, kind, n_splits, null, null_targets, n_permutations,
             nuisance, seed) -> _Problem:
    features = _as_features("features", features)
    n_trials, n_bins, _ = features.shape
    if n_bins < 2:
        raise ValueError(f"the window has {n_bins} bin: time-resolved decoding needs at least "
                         "2 bins; widen the window or use smaller bins.")
    target = _checked_target(target, n_trials, n_bins)
    valid = np.isfinite(target) if target.ndim == 1 else np.isfinite(target).all(axis=1)
    if null_targets is not None:
        null_targets = _checked_null_targets(null_targets, target, valid)
    if nuisance is not None:
        nuisance = np.asarray(nuisance, dtype=float).reshape(n_trials, -1)
        if not np.all(np.isfinite(nuisance[valid])):
            raise ValueError("nuisance regressors contain NaN or inf on decoded trials.")
        nuisance = nuisance[valid]
    features, target = features[valid], target[valid]
    if kind is None:
        kind = "classification" if np.isin(target, (0, 1)).all() else "regression"
    if kind not in ("classification", "regression"):
        raise ValueError(f"kind must be 'classification' or 'regression', got {kind!r}.")
    n = len(target)
    if n < 2 * n_splits:
        raise ValueError(f"Only {n} trials have this variable: too few for {n_splits}-fold "
                         "cross-validation; use fewer folds or more trials.")
    if kind == "classification":
        check_labels(target, n_splits)
    if null_targets is not None:
        columns, null = np.concatenate([target[None], null_targets]), "null_targets"
        folds = block_folds(n, n_splits)
    elif null == "shift":
        memory = target if target.ndim == 1 else target.mean(axis=1)
        min_shift = autocorrelation_length(memory)
        max_shift = min_shift - 1 + min(max(n_permutations // 2, 10), max(n // 8, 10))
        if n - 2 * max_shift < max(10, 2 * n_splits):
            raise ValueError(f"{n} trials are too few for a linear-shift null (shifts of "
                             f"{min_shift} to {max_shift} trials, the target remembering "
                             f"{min_shift - 1}): pass null='shuffle' if the trials are "
                             "exchangeable, or null_targets drawn from the variable's process.")
        central, shifted = linear_shifts(n, max_shift, min_shift)
        columns, features = target[shifted], features[central]
        nuisance = None if nuisance is None else nuisance[central]
        folds = block_folds(len(central), n_splits)
    elif null == "shuffle":
        rng = np.random.default_rng(seed)
        orders = [np.arange(n)] + [rng.permutation(n) for _ in range(n_permutations)]
        columns = np.stack([target[order] for order in orders])
        folds = (stratified_folds(target, n_splits, seed=seed) if kind == "classification"
                 else shuffled_folds(n, n_splits, seed))
    else:
        raise ValueError(f"null must be one of {list(NULLS)} (or pass null_targets=), got "
                         f"{null!r}.")
    return _Problem(features.transpose(1, 0, 2), columns, folds, kind, nuisance, null)


def _fold_outputs(problem: _Problem, alphas: tuple[float, ...]):
    """Per fold: scores ``(B, C)`` of every column, and the real column's per-test-trial
    outcome ``(n_test, B)`` (correct 0/1 for classification, prediction for regression)."""
    x = problem.features  # (B, n, d)
    n_bins = x.shape[0]
    columns = problem.columns
    columns = (columns.transpose(2, 1, 0) if columns.ndim == 3
               else np.broadcast_to(columns.T[None], (n_bins, *columns.T.shape)))  # (B, n, C)
    for train, test in problem.folds:
        x_train, x_test = x[:, train], x[:, test]
        if problem.nuisance is not None:
            x_train, x_test = _partial_out(x_train, x_test, problem.nuisance[train],
                                           problem.nuisance[test])
        y_train, y_test = columns[:, train], columns[:, test]
        fitted, predicted = ridge_loo(x_train, y_train, x_test, alphas)
        if problem.kind == "classification":
            mean1, mean0 = _masked_mean(fitted, y_train == 1), _masked_mean(fitted, y_train == 0)
            sign = np.where(mean1 >= mean0, 1.0, -1.0)[:, None, :]
            decided = (sign * (predicted - ((mean0 + mean1) / 2)[:, None, :]) > 0).astype(float)
            scores = balanced_accuracy_by_column(y_test.transpose(1, 0, 2),
                                                 decided.transpose(1, 0, 2))
            yield test, scores, decided[:, :, 0].T
        else:
            yield test, _r2(y_test, predicted), predicted[:, :, 0].T


def _decode(features, target, *, kind, n_splits, null, null_targets, n_permutations, nuisance,
            alpha, seed, alphas):
    problem = _problem(features, target, kind=kind, n_splits=n_splits, null=null,
                       null_targets=null_targets, n_permutations=n_permutations,
                       nuisance=nuisance, seed=seed)
    with _one_blas_thread():
        outputs = list(_fold_outputs(problem, alphas))
    scores = np.stack([scores for _, scores, _ in outputs])  # (folds, B, C)
    mean = np.nanmean(scores, axis=0)  # (B, C)
    p_values, significant = max_statistic(mean[:, 0], mean[:, 1:].T, alpha)
    threshold = max_statistic_threshold(mean[:, 0], mean[:, 1:].T, alpha)
    return problem, outputs, scores, p_values, significant, threshold


def decode_over_time(features: np.ndarray, target: np.ndarray, *, kind: str | None = None,
                     time: np.ndarray | None = None, model: str = "features",
                     n_splits: int = 5, null: str = "shift",
                     null_targets: np.ndarray | None = None, n_permutations: int = 200,
                     nuisance: np.ndarray | None = None, alpha: float = 0.05, seed: int = 0,
                     alphas: tuple[float, ...] = ALPHAS):
    """Decode a variable from a representation in every time bin, on held-out trials, with an
    interval per bin and a test whose family-wise error over the window is ``alpha``.

    In each bin a ridge regression (penalty chosen by leave-one-out error on the training
    trials) maps the standardised features to the target; a classification predicts the class
    whose training-mean score is nearer (equal priors, so it suits balanced accuracy). The
    same folds and the same null targets serve every bin.

    **The test.** The score of every bin is compared with the scores the same pipeline reaches
    on *null targets*, and ``significant`` is corrected over the window's bins by the maximum
    statistic (:func:`helpers.inference.max_statistic`): on data with nothing to decode, the
    chance that *any* bin is significant is at most ``alpha``. Which null targets:

    - ``null_targets`` given: draws of the variable from its own generating process (a
      *pseudo-session*, e.g. stimuli re-drawn by the task's rules); contiguous-block folds.
      The best null when the experimenter generated the variable (Harris 2020).
    - ``null="shift"`` (default): a linear shift -- the target read ``k`` trials away, on the
      central trials, for ``max(n_trials // 8, 10)`` shifts each way (at most
      ``n_permutations // 2``) starting at the target's memory (its autocorrelation length:
      1 for independent trials, longer for labels in bouts, whose short shifts would return
      nearly the real labels); contiguous-block folds. The number of null draws is thus set
      by the trials, not by ``n_permutations`` (e.g. 50 for 200 trials). Valid when the
      target *or* the features are stationary across the session, even if the other drifts;
      it keeps slow drift, which a trial shuffle would turn into false "decoding".
    - ``null="shuffle"``: ``n_permutations`` trial permutations, stratified folds. Only for
      exchangeable trials (no drift, no trial history).

    Args:
        features: ``(n_trials, n_bins, n_features)``, trials in session order.
        target: ``(n_trials,)`` per-trial values or ``(n_trials, n_bins)`` per-bin values (as
            from :func:`trial_variable`); trials with a NaN are left out.
        kind: ``"classification"`` (0/1 targets, balanced accuracy) or ``"regression"`` (R²);
            ``None``: classification when the target is 0/1 only.
        time: bin centres in seconds (default: bin indices), copied into the table.
        model: identifier written in the table's ``model`` column (e.g. ``"latents"``).
        n_splits: cross-validation folds.
        null: ``"shift"`` or ``"shuffle"`` (ignored when ``null_targets`` is given).
        null_targets: ``(n_null, n_trials)`` or ``(n_null, n_trials, n_bins)`` draws of the
            target from its own process (200 or more recommended).
        n_permutations: permutations of the ``"shuffle"`` null (and the cap of shifts).
        nuisance: ``(n_trials, k)`` regressors (e.g. trial index, previous outcome) whose
            linear effect is removed from the features within each training fold, so that
            what is decoded is not them.
        alpha: family-wise error rate over the bins.
        seed: seeds folds and permutations.
        alphas: ridge penalties to choose from.

    Returns:
        A ``pandas.DataFrame``, one row per bin: ``model``, ``time``, ``metric``, ``score``
        (mean over folds), ``low``, ``high`` (95 % corrected-resampled-t interval over folds),
        ``interval``, ``null`` (which), ``n_null`` (how many null draws), ``null_mean``,
        ``null_high`` (the null's 95th percentile in that bin alone, uncorrected),
        ``threshold`` (the corrected threshold in score units), ``p_value`` (corrected over the
        bins), ``significant`` and ``n_trials``.

    Raises:
        ValueError: shapes that disagree, NaN features, fewer than 2 bins, a constant label or
            a class with too few trials for the folds, too few trials for the null.
    """
    import pandas as pd

    problem, outputs, scores, p_values, significant, threshold = _decode(
        features, target, kind=kind, n_splits=n_splits, null=null, null_targets=null_targets,
        n_permutations=n_permutations, nuisance=nuisance, alpha=alpha, seed=seed, alphas=alphas)
    n_bins = scores.shape[1]
    times = np.arange(n_bins, dtype=float) if time is None else np.asarray(time, dtype=float)
    if times.shape != (n_bins,):
        raise ValueError(f"time must have one entry per bin ({n_bins}), got {times.shape}.")
    metric = "balanced accuracy" if problem.kind == "classification" else "R²"
    test_fraction = np.mean([len(test) for _, test in problem.folds]) / problem.features.shape[1]
    rows = []
    for b in range(n_bins):
        folds = scores[:, b, 0][np.isfinite(scores[:, b, 0])]
        score, low, high = (corrected_t_interval(folds, test_fraction) if len(folds) >= 2
                            else (float(np.mean(folds)) if len(folds) else np.nan, np.nan, np.nan))
        null_scores = np.nanmean(scores[:, b, 1:], axis=0)
        rows.append({"model": model, "time": float(times[b]), "metric": metric, "score": score,
                     "low": low, "high": high,
                     "interval": f"95% corrected t over {len(problem.folds)} folds",
                     "null": problem.null, "n_null": int(len(problem.columns) - 1),
                     "null_mean": float(np.mean(null_scores)),
                     "null_high": float(np.percentile(null_scores, 95)),
                     "threshold": float(threshold[b]), "p_value": float(p_values[b]),
                     "significant": bool(significant[b]),
                     "n_trials": int(problem.features.shape[1])})
    return pd.DataFrame(rows)


def first_decodable_time(table, *, n_consecutive: int = 1) -> float:
    """The first time at which a decoding curve (from :func:`decode_over_time`) is
    significant -- corrected over the window's bins, so a noise curve has an onset in at most
    ``alpha`` of runs. NaN if never.

    Args:
        table: one curve (one model, one variable) from :func:`decode_over_time`.
        n_consecutive: significant bins in a row required (1: the corrected test suffices).
    """
    if "significant" not in table:
        raise ValueError("the table has no 'significant' column: make it with "
                         "decode_over_time.")
    times = table["time"].to_numpy()
    if len(np.unique(times)) != len(times):
        raise ValueError("the table holds several curves (repeated times): select one model "
                         "and one variable first.")
    significant = table["significant"].to_numpy(dtype=bool)
    for start in range(len(significant) - n_consecutive + 1):
        if significant[start:start + n_consecutive].all():
            return float(times[start])
    return float("nan")


def _resampled_scores(problem: _Problem, outputs, weights: np.ndarray) -> np.ndarray:
    """Mean-over-folds score of the real target per bootstrap row: ``(n_boot + 1, B)``."""
    target = problem.columns[0]  # (n,) or (n, B)
    per_fold = []
    for test, _, outcome in outputs:
        w = weights[:, test]
        truth = target[test] if target.ndim == 2 else np.broadcast_to(
            target[test][:, None], outcome.shape)
        if problem.kind == "classification":
            per_fold.append(balanced_accuracy_by_column(truth, outcome, w))
        else:
            total = w.sum(axis=1, keepdims=True)
            mean = (w @ truth) / total
            residual = w @ (truth - outcome) ** 2
            spread = w @ truth**2 - total * mean**2
            per_fold.append(1 - residual / np.where(spread > 1e-12, spread, np.nan))
    return np.nanmean(np.stack(per_fold), axis=0)


def onset_interval(features: np.ndarray, target: np.ndarray, *, time: np.ndarray | None = None,
                   n_boot: int = 500, level: float = 0.95, seed: int = 0,
                   **decode_options) -> tuple[float, float, float]:
    """The onset of :func:`first_decodable_time` with a bootstrap interval over trials.

    The decoders' out-of-fold predictions are kept; trials are resampled with replacement,
    each bin's score is recomputed from the resampled trials and compared with the
    corrected threshold of :func:`decode_over_time` (held fixed), and the first bin above it
    is that resample's onset. Resamples without an onset count as later than every bin. The
    decoders are not refitted and the threshold is not redrawn, so the interval shows how the
    onset moves with the sample of test trials, not with the training trials or the null.

    Args:
        features, target, time: as for :func:`decode_over_time`.
        n_boot: bootstrap resamples of the trials.
        level: coverage of the interval.
        decode_options: the other keywords of :func:`decode_over_time`.

    Returns:
        ``(onset, low, high)`` in the units of ``time``; NaN where there is no onset (``high``
        is NaN when more than ``(1 - level) / 2`` of the resamples have none).
    """
    options = {"kind": None, "n_splits": 5, "null": "shift", "null_targets": None,
               "n_permutations": 200, "nuisance": None, "alpha": 0.05, "alphas": ALPHAS}
    unknown = set(decode_options) - set(options)
    if unknown:
        raise TypeError(f"unknown options {sorted(unknown)}; use those of decode_over_time.")
    options.update(decode_options)
    problem, outputs, _, _, _, threshold = _decode(features, target, seed=seed, **options)
    n_bins = len(threshold)
    times = np.arange(n_bins, dtype=float) if time is None else np.asarray(time, dtype=float)
    weights = bootstrap_weights(problem.features.shape[1], n_boot, seed)
    above = _resampled_scores(problem, outputs, weights) > threshold[None, :]
    first = np.where(above.any(axis=1), above.argmax(axis=1), n_bins)
    onsets = np.append(times, np.inf)[first]
    tail = 100 * (1 - level) / 2
    low, high = (np.percentile(onsets[1:], q, method=m)
                 for q, m in ((tail, "lower"), (100 - tail, "higher")))
    onset, low, high = (float(value) if np.isfinite(value) else float("nan")
                        for value in (onsets[0], low, high))
    return onset, low, high


# =============================================================================================
# Representations compared, paired over trials
# =============================================================================================
def _plain_problem(features: np.ndarray, target: np.ndarray, *, kind: str | None,
                   n_splits: int, n_repeats: int, nuisance: np.ndarray | None,
                   seed: int) -> _Problem:
    """A decoding problem with the real target only (no null): contiguous-block folds for one
    repeat, stratified (classification) or shuffled folds for several."""
    features = _as_features("features", features)
    n_trials, n_bins, _ = features.shape
    target = _checked_target(target, n_trials, n_bins)
    valid = np.isfinite(target) if target.ndim == 1 else np.isfinite(target).all(axis=1)
    features, target = features[valid], target[valid]
    if nuisance is not None:
        nuisance = np.asarray(nuisance, dtype=float).reshape(n_trials, -1)[valid]
    kind = kind or ("classification" if np.isin(target, (0, 1)).all() else "regression")
    if kind == "classification":
        check_labels(target, n_splits)
    n = len(target)
    if n_repeats == 1:
        folds = block_folds(n, n_splits)
    elif kind == "classification":
        folds = stratified_folds(target, n_splits, n_repeats, seed)
    else:
        folds = [fold for r in range(n_repeats) for fold in shuffled_folds(n, n_splits, seed + r)]
    return _Problem(features.transpose(1, 0, 2), target[None], folds, kind, nuisance, "none")


def compare_over_time(representations: dict[str, np.ndarray], target: np.ndarray, *,
                      reference: str, time: np.ndarray | None = None, kind: str | None = None,
                      n_splits: int = 5, n_repeats: int = 4,
                      nuisance: np.ndarray | None = None, n_boot: int = 500,
                      level: float = 0.95, seed: int = 0, alphas: tuple[float, ...] = ALPHAS):
    """Is one representation better decoded than others, bin by bin? Paired differences on the
    same trials and the same folds, with a band that holds over the whole window.

    Every representation is decoded as in :func:`decode_over_time` (ridge per bin), on the same
    ``n_repeats`` x ``n_splits`` folds. The difference ``reference - other`` of each bin is the
    mean over folds of the paired fold scores. Its standard error is the corrected resampled-t
    one (Nadeau & Bengio 2003: ``(1 / n_folds + n_test / n_train) * var(fold differences)``),
    which counts the noise of refitting the decoders as well as that of the test trials. The
    band is *simultaneous* over bins: its half-width is ``c`` standard errors, where ``c`` is
    the ``level`` quantile of the largest standardised deviation over bins in a bootstrap of
    the test trials (paired: the same resamples for every representation), so that
    ``significant`` -- the band excludes 0 -- has a family-wise error near ``1 - level`` over
    the window (measured in ``tests/test_decoding.py`` and ``benchmarks/latents.py``).

    Args:
        representations: name -> features ``(n_trials, n_bins, n_features)``, same trials.
        target: ``(n_trials,)`` or ``(n_trials, n_bins)``, NaN trials left out.
        reference: the representation the others are subtracted from (e.g. ``"latents"``).
        time, kind, n_splits, nuisance, alphas: as for :func:`decode_over_time`.
        n_repeats: repeats of the folds (stratified or shuffled folds; 1: contiguous blocks).
        n_boot: bootstrap resamples of the trials (for ``c``).
        level: coverage of the simultaneous band.

    Returns:
        A table in the book's schema, one row per other representation and bin: ``model``
        (``"latents - PCA"``...), ``time``, ``metric``, ``score`` (the difference), ``low``,
        ``high``, ``interval``, ``significant``, ``n_trials``.
    """
    import pandas as pd
    from scipy import stats

    if reference not in representations or len(representations) < 2:
        raise ValueError(f"reference {reference!r} must be one of at least two representations, "
                         f"got {list(representations)}.")
    resampled, fold_scores, weights, problem = {}, {}, None, None
    for name, features in representations.items():
        problem = _plain_problem(features, target, kind=kind, n_splits=n_splits,
                                 n_repeats=n_repeats, nuisance=nuisance, seed=seed)
        if weights is None:
            weights = bootstrap_weights(problem.features.shape[1], n_boot, seed)
        with _one_blas_thread():
            outputs = list(_fold_outputs(problem, alphas))
        fold_scores[name] = np.stack([scores[:, 0] for _, scores, _ in outputs])  # (F, B)
        resampled[name] = _resampled_scores(problem, outputs, weights)  # (n_boot + 1, B)
    n_folds, n_bins = fold_scores[reference].shape
    test_fraction = np.mean([len(test) for _, test in problem.folds]) / problem.features.shape[1]
    inflation = 1 / n_folds + test_fraction / (1 - test_fraction)
    times = np.arange(n_bins, dtype=float) if time is None else np.asarray(time, dtype=float)
    metric = ("balanced accuracy" if problem.kind == "classification" else "R²") + " difference"
    rows = []
    for name in representations:
        if name == reference:
            continue
        difference = np.nanmean(fold_scores[reference] - fold_scores[name], axis=0)
        error = np.sqrt(inflation * np.nanvar(fold_scores[reference] - fold_scores[name],
                                              axis=0, ddof=1))
        error = np.where(error > 1e-12, error, np.nan)
        boot = resampled[reference] - resampled[name]
        spread = np.nanstd(boot[1:], axis=0)
        deviation = np.nanmax(np.abs(boot[1:] - boot[0]) / np.where(spread > 1e-12, spread,
                                                                      np.nan), axis=1)
        critical = np.nanpercentile(deviation, 100 * level)
        critical *= stats.t.ppf((1 + level) / 2, n_folds - 1) / stats.norm.ppf((1 + level) / 2)
        low, high = difference - critical * error, difference + critical * error
        for b in range(n_bins):
            rows.append({"model": f"{reference} - {name}", "time": float(times[b]),
                         "metric": metric, "score": float(difference[b]),
                         "low": float(low[b]), "high": float(high[b]),
                         "interval": f"{level:.0%} simultaneous band, corrected t over "
                                     f"{n_folds} folds",
                         "significant": bool(low[b] > 0 or high[b] < 0),
                         "n_trials": int(problem.features.shape[1])})
    return pd.DataFrame(rows)


def best_smoothing(spikes: np.ndarray, target: np.ndarray, *, bin_size: float,
                   taus_s: tuple[float, ...] = (0.025, 0.05, 0.1, 0.2), n_splits: int = 5,
                   alphas: tuple[float, ...] = ALPHAS) -> tuple[float, dict[float, float]]:
    """The time constant of :func:`causal_smooth` that decodes ``target`` best, chosen on the
    trials given (pass the *training* trials, so that the test trials stay unseen): the mean
    over bins of the cross-validated score, as in :func:`decode_over_time`.

    Args:
        spikes: counts ``(n_trials, n_bins, n_neurons)`` of the training trials.
        target: ``(n_trials,)`` or ``(n_trials, n_bins)`` of the same trials.
        bin_size: seconds per bin.
        taus_s: candidate time constants, seconds.

    Returns:
        ``(best tau, {tau: mean score})``.
    """
    if not taus_s:
        raise ValueError("taus_s is empty: give at least one time constant in seconds.")
    scores = {}
    for tau in taus_s:
        problem = _plain_problem(causal_smooth(spikes, tau, bin_size=bin_size), target,
                                 kind=None, n_splits=n_splits, n_repeats=1, nuisance=None,
                                 seed=0)
        with _one_blas_thread():
            fold_scores = np.stack([s[:, 0] for _, s, _ in _fold_outputs(problem, alphas)])
        scores[float(tau)] = float(np.nanmean(fold_scores))
    return max(scores, key=scores.get), scores


def plot_over_time(table, *, ax=None, label: str | None = None, color: str | None = None,
                   threshold: bool = True):
    """Draw one curve of :func:`decode_over_time` or :func:`compare_over_time`: the score, its
    interval as a band, the significant bins as dots just below the curve's lowest point and,
    for a decoding curve, the corrected threshold (dotted).

    Args:
        table: one model and one variable (one row per bin).
        ax: matplotlib axes (a new figure when ``None``).
        label, color: legend label (default: the table's model) and colour.
        threshold: draw the corrected threshold when the table has one.

    Returns:
        The axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.subplots(figsize=(5, 3.2))[1]
    times = table["time"].to_numpy(dtype=float)
    if len(np.unique(times)) != len(times):
        raise ValueError("the table holds several curves (repeated times): select one model "
                         "and one variable first.")
    line, = ax.plot(times, table["score"], color=color,
                    label=label if label is not None else str(table["model"].iloc[0]))
    ax.fill_between(times, table["low"], table["high"], color=line.get_color(), alpha=0.15)
    if threshold and "threshold" in table:
        ax.plot(times, table["threshold"], color=line.get_color(), ls=":", lw=1)
    significant = table["significant"].to_numpy(dtype=bool)
    floor = float(np.nanmin(table["low"]))
    ax.plot(times[significant], np.full(significant.sum(), floor), ".",
            color=line.get_color(), ms=5)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set(ylabel=str(table["metric"].iloc[0]))
    return ax
