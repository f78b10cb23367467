"""Running and reading a search of :mod:`helpers.sweep` (chapter 6).

- :func:`launch_workers`, :func:`wait_for_workers`: start local worker processes of
  ``python -m helpers.sweep`` and wait for them with one progress bar.
- :func:`trials_table`, :func:`best_params`, :func:`best_so_far`, :func:`pruning_summary`:
  what the study holds.
- :func:`bootstrap_importances`: parameter importances recomputed on bootstrap resamples of the
  trials, to see how fragile they are.
- :func:`evaluate_on_test`: re-train chosen settings over several seeds and score them, at last,
  on the test trials, with intervals over test trials and a test of seed noise.
- :func:`plot`: Optuna's matplotlib figures (they render in the static site).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from helpers.evaluation import score_table
from helpers.metrics import bits_per_spike, poisson_log_likelihood
from helpers.models import Seq2SeqRNN, Seq2SeqSettings
from helpers.runtime import ProgressBar
from helpers.sweep import SweepData, open_storage, optuna  # optuna imported without its warning
from helpers.train import FitSettings, fit

TrialState = optuna.trial.TrialState

__all__ = [
    "new_study", "launch_workers", "wait_for_workers", "trials_table", "best_params", "best_so_far",
    "pruning_summary", "bootstrap_importances", "evaluate_on_test", "TestComparison", "plot",
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
                   first_seed: int = 0) -> list[subprocess.Popen]:
    """Start ``n_workers`` processes of ``python -m helpers.sweep`` on this machine.

    Each gets one CPU thread and its own sampler seed (``first_seed + i``); its output goes to
    ``log_dir/<study>-<i>.log``. The storage is opened here first, so that a bad URL fails at
    once with a clear :class:`~helpers.sweep.StorageError`.

    Args:
        n_workers: processes to start (one per CPU core is the most that helps).
        study, storage, n_trials: the worker's ``--study``, ``--storage``, ``--n-trials``.
        args: further options, e.g. ``("--small", "--n-iter", "300")``.
        log_dir: an existing folder for the workers' logs.
        first_seed: sampler seed of the first worker.
    """
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}.")
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
    """One row per trial: ``state``, ``value`` (validation bits/spike), the parameters,
    ``iterations``, ``seconds``, ``worker`` and ``reason``; a ``pandas.DataFrame``."""
    import pandas as pd

    rows = [{"trial": t.number, "state": t.state.name.lower(), "value": t.value, **t.params,
             **{k: t.user_attrs.get(k) for k in ("iterations", "seconds", "worker",
                                                  "reason")}}
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


def _evaluator(seed: int):
    return optuna.importance.FanovaImportanceEvaluator(n_trees=32, seed=seed)


def bootstrap_importances(study: optuna.Study, n_boot: int = 20, seed: int = 0):
    """fANOVA importances of each parameter, on the completed trials and on ``n_boot``
    bootstrap resamples of them (drawn with replacement).

    Returns:
        A ``pandas.DataFrame``: row ``"all trials"`` then one row per resample, one column per
        parameter, each row summing to 1.
    """
    import pandas as pd

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 4:
        raise ValueError(f"importances need at least 4 completed trials, the study has "
                         f"{len(complete)}; run more trials.")
    rng = np.random.default_rng(seed)
    rows, names = [], ["all trials"]
    samples = [np.arange(len(complete))] + [rng.integers(0, len(complete), len(complete))
                                            for _ in range(n_boot)]
    for i, sample in enumerate(samples):
        resampled = optuna.create_study(direction="maximize")
        resampled.add_trials([complete[j] for j in sample])
        rows.append(optuna.importance.get_param_importances(resampled,
                                                             evaluator=_evaluator(seed + i)))
        names.append(f"resample {i}") if i else None
    return pd.DataFrame(rows, index=names).fillna(0.0)


# ============================================================================ test scoring
@dataclass(frozen=True)
class TestComparison:
    """What :func:`evaluate_on_test` found.

    Attributes:
        table: a :func:`~helpers.evaluation.score_table` (mean test bits/spike over seeds, 95 %
            bootstrap interval over test trials) with the extra columns ``seed_sd``,
            ``seed_min``, ``seed_max``, ``val_bits`` (mean validation score), ``diff_to_best``
            with ``diff_low``/``diff_high`` (paired bootstrap over test trials), ``p_seeds``
            (Welch's t-test of the per-seed scores against the best's), ``beyond_seed_noise``
            (``p_seeds < 0.05``) and ``beyond_test_noise`` (the difference's interval excludes
            0).
        scores: name -> test bits/spike of each seed, ``(n_seeds,)``.
        val_scores: name -> validation bits/spike of each seed (NaN without validation).
        seconds: name -> training seconds of each seed.
    """

    table: object
    scores: dict[str, np.ndarray]
    val_scores: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]


def _train_one(data: SweepData, arch: Seq2SeqSettings, recipe: FitSettings,
               seed: int) -> tuple[np.ndarray, float, float]:
    """Test-trial rates, validation bits/spike (NaN without validation) and seconds."""
    import torch

    torch.set_num_threads(1)
    model = Seq2SeqRNN(data.train_inputs.shape[-1], data.train_targets.shape[-1], arch)
    if recipe.validation is None:
        history = fit(model, data.train_inputs, data.train_targets, recipe, seed=seed,
                      progress=False)
        val_bits = math.nan
    else:
        fit_x, fit_y, val_x, val_y = data.carve(seed)
        history = fit(model, fit_x, fit_y, recipe, seed=seed, validation=(val_x, val_y),
                      progress=False)
        val_bits = bits_per_spike(model.predict(val_x)[0], val_y)
    return model.predict(data.test_inputs)[0], val_bits, history.seconds


def _trial_gains(rates: np.ndarray, spikes: np.ndarray) -> np.ndarray:
    """Log-likelihood gain (nats) over each neuron's mean test rate, per test trial."""
    null = np.broadcast_to(spikes.mean(axis=(0, 1)), spikes.shape)
    gain = poisson_log_likelihood(rates, spikes) - poisson_log_likelihood(null, spikes)
    return gain.sum(axis=(1, 2))


def evaluate_on_test(candidates: dict[str, tuple[Seq2SeqSettings, FitSettings]],
                     data: SweepData, seeds: tuple[int, ...] = (0, 1, 2), *,
                     n_workers: int = 1, n_boot: int = 1000, boot_seed: int = 0
                     ) -> TestComparison:
    """Re-train each candidate with every seed on the training trials and score it on the
    test trials (the first time the test trials are used).

    Each seed changes the initialisation and the validation carve. Two kinds of noise are
    reported: the seed-to-seed spread (Welch's t-test against the best candidate) and the
    test-trial sampling (a bootstrap over test trials, the same resamples for every candidate,
    so that differences are paired).

    Args:
        candidates: name -> ``(architecture, recipe)``, e.g. from
            :func:`~helpers.sweep.candidate_from_params`, or
            ``(COURSE_SEQ2SEQ, COURSE_RECIPE)``. Recipes train with one CPU thread.
        data: the split searched on.
        seeds: at least 2 training seeds (3 or more to judge seed noise).
        n_workers: parallel processes (one thread each).
        n_boot: bootstrap resamples of the test trials.
        boot_seed: seeds the resampling.
    """
    from scipy.stats import ttest_ind

    if len(seeds) < 2 or not candidates:
        raise ValueError("need at least one candidate and two seeds to measure seed noise.")
    jobs = [(name, arch, replace(recipe, num_threads=1), seed)
            for name, (arch, recipe) in candidates.items() for seed in seeds]
    if n_workers > 1:
        with ProcessPoolExecutor(n_workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_train_one, *zip(*[(data, a, r, s) for _, a, r, s in jobs],
                                                      strict=True)))
    else:
        results = [_train_one(data, a, r, s) for _, a, r, s in jobs]
    spikes = np.asarray(data.test_targets, dtype=np.float64)
    n_trials = len(spikes)
    rng = np.random.default_rng(boot_seed)
    weights = np.vstack([np.ones(n_trials), rng.multinomial(n_trials, np.full(n_trials,
                                                                              1 / n_trials),
                                                            size=n_boot)])
    denominator = weights @ spikes.sum(axis=(1, 2)) * np.log(2)
    boot, scores, val, seconds = {}, {}, {}, {}
    for name in candidates:
        mine = [result for (job, result) in zip(jobs, results, strict=True) if job[0] == name]
        per_seed = np.stack([weights @ _trial_gains(rates.astype(np.float64), spikes)
                             / denominator for rates, _, _ in mine])  # (n_seeds, 1 + n_boot)
        boot[name], scores[name] = per_seed.mean(axis=0), per_seed[:, 0]
        val[name] = np.array([v for _, v, _ in mine])
        seconds[name] = np.array([s for _, _, s in mine])
    best = max(boot, key=lambda name: boot[name][0])
    extra = {key: {} for key in ("seed_sd", "seed_min", "seed_max", "val_bits", "diff_to_best",
                                 "diff_low", "diff_high", "p_seeds", "beyond_seed_noise",
                                 "beyond_test_noise")}
    for name in candidates:
        diff = boot[name] - boot[best]
        low, high = np.percentile(diff[1:], [2.5, 97.5])
        p = 1.0 if name == best else float(ttest_ind(scores[name], scores[best],
                                                     equal_var=False).pvalue)
        for key, value in (("seed_sd", np.std(scores[name], ddof=1)),
                           ("seed_min", scores[name].min()), ("seed_max", scores[name].max()),
                           ("val_bits", np.mean(val[name])), ("diff_to_best", diff[0]),
                           ("diff_low", low), ("diff_high", high), ("p_seeds", p),
                           ("beyond_seed_noise", bool(p < 0.05)),
                           ("beyond_test_noise", bool(name != best and (high < 0 or low > 0)))):
            extra[key][name] = value if isinstance(value, bool) else float(value)
    intervals = {name: (float(boot[name][0]), *map(float, np.percentile(boot[name][1:],
                                                                         [2.5, 97.5])))
                 for name in candidates}
    table = score_table(intervals, metric=f"test bits/spike, mean of {len(seeds)} seeds",
                        interval="95% bootstrap over test trials", extra=extra)
    return TestComparison(table, scores, val, seconds)


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
