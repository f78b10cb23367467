"""Chapter 3, measured: the region x region matrix and the recovery of known couplings.

Run from the repository root (CPU only; about 5-10 minutes on 2 cores)::

    .venv/bin/python benchmarks/cross_region.py            # 3 seeds, and the notebook's time
    .venv/bin/python benchmarks/cross_region.py --seeds 0 --no-notebook

For each simulated seed (the Lederberg 2017-12-05 layout, ``make_session(seed)``, whose coupled
pairs are vis ctx -> thal and hipp -> other ctx; see ``helpers.surrogate.COUPLED_PAIRS``), with
the chapter's settings (neurons >= 1 spike/s, 0-0.5 s after the stimulus, trials whose stimulus
x choice occurs twice, matched source size = the smallest target's held-in half):

1. the matrix of ridge's gain over the within-condition trial-shuffle control (bits/spike);
2. detection: is each coupled pair's gain above every uncoupled pair's (pairs that involve a
   coupled pair in either direction are left out of the uncoupled set)? the AUC of the gain
   for coupled vs uncoupled pairs;
3. lag: where the lagged ridge model's weight peaks (10 ms lags, -200 to +100 ms), for each
   coupled pair and its reverse (truth: -30 ms and +30 ms);
4. rank: the cross-validated rank of reduced-rank regression for coupled and uncoupled pairs
   (truth for the coupling: 2);
5. run times of each step, and of the notebook.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from chapter_times import report_notebook_time  # benchmarks/ is on sys.path when run as a script

from helpers.evaluation import score_gains
from helpers.regression import ReducedRankRates, RidgeRates, lag_profile, lagged_features
from helpers.splits import MIN_REGION_NEURONS, cross_region_split, shuffle_within_conditions
from helpers.surrogate import make_session

WINDOW = (0.0, 0.5)
LAGS, SMOOTH = (-0.1, 0.0, 0.1), 0.1
FINE_LAGS = tuple(np.round(np.arange(-0.2, 0.1001, 0.01), 2))
ROOT = Path(__file__).resolve().parents[1]


def prepared(seed: int):
    """The chapter's session: pairable trials, their conditions and the shuffle partners."""
    session = make_session(seed)
    conditions = np.c_[session.contrast_left, session.contrast_right, session.response]
    _, ids, sizes = np.unique(conditions, axis=0, return_inverse=True, return_counts=True)
    keep = sizes[np.ravel(ids)] >= 2
    session, conditions = session.select(trials=keep), conditions[keep]
    return session, conditions, shuffle_within_conditions(conditions, seed=seed)


def auc(positive: list[float], negative: list[float]) -> float:
    """Probability that a coupled pair's gain exceeds an uncoupled one's (ties count half)."""
    pos, neg = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


def run_seed(seed: int) -> dict:
    times = {}
    start = time.perf_counter()
    session, conditions, partner = prepared(seed)
    times["simulate"] = time.perf_counter() - start
    rated = session.mean_rates() >= 1.0
    regions = [r for r in session.regions_present if r != "other"
               and (rated & (session.region == r)).sum() >= 2 * MIN_REGION_NEURONS]
    counts = {r: int((rated & (session.region == r)).sum()) for r in regions}
    n_source = min(n - round(n / 2) for n in counts.values())
    window = session.window(*WINDOW).spikes_by_trial()
    gains, ranks = {}, {}
    start = time.perf_counter()
    for source in regions:
        for target in regions:
            if source == target:
                continue
            split = cross_region_split(session, source, target, n_source=n_source, seed=seed)
            tr, te = split.train_trials, split.test_trials
            y = window[..., split.heldout_neurons]
            x = lagged_features(session, *WINDOW, LAGS, neurons=split.source_neurons,
                                smooth_s=SMOOTH)
            model = ReducedRankRates(seed=seed).fit(x[tr], y[tr])
            predictions = {
                "ridge": model.predict(x[te], rank=y.shape[-1]),
                "shuffle": RidgeRates(seed=seed).fit(x[partner][tr], y[tr]).predict(
                    x[partner][te]),
            }
            table = score_gains(predictions, y[te], reference="shuffle", n_boot=300, seed=seed)
            gains[source, target] = table.loc["ridge", ["score", "low", "high"]].astype(
                float).to_numpy()
            ranks[source, target] = model.rank
    times["matrix"] = time.perf_counter() - start
    truth = session.truth.coupling
    coupled = [p for p in truth.pairs if p[0] in regions and p[1] in regions]
    involved = {q for p in coupled for q in (p, p[::-1])}
    uncoupled = [p for p in gains if p not in involved]
    start = time.perf_counter()
    peaks = {}
    for source, target in [q for p in coupled for q in (p, p[::-1])]:
        split = cross_region_split(session, source, target, n_source=n_source, seed=seed)
        x = lagged_features(session, *WINDOW, FINE_LAGS, neurons=split.source_neurons)
        y = window[..., split.heldout_neurons]
        profile = lag_profile(RidgeRates(seed=seed).fit(x[split.train_trials],
                                                        y[split.train_trials]), FINE_LAGS)
        peaks[source, target] = 1000 * FINE_LAGS[int(np.argmax(profile))]
    times["lags"] = time.perf_counter() - start
    return dict(seed=seed, regions=regions, counts=counts, n_source=n_source, gains=gains,
                ranks=ranks, coupled=coupled, uncoupled=uncoupled, peaks=peaks, times=times,
                lag_ms=1000 * truth.lag_s, rank=truth.rank)


def report(result: dict) -> None:
    regions, gains = result["regions"], result["gains"]
    print(f"\n## Seed {result['seed']}\n")
    print(f"neurons >= 1 spike/s: {result['counts']}; {result['n_source']} source neurons per "
          "pair; coupled: " + ", ".join(f"{s} -> {t}" for s, t in result["coupled"]))
    print("\nGain of ridge over the trial-shuffle control (bits/spike), rows = source:\n")
    print("| source \\ target | " + " | ".join(regions) + " |")
    print("|---" * (len(regions) + 1) + "|")
    for source in regions:
        cells = []
        for target in regions:
            if source == target:
                cells.append("--")
                continue
            score, low, high = gains[source, target]
            mark = " **(coupled)**" if (source, target) in result["coupled"] else ""
            cells.append(f"{score:.3f} [{low:.3f}, {high:.3f}]{mark}")
        print(f"| {source} | " + " | ".join(cells) + " |")
    uncoupled = [gains[p][0] for p in result["uncoupled"]]
    separation = auc([gains[p][0] for p in result["coupled"]], uncoupled)
    print(f"\nuncoupled pairs: {min(uncoupled):.3f} to {max(uncoupled):.3f}; "
          f"AUC coupled vs uncoupled {separation:.2f}")
    for pair in result["coupled"]:
        source, target = pair
        print(f"- {source} -> {target}: gain {gains[pair][0]:.3f} "
              f"({'above' if gains[pair][0] > max(uncoupled) else 'NOT above'} every uncoupled "
              f"pair); weight peak {result['peaks'][pair]:+.0f} ms (true -{result['lag_ms']:.0f}),"
              f" reverse {result['peaks'][pair[::-1]]:+.0f} ms (true +{result['lag_ms']:.0f}); "
              f"CV rank {result['ranks'][pair]} (true {result['rank']})")
    other_ranks = [result["ranks"][p] for p in result["uncoupled"]]
    print(f"- CV rank of uncoupled pairs: median {np.median(other_ranks):.0f} "
          f"(range {min(other_ranks)}-{max(other_ranks)})")
    print("- times: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["times"].items())
          + f" ({len(gains)} pairs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-notebook", action="store_true")
    args = parser.parse_args()
    results = [run_seed(seed) for seed in args.seeds]
    for result in results:
        report(result)
    detected = [r["gains"][p][0] > max(r["gains"][q][0] for q in r["uncoupled"])
                for r in results for p in r["coupled"]]
    lag_errors = [abs(r["peaks"][p] + r["lag_ms"]) for r in results for p in r["coupled"]]
    reverse = [r["peaks"][p[::-1]] > 0 for r in results for p in r["coupled"]]
    print(f"\n## Summary over {len(results)} seeds\n")
    print(f"coupled pairs above every uncoupled pair: {sum(detected)} of {len(detected)}; "
          f"|weight peak - true lag|: median {np.median(lag_errors):.0f} ms "
          f"(max {max(lag_errors):.0f}); reverse direction peaks at a positive lag: "
          f"{sum(reverse)} of {len(reverse)}")
    if not args.no_notebook:
        report_notebook_time(ROOT / "book" / "03_cross_region.ipynb")


if __name__ == "__main__":
    main()
