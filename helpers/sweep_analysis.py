"""Running and reading a search of :mod:`helpers.sweep` (chapter 6).

- :func:`new_study`, :func:`launch_workers`, :func:`wait_for_workers`: a study with the
  defaults queued first, local worker processes of ``python -m helpers.sweep``, and waiting for
  them with one progress bar.
- :func:`trials_table`, :func:`best_params`, :func:`best_so_far`, :func:`budget_curve`,
  :func:`pruning_summary`: what a study holds; the best score found against the training
  iterations (or seconds) spent.
- :func:`repeat_studies`, :func:`sampler_summary`: many small studies per sampler, each with its
  own sampler seed, and their mean best-so-far curves with intervals over studies.
- :func:`bootstrap_importances`: fANOVA importances, pruned trials included, on bootstrap
  resamples of the trials, to see how fragile they are.
- :func:`tune_smoothing_glm`: the smoothing + GLM baseline tuned on the search's own carves.
- :func:`evaluate_on_test`: re-train chosen candidates over several seeds under one budget and
  score them, at last, on the test trials; a pre-stated paired contrast (:class:`Contrast`).
- :func:`plot`: Optuna's matplotlib figures (they render in the static site).
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from helpers.baselines import SmoothingGLM
from helpers.evaluation import gain_per_trial, score_table
from helpers.inference import bootstrap_summary, bootstrap_weights
from helpers.metrics import bits_per_spike
from helpers.models import Seq2SeqRNN, Seq2SeqSettings
from helpers.runtime import ProgressBar
from helpers.sweep import SEARCH_RECIPE, SweepData, open_storage, optuna, run_worker
from helpers.train import FitSettings, fit

TrialState = optuna.trial.TrialState

__all__ = [
    "new_study", "launch_workers", "wait_for_workers", "trials_table", "best_params", "best_so_far",
    "budget_curve", "pruning_summary", "repeat_studies", "sampler_summary",
    "bootstrap_importances", "tune_smoothing_glm", "evaluate_on_test", "TestComparison",
    "Contrast", "plot",
]


# ================================================================================== workers
def new_study(name: str, storage, *, enqueue: tuple[dict, ...] | list[dict] = ()
              ) -> optuna.Study:
    """Create (or load) a study to maximise, with ``enqueue``'d settings as its first trials
    (e.g. the recommended defaults, so that the search is measured against them). Also turns
    Optuna's informational log lines off in this process.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=name, storage=open_storage(storage),
                                direction="maximize", load_if_exists=True)
    for params in enqueue:
        study.enqueue_trial(dict(params))
    return study


def launch_workers(n_workers: int, study: str, storage: str, n_trials: int, *,
                   args: tuple[str, ...] = (), log_dir: str | os.PathLike[str],
                   first_seed: int = 0, check_storage: bool = True) -> list[subprocess.Popen]:
    """Start ``n_workers`` processes of ``python -m helpers.sweep`` on this machine.

    Each gets one CPU thread and its own sampler seed (``first_seed + i``); its output goes to
    ``log_dir/<study>-<i>.log``. With ``check_storage`` the storage is opened here first, so
    that a bad URL fails at once with a clear :class:`~helpers.sweep_storage.StorageError`;
    without it the workers alone create it, all at once, as on a cluster (the tests of the
    table-creation race on an empty database use this).

    Args:
        n_workers: processes to start (one per CPU core is the most that helps).
        study, storage, n_trials: the worker's ``--study``, ``--storage``, ``--n-trials``.
        args: further options, e.g. ``("--small", "--n-iter", "300")``.
        log_dir: an existing folder for the workers' logs.
        first_seed: sampler seed of the first worker.
        check_storage: open the storage in this process before starting the workers.
    """
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}.")
    if check_storage:
        open_storage(str(storage))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "HELPERS_PROGRESS": "off"}
    processes = []
    for i in range(n_workers):
        log = open(Path(log_dir) / f"{study}-{i}.log", "w")  # noqa: SIM115 (closed by the child)
        command = [sys.executable, "-m", "helpers.sweep", "--study", study, "--storage",
                   str(storage), "--n-trials", str(n_trials), "--sampler-seed",
                   str(first_seed + i), *args]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        process.log_path = log.name
        log.close()
        processes.append(process)
    return processes


def _counts(trials: list[optuna.trial.FrozenTrial]) -> dict[str, int]:
    return {state: sum(t.state == TrialState[state.upper()] for t in trials)
            for state in ("complete", "pruned", "fail", "running")}


def wait_for_workers(processes: list[subprocess.Popen], study: str, storage, *,
                     total: int | None = None, desc: str = "trials",
                     poll_s: float = 1.0) -> optuna.Study:
    """Wait for worker processes, showing the study's finished trials in one progress bar.

    Returns:
        The study, loaded from the storage.

    Raises:
        RuntimeError: a worker exited with an error (the message ends with its log).
    """
    storage = open_storage(storage)
    start, loaded = time.perf_counter(), None
    with ProgressBar(total=total, desc=desc, unit="trial") as bar:
        while True:
            running = [p for p in processes if p.poll() is None]
            try:
                loaded = loaded or optuna.load_study(study_name=study, storage=storage)
            except KeyError:  # no worker has created the study yet
                pass
            if loaded is not None:
                trials = loaded.get_trials(deepcopy=False)
                bar.update(sum(t.state.is_finished() for t in trials) - bar.n)
            if not running:
                break
            time.sleep(poll_s)
        counts = _counts(loaded.get_trials(deepcopy=False)) if loaded else _counts([])
        bar.finish(f"{counts['complete']} complete, {counts['pruned']} pruned, "
                   f"{counts['fail']} failed; {len(processes)} workers, "
                   f"{time.perf_counter() - start:.0f} s")
    for process in processes:
        if process.returncode:
            log = Path(process.log_path).read_text().strip().splitlines()[-15:]
            raise RuntimeError(f"worker {process.args[-1]} exited with {process.returncode}; "
                               "end of its log:\n" + "\n".join(log))
    if loaded is None:
        raise RuntimeError(f"the workers finished without creating study {study!r}.")
    return loaded


# =============================================================================== the study
def trials_table(study: optuna.Study):
    """One row per trial: ``state``, ``value`` (validation bits/spike on the scoring trials),
    the parameters, ``iterations``, ``seconds``, ``init_seed``, ``worker``, ``reason`` and
    ``score_when_pruned`` (a pruned trial's score on the scoring trials when it stopped); a
    ``pandas.DataFrame``."""
    import pandas as pd

    rows = [{"trial": t.number, "state": t.state.name.lower(), "value": t.value, **t.params,
             **{k: t.user_attrs.get(k) for k in ("iterations", "seconds", "init_seed", "worker",
                                                  "reason", "score_when_pruned")}}
            for t in study.get_trials(deepcopy=False)]
    return pd.DataFrame(rows).set_index("trial")


def best_params(study: optuna.Study, k: int = 2) -> list[dict]:
    """Parameters of the ``k`` best completed trials (by validation score), best first."""
    done = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                  key=lambda t: -t.value)
    chosen = []
    for trial in done:
        if trial.params not in chosen:
            chosen.append(trial.params)
    return chosen[:k]


def best_so_far(study: optuna.Study) -> np.ndarray:
    """Best validation score after each trial, by trial number (NaN before the first)."""
    values = np.full(len(study.trials), -np.inf)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        values[trial.number] = trial.value
    best = np.maximum.accumulate(values)
    return np.where(np.isinf(best), np.nan, best)


def _spent(trials: list[optuna.trial.FrozenTrial], resource: str) -> np.ndarray:
    if resource not in ("iterations", "seconds"):
        raise ValueError(f"resource must be 'iterations' or 'seconds', got {resource!r}.")
    return np.array([float(t.user_attrs.get(resource, 0.0)) for t in trials])


def budget_curve(study: optuna.Study | list[optuna.trial.FrozenTrial], grid: np.ndarray, *,
                 resource: str = "iterations") -> np.ndarray:
    """Best validation score found once the study had spent each budget of ``grid``.

    Trials are taken in the order of their numbers (one worker: the order they ran); a trial
    counts once its cumulative ``resource`` (``"iterations"`` or ``"seconds"`` of training,
    pruned and diverged trials included) is within the budget. NaN before the first completed
    trial.

    Returns:
        ``(len(grid),)``.
    """
    trials = sorted(study.get_trials(deepcopy=False) if isinstance(study, optuna.Study)
                    else study, key=lambda t: t.number)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    spent = np.cumsum(_spent(finished, resource))
    values = np.array([t.value if t.state == TrialState.COMPLETE else -np.inf for t in finished])
    best = np.maximum.accumulate(values) if len(values) else values
    grid = np.asarray(grid, dtype=float)
    reached = np.searchsorted(spent, grid, side="right")  # trials done within each budget
    curve = np.array([best[n - 1] if n else -np.inf for n in reached])
    return np.where(np.isinf(curve), np.nan, curve)


def pruning_summary(study: optuna.Study) -> dict[str, float]:
    """How much training the pruner saved, estimated from the trials' recorded times.

    A pruned trial is assumed to have needed, had it run on, the median time and iterations of
    the completed trials: ``seconds_saved`` is that total minus what pruned trials did run.
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))

    def attr(trials, key):
        return np.array([float(t.user_attrs.get(key, np.nan)) for t in trials])

    median_s = float(np.nanmedian(attr(complete, "seconds"))) if complete else math.nan
    median_it = float(np.nanmedian(attr(complete, "iterations"))) if complete else math.nan
    spent_pruned = float(np.nansum(attr(pruned, "seconds")))
    spent = float(np.nansum(attr(complete, "seconds"))) + spent_pruned
    saved = max(len(pruned) * median_s - spent_pruned, 0.0) if pruned else 0.0
    return {"n_complete": len(complete), "n_pruned": len(pruned),
            "median_complete_seconds": median_s, "median_complete_iterations": median_it,
            "pruned_iterations": float(np.nansum(attr(pruned, "iterations"))),
            "seconds_spent": spent, "seconds_saved": saved,
            "fraction_saved": saved / (spent + saved) if spent + saved > 0 else math.nan}


# ======================================================================= repeated studies
def _one_study(job: tuple) -> list[optuna.trial.FrozenTrial]:
    data, sampler, sampler_seed, n_trials, pruner, seed, recipe, enqueue, max_iterations = job
    import torch

    torch.set_num_threads(1)
    storage = optuna.storages.InMemoryStorage()
    study = new_study(f"{sampler}-{sampler_seed}", storage, enqueue=enqueue)
    run_worker(study.study_name, storage, data, n_trials=n_trials, sampler=sampler,
               sampler_seed=sampler_seed, pruner=pruner, recipe=recipe, seed=seed,
               max_iterations=max_iterations)
    return optuna.load_study(study_name=study.study_name, storage=storage).get_trials()


def repeat_studies(data: SweepData, *, samplers: tuple[str, ...] = ("tpe", "random"),
                   n_studies: int = 10, n_trials: int = 12, pruner: str = "median",
                   seed: int = 0, recipe: FitSettings = SEARCH_RECIPE,
                   enqueue: tuple[dict, ...] = (), n_workers: int = 1, first_seed: int = 0,
                   max_iterations: int | None = None
                   ) -> dict[str, list[list[optuna.trial.FrozenTrial]]]:
    """Run ``n_studies`` independent studies per sampler, each in one process with its own
    sampler seed (``first_seed + i``, the same seeds for every sampler) and an in-memory
    storage, on the same data, carves (``seed``) and budget rule. With ``max_iterations`` a
    study stops once its trials have trained that many iterations in all (``n_trials`` is
    then a cap), so that every study reaches one training budget.

    Returns:
        sampler -> one list of finished trials per study.
    """
    if n_studies < 2 or n_trials < 1:
        raise ValueError(f"need n_studies >= 2 (to measure study-to-study spread) and "
                         f"n_trials >= 1, got {n_studies} and {n_trials}.")
    blind = replace(data, test_inputs=data.train_inputs[:0],  # the studies get no test trials
                    test_targets=data.train_targets[:0])
    jobs = [(blind, sampler, first_seed + i, n_trials, pruner, seed, recipe, tuple(enqueue),
             max_iterations)
            for sampler in samplers for i in range(n_studies)]
    if n_workers > 1:
        with ProcessPoolExecutor(n_workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_one_study, jobs))
    else:
        results = [_one_study(job) for job in jobs]
    return {sampler: results[i * n_studies:(i + 1) * n_studies]
            for i, sampler in enumerate(samplers)}


def sampler_summary(studies: dict[str, list[list[optuna.trial.FrozenTrial]]], *,
                    resource: str = "iterations", n_grid: int = 20, n_boot: int = 1000,
                    seed: int = 0) -> dict:
    """Mean best-so-far curves over studies against the training spent, with 95 % bootstrap
    intervals over studies, and the best score at the common budget (the least that every
    study spent, so that no sampler is credited with more compute).

    Args:
        studies: from :func:`repeat_studies`.
        resource: ``"iterations"`` or ``"seconds"`` of training.

    Returns:
        A dict with ``budget`` (the common budget), ``grid`` ``(n_grid,)`` and ``samplers``:
        sampler name -> ``n_studies``, ``best_mean``, ``best_low``, ``best_high``,
        ``curve_mean``, ``curve_low``, ``curve_high``; a curve is NaN where some study had no
        completed trial yet.
    """
    totals = [_spent(trials, resource).sum() for runs in studies.values() for trials in runs]
    budget = float(min(totals))
    grid = np.linspace(budget / n_grid, budget, n_grid)
    out = {"budget": budget, "resource": resource, "grid": grid, "samplers": {}}
    for name, runs in studies.items():
        curves = np.stack([budget_curve(trials, grid, resource=resource) for trials in runs])
        means = bootstrap_weights(len(runs), n_boot, seed) @ curves / len(runs)
        point, low, high = np.full((3, len(grid)), np.nan)
        every = np.isfinite(curves).all(axis=0)  # every study had a completed trial by then
        if every.any():
            point[every], low[every], high[every] = bootstrap_summary(means[:, every])
        out["samplers"][name] = {
            "n_studies": len(runs), "best_mean": float(point[-1]), "best_low": float(low[-1]),
            "best_high": float(high[-1]), "curve_mean": point, "curve_low": low,
            "curve_high": high}
    return out


# ============================================================================ importances
def _evaluator(seed: int):
    return optuna.importance.FanovaImportanceEvaluator(n_trees=32, seed=seed)


def _scored_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Completed trials, and pruned trials with the scoring trials' value when they stopped
    (``score_when_pruned``), as completed trials with that value."""
    scored = list(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    for trial in study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)):
        value = trial.user_attrs.get("score_when_pruned")
        if value is not None and math.isfinite(value):
            scored.append(optuna.trial.create_trial(params=trial.params, value=float(value),
                                                    distributions=trial.distributions))
    return scored


def bootstrap_importances(study: optuna.Study, n_boot: int = 20, seed: int = 0):
    """fANOVA importances of each parameter on the scored trials (completed ones, and pruned
    ones at the value they had when pruned) and on ``n_boot`` bootstrap resamples of them.

    Use a random-search study: fANOVA assumes the settings cover the space evenly, which TPE's
    samples, crowded around its favourites, do not.

    Returns:
        A ``pandas.DataFrame``: row ``"all trials"`` then one row per resample, one column per
        parameter, each row summing to 1; ``attrs["n_trials"]`` and ``attrs["n_pruned"]`` say
        how many trials it rests on.
    """
    import pandas as pd

    scored = _scored_trials(study)
    if len(scored) < 4:
        raise ValueError(f"importances need at least 4 scored trials, the study has "
                         f"{len(scored)}; run more trials.")
    rows = []
    for i, counts in enumerate(bootstrap_weights(len(scored), n_boot, seed).astype(int)):
        resampled = optuna.create_study(direction="maximize")
        resampled.add_trials([trial for trial, k in zip(scored, counts, strict=True)
                              for _ in range(k)])
        rows.append(optuna.importance.get_param_importances(resampled,
                                                             evaluator=_evaluator(seed + i)))
    table = pd.DataFrame(rows, index=["all trials"] + [f"resample {i}" for i in
                                                       range(1, n_boot + 1)]).fillna(0.0)
    n_complete = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    table.attrs.update(n_trials=len(scored), n_pruned=len(scored) - n_complete)
    return table


# ============================================================================== baselines
def tune_smoothing_glm(data: SweepData, *, seed: int = 0,
                       sigmas: tuple[float, ...] = (0.01, 0.02, 0.04, 0.08),
                       alphas: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0)):
    """Tune the smoothing + GLM baseline (kernel width in seconds, L2 penalty) on the search's own
    carves (:meth:`~helpers.sweep.SweepData.carves` with the same ``seed``): fitted on the
    fitting trials, scored on the scoring trials, so that the model is not compared with an
    untuned baseline. The default grid holds 16 settings, as many as a 16-trial search.

    Returns:
        ``(best, table)``: an unfitted :class:`~helpers.baselines.SmoothingGLM` with the best
        settings, and a ``pandas.DataFrame`` of every setting's validation bits/spike.
    """
    import pandas as pd

    parts = data.carves(seed)
    (fit_x, fit_y), (score_x, score_y) = data.trials(parts["fit"]), data.trials(parts["score"])
    rows = [{"sigma_s": s, "alpha": a, "value": bits_per_spike(
        SmoothingGLM(sigma_s=s, alpha=a).fit(fit_x, fit_y).predict(score_x), score_y)}
        for s in sigmas for a in alphas]
    table = pd.DataFrame(rows)
    best = table.loc[table["value"].idxmax()]
    return SmoothingGLM(sigma_s=float(best["sigma_s"]), alpha=float(best["alpha"])), table


# ============================================================================ test scoring
Candidate = tuple[Seq2SeqSettings, FitSettings] | SmoothingGLM


@dataclass(frozen=True)
class Contrast:
    """A pre-stated paired comparison on the test trials: ``first - second`` in test bits/spike,
    averaged over seeds, with a 95 % interval that adds the seeds' noise and the test trials'
    (see :func:`evaluate_on_test`).

    Attributes:
        name: ``"first - second"``.
        mean, low, high: the difference and its interval.
        n_seeds: training seeds per candidate (the same seeds for both: paired).
        same_settings: both candidates are the same settings under the same budget (then they
            train identically and the difference is exactly 0: nothing to test).
    """

    name: str
    mean: float
    low: float
    high: float
    n_seeds: int
    same_settings: bool = False

    def verdict(self) -> str:
        """The comparison in one sentence, from the numbers."""
        first, second = self.name.split(" - ")
        if self.same_settings:
            return (f"{first} and {second} are the same settings under the same budget: they "
                    "train identically, so there is no difference to test.")
        numbers = f"{self.mean:+.3f} bits/spike [{self.low:+.3f}, {self.high:+.3f}]"
        if self.low > 0 or self.high < 0:
            better = first if self.low > 0 else second
            return (f"{first} - {second}: {numbers} over {self.n_seeds} seeds: the interval "
                    f"excludes 0, {better} predicts the test trials better.")
        return (f"{first} - {second}: {numbers} over {self.n_seeds} seeds: the interval "
                "includes 0, no difference beyond seed and test-trial noise.")

    def as_dict(self) -> dict:
        """The JSON-ready fields."""
        return asdict(self)


@dataclass(frozen=True)
class TestComparison:
    """What :func:`evaluate_on_test` found.

    Attributes:
        table: a :func:`~helpers.evaluation.score_table` indexed by candidate (``score``: mean
            test bits/spike over seeds; ``low``/``high``: 95 % interval over seeds and test
            trials) with the extra columns ``seed_sd``, ``n_seeds``, ``stop_bits``
            (mean score on the stopping trials; NaN for a baseline that needs none) and
            ``seconds`` (mean training time).
        scores: name -> test bits/spike of each seed, ``(n_seeds,)``.
        contrast: the pre-stated comparison (``None`` if none was asked for).
        resampled: name -> test bits/spike of each seed on the data (row 0) and on every
            bootstrap resample of the test trials, ``(1 + n_boot, n_seeds)``; the same
            resamples and seeds for every candidate, so :meth:`paired` differences are paired.
    """

    table: object
    scores: dict[str, np.ndarray]
    contrast: Contrast | None = None
    resampled: dict[str, np.ndarray] = field(default_factory=dict)

    def paired(self, first: str, second: str, level: float = 0.95) -> Contrast:
        """``first - second`` on the same seeds and test trials, with a ``level`` interval
        (seeds' and test trials' noise, as for the pre-stated contrast).

        Raises:
            ValueError: a name that is not among the candidates.
        """
        unknown = {first, second} - set(self.resampled)
        if unknown:
            raise ValueError(f"paired: unknown candidate(s) {sorted(unknown)}; the candidates "
                             f"are {list(self.resampled)}.")
        difference = self.resampled[first] - self.resampled[second]
        return Contrast(f"{first} - {second}", *_seed_interval(difference, level),
                        n_seeds=difference.shape[1])


def _check_budget(candidates: dict[str, Candidate]) -> None:
    """One budget rule: every network candidate trains under the same cap and stopping rule."""
    rules = {}
    for name, candidate in candidates.items():
        if isinstance(candidate, SmoothingGLM):
            continue
        _, recipe = candidate
        if recipe.validation is None:
            raise ValueError(f"candidate {name!r} trains without early stopping; every candidate "
                             "needs the same budget rule: use SEARCH_RECIPE's.")
        rules[name] = (recipe.n_iter, recipe.patience, recipe.eval_every, recipe.batch_size)
    if len(set(rules.values())) > 1:
        raise ValueError(f"candidates differ in budget (n_iter, patience, eval_every, "
                         f"batch_size): {rules}; give every candidate the same, e.g. "
                         "candidate_from_params(params, SEARCH_RECIPE).")


def _train_one(fit_x: np.ndarray, fit_y: np.ndarray, stop_x: np.ndarray, stop_y: np.ndarray,
               test_x: np.ndarray, candidate: Candidate, seed: int
               ) -> tuple[np.ndarray, float, float]:
    """Test-trial rates, bits/spike on the stopping trials (NaN for a baseline) and seconds."""
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    if isinstance(candidate, SmoothingGLM):
        rates = copy.deepcopy(candidate).fit(fit_x, fit_y).predict(test_x)
        return rates, math.nan, time.perf_counter() - start
    arch, recipe = candidate
    model = Seq2SeqRNN(fit_x.shape[-1], fit_y.shape[-1], arch)
    fit(model, fit_x, fit_y, replace(recipe, num_threads=1), seed=seed,
        validation=(stop_x, stop_y), progress=False)
    stop_bits = bits_per_spike(model.predict(stop_x)[0], stop_y)
    return model.predict(test_x)[0], stop_bits, time.perf_counter() - start


def _resampled_scores(gains: np.ndarray, spike_totals: np.ndarray,
                      trial_weights: np.ndarray) -> np.ndarray:
    """Bits/spike of each seed on every resample of the test trials ``(1 + n_boot, n_seeds)``
    (row 0: the data itself). ``gains``: nats over the null per seed and trial ``(n_seeds,
    n_trials)``; ``spike_totals``: spikes per test trial ``(n_trials,)``."""
    return (trial_weights @ gains.T) / (trial_weights @ spike_totals * np.log(2))[:, None]


def _seed_interval(per_seed: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """``(point, low, high)`` of the mean over seeds, from :func:`_resampled_scores` (or a
    difference of two). Two independent sources of noise add: the seeds' (their standard error
    with a t quantile on ``n_seeds - 1`` degrees of freedom) and the test trials' (the
    bootstrap's standard error). A percentile bootstrap over 5 seeds covers too little (11 %
    false positives at a nominal 5 % on null data, tests/test_sweep_analysis.py); this
    interval stays below 5 %."""
    from scipy.stats import norm, t

    n_seeds = per_seed.shape[1]
    point = float(per_seed[0].mean())
    seed_se = per_seed[0].std(ddof=1) / math.sqrt(n_seeds)
    trial_se = per_seed[1:].mean(axis=1).std(ddof=1)
    half = float(np.hypot(t.ppf(0.5 + level / 2, n_seeds - 1) * seed_se,
                          norm.ppf(0.5 + level / 2) * trial_se))
    return point, point - half, point + half


def evaluate_on_test(candidates: dict[str, Candidate], data: SweepData,
                     seeds: tuple[int, ...] = (0, 1, 2, 3, 4), *,
                     contrast: tuple[str, str] | None = None, n_workers: int = 1,
                     n_boot: int = 1000, boot_seed: int = 0) -> TestComparison:
    """Re-train each candidate with every seed and score it on the test trials -- the only
    function that reads them.

    Seed ``s`` sets the initialisation and the stopping carve (``data.carves(s, score=False)``):
    every candidate trains on the same trials with the same seeds, so the comparison is paired.
    Networks must share one budget (iteration cap, patience, checks); a smoothing + GLM
    baseline fits the same fitting trials. Intervals add two sources of noise: the seeds' (a t
    interval on ``n_seeds - 1`` degrees of freedom, since a percentile bootstrap over a handful
    of seeds is too narrow) and the test trials' (a bootstrap over test trials, the same
    resamples for every candidate, so a difference is paired). The false-positive rate on null
    data and the power are measured in tests/test_sweep_analysis.py.

    Args:
        candidates: name -> ``(architecture, recipe)`` (e.g. from
            :func:`~helpers.sweep.candidate_from_params` with
            :data:`~helpers.sweep.SEARCH_RECIPE`) or a :class:`~helpers.baselines.SmoothingGLM`
            (e.g. from :func:`tune_smoothing_glm`).
        data: the split searched on.
        seeds: at least 2 training seeds (5 or more for a verdict).
        contrast: ``(first, second)``: the comparison stated before looking.
        n_workers: parallel processes (one thread each).
        n_boot: bootstrap resamples.
        boot_seed: seeds the resampling.

    Raises:
        ValueError: fewer than 2 seeds, no candidates, unequal budgets, or a contrast that
            names an unknown candidate.
    """
    if len(seeds) < 2 or not candidates:
        raise ValueError("need at least one candidate and two seeds to measure seed noise.")
    if contrast is not None and not set(contrast) <= set(candidates):
        raise ValueError(f"contrast {contrast} names candidates not among {list(candidates)}.")
    _check_budget(candidates)
    test_x = np.asarray(data.test_inputs)
    spikes = np.asarray(data.test_targets, dtype=np.float64)
    jobs = [(*data.carve(seed), test_x, candidate, seed)
            for candidate in candidates.values() for seed in seeds]
    if n_workers > 1:
        with ProcessPoolExecutor(n_workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_train_one, *zip(*jobs, strict=True)))
    else:
        results = [_train_one(*job) for job in jobs]
    trial_weights = bootstrap_weights(len(spikes), n_boot, boot_seed)
    boot, scores, extra = {}, {}, {k: {} for k in ("seed_sd", "n_seeds", "stop_bits",
                                                     "seconds")}
    for i, name in enumerate(candidates):
        mine = results[i * len(seeds):(i + 1) * len(seeds)]
        gains = np.stack([gain_per_trial(rates.astype(np.float64), spikes) for rates, _, _ in mine])
        per_seed = boot[name] = _resampled_scores(gains, spikes.sum(axis=(1, 2)), trial_weights)
        scores[name] = per_seed[0]
        for key, value in (("seed_sd", np.std(per_seed[0], ddof=1)), ("n_seeds", len(seeds)),
                           ("stop_bits", np.mean([v for _, v, _ in mine])),
                           ("seconds", np.mean([s for _, _, s in mine]))):
            extra[key][name] = float(value)
    table = score_table({name: _seed_interval(values) for name, values in boot.items()},
                        metric=f"test bits/spike, mean of {len(seeds)} seeds",
                        interval=f"95%: seeds (t, {len(seeds) - 1} df) + test trials (bootstrap)",
                        extra=extra)
    result = TestComparison(table, scores, None, boot)
    if contrast is None:
        return result
    first, second = contrast
    found = replace(result.paired(first, second),
                    same_settings=candidates[first] == candidates[second])
    return replace(result, contrast=found)


# ================================================================================== figures
_PLOTS = {"history": "plot_optimization_history", "importances": "plot_param_importances",
          "slice": "plot_slice", "parallel": "plot_parallel_coordinate",
          "intermediate": "plot_intermediate_values"}


def plot(study: optuna.Study, kind: str, **kwargs):
    """One of Optuna's matplotlib figures, without its "experimental" warning.

    Args:
        study: the study.
        kind: ``"history"``, ``"importances"`` (fANOVA), ``"slice"``, ``"parallel"``
            (parallel coordinates) or ``"intermediate"`` (validation curves of every trial).
        **kwargs: passed to Optuna's function, e.g. ``params=["lr", "hidden_size"]``.

    Returns:
        The matplotlib Axes (an array of them for ``"slice"``).
    """
    from optuna.visualization import matplotlib as optuna_plots

    if kind not in _PLOTS:
        raise ValueError(f"kind must be one of {sorted(_PLOTS)}, got {kind!r}.")
    import matplotlib
    from matplotlib.ticker import NullFormatter

    if kind == "importances":
        kwargs.setdefault("evaluator", _evaluator(0))
    with warnings.catch_warnings(), matplotlib.rc_context():  # Optuna sets a global style
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        axes = getattr(optuna_plots, _PLOTS[kind])(study, **kwargs)
    for ax in np.atleast_1d(axes):
        if ax.get_xscale() == "log":  # crowded minor labels on short log ranges
            ax.xaxis.set_minor_formatter(NullFormatter())
    return axes
