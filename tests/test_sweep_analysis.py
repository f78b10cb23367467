"""helpers.sweep_analysis: local workers, reading a study, repeated studies per sampler,
importances, the tuned baseline and the test-set comparison (chapter 6)."""

from __future__ import annotations

import sys
from dataclasses import replace

import matplotlib
import numpy as np
import optuna
import pytest

from helpers.baselines import SmoothingGLM
from helpers.inference import bootstrap_summary, bootstrap_weights
from helpers.models import COURSE_SEQ2SEQ, RECOMMENDED_SEQ2SEQ
from helpers.sweep import SEARCH_RECIPE, SweepData, candidate_from_params, run_worker
from helpers.sweep_analysis import (
    Contrast,
    _resampled_scores,
    _seed_interval,
    best_params,
    best_so_far,
    bootstrap_importances,
    budget_curve,
    evaluate_on_test,
    launch_workers,
    new_study,
    plot,
    repeat_studies,
    sampler_summary,
    trials_table,
    tune_smoothing_glm,
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
    assert len(table) == 6 and {"value", "lr", "iterations", "seconds", "init_seed"} <= set(
        table.columns)
    best = best_params(study, k=2)
    assert best[0] == study.best_params and len(best) == 2
    history = best_so_far(study)
    assert history[-1] == pytest.approx(study.best_value) and np.all(np.diff(history) >= 0)
    importances = bootstrap_importances(study, n_boot=3)
    assert len(importances) == 4 and np.allclose(importances.sum(axis=1), 1)
    assert importances.attrs == {"n_trials": 6, "n_pruned": 0}


def _trial(value, iterations, seconds=1.0, state=optuna.trial.TrialState.COMPLETE):
    return optuna.trial.create_trial(
        state=state, value=value if state == optuna.trial.TrialState.COMPLETE else None,
        params={"x": 0.5}, distributions={"x": optuna.distributions.FloatDistribution(0, 1)},
        user_attrs={"iterations": iterations, "seconds": seconds})


def test_budget_curves_count_every_trials_training_pruned_ones_included() -> None:
    pruned = optuna.trial.TrialState.PRUNED
    trials = [_trial(0.1, 100), _trial(None, 50, state=pruned), _trial(0.3, 100), _trial(0.2, 10)]
    for number, trial in enumerate(trials):
        trial.number = number
    curve = budget_curve(trials, [50, 100, 200, 250, 260])
    assert np.isnan(curve[0])  # nothing finished within 50 iterations
    assert curve[1:].tolist() == [0.1, 0.1, 0.3, 0.3]  # the pruned trial's 50 count
    assert budget_curve(trials, [2.5], resource="seconds").tolist() == [0.1]
    with pytest.raises(ValueError, match="resource"):
        budget_curve(trials, [1], resource="trials")


def test_sampler_summary_compares_at_the_least_budget_every_study_spent() -> None:
    runs = {"a": [[_trial(0.1, 100), _trial(0.2, 100)], [_trial(0.3, 150), _trial(0.1, 150)]],
            "b": [[_trial(0.5, 400)], [_trial(0.0, 100), _trial(0.4, 100)]]}
    for studies in runs.values():
        for trials in studies:
            for number, trial in enumerate(trials):
                trial.number = number
    summary = sampler_summary(runs, n_grid=4, n_boot=200)
    assert summary["budget"] == 200 and summary["grid"][-1] == 200
    a, b = summary["samplers"]["a"], summary["samplers"]["b"]
    assert a["n_studies"] == 2 and a["best_mean"] == pytest.approx((0.2 + 0.3) / 2)
    assert a["best_low"] <= a["best_mean"] <= a["best_high"]
    assert np.isnan(b["best_mean"])  # one study of b had nothing finished within 200


def test_repeated_studies_use_their_own_sampler_seeds() -> None:
    runs = repeat_studies(tiny_data(), samplers=("random",), n_studies=2, n_trials=2,
                          recipe=FAST, pruner="none")
    first, second = runs["random"]
    assert len(first) == len(second) == 2
    assert first[0].params != second[0].params
    with pytest.raises(ValueError, match="n_studies >= 2"):
        repeat_studies(tiny_data(), n_studies=1)
    budgeted = repeat_studies(tiny_data(), samplers=("random",), n_studies=2, n_trials=20,
                              recipe=FAST, pruner="none", max_iterations=30)["random"]
    for trials in budgeted:  # each study stops once it has trained 30 iterations in all
        spent = np.cumsum([t.user_attrs["iterations"] for t in trials])
        assert spent[-1] >= 30 and len(trials) < 20 and (len(spent) == 1 or spent[-2] < 30)


def test_importances_include_pruned_trials_at_their_value_when_pruned() -> None:
    data = tiny_data()
    study = run_worker("prune", optuna.storages.InMemoryStorage(), data, n_trials=6,
                       recipe=FAST, sampler_seed=0, sampler="random",
                       pruner=optuna.pruners.ThresholdPruner(lower=-0.05, n_warmup_steps=5))
    pruned = study.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    assert pruned and all(np.isfinite(t.user_attrs["score_when_pruned"]) for t in pruned)
    importances = bootstrap_importances(study, n_boot=2)
    assert importances.attrs == {"n_trials": 6, "n_pruned": len(pruned)}
    table = trials_table(study)
    when_pruned = table.loc[[t.number for t in pruned], "score_when_pruned"]
    assert np.allclose(when_pruned, [t.user_attrs["score_when_pruned"] for t in pruned])
    assert table.query("state == 'complete'")["score_when_pruned"].isna().all()


def test_the_tuned_baseline_is_the_best_on_the_scoring_trials() -> None:
    best, table = tune_smoothing_glm(tiny_data(), seed=0, sigmas=(0.01, 0.04),
                                     alphas=(0.01, 1.0))
    assert len(table) == 4
    top = table.loc[table["value"].idxmax()]
    assert (best.sigma_s, best.alpha) == (top["sigma_s"], top["alpha"])


def test_evaluate_on_test_reports_a_paired_contrast_under_one_budget() -> None:
    glm = SmoothingGLM(sigma_s=0.02, alpha=0.1)
    candidates = {"recommended": (RECOMMENDED_SEQ2SEQ, FAST), "course": (COURSE_SEQ2SEQ, FAST),
                  "smoothing": glm}
    result = evaluate_on_test(candidates, tiny_data(), seeds=(0, 1, 2), n_boot=50,
                              contrast=("recommended", "course"))
    table = result.table
    assert list(table.index) == ["recommended", "course", "smoothing"]
    assert {"label", "metric", "score", "low", "high", "interval", "seed_sd"} <= set(table)
    assert (table["low"] <= table["score"]).all() and (table["score"] <= table["high"]).all()
    assert np.isnan(table.loc["smoothing", "stop_bits"]) and result.scores["course"].shape == (3,)
    contrast = result.contrast
    assert contrast.name == "recommended - course" and contrast.n_seeds == 3
    difference = result.scores["recommended"].mean() - result.scores["course"].mean()
    assert contrast.mean == pytest.approx(difference)
    assert not contrast.same_settings and f"{contrast.mean:+.3f}" in contrast.verdict()
    versus = result.paired("recommended", "smoothing")  # same seeds and resamples: paired
    assert versus.mean == pytest.approx(result.scores["recommended"].mean()
                                        - result.scores["smoothing"].mean())
    wider = result.paired("recommended", "smoothing", level=0.975)
    assert wider.low < versus.low <= versus.mean <= versus.high < wider.high
    same = result.paired("course", "course")
    assert same.mean == same.low == same.high == 0
    with pytest.raises(ValueError, match="unknown candidate"):
        result.paired("recommended", "lstm")


def test_no_candidate_gets_another_budget() -> None:
    for other in (replace(COURSE_RECIPE, n_iter=20), replace(FAST, n_iter=40),
                  replace(FAST, patience=10)):
        with pytest.raises(ValueError, match="budget"):
            evaluate_on_test({"a": (RECOMMENDED_SEQ2SEQ, FAST), "b": (COURSE_SEQ2SEQ, other)},
                             tiny_data(), seeds=(0, 1))
    with pytest.raises(ValueError, match="two seeds"):
        evaluate_on_test({"a": (RECOMMENDED_SEQ2SEQ, FAST)}, tiny_data(), seeds=(0,))
    with pytest.raises(ValueError, match="contrast"):
        evaluate_on_test({"a": (RECOMMENDED_SEQ2SEQ, FAST)}, tiny_data(), seeds=(0, 1),
                         contrast=("a", "b"))


def test_identical_settings_are_not_called_different() -> None:
    same = (RECOMMENDED_SEQ2SEQ, FAST)
    result = evaluate_on_test({"best": same, "default": same}, tiny_data(), seeds=(0, 1),
                              n_boot=20, contrast=("best", "default"))
    contrast = result.contrast
    assert contrast.same_settings and contrast.mean == contrast.low == contrast.high == 0
    assert "no difference to test" in contrast.verdict()
    tie = Contrast("a - b", 0.01, -0.002, 0.02, 5)
    assert "includes 0" in tie.verdict() and "better" not in tie.verdict()
    assert "a predicts" in Contrast("a - b", 0.01, 0.001, 0.02, 5).verdict()
    assert "b predicts" in Contrast("a - b", -0.01, -0.02, -0.001, 5).verdict()


def _contrast_rejects(effect: float, seed_sd: float, n_reps: int = 200) -> float:
    """Share of simulated studies whose contrast interval excludes 0: per-seed test scores
    with a shared trial effect, seed noise and trial-by-seed noise (5 seeds, 20 trials)."""
    rejects = 0
    for rep in range(n_reps):
        rng = np.random.default_rng(rep)
        spikes, trial = rng.poisson(50, 20).astype(float), rng.normal(0, 3, 20)
        per_seed = []
        for shift in (effect, 0.0):
            seed_effect = rng.normal(shift, seed_sd, (5, 1)) * spikes * np.log(2)
            gains = trial + seed_effect + rng.normal(0, 1, (5, 20))
            per_seed.append(_resampled_scores(gains, spikes, bootstrap_weights(20, 300, rep)))
        _, low, high = _seed_interval(per_seed[0] - per_seed[1])
        rejects += low > 0 or high < 0
    return rejects / n_reps


def test_the_contrast_keeps_its_false_positive_rate_and_finds_a_planted_difference() -> None:
    assert _contrast_rejects(0.0, seed_sd=0.02) <= 0.05  # seed noise dominates
    assert _contrast_rejects(0.0, seed_sd=0.0) <= 0.05  # test-trial noise only
    assert _contrast_rejects(0.05, seed_sd=0.02) >= 0.7  # measured 0.80
    assert _contrast_rejects(0.03, seed_sd=0.005) >= 0.9  # measured 0.98


def test_a_percentile_interval_over_five_seeds_would_not_keep_it() -> None:
    rng = np.random.default_rng(0)
    rejects = 0
    for rep in range(200):
        diffs = rng.normal(0, 1, 5)
        _, low, high = bootstrap_summary(bootstrap_weights(5, 300, rep) @ diffs / 5)
        rejects += low > 0 or high < 0
    assert rejects / 200 > 0.08  # why evaluate_on_test uses a t interval over seeds


class GuardedArray:
    """Test trials that record who reads them: any access while no ``evaluate_on_test`` frame
    is on the call stack is a leak."""

    def __init__(self, array: np.ndarray, reads: list[bool]) -> None:
        self._array, self._reads = array, reads

    def _read(self) -> np.ndarray:
        frame, inside = sys._getframe(1), False
        while frame is not None:
            inside |= frame.f_code.co_name == "evaluate_on_test"
            frame = frame.f_back
        self._reads.append(inside)
        return self._array

    def __array__(self, dtype=None, copy=None):
        return self._read() if dtype is None else self._read().astype(dtype)

    def __getitem__(self, key):
        return self._read()[key]

    def __len__(self) -> int:
        return len(self._read())

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._read(), name)

    def __reduce__(self):  # pickling for another process is a read too
        return (np.asarray, (self._read(),))


def test_only_the_final_comparison_reads_the_test_trials(tmp_path) -> None:
    plain, reads = tiny_data(), []
    data = replace(plain, test_inputs=GuardedArray(plain.test_inputs, reads),
                   test_targets=GuardedArray(plain.test_targets, reads))
    # the whole search: saved data for workers, a study, its analysis, the tuned baseline
    assert len(SweepData.load(data.save(tmp_path / "d.npz")).test_inputs) == 0
    searched = run_worker("guarded", optuna.storages.InMemoryStorage(), data, n_trials=5,
                          recipe=FAST, sampler_seed=0, sampler="random")
    trials_table(searched), best_so_far(searched), bootstrap_importances(searched, n_boot=2)
    repeat_studies(data, samplers=("random",), n_studies=2, n_trials=1, recipe=FAST)
    glm, _ = tune_smoothing_glm(data, sigmas=(0.02,), alphas=(0.1,))
    chosen = candidate_from_params(searched.best_params, FAST)
    assert reads == [], "the search read the test trials"
    result = evaluate_on_test({"best": chosen, "smoothing": glm}, data, seeds=(0, 1), n_boot=20)
    assert reads and all(reads), "only evaluate_on_test may read the test trials"
    unguarded = evaluate_on_test({"best": chosen, "smoothing": glm}, plain, seeds=(0, 1),
                                 n_boot=20)
    assert np.allclose(result.table["score"], unguarded.table["score"])


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
    with pytest.raises(ValueError, match="at least 4 scored trials"):
        bootstrap_importances(few)


def test_a_failing_worker_is_reported_with_its_log(tmp_path) -> None:
    storage = str(tmp_path / "study.journal")
    workers = launch_workers(1, "broken", storage, 1, log_dir=tmp_path,
                             args=("--data", str(tmp_path / "missing.npz")))
    with pytest.raises(RuntimeError, match="exited with 2(.|\\n)*missing.npz: cannot read a split"):
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
