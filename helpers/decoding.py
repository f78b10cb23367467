"""What a representation of the spikes encodes: time-resolved decoding of task variables and
linear comparisons between latent spaces (chapter 5).

A *representation* is any array in the models' layout ``(n_trials, n_bins, n_features)``: the
factors of a :class:`~helpers.models.LatentRNN`, smoothed spikes, their principal components.

- :data:`VARIABLES`, :func:`trial_variable`: the task variables (stimulus side, contrast
  difference, choice, movement, wheel speed, outcome) of a session, with clear errors for
  what a session lacks.
- :func:`causal_smooth`, :func:`pca_trajectories`: the simpler representations a latent model
  must beat, computed without looking into the future or at test trials.
- :func:`align_to_event`: re-cut trials around a per-trial event (e.g. movement onset).
- :func:`decode_over_time`: one cross-validated linear decoder per time bin, with intervals
  and a shuffled-label null; :func:`first_decodable_time` reads when a variable appears.
- :func:`linear_r2`, :func:`compare_latents`: cross-validated linear R² from one latent space
  to another, both ways (learned -> true and true -> learned), and between training seeds.

All decoders are ridge regressions (a closed form per bin, the penalty chosen per bin by
leave-one-out error within the training trials), so hundreds of them run in a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.metrics import cv_confidence_interval
from helpers.session import Session
from helpers.splits import check_labels, make_folds

__all__ = [
    "VARIABLES", "trial_variable", "causal_smooth", "pca_trajectories", "align_to_event",
    "decode_over_time", "first_decodable_time", "linear_r2", "LatentComparison",
    "compare_latents", "ALPHAS",
]

#: The variables :func:`trial_variable` knows: name -> (kind, meaning). ``classification``
#: variables are 0/1 per trial (scored by balanced accuracy, chance 0.5); ``regression``
#: variables are numbers (scored by R², chance 0).
VARIABLES: dict[str, tuple[str, str]] = {
    "stimulus side": ("classification", "1 right contrast higher, 0 left higher (equal: left out)"),
    "contrast difference": ("regression", "contrast right - contrast left, per trial"),
    "choice": ("classification", "1 right, 0 left (no-go trials left out)"),
    "movement": ("classification", "1 the mouse turned the wheel to answer, 0 no-go"),
    "wheel speed": ("regression", "|wheel velocity| in every bin (needs a wheel trace)"),
    "outcome": ("classification", "1 rewarded, 0 not"),
}

#: Ridge penalties tried for every decoder (on standardised features).
ALPHAS: tuple[float, ...] = tuple(np.logspace(-2, 4, 7).tolist())


# =============================================================================================
# Task variables
# =============================================================================================
def trial_variable(session: Session, name: str, *, bin_width: float | None = None
                   ) -> np.ndarray:
    """One task variable of every trial, NaN where it is undefined.

    Args:
        session: the session (already windowed for ``"wheel speed"``).
        name: a key of :data:`VARIABLES`.
        bin_width: for ``"wheel speed"``, the bins of the representation it is decoded from
            (seconds, see :meth:`~helpers.session.Session.behaviour_by_trial`).

    Returns:
        ``(n_trials,)`` floats, or ``(n_trials, n_bins)`` for ``"wheel speed"``.

    Raises:
        ValueError: an unknown name, or a variable the session cannot provide (no responses,
            no wheel trace): the message names what is missing.
    """
    if name not in VARIABLES:
        raise ValueError(f"Unknown variable {name!r}; choose from {list(VARIABLES)}.")
    left, right = session.contrast_left, session.contrast_right
    if name == "stimulus side":
        return np.where(right > left, 1.0, np.where(left > right, 0.0, np.nan))
    if name == "contrast difference":
        return (right - left).astype(float)
    if name == "outcome":
        return session.is_correct.astype(float)
    if name == "wheel speed":
        if "wheel" not in session.behaviour:
            raise ValueError(f"Cannot decode 'wheel speed': session {session.name} "
                             f"({session.source}) has no wheel trace (behaviour it carries: "
                             f"{sorted(session.behaviour) or 'none'}).")
        return np.abs(session.behaviour_by_trial("wheel", bin_width)).astype(float)
    if session.response is None:
        raise ValueError(f"Cannot decode {name!r}: session {session.name} has no responses "
                         "(session.response is None).")
    if name == "choice":
        return np.where(session.response == -1, 1.0,
                        np.where(session.response == 1, 0.0, np.nan))
    return (session.response != 0).astype(float)  # movement


# =============================================================================================
# Simpler representations
# =============================================================================================
def causal_smooth(spikes: np.ndarray, tau_bins: float = 1.0) -> np.ndarray:
    """``log(1 + counts)`` smoothed by a causal exponential filter along time (axis 1): each
    bin mixes only itself and earlier bins, as a causal model's state does.

    Args:
        spikes: counts ``(n_trials, n_bins, n_neurons)``.
        tau_bins: time constant of the filter in bins (0: no smoothing).

    Returns:
        float64, same shape.
    """
    spikes = np.asarray(spikes, dtype=np.float64)
    if spikes.ndim != 3:
        raise ValueError(f"spikes must be (n_trials, n_bins, n_neurons), got {spikes.shape}.")
    if not tau_bins >= 0:
        raise ValueError(f"tau_bins must be >= 0, got {tau_bins!r}.")
    values = np.log1p(spikes)
    if tau_bins == 0:
        return values
    decay = np.exp(-1.0 / tau_bins)
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


def align_to_event(values: np.ndarray, time: np.ndarray, event_times: np.ndarray,
                   window: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-cut every trial around its own event, e.g. movement onset.

    Args:
        values: ``(n_trials, n_bins, ...)``, bins centred at ``time``.
        time: bin centres in seconds from stimulus onset, ``(n_bins,)``.
        event_times: the event of each trial in seconds from stimulus onset, ``(n_trials,)``;
            NaN where there is none (such trials are left out).
        window: ``(start, end)`` in seconds relative to the event.

    Returns:
        ``(aligned, kept, relative_time)``: ``aligned`` ``(n_kept, n_window_bins, ...)``,
        ``kept`` a boolean mask ``(n_trials,)`` of the trials whose whole window lies inside
        the recorded bins, and the bin centres relative to the event.

    Raises:
        ValueError: ``end <= start``, shapes that disagree, or no trial whose window fits
            (the message gives the available range).
    """
    values, time = np.asarray(values), np.asarray(time, dtype=float)
    event_times = np.asarray(event_times, dtype=float)
    start, end = window
    if not end > start:
        raise ValueError(f"A window needs end > start (seconds), got {window}.")
    if values.shape[:2] != (len(event_times), len(time)):
        raise ValueError(f"values {values.shape[:2]} must be (n_trials, n_bins) = "
                         f"({len(event_times)}, {len(time)}).")
    step = float(np.median(np.diff(time))) if len(time) > 1 else 1.0
    offsets = np.arange(int(np.round(start / step)), int(np.round(end / step)))
    if len(offsets) == 0:
        raise ValueError(f"The window {window} s is shorter than one bin ({step:g} s).")
    finite = np.isfinite(event_times)
    anchor = np.full(len(event_times), -1)
    edges = time - step / 2 - 1e-9  # an event on an edge belongs to the bin that starts there
    anchor[finite] = np.searchsorted(edges, event_times[finite], side="right") - 1
    first, last = anchor + offsets[0], anchor + offsets[-1]
    kept = finite & (anchor >= 0) & (first >= 0) & (last < len(time))
    if not kept.any():
        low, high = time[0] - step / 2, time[-1] + step / 2
        events = event_times[finite]
        if len(events) == 0:
            raise ValueError("No trial has an event (all event times are NaN): nothing to "
                             "align to.")
        raise ValueError(
            f"No trial has the window [{start}, {end}) s around its event inside the recorded "
            f"bins ({low:.2f} to {high:.2f} s from stimulus onset; events fall at "
            f"{events.min():.2f} to {events.max():.2f} s): windows from {low - events.min():.2f}"
            f" s to {high - events.max():.2f} s around the event fit every trial.")
    index = anchor[kept][:, None] + offsets[None, :]
    aligned = values[np.flatnonzero(kept)[:, None], index]
    return aligned, kept, (offsets + 0.5) * step


# =============================================================================================
# Ridge, vectorised over bins and target columns
# =============================================================================================
def _as_features(name: str, features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 3:
        raise ValueError(f"{name} must be (n_trials, n_bins, n_features), got shape "
                         f"{features.shape}.")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{name} contains NaN or inf.")
    return features


def _ridge(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
           alphas: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Ridge fits, one per batch entry and target column, the penalty of each chosen by
    leave-one-out error on the training rows.

    Args:
        x_train: ``(batch, n_train, n_features)``; x_test: ``(batch, n_test, n_features)``.
        y_train: ``(batch, n_train, n_columns)``.

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
    predicted = xs @ weights + y_mean
    return fitted, predicted


def _balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present; labels, predicted ``(B, n, C)`` in {0, 1}."""
    recalls = []
    for value in (0, 1):
        members = labels == value
        count = members.sum(axis=1)
        hits = (members & (predicted == value)).sum(axis=1)
        recalls.append(np.where(count > 0, hits / np.maximum(count, 1), np.nan))
    return np.nanmean(np.stack(recalls), axis=0)


def _r2(target: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """R² per batch entry and column over the rows: ``(B, n, C)`` -> ``(B, C)``."""
    residual = ((target - predicted) ** 2).sum(axis=1)
    total = ((target - target.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    return 1 - residual / np.where(total > 0, total, np.nan)


# =============================================================================================
# Time-resolved decoding
# =============================================================================================
def decode_over_time(features: np.ndarray, target: np.ndarray, *, kind: str | None = None,
                     time: np.ndarray | None = None, model: str = "features",
                     n_splits: int = 5, n_shuffles: int = 20, seed: int = 0,
                     alphas: tuple[float, ...] = ALPHAS):
    """Decode a variable from a representation, separately in every time bin, on held-out
    trials, with a confidence interval and a shuffled-label null.

    The same stratified folds serve every bin. In each bin a ridge regression (penalty chosen
    by leave-one-out error on the training trials) maps the standardised features to the
    target; a classification predicts the class whose training-mean score is nearer (equal
    priors, so it suits balanced accuracy). The null repeats everything with the target
    permuted across trials (the same permutation in every bin).

    Args:
        features: ``(n_trials, n_bins, n_features)``.
        target: ``(n_trials,)`` per-trial values or ``(n_trials, n_bins)`` per-bin values (as
            from :func:`trial_variable`); trials with a NaN are left out.
        kind: ``"classification"`` (0/1 targets, balanced accuracy) or ``"regression"`` (R²);
            ``None``: classification when the target is 0/1 only.
        time: bin centres in seconds (default: bin indices), copied into the table.
        model: identifier written in the table's ``model`` column (e.g. ``"latents"``).
        n_splits: cross-validation folds.
        n_shuffles: label permutations for the null (0: no null).
        seed: seeds folds and permutations.
        alphas: ridge penalties to choose from.

    Returns:
        A ``pandas.DataFrame``, one row per bin: ``model``, ``time``, ``score``, ``low``,
        ``high`` (95 % corrected-resampled-t interval over folds), ``interval``, ``metric``,
        ``null_mean``, ``null_high`` (95th percentile of the shuffled scores) and
        ``n_trials``.

    Raises:
        ValueError: shapes that disagree, too few trials, or a class with too few trials for
            the folds (the error of :func:`helpers.splits.check_labels`).
    """
    import pandas as pd
    from sklearn.model_selection import KFold

    features = _as_features("features", features)
    target = np.asarray(target, dtype=float)
    n_trials, n_bins, _ = features.shape
    if target.shape not in ((n_trials,), (n_trials, n_bins)):
        raise ValueError(f"target must be ({n_trials},) or ({n_trials}, {n_bins}) to match the "
                         f"features {features.shape}, got {target.shape}.")
    valid = np.isfinite(target) if target.ndim == 1 else np.isfinite(target).all(axis=1)
    features, target = features[valid], target[valid]
    if kind is None:
        kind = "classification" if np.isin(target, (0, 1)).all() else "regression"
    if kind not in ("classification", "regression"):
        raise ValueError(f"kind must be 'classification' or 'regression', got {kind!r}.")
    if len(target) < 2 * n_splits:
        raise ValueError(f"Only {len(target)} trials have this variable: too few for "
                         f"{n_splits}-fold cross-validation.")
    rng = np.random.default_rng(seed)
    if kind == "classification":
        labels = check_labels(target, n_splits)
        folds = make_folds(labels, n_splits=n_splits, n_repeats=1, seed=seed)
    else:
        folds = list(KFold(n_splits, shuffle=True, random_state=seed).split(target))
    orders = [np.arange(len(target))] + [rng.permutation(len(target)) for _ in range(n_shuffles)]
    per_bin = target.ndim == 2
    columns = np.stack([target[order] for order in orders], axis=-1)  # (n, [bins,] C)
    columns = columns.transpose(1, 0, 2) if per_bin else np.broadcast_to(
        columns[None], (n_bins, *columns.shape))  # (B, n, C)
    x = features.transpose(1, 0, 2)  # (B, n, d)
    scores = []
    for train, test in folds:
        fitted, predicted = _ridge(x[:, train], columns[:, train], x[:, test], alphas)
        if kind == "classification":
            y_train, y_test = columns[:, train], columns[:, test]
            mean1 = _masked_mean(fitted, y_train == 1)
            mean0 = _masked_mean(fitted, y_train == 0)
            sign = np.where(mean1 >= mean0, 1.0, -1.0)[:, None, :]
            decided = (sign * (predicted - ((mean0 + mean1) / 2)[:, None, :]) > 0)
            scores.append(_balanced_accuracy(y_test, decided.astype(float)))
        else:
            scores.append(_r2(columns[:, test], predicted))
    scores = np.stack(scores)  # (folds, B, C)
    metric = "balanced accuracy" if kind == "classification" else "R²"
    rows = []
    times = np.arange(n_bins, dtype=float) if time is None else np.asarray(time, dtype=float)
    for b in range(n_bins):
        score, low, high = cv_confidence_interval(scores[:, b, 0], test_fraction=1 / n_splits)
        null = scores[:, b, 1:].mean(axis=0)
        rows.append({"model": model, "time": float(times[b]), "score": score, "low": low,
                     "high": high, "interval": f"95% corrected t over {len(folds)} folds",
                     "metric": metric,
                     "null_mean": float(null.mean()) if len(null) else np.nan,
                     "null_high": float(np.percentile(null, 95)) if len(null) else np.nan,
                     "n_trials": int(len(target))})
    return pd.DataFrame(rows)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over rows where ``mask``: ``(B, n, C)`` -> ``(B, C)``."""
    return (values * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)


def first_decodable_time(table, *, n_consecutive: int = 2) -> float:
    """The first time at which a decoding curve (from :func:`decode_over_time`) is above its
    shuffled-label null: the score above the null's 95th percentile (a permutation test at
    the 5 % level in that bin) in ``n_consecutive`` bins in a row. NaN if never."""
    above = (table["score"].to_numpy() > table["null_high"].to_numpy())
    times = table["time"].to_numpy()
    for start in range(len(above) - n_consecutive + 1):
        if above[start:start + n_consecutive].all():
            return float(times[start])
    return float("nan")


# =============================================================================================
# Comparing latent spaces
# =============================================================================================
def linear_r2(source: np.ndarray, target: np.ndarray, *, n_splits: int = 5, seed: int = 0,
              alphas: tuple[float, ...] = ALPHAS) -> np.ndarray:
    """How well a linear map of ``source`` predicts each dimension of ``target`` on held-out
    trials: cross-validated R² per target dimension.

    Folds split trials (never bins of one trial), a ridge map (with intercept, penalty chosen
    by leave-one-out error on the training bins) is fitted on the training trials' bins, and
    R² is computed on all held-out predictions pooled. Near 1: the target is a linear function
    of the source; near or below 0: it is not.

    Args:
        source: ``(n_trials, n_bins, n_source)``.
        target: ``(n_trials, n_bins, n_target)``, the same trials and bins.

    Returns:
        R² per target dimension, ``(n_target,)``.
    """
    from sklearn.model_selection import KFold

    source, target = _as_features("source", source), _as_features("target", target)
    if source.shape[:2] != target.shape[:2]:
        raise ValueError(f"source {source.shape[:2]} and target {target.shape[:2]} must share "
                         "(n_trials, n_bins).")
    if len(source) < n_splits:
        raise ValueError(f"need at least {n_splits} trials, got {len(source)}.")
    predicted = np.empty_like(target)
    for train, test in KFold(n_splits, shuffle=True, random_state=seed).split(source):
        flat = [a.reshape(1, -1, a.shape[-1]) for a in (source[train], target[train],
                                                        source[test])]
        _, guess = _ridge(flat[0], flat[1], flat[2], alphas)
        predicted[test] = guess.reshape(len(test), *target.shape[1:])
    flat_target = target.reshape(-1, target.shape[-1])
    residual = ((flat_target - predicted.reshape(flat_target.shape)) ** 2).sum(axis=0)
    total = ((flat_target - flat_target.mean(axis=0)) ** 2).sum(axis=0)
    return 1 - residual / np.where(total > 0, total, np.nan)


@dataclass(frozen=True)
class LatentComparison:
    """Learned and true latents compared both ways (:func:`compare_latents`).

    Attributes:
        to_true: R² of each true latent predicted from the learned ones (``pandas.Series``
            indexed by the true latents' names): what the model recovered.
        to_learned: R² of each learned dimension predicted from the true latents (indexed
            ``factor 1`` ...): low values flag dimensions the truth does not explain.
    """

    to_true: object
    to_learned: object

    def extra_dimensions(self) -> list[str]:
        """The learned dimensions the true latents explain poorly (R² < 0.5)."""
        return [name for name, r2 in self.to_learned.items() if not r2 >= 0.5]

    def recovered(self, threshold: float = 0.5) -> list[str]:
        """The true latents predicted from the learned ones with R² >= ``threshold``."""
        return [name for name, r2 in self.to_true.items() if r2 >= threshold]

    def summary(self) -> str:
        """One short line: how many true latents were recovered (R² >= 0.5), the median R² of
        the factors from the truth, and the poorly explained factors (by number)."""
        extra = [name.split()[-1] for name in self.extra_dimensions()]
        return (f"{len(self.recovered())} of {len(self.to_true)} true latents recovered; "
                f"median R² true -> learned {np.nanmedian(self.to_learned):.2f}; "
                f"factors with R² < 0.5: {', '.join(extra) or 'none'}")


def compare_latents(learned: np.ndarray, true: np.ndarray, names: tuple[str, ...] | None = None,
                    *, n_splits: int = 5, seed: int = 0) -> LatentComparison:
    """Compare learned latents with the true ones both ways, with :func:`linear_r2`.

    Args:
        learned: ``(n_trials, n_bins, n_factors)``, e.g. a model's factors.
        true: ``(n_trials, n_bins, n_latents)``, e.g. ``session.latents_by_trial(bin_width)``.
        names: names of the true latents (default ``latent 1`` ...).

    Returns:
        A :class:`LatentComparison`.
    """
    import pandas as pd

    true = _as_features("true", true)
    names = names or tuple(f"latent {i + 1}" for i in range(true.shape[-1]))
    if len(names) != true.shape[-1]:
        raise ValueError(f"{len(names)} names for {true.shape[-1]} true latents.")
    to_true = linear_r2(learned, true, n_splits=n_splits, seed=seed)
    to_learned = linear_r2(true, learned, n_splits=n_splits, seed=seed)
    return LatentComparison(
        to_true=pd.Series(to_true, index=list(names), name="R² learned -> true"),
        to_learned=pd.Series(to_learned, index=[f"factor {i + 1}" for i in
                                                range(len(to_learned))],
                             name="R² true -> learned"))
