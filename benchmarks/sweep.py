"""Chapter 6's hyperparameter search at a larger budget, measured.

Run from the repository root (CPU; about 10 minutes on 2 idle cores with the defaults)::

    .venv/bin/python benchmarks/sweep.py                       # small session (100 trials x 0.4 s)
    .venv/bin/python benchmarks/sweep.py --trials-per-worker 30  # a larger budget
    .venv/bin/python benchmarks/sweep.py --full                # the full 2.5 s session (slow)

It reports, as markdown for issue notes:

1. three searches at the same budget, each by 2 worker processes against one journal file:
   TPE with the median pruner, random search with the median pruner, TPE without pruning --
   best validation scores, trials pruned, training time and wall time (pruning savings);
2. the best settings of each search, the recommended default and the course recipe
   re-trained over 3 seeds and scored on the test trials (bootstrap intervals, seed noise);
3. throughput: the same 8 settings (enqueued, no pruning) run by 1 worker and by 2 workers,
   in trials per minute.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import optuna

from helpers.models import COURSE_SEQ2SEQ, RECOMMENDED_SEQ2SEQ
from helpers.steinmetz import load_session
from helpers.sweep import (
    FULL,
    SEARCH_RECIPE,
    SMALL,
    SPACE,
    candidate_from_params,
    make_sweep_data,
    open_storage,
)
from helpers.sweep_analysis import (
    evaluate_on_test,
    launch_workers,
    pruning_summary,
    wait_for_workers,
)
from helpers.train import COURSE_RECIPE, RECOMMENDED_FIT

SEED = 2021


def search(name: str, storage: str, workdir: Path, data_file: Path, n_workers: int,
           trials_per_worker: int, n_iter: int, extra: tuple[str, ...] = (),
           enqueue: list[dict] | None = None) -> tuple[optuna.Study, float]:
    """Run one study with local workers; return it and its wall time."""
    study = optuna.create_study(study_name=name, storage=open_storage(storage),
                                direction="maximize")
    for params in enqueue or []:
        study.enqueue_trial(params)
    start = time.perf_counter()
    workers = launch_workers(n_workers, name, storage, trials_per_worker, log_dir=workdir,
                             args=("--data", str(data_file), "--seed", str(SEED),
                                   "--n-iter", str(n_iter), *extra))
    study = wait_for_workers(workers, name, storage, total=n_workers * trials_per_worker,
                             desc=name)
    return study, time.perf_counter() - start


def fmt(params: dict) -> str:
    """A trial's settings in one short line."""
    return (f"{params['cell']} {params['hidden_size']}{' bi' if params['bidirectional'] else ''}"
            f" x{params['num_layers']}, log {params['log_inputs']}, dropout "
            f"{params['input_dropout']:.2f}, lr {params['lr']:.2g}, "
            f"wd {params['weight_decay']:.1g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials-per-worker", type=int, default=12)
    parser.add_argument("--n-iter", type=int, default=300)
    parser.add_argument("--full", action="store_true", help="the full 2.5 s session")
    args = parser.parse_args()
    os.environ.setdefault("HELPERS_PROGRESS", "final")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="sweep-benchmark-"))
    storage = str(workdir / "benchmark.journal")
    session = load_session("Lederberg 2017-12-05")
    data = make_sweep_data(session, **(FULL if args.full else SMALL), seed=SEED)
    data_file = data.save(workdir / "data.npz")
    print(f"{os.cpu_count()} CPU cores; {data.description}\n")
    defaults = {**asdict(RECOMMENDED_SEQ2SEQ), "lr": RECOMMENDED_FIT.lr,
                "weight_decay": SPACE.weight_decay[0]}

    # 1. three searches at the same budget
    budget = 2 * args.trials_per_worker
    rows, studies = [], {}
    for name, extra in (("TPE + median pruner", ()),
                        ("random + median pruner", ("--sampler", "random")),
                        ("TPE, no pruning", ("--pruner", "none"))):
        study, wall = search(name.replace(" ", "-").replace(",", "").replace("+", "and"),
                             storage, workdir, data_file, 2, args.trials_per_worker, args.n_iter,
                             extra, enqueue=[defaults])
        studies[name] = study
        saving = pruning_summary(study)
        rows.append(f"| {name} | {study.best_value:.3f} | {saving['n_pruned']} | "
                    f"{saving['seconds_spent']:.0f} | {saving['seconds_saved']:.0f} | {wall:.0f} |")
    print(f"\n## Searches ({budget} trials each, 2 workers, first trial = recommended default)\n")
    print("| search | best validation bits/spike | pruned | training s | est. s saved "
          "| wall s |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    for name, study in studies.items():
        print(f"- {name}: best trial {study.best_trial.number}: {fmt(study.best_params)}")

    # 2. test trials
    searched = replace(SEARCH_RECIPE, n_iter=args.n_iter)
    candidates = {f"best of {name}": candidate_from_params(study.best_params, searched)
                  for name, study in studies.items()}
    candidates["recommended"] = (RECOMMENDED_SEQ2SEQ, RECOMMENDED_FIT)
    candidates["course recipe"] = (COURSE_SEQ2SEQ, COURSE_RECIPE)
    start = time.perf_counter()
    result = evaluate_on_test(candidates, data, seeds=(0, 1, 2), n_workers=2, boot_seed=SEED)
    print(f"\n## Test trials (3 seeds each, {time.perf_counter() - start:.0f} s)\n")
    print("| candidate | test bits/spike [95 % CI] | seed SD | diff to best [95 % CI] "
          "| p (seeds) | verdict |\n|---|---|---|---|---|---|")
    for name, row in result.table.iterrows():
        verdict = ("best" if row["diff_to_best"] == 0 else
                   f"{'beyond' if row['beyond_seed_noise'] else 'within'} seed noise, "
                   f"{'beyond' if row['beyond_test_noise'] else 'within'} test-trial noise")
        print(f"| {name} | {row['score']:.3f} [{row['low']:.3f}, {row['high']:.3f}] | "
              f"{row['seed_sd']:.3f} | {row['diff_to_best']:+.3f} [{row['diff_low']:+.3f}, "
              f"{row['diff_high']:+.3f}] | {row['p_seeds']:.2f} | {verdict} |")

    # 3. throughput: the same 8 settings with 1 and 2 workers
    sampler = optuna.samplers.RandomSampler(seed=SEED)
    scratch = optuna.create_study(sampler=sampler)
    settings = []
    for _ in range(8):
        trial = scratch.ask()
        settings.append(SPACE.suggest(trial))
        scratch.tell(trial, 0.0)
    print("\n## Throughput (the same 8 settings, no pruning)\n")
    print("| workers | wall s | trials/min |\n|---|---|---|")
    rates = {}
    for n_workers in (1, 2):
        study, wall = search(f"throughput-{n_workers}", storage, workdir, data_file, n_workers,
                             8 // n_workers, args.n_iter, ("--pruner", "none"), enqueue=settings)
        rates[n_workers] = len(study.trials) / wall * 60
        print(f"| {n_workers} | {wall:.0f} | {rates[n_workers]:.1f} |")
    print(f"\n2 workers: {rates[2] / rates[1]:.2f}x the throughput of 1 "
          f"(worker start-up included; logs in {workdir})")


if __name__ == "__main__":
    main()
