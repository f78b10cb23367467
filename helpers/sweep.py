"""An honest hyperparameter search for chapter 2's rate model, with Optuna (chapter 6).

A search is a named Optuna *study* in a *storage*; *workers* are independent processes that
pull trials from it, so the same code runs as one process on a laptop or as a hundred on a
cluster -- only the storage changes:

- a file path (``sweeps/ch6.journal``): Optuna's journal file, for workers on one machine (or
  on a shared file system), no server needed;
- a database URL (``postgresql://user:password@host/db``): for workers on many machines.
  SQLite (``sqlite:///file.db``) works for a single worker but locks the whole file on every
  write, so parallel workers stall and fail with "database is locked": don't share it.

Start a worker (any number of times, anywhere the storage is reachable)::

    python -m helpers.sweep --study NAME --storage URL --n-trials K [--small] [--max-trials N]

Storages, their checks and repairs, and stale trials of killed workers are
:mod:`helpers.sweep_storage`'s; a bad option exits with status 2 and one line naming it.

Each trial trains a :class:`~helpers.models.Seq2SeqRNN` with :func:`helpers.train.fit` on the
*training* trials of a co-smoothing split, carved in three (:meth:`SweepData.carves`): the trials
it fits, the *stopping* trials (early stopping and the pruner read them) and the *scoring* trials
(the objective, in bits per spike, reads only them), so that no validation trial is used twice.
Every trial gets the same iteration cap and early-stopping rule (:data:`SEARCH_RECIPE`) and its
own initialisation seed (user attribute ``init_seed``). A trial that diverges is not FAILed (TPE
would ignore it and sample there again): it returns :data:`DIVERGED_PENALTY` below the
constant-rate null, with the reason in its user attributes. The test trials are never saved for
the workers and are read only by :func:`helpers.sweep_analysis.evaluate_on_test`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
from scipy.special import gammaln

from helpers.metrics import bits_per_spike, poisson_log_likelihood
from helpers.models import Seq2SeqRNN, Seq2SeqSettings
from helpers.runtime import get_device
from helpers.splits import CoSmoothingData, co_smoothing_split, split_trials
from helpers.sweep_storage import (
    StorageError,
    counted_trials,
    fail_stale_trials,
    open_storage,
    storage_failure,
    worker_id,
)
from helpers.train import RECOMMENDED_FIT, FitSettings, fit

with warnings.catch_warnings():  # Optuna imports tqdm.auto, which warns in Jupyter without widgets
    warnings.filterwarnings("ignore", message="IProgress not found")
    import optuna
    from optuna.trial import TrialState

__all__ = [
    "SearchSpace", "SPACE", "SweepData", "SMALL", "FULL", "make_sweep_data", "Objective",
    "make_sampler", "make_pruner", "run_worker", "candidate_from_params", "SEARCH_RECIPE",
    "DIVERGED_PENALTY", "main",
]
# (StorageError, open_storage, fail_stale_trials and worker_id are helpers.sweep_storage's,
# importable from here as before.)

#: The small setting where chapter 2's course recipe failed: the first 100 trials, 0-0.4 s
#: after stimulus onset (40 bins of 10 ms), visual cortex and thalamus.
SMALL: dict = {"regions": ("vis ctx", "thal"), "n_trials": 100, "window": (0.0, 0.4)}
#: A full session as in chapter 2: every trial, the whole 2.5 s, visual cortex.
FULL: dict = {"regions": ("vis ctx",), "n_trials": None, "window": None}
#: How every candidate trains, in the search and at the test (one budget rule): the recommended
#: recipe (early stopping with a patience of 50 iterations, checked every 5) capped at 800
#: iterations, so that the slowest learning rate of :data:`SPACE` (1e-3) stops on its own on the
#: small session (chapter 6 measures where: about 600 iterations with the recommended model).
#: The search samples ``lr`` and ``weight_decay``.
SEARCH_RECIPE = replace(RECOMMENDED_FIT, n_iter=800)
#: What a diverged trial returns, in bits/spike below the constant-rate null on the scoring
#: trials: clearly worse than learning nothing, so TPE learns to avoid the region.
DIVERGED_PENALTY = 0.1


# ============================================================================ search space
@dataclass(frozen=True)
class SearchSpace:
    """Ranges searched (chapter 6 justifies them); ``(low, high)`` pairs are inclusive, and
    ``hidden_size``, ``lr`` and ``weight_decay`` are sampled on a log scale."""

    cells: tuple[str, ...] = ("rnn", "gru", "lstm")  # recurrent cell types
    hidden_size: tuple[int, int] = (4, 64)  # latent units (the course used 6)
    bidirectional: tuple[bool, ...] = (False, True)  # also run backwards in time
    num_layers: tuple[int, int] = (1, 2)  # stacked recurrent layers
    log_inputs: tuple[bool, ...] = (False, True)  # feed log(1 + counts)
    input_dropout: tuple[float, float] = (0.0, 0.6)  # chance of silencing an input count
    lr: tuple[float, float] = (1e-3, 3e-2)  # Adam's learning rate (course: 0.005 and 0.001);
    # 1e-4 would need about ten times the iterations of 1e-3 to converge: not in the budget
    weight_decay: tuple[float, float] = (1e-6, 1e-2)  # Adam's L2 penalty (1e-6: as good as none)

    def suggest(self, trial: optuna.Trial) -> dict:
        """Sample one configuration: a dict of :class:`Seq2SeqSettings` and ``lr``,
        ``weight_decay`` fields (what :func:`candidate_from_params` takes back)."""
        return {
            "cell": trial.suggest_categorical("cell", list(self.cells)),
            "hidden_size": trial.suggest_int("hidden_size", *self.hidden_size, log=True),
            "bidirectional": trial.suggest_categorical("bidirectional", list(self.bidirectional)),
            "num_layers": trial.suggest_int("num_layers", *self.num_layers),
            "log_inputs": trial.suggest_categorical("log_inputs", list(self.log_inputs)),
            "input_dropout": trial.suggest_float("input_dropout", *self.input_dropout),
            "lr": trial.suggest_float("lr", *self.lr, log=True),
            "weight_decay": trial.suggest_float("weight_decay", *self.weight_decay, log=True),
        }


#: The space chapter 6 searches.
SPACE = SearchSpace()
_ARCHITECTURE = {f.name for f in fields(Seq2SeqSettings)}


def candidate_from_params(params: dict, recipe: FitSettings = RECOMMENDED_FIT
                          ) -> tuple[Seq2SeqSettings, FitSettings]:
    """A trial's parameters -> ``(architecture, training recipe)`` for :func:`fit`."""
    unknown = set(params) - _ARCHITECTURE - {"lr", "weight_decay"}
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; a trial's parameters are "
                         f"fields of Seq2SeqSettings plus lr and weight_decay.")
    arch = Seq2SeqSettings(**{k: v for k, v in params.items() if k in _ARCHITECTURE})
    return arch, replace(recipe, **{k: params[k] for k in ("lr", "weight_decay") if k in params})


# ==================================================================================== data
@dataclass(frozen=True)
class SweepData(CoSmoothingData):
    """A co-smoothing split for a search (:class:`~helpers.splits.CoSmoothingData`: training
    and test trials, inputs = held-in neurons, targets = held-out neurons, each
    ``(n_trials, n_bins, n_neurons)`` float32), with how the training trials are carved.

    The search reads only the training trials (:meth:`carves`); only
    :func:`helpers.sweep_analysis.evaluate_on_test` reads the test trials, and :meth:`save`
    leaves them out of the file the workers load.

    Attributes:
        validation: share of the training trials in each validation carve (stopping and
            scoring).
        description: what the data are (a study records it; workers must agree on it).
    """

    validation: float = 0.2
    description: str = ""

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the training trials (not the test trials) to an ``.npz`` file that workers
        read with ``--data``."""
        path = Path(path)
        np.savez(path, train_inputs=self.train_inputs, train_targets=self.train_targets,
                 validation=self.validation, description=self.description)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SweepData:
        """Read a split written by :meth:`save` (its test arrays hold 0 trials)."""
        with np.load(path, allow_pickle=False) as arrays:
            x, y = arrays["train_inputs"], arrays["train_targets"]
            return cls(x, y, x[:0], y[:0], float(arrays["validation"]),
                       str(arrays["description"]))

    def carves(self, seed: int, *, score: bool = True) -> dict[str, np.ndarray]:
        """Indices into the training trials, drawn without replacement: ``"stop"`` (early
        stopping and pruning), ``"score"`` (the search's objective; only with ``score``) and
        ``"fit"`` (the rest, trained on). Each carve holds ``validation`` of the trials.

        Raises:
            ValueError: too few training trials for the carves.
        """
        n = len(self.train_inputs)
        rest, stop = split_trials(n, self.validation, seed=seed)
        if not score:
            return {"fit": rest, "stop": stop}
        share = len(stop) / len(rest)
        if not 0 < share < 1:
            raise ValueError(f"{n} training trials are too few for two validation carves of "
                             f"{self.validation:.0%}; use more trials or a smaller fraction.")
        fit_in_rest, score_in_rest = split_trials(len(rest), share, seed=seed + 1)
        return {"fit": rest[fit_in_rest], "stop": stop, "score": rest[score_in_rest]}

    def trials(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(inputs, targets)`` of the training trials ``indices``."""
        return self.train_inputs[indices], self.train_targets[indices]

    def carve(self, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(fit_inputs, fit_targets, stop_inputs, stop_targets)`` of ``carves(seed,
        score=False)``: how a candidate is re-trained before the test."""
        parts = self.carves(seed, score=False)
        return (*self.trials(parts["fit"]), *self.trials(parts["stop"]))


def make_sweep_data(session, *, regions: tuple[str, ...] | list[str] = SMALL["regions"],
                    n_trials: int | None = None, window: tuple[float, float] | None = None,
                    seed: int = 0, test_fraction: float = 0.2,
                    validation: float = 0.2) -> SweepData:
    """Cut a :class:`~helpers.session.Session` into a :class:`SweepData`.

    Args:
        session: the recording.
        regions: region groups whose neurons are used (half held in, half held out).
        n_trials: keep the first ``n_trials`` trials (``None``: all).
        window: ``(start, end)`` in seconds from stimulus onset (``None``: the whole trial).
        seed: seeds the trial and neuron split.
        test_fraction: share of trials kept for the final test.
        validation: share of the training trials in each validation carve.
    """
    if n_trials is not None and not 2 <= n_trials <= session.n_trials:
        raise ValueError(f"n_trials must lie in 2..{session.n_trials}, got {n_trials}.")
    trials = None if n_trials is None else np.arange(n_trials)
    chosen = session.select(regions=list(regions), trials=trials)
    if window is not None:
        chosen = chosen.window(*window)
    split = co_smoothing_split(chosen.n_trials, chosen.n_neurons, test_fraction=test_fraction,
                               seed=seed)
    data = split.apply(chosen.spikes_by_trial())
    start, end = chosen.time[0] - chosen.bin_size / 2, chosen.time[-1] + chosen.bin_size / 2
    description = (f"{chosen.name} ({chosen.source}), {'+'.join(regions)}: {chosen.n_trials} "
                   f"trials x {chosen.n_bins} bins ({start:.2f} to {end:.2f} s), "
                   f"{len(split.heldin_neurons)} held-in -> {len(split.heldout_neurons)} "
                   f"held-out neurons, split seed {seed}")
    return SweepData(data.train_inputs, data.train_targets, data.test_inputs, data.test_targets,
                     validation, description)


# =============================================================================== objective
class _ValidationBits:
    """Turns :func:`fit`'s validation Poisson loss into co-smoothing bits per spike on the same
    trials (the loss only drops ``log y!``, which is added back here)."""

    def __init__(self, spikes: np.ndarray) -> None:
        y = np.asarray(spikes, dtype=np.float64).reshape(-1, spikes.shape[-1])
        null = np.broadcast_to(y.mean(axis=0), y.shape)
        self.n, self.n_spikes = y.size, y.sum()
        self.log_factorials = gammaln(y + 1).sum()
        self.ll_null = poisson_log_likelihood(null, y).sum()

    def __call__(self, loss: float) -> float:
        ll_model = -loss * self.n - self.log_factorials
        return float((ll_model - self.ll_null) / (self.n_spikes * math.log(2)))


class Objective:
    """Optuna objective: co-smoothing bits per spike of one sampled configuration on the
    *scoring* trials.

    The carves (:meth:`SweepData.carves`, fixed by ``seed`` so that every configuration meets
    the same trials) keep each use of validation apart: the model trains on the fitting
    trials; early stopping and the pruner read the *stopping* trials (the score reported at
    every check of :func:`fit`); the returned value reads only the *scoring* trials. Each
    trial initialises from its own seed. User attributes record how it went: ``worker``,
    ``init_seed``, ``iterations``, ``seconds``, ``reason``, ``best_iteration``, and for a
    pruned trial ``score_when_pruned`` (the scoring trials' value when it stopped, for
    importances). A trial that diverges (a NaN or infinite loss or rate) returns the
    constant-rate null's score on the scoring trials minus :data:`DIVERGED_PENALTY`, with
    ``diverged`` = True and the error in ``reason``. The test trials are never read.

    Args:
        data: the split (:class:`SweepData`).
        space: the ranges to sample.
        recipe: everything :func:`fit` needs besides the sampled ``lr``/``weight_decay``
            (``n_iter`` caps each trial).
        seed: the carves; trial ``k`` initialises from seed ``seed + 1 + k``.
        device: where to train (``None``: the GPU if there is one).
        heartbeat_s: how often a running trial refreshes its ``heartbeat`` attribute.
    """

    def __init__(self, data: SweepData, space: SearchSpace = SPACE, *,
                 recipe: FitSettings = SEARCH_RECIPE, seed: int = 0,
                 device: torch.device | str | None = None, heartbeat_s: float = 30.0) -> None:
        self.data, self.space, self.recipe, self.seed = data, space, recipe, seed
        self.device = torch.device(device) if device else get_device(verbose=False)
        self.heartbeat_s = heartbeat_s
        parts = data.carves(seed)
        self.fit_data, self.stop_data, self.score_data = (data.trials(parts[k]) for k in
                                                          ("fit", "stop", "score"))
        self.to_bits = _ValidationBits(self.stop_data[1])
        null = np.broadcast_to(self.fit_data[1].mean(axis=(0, 1)), self.score_data[1].shape)
        #: What a diverged trial returns (bits/spike on the scoring trials).
        self.diverged_value = bits_per_spike(null, self.score_data[1]) - DIVERGED_PENALTY

    def score(self, model: Seq2SeqRNN) -> float:
        """The model's bits per spike on the scoring trials."""
        return bits_per_spike(model.predict(self.score_data[0])[0], self.score_data[1])

    def __call__(self, trial: optuna.Trial) -> float:
        start, beat = time.perf_counter(), [time.time()]
        trial.set_user_attr("worker", worker_id())
        trial.set_user_attr("heartbeat", beat[0])
        init_seed = self.seed + 1 + trial.number
        trial.set_user_attr("init_seed", init_seed)
        arch, recipe = candidate_from_params(self.space.suggest(trial), self.recipe)
        model = Seq2SeqRNN(self.fit_data[0].shape[-1], self.fit_data[1].shape[-1], arch)
        last = [0]

        def report(iteration: int, stop_loss: float) -> None:
            last[0] = iteration
            bits = self.to_bits(stop_loss)
            if not math.isfinite(bits):
                what = ("training diverged" if not math.isfinite(stop_loss) else
                        f"the loss is finite but its score in bits/spike is {bits}")
                raise FloatingPointError(f"validation loss became {stop_loss} at iteration "
                                         f"{iteration} (lr {recipe.lr:.3g}): {what}")
            trial.report(bits, iteration)
            if time.time() - beat[0] > self.heartbeat_s:
                beat[0] = time.time()
                trial.set_user_attr("heartbeat", beat[0])
            if trial.should_prune():
                trial.set_user_attr("score_when_pruned", self.score(model))
                raise optuna.TrialPruned(f"validation {bits:.4f} bits/spike at iteration "
                                         f"{iteration} is below the pruner's threshold")

        def done(iterations: int, reason: str | None = None) -> None:
            trial.set_user_attr("iterations", int(iterations))
            trial.set_user_attr("seconds", round(time.perf_counter() - start, 3))
            if reason:
                trial.set_user_attr("reason", reason)

        try:
            history = fit(model.to(self.device), *self.fit_data, recipe, seed=init_seed,
                          validation=self.stop_data, on_validation=report, progress=False)
            value = self.score(model)
        except optuna.TrialPruned as pruned:
            done(last[0], str(pruned))
            raise
        except (FloatingPointError, ValueError) as err:  # NaN/inf loss or rates: diverged
            done(last[0], f"diverged, scored {DIVERGED_PENALTY} below the constant-rate null: "
                          f"{type(err).__name__}: {err}")
            trial.set_user_attr("diverged", True)
            return self.diverged_value
        done(history.n_iterations)
        trial.set_user_attr("best_iteration", int(history.best_iteration))
        return value


# =================================================================================== worker
def make_sampler(name: str = "tpe", seed: int | None = None, *,
                 n_startup_trials: int = 4) -> optuna.samplers.BaseSampler:
    """``"tpe"`` (Optuna's default; random for its first ``n_startup_trials`` finished trials,
    an enqueued default included; constant liar for parallel workers) or ``"random"``."""
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials,
                                          constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"sampler must be 'tpe' or 'random', got {name!r}.")


def make_pruner(name: str = "median") -> optuna.pruners.BasePruner:
    """``"median"``: at each check from iteration 20 on, stop a trial whose best validation
    score so far is below the median of the scores that completed (not pruned) trials reported
    at the same iteration (once 5 trials have completed); ``"halving"`` (successive halving) or
    ``"none"``. Pruners read only the stopping trials' scores (:class:`Objective`)."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=20)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=20, reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner must be 'median', 'halving' or 'none', got {name!r}.")


def _check_sweep_data(data: SweepData) -> None:
    """The training trials every trial reads: 3-D, none of the axes empty, all finite."""
    for name in ("train_inputs", "train_targets"):
        values = np.asarray(getattr(data, name))
        if values.ndim != 3 or 0 in values.shape:
            raise ValueError(f"the sweep's {name} must be (n_trials, n_bins, n_neurons) with no "
                             f"empty axis, got shape {values.shape}: check the session's trials, "
                             "time window and regions.")
        n_bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        if n_bad:
            raise ValueError(f"the sweep's {name} hold {n_bad} NaN or infinite value(s), so "
                             "every trial would fail: rebuild the split from the session's spike "
                             "counts (make_sweep_data).")


def run_worker(study_name: str, storage, data: SweepData, *, n_trials: int,
               max_trials: int | None = None, max_iterations: int | None = None,
               space: SearchSpace = SPACE, sampler: str = "tpe", sampler_seed: int | None = None,
               pruner: str | optuna.pruners.BasePruner = "median",
               recipe: FitSettings = SEARCH_RECIPE, seed: int = 0,
               device: str | None = None, stale_after_s: float = 600.0) -> optuna.Study:
    """Join (or create) a study and run up to ``n_trials`` trials in this process.

    Args:
        study_name: the study's name.
        storage: a URL/path for :func:`open_storage`, or a storage.
        data: the split every trial trains on; a study remembers the description of the data
            it was created with, and a worker with other data is refused.
        n_trials: trials this worker runs (each worker counts its own).
        max_trials: stop once the study holds this many trials in all (workers that start a
            trial at the same moment may overshoot by one each).
        max_iterations: stop once the study's trials have trained this many iterations in all
            (the ``iterations`` attribute; the trial that crosses it finishes), so that
            studies can be compared at one training budget rather than one trial count.
        space, recipe, seed, device: passed to :class:`Objective`.
        sampler, sampler_seed: see :func:`make_sampler`; give each worker its own seed.
        pruner: a name for :func:`make_pruner`, or a pruner.
        stale_after_s: a running trial of a dead worker on this machine is failed at once, one
            of a worker elsewhere after this long without a heartbeat; either is retried once
            (:func:`~helpers.sweep_storage.fail_stale_trials`, before every trial, so the
            surviving workers finish the study they were asked for).

    Returns:
        The study.

    Raises:
        StorageError: the storage cannot be opened, or failed during a trial (disk full,
            database gone); the message says which and the fix.
        ValueError: bad counts, data with NaN/inf values or an empty axis, or a study created
            with other data or options.
    """
    if n_trials < 0 or any(cap is not None and cap < 1 for cap in (max_trials, max_iterations)):
        raise ValueError(f"need n_trials >= 0 and max_trials, max_iterations >= 1, got "
                         f"{n_trials}, {max_trials}, {max_iterations}.")
    _check_sweep_data(data)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(storage, grace_period_s=stale_after_s)
    study = optuna.create_study(study_name=study_name, storage=storage,
                                direction="maximize", load_if_exists=True,
                                sampler=make_sampler(sampler, sampler_seed),
                                pruner=make_pruner(pruner) if isinstance(pruner, str) else pruner)
    setup = {"data": data.description, "n_iter": recipe.n_iter, "seed": seed,
             "sampler": sampler, "pruner": pruner if isinstance(pruner, str) else
             type(pruner).__name__}
    for key, value in setup.items():
        known = study.user_attrs.get(key)
        if known is None:
            study.set_user_attr(key, value)
        elif known != value:
            raise ValueError(f"study {study_name!r} was created with {key} = {known!r}, but this "
                             f"worker has {value!r}; use the same options or another study.")
    objective = Objective(data, space, recipe=recipe, seed=seed, device=device)
    for _ in range(n_trials):
        fail_stale_trials(study, stale_after_s=stale_after_s)  # before each trial, not once
        if max_trials is not None and counted_trials(study) >= max_trials:
            break
        if max_iterations is not None and sum(
                t.user_attrs.get("iterations", 0) for t in study.get_trials(deepcopy=False)
        ) >= max_iterations:
            break
        try:
            study.optimize(objective, n_trials=1, catch=(FloatingPointError, ValueError))
        except Exception as err:  # Optuna may hide a storage failure behind its own error
            failure = storage_failure(err)
            if failure is None:
                raise
            raise failure from err
    return study


# ====================================================================================== CLI
class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (and exits with status 2)."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _at_least(low: float, kind: type = int):
    """An argparse type: a number of ``kind`` that is at least ``low``."""
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value >= low:
            raise argparse.ArgumentTypeError(f"{text} is below {low}; give a value >= {low}")
        return value
    return convert


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m helpers.sweep",
        description="Run one worker of a hyperparameter search of chapter 2's rate model "
                    "(chapter 6). Start it N times, on one machine or many, with the same "
                    "--study and --storage.")
    add = parser.add_argument
    add("--study", required=True, help="study name")
    add("--storage", required=True,
        help="journal file path, or database URL (postgresql://user:pw@host/db)")
    add("--n-trials", type=_at_least(0), required=True, help="trials for this worker")
    add("--max-trials", type=_at_least(1), default=None, help="cap on the study's total")
    add("--session", default="Lederberg 2017-12-05", help="session name or index")
    add("--data", default=None, help="a split saved by SweepData.save (instead of --session)")
    add("--small", action="store_true",
        help="100 trials x 0-0.4 s, visual cortex + thalamus (default: full)")
    add("--regions", nargs="+", default=None, help="region groups")
    add("--trials", type=_at_least(2), default=None, help="use the first N trials")
    add("--window", type=float, nargs=2, default=None, metavar=("START_S", "END_S"),
        help="seconds from stimulus onset")
    add("--sampler", choices=("tpe", "random"), default="tpe")
    add("--sampler-seed", type=int, default=None)
    add("--pruner", choices=("median", "halving", "none"), default="median")
    add("--n-iter", type=_at_least(1), default=SEARCH_RECIPE.n_iter, help="iteration cap per trial")
    add("--patience", type=_at_least(1), default=SEARCH_RECIPE.patience,
        help="early-stopping patience (iterations)")
    add("--seed", type=int, default=0, help="data split and training seed")
    add("--device", choices=("cpu", "cuda"), default=None)
    add("--stale-after", type=_at_least(1.0, float), default=600.0,
        help="seconds without heartbeat before another machine's trial is stale")
    return parser


def _load_data(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SweepData:
    """The split the worker trains on, from ``--data`` or a session; bad values exit 2."""
    if args.data is not None:
        try:
            return SweepData.load(args.data)
        except (OSError, KeyError, ValueError) as err:
            parser.error(f"--data {args.data}: cannot read a split ({type(err).__name__}: {err}); "
                         "give a file written by SweepData.save")
    from helpers.steinmetz import load_session

    session_name = int(args.session) if args.session.isdigit() else args.session
    preset = dict(SMALL if args.small else FULL)
    for key, value in (("regions", args.regions), ("n_trials", args.trials),
                       ("window", args.window)):
        if value is not None:
            preset[key] = tuple(value) if isinstance(value, list) else value
    try:
        return make_sweep_data(load_session(session_name), seed=args.seed, **preset)
    except ValueError as err:
        parser.error(f"--session/--regions/--trials/--window: {err}")
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m helpers.sweep`` (see the module docstring); returns the exit
    status: 0 done, 1 the storage failed during the search, 2 bad options or storage (one line
    on standard error naming the problem and the fix)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.window is not None and not args.window[0] < args.window[1]:
        parser.error(f"--window {args.window[0]:g} {args.window[1]:g}: START_S must be below "
                     "END_S, e.g. --window 0.0 0.4")
    torch.set_num_threads(1)  # one CPU thread per worker: start as many workers as cores
    try:
        storage = open_storage(args.storage, grace_period_s=args.stale_after)  # before training
    except StorageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.storage.startswith("sqlite"):
        print("note: SQLite locks the whole file on each write; use a journal file or "
              "PostgreSQL for parallel workers.", file=sys.stderr)
    data = _load_data(args, parser)
    start = time.perf_counter()
    recipe = replace(SEARCH_RECIPE, n_iter=args.n_iter, patience=args.patience)
    try:
        study = run_worker(args.study, storage, data, n_trials=args.n_trials,
                           max_trials=args.max_trials, sampler=args.sampler,
                           sampler_seed=args.sampler_seed, pruner=args.pruner, recipe=recipe,
                           seed=args.seed, device=args.device, stale_after_s=args.stale_after)
    except StorageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ValueError as err:  # e.g. a study created with other data or options
        print(f"error: {err}", file=sys.stderr)
        return 2
    mine = [t for t in study.get_trials(deepcopy=False)
            if t.user_attrs.get("worker") == worker_id()]
    counts = {s.name.lower(): sum(t.state == s for t in mine) for s in TrialState}
    print(f"worker {worker_id()}: {len(mine)} trials ({counts['complete']} complete, "
          f"{counts['pruned']} pruned, {counts['fail']} failed) in "
          f"{time.perf_counter() - start:.0f} s; study {args.study!r} holds "
          f"{len(study.trials)} trials")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
