"""Classifying trial outcome from spikes, scored honestly (chapter 4).

:func:`cross_validate` is the chapter's whole pipeline. For every fold of a repeated,
stratified K-fold cross-validation it

1. balances the *training* trials only -- class-weighted loss (default) or undersampling --
   and never touches the test trials;
2. carves a stratified validation split out of the training trials for early stopping;
3. preprocesses the RNN's inputs (coarser bins, ``log1p``, per-neuron standardisation and a
   projection on the leading principal components, with statistics of the training trials
   only) and fits a :class:`~helpers.models.TrialClassifier`;
4. fits the baselines -- majority class and regularised logistic regression on spike counts --
   and, on simulated data, the best achievable classifier that knows the true ``p_correct``;
5. scores all of them with balanced accuracy on the same test trials.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from helpers.baselines import (
    LogisticBaseline,
    best_achievable_predictions,
    majority_predictions,
)
from helpers.evaluation import score_table
from helpers.inference import corrected_t_interval, permutation_p_value, stratified_folds
from helpers.metrics import balanced_accuracy
from helpers.models import RECOMMENDED_CLASSIFIER, ClassifierSettings, TrialClassifier
from helpers.session import Session
from helpers.splits import (
    BALANCING,
    balanced_class_weights,
    balanced_subset,
    check_labels,
    split_trials,
    subsample_trials,
)
from helpers.train import RECOMMENDED_FIT, FitSettings, History, fit

__all__ = [
    "MODELS", "CLASSIFIER_RECIPE", "PLAIN_RECIPE", "InputScaler", "FittedRNN", "fit_rnn",
    "FoldResult", "CVResult", "cross_validate", "cross_validate_each", "PermutationResult",
    "permutation_test",
]

#: Every model :func:`cross_validate` knows, in the order the chapter reports them.
MODELS = ("rnn", "logistic", "majority", "best achievable")


#: How chapter 4 trains its classifier (the recipe paired with
#: :data:`~helpers.models.RECOMMENDED_CLASSIFIER`): at most 300 full-batch Adam iterations,
#: L2 penalty 1e-2, early stopping on a stratified 40 % of the training trials (a large share,
#: because a noisy validation loss, not a small fit set, was what most often spoiled a fold).
CLASSIFIER_RECIPE = replace(RECOMMENDED_FIT, n_iter=300, weight_decay=1e-2, validation=0.4,
                            patience=40, lr=0.01, batch_size=None)
#: How the original project trained (paired with :data:`~helpers.models.PLAIN_CLASSIFIER`):
#: exactly 500 iterations at lr 0.005, no validation, no regularisation.
PLAIN_RECIPE = replace(RECOMMENDED_FIT, n_iter=500, lr=0.005, validation=None, batch_size=None)


class InputScaler:
    """``log1p``, per-neuron standardisation and, optionally, a projection onto the leading
    principal components -- all with statistics of the training trials only.

    Args:
        log_inputs: apply ``log1p`` first.
        standardize: subtract each neuron's mean and divide by its std.
        n_components: keep this many principal components of the standardised inputs, each
            scaled to unit variance (``None``: keep every neuron).

    Attributes:
        mean_, std_: per-neuron statistics, shape ``(n_neurons,)``, set by :meth:`fit`.
        components_: projection ``(n_neurons, n_components)`` set by :meth:`fit`, or ``None``.
    """

    def __init__(self, log_inputs: bool = True, standardize: bool = True,
                 n_components: int | None = None) -> None:
        self.log_inputs, self.standardize, self.n_components = (log_inputs, standardize,
                                                                 n_components)

    def _log(self, counts: np.ndarray) -> np.ndarray:
        return np.log1p(counts) if self.log_inputs else np.asarray(counts, dtype=np.float32)

    def fit(self, counts: np.ndarray) -> InputScaler:
        """Learn the statistics from training counts ``(n_trials, n_bins, n_neurons)``."""
        if self.n_components is not None and not self.standardize:
            raise ValueError("n_components needs standardize=True.")
        values = self._log(counts).reshape(-1, counts.shape[-1])
        self.mean_ = values.mean(axis=0)
        std = values.std(axis=0)
        self.std_ = np.where(std > 1e-6, std, 1.0)  # silent neurons stay at 0 instead of NaN
        self.components_ = None
        if self.n_components is not None:
            centred = ((values - self.mean_) / self.std_).astype(np.float64)
            variances, vectors = np.linalg.eigh(centred.T @ centred / len(centred))
            keep = np.argsort(variances)[::-1][:self.n_components]  # eigh sorts ascending
            scale = np.sqrt(np.clip(variances[keep], 1e-12, None))
            self.components_ = vectors[:, keep] / np.where(scale > 1e-6, scale, 1.0)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise RuntimeError("Call fit() on the training trials first.")

    @property
    def n_outputs(self) -> int:
        """Number of input features the RNN sees (neurons, or components)."""
        self._check_fitted()
        return len(self.mean_) if self.components_ is None else self.components_.shape[1]

    def transform(self, counts: np.ndarray) -> np.ndarray:
        """Scaled inputs, float32, ``(n_trials, n_bins, n_outputs)``."""
        values = self._log(counts)
        if self.standardize:
            self._check_fitted()
            values = (values - self.mean_) / self.std_
            if self.components_ is not None:
                values = values @ self.components_
        return values.astype(np.float32)


# ------------------------------------------------------------------------------ models
@dataclass
class FittedRNN:
    """An RNN classifier fitted on one fold, with what is needed to apply it to new trials.

    Attributes:
        model: the trained :class:`~helpers.models.TrialClassifier`.
        scaler: the input scaler fitted on the fold's training trials.
        history: its learning curves.
        fit_idx, validation_idx: trials it was trained on and early-stopped on.
    """

    model: TrialClassifier
    scaler: InputScaler
    history: History
    fit_idx: np.ndarray
    validation_idx: np.ndarray

    def logits_and_hidden(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Logits ``(n_trials, 2)`` and hidden states ``(n_trials, n_bins, hidden_size)`` for
        counts ``(n_trials, n_bins, n_neurons)`` binned as in training."""
        device = next(self.model.parameters()).device
        inputs = torch.as_tensor(self.scaler.transform(counts), device=device)
        self.model.eval()
        with torch.no_grad():
            logits, hidden = self.model(inputs)
        return logits.cpu().numpy(), hidden.cpu().numpy()

    def predict(self, counts: np.ndarray) -> np.ndarray:
        """Predicted classes ``(n_trials,)``."""
        return self.logits_and_hidden(counts)[0].argmax(axis=1)


def fit_rnn(counts: np.ndarray, labels: np.ndarray, train_idx: np.ndarray, *,
            settings: ClassifierSettings = RECOMMENDED_CLASSIFIER,
            recipe: FitSettings = CLASSIFIER_RECIPE, balance: str = "weights", seed: int = 0,
            device: torch.device | str = "cpu") -> FittedRNN:
    """Fit a :class:`~helpers.models.TrialClassifier` on the trials ``train_idx`` only.

    Args:
        counts: binned counts of all trials ``(n_trials, n_bins, n_neurons)``
            (``session.spikes_by_trial(settings.bin_width)``); only ``train_idx`` rows are read.
        labels: classes of all trials ``(n_trials,)`` in {0, 1}.
        train_idx: the training trials.
        settings: architecture and preprocessing (:class:`~helpers.models.ClassifierSettings`).
        recipe: how to train (:class:`~helpers.train.FitSettings`); its ``validation`` must be
            a fraction (stratified by label, carved here) or ``None`` (exactly ``n_iter``
            iterations); its ``seed`` is replaced by ``seed``.
        balance: ``"weights"`` (class-weighted cross-entropy) or ``"undersample"`` (drop
            majority-class trials from the fit and validation sets).
        seed: seeds the validation split, the undersampling and the weights.
        device: where to train.
    """
    if balance not in BALANCING:
        raise ValueError(f"balance must be one of {BALANCING}, got {balance!r}.")
    if recipe.validation is not None and (isinstance(recipe.validation, bool)
                                          or not isinstance(recipe.validation, (int, float))):
        raise ValueError("fit_rnn carves its own stratified validation trials: give the recipe "
                         f"a fraction (e.g. validation=0.4) or None, got {recipe.validation!r}.")
    fit_idx, validation_idx = train_idx, train_idx[:0]
    if recipe.validation:
        inner_fit, inner_val = split_trials(len(train_idx), recipe.validation,
                                            seed=seed, stratify=labels[train_idx])
        fit_idx, validation_idx = train_idx[np.sort(inner_fit)], train_idx[np.sort(inner_val)]
    weights = None
    if balance == "undersample":
        fit_idx = balanced_subset(fit_idx, labels, seed)
        if len(validation_idx):
            validation_idx = balanced_subset(validation_idx, labels, seed)
    else:
        weights = balanced_class_weights(labels[fit_idx])
    scaler = InputScaler(settings.log_inputs, settings.standardize,
                         settings.n_components).fit(counts[fit_idx])
    model = TrialClassifier(scaler.n_outputs, settings=settings).to(device)
    validation = None
    if len(validation_idx):
        validation = (scaler.transform(counts[validation_idx]), labels[validation_idx])
    history = fit(model, scaler.transform(counts[fit_idx]), labels[fit_idx],
                  replace(recipe, seed=seed, validation=validation), class_weights=weights,
                  progress=False)
    return FittedRNN(model, scaler, history, fit_idx, validation_idx)


# ------------------------------------------------------------------- cross-validation
@dataclass
class FoldResult:
    """One fold of :func:`cross_validate`.

    Attributes:
        repeat, fold: which repetition and which of its folds.
        train_idx, test_idx: trial indices; disjoint.
        predictions: per model name, predicted classes of the test trials ``(n_test,)``.
        scores: per model name, balanced accuracy on the test trials.
        rnn: the fitted RNN (``None`` when the RNN was not run).
    """

    repeat: int
    fold: int
    train_idx: np.ndarray
    test_idx: np.ndarray
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    rnn: FittedRNN | None = None


@dataclass
class CVResult:
    """Everything :func:`cross_validate` measured.

    Attributes:
        labels: the labels used ``(n_trials,)``.
        folds: one :class:`FoldResult` per fold, repeat by repeat.
        n_splits, n_repeats: the cross-validation scheme.
        models: the models scored, in order.
        counts: the RNN's binned input counts ``(n_trials, n_bins, n_neurons)``, to apply a
            fold's model to its test trials (``None`` when the RNN was not run).
    """

    labels: np.ndarray
    folds: list[FoldResult]
    n_splits: int
    n_repeats: int
    models: tuple[str, ...]
    counts: np.ndarray | None = None

    def scores(self, model: str) -> np.ndarray:
        """Balanced accuracy of ``model`` in every fold, ``(n_splits * n_repeats,)``."""
        if model not in self.models:
            raise KeyError(f"{model!r} was not cross-validated; available: {self.models}.")
        return np.array([fold.scores[model] for fold in self.folds])

    def interval(self, model: str, level: float = 0.95) -> tuple[float, float, float]:
        """``(mean, low, high)`` balanced accuracy of ``model`` over folds, with the corrected
        resampled-t interval of :func:`~helpers.inference.corrected_t_interval`."""
        return corrected_t_interval(self.scores(model), 1 / self.n_splits, level)

    def summary(self, level: float = 0.95) -> dict[str, tuple[float, float, float]]:
        """:meth:`interval` of every model."""
        return {model: self.interval(model, level) for model in self.models}

    def table(self, level: float = 0.95):
        """The summary as the book's score table (:func:`helpers.evaluation.score_table`)."""
        return score_table({model: interval for model, interval in self.summary(level).items()},
                           metric="balanced accuracy",
                           interval=f"{level:.0%} corrected resampled t over folds")

    def out_of_fold(self, model: str, repeat: int = 0) -> np.ndarray:
        """Predictions of ``model`` for every trial, from the fold of ``repeat`` that tested
        it, ``(n_trials,)``."""
        if not 0 <= repeat < self.n_repeats:
            raise ValueError(f"repeat must be in [0, {self.n_repeats}), got {repeat}.")
        predictions = np.full(len(self.labels), -1)
        for fold in self.folds:
            if fold.repeat == repeat:
                predictions[fold.test_idx] = fold.predictions[model]
        return predictions

    def confusion(self, model: str, repeat: int = 0) -> np.ndarray:
        """Confusion matrix ``(2, 2)`` of the out-of-fold predictions of one repeat (each trial
        counted once); rows are true classes (0 incorrect, 1 correct), columns predictions."""
        from sklearn.metrics import confusion_matrix

        return confusion_matrix(self.labels, self.out_of_fold(model, repeat), labels=[0, 1])


def cross_validate(
    session: Session,
    labels: np.ndarray | None = None,
    *,
    window: tuple[float, float] = (0.0, 0.4),
    settings: ClassifierSettings = RECOMMENDED_CLASSIFIER,
    recipe: FitSettings = CLASSIFIER_RECIPE,
    balance: str = "weights",
    n_splits: int = 5,
    n_repeats: int = 2,
    models: tuple[str, ...] | None = None,
    n_train_trials: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> CVResult:
    """Repeated stratified cross-validation of the RNN and its baselines on the same folds.

    Args:
        session: the session, restricted to the neurons to decode from.
        labels: classes ``(n_trials,)`` in {0, 1}; default ``session.is_correct``.
        window: seconds relative to stimulus onset whose spikes are used.
        settings, recipe: the RNN's settings and training recipe (see :func:`fit_rnn`;
            the defaults are the recommended ones).
        balance: ``"weights"`` or ``"undersample"``, for the RNN and the logistic baseline.
        n_splits, n_repeats: folds per repeat and number of repeats.
        models: subset of :data:`MODELS`; default all of them that apply ("best achievable"
            needs ``session.truth["p_correct"]``).
        n_train_trials: use only this many (stratified) training trials per fold, to measure
            how the score depends on the amount of data.
        seed: seeds the folds, the inner splits, the balancing and the weights.
        device: where the RNN trains.

    Returns:
        A :class:`CVResult`.
    """
    labels = session.is_correct if labels is None else labels
    labels = check_labels(labels, n_splits, session.n_trials)
    p_correct = _p_correct(session)
    models = _check_models(models, p_correct is not None)
    windowed = session.window(*window)
    rnn_counts = windowed.spikes_by_trial(settings.bin_width) if "rnn" in models else None
    window_counts = windowed.spikes_by_trial()
    folds = []
    folds_idx = stratified_folds(labels, n_splits, n_repeats, seed)
    for number, (train_idx, test_idx) in enumerate(folds_idx):
        fold_seed = seed + number
        train_idx = subsample_trials(train_idx, labels, n_train_trials, fold_seed)
        result = FoldResult(number // n_splits, number % n_splits, train_idx, test_idx)
        if "rnn" in models:
            result.rnn = fit_rnn(rnn_counts, labels, train_idx, settings=settings,
                                 recipe=recipe, balance=balance, seed=fold_seed, device=device)
            result.predictions["rnn"] = result.rnn.predict(rnn_counts[test_idx])
        if "logistic" in models:
            logistic = LogisticBaseline(balance=balance, seed=fold_seed).fit(
                window_counts[train_idx], labels[train_idx])
            result.predictions["logistic"] = logistic.predict(window_counts[test_idx])
        if "majority" in models:
            result.predictions["majority"] = majority_predictions(labels[train_idx],
                                                                  len(test_idx))
        if "best achievable" in models:
            result.predictions["best achievable"] = best_achievable_predictions(
                p_correct[test_idx], labels[train_idx])
        result.scores = {name: balanced_accuracy(labels[test_idx], predicted)
                         for name, predicted in result.predictions.items()}
        folds.append(result)
    return CVResult(labels, folds, n_splits, n_repeats, models, rnn_counts)


def cross_validate_each(populations: Mapping[str, Session] | Iterable[Session],
                        **cv_options: Any):
    """:func:`cross_validate` on each of several populations (regions of a session, sessions),
    one score table for all of them.

    Args:
        populations: name -> session (e.g. one region each), or sessions, named by
            ``session.name``; a generator is read one session at a time, so only one is held
            in memory.
        **cv_options: passed to :func:`cross_validate` (``seed``, ``n_repeats``, ``models``...).

    Returns:
        The score tables of :meth:`CVResult.table`, ``model`` as a column, stacked, with the
        columns ``where`` (the population's name) and ``neurons`` (its neuron count) added.
    """
    import pandas as pd

    named = populations.items() if isinstance(populations, Mapping) \
        else ((session.name, session) for session in populations)
    tables = [cross_validate(session, **cv_options).table().reset_index().assign(
        where=where, neurons=session.n_neurons) for where, session in named]
    if not tables:
        raise ValueError("cross_validate_each got no population: pass at least one session.")
    return pd.concat(tables, ignore_index=True)


def _p_correct(session: Session) -> np.ndarray | None:
    if session.truth is None or "p_correct" not in session.truth.extra:
        return None
    return np.asarray(session.truth.extra["p_correct"], dtype=np.float64)


def _check_models(models: tuple[str, ...] | None, has_truth: bool) -> tuple[str, ...]:
    if models is None:
        return MODELS if has_truth else MODELS[:-1]
    models = tuple(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"Unknown model(s) {unknown}; choose from {MODELS}.")
    if "best achievable" in models and not has_truth:
        raise ValueError("'best achievable' needs a simulated session with truth['p_correct'].")
    return models


@dataclass
class PermutationResult:
    """A permutation test of a cross-validated score against chance.

    Attributes:
        model: the model tested.
        observed: its mean balanced accuracy with the true labels.
        null_scores: the same with shuffled labels, ``(n_permutations,)``.
        p_value: ``(1 + #{null >= observed}) / (1 + n_permutations)``.
    """

    model: str
    observed: float
    null_scores: np.ndarray
    p_value: float


def permutation_test(session: Session, labels: np.ndarray | None = None, *,
                     model: str = "rnn", n_permutations: int = 19, seed: int = 0,
                     observed: float | None = None, **cv_options: Any) -> PermutationResult:
    """Is the cross-validated balanced accuracy above chance? Re-run the whole pipeline --
    folds, balancing, fitting, scoring -- with the labels shuffled across trials
    (Ojala & Garriga 2010).

    Args:
        session, labels: as for :func:`cross_validate`.
        model: the one model to test (refitting is the expensive part).
        n_permutations: number of shuffles; the smallest possible p-value is
            ``1 / (1 + n_permutations)``.
        seed: seeds the shuffles (and the pipeline, as in :func:`cross_validate`).
        observed: the mean score with the true labels, if already computed with the same
            options; otherwise it is computed here.
        **cv_options: passed on to :func:`cross_validate` (e.g. ``n_repeats=1``).
    """
    labels = session.is_correct if labels is None else labels
    labels = check_labels(labels, cv_options.get("n_splits", 5), session.n_trials)
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}.")
    if observed is None:
        observed = float(cross_validate(session, labels, models=(model,), seed=seed,
                                        **cv_options).scores(model).mean())
    rng = np.random.default_rng(seed)
    null_scores = np.array([
        cross_validate(session, rng.permutation(labels), models=(model,), seed=seed,
                       **cv_options).scores(model).mean()
        for _ in range(n_permutations)])
    return PermutationResult(model, observed, null_scores,
                             permutation_p_value(observed, null_scores))
