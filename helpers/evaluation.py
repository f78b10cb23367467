"""Predictions -> one tidy table of scores with intervals, the same columns in every chapter.

Rate models are scored like the field does, by co-smoothing (Neural Latents Benchmark): the
neurons are split into *held-in* neurons, whose spikes the model sees, and *held-out* neurons,
whose rates it must predict; the trials into training and test trials
(:func:`helpers.splits.co_smoothing_split`). A model learns held-in -> held-out on training
trials and is scored on test trials, where it never saw the held-out neurons' spikes.

Every table (:func:`score_table`) is indexed by a model *identifier* (``"rnn"``,
``"smoothing"``, ...) and has the columns ``label`` (for display, from :data:`LABELS`),
``metric``, ``score``, ``low``, ``high`` and ``interval`` (how the interval was computed).
"""

from __future__ import annotations

import numpy as np

from helpers.inference import bootstrap_summary, bootstrap_weights
from helpers.metrics import poisson_log_likelihood, pseudo_r2

__all__ = ["LABELS", "score_table", "gain_per_trial", "score_rates", "score_gains", "relation",
           "hierarchical_summary"]

#: Display names of the models and baselines the book scores, by identifier.
LABELS: dict[str, str] = {
    "rnn": "RNN", "course": "course recipe", "null": "constant-rate null",
    "psth": "condition PSTH", "smoothing": "smoothing + GLM", "oracle": "true rates (oracle)",
    "logistic": "logistic regression", "majority": "majority class",
    "best achievable": "best achievable (true p_correct)",
    "glm": "Poisson GLM, lagged source", "ridge": "ridge, lagged source",
    "rrr": "reduced-rank regression", "rnn causal": "RNN, causal",
    "rnn bidirectional": "RNN, bidirectional", "shuffle": "trial-shuffle control",
    "within": "within-region reference", "both": "source + target held-in",
    "behaviour": "behaviour (wheel) baseline", "past": "past lags only",
    "past + future": "past and future lags",
}


def score_table(intervals: dict[str, tuple[float, float, float]], *, metric: str, interval: str,
                extra: dict[str, dict[str, float]] | None = None):
    """The book's score table.

    Args:
        intervals: model identifier -> ``(score, low, high)``.
        metric: what the score is, e.g. ``"bits/spike"``.
        interval: how ``low``/``high`` were computed, e.g. ``"95% bootstrap over test trials"``.
        extra: more columns: column name -> {model identifier -> value}.

    Returns:
        A ``pandas.DataFrame`` indexed by ``model`` with the columns ``label``, ``metric``,
        ``score``, ``low``, ``high``, ``interval`` and then those of ``extra``.
    """
    import pandas as pd

    if not intervals:
        raise ValueError("score_table needs at least one model: intervals is empty.")
    rows = [{"model": model, "label": LABELS.get(model, model), "metric": metric, "score": score,
             "low": low, "high": high, "interval": interval,
             **{column: values.get(model, np.nan) for column, values in (extra or {}).items()}}
            for model, (score, low, high) in intervals.items()]
    return pd.DataFrame(rows).set_index("model")


# ------------------------------------------------------------------------------ scoring
def gain_per_trial(rates: np.ndarray, spikes: np.ndarray) -> np.ndarray:
    """Log-likelihood gain over the null (each neuron's mean over all test trials and bins), in
    nats, summed over bins and neurons: ``(n_trials,)``."""
    null = np.broadcast_to(spikes.mean(axis=(0, 1)), spikes.shape)
    gain = poisson_log_likelihood(rates, spikes) - poisson_log_likelihood(null, spikes)
    return gain.sum(axis=(1, 2))


def score_rates(predictions: dict[str, np.ndarray], spikes: np.ndarray, *,
                reference: str | None = None, oracle: str | None = None,
                n_boot: int = 1000, seed: int = 0):
    """Bits per spike and pseudo-R² of several predictions of the same test spikes.

    Uncertainty: a bootstrap over test trials (resampled with replacement, the same resamples
    for every model, so that ratios between models are paired); intervals are 2.5-97.5 %
    percentiles. The null model of bits per spike (each neuron's mean over all test trials) is
    held fixed across resamples, so the point estimate is exactly :func:`bits_per_spike`.

    Args:
        predictions: name -> rates ``(n_trials, n_bins, n_neurons)`` in spikes per bin.
        spikes: the observed test counts, same shape.
        reference: a name in ``predictions`` (e.g. the smoothing baseline) to report
            ``ratio = bps / bps(reference)`` for.
        oracle: a name in ``predictions`` holding the true rates (simulated data) to report
            ``fraction_of_oracle = bps / bps(oracle)`` for.
        n_boot: bootstrap resamples.
        seed: seeds the resampling.

    Returns:
        A :func:`score_table` of bits/spike, with the extra columns ``median_pseudo_r2`` and,
        when asked for, ``ratio``, ``ratio_low``, ``ratio_high`` (to ``reference``) and
        ``fraction_of_oracle``.
    """
    spikes = np.asarray(spikes, dtype=np.float64)
    if spikes.ndim != 3:
        raise ValueError(f"spikes must be the test counts in the models' layout (n_trials, "
                         f"n_bins, n_neurons), got shape {spikes.shape}.")
    if not predictions:
        raise ValueError("score_rates needs at least one prediction: predictions is empty.")
    for name in (reference, oracle):
        if name is not None and name not in predictions:
            raise KeyError(f"{name!r} is not among the predictions {list(predictions)}.")
    n_trials = len(spikes)
    rng = np.random.default_rng(seed)
    weights = np.vstack([np.ones(n_trials),
                         rng.multinomial(n_trials, np.full(n_trials, 1 / n_trials), size=n_boot)])
    spikes_per_resample = weights @ spikes.sum(axis=(1, 2)) * np.log(2)
    boot = {}
    for name, rates in predictions.items():
        rates = np.asarray(rates, dtype=np.float64)
        if rates.shape != spikes.shape:
            raise ValueError(f"{name}: rates {rates.shape} but spikes {spikes.shape}.")
        boot[name] = weights @ gain_per_trial(rates, spikes) / spikes_per_resample
    intervals = {name: _summary(values) for name, values in boot.items()}
    extra = {"median_pseudo_r2": {name: float(np.nanmedian(pseudo_r2(rates, spikes)))
                                  for name, rates in predictions.items()}}
    if reference is not None:
        ratios = {name: _summary(values / boot[reference]) for name, values in boot.items()}
        for column, position in (("ratio", 0), ("ratio_low", 1), ("ratio_high", 2)):
            extra[column] = {name: ratio[position] for name, ratio in ratios.items()}
    if oracle is not None:
        extra["fraction_of_oracle"] = {name: float(values[0] / boot[oracle][0])
                                       for name, values in boot.items()}
    return score_table(intervals, metric="bits/spike",
                       interval="95% bootstrap over test trials", extra=extra)


def score_gains(predictions: dict[str, np.ndarray], spikes: np.ndarray, *, reference: str,
                n_boot: int = 1000, seed: int = 0):
    """Gain in bits per spike of each prediction over ``reference``, with paired intervals.

    A bootstrap over test trials (the same resamples as :func:`score_rates` for the same
    ``seed``): each resample's gain is ``bps(model) - bps(reference)`` on that resample, so the
    interval accounts for the two models being scored on the same trials.

    A prediction may also be a stack of *draws* ``(n_draws, n_trials, n_bins, n_neurons)``,
    e.g. a shuffle control refitted on 20 permutations: its point estimate is the mean over
    draws, and each bootstrap resample scores one draw picked at random (the same draw for every
    stacked prediction), so the spread between draws is inside the interval.

    Args:
        predictions: name -> rates ``(n_trials, n_bins, n_neurons)`` (or draws of them),
            including ``reference``.
        spikes: the observed test counts ``(n_trials, n_bins, n_neurons)``.
        reference: the name of the prediction to subtract (e.g. ``"psth"``, ``"shuffle"``).
        n_boot: bootstrap resamples.
        seed: seeds the resampling.

    Returns:
        A :func:`score_table` of gains (metric ``"bits/spike gain over <reference>"``), without
        the reference's own row, and the column ``p_gain``: the one-sided bootstrap p-value of
        a gain <= 0 (for a correction over many pairs, e.g. :func:`helpers.inference.holm`).
    """
    if reference not in predictions:
        raise KeyError(f"{reference!r} is not among the predictions {list(predictions)}.")
    spikes = np.asarray(spikes, dtype=np.float64)
    if spikes.ndim != 3:
        raise ValueError(f"spikes must be the test counts in the models' layout (n_trials, "
                         f"n_bins, n_neurons), got shape {spikes.shape}.")
    if len(predictions) < 2:
        raise ValueError("score_gains needs a prediction besides the reference.")
    weights = bootstrap_weights(len(spikes), n_boot, seed)
    per_spike = weights @ spikes.sum(axis=(1, 2)) * np.log(2)
    draw = np.random.default_rng([seed, 1]).integers(0, 2**31, size=len(weights))

    def boot(name: str) -> np.ndarray:
        rates = np.asarray(predictions[name], dtype=np.float64)
        stacked = rates if rates.ndim == 4 else rates[None]
        if stacked.shape[1:] != spikes.shape:
            raise ValueError(f"{name}: rates {rates.shape} but spikes {spikes.shape} (or "
                             "(n_draws, *spikes.shape) for draws of a control).")
        gains = np.stack([gain_per_trial(r, spikes) for r in stacked])  # (n_draws, n_trials)
        chosen = gains[draw % len(gains)]
        chosen[0] = gains.mean(axis=0)  # the point estimate: the mean over draws
        return (weights * chosen).sum(axis=1) / per_spike

    base = boot(reference)
    gains = {name: boot(name) - base for name in predictions if name != reference}
    p_values = {name: float((1 + np.sum(g[1:] <= 0)) / len(g)) for name, g in gains.items()}
    return score_table({name: bootstrap_summary(g) for name, g in gains.items()},
                       metric=f"bits/spike gain over {reference}",
                       interval="95% paired bootstrap over test trials",
                       extra={"p_gain": p_values})


def _summary(values: np.ndarray) -> tuple[float, float, float]:
    """Point estimate (first entry: all trials once) and 95 % bootstrap interval."""
    low, high = np.percentile(values[1:], [2.5, 97.5])
    return float(values[0]), float(low), float(high)


def relation(low: float, high: float, reference: float) -> str:
    """Where an interval ``[low, high]`` lies relative to ``reference``, in words, for printed
    conclusions: ``"above 0"``, ``"below 1"`` or ``"overlaps 0.5"``."""
    if not low <= high:
        raise ValueError(f"need low <= high, got [{low}, {high}].")
    where = "above" if low > reference else "below" if high < reference else "overlaps"
    return f"{where} {reference:g}"


def hierarchical_summary(values: np.ndarray, mice: np.ndarray, *, n_boot: int = 1000,
                         seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Mean over mice of each mouse's mean over its sessions, with a hierarchical bootstrap
    interval (mice resampled, then sessions within each drawn mouse): sessions of one mouse are
    not independent, so pooling them as if they were gives too narrow an interval.

    Args:
        values: one estimate per session ``(n_sessions,)``, e.g. a pair's gain.
        mice: the mouse of each session ``(n_sessions,)``.

    Returns:
        ``(point, low, high)``; with a single session the interval is ``(nan, nan)``.
    """
    values, mice = np.asarray(values, dtype=float).ravel(), np.asarray(mice).ravel()
    if len(values) != len(mice) or len(values) == 0:
        raise ValueError(f"need one mouse per session value, got {len(values)} values and "
                         f"{len(mice)} mice.")
    if not np.all(np.isfinite(values)):
        raise ValueError("values contain NaN or inf: drop those sessions first.")
    groups = [values[mice == mouse] for mouse in np.unique(mice)]
    point = float(np.mean([g.mean() for g in groups]))
    if len(values) < 2:
        return point, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot + 1)
    draws[0] = point
    for b in range(1, n_boot + 1):
        chosen = rng.integers(len(groups), size=len(groups))
        draws[b] = np.mean([rng.choice(groups[i], size=len(groups[i])).mean() for i in chosen])
    return bootstrap_summary(draws, level)
