"""Who is held out: trial and neuron splits, class balancing, folds (chapters 2-6).

Every split draws *without replacement* (the original project's bootstrap drew trials with
replacement, so test trials leaked into training) and is reproducible from its ``seed``.

- :func:`split_trials`, :func:`balance_trials`, :func:`subsample_trials`: trials.
- :func:`split_neurons`, :func:`co_smoothing_split`: the Neural Latents Benchmark's co-smoothing
  split of trials (train/test) and neurons (held-in/held-out).
- :func:`check_labels`, :func:`balanced_class_weights`: cross-validated decoding of binary
  trial labels (the folds themselves: :mod:`helpers.inference`).
- :func:`cross_region_split`, :func:`shuffle_within_conditions`: predicting one brain region
  from another, and the trial-shuffle control (chapter 3).

All arrays handed to models are in the models' layout ``(n_trials, n_bins, n_neurons)``, from
:meth:`helpers.session.Session.spikes_by_trial`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "split_trials", "balance_trials", "subsample_trials", "split_neurons", "co_smoothing_split",
    "CoSmoothingSplit", "CoSmoothingData", "check_labels",
    "balanced_class_weights", "BALANCING", "balanced_subset", "shuffle_within_conditions",
    "CrossRegionSplit", "cross_region_split", "MIN_REGION_NEURONS", "source_fixed_splits",
]

#: The two ways to balance the classes of training trials (chapter 4): a class-weighted loss,
#: or undersampling every class to the smallest one.
BALANCING = ("weights", "undersample")


# =============================================================================================
# Trials
# =============================================================================================
def _labels_or_count(n_trials_or_labels: int | np.ndarray) -> tuple[int, np.ndarray | None]:
    if isinstance(n_trials_or_labels, (int, np.integer)) and not isinstance(
            n_trials_or_labels, (bool, np.bool_)):
        return int(n_trials_or_labels), None
    labels = np.asarray(n_trials_or_labels)
    if labels.ndim != 1:
        raise ValueError(f"Pass a number of trials or one label per trial (1-D), got an array "
                         f"of shape {labels.shape}.")
    return len(labels), labels


def split_trials(n_trials_or_labels: int | np.ndarray, test_fraction: float = 0.2, *,
                 seed: int = 0, stratify: bool | np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Split trials into train and test sets, without replacement (chapters 2-4).

    Args:
        n_trials_or_labels: the number of trials, or one label per trial, shape ``(n_trials,)``.
        test_fraction: share of trials in the test set, strictly between 0 and 1.
        seed: makes the split reproducible.
        stratify: keep each label's share equal in both sets. ``None``: stratify when labels
            were passed; ``True``/``False``: do or don't; an array ``(n_trials,)``: stratify by it.

    Returns:
        ``(train_idx, test_idx)``: sorted trial indices, disjoint, together every trial once.

    Raises:
        ValueError: fraction outside (0, 1), fewer than 2 trials, a set would be empty, labels of
            the wrong length, or (when stratifying) one class only or a class with one trial.
    """
    n, labels = _labels_or_count(n_trials_or_labels)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}.")
    n_test = math.ceil(n * test_fraction)
    if n < 2 or n_test >= n:
        raise ValueError(f"Cannot split {n} trials with test_fraction={test_fraction}: both "
                         "sets need at least one trial. Use more trials or another fraction.")
    strata = _strata(labels, stratify, n)
    if strata is not None:
        _check_classes(strata, minimum=2, what="stratify")
    from sklearn.model_selection import train_test_split

    try:
        train, test = train_test_split(
            np.arange(n), test_size=n_test, random_state=seed, shuffle=True, stratify=strata)
    except ValueError as err:  # e.g. fewer test trials than classes
        raise ValueError(f"Cannot stratify {n} trials into a test set of {n_test}: {err} "
                         "Use a larger test_fraction or stratify=False.") from err
    return np.sort(train), np.sort(test)


def _strata(labels: np.ndarray | None, stratify: bool | np.ndarray | None,
            n: int) -> np.ndarray | None:
    if stratify is None or isinstance(stratify, (bool, np.bool_)):
        if stratify and labels is None:
            raise ValueError("stratify=True needs labels: pass one label per trial, not a count.")
        return labels if stratify is not False else None
    strata = np.asarray(stratify)
    if strata.shape != (n,):
        raise ValueError(f"stratify must have one label per trial ({n}), got shape {strata.shape}.")
    return strata


def _check_classes(labels: np.ndarray, minimum: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"{what}: the labels have a single class {classes.tolist()}; there is "
                         "nothing to stratify or balance. Check the labels.")
    if counts.min() < minimum:
        rare = classes[counts < minimum].tolist()
        raise ValueError(f"{what}: class(es) {rare} have fewer than {minimum} trials "
                         f"(counts {dict(zip(classes.tolist(), counts.tolist(), strict=True))}).")
    return classes, counts


def balance_trials(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Undersample every class to the size of the smallest one (chapter 4).

    Args:
        labels: one label per trial, shape ``(n_trials,)`` (e.g. ``session.is_correct``).
        seed: makes the choice reproducible.

    Returns:
        Indices into ``labels``, shuffled, without repeats, ``n_classes * smallest`` of them.
        To balance a training set: ``train[balance_trials(labels[train], seed)]``.

    Raises:
        ValueError: labels not 1-D, a single class, or an empty class list.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}.")
    classes, counts = _check_classes(labels, minimum=1, what="balance_trials")
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == c), size=counts.min(), replace=False)
              for c in classes]
    return rng.permutation(np.concatenate(chosen))


def balanced_subset(idx: np.ndarray, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """The trials ``idx`` undersampled to equal classes (:func:`balance_trials`), sorted."""
    return idx[np.sort(balance_trials(labels[idx], seed=seed))]


def subsample_trials(train_idx: np.ndarray, labels: np.ndarray, n_trials: int | None,
                     seed: int = 0) -> np.ndarray:
    """A stratified subset of exactly ``n_trials`` of the training trials ``train_idx`` (all of
    them when ``n_trials`` is ``None`` or not smaller); for learning curves (chapter 4).

    Raises:
        ValueError: ``n_trials`` is not a positive integer, or too small or too close to
            ``len(train_idx)`` for every class to be on both sides of the draw.
    """
    if n_trials is None or n_trials >= len(train_idx):
        return train_idx
    if isinstance(n_trials, (bool, np.bool_)) or not isinstance(n_trials, (int, np.integer)) \
            or n_trials < 1:
        raise ValueError(f"n_trials must be a positive number of trials or None, got "
                         f"{n_trials!r}.")
    from sklearn.model_selection import train_test_split

    try:  # an integer test size: a fraction could round to one trial too many or too few
        kept, _ = train_test_split(np.arange(len(train_idx)), test_size=len(train_idx) - n_trials,
                                   random_state=seed, shuffle=True, stratify=labels[train_idx])
    except ValueError as err:
        raise ValueError(f"Cannot draw a stratified {n_trials} of {len(train_idx)} training "
                         f"trials: {err} Ask for more trials, or fewer.") from err
    return train_idx[np.sort(kept)]


# =============================================================================================
# Neurons: co-smoothing
# =============================================================================================
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
        """Cut counts (or true rates) in the models' layout ``(n_trials, n_bins, n_neurons)``,
        e.g. ``session.spikes_by_trial()``, into held-in inputs and held-out targets of the
        training and test trials."""
        spikes = np.asarray(spikes)
        n_neurons = len(np.union1d(self.heldin_neurons, self.heldout_neurons))
        n_trials = len(np.union1d(self.train_trials, self.test_trials))
        if spikes.ndim != 3 or (spikes.shape[0], spikes.shape[2]) != (n_trials, n_neurons):
            raise ValueError(
                f"This split is for {n_trials} trials x {n_neurons} neurons; got an array of "
                f"shape {spikes.shape}. Pass (n_trials, n_bins, n_neurons), e.g. "
                "session.spikes_by_trial()."
            )

        def cut(trials: np.ndarray, neurons: np.ndarray) -> np.ndarray:
            return spikes[trials][:, :, neurons].astype(np.float32)

        return CoSmoothingData(cut(self.train_trials, self.heldin_neurons),
                               cut(self.train_trials, self.heldout_neurons),
                               cut(self.test_trials, self.heldin_neurons),
                               cut(self.test_trials, self.heldout_neurons))


def split_neurons(n_neurons: int, heldout_fraction: float = 0.5, *,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw held-out neurons at random, without replacement (chapter 2's exercise).

    Returns:
        ``(heldin, heldout)``: sorted, disjoint neuron indices covering ``range(n_neurons)``.
    """
    if not isinstance(n_neurons, (int, np.integer)) or n_neurons < 2:
        raise ValueError(f"n_neurons must be an integer >= 2: need at least 2 neurons to "
                         f"split, got {n_neurons!r}.")
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
            :func:`split_trials`, which draws the trials).
        n_neurons: number of neurons.
        test_fraction: share of trials kept for testing.
        heldout_fraction: share of neurons to predict.
        seed: seeds both draws.
        stratify: passed to :func:`split_trials`.
    """
    train, test = split_trials(n_trials_or_labels, test_fraction, seed=seed, stratify=stratify)
    heldin, heldout = split_neurons(n_neurons, heldout_fraction, seed=seed)
    return CoSmoothingSplit(train, test, heldin, heldout)


# =============================================================================================
# Folds for decoding
# =============================================================================================
def check_labels(labels: np.ndarray, n_splits: int, n_trials: int | None = None) -> np.ndarray:
    """Validate binary trial labels and return them as ints ``(n_trials,)`` in {0, 1}.

    Raises:
        ValueError: wrong length, a single class, or fewer trials of a class than folds.
    """
    labels = np.ravel(np.asarray(labels))
    if n_trials is not None and len(labels) != n_trials:
        raise ValueError(f"labels have {len(labels)} entries but the spikes have {n_trials} "
                         "trials.")
    values, counts = np.unique(labels, return_counts=True)
    if len(values) != 2 or not np.isin(values, (0, 1)).all():
        raise ValueError(f"labels must contain both classes 0 and 1 (or False/True); found "
                         f"{dict(zip(values.tolist(), counts.tolist(), strict=True))}.")
    if counts.min() < max(n_splits, 4):
        raise ValueError(f"Too few trials of class {values[counts.argmin()]} "
                         f"({counts.min()}) for {n_splits}-fold cross-validation with an "
                         f"inner validation split: need at least {max(n_splits, 4)}.")
    return labels.astype(np.int64)


def balanced_class_weights(labels: np.ndarray, n_classes: int = 2) -> np.ndarray:
    """``n_trials / (n_classes * count_c)`` per class: each class then weighs the same in the
    loss, as scikit-learn's ``class_weight="balanced"``. Shape ``(n_classes,)``.

    Raises:
        ValueError: labels that are not integers (or booleans) in ``0 .. n_classes - 1``, or a
            class without trials.
    """
    labels = np.ravel(np.asarray(labels))
    if labels.dtype == bool:
        labels = labels.astype(np.int64)
    if not np.issubdtype(labels.dtype, np.integer) or labels.size == 0 \
            or labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must be integer classes 0..{n_classes - 1} (e.g. from "
                         f"check_labels), got {np.unique(labels)[:5].tolist()} of dtype "
                         f"{labels.dtype}.")
    counts = np.bincount(labels, minlength=n_classes)
    if (counts == 0).any():
        raise ValueError(f"every class needs trials to be weighted; counts are {counts}.")
    return (len(labels) / (n_classes * counts)).astype(np.float32)


# =============================================================================================
# One region from another (chapter 3)
# =============================================================================================
#: The fewest neurons (firing >= ``min_rate``) a region needs to be split or subsampled.
MIN_REGION_NEURONS = 10


def _condition_groups(conditions: np.ndarray) -> np.ndarray:
    conditions = np.asarray(conditions)
    if conditions.ndim not in (1, 2) or len(conditions) == 0:
        raise ValueError(f"conditions must be (n_trials,) or (n_trials, n_features) with at "
                         f"least one trial, got shape {conditions.shape}.")
    rows = conditions.reshape(len(conditions), -1)
    return np.ravel(np.unique(rows, axis=0, return_inverse=True)[1])


def shuffle_within_conditions(conditions: np.ndarray, *, seed: int = 0,
                              sets: np.ndarray | None = None,
                              response_time: np.ndarray | None = None,
                              n_nearest: int = 4) -> np.ndarray:
    """A partner for every trial: a *nearby* trial of the same condition (and set), never itself.

    The trial-shuffle control of cross-region prediction pairs the source activity of trial
    ``partner[i]`` with the target activity of trial ``i``: the task drive (same condition) is
    kept, the trial-by-trial covariation is broken. Partners are drawn at random among the
    ``n_nearest`` candidates closest in the session (so slow drift of engagement and firing,
    shared by neighbouring trials, is kept too, Harris 2020) and, with ``response_time``,
    among those the closest in response time (movement timing is kept).

    Args:
        conditions: one value, or one row of values, per trial: ``(n_trials,)`` or
            ``(n_trials, n_features)``, e.g. ``session.task_conditions()``.
        seed: makes the draw reproducible (one seed per permutation).
        sets: a label per trial, e.g. 0 = training and 1 = test trials: partners are drawn
            within the same set, so a control model never reads another set's activity.
        response_time: seconds, ``(n_trials,)``, NaN where there is none (no-go trials).
        n_nearest: how many nearby candidates a partner is drawn from.

    Returns:
        ``partner``: trial indices ``(n_trials,)`` with ``partner[i] != i``, the same condition
        and set as ``i``.

    Raises:
        ValueError: a trial alone in its condition (within its set): it has no partner. Keep
            trials whose condition occurs at least twice (``session.trials_with_partner()``)
            and split them with ``cross_region_split(..., conditions=...)``.
    """
    group = _condition_groups(conditions)
    if sets is not None:
        sets = np.asarray(sets)
        if sets.shape != group.shape:
            raise ValueError(f"sets must have one label per trial ({len(group)}), got shape "
                             f"{sets.shape}.")
        group = _condition_groups(np.c_[group, _condition_groups(sets)])
    if response_time is not None:
        response_time = np.asarray(response_time, dtype=float)
        if response_time.shape != group.shape:
            raise ValueError(f"response_time needs one value per trial ({len(group)}), got "
                             f"shape {response_time.shape}.")
    if not isinstance(n_nearest, (int, np.integer)) or n_nearest < 1:
        raise ValueError(f"n_nearest must be a positive integer, got {n_nearest!r}.")
    counts = np.bincount(group)
    if (counts[group] == 1).any():
        alone = np.flatnonzero(counts[group] == 1)
        where = " within its set" if sets is not None else ""
        raise ValueError(f"{len(alone)} trial(s) are alone in their condition{where} (e.g. trial "
                         f"{alone[0]}) and cannot be paired with another trial of the same "
                         "condition; keep only trials whose condition occurs at least twice "
                         "(session.trials_with_partner()) and split with cross_region_split("
                         "..., conditions=...).")
    rng = np.random.default_rng(seed)
    partner = np.empty(len(group), dtype=np.int64)
    for trial in range(len(group)):
        others = np.flatnonzero(group == group[trial])
        others = others[others != trial]
        others = others[np.argsort(np.abs(others - trial), kind="stable")]
        if response_time is not None and np.isfinite(response_time[trial]):
            near = others[:2 * n_nearest]
            gap = np.abs(np.nan_to_num(response_time[near], nan=np.inf) - response_time[trial])
            others = near[np.argsort(gap, kind="stable")]
        partner[trial] = rng.choice(others[:n_nearest])
    return partner


@dataclass(frozen=True)
class CrossRegionSplit:
    """Which neurons are read and which are predicted, and which trials train and test.

    Neuron indices refer to the session the split was drawn from; all arrays are sorted.

    Attributes:
        source: region group read by the model.
        target: region group predicted.
        source_neurons: the neurons read (a subsample of the source region, or, when
            ``within``, of the target's held-in neurons).
        heldin_neurons: the target's held-in neurons (within-target co-smoothing reads them).
        heldout_neurons: the target neurons whose rates every model predicts.
        train_trials, test_trials: the trial split, the same for every model.
        within: source == target: the source neurons are the target's held-in neurons
            (within-region prediction, the reference of Semedo et al.'s comparison).
    """

    source: str
    target: str
    source_neurons: np.ndarray
    heldin_neurons: np.ndarray
    heldout_neurons: np.ndarray
    train_trials: np.ndarray
    test_trials: np.ndarray
    within: bool

    def describe(self) -> str:
        """One line: what is read and what is predicted."""
        if self.within:
            return (f"{self.target} -> {self.target}: within-region, "
                    f"{len(self.source_neurons)} held-in neurons predict "
                    f"{len(self.heldout_neurons)} held-out ones")
        return (f"{self.source} -> {self.target}: {len(self.source_neurons)} source neurons "
                f"predict {len(self.heldout_neurons)} held-out target neurons")

    def partners(self, conditions: np.ndarray, *, n_permutations: int = 20,
                 response_time: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
        """``n_permutations`` draws of :func:`shuffle_within_conditions`, partners within the
        training and within the test trials separately: ``(n_permutations, n_trials)``."""
        if not isinstance(n_permutations, (int, np.integer)) or n_permutations < 1:
            raise ValueError(f"n_permutations must be a positive integer, got "
                             f"{n_permutations!r}.")
        sets = np.zeros(len(self.train_trials) + len(self.test_trials), dtype=int)
        sets[self.test_trials] = 1
        return np.stack([shuffle_within_conditions(conditions, seed=s, sets=sets,
                                                   response_time=response_time)
                         for s in np.random.SeedSequence(seed).generate_state(n_permutations)])


def _region_neurons(session, region: str, min_rate: float | None) -> np.ndarray:
    from helpers.session import OTHER_REGION, REGION_GROUPS

    if region not in REGION_GROUPS and region != OTHER_REGION:
        raise ValueError(f"Unknown region group {region!r}; this session recorded "
                         f"{session.regions_present}.")
    if region not in session.regions_present:
        raise ValueError(f"Session {session.name} has no neurons in {region!r}; it recorded "
                         f"{session.regions_present}.")
    keep = session.region == region
    if min_rate is not None:
        keep &= session.mean_rates() >= min_rate
    neurons = np.flatnonzero(keep)
    if len(neurons) < MIN_REGION_NEURONS:
        rate = "" if min_rate is None else f" firing >= {min_rate} spikes/s"
        raise ValueError(f"{region!r} of {session.name} has {len(neurons)} neurons{rate}; "
                         f"splitting or subsampling needs at least {MIN_REGION_NEURONS}.")
    return neurons


def _paired_trial_split(conditions: np.ndarray, test_fraction: float,
                        seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train/test trials such that every condition has 0 or >= 2 trials in each set."""
    group = _condition_groups(conditions)
    counts = np.bincount(group)
    if (counts == 1).any():
        raise ValueError(f"{int((counts == 1).sum())} condition(s) have a single trial: keep "
                         "trials whose condition occurs at least twice "
                         "(session.trials_with_partner()).")
    rng = np.random.default_rng([seed, 2])
    test = []
    for g, n in enumerate(counts):
        n_test = int(round(test_fraction * n))
        if n_test == 1:  # one test trial would have no partner: 0 or 2, at random
            n_test = 2 if n >= 4 and rng.random() < 0.5 else 0
        if n - n_test == 1:
            n_test -= 1
        test.extend(rng.choice(np.flatnonzero(group == g), n_test, replace=False))
    test = np.sort(np.asarray(test, dtype=np.int64))
    if len(test) == 0:
        raise ValueError("no condition has enough trials for a test set with partners; use a "
                         "larger test_fraction or more trials.")
    return np.setdiff1d(np.arange(len(group)), test), test


def cross_region_split(session, source: str, target: str, *, n_source: int | None = None,
                       min_rate: float | None = 1.0, heldout_fraction: float = 0.5,
                       test_fraction: float = 0.2, conditions: np.ndarray | None = None,
                       seed: int = 0) -> CrossRegionSplit:
    """Split a session for predicting region ``target`` from region ``source``.

    The target's neurons are split into held-in and held-out halves (as in co-smoothing); every
    model predicts the held-out ones on the test trials. The source neurons are drawn from the
    source region (without replacement, ``n_source`` of them to compare regions at matched size)
    or, when ``source == target``, from the target's held-in neurons: within-region prediction
    from a population of the same size (a reference, not a ceiling).

    Args:
        session: a :class:`~helpers.session.Session`.
        source, target: region groups, e.g. ``"vis ctx"`` and ``"thal"``.
        n_source: how many source neurons to read (``None``: all of them).
        min_rate: only neurons firing at least this many spikes/s take part.
        heldout_fraction: share of the target's neurons to predict.
        test_fraction: share of trials kept for testing (the same ``seed`` gives every pair
            the same trials).
        conditions: the trials' conditions (``session.task_conditions()``): every condition
            then has 0 or >= 2 trials in each set, so the shuffle control finds partners
            within the training and within the test trials.
        seed: seeds every draw.

    Raises:
        ValueError: a region the session did not record (the message lists those it did), a
            region with fewer than :data:`MIN_REGION_NEURONS` neurons, ``n_source`` larger
            than the neurons available, or a condition with a single trial.
    """
    target_neurons = _region_neurons(session, target, min_rate)
    heldin, heldout = split_neurons(len(target_neurons), heldout_fraction, seed=seed)
    heldin, heldout = target_neurons[heldin], target_neurons[heldout]
    within = source == target
    pool = heldin if within else _region_neurons(session, source, min_rate)
    if n_source is not None:
        if not isinstance(n_source, (int, np.integer)) or n_source < 1:
            raise ValueError(f"n_source must be a positive integer or None, got {n_source!r}.")
        if n_source > len(pool):
            where = f"{target!r}'s held-in half" if within else repr(source)
            raise ValueError(f"n_source={n_source} but {where} has {len(pool)} neurons; ask "
                             "for fewer.")
        pool = np.sort(np.random.default_rng([seed, 1]).choice(pool, n_source, replace=False))
    if conditions is None:
        train, test = split_trials(session.n_trials, test_fraction, seed=seed)
    else:
        if len(conditions) != session.n_trials:
            raise ValueError(f"{len(conditions)} conditions for {session.n_trials} trials.")
        train, test = _paired_trial_split(conditions, test_fraction, seed)
    return CrossRegionSplit(source, target, pool, heldin, heldout, train, test, within)


def source_fixed_splits(session, source: str, target: str, *, conditions: np.ndarray,
                        min_rate: float | None = None, test_fraction: float = 0.2,
                        seed: int = 0) -> tuple[CrossRegionSplit, CrossRegionSplit]:
    """Semedo et al.'s comparison: one source population, two targets matched in size and rate.

    The source region's neurons are halved: one half is the source, the other half the
    *within-region* target; the other region's target neurons are drawn to match the
    within-region target in number and, neuron by neuron, in mean rate (each takes the unused
    neuron of the larger pool whose rate is closest). Both splits share the trials.

    Returns:
        ``(to_target, to_source)``: source -> other region, and source -> its own held-out half.

    Raises:
        ValueError: as :func:`cross_region_split` (a region too small, a lone condition).
    """
    within = cross_region_split(session, source, source, min_rate=min_rate, seed=seed,
                                test_fraction=test_fraction, conditions=conditions)
    pool = _region_neurons(session, target, min_rate)
    rates = session.mean_rates()
    own, other = within.heldout_neurons, pool
    if len(other) < len(own):
        own, other = other, own  # match the larger pool to the smaller one
    free = np.ones(len(other), dtype=bool)
    matched = []
    for neuron in own[np.argsort(rates[own])[::-1]]:  # fastest first: they are the rarest
        gap = np.where(free, np.abs(np.log(rates[other] + 1e-3) - np.log(rates[neuron] + 1e-3)),
                       np.inf)
        matched.append(other[int(np.argmin(gap))])
        free[int(np.argmin(gap))] = False
    matched = np.sort(np.asarray(matched))
    heldout_target = own if own is pool else matched
    heldout_source = matched if own is pool else own
    to_source = replace(within, heldout_neurons=np.sort(heldout_source))
    to_target = replace(within, target=target, heldin_neurons=np.setdiff1d(pool, heldout_target),
                        heldout_neurons=np.sort(heldout_target), within=False)
    return to_target, to_source
