"""How two latent spaces relate: cross-validated linear maps between them, both ways (chapter 5).

A latent space is an array in the models' layout ``(n_trials, n_bins, n_dimensions)``: a
network's factors, a simulation's true latents, another training seed's factors.

- :func:`linear_r2`: how well a linear map of one space predicts each dimension of another on
  held-out trials (folds over trials, never over bins of one trial).
- :func:`compare_latents`: learned against true latents both ways (what was recovered, which
  learned dimensions the truth does not explain), as a :class:`LatentComparison`.
- :func:`trial_residuals`: the trial-to-trial part of a space (each bin's mean over trials
  removed), so that agreement is not the time course every trial shares.
- :func:`seed_agreement`: do the factors of several training seeds agree more than those of
  untrained (randomly initialised) networks do? Raw and on residuals, paired over trials.

Results follow the book's one schema (:func:`helpers.evaluation.score_table`): columns
``model``, ``metric``, ``score``, ``low``, ``high``, ``interval`` and then what is specific.
Intervals are percentile bootstraps over trials of the held-out predictions (the fitted maps
held fixed).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from helpers.inference import bootstrap_summary, bootstrap_weights, ridge_loo
from helpers.session import as_trials_first

__all__ = ["ALPHAS", "linear_r2", "LatentComparison", "compare_latents", "trial_residuals",
           "seed_agreement"]

#: Ridge penalties tried for every linear map (on standardised dimensions).
ALPHAS: tuple[float, ...] = tuple(np.logspace(-2, 4, 7).tolist())
_INTERVAL = "95% bootstrap over trials"


def _as_space(name: str, values: np.ndarray) -> np.ndarray:
    return as_trials_first(name, values, "n_dimensions")


def _heldout(source: np.ndarray, target: np.ndarray, n_splits: int, seed: int,
             alphas: tuple[float, ...]) -> np.ndarray:
    """Out-of-fold ridge predictions of ``target`` from ``source``, folds over trials."""
    from helpers.inference import shuffled_folds

    source, target = _as_space("source", source), _as_space("target", target)
    if source.shape[:2] != target.shape[:2]:
        raise ValueError(f"source {source.shape[:2]} and target {target.shape[:2]} must share "
                         "(n_trials, n_bins).")
    if len(source) < max(n_splits, 2):
        raise ValueError(f"need at least {max(n_splits, 2)} trials, got {len(source)}.")
    predicted = np.empty_like(target)
    for train, test in shuffled_folds(len(source), n_splits, seed):
        flat = [a.reshape(1, -1, a.shape[-1]) for a in (source[train], target[train],
                                                        source[test])]
        predicted[test] = ridge_loo(*flat, alphas)[1].reshape(len(test), *target.shape[1:])
    return predicted


def _resampled_r2(target: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """R² per dimension, pooled over bins, for each row of trial ``weights``:
    ``(n_boot + 1, n_dimensions)``."""
    n_bins = target.shape[1]
    residual = weights @ ((target - predicted) ** 2).sum(axis=1)
    total_n = weights.sum(axis=1, keepdims=True) * n_bins
    mean = weights @ target.sum(axis=1) / total_n
    spread = weights @ (target**2).sum(axis=1) - total_n * mean**2
    return 1 - residual / np.where(spread > 1e-12, spread, np.nan)


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
    predicted = _heldout(source, target, n_splits, seed, alphas)
    return _resampled_r2(np.asarray(target, float), predicted, np.ones((1, len(predicted))))[0]


def _r2_rows(target: np.ndarray, predicted: np.ndarray, names: list[str], *, model: str,
             direction: str, weights: np.ndarray) -> list[dict]:
    point, low, high = bootstrap_summary(_resampled_r2(target, predicted, weights))
    return [{"model": model, "metric": "cross-validated R²", "score": float(point[i]),
             "low": float(low[i]), "high": float(high[i]), "interval": _INTERVAL,
             "direction": direction, "dimension": name} for i, name in enumerate(names)]


@dataclass(frozen=True)
class LatentComparison:
    """Learned and true latents compared both ways (:func:`compare_latents`).

    Attributes:
        table: one row per dimension and direction in the book's schema: ``model``
            (``"latents"``), ``metric``, ``score``, ``low``, ``high``, ``interval``, then
            ``direction`` (``"learned -> true"``: each true latent predicted from the learned
            ones, what the model recovered; ``"true -> learned"``: each learned factor from the
            true latents, low values flag dimensions the truth does not explain) and
            ``dimension`` (the true latent's or the factor's name).
    """

    table: object

    def _scores(self, direction: str):
        rows = self.table[self.table["direction"] == direction]
        return rows.set_index("dimension")["score"].rename(f"R² {direction}")

    @property
    def to_true(self):
        """R² of each true latent from the learned ones (``pandas.Series`` by latent name)."""
        return self._scores("learned -> true")

    @property
    def to_learned(self):
        """R² of each learned factor from the true latents (``pandas.Series``, ``factor k``)."""
        return self._scores("true -> learned")

    def extra_dimensions(self, threshold: float = 0.5) -> list[str]:
        """The learned factors the true latents explain poorly (R² < ``threshold``)."""
        return [name for name, r2 in self.to_learned.items() if not r2 >= threshold]

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
                    *, n_splits: int = 5, n_boot: int = 500, seed: int = 0) -> LatentComparison:
    """Compare learned latents with the true ones both ways, with :func:`linear_r2`'s maps and
    a bootstrap over trials for each R².

    Args:
        learned: ``(n_trials, n_bins, n_factors)``, e.g. a model's factors.
        true: ``(n_trials, n_bins, n_latents)``, e.g. ``session.latents_by_trial(bin_width)``.
        names: names of the true latents (default ``latent 1`` ...).
        n_boot: bootstrap resamples of the trials.

    Returns:
        A :class:`LatentComparison`.
    """
    import pandas as pd

    learned, true = _as_space("learned", learned), _as_space("true", true)
    names = list(names or (f"latent {i + 1}" for i in range(true.shape[-1])))
    if len(names) != true.shape[-1]:
        raise ValueError(f"{len(names)} names for {true.shape[-1]} true latents.")
    weights = bootstrap_weights(len(true), n_boot, seed)
    factors = [f"factor {i + 1}" for i in range(learned.shape[-1])]
    rows = (_r2_rows(true, _heldout(learned, true, n_splits, seed, ALPHAS), names,
                     model="latents", direction="learned -> true", weights=weights)
            + _r2_rows(learned, _heldout(true, learned, n_splits, seed, ALPHAS), factors,
                       model="latents", direction="true -> learned", weights=weights))
    return LatentComparison(table=pd.DataFrame(rows))


def trial_residuals(values: np.ndarray) -> np.ndarray:
    """``values`` minus each bin's mean over trials: what varies from trial to trial.

    Two networks fed the same spikes share the time course common to all trials (stimulus
    onset, the average movement) almost whatever their weights; agreement on the residuals is
    agreement on what differs between trials.

    Args:
        values: ``(n_trials, n_bins, n_dimensions)``.
    """
    values = _as_space("values", values)
    return values - values.mean(axis=0, keepdims=True)


def _agreement(a: np.ndarray, b: np.ndarray, weights: np.ndarray, n_splits: int, seed: int
               ) -> np.ndarray:
    """Per bootstrap row: the mean over both directions of the median R² over dimensions."""
    forward = _resampled_r2(b, _heldout(a, b, n_splits, seed, ALPHAS), weights)
    backward = _resampled_r2(a, _heldout(b, a, n_splits, seed, ALPHAS), weights)
    return (np.nanmedian(forward, axis=1) + np.nanmedian(backward, axis=1)) / 2


def seed_agreement(trained: list[np.ndarray], untrained: list[np.ndarray], *,
                   n_splits: int = 5, n_boot: int = 500, seed: int = 0):
    """Do the factors of networks trained with different seeds agree (up to a linear map)
    more than those of untrained, randomly initialised networks given the same spikes?

    Agreement of two spaces: the median over dimensions of the cross-validated R² of one from
    the other, averaged over both directions, then averaged over all pairs of seeds. Untrained
    networks already agree a lot (both are fixed random functions of the same spikes), so only
    the excess of trained over untrained says that training found the *same* structure. Each is
    computed on the raw factors and on their :func:`trial_residuals`.

    Args:
        trained: factors of trained networks, each ``(n_trials, n_bins, n_factors)``, at
            least 2 (different seeds, same data).
        untrained: factors of untrained networks of the same architecture, at least 2.
        n_boot: bootstrap resamples of the trials (the same for every pair: paired).

    Returns:
        A table in the book's schema, one row per ``model`` (``"trained"``, ``"untrained"``,
        ``"trained - untrained"``) and ``values`` (``"raw"``, ``"trial residuals"``), with
        ``n_pairs``; the difference's interval is paired over trials.
    """
    import pandas as pd

    if len(trained) < 2 or len(untrained) < 2:
        raise ValueError(f"need at least 2 trained and 2 untrained networks' factors, got "
                         f"{len(trained)} and {len(untrained)}.")
    n_trials = len(np.asarray(trained[0]))
    weights = bootstrap_weights(n_trials, n_boot, seed)
    rows = []
    for values, transform in (("raw", np.asarray), ("trial residuals", trial_residuals)):
        mean, n_pairs = {}, {}
        for model, spaces in (("trained", trained), ("untrained", untrained)):
            spaces = [transform(_as_space(model, s)) for s in spaces]
            pairs = list(combinations(range(len(spaces)), 2))
            mean[model] = np.mean([_agreement(spaces[i], spaces[j], weights, n_splits, seed)
                                   for i, j in pairs], axis=0)
            n_pairs[model] = len(pairs)
        mean["trained - untrained"] = mean["trained"] - mean["untrained"]
        n_pairs["trained - untrained"] = n_pairs["trained"]
        for model, resampled in mean.items():
            point, low, high = bootstrap_summary(resampled)
            rows.append({"model": model, "metric": "median R² between seeds", "score": point,
                         "low": low, "high": high, "interval": _INTERVAL, "values": values,
                         "n_pairs": n_pairs[model]})
    return pd.DataFrame(rows)
