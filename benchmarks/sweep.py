"""Chapter 6's search, judged fairly: samplers over repeated studies, pruning on and off at equal
compute, and the pre-stated test contrast over seeds.

Run from the repository root (CPU; about 15 minutes on 2 idle cores with the defaults)::

    .venv/bin/python benchmarks/sweep.py --json out.json        # small session (100 trials x 0.4 s)
    .venv/bin/python benchmarks/sweep.py --studies 20 --workers 8  # more studies, more cores

It reports, as markdown for issue notes (and, with ``--json``, as a file):

1. ``--studies`` independent studies per sampler (TPE and random search, median pruner; each
   with its own sampler seed, the recommended default queued first, the same carves and the one
   budget rule of ``helpers.sweep.SEARCH_RECIPE``), and TPE without pruning. Every study trains
   until its trials have spent ``--iterations`` training iterations in all (``--trials`` caps
   the trial count), so every study reaches one budget whatever its sampler prunes: the mean
   best validation score against cumulative training iterations and seconds, with 95 %
   bootstrap intervals over studies, and at the common budget (the least any study spent, at
   least ``--iterations`` unless a study hit the trial cap -- the report counts them);
2. the contrast stated before looking: the best settings of the first TPE study (chosen on
   validation) minus the recommended default, both re-trained with ``--seeds`` seeds under the
   same budget and scored on the test trials (paired; seed noise by a t interval, test-trial
   noise by a bootstrap), beside the smoothing + GLM baseline tuned on the same carves.

JSON keys: ``samplers`` ("tpe", "random": ``n_studies``, ``best_mean``, ``best_low``,
``best_high`` at the common budget of iterations), ``best_so_far`` (the curves, by iterations
and by seconds, including "tpe, no pruning") and ``test_contrast`` (``name``, ``mean``, ``low``,
``high``, ``n_seeds``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict

import numpy as np
import optuna

from helpers.models import RECOMMENDED_SEQ2SEQ
from helpers.steinmetz import load_session
from helpers.sweep import FULL, SEARCH_RECIPE, SMALL, SPACE, candidate_from_params, make_sweep_data
from helpers.sweep_analysis import (
    evaluate_on_test,
    repeat_studies,
    sampler_summary,
    tune_smoothing_glm,
)
from helpers.train import RECOMMENDED_FIT

SEED = 2021
#: The recommended default as a point of the search space (weight decay at the range's floor).
DEFAULTS = {**asdict(RECOMMENDED_SEQ2SEQ), "lr": RECOMMENDED_FIT.lr,
            "weight_decay": SPACE.weight_decay[0]}


def _listed(values) -> list:
    """JSON-ready numbers (NaN, where some study had no completed trial yet, as null)."""
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def _curves(summary: dict) -> dict:
    """A :func:`sampler_summary` as JSON-ready curves."""
    return {"resource": summary["resource"], "budget": summary["budget"],
            "grid": _listed(summary["grid"]),
            "curves": {name: {k: _listed(s[f"curve_{k}"]) for k in ("mean", "low", "high")}
                       for name, s in summary["samplers"].items()}}


def _table(summary: dict, unit: str) -> str:
    rows = [f"| {name} | {s['n_studies']} | {s['best_mean']:.3f} [{s['best_low']:.3f}, "
            f"{s['best_high']:.3f}] |" for name, s in summary["samplers"].items()]
    return (f"best validation bits/spike after {summary['budget']:.0f} {unit} of training "
            "(the least any study spent), mean over studies [95 % bootstrap]\n\n"
            "| search | studies | best at the common budget |\n|---|---|---|\n"
            + "\n".join(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=10, help="studies per sampler")
    parser.add_argument("--iterations", type=int, default=1000,
                        help="training iterations each study spends (all its trials together)")
    parser.add_argument("--trials", type=int, default=30,
                        help="the most trials a study runs to spend its iterations")
    parser.add_argument("--seeds", type=int, default=5, help="seeds of the test contrast")
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    parser.add_argument("--full", action="store_true", help="the full 2.5 s session (slow)")
    parser.add_argument("--json", default=None, help="write the numbers to this file")
    args = parser.parse_args()
    os.environ.setdefault("HELPERS_PROGRESS", "off")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    data = make_sweep_data(load_session("Lederberg 2017-12-05"), **(FULL if args.full else SMALL),
                           seed=SEED)
    print(f"{os.cpu_count()} CPU cores, {args.workers} workers; {data.description}; cap "
          f"{SEARCH_RECIPE.n_iter} iterations, patience {SEARCH_RECIPE.patience}\n")

    # 1. repeated studies: samplers, and pruning on/off
    common = {"n_studies": args.studies, "n_trials": args.trials, "seed": SEED,
              "enqueue": (DEFAULTS,), "n_workers": args.workers,
              "max_iterations": args.iterations}
    runs = repeat_studies(data, samplers=("tpe", "random"), pruner="median", **common)
    runs["tpe, no pruning"] = repeat_studies(data, samplers=("tpe",), pruner="none",
                                             **common)["tpe"]
    searched_s = time.perf_counter() - start
    for name, studies in runs.items():
        short = sum(sum(t.user_attrs.get("iterations", 0) for t in trials) < args.iterations
                    for trials in studies)
        print(f"{name}: {len(studies) - short} of {len(studies)} studies spent the budget of "
              f"{args.iterations} iterations (median {np.median([len(t) for t in studies]):.0f} "
              f"trials)" + (f"; {short} hit the cap of {args.trials} trials" if short else ""))
    samplers = {k: runs[k] for k in ("tpe", "random")}
    by_iterations = sampler_summary(samplers, seed=SEED)
    by_seconds = sampler_summary(samplers, resource="seconds", seed=SEED)
    pruning = sampler_summary({k: runs[k] for k in ("tpe", "tpe, no pruning")}, seed=SEED)
    print("## Samplers\n\n" + _table(by_iterations, "iterations") + "\n")
    print(_table(by_seconds, "seconds") + "\n")
    print("## Pruning at equal compute\n\n" + _table(pruning, "iterations") + "\n")
    gap = {k: by_iterations["samplers"][k] for k in ("tpe", "random")}
    apart = gap["tpe"]["best_low"] > gap["random"]["best_high"] or \
        gap["random"]["best_low"] > gap["tpe"]["best_high"]
    print(f"TPE and random search at the common budget: intervals "
          f"{'do not overlap' if apart else 'overlap'} ({args.studies} studies each)\n")

    # 2. the pre-stated contrast on the test trials
    first_tpe = runs["tpe"][0]
    best = max((t for t in first_tpe if t.state == optuna.trial.TrialState.COMPLETE),
               key=lambda t: t.value)
    glm, _ = tune_smoothing_glm(data, seed=SEED)
    candidates = {"TPE best": candidate_from_params(best.params, SEARCH_RECIPE),
                  "recommended": candidate_from_params(DEFAULTS, SEARCH_RECIPE),
                  "smoothing": glm}
    result = evaluate_on_test(candidates, data, seeds=tuple(range(args.seeds)),
                              contrast=("TPE best", "recommended"), n_workers=args.workers,
                              boot_seed=SEED)
    print(f"## Test trials ({args.seeds} seeds; TPE best = trial {best.number} of the first TPE "
          f"study: {best.params})\n")
    print(result.table[["score", "low", "high", "seed_sd", "stop_bits"]].round(3).to_markdown())
    print(f"\n{result.contrast.verdict()}")
    print(f"\nrun time {time.perf_counter() - start:.0f} s (searches {searched_s:.0f} s)")
    if args.json:
        contrast = result.contrast.as_dict()
        out = {"samplers": {name: {k: s[k] for k in ("n_studies", "best_mean", "best_low",
                                                       "best_high")}
                            for name, s in by_iterations["samplers"].items()},
               "best_so_far": {"iterations": _curves(sampler_summary(runs, seed=SEED)),
                               "seconds": _curves(sampler_summary(runs, resource="seconds",
                                                                  seed=SEED))},
               "test_contrast": {k: contrast[k] for k in ("name", "mean", "low", "high",
                                                          "n_seeds")}}
        with open(args.json, "w") as file:
            json.dump(out, file, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
