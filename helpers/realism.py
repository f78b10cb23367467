"""Is the simulation realistic? Summary statistics of a session, beside ranges measured on real
Steinmetz sessions (chapter 1, ``book/simulation.md``).

:func:`session_statistics` measures a session the way ``REAL_DATA_RANGES`` was measured on real
sessions: on spike counts in a window after stimulus onset (0-0.4 s by default), in the book's
layout, trials first: ``window_counts(session)`` is ``(n_trials, n_neurons)``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import mannwhitneyu
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers.session import Session

__all__ = [
    "session_statistics", "window_counts", "realism_table", "REAL_DATA_RANGES",
    "STATISTIC_LABELS", "CO_SMOOTHING_TARGETS",
]

#: Ranges measured on a few real sessions (0-0.4 s after stimulus onset), (low, high). The
#: fraction correct reaches 0.75 because the real Lederberg 2017-12-05 (session 11) scores 0.738.
REAL_DATA_RANGES: dict[str, tuple[float, float]] = {
    "median_rate_hz": (0.9, 2.1),
    "fraction_below_1hz": (0.31, 0.52),
    "p90_rate_hz": (7.0, 10.0),
    "median_fano_factor": (1.5, 2.1),
    "median_pairwise_correlation": (0.0, 0.03),
    "fraction_stimulus_modulated": (0.07, 0.28),
    "fraction_correct": (0.63, 0.75),
    "outcome_balanced_accuracy_thal": (0.67, 0.72),
}

#: Chapter 2's co-smoothing ladder on real data, as calibration targets for the simulation:
#: name -> (low, high, real value). Measured on the visual cortex of Lederberg 2017-12-05
#: (session 11), neurons firing >= 1 spike/s (63 of 145), chapter 2's split (20 % test trials,
#: half the neurons held out, seed 2021) and recommended RNN, whole trials, held-out bits/spike.
#: Real: RNN 0.386 [0.341, 0.429], smoothing + GLM 0.246, condition PSTH 0.181, constant-rate
#: null -0.009; RNN / smoothing 1.57 [1.47, 1.68]. The true rates are unknown on real data; the
#: oracle target asks the simulation to leave the RNN clear headroom (a real RNN must not beat
#: the simulated truth). Ranges are the real value's interval, widened for seed-to-seed spread.
#: ``benchmarks/surrogate_statistics.py`` measures them; ``book/simulation.md`` reports them.
CO_SMOOTHING_TARGETS: dict[str, tuple[float, float, float]] = {
    "rnn_bps": (0.30, 0.50, 0.386),
    "smoothing_bps": (0.18, 0.32, 0.246),
    "psth_bps": (0.10, 0.25, 0.181),
    "oracle_bps": (0.45, 1.00, float("nan")),
    "rnn_over_smoothing": (1.40, 1.60, 1.57),
    "psth_over_smoothing": (0.50, 0.90, 0.73),
}

#: A readable label for each statistic, for tables.
STATISTIC_LABELS: dict[str, str] = {
    "median_rate_hz": "median rate (spikes/s)",
    "fraction_below_1hz": "fraction of neurons < 1 spike/s",
    "p90_rate_hz": "90th percentile rate (spikes/s)",
    "median_fano_factor": "median Fano factor of trial counts",
    "median_pairwise_correlation": "median pairwise count correlation",
    "fraction_stimulus_modulated": "fraction stimulus-modulated (p < .05)",
    "fraction_correct": "fraction of trials correct",
    "outcome_balanced_accuracy_thal": "outcome decoding from thalamus (bal. acc.)",
}

_MIN_TRIALS_PER_GROUP = 5


def window_counts(session: Session, window: tuple[float, float] = (0.0, 0.4)) -> np.ndarray:
    """Spike counts per trial and neuron in a window, ``(n_trials, n_neurons)`` int64.

    Args:
        session: the session.
        window: (start, end) in seconds relative to stimulus onset; bins whose centre lies in
            ``[start, end)`` are summed (see :meth:`~helpers.session.Session.window`).
    """
    return session.window(*window).spikes.sum(axis=2, dtype=np.int64).T


def session_statistics(
    session: Session, window: tuple[float, float] = (0.0, 0.4)
) -> dict[str, float]:
    """The statistics of :data:`REAL_DATA_RANGES`, measured on one session.

    All use ``counts = window_counts(session, window)``, shape ``(n_trials, n_neurons)``:

    - rates: ``counts.mean(trials) / window length`` in spikes/s; their median, the fraction
      below 1 spike/s and the 90th percentile over neurons.
    - ``median_fano_factor``: per neuron, ``var(counts, ddof=1) / mean(counts)`` over all
      trials (not condition-matched), median over neurons with a non-zero mean.
    - ``median_pairwise_correlation``: Pearson correlation of counts across trials for every
      pair of neurons with non-zero variance, median over pairs.
    - ``fraction_stimulus_modulated``: fraction of neurons whose counts differ between trials
      with a stimulus on either side and trials with both sides blank (two-sided Mann-Whitney
      U, p < 0.05, no correction: about 5 % by chance alone). NaN with < 5 trials in a group.
    - ``fraction_correct``: mean of ``feedback_type == 1``.
    - ``outcome_balanced_accuracy_thal``: balanced accuracy of predicting ``feedback_type``
      from thalamus counts by L2 logistic regression (z-scored counts, ``C=0.05``, balanced
      class weights), 5-fold stratified cross-validation (shuffled, ``random_state=0``).
      NaN without thalamus neurons or with < 5 trials in a class.

    Args:
        session: a real or simulated session.
        window: (start, end) in seconds relative to stimulus onset.

    Returns:
        Statistic name -> value, keys as in :data:`REAL_DATA_RANGES`.
    """
    counts = window_counts(session, window)
    rates_hz = counts.mean(axis=0) / (window[1] - window[0])
    return {
        "median_rate_hz": float(np.median(rates_hz)),
        "fraction_below_1hz": float(np.mean(rates_hz < 1.0)),
        "p90_rate_hz": float(np.percentile(rates_hz, 90)),
        "median_fano_factor": median_fano_factor(counts),
        "median_pairwise_correlation": median_pairwise_correlation(counts),
        "fraction_stimulus_modulated": fraction_stimulus_modulated(counts, session),
        "fraction_correct": float(np.mean(session.is_correct)),
        "outcome_balanced_accuracy_thal": outcome_decoding_accuracy(counts, session),
    }


def realism_table(session: Session, window: tuple[float, float] = (0.0, 0.4)):
    """:func:`session_statistics` beside :data:`REAL_DATA_RANGES`: a ``pandas.DataFrame`` indexed
    by the readable labels of :data:`STATISTIC_LABELS`, with the columns ``this session``,
    ``real low``, ``real high`` and ``inside`` (bool)."""
    import pandas as pd

    table = pd.DataFrame({
        "this session": session_statistics(session, window),
        "real low": {name: low for name, (low, _) in REAL_DATA_RANGES.items()},
        "real high": {name: high for name, (_, high) in REAL_DATA_RANGES.items()},
    })
    table["inside"] = table["this session"].between(table["real low"], table["real high"])
    return table.rename(index=STATISTIC_LABELS)


def median_fano_factor(counts: np.ndarray) -> float:
    """Median over neurons (non-zero mean) of ``var(ddof=1) / mean`` over trials of
    ``counts`` ``(n_trials, n_neurons)``."""
    mean = counts.mean(axis=0)
    active = mean > 0
    if not active.any():
        return float("nan")
    fano = counts[:, active].var(axis=0, ddof=1) / mean[active]
    return float(np.median(fano))


def median_pairwise_correlation(counts: np.ndarray) -> float:
    """Median Pearson correlation across trials over pairs of neurons with non-zero variance;
    ``counts`` ``(n_trials, n_neurons)``."""
    varying = counts.std(axis=0) > 0
    if varying.sum() < 2:
        return float("nan")
    correlation = np.corrcoef(counts[:, varying].T.astype(np.float64))
    return float(np.median(correlation[np.triu_indices_from(correlation, k=1)]))


def fraction_stimulus_modulated(counts: np.ndarray, session: Session) -> float:
    """Fraction of neurons with different counts on stimulus vs blank trials (Mann-Whitney U);
    ``counts`` ``(n_trials, n_neurons)``."""
    stimulus = (session.contrast_left > 0) | (session.contrast_right > 0)
    if min(stimulus.sum(), (~stimulus).sum()) < _MIN_TRIALS_PER_GROUP:
        return float("nan")
    varying = counts.std(axis=0) > 0
    p_values = np.ones(counts.shape[1])
    if varying.any():
        result = mannwhitneyu(counts[stimulus][:, varying], counts[~stimulus][:, varying],
                              axis=0, alternative="two-sided")
        p_values[varying] = result.pvalue
    return float(np.mean(p_values < 0.05))


def outcome_decoding_accuracy(counts: np.ndarray, session: Session, n_folds: int = 5) -> float:
    """Cross-validated balanced accuracy of decoding the outcome from thalamus counts
    ``(n_trials, n_neurons)``."""
    thalamus = session.region == "thal"
    outcome = session.is_correct
    if not thalamus.any() or min(outcome.sum(), (~outcome).sum()) < _MIN_TRIALS_PER_GROUP:
        return float("nan")
    features = counts[:, thalamus].astype(np.float64)  # (n_trials, n_thalamus)
    decoder = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=0.05, class_weight="balanced", max_iter=2000),
    )
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=0)
    predicted = cross_val_predict(decoder, features, outcome, cv=folds)
    return float(balanced_accuracy_score(outcome, predicted))
