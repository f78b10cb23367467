"""helpers.sweep: workers, the search, the worker command (chapter 6); storages and faults are
tests/test_sweep_storage.py's.

Worker processes run on a tiny random split so that the file stays fast. The PostgreSQL test
needs a server: ``OPTUNA_TEST_STORAGE=postgresql://user:password@host/db`` (``.ci/run`` starts
one), or a server on localhost:5432 that accepts ``postgres`` without a password.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from helpers.metrics import bits_per_spike
from helpers.models import Seq2SeqRNN
from helpers.sweep import (
    DIVERGED_PENALTY,
    SEARCH_RECIPE,
    Objective,
    SearchSpace,
    StorageError,
    SweepData,
    candidate_from_params,
    open_storage,
    run_worker,
)
from helpers.sweep_analysis import launch_workers, pruning_summary, wait_for_workers
from helpers.train import fit

FAST = replace(SEARCH_RECIPE, n_iter=20)
WORKER_ARGS = ("--n-iter", "20")


def tiny_data(seed: int = 0, n_train: int = 30) -> SweepData:
    rng = np.random.default_rng(seed)

    def counts(n_trials: int) -> np.ndarray:
        return rng.poisson(0.3, size=(n_trials, 12, 6)).astype(np.float32)

    return SweepData(counts(n_train), counts(n_train), counts(10), counts(10), 0.2,
                     f"tiny random split {seed}")


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    return tiny_data().save(tmp_path_factory.mktemp("sweep") / "tiny.npz")


def check_four_distinct_trials(study: optuna.Study, processes) -> None:
    trials = study.get_trials()
    assert [t.number for t in trials] == [0, 1, 2, 3], "a trial was lost or duplicated"
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    workers = {t.user_attrs["worker"] for t in trials}
    assert workers == {f"{os.uname().nodename}:{p.pid}" for p in processes}
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 4


def test_two_worker_processes_share_one_journal_study(tmp_path, data_file) -> None:
    storage = str(tmp_path / "study.journal")
    processes = launch_workers(2, "shared", storage, 2, log_dir=tmp_path,
                               args=("--data", str(data_file), *WORKER_ARGS))
    study = wait_for_workers(processes, "shared", storage, total=4, poll_s=0.2)
    check_four_distinct_trials(study, processes)
    assert "2 trials" in (tmp_path / "shared-0.log").read_text()


def _postgres_url() -> str:
    url = os.environ.get("OPTUNA_TEST_STORAGE")
    if url:
        return url
    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        open_storage(url)
    except StorageError as err:
        pytest.skip(f"no PostgreSQL server for the multi-machine test ({err}); set "
                    "OPTUNA_TEST_STORAGE=postgresql://user:password@host/db (.ci/run starts one)")
    return url


def test_two_worker_processes_share_one_postgresql_study(tmp_path, data_file) -> None:
    url = _postgres_url()
    name = f"test-{uuid.uuid4().hex[:8]}"
    processes = launch_workers(2, name, url, 2, log_dir=tmp_path,
                               args=("--data", str(data_file), *WORKER_ARGS))
    try:
        study = wait_for_workers(processes, name, url, total=4, poll_s=0.2)
        check_four_distinct_trials(study, processes)
    finally:
        optuna.delete_study(study_name=name, storage=open_storage(url))


def test_diverging_trials_return_the_penalty_with_their_reason_and_the_study_goes_on() -> None:
    storage = optuna.storages.InMemoryStorage()
    run_worker("nan", storage, tiny_data(), n_trials=2, recipe=FAST, sampler_seed=0,
               space=SearchSpace(lr=(1e30, 1e32)))
    study = run_worker("nan", storage, tiny_data(), n_trials=1, recipe=FAST, sampler_seed=1)
    diverged, healthy = study.trials[:2], study.trials[-1]
    assert all(t.state == TrialState.COMPLETE for t in study.trials)  # TPE sees them
    penalty = Objective(tiny_data(), recipe=FAST).diverged_value
    for trial in diverged:
        assert trial.user_attrs["diverged"] and "became nan" in trial.user_attrs["reason"]
        assert trial.value == pytest.approx(penalty)
    assert "diverged" not in healthy.user_attrs and healthy.value > penalty
    parts = tiny_data().carves(0)  # the penalty: the constant-rate null on the scoring trials
    fit_y, score_y = (tiny_data().trials(parts[k])[1] for k in ("fit", "score"))
    null = np.broadcast_to(fit_y.mean(axis=(0, 1)), score_y.shape)
    assert penalty == pytest.approx(bits_per_spike(null, score_y) - DIVERGED_PENALTY)


def test_each_use_of_validation_has_its_own_trials_and_each_trial_its_own_seed() -> None:
    data = tiny_data()
    parts = data.carves(3)
    assert sorted(np.concatenate(list(parts.values()))) == list(range(len(data.train_inputs)))
    assert len(parts["stop"]) == len(parts["score"]) == 6
    assert data.carves(3)["score"].tolist() == parts["score"].tolist()  # same for every trial
    study = run_worker("seeds", optuna.storages.InMemoryStorage(), data, n_trials=3,
                       recipe=FAST, sampler_seed=0, pruner="none", seed=3)
    assert [t.user_attrs["init_seed"] for t in study.trials] == [4, 5, 6]
    # the objective is the scoring trials' score, not the stopping trials' (the reported ones)
    objective = Objective(data, recipe=FAST, seed=3)
    trial = study.trials[0]
    arch, recipe = candidate_from_params(trial.params, FAST)
    model = Seq2SeqRNN(6, 6, arch)
    fit(model, *data.trials(parts["fit"]), recipe, seed=4, validation=data.trials(parts["stop"]),
        progress=False)
    assert trial.value == pytest.approx(objective.score(model))
    stop_score = bits_per_spike(model.predict(data.trials(parts["stop"])[0])[0],
                                data.trials(parts["stop"])[1])
    assert trial.value != pytest.approx(stop_score)
    with pytest.raises(ValueError, match="too few"):
        SweepData(*(a[:3] for a in (data.train_inputs, data.train_targets)),
                  data.test_inputs, data.test_targets, 0.4).carves(0)


def test_saved_data_leave_the_test_trials_out(tmp_path) -> None:
    loaded = SweepData.load(tiny_data().save(tmp_path / "d.npz"))
    assert len(loaded.test_inputs) == 0 and len(loaded.train_inputs) == 30
    assert loaded.description == "tiny random split 0"


def test_pruned_trials_record_why_and_how_far_they_ran() -> None:
    study = run_worker("pruned", optuna.storages.InMemoryStorage(), tiny_data(), n_trials=2,
                       recipe=FAST, pruner=optuna.pruners.ThresholdPruner(lower=10.0))
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    for trial in study.trials:
        assert "below the pruner" in trial.user_attrs["reason"]
        assert trial.intermediate_values and "seconds" in trial.user_attrs
    summary = pruning_summary(study)
    assert summary["n_pruned"] == 2 and summary["n_complete"] == 0


def test_max_trials_caps_the_study_and_other_data_are_refused() -> None:
    storage = optuna.storages.InMemoryStorage()
    run_worker("cap", storage, tiny_data(), n_trials=2, recipe=FAST, sampler_seed=0)
    study = run_worker("cap", storage, tiny_data(), n_trials=5, max_trials=3, recipe=FAST,
                       sampler_seed=1)
    assert len(study.trials) == 3
    with pytest.raises(ValueError, match="created with data"):
        run_worker("cap", storage, tiny_data(seed=1), n_trials=1, recipe=FAST)


def test_max_iterations_stops_the_study_once_its_training_budget_is_spent() -> None:
    study = run_worker("budget", optuna.storages.InMemoryStorage(), tiny_data(), n_trials=20,
                       max_iterations=30, recipe=FAST, sampler_seed=0, pruner="none")
    spent = np.cumsum([t.user_attrs["iterations"] for t in study.trials])
    assert spent[-1] >= 30 and (len(spent) == 1 or spent[-2] < 30)  # stops once crossed
    assert len(study.trials) < 20
    with pytest.raises(ValueError, match="max_iterations"):
        run_worker("budget", optuna.storages.InMemoryStorage(), tiny_data(), n_trials=1,
                   max_iterations=0, recipe=FAST)


def test_candidate_from_params_refuses_unknown_settings() -> None:
    arch, recipe = candidate_from_params({"cell": "lstm", "hidden_size": 8, "lr": 0.02})
    assert arch.cell == "lstm" and arch.hidden_size == 8 and recipe.lr == 0.02
    with pytest.raises(ValueError, match="unknown parameter"):
        candidate_from_params({"lr": 0.01, "depth": 3})
