"""The chapter 4 pipeline: inputs, folds, balancing, no leakage, reproducibility, bad inputs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from helpers.baselines import best_achievable_predictions
from helpers.classify import (
    CLASSIFIER_RECIPE,
    MODELS,
    PLAIN_RECIPE,
    InputScaler,
    cross_validate,
    fit_rnn,
    permutation_test,
)
from helpers.evaluation import LABELS
from helpers.models import PLAIN_CLASSIFIER, RECOMMENDED_CLASSIFIER
from helpers.session import Session, Truth
from helpers.splits import check_labels

SMALL = replace(RECOMMENDED_CLASSIFIER, hidden_size=4)
FAST = replace(CLASSIFIER_RECIPE, n_iter=40, patience=20)


def make_toy_session(n_trials: int = 60, signal: float = 1.0, seed: int = 0,
                     with_truth: bool = False) -> Session:
    """Poisson counts, 10 neurons, 20 bins of 10 ms from stimulus onset; 2/3 of trials correct
    and, with ``signal > 0``, firing more on correct trials."""
    rng = np.random.default_rng(seed)
    correct = rng.permutation(np.arange(n_trials) < 2 * n_trials // 3)
    rates = 0.2 * np.exp(signal * correct)[None, :, None] * np.ones((10, 1, 20))
    truth = None
    if with_truth:
        p_correct = np.where(correct, 0.9, 0.3)
        truth = Truth(rates.transpose(1, 2, 0), np.zeros((n_trials, 20, 1)), ("none",),
                      {"p_correct": p_correct})
    return Session(spikes=rng.poisson(rates), brain_area=np.array(["MD"] * 10),
                   contrast_left=np.zeros(n_trials), contrast_right=np.zeros(n_trials),
                   feedback_type=np.where(correct, 1, -1), bin_size=0.01, stim_onset=0.0,
                   source="simulated" if with_truth else "real", truth=truth)


@pytest.fixture(scope="module")
def toy() -> Session:
    return make_toy_session()


@pytest.fixture(scope="module")
def toy_result(toy: Session):
    return cross_validate(toy, settings=SMALL, recipe=FAST, n_splits=3, n_repeats=2, seed=1)


# ------------------------------------------------------------------------------ inputs
def test_the_pipeline_reads_the_window_in_seconds_and_the_rnn_bins(toy: Session) -> None:
    result = cross_validate(toy, window=(0.0, 0.2), settings=SMALL, recipe=replace(FAST, n_iter=2),
                            models=("rnn", "majority"), n_splits=3, n_repeats=1)
    assert result.counts.shape == (60, 4, 10)  # 20 bins of 10 ms summed into 4 of 50 ms
    np.testing.assert_array_equal(result.counts, toy.window(0.0, 0.2).spikes_by_trial(0.05))
    np.testing.assert_array_equal(result.counts.sum(axis=1), toy.spikes.sum(axis=2).T)
    short = cross_validate(toy, window=(0.05, 0.1), settings=replace(SMALL, bin_width=None),
                           recipe=replace(FAST, n_iter=2),
                           models=("rnn",), n_splits=3, n_repeats=1)
    assert short.counts.shape == (60, 5, 10)


@pytest.mark.parametrize(("window", "bin_width", "message"), [
    ((1.0, 2.0), None, "its bins span"), ((0.0, 0.2), 0.03, "must be a multiple"),
    ((0.0, 0.2), 0.015, "must be a multiple"), ((0.2, 0.0), None, "end > start")])
def test_bad_window_or_bin_width(toy: Session, window, bin_width, message) -> None:
    with pytest.raises(ValueError, match=message):
        cross_validate(toy, window=window, settings=replace(SMALL, bin_width=bin_width),
                       recipe=FAST,
                       n_splits=3, n_repeats=1)


def test_scaler_uses_training_statistics_only() -> None:
    rng = np.random.default_rng(0)
    train, test = rng.poisson(2.0, (30, 5, 4)), rng.poisson(5.0, (10, 5, 4))
    train[:, :, 3] = 0  # a silent neuron
    scaler = InputScaler().fit(train)
    scaled = scaler.transform(train)
    np.testing.assert_allclose(scaled[..., :3].mean(axis=(0, 1)), 0, atol=1e-5)
    np.testing.assert_allclose(scaled[..., :3].std(axis=(0, 1)), 1, atol=1e-4)
    assert np.all(scaled[..., 3] == 0)
    assert scaler.transform(test)[..., :3].mean() > 1  # test trials are not re-centred
    with pytest.raises(RuntimeError):
        InputScaler().transform(train)


def test_scaler_projects_on_whitened_principal_components() -> None:
    rng = np.random.default_rng(1)
    shared = rng.normal(size=(40, 6, 1))
    counts = rng.poisson(np.exp(0.5 + 0.8 * shared + 0.1 * rng.normal(size=(40, 6, 12))))
    scaler = InputScaler(n_components=3).fit(counts)
    projected = scaler.transform(counts)
    assert scaler.n_outputs == 3 and projected.shape == (40, 6, 3)
    flat = projected.reshape(-1, 3)
    np.testing.assert_allclose(flat.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(np.cov(flat.T, bias=True), np.eye(3), atol=1e-4)
    assert InputScaler(n_components=50).fit(counts).n_outputs == 12
    with pytest.raises(ValueError):
        InputScaler(standardize=False, n_components=3).fit(counts)


# ------------------------------------------------------------------------------ the RNN
def test_recipes() -> None:
    assert RECOMMENDED_CLASSIFIER.cell == "gru" and PLAIN_CLASSIFIER.cell == "rnn"
    assert PLAIN_RECIPE.validation is None and PLAIN_CLASSIFIER.bin_width is None
    assert CLASSIFIER_RECIPE.validation == 0.4 and CLASSIFIER_RECIPE.weight_decay > 0
    assert MODELS == ("rnn", "logistic", "majority", "best achievable")
    assert all(model in LABELS for model in MODELS)


@pytest.mark.parametrize("balance", ["weights", "undersample"])
def test_rnn_never_sees_a_test_trial(toy: Session, balance: str) -> None:
    labels = toy.is_correct.astype(int)
    counts = toy.window(0.0, 0.2).spikes_by_trial(0.05)
    train_idx = np.arange(0, 60, 2)
    fitted = fit_rnn(counts, labels, train_idx, settings=SMALL, recipe=FAST, balance=balance,
                     seed=0)
    assert set(fitted.fit_idx) <= set(train_idx)
    assert set(fitted.validation_idx) <= set(train_idx)
    assert not np.intersect1d(fitted.fit_idx, fitted.validation_idx).size
    if balance == "undersample":
        assert np.bincount(labels[fitted.fit_idx]).tolist() == [len(fitted.fit_idx) // 2] * 2
        assert np.bincount(labels[fitted.validation_idx]).min() == \
            np.bincount(labels[fitted.validation_idx]).max()
    log_counts = np.log1p(counts[fitted.fit_idx]).reshape(-1, counts.shape[-1])
    np.testing.assert_allclose(fitted.scaler.mean_, log_counts.mean(axis=0), rtol=1e-5)


def test_cross_validation_has_no_leakage(toy_result) -> None:
    for fold in toy_result.folds:
        assert not np.intersect1d(fold.train_idx, fold.test_idx).size
        used = np.union1d(fold.rnn.fit_idx, fold.rnn.validation_idx)
        assert not np.intersect1d(used, fold.test_idx).size
        assert set(used) <= set(fold.train_idx)
        assert len(fold.predictions["rnn"]) == len(fold.test_idx)


def test_cross_validation_is_reproducible(toy: Session, toy_result) -> None:
    again = cross_validate(toy, settings=SMALL, recipe=FAST, n_splits=3, n_repeats=2, seed=1)
    for model in toy_result.models:
        np.testing.assert_array_equal(again.scores(model), toy_result.scores(model))


def test_scores_and_summaries(toy_result) -> None:
    assert toy_result.models == ("rnn", "logistic", "majority")
    assert np.all(toy_result.scores("majority") == 0.5)
    assert toy_result.scores("logistic").mean() > 0.8  # strong signal
    assert toy_result.scores("rnn").mean() > 0.7
    mean, low, high = toy_result.interval("rnn")
    assert low <= mean <= high
    assert toy_result.confusion("rnn").sum() == 60
    assert np.all(toy_result.out_of_fold("logistic", repeat=1) >= 0)
    table = toy_result.table()
    assert list(table.index) == list(toy_result.models)
    assert list(table.columns) == ["label", "metric", "score", "low", "high", "interval"]
    assert (table["metric"] == "balanced accuracy").all()
    assert table.loc["rnn", "label"] == "RNN"
    assert table.loc["rnn", ["score", "low", "high"]].tolist() == pytest.approx(
        [mean, low, high])
    assert (table["interval"] == "95% corrected resampled t over folds").all()
    with pytest.raises(KeyError):
        toy_result.scores("best achievable")


def test_undersampling_and_fewer_training_trials(toy: Session) -> None:
    result = cross_validate(toy, models=("logistic", "majority"), balance="undersample",
                            n_splits=3, n_repeats=1, n_train_trials=24)
    for fold in result.folds:
        assert len(fold.train_idx) == 24
        assert np.mean(result.labels[fold.train_idx]) == pytest.approx(2 / 3, abs=0.05)


def test_best_achievable_uses_the_truth() -> None:
    session = make_toy_session(with_truth=True)
    result = cross_validate(session, models=("majority", "best achievable"), n_splits=3,
                            n_repeats=1)
    assert result.scores("best achievable").mean() == 1.0  # p_correct separates the classes here
    np.testing.assert_array_equal(best_achievable_predictions([0.5, 0.7, 0.9], [1, 1, 0]),
                                  [0, 1, 1])


def test_permutation_test_is_small_for_a_strong_signal(toy: Session) -> None:
    result = permutation_test(toy, model="logistic", n_permutations=9, n_splits=3, n_repeats=1)
    assert result.null_scores.shape == (9,)
    assert result.observed > result.null_scores.max()
    assert result.p_value == pytest.approx(0.1)
    assert abs(np.mean(result.null_scores) - 0.5) < 0.1


# --------------------------------------------------------------------------- bad inputs
def test_one_class_only(toy: Session) -> None:
    with pytest.raises(ValueError, match="both classes"):
        cross_validate(toy, np.ones(60, int), models=("majority",))


def test_too_few_trials_of_a_class(toy: Session) -> None:
    labels = np.r_[np.ones(57, int), np.zeros(3, int)]
    with pytest.raises(ValueError, match="Too few trials"):
        cross_validate(toy, labels, models=("majority",))


def test_labels_and_spikes_of_different_lengths(toy: Session) -> None:
    with pytest.raises(ValueError, match="60 trials"):
        cross_validate(toy, toy.is_correct[:50], models=("majority",))
    with pytest.raises(ValueError):
        check_labels(np.array([0, 1, 2, 1, 0, 1, 0, 2]), n_splits=2)


@pytest.mark.parametrize("options", [{"models": ("svm",)}, {"models": ("best achievable",)},
                                     {"balance": "oversample"}])
def test_bad_options(toy: Session, options: dict) -> None:
    with pytest.raises(ValueError):
        cross_validate(toy, **options)


def test_cross_validate_each_stacks_one_table_per_population(toy: Session) -> None:
    from helpers.classify import cross_validate_each

    options = {"settings": SMALL, "recipe": replace(FAST, n_iter=2), "n_splits": 3,
               "n_repeats": 1, "models": ("logistic", "majority")}
    halves = {"first": toy.select(areas="MD", trials=np.arange(60) < 30 + 15),
              "all": toy}
    table = cross_validate_each(halves, **options)
    assert list(table["where"]) == ["first", "first", "all", "all"]
    assert set(table["model"]) == {"logistic", "majority"}
    assert {"score", "low", "high", "interval", "neurons"} <= set(table.columns)
    alone = cross_validate(toy, **options).table()
    np.testing.assert_allclose(table[table["where"] == "all"]["score"], alone["score"])
    by_name = cross_validate_each(iter([toy]), **options)  # a generator: named by session
    assert set(by_name["where"]) == {toy.name}
    with pytest.raises(ValueError, match="no population"):
        cross_validate_each({}, **options)
