"""Chapter 3, measured: does the residual analysis find the simulated couplings, and only them?

Run from the repository root (CPU only)::

    .venv/bin/python benchmarks/cross_region.py --json out.json     # seeds 0 1 2
    .venv/bin/python benchmarks/cross_region.py --seeds 0 --notebook  # also time chapter 3

For each simulated seed (the Lederberg 2017-12-05 layout, ``make_session(seed)``; coupled pairs
in ``session.truth.coupling``: vis ctx -> thal and hipp -> other ctx, rank 2, the source
leading by 30 ms), with the chapter's settings (neurons >= 1 spike/s, 0-0.5 s after the
stimulus, trials whose stimulus x choice occurs twice, condition PSTH removed from source and
target = residuals):

1. every ordered region pair at matched source size: ridge's gain over the clean trial-shuffle
   control (20 permutations, partners nearby, same condition and set, matched response time),
   bits/spike with a 95 % interval that contains the permutation spread;
2. detection: the share of *uncoupled* pairs whose interval lies above 0 (a false coupling
   claim; pairs that are a coupled pair or its reverse are left out; intervals below 0 are
   printed too) and the AUC of the gain, coupled vs uncoupled, pooled over seeds;
3. rank: reduced-rank regression's cross-validated rank (10 folds, one-SE rule, interval) of
   the example pair vis ctx -> thal (all its source neurons) on within-trial residuals (each
   trial's own mean residual removed too: a shared gain or engagement is not communication),
   beside the rank on plain residuals and on raw counts;
4. lag: the peak of the residual cross-covariance (symmetric lags, +-100 ms) for the same pair.

``--json PATH`` writes ``rank_true``, ``rank_chosen`` (one per seed), ``lag_true_s`` (the
source's lead, s), ``lag_found_s`` (one per seed, same sign convention),
``false_coupling_rate`` and ``auc``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from helpers.regression import (
    ReducedRankRates,
    lag_profile,
    pair_data,
    region_pair_gains,
)
from helpers.splits import MIN_REGION_NEURONS, cross_region_split
from helpers.surrogate import make_session

WINDOW = (0.0, 0.5)
LAGS, SMOOTH = (-0.1, 0.0, 0.1), 0.1
LAG_SMOOTH = 0.05
EXAMPLE = ("vis ctx", "thal")
N_PERMUTATIONS = 20
ROOT = Path(__file__).resolve().parents[1]
#: The data the rank is measured on: the chapter's (within-trial residuals) first.
RANK_DATA = {"within-trial residuals": {"within_trial": True}, "residuals": {},
             "raw counts": {"residual": False}}


def prepared(seed: int):
    """The chapter's session: pairable trials, neurons >= 1 spike/s, its conditions."""
    session = make_session(seed)
    session = session.select(trials=session.trials_with_partner(), min_rate=1.0)
    return session, session.task_conditions()


def auc(positive: list[float], negative: list[float]) -> float:
    """Probability that a coupled pair's gain exceeds an uncoupled one's (ties count half)."""
    pos, neg = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


def region_matrix(session, conditions, seed: int) -> dict:
    """Gain over the shuffle, ``(score, low, high)``, for every ordered pair of regions."""
    regions = [r for r in session.regions_present if r != "other"
               and (session.region == r).sum() >= 2 * MIN_REGION_NEURONS]
    n_source = min(int((session.region == r).sum()) // 2 for r in regions)
    first = cross_region_split(session, regions[0], regions[1], min_rate=None,
                               conditions=conditions, seed=seed)
    partners = first.partners(conditions, n_permutations=N_PERMUTATIONS,
                              response_time=session.events.get("response_time"), seed=seed)
    table = region_pair_gains(session, conditions, partners, regions=regions,
                              n_source=n_source, window=WINDOW, lags_s=LAGS, smooth_s=SMOOTH,
                              seed=seed, n_boot=500)
    shuffle = table[table["over"] == "shuffle"]
    gains = {(row.source, row.target): (float(row.score), float(row.low), float(row.high))
             for row in shuffle.itertuples()}
    return dict(regions=regions, n_source=n_source, gains=gains)


def rank_and_lag(session, conditions, seed: int, pair: tuple[str, str]) -> dict:
    """Cross-validated rank (residuals and raw counts) and lag peak of one pair."""
    split = cross_region_split(session, *pair, min_rate=None, conditions=conditions, seed=seed)
    ranks = {}
    for name, options in RANK_DATA.items():
        data = pair_data(session, split, conditions, window=WINDOW, lags_s=LAGS,
                         smooth_s=SMOOTH, **options)
        model = ReducedRankRates(seed=seed).fit(*data.train())
        ranks[name] = (model.rank_, *model.rank_interval_)
    lag = lag_profile(session, split, conditions, window=WINDOW, max_lag_s=0.1,
                      smooth_s=LAG_SMOOTH, seed=seed)
    return dict(ranks=ranks, lead_s=-lag.peak_s, lead_interval_s=(-lag.peak_high_s,
                                                                   -lag.peak_low_s))


def run_seed(seed: int) -> dict:
    times = {}
    start = time.perf_counter()
    session, conditions = prepared(seed)
    times["simulate"] = time.perf_counter() - start
    start = time.perf_counter()
    result = region_matrix(session, conditions, seed)
    times["matrix"] = time.perf_counter() - start
    truth = session.truth.coupling
    coupled = [p for p in truth.pairs if p in result["gains"]]
    start = time.perf_counter()
    result["recovery"] = {pair: rank_and_lag(session, conditions, seed, pair)
                          for pair in coupled}
    times["rank and lag"] = time.perf_counter() - start
    involved = {q for p in coupled for q in (p, p[::-1])}
    return dict(result, seed=seed, coupled=coupled, times=times, rank=truth.rank,
                lag_s=truth.lag_s, uncoupled=[p for p in result["gains"] if p not in involved])


def report(result: dict) -> None:
    print(f"\n## Seed {result['seed']}\n")
    print(f"regions {result['regions']}, {result['n_source']} source neurons per pair; "
          "coupled: " + ", ".join(f"{s} -> {t}" for s, t in result["coupled"]))
    print("\n| pair | gain over shuffle (bits/spike) | truth |\n|---|---|---|")
    for (source, target), (score, low, high) in result["gains"].items():
        kind = ("coupled" if (source, target) in result["coupled"] else "uncoupled"
                if (source, target) in result["uncoupled"] else "reverse of coupled")
        print(f"| {source} -> {target} | {score:+.4f} [{low:+.4f}, {high:+.4f}] | {kind} |")
    for (source, target), found in result["recovery"].items():
        ranks = "; ".join(f"{rank} [{low}, {high}] on {name}"
                          for name, (rank, low, high) in found["ranks"].items())
        lead_low, lead_high = found["lead_interval_s"]
        print(f"- {source} -> {target}: rank {ranks} (true {result['rank']}); source leads by "
              f"{1000 * found['lead_s']:+.0f} ms [{1000 * lead_low:+.0f}, "
              f"{1000 * lead_high:+.0f}] (true {1000 * result['lag_s']:+.0f})")
    print("- times: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["times"].items()))


def summary(results: list[dict]) -> dict:
    uncoupled = [r["gains"][p] for r in results for p in r["uncoupled"]]
    coupled = [r["gains"][p] for r in results for p in r["coupled"]]
    example = [r["recovery"][EXAMPLE] for r in results]
    return {
        "rank_true": int(results[0]["rank"]),
        "rank_chosen": [int(e["ranks"]["within-trial residuals"][0]) for e in example],
        "lag_true_s": float(results[0]["lag_s"]),
        "lag_found_s": [round(float(e["lead_s"]), 4) for e in example],
        "false_coupling_rate": float(np.mean([low > 0 for _, low, high in uncoupled])),
        "auc": auc([g[0] for g in coupled], [g[0] for g in uncoupled]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", type=Path, help="write the summary here")
    parser.add_argument("--notebook", action="store_true", help="also time chapter 3")
    args = parser.parse_args()
    results = []
    for seed in args.seeds:
        results.append(run_seed(seed))
        report(results[-1])
    numbers = summary(results)
    print(f"\n## Summary over {len(results)} seeds\n")
    print(json.dumps(numbers, indent=1))
    close_rank = sum(abs(r - numbers["rank_true"]) <= 1 for r in numbers["rank_chosen"])
    close_lag = sum(abs(lag - numbers["lag_true_s"]) <= 0.0100001
                    for lag in numbers["lag_found_s"])
    below = np.mean([r["gains"][p][2] < 0 for r in results for p in r["uncoupled"]])
    print(f"uncoupled pairs with an interval below 0 (the shuffle better): {below:.2f}")
    print(f"rank within +-1 in {close_rank} of {len(results)} seeds; lag within 10 ms in "
          f"{close_lag} of {len(results)}; false coupling rate "
          f"{numbers['false_coupling_rate']:.2f}; AUC {numbers['auc']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1) + "\n")
    if args.notebook:
        from chapter_times import report_notebook_time  # benchmarks/ is on sys.path

        report_notebook_time(ROOT / "book" / "03_cross_region.ipynb")


if __name__ == "__main__":
    main()
