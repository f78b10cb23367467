"""Chapter 4's classifier, measured: balanced accuracies with 95 % intervals, on identical folds.

Run from the repository root (CPU only, single thread, a few minutes)::

    .venv/bin/python benchmarks/classifier.py              # everything
    .venv/bin/python benchmarks/classifier.py --quick      # fewer small sessions, no notebook

It reports, as markdown tables for issue notes:

1. the simulated Lederberg 2017-12-05 thalamus (5 folds x 3 repeats): RNN (recommended
   settings), logistic regression, majority class and the best achievable score from the true
   ``p_correct``, the RNN as a fraction of the best achievable, and a permutation test;
2. the small-session setting -- 100 trials, 40 bins of 10 ms from 0 to 0.4 s after stimulus
   onset, 260 thalamic neurons -- over several simulated seeds: the recommended RNN and the
   plain RNN (:data:`helpers.models.PLAIN_CLASSIFIER`, :data:`helpers.classify.PLAIN_RECIPE`)
   beside the logistic baseline;
3. the wall-clock time of executing ``book/04_thalamus_classifier.ipynb``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from chapter_times import report_notebook_time  # benchmarks/ is on sys.path when run as a script

from helpers import Session, load_session
from helpers.classify import CLASSIFIER_RECIPE, PLAIN_RECIPE, cross_validate, permutation_test
from helpers.inference import corrected_t_interval
from helpers.models import PLAIN_CLASSIFIER, RECOMMENDED_CLASSIFIER
from helpers.session import MIN_RATE
from helpers.surrogate import make_session

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "book" / "04_thalamus_classifier.ipynb"
SMALL_AREAS = {"MD": 90, "LGd": 90, "LP": 80}  # 260 thalamic neurons


def small_session(seed: int) -> Session:
    """100 trials of 40 bins (0-0.4 s after stimulus onset), 260 thalamic neurons."""
    return make_session(seed, n_trials=100, n_bins=40, stim_onset=0.0, area_counts=SMALL_AREAS)


def fmt(interval: tuple[float, float, float]) -> str:
    mean, low, high = interval
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def lederberg(n_permutations: int) -> None:
    """Section 1 of the report."""
    session = load_session("Lederberg 2017-12-05", source="simulated")
    thalamus = session.select(regions="thal", min_rate=MIN_RATE)
    start = time.perf_counter()
    result = cross_validate(thalamus, n_repeats=3, seed=2021)
    seconds = time.perf_counter() - start
    print(f"\n## Simulated Lederberg 2017-12-05, thalamus ({thalamus.n_neurons} neurons, "
          f"{thalamus.n_trials} trials), 5 folds x 3 repeats, {seconds:.0f} s\n")
    print("| model | balanced accuracy [95% CI] |\n|---|---|")
    for model, interval in result.summary().items():
        print(f"| {model} | {fmt(interval)} |")
    best = result.scores("best achievable").mean()
    for model in ("rnn", "logistic"):
        mean = result.scores(model).mean()
        print(f"\n{model}: {mean / best:.1%} of the best achievable; "
              f"{(mean - 0.5) / (best - 0.5):.1%} of the way from chance to it")
    difference = result.scores("rnn") - result.scores("logistic")
    print(f"RNN - logistic (paired): {fmt(corrected_t_interval(difference, 0.2))}")
    start = time.perf_counter()
    test = permutation_test(thalamus, model="rnn", n_permutations=n_permutations, n_repeats=1,
                            seed=2021)
    print(f"Permutation test (RNN, 5 folds x 1 repeat, {n_permutations} shuffles, "
          f"{time.perf_counter() - start:.0f} s): observed {test.observed:.3f}, null "
          f"{test.null_scores.mean():.3f} +- {test.null_scores.std():.3f} "
          f"(max {test.null_scores.max():.3f}), p = {test.p_value:.3f}")


def small_sessions(seeds: list[int], plain: bool) -> None:
    """Section 2 of the report."""
    print(f"\n## Small sessions: 100 trials x 40 bins (0-0.4 s), 260 thalamic neurons, "
          f"5 folds x 2 repeats, seeds {seeds}\n")
    header = "| seed | logistic | RNN (default) | RNN - logistic |"
    header += " plain RNN | plain - logistic |" if plain else ""
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    summary: dict[str, list[float]] = {"rnn": [], "plain": [], "logistic": [], "best": []}
    for seed in seeds:
        session = small_session(seed)
        result = cross_validate(session, n_repeats=2, seed=2021,
                                models=("rnn", "logistic", "majority", "best achievable"))
        logistic = result.scores("logistic")
        row = (f"| {seed} | {fmt(result.interval('logistic'))} | {fmt(result.interval('rnn'))} "
               f"| {fmt(corrected_t_interval(result.scores('rnn') - logistic, 0.2))} |")
        summary["rnn"].append(result.scores("rnn").mean())
        summary["logistic"].append(logistic.mean())
        summary["best"].append(result.scores("best achievable").mean())
        if plain:
            plain_result = cross_validate(session, n_repeats=2, seed=2021, models=("rnn",),
                                          settings=PLAIN_CLASSIFIER, recipe=PLAIN_RECIPE)
            difference = plain_result.scores("rnn") - logistic
            row += (f" {fmt(plain_result.interval('rnn'))} | "
                    f"{fmt(corrected_t_interval(difference, 0.2))} |")
            summary["plain"].append(plain_result.scores("rnn").mean())
        print(row, flush=True)
    means = {key: float(np.mean(values)) for key, values in summary.items() if values}
    print(f"\nMean over seeds: {', '.join(f'{k} {v:.3f}' for k, v in means.items())}; "
          f"RNN - logistic {means['rnn'] - means['logistic']:+.3f}"
          + (f"; plain - logistic {means['plain'] - means['logistic']:+.3f}" if plain else "")
          + f"; RNN / best achievable {means['rnn'] / means['best']:.1%}")
    print(f"Recommended settings: {RECOMMENDED_CLASSIFIER}, {CLASSIFIER_RECIPE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 small seeds, no notebook")
    parser.add_argument("--seeds", type=int, nargs="*", default=list(range(1, 9)))
    parser.add_argument("--permutations", type=int, default=99)
    parser.add_argument("--no-plain", action="store_true", help="skip the slow plain RNN")
    parser.add_argument("--no-notebook", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = args.seeds[:3] if args.quick else args.seeds
    lederberg(19 if args.quick else args.permutations)
    small_sessions(seeds, plain=not args.no_plain)
    if not (args.quick or args.no_notebook):
        report_notebook_time(NOTEBOOK)


if __name__ == "__main__":
    main()
