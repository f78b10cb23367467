"""Benchmark: statistics of simulated sessions vs real-data ranges, and generation cost.

Usage: ``.venv/bin/python benchmarks/surrogate_statistics.py [n_seeds]`` (default 5: seeds 0-4).
Prints one row per statistic with the real-data range and each seed's value (``*`` marks a value
outside the range), then the generation time and the memory of each session.
Numbers go into issue notes, not into test assertions.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np

from helpers.stats import REAL_DATA_RANGES, STATISTIC_LABELS, session_statistics
from helpers.surrogate import make_session


def main(n_seeds: int = 5) -> None:
    seeds = list(range(n_seeds))
    table: dict[str, list[float]] = {name: [] for name in REAL_DATA_RANGES}
    costs = []
    for seed in seeds:
        tracemalloc.start()
        start = time.perf_counter()
        session = make_session(seed)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        held = session.spikes.nbytes + session.truth.rates.nbytes + session.truth.latents.nbytes
        costs.append((seconds, held / 2**20, peak / 2**20))
        for name, value in session_statistics(session).items():
            table[name].append(value)

    header = f"{'statistic':44s} {'real range':>13s} " + " ".join(f"{'seed ' + str(s):>9s}"
                                                                 for s in seeds)
    print(header)
    print("-" * len(header))
    for name, values in table.items():
        low, high = REAL_DATA_RANGES[name]
        cells = " ".join(f"{v:8.3f}{' ' if low <= v <= high else '*'}" for v in values)
        print(f"{STATISTIC_LABELS[name]:44s} {low:6.2f}-{high:<6.2f} {cells}")
    print("\n* outside the real-data range")
    seconds, held, peak = np.array(costs).T
    print(f"generation time: {seconds.mean():.2f} s per session (min {seconds.min():.2f}, "
          f"max {seconds.max():.2f}); arrays held: {held.mean():.0f} MiB; "
          f"peak traced memory: {peak.max():.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
