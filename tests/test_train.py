"""The training loop (helpers.train.fit, chapter 2): recipes, early stopping, callbacks,
learning curves and bad inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from helpers.models import Seq2SeqRNN, TrialClassifier
from helpers.train import COURSE_RECIPE, RECOMMENDED_FIT, FitSettings, History, fit


def _data(n_trials=24, n_bins=15, n_in=6, n_out=5, seed=0):
    rng = np.random.default_rng(seed)
    drive = np.sin(np.linspace(0, 3, n_bins))[None, :, None] * rng.uniform(0.5, 2, (n_trials, 1, 1))
    inputs = rng.poisson(0.5 + 0.4 * drive * np.ones((1, 1, n_in)))
    targets = rng.poisson(0.3 + 0.3 * drive * np.ones((1, 1, n_out)))
    return inputs.astype(np.float32), targets.astype(np.float32)


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


def test_same_seed_gives_identical_losses_and_weights():
    inputs, targets = _data()
    runs = []
    for _ in range(2):
        model = Seq2SeqRNN(6, 5, hidden_size=3, cell="gru", bidirectional=True)
        history = fit(model, inputs, targets, n_iter=15, seed=3, progress=False)
        runs.append((history.train_loss, history.val_loss, _weights(model)))
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][2], runs[1][2], strict=True))
    other = Seq2SeqRNN(6, 5, hidden_size=3, cell="gru", bidirectional=True)
    assert fit(other, inputs, targets, n_iter=15, seed=4, progress=False).train_loss != runs[0][0]


def test_training_lowers_the_loss_and_records_both_curves():
    inputs, targets = _data()
    model = Seq2SeqRNN(6, 5, hidden_size=4)
    history = fit(model, inputs, targets, n_iter=60, eval_every=5, progress=False)
    assert isinstance(history, History)
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_iterations[0] == 0 and history.val_iterations[1] == 5
    assert history.n_train_trials + history.n_val_trials == len(inputs)
    assert history.n_val_trials == round(0.2 * len(inputs)) or history.n_val_trials == 5


def test_validation_none_runs_exactly_n_iter():
    inputs, targets = _data()
    history = fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=12, validation=None, progress=False)
    assert history.n_iterations == 12 and history.best_iteration == 12
    assert history.val_loss == [] and not history.stopped_early


def test_early_stopping_restores_the_best_weights():
    inputs, targets = _data(n_trials=12)
    noise = np.random.default_rng(1).poisson(0.4, targets.shape).astype(np.float32)
    model = Seq2SeqRNN(6, 5, hidden_size=16, cell="gru")
    history = fit(model, inputs, noise, n_iter=400, lr=0.05, patience=20, eval_every=2,
                  validation=(inputs[:4], targets[:4]), progress=False)
    assert history.stopped_early and history.n_iterations < 400
    assert history.best_iteration < history.n_iterations
    with torch.no_grad():
        val = model.loss(model(torch.as_tensor(inputs[:4])), torch.as_tensor(targets[:4])).item()
    assert val == pytest.approx(history.best_val_loss, rel=1e-6)


def test_the_readout_starts_at_the_mean_rate():
    inputs, targets = _data()
    model = Seq2SeqRNN(6, 5)
    history = fit(model, inputs, targets, n_iter=1, lr=1e-12, validation=None, progress=False)
    null = targets.mean(axis=(0, 1))
    null_loss = np.mean(null - targets * np.log(null))
    assert history.train_loss[0] == pytest.approx(null_loss, abs=0.05)


def test_integer_labels_train_a_classifier_with_class_weights():
    inputs, _ = _data(n_trials=30)
    labels = (inputs.sum(axis=(1, 2)) > np.median(inputs.sum(axis=(1, 2)))).astype(int)
    model = TrialClassifier(6, hidden_size=4)
    history = fit(model, inputs, labels, n_iter=20, class_weights=np.array([1.0, 2.0]),
                  progress=False)
    assert history.n_val_trials == 6  # stratified 20 %
    assert np.isfinite(history.train_loss).all()


def test_minibatches_are_supported():
    inputs, targets = _data()
    history = fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=10, batch_size=8, validation=None,
                  progress=False)
    assert history.n_iterations == 10


def test_each_pass_of_minibatches_visits_distinct_trials():
    from helpers.train import _batches

    batches = _batches(24, 8, seed=0)
    for _ in range(2):  # two passes, each a fresh permutation cut in three
        one_pass = np.concatenate([next(batches).numpy() for _ in range(3)])
        assert sorted(one_pass) == list(range(24))
    assert next(_batches(24, None, seed=0)) is None  # full batch


def test_non_finite_inputs_are_caught_before_training():
    inputs, targets = _data()
    inputs[0, 0, 0] = np.inf
    with pytest.raises(FloatingPointError, match="inputs contain 1 NaN or infinite"):
        fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=5, progress=False)


class _Diverging(Seq2SeqRNN):
    """A rate model whose loss blows up after a few updates, like one with a far too large lr."""

    def loss(self, outputs, targets, **kwargs):
        loss = super().loss(outputs, targets)
        return loss * torch.exp(torch.exp(self.readout.bias.abs().sum() * 1e3))


def test_a_diverging_loss_raises_a_helpful_error():
    inputs, targets = _data()
    with pytest.raises(FloatingPointError, match=r"became (inf|nan) at iteration \d+\. Lower the"):
        fit(_Diverging(6, 5), inputs, targets, n_iter=50, lr=10.0, validation=None,
            progress=False)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"n_iter": 0}, ValueError, "n_iter"),
    ({"lr": -1.0}, ValueError, "lr > 0"),
    ({"validation": 1.5}, ValueError, "test_fraction"),
])
def test_bad_settings_are_rejected(kwargs, error, message):
    inputs, targets = _data()
    with pytest.raises(error, match=message):
        fit(Seq2SeqRNN(6, 5), inputs, targets, progress=False, **kwargs)


def test_mismatched_trials_and_models_without_loss_are_rejected():
    inputs, targets = _data()
    with pytest.raises(ValueError, match="trials"):
        fit(Seq2SeqRNN(6, 5), inputs, targets[:-1], progress=False)
    with pytest.raises(TypeError, match="not a helpers.models.Model"):
        fit(torch.nn.Linear(6, 5), inputs, targets, progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_trains_on_the_gpu_when_the_model_is_there():
    inputs, targets = _data()
    model = Seq2SeqRNN(6, 5).cuda()
    fit(model, inputs, targets, n_iter=5, progress=False)
    assert next(model.parameters()).is_cuda


def test_monitor_trials_are_recorded_but_never_decide():
    inputs, targets = _data()
    watched = fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=20, eval_every=5, seed=1,
                  monitor=(inputs[:3], targets[:3]), progress=False)
    plain = fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=20, eval_every=5, seed=1,
                progress=False)
    assert watched.train_loss == plain.train_loss and watched.val_loss == plain.val_loss
    assert len(watched.monitor_loss) == len(watched.val_iterations) == 5
    only_monitor = fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=10, eval_every=5,
                       validation=None, monitor=(inputs[:3], targets[:3]), progress=False)
    assert only_monitor.val_iterations == [0, 5, 10] and only_monitor.val_loss == []
    assert only_monitor.n_iterations == 10


def test_history_plot_draws_all_curves():
    import matplotlib

    matplotlib.use("Agg")
    inputs, targets = _data()
    history = fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=10, monitor=(inputs, targets),
                  progress=False)
    ax = history.plot(label="model")
    assert [line.get_label() for line in ax.get_lines()][:3] == [
        "model training", "model validation", "model held-out"]


# ------------------------------------------------------------------------------ recipes
def test_recipes():
    assert RECOMMENDED_FIT == FitSettings()
    assert (RECOMMENDED_FIT.n_iter, RECOMMENDED_FIT.lr, RECOMMENDED_FIT.validation,
            RECOMMENDED_FIT.batch_size) == (2000, 0.02, 0.2, 32)
    assert (COURSE_RECIPE.n_iter, COURSE_RECIPE.lr, COURSE_RECIPE.validation,
            COURSE_RECIPE.batch_size) == (1000, 0.005, None, None)  # full batch
    assert COURSE_RECIPE.num_threads is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        COURSE_RECIPE.lr = 0.1


def test_the_course_recipe_is_passed_positionally():
    inputs, targets = _data()
    course = fit(Seq2SeqRNN(6, 5), inputs, targets, COURSE_RECIPE, n_iter=20, progress=False)
    assert course.n_iterations == 20 and course.val_loss == [] and course.n_val_trials == 0
    by_hand = fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=20, lr=0.005, validation=None,
                  batch_size=None, num_threads=None, progress=False)
    assert course.train_loss == by_hand.train_loss
    assert COURSE_RECIPE.n_iter == 1000  # the override changed this call only


def test_unknown_overrides_name_the_settings():
    inputs, targets = _data()
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['epochs'\].*'n_iter'"):
        fit(Seq2SeqRNN(6, 5), inputs, targets, epochs=10, progress=False)
    with pytest.raises(TypeError, match="settings must be a FitSettings"):
        fit(Seq2SeqRNN(6, 5), inputs, targets, {"n_iter": 10}, progress=False)


# ------------------------------------------------------------------------------ callbacks
def test_on_validation_is_called_after_every_validation_check():
    inputs, targets = _data()
    calls = []
    history = fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=20, eval_every=5, progress=False,
                  on_validation=lambda iteration, loss: calls.append((iteration, loss)))
    assert [iteration for iteration, _ in calls] == history.val_iterations == [0, 5, 10, 15, 20]
    assert [loss for _, loss in calls] == history.val_loss
    assert all(isinstance(i, int) and isinstance(v, float) for i, v in calls)


class _Pruned(Exception):
    """Stands in for optuna.TrialPruned."""


def test_an_exception_from_on_validation_stops_training_and_propagates(monkeypatch, capsys):
    monkeypatch.setenv("HELPERS_PROGRESS", "final")
    inputs, targets = _data()
    seen = []

    def prune(iteration, loss):
        seen.append(iteration)
        if iteration >= 10:
            raise _Pruned(f"pruned at {iteration}")

    before = torch.get_num_threads()
    with pytest.raises(_Pruned, match="pruned at 10"):
        fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=100, eval_every=5, on_validation=prune,
            num_threads=1)
    assert seen == [0, 5, 10]
    assert torch.get_num_threads() == before  # threads restored
    assert capsys.readouterr().out.count("\n") <= 1  # the bar was closed once, not left open


def test_on_validation_needs_validation():
    inputs, targets = _data()
    with pytest.raises(ValueError, match="on_validation.*validation=None"):
        fit(Seq2SeqRNN(6, 5), inputs, targets, validation=None, progress=False,
            on_validation=lambda iteration, loss: None)


# ------------------------------------------------------------------------------ history
def test_history_names_the_loss_of_the_model():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inputs, targets = _data(n_trials=30)
    rates = fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=5, progress=False)
    assert rates.loss_name == "Poisson loss"
    labels = np.array([0, 1] * 15)
    classifier = fit(TrialClassifier(6, hidden_size=3), inputs, labels, n_iter=5, progress=False)
    assert classifier.loss_name == "cross-entropy"
    fig, ax = plt.subplots()
    assert rates.plot(ax=ax).get_ylabel() == "Poisson loss"
    assert classifier.plot(ax=ax).get_ylabel() == "cross-entropy"
    assert ax.get_xlabel() == "iteration"
    plt.close(fig)
    assert History().loss_name == "loss"


def test_history_describe():
    stopped = History(train_loss=[1.0] * 139, val_loss=[1.0], best_iteration=90,
                      stopped_early=True)
    assert stopped.describe(300) == "stopped early at iteration 139 of 300, kept 90"
    ran = History(train_loss=[1.0] * 50, val_loss=[1.0], best_iteration=45)
    assert ran.describe(50) == "ran all 50 iterations, kept 45"
    assert History(train_loss=[1.0] * 12, best_iteration=12).describe(12) == (
        "ran all 12 iterations")
    assert np.isnan(History().best_val_loss)


def test_fit_prints_one_summary_line_in_final_mode(monkeypatch, capsys):
    monkeypatch.setenv("HELPERS_PROGRESS", "final")
    inputs, targets = _data(n_trials=12)
    noise = np.random.default_rng(1).poisson(0.4, targets.shape).astype(np.float32)
    history = fit(Seq2SeqRNN(6, 5, hidden_size=16), inputs, noise, n_iter=400, lr=0.05,
                  patience=20, eval_every=2, validation=(inputs[:4], targets[:4]),
                  desc="rate model")
    assert history.stopped_early
    captured = capsys.readouterr()
    assert captured.out == (f"rate model: stopped early at iteration {history.n_iterations} "
                            f"of 400, kept {history.best_iteration}\n")
    assert captured.err == ""
    fit(Seq2SeqRNN(6, 5), inputs, targets, n_iter=7, validation=None, desc="plain")
    assert capsys.readouterr().out == "plain: ran all 7 iterations\n"
