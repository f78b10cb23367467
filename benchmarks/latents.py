"""Chapter 5's latent model, measured: decoding peaks, truth recovery over seeds, run times.

Run from the repository root (CPU only; about 5-10 minutes on 2 cores)::

    .venv/bin/python benchmarks/latents.py            # everything
    .venv/bin/python benchmarks/latents.py --quick    # one session, two seeds, no notebook
    .venv/bin/python benchmarks/latents.py --skip-notebook

For several simulated sessions (the chapter's Lederberg 2017-12-05 stand-in and others), on
visual cortex and thalamus (neurons >= 1 spike/s, 0.5 s before to 1.5 s after stimulus onset,
50 ms bins), it trains :class:`helpers.models.LatentRNN` with several seeds and reports, as
markdown tables for issue notes:

1. co-smoothing bits/spike of the latent model and the time to train it;
2. the truth recovery, both ways: per-latent cross-validated R² of the true latents from the
   factors (learned -> true) and how many reach 0.5, median R² of the factors from the true
   latents
   (true -> learned), the number of factors with R² < 0.5 (extra dimensions), and the
   seed-to-seed R² of the factors;
3. the peak of every time-resolved decoding curve (stimulus side, contrast difference, choice,
   movement, wheel speed, outcome) from latents, PCA of the same dimension and smoothed
   spikes, with the first time above the shuffled null;
4. the wall-clock time of executing ``book/05_latents.ipynb``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from chapter_times import report_notebook_time  # benchmarks/ is on sys.path when run as a script

from helpers.catalogue import SESSIONS
from helpers.decoding import (
    VARIABLES,
    causal_smooth,
    compare_latents,
    decode_over_time,
    first_decodable_time,
    linear_r2,
    pca_trajectories,
    trial_variable,
)
from helpers.evaluation import score_rates
from helpers.models import LatentRNN
from helpers.splits import co_smoothing_split
from helpers.surrogate import make_session
from helpers.train import fit

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "book" / "05_latents.ipynb"
BIN, WINDOW, REGIONS = 0.05, (-0.5, 1.5), ["vis ctx", "thal"]
SESSION_INDICES = (11, 17, 3)  # Lederberg 2017-12-05 (the chapter's), and two others


def session_results(index: int, seeds: tuple[int, ...]) -> tuple[dict, pd.DataFrame]:
    """Train one latent model per seed on one simulated session; recovery and decoding."""
    info = SESSIONS[index]
    session = make_session(seed=index, n_trials=info.n_trials,
                           area_counts=dict(info.area_counts), mouse_name=info.mouse_name,
                           date_exp=info.date_exp)
    areas = session.select(regions=REGIONS, min_rate=1.0).window(*WINDOW)
    spikes = areas.spikes_by_trial(BIN)
    time_s = areas.time.reshape(-1, round(BIN / areas.bin_size)).mean(axis=1)
    split = co_smoothing_split(areas.n_trials, areas.n_neurons, seed=2021)
    data = split.apply(spikes)
    heldin = spikes[:, :, split.heldin_neurons]
    true, names = areas.latents_by_trial(BIN), areas.truth.latent_names
    factors, rows = {}, []
    for seed in seeds:
        model = LatentRNN(len(split.heldin_neurons), len(split.heldout_neurons))
        start = time.perf_counter()
        fit(model, data.train_inputs, data.train_targets, seed=seed, progress=False)
        seconds = time.perf_counter() - start
        factors[seed] = model.predict(heldin)[1]
        score = score_rates({"latent": model.predict(data.test_inputs)[0]}, data.test_targets,
                            n_boot=200).loc["latent", "score"]
        comparison = compare_latents(factors[seed], true, names)
        rows.append({"session": areas.name, "neurons": areas.n_neurons, "seed": seed,
                     "bits/spike": score, "fit s": seconds,
                     "true latents recovered (R² >= 0.5)": len(comparison.recovered()),
                     "true->learned (median)": float(np.median(comparison.to_learned)),
                     "extra factors": int((comparison.to_learned < 0.5).sum()),
                     **{f"R² {name}": float(r2) for name, r2 in comparison.to_true.items()}})
    pairs = [(a, b) for i, a in enumerate(seeds) for b in seeds[i + 1:]]
    consistency = [float(np.median(linear_r2(factors[a], factors[b]))) for a, b in pairs]
    summary = {"session": areas.name, "seed-to-seed R² (median over pairs)":
               float(np.median(consistency)) if consistency else np.nan, "rows": rows}
    smoothed = causal_smooth(heldin)
    representations = {
        "latents": factors[seeds[0]],
        "PCA": pca_trajectories(smoothed, factors[seeds[0]].shape[-1], split.train_trials),
        "smoothed spikes": smoothed}
    peaks = []
    for name in VARIABLES:
        target = trial_variable(areas, name, bin_width=BIN)
        for representation, features in representations.items():
            start = time.perf_counter()
            curve = decode_over_time(features, target, time=time_s, model=representation)
            best = curve.loc[curve["score"].idxmax()]
            peaks.append({"session": areas.name, "variable": name, "model": representation,
                          "peak": best["score"], "low": best["low"], "high": best["high"],
                          "at s": best["time"], "first above null s": first_decodable_time(curve),
                          "decode s": time.perf_counter() - start})
    return summary, pd.DataFrame(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one session, two seeds")
    parser.add_argument("--skip-notebook", action="store_true", help="don't time the chapter")
    args = parser.parse_args()
    indices = SESSION_INDICES[:1] if args.quick else SESSION_INDICES
    seeds = (0, 1) if args.quick else (0, 1, 2)
    summaries, peaks = [], []
    for index in indices:
        start = time.perf_counter()
        summary, peak = session_results(index, seeds)
        summaries.append(summary)
        peaks.append(peak)
        print(f"session {index} done in {time.perf_counter() - start:.0f} s", flush=True)
    rows = pd.DataFrame([row for s in summaries for row in s["rows"]])
    print("\n## 1-2. Co-smoothing, fit time and truth recovery (per session and seed)\n")
    columns = ["session", "neurons", "seed", "bits/spike", "fit s",
               "true latents recovered (R² >= 0.5)", "true->learned (median)", "extra factors"]
    print(rows[columns].round(3).to_markdown(index=False))
    print("\nPer true latent, R² learned -> true (mean over seeds):\n")
    names = [column for column in rows if column.startswith("R² ")]
    per_latent = rows.groupby("session")[names].mean()
    print(per_latent.T.round(2).to_markdown())
    print("\nSeed-to-seed consistency (median R² of a linear map between two seeds' factors):\n")
    print(pd.DataFrame([{k: v for k, v in s.items() if k != "rows"} for s in summaries])
          .round(3).to_markdown(index=False))
    print("\n## 3. Decoding peaks (stimulus-aligned, 50 ms bins, 5 folds, 20 shuffles)\n")
    table = pd.concat(peaks, ignore_index=True)
    print(table.round(3).to_markdown(index=False))
    print(f"\ndecoding time per curve: median {table['decode s'].median():.2f} s, "
          f"max {table['decode s'].max():.2f} s")
    if not (args.quick or args.skip_notebook):
        print("\n## 4. Chapter run time\n")
        report_notebook_time(NOTEBOOK)


if __name__ == "__main__":
    main()
