"""Benchmark: simulated sessions against real data -- statistics, co-smoothing ladder, decoding.

Usage (from the repository root, one CPU thread is enough)::

    .venv/bin/python benchmarks/surrogate_statistics.py                  # everything, seeds 0-4
    .venv/bin/python benchmarks/surrogate_statistics.py --seeds 0 1 11   # chosen seeds
    .venv/bin/python benchmarks/surrogate_statistics.py --no-ladder --no-decoding  # quick

It prints, as markdown tables for issue notes and ``book/simulation.md``:

1. **statistics**: every statistic of :data:`helpers.realism.REAL_DATA_RANGES` on the session-11
   layout (Lederberg 2017-12-05), one column per seed (``*`` marks a value outside the real
   range), then the generation time and memory of each session;
2. **co-smoothing ladder** on chapter 2's settings: visual cortex, neurons firing >= 1 spike/s,
   chapter 2's split (20 % test trials, half the neurons held out, seed 2021), its recommended
   RNN, smoothing + GLM, condition PSTH, constant-rate null and the true rates, in held-out
   bits/spike; the ratio RNN / smoothing and PSTH / smoothing, beside the co-smoothing targets
   of :data:`helpers.realism.CO_SMOOTHING_TARGETS` (real: RNN 0.386, smoothing 0.246,
   PSTH 0.181, null -0.009, ratio 1.57). Done on the whole trial (as the chapter does) and, with
   ``--window``, on 0-0.4 s after stimulus onset only;
3. **small-session decoding**: chapter 4's small setting (100 trials, 0-0.4 s, 260 thalamic
   neurons), the recommended RNN against logistic regression on identical folds
   (:func:`helpers.classify.cross_validate`); real: RNN 0.56 vs logistic 0.69.

Numbers go into issue notes and the simulation page, not into test assertions.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import torch

from helpers.baselines import baseline_rates
from helpers.evaluation import score_rates
from helpers.models import RECOMMENDED_SEQ2SEQ, Seq2SeqRNN
from helpers.realism import (
    CO_SMOOTHING_TARGETS,
    REAL_DATA_RANGES,
    STATISTIC_LABELS,
    session_statistics,
)
from helpers.splits import co_smoothing_split
from helpers.surrogate import make_session
from helpers.train import fit

#: The real layout of Lederberg 2017-12-05 (session 11), the chapters' example session.
SESSION_11_AREA_COUNTS = {"ACA": 16, "CA1": 50, "DG": 65, "LGd": 11, "LH": 18, "MD": 126, "MOs": 6,
                          "PL": 56, "SUB": 105, "VISam": 79, "VISp": 66, "root": 100}
CHAPTER_SEED = 2021  # chapter 2's SEED: its split, baselines and model initialisation
MAX_RATE_HZ = 150.0  # the simulation's saturating rate (helpers.surrogate)
SMALL_THALAMUS = {"MD": 90, "LGd": 90, "LP": 80}  # benchmarks/classifier.py's small sessions
LADDER = ("rnn", "smoothing", "psth", "null", "oracle")  # identifiers of helpers.evaluation


def statistics(seeds: list[int]) -> None:
    """Section 1: REAL_DATA_RANGES statistics per seed, and what a session costs to make."""
    table: dict[str, list[float]] = {name: [] for name in REAL_DATA_RANGES}
    costs = []
    for seed in seeds:
        start = time.perf_counter()
        session = make_session(seed, area_counts=SESSION_11_AREA_COUNTS)
        seconds = time.perf_counter() - start
        held = session.spikes.nbytes + session.truth.rates.nbytes + session.truth.latents.nbytes
        costs.append((seconds, held / 2**20))
        for name, value in session_statistics(session).items():
            table[name].append(value)
    tracemalloc.start()  # slows allocation down: measured apart from the time
    make_session(seeds[0], area_counts=SESSION_11_AREA_COUNTS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print("## Statistics, session-11 layout, 0-0.4 s after stimulus onset\n")
    print("| statistic | real range | " + " | ".join(f"seed {s}" for s in seeds) + " |")
    print("|---|---|" + "---|" * len(seeds))
    for name, values in table.items():
        low, high = REAL_DATA_RANGES[name]
        cells = " | ".join(f"{v:.3f}{'' if low <= v <= high else ' *'}" for v in values)
        print(f"| {STATISTIC_LABELS[name]} | {low:g}-{high:g} | {cells} |")
    print("\n\\* outside the real-data range")
    seconds, held = np.array(costs).T
    print(f"\nmake_session (698 neurons x 340 trials x 250 bins): {seconds.mean():.2f} s per "
          f"session (min {seconds.min():.2f}, max {seconds.max():.2f}); arrays held: "
          f"{held.mean():.0f} MiB; peak traced memory: {peak / 2**20:.0f} MiB\n")


def ladder(seed: int, window: tuple[float, float] | None = None,
           min_rate: float = 1.0) -> dict[str, float]:
    """Section 2 for one seed: chapter 2's co-smoothing ladder, in held-out bits/spike."""
    session = make_session(seed, area_counts=SESSION_11_AREA_COUNTS)
    n_total = int(np.sum(session.region == "vis ctx"))
    session = session.select(regions="vis ctx", min_rate=min_rate)
    if window is not None:
        session = session.window(*window)
    split = co_smoothing_split(session.n_trials, session.n_neurons, seed=CHAPTER_SEED)
    data = split.apply(session.spikes_by_trial())
    start = time.perf_counter()
    model = Seq2SeqRNN(len(split.heldin_neurons), len(split.heldout_neurons),
                       RECOMMENDED_SEQ2SEQ)
    history = fit(model, data.train_inputs, data.train_targets, seed=CHAPTER_SEED,
                  progress=False)
    rnn_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predictions = {"rnn": model.predict(data.test_inputs)[0],
                   **baseline_rates(data, split, np.c_[session.contrast_left,
                                                       session.contrast_right],
                                    true_rates=session.rates_by_trial(), seed=CHAPTER_SEED)}
    baseline_seconds = time.perf_counter() - start
    # The exponential link of smoothing + GLM can blow up on a trial whose inputs lie far outside
    # the training range; capped at the simulation's maximum rate, it shows the ladder without
    # such a trial.
    predictions["smoothing capped"] = np.minimum(predictions["smoothing"], MAX_RATE_HZ
                                                 * session.bin_size)
    table = score_rates(predictions, data.test_targets, reference="smoothing",
                        seed=CHAPTER_SEED)
    result = {name: float(table.loc[name, "score"]) for name in LADDER}
    result.update(ratio=float(table.loc["rnn", "ratio"]),
                  ratio_low=float(table.loc["rnn", "ratio_low"]),
                  ratio_high=float(table.loc["rnn", "ratio_high"]),
                  psth_ratio=float(table.loc["psth", "ratio"]),
                  capped_ratio=float(table.loc["rnn", "score"] / table.loc["smoothing capped",
                                                                          "score"]),
                  n_neurons=session.n_neurons, n_total=n_total,
                  iterations=history.n_iterations, rnn_seconds=rnn_seconds,
                  baseline_seconds=baseline_seconds)
    return result


def ladders(seeds: list[int], window: tuple[float, float] | None) -> None:
    """Section 2: the ladder on every seed, as a table with the real values on top."""
    where = "whole trial" if window is None else f"{window[0]:g}-{window[1]:g} s after onset"
    print(f"## Co-smoothing ladder ({where}), visual cortex >= 1 spike/s, chapter 2's split and "
          "recommended RNN\n")
    print("| seed | neurons | RNN | smoothing + GLM | condition PSTH | null | oracle | "
          "RNN / smoothing [95 %] | PSTH / smoothing | RNN / capped smoothing | "
          "RNN iterations, s | baselines s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    real = CO_SMOOTHING_TARGETS
    print(f"| real (session 11) | 63 of 145 | {real['rnn_bps'][2]:.3f} | "
          f"{real['smoothing_bps'][2]:.3f} | {real['psth_bps'][2]:.3f} | -0.009 | - | "
          f"{real['rnn_over_smoothing'][2]:.2f} | {real['psth_over_smoothing'][2]:.2f} | - | - "
          "| - |")
    results = []
    for seed in seeds:
        r = ladder(seed, window)
        results.append(r)
        print(f"| {seed} | {r['n_neurons']} of {r['n_total']} | "
              + " | ".join(f"{r[name]:.3f}" for name in LADDER)
              + f" | {r['ratio']:.2f} [{r['ratio_low']:.2f}, {r['ratio_high']:.2f}] | "
              f"{r['psth_ratio']:.2f} | {r['capped_ratio']:.2f} | "
              f"{r['iterations']}, {r['rnn_seconds']:.0f} | "
              f"{r['baseline_seconds']:.0f} |", flush=True)
    if len(results) > 1:
        mean = {key: np.mean([r[key] for r in results])
                for key in (*LADDER, "ratio", "psth_ratio", "capped_ratio")}
        print("| mean | | " + " | ".join(f"{mean[name]:.3f}" for name in LADDER)
              + f" | {mean['ratio']:.2f} | {mean['psth_ratio']:.2f} | "
              f"{mean['capped_ratio']:.2f} | | |")
    print("\ntargets: " + "; ".join(f"{name} {low:g}-{high:g}"
                                    for name, (low, high, _) in CO_SMOOTHING_TARGETS.items()))
    print()


def small_decoding(seeds: list[int]) -> None:
    """Section 3: chapter 4's small sessions, RNN vs logistic on identical folds."""
    from helpers.classify import cross_validate

    print("## Small sessions: outcome from 260 thalamic neurons, 100 trials, 0-0.4 s, "
          "5 folds x 2 repeats (real: RNN 0.56, logistic 0.69)\n")
    print("| seed | RNN | logistic | RNN - logistic | best achievable | seconds |")
    print("|---|---|---|---|---|---|")
    differences = []
    for seed in seeds:
        session = make_session(seed, n_trials=100, n_bins=40, stim_onset=0.0,
                               area_counts=SMALL_THALAMUS)
        start = time.perf_counter()
        result = cross_validate(session, n_repeats=2, seed=CHAPTER_SEED,
                                models=("rnn", "logistic", "best achievable"))
        rnn, logistic = result.scores("rnn").mean(), result.scores("logistic").mean()
        differences.append(rnn - logistic)
        print(f"| {seed} | {rnn:.3f} | {logistic:.3f} | {rnn - logistic:+.3f} | "
              f"{result.scores('best achievable').mean():.3f} | "
              f"{time.perf_counter() - start:.0f} |", flush=True)
    print(f"\nmean RNN - logistic over seeds: {np.mean(differences):+.3f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument("--no-statistics", action="store_true")
    parser.add_argument("--no-ladder", action="store_true")
    parser.add_argument("--window", action="store_true",
                        help="also the ladder on 0-0.4 s after stimulus onset")
    parser.add_argument("--no-decoding", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.no_statistics:
        statistics(args.seeds)
    if not args.no_ladder:
        ladders(args.seeds, None)
        if args.window:
            ladders(args.seeds, (0.0, 0.4))
    if not args.no_decoding:
        small_decoding(args.seeds)


if __name__ == "__main__":
    main()
