"""helpers.sweep_analysis: local workers, reading a study, the test-set comparison (chapter 6)."""

from __future__ import annotations

from dataclasses import replace

import matplotlib
import numpy as np
import optuna
import pytest

from helpers.models import COURSE_SEQ2SEQ, RECOMMENDED_SEQ2SEQ
from helpers.sweep import SEARCH_RECIPE, SweepData, run_worker
from helpers.sweep_analysis import (
    best_params,
    best_so_far,
    bootstrap_importances,
    evaluate_on_test,
    launch_workers,
    new_study,
    plot,
    trials_table,
    wait_for_workers,
)
from helpers.train import COURSE_RECIPE

matplotlib.use("Agg")
FAST = replace(SEARCH_RECIPE, n_iter=20)


def tiny_data(seed: int = 0) -> SweepData:
    rng = np.random.default_rng(seed)

    def counts(n_trials: int) -> np.ndarray:
        return rng.poisson(0.3, size=(n_trials, 12, 6)).astype(np.float32)

    return SweepData(counts(30), counts(30), counts(10), counts(10), 0.2, "tiny random split")


@pytest.fixture(scope="module")
def study() -> optuna.Study:
    return run_worker("analysis", optuna.storages.InMemoryStorage(), tiny_data(), n_trials=6,
                      recipe=FAST, sampler_seed=0, pruner="none")


def test_analysis_of_a_finished_study(study) -> None:
    table = trials_table(study)
    assert len(table) == 6 and {"value", "lr", "iterations", "seconds"} <= set(table.columns)
    best = best_params(study, k=2)
    assert best[0] == study.best_params and len(best) == 2
    history = best_so_far(study)
    assert history[-1] == pytest.approx(study.best_value) and np.all(np.diff(history) >= 0)
    importances = bootstrap_importances(study, n_boot=3)
    assert len(importances) == 4 and np.allclose(importances.sum(axis=1), 1)


def test_evaluate_on_test_reports_seed_and_test_trial_noise() -> None:
    candidates = {"recommended": (RECOMMENDED_SEQ2SEQ, FAST),
                  "course": (COURSE_SEQ2SEQ, replace(COURSE_RECIPE, n_iter=20))}
    result = evaluate_on_test(candidates, tiny_data(), seeds=(0, 1, 2), n_boot=50)
    table = result.table
    assert list(table.index) == ["recommended", "course"]
    best = table["score"].idxmax()
    assert table.loc[best, "diff_to_best"] == 0 and not table.loc[best, "beyond_test_noise"]
    assert (table["low"] <= table["score"]).all() and (table["score"] <= table["high"]).all()
    assert np.isnan(table.loc["course", "val_bits"])  # trained on every training trial
    assert result.scores["course"].shape == (3,)
    with pytest.raises(ValueError, match="two seeds"):
        evaluate_on_test(candidates, tiny_data(), seeds=(0,))


def test_optuna_figures_leave_the_global_style_alone(study) -> None:
    import matplotlib.pyplot as plt

    before = dict(plt.rcParams)
    assert plot(study, "history").get_ylabel()
    assert dict(plt.rcParams) == before
    assert len(plot(study, "slice", params=["lr", "hidden_size"])) == 2
    with pytest.raises(ValueError, match="kind must be one of"):
        plot(study, "contour")


def test_importances_need_enough_trials() -> None:
    few = run_worker("few", optuna.storages.InMemoryStorage(), tiny_data(), n_trials=2,
                     recipe=FAST, sampler_seed=0, pruner="none")
    with pytest.raises(ValueError, match="at least 4 completed trials"):
        bootstrap_importances(few)


def test_a_failing_worker_is_reported_with_its_log(tmp_path) -> None:
    storage = str(tmp_path / "study.journal")
    workers = launch_workers(1, "broken", storage, 1, log_dir=tmp_path,
                             args=("--data", str(tmp_path / "missing.npz")))
    with pytest.raises(RuntimeError, match="exited with 1(.|\\n)*missing.npz"):
        wait_for_workers(workers, "broken", storage, poll_s=0.2)
    with pytest.raises(ValueError, match="n_workers"):
        launch_workers(0, "broken", storage, 1, log_dir=tmp_path)


def test_new_study_starts_with_the_enqueued_settings(tmp_path) -> None:
    defaults = {"cell": "gru", "hidden_size": 16, "lr": 0.01}
    study = new_study("defaults", str(tmp_path / "s.journal"), enqueue=[defaults])
    assert len(study.trials) == 1 and study.trials[0].state.name == "WAITING"
    again = run_worker("defaults", str(tmp_path / "s.journal"), tiny_data(), n_trials=1,
                       recipe=FAST, pruner="none")
    assert {k: again.trials[0].params[k] for k in defaults} == defaults
