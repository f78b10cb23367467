"""Scoring rate models like the field does: co-smoothing on held-out trials (chapter 2).

Co-smoothing (Neural Latents Benchmark): the neurons are split into *held-in* neurons, whose
spikes the model sees, and *held-out* neurons, whose rates it must predict; the trials are split
into training and test trials. A model learns held-in -> held-out on training trials and is scored
on test trials, where it never saw the held-out neurons' spikes. A model that is fed the very
spikes it predicts (an autoencoder) can copy its input and flatters itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.data import split_trials
from helpers.metrics import poisson_log_likelihood, pseudo_r2


@dataclass(frozen=True)
class CoSmoothingData:
    """The four arrays of a co-smoothing split, each ``(n_trials, n_bins, n_neurons)`` float32."""

    train_inputs: np.ndarray
    train_targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray


@dataclass(frozen=True)
class CoSmoothingSplit:
    """Which trials train and test, which neurons go in and which are predicted.

    All four are sorted index arrays. In co-smoothing neither trials nor neurons overlap; a split
    whose held-in and held-out neurons are the same describes an autoencoder.
    """

    train_trials: np.ndarray
    test_trials: np.ndarray
    heldin_neurons: np.ndarray
    heldout_neurons: np.ndarray

    def apply(self, spikes: np.ndarray) -> CoSmoothingData:
        """Cut session-layout counts (or true rates) ``(n_neurons, n_trials, n_bins)`` into the
        model layout ``(n_trials, n_bins, n_neurons)``: held-in neurons as inputs, held-out
        neurons as targets, for training and test trials."""
        spikes = np.asarray(spikes)
        if spikes.ndim != 3:
            raise ValueError(f"expected (n_neurons, n_trials, n_bins), got {spikes.shape}.")
        n_neurons = len(np.union1d(self.heldin_neurons, self.heldout_neurons))
        n_trials = len(np.union1d(self.train_trials, self.test_trials))
        if spikes.shape[:2] != (n_neurons, n_trials):
            raise ValueError(f"this split is for {n_neurons} neurons x {n_trials} trials, got "
                             f"an array of shape {spikes.shape} (n_neurons, n_trials, n_bins).")

        def cut(neurons: np.ndarray, trials: np.ndarray) -> np.ndarray:
            return spikes[neurons][:, trials].transpose(1, 2, 0).astype(np.float32)

        return CoSmoothingData(cut(self.heldin_neurons, self.train_trials),
                               cut(self.heldout_neurons, self.train_trials),
                               cut(self.heldin_neurons, self.test_trials),
                               cut(self.heldout_neurons, self.test_trials))


def split_neurons(n_neurons: int, heldout_fraction: float = 0.5, *,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw held-out neurons at random, without replacement (chapter 2's exercise).

    Returns:
        ``(heldin, heldout)``: sorted, disjoint neuron indices covering ``range(n_neurons)``.
    """
    if not isinstance(n_neurons, (int, np.integer)) or n_neurons < 2:
        raise ValueError(f"need at least 2 neurons to split, got {n_neurons!r}.")
    if not 0 < heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction}.")
    n_heldout = min(max(int(round(heldout_fraction * n_neurons)), 1), n_neurons - 1)
    order = np.random.default_rng(seed).permutation(n_neurons)
    return np.sort(order[n_heldout:]), np.sort(order[:n_heldout])


def co_smoothing_split(n_trials_or_labels: int | np.ndarray, n_neurons: int, *,
                       test_fraction: float = 0.2, heldout_fraction: float = 0.5,
                       seed: int = 0, stratify: bool | np.ndarray | None = None,
                       ) -> CoSmoothingSplit:
    """Split trials (train/test) and neurons (held-in/held-out), both without replacement.

    Args:
        n_trials_or_labels: number of trials, or a label per trial (see
            :func:`helpers.data.split_trials`, which draws the trials).
        n_neurons: number of neurons.
        test_fraction: share of trials kept for testing.
        heldout_fraction: share of neurons to predict.
        seed: seeds both draws.
        stratify: passed to :func:`~helpers.data.split_trials`.
    """
    train, test = split_trials(n_trials_or_labels, test_fraction, seed=seed, stratify=stratify)
    heldin, heldout = split_neurons(n_neurons, heldout_fraction, seed=seed)
    return CoSmoothingSplit(train, test, heldin, heldout)


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
        true_rates: simulated sessions only: the true rates in session layout
            ``(n_neurons, n_trials, n_bins)``; adds the oracle.
        seed: seeds the validation splits that tune the baselines.
        glm_sigmas, glm_alphas: the smoothing baseline's grid (kernel widths in bins, penalties).

    Returns:
        name -> rates ``(n_test_trials, n_bins, n_heldout)`` in spikes per bin.
    """
    from helpers import baselines

    conditions = np.asarray(conditions)
    glm = baselines.fit_smoothing_glm(data.train_inputs, data.train_targets, sigmas=glm_sigmas,
                                      alphas=glm_alphas, seed=seed)
    psth = baselines.fit_condition_psth(data.train_targets, conditions[split.train_trials],
                                        seed=seed)
    rates = {
        "constant-rate null": baselines.constant_rates(data.train_targets, len(data.test_targets)),
        "condition PSTH": psth.predict(conditions[split.test_trials]),
        "smoothing + GLM": glm.predict(data.test_inputs),
    }
    if true_rates is not None:
        rates["true rates (oracle)"] = split.apply(true_rates).test_targets
    return rates


# ------------------------------------------------------------------------------ scoring
def _gain_per_trial(rates: np.ndarray, spikes: np.ndarray) -> np.ndarray:
    """Log-likelihood gain over the null (each neuron's mean over all test trials and bins), in
    nats, summed over bins and neurons: ``(n_trials,)``."""
    null = np.broadcast_to(spikes.mean(axis=(0, 1)), spikes.shape)
    gain = poisson_log_likelihood(rates, spikes) - poisson_log_likelihood(null, spikes)
    return gain.sum(axis=(1, 2))


def score_rates(predictions: dict[str, np.ndarray], spikes: np.ndarray, *,
                reference: str | None = None, oracle: str | None = None,
                n_boot: int = 1000, seed: int = 0) -> list[dict[str, float | str]]:
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
        One row per model: ``model``, ``bps``, ``bps_low``, ``bps_high``,
        ``median_pseudo_r2`` and, when asked for, ``ratio``/``fraction_of_oracle`` with their
        ``_low``/``_high`` bounds. ``pandas.DataFrame(rows)`` makes a table of it.
    """
    spikes = np.asarray(spikes, dtype=np.float64)
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
        boot[name] = weights @ _gain_per_trial(rates, spikes) / spikes_per_resample
    rows = []
    for name, values in boot.items():
        row = {"model": name, **_summary("bps", values),
               "median_pseudo_r2": float(np.nanmedian(pseudo_r2(predictions[name], spikes)))}
        if reference is not None:
            row.update(_summary("ratio", values / boot[reference]))
        if oracle is not None:
            row.update(_summary("fraction_of_oracle", values / boot[oracle]))
        rows.append(row)
    return rows


def _summary(name: str, values: np.ndarray) -> dict[str, float]:
    """Point estimate (first entry: all trials once) and 95 % bootstrap interval."""
    low, high = np.percentile(values[1:], [2.5, 97.5])
    return {name: float(values[0]), f"{name}_low": float(low), f"{name}_high": float(high)}
