"""The book's statistics core: resampling, permutation tests, folds, intervals and ridge.

Every chapter draws its conclusions through these few functions, so that each idea is written
once and its false-positive rate is measured once (``tests/test_inference.py``,
``benchmarks/latents.py``):

- **Bootstrap over units** (trials, seeds): :func:`bootstrap_weights` draws the resamples once
  (row 0 is the data itself), any statistic that is a weighted sum is then one matrix product,
  and :func:`bootstrap_summary` turns the resampled values into ``(point, low, high)``.
  :func:`paired_bootstrap` is the common case: the mean difference of two paired scores.
- **Permutation tests**: :func:`permutation_p_value` for one test; :func:`max_statistic` for a
  family of tests (time bins, region pairs) with the family-wise error rate controlled by the
  maximum of standardised statistics over the family; :func:`holm` for a few p-values.
- **Nulls for trial-ordered data**: a trial shuffle assumes exchangeable trials, which slow
  drift of engagement and firing breaks (Harris 2020, "Nonsense correlations in
  neuroscience"). :func:`linear_shifts` pairs one variable with the other shifted by ``k``
  trials (valid when one of the two is stationary); a *pseudo-session* null (the variable
  re-drawn from its own generating process) is passed to the decoders as ``null_targets``.
- **Folds**: :func:`stratified_folds` for exchangeable trials, :func:`block_folds`
  (contiguous blocks) for trial-ordered data, :func:`shuffled_folds` for regression targets.
- **Intervals over folds**: :func:`corrected_t_interval` (Nadeau & Bengio 2003).
- **Ridge**: :func:`ridge_loo`, batched closed-form ridge with its penalty chosen by
  leave-one-out error on the training rows.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "bootstrap_weights", "bootstrap_summary", "paired_bootstrap", "permutation_p_value",
    "max_statistic", "max_statistic_threshold", "holm", "linear_shifts", "autocorrelation_length",
    "corrected_t_interval",
    "stratified_folds", "block_folds", "shuffled_folds", "ridge_loo",
]

Folds = list[tuple[np.ndarray, np.ndarray]]


def _finite(name: str, values: np.ndarray | list[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        raise ValueError(f"{name} is empty.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf: drop those units (or fix the score that "
                         "produced them) before resampling.")
    return array


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95, got {level!r}.")


# ============================================================================ bootstrap
def bootstrap_weights(n: int, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """Resample counts of a bootstrap over ``n`` units (trials, seeds), drawn once.

    Row 0 is all ones (the data itself, for the point estimate); rows ``1..n_boot`` are
    multinomial counts summing to ``n``. A statistic that is a weighted sum over units is then
    ``weights @ per_unit``; a ratio of sums is a ratio of two products; and models scored with
    the same weights are *paired*.

    Returns:
        ``(n_boot + 1, n)`` float array.
    """
    if int(n) < 2:
        raise ValueError(f"a bootstrap needs at least 2 units (trials or seeds), got {n}.")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}.")
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(int(n), np.full(int(n), 1 / int(n)), size=int(n_boot))
    return np.vstack([np.ones(int(n)), draws]).astype(np.float64)


def bootstrap_summary(values: np.ndarray, level: float = 0.95):
    """``(point, low, high)`` from bootstrap replicates whose entry 0 is the point estimate.

    Args:
        values: ``(n_boot + 1,)`` or ``(n_boot + 1, ...)``: replicate 0 from the data itself
            (row 0 of :func:`bootstrap_weights`), the rest from resamples.
        level: coverage of the percentile interval.

    Returns:
        Floats for 1-D ``values``, else arrays of shape ``values.shape[1:]``.
    """
    _check_level(level)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0 or len(values) < 2:
        raise ValueError("need the point estimate and at least one resample, got "
                         f"shape {values.shape}.")
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(values[1:], [tail, 100 - tail], axis=0)
    if values.ndim == 1:
        return float(values[0]), float(low), float(high)
    return values[0], low, high


def paired_bootstrap(a: np.ndarray, b: np.ndarray | None = None, *, n_boot: int = 1000,
                     seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``a - b`` over paired units (trials, seeds) with a percentile bootstrap interval.

    Pairing matters: two models scored on the same trials (or trained with the same seeds)
    share the units' difficulty, so the interval of the difference is much narrower than two
    separate intervals suggest -- and the honest one.

    Args:
        a: per-unit scores ``(n_units,)``.
        b: the paired scores ``(n_units,)``; ``None`` for the mean of ``a`` alone.

    Returns:
        ``(mean difference, low, high)``.
    """
    difference = _finite("a", a).ravel()
    if b is not None:
        b = _finite("b", b).ravel()
        if b.shape != difference.shape:
            raise ValueError(f"paired scores need the same units: a has {difference.size}, "
                             f"b has {b.size}.")
        difference = difference - b
    weights = bootstrap_weights(len(difference), n_boot, seed)
    return bootstrap_summary(weights @ difference / len(difference), level)


# ============================================================================ permutation tests
def permutation_p_value(observed: float, null_scores: np.ndarray) -> float:
    """One-sided p-value of ``observed`` against scores obtained under the null.

    ``(1 + #{null >= observed}) / (1 + n_permutations)`` (Ojala & Garriga 2010): the observed
    score counts as one of the permutations, so the p-value is never 0 and its smallest value
    is ``1 / (1 + n_permutations)``.

    Args:
        observed: the score with the true pairing.
        null_scores: the same score under the null, ``(n_permutations,)``.
    """
    null_scores = _finite("null_scores", null_scores).ravel()
    if not np.isfinite(observed):
        raise ValueError(f"observed must be a finite score, got {observed!r}.")
    return float((1 + np.sum(null_scores >= observed)) / (1 + len(null_scores)))


def max_statistic(observed: np.ndarray, null: np.ndarray, alpha: float = 0.05
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Family-wise corrected permutation p-values by the maximum statistic.

    Each test's statistic is standardised (mean and standard deviation over the observed and
    the permuted values together, so that the observed and the permutations are treated
    alike and the test stays exact however heavy the tails), so that tests with different
    null spreads weigh alike; the p-value of
    test ``j`` is the share of permutations whose *largest* standardised statistic over the
    whole family reaches test ``j``'s (Nichols & Holmes 2002). Then the chance that *any*
    test of a family with no effect is called significant is at most ``alpha``.

    Args:
        observed: ``(n_tests,)`` statistics with the true pairing (larger = more effect);
            NaN tests are never significant.
        null: ``(n_permutations, n_tests)`` the same statistics under the null.
        alpha: family-wise error rate.

    Returns:
        ``(p_corrected (n_tests,), significant (n_tests,) bool)``.
    """
    observed = np.asarray(observed, dtype=np.float64).ravel()
    null = np.asarray(null, dtype=np.float64)
    if null.ndim != 2 or null.shape[1] != len(observed):
        raise ValueError(f"null must be (n_permutations, {len(observed)}), got {null.shape}.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
    needed = int(np.ceil(1 / alpha)) - 1
    if len(null) < needed:
        raise ValueError(f"{len(null)} permutations can never reach p <= {alpha}: use at least "
                         f"{needed} (200 or more for a stable threshold).")
    center, spread = _center_spread(observed, null)
    z_observed = (observed - center) / spread
    null_max = np.nanmax(np.where(np.isfinite(null), (null - center) / spread, -np.inf), axis=1)
    exceed = null_max[:, None] >= z_observed[None, :]
    p_values = (1 + exceed.sum(axis=0)) / (1 + len(null))
    p_values = np.where(np.isfinite(z_observed), p_values, 1.0)
    return p_values, p_values <= alpha


def _center_spread(observed: np.ndarray, null: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-test mean and standard deviation over the observed and the null values together."""
    pooled = np.vstack([observed[None, :], null])
    spread = np.nanstd(pooled, axis=0)
    return np.nanmean(pooled, axis=0), np.where(spread > 1e-12, spread, np.nan)


def max_statistic_threshold(observed: np.ndarray, null: np.ndarray,
                            alpha: float = 0.05) -> np.ndarray:
    """The family-wise threshold of :func:`max_statistic` in each test's own units:
    ``(n_tests,)``; a test is significant when its statistic exceeds it."""
    observed = np.asarray(observed, dtype=np.float64).ravel()
    null = np.asarray(null, dtype=np.float64)
    center, spread = _center_spread(observed, null)
    z_null = np.where(np.isfinite(null), (null - center) / spread, -np.inf)
    critical = np.quantile(np.nanmax(z_null, axis=1), 1 - alpha, method="higher")
    return center + critical * spread


def holm(p_values: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down correction: which of a few tests are significant with the family-wise
    error rate at ``alpha`` (valid under any dependence between the tests).

    Returns:
        ``(n_tests,)`` bool.
    """
    p_values = _finite("p_values", p_values).ravel()
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
    order = np.argsort(p_values)
    thresholds = alpha / (len(p_values) - np.arange(len(p_values)))
    passed = np.cumprod(p_values[order] <= thresholds).astype(bool)
    significant = np.zeros(len(p_values), dtype=bool)
    significant[order] = passed
    return significant


def linear_shifts(n_trials: int, max_shift: int, min_shift: int = 1
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Trial indices of a linear-shift null (Harris 2020).

    One variable keeps the central trials ``max_shift .. n_trials - max_shift - 1``; the other
    is read ``k`` trials later, for ``k = 0`` (the true pairing, first) and every ``k`` with
    ``min_shift <= |k| <= max_shift``. When at least one of the two variables is stationary,
    every shift gives a statistic from the same null distribution -- including slow drift,
    which a trial shuffle destroys and so mistakes for an effect. Shifts shorter than the
    variable's memory (:func:`autocorrelation_length`) give nearly the real pairing back and
    only cost power, so ``min_shift`` skips them.

    Returns:
        ``central (n_central,)`` and ``shifted (2 * (max_shift - min_shift + 1) + 1,
        n_central)`` trial indices.
    """
    if not 1 <= min_shift <= max_shift:
        raise ValueError(f"need 1 <= min_shift <= max_shift, got {min_shift} and {max_shift}.")
    if n_trials - 2 * max_shift < 10:
        raise ValueError(f"{n_trials} trials leave fewer than 10 central trials at shifts of "
                         f"+-{max_shift}: use a smaller max_shift or more trials.")
    central = np.arange(max_shift, n_trials - max_shift)
    steps = np.arange(min_shift, max_shift + 1)
    shifts = np.concatenate([[0], -steps[::-1], steps])
    return central, central[None, :] + shifts[:, None]


def autocorrelation_length(values: np.ndarray, threshold: float = float(np.exp(-1)),
                           max_lag: int | None = None) -> int:
    """The first lag (in trials) at which a sequence's autocorrelation falls below
    ``threshold`` (1/e by default): how many trials the variable remembers. 1 for independent
    trials; about 10 for labels that stay the same with probability 0.95.

    Args:
        values: ``(n_trials,)`` in session order (finite).
        threshold: the autocorrelation counted as forgotten.
        max_lag: the longest lag looked at (default ``n_trials // 4``), returned if never below.
    """
    values = _finite("values", values).ravel()
    centred = values - values.mean()
    variance = np.dot(centred, centred)
    max_lag = max(1, len(values) // 4 if max_lag is None else int(max_lag))
    if variance <= 0:
        return 1
    for lag in range(1, max_lag + 1):
        if np.dot(centred[:-lag], centred[lag:]) / variance < threshold:
            return lag
    return max_lag


# ============================================================================ folds
def corrected_t_interval(fold_scores: np.ndarray, test_fraction: float,
                         level: float = 0.95) -> tuple[float, float, float]:
    """Mean score over cross-validation folds with a corrected-resampled-t interval.

    Folds share most of their training trials, so their scores are correlated and the textbook
    ``std / sqrt(n_folds)`` is far too narrow. Nadeau & Bengio (2003) inflate the variance of
    the mean to ``(1 / n_folds + n_test / n_train) * var(fold_scores)``, with t quantiles on
    ``n_folds - 1`` degrees of freedom. Adding repeats narrows the interval only down to a floor
    set by ``n_test / n_train``: re-using the same trials creates no new information.

    Args:
        fold_scores: one score per fold, ``(n_folds,)``, at least 2.
        test_fraction: the fraction of trials tested in each fold, e.g. ``1 / n_splits``.
        level: coverage of the interval.

    Returns:
        ``(mean, low, high)``.
    """
    from scipy import stats

    scores = _finite("fold_scores", fold_scores).ravel()
    if len(scores) < 2:
        raise ValueError(f"need at least 2 fold scores for an interval, got {len(scores)}.")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}.")
    _check_level(level)
    mean = float(scores.mean())
    variance = (1 / len(scores) + test_fraction / (1 - test_fraction)) * scores.var(ddof=1)
    half_width = float(stats.t.ppf((1 + level) / 2, len(scores) - 1) * np.sqrt(variance))
    return mean, mean - half_width, mean + half_width


def stratified_folds(labels: np.ndarray, n_splits: int = 5, n_repeats: int = 1,
                     seed: int = 0) -> Folds:
    """Repeated stratified K-fold splits for exchangeable trials: every trial is tested once
    per repeat, each class in the same proportion in every fold.

    Returns:
        ``n_splits * n_repeats`` pairs ``(train_idx, test_idx)`` of sorted trial indices.
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats,
                                       random_state=seed)
    return [(np.sort(train), np.sort(test))
            for train, test in splitter.split(np.zeros(len(labels)), labels)]


def block_folds(n_trials: int, n_splits: int = 5) -> Folds:
    """Contiguous blocks of trials as test folds, for trial-ordered data: a decoder is then
    tested on a stretch of the session it never saw, so slow drift shared by neighbouring
    trials cannot leak from training into test trials.

    Returns:
        ``n_splits`` pairs ``(train_idx, test_idx)``.
    """
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}.")
    if n_trials < 2 * n_splits:
        raise ValueError(f"{n_trials} trials are too few for {n_splits} blocks of at least 2 "
                         "trials: use fewer folds.")
    trials = np.arange(n_trials)
    return [(np.setdiff1d(trials, block), block) for block in np.array_split(trials, n_splits)]


def shuffled_folds(n_trials: int, n_splits: int = 5, seed: int = 0) -> Folds:
    """K-fold splits of randomly ordered trials (regression targets, exchangeable trials).

    Returns:
        ``n_splits`` pairs ``(train_idx, test_idx)`` of sorted trial indices.
    """
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}.")
    if n_trials < n_splits:
        raise ValueError(f"need at least {n_splits} trials for {n_splits}-fold "
                         f"cross-validation, got {n_trials}.")
    trials = np.arange(n_trials)
    blocks = np.array_split(np.random.default_rng(seed).permutation(n_trials), n_splits)
    return [(np.setdiff1d(trials, block), np.sort(block)) for block in blocks]


# ============================================================================ ridge
def ridge_loo(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
              alphas: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Ridge fits, one per batch entry and target column, the penalty of each chosen by
    leave-one-out error on the training rows (closed form, through one SVD per batch entry).

    Features are standardised on the training rows; an intercept is fitted unpenalised.

    Args:
        x_train: ``(batch, n_train, n_features)``; x_test: ``(batch, n_test, n_features)``.
        y_train: ``(batch, n_train, n_columns)``.
        alphas: penalties to choose from (on standardised features).

    Returns:
        Fitted training values and test predictions, ``(batch, n, n_columns)`` each.
    """
    mean, scale = x_train.mean(axis=1, keepdims=True), x_train.std(axis=1, keepdims=True)
    scale[scale < 1e-9] = 1.0
    xt, xs = (x_train - mean) / scale, (x_test - mean) / scale
    y_mean = y_train.mean(axis=1, keepdims=True)
    yc = y_train - y_mean
    u, s, vt = np.linalg.svd(xt, full_matrices=False)  # (B, n, k), (B, k), (B, k, d)
    uty = np.swapaxes(u, 1, 2) @ yc  # (B, k, C)
    u2 = u**2
    n = xt.shape[1]
    best_err = np.full((uty.shape[0], uty.shape[2]), np.inf)  # (B, C)
    best_shrink = np.zeros(uty.shape)  # (B, k, C)
    for alpha in alphas:
        shrink = s**2 / (s**2 + alpha)  # (B, k)
        fitted = u @ (shrink[:, :, None] * uty)
        leverage = (u2 @ shrink[:, :, None])[:, :, 0] + 1.0 / n
        loo = (yc - fitted) / np.clip(1 - leverage, 1e-6, None)[:, :, None]
        err = (loo**2).mean(axis=1)  # (B, C)
        better = err < best_err
        best_err = np.where(better, err, best_err)
        best_shrink = np.where(better[:, None, :], shrink[:, :, None], best_shrink)
    coef_in_u = best_shrink * uty  # (B, k, C)
    fitted = u @ coef_in_u + y_mean
    inverse_s = np.where(s > 1e-12, 1 / np.where(s > 1e-12, s, 1.0), 0.0)
    weights = np.swapaxes(vt, 1, 2) @ (coef_in_u * inverse_s[:, :, None])  # (B, d, C)
    return fitted, xs @ weights + y_mean
