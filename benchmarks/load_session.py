"""Benchmark: how fast and how lean is ``load_session`` once the per-session cache exists?

Builds a course-format file (``steinmetz_part0.npz``: a pickled object array of session dicts)
in a temporary folder, runs the one-time split, then measures in fresh processes:

- the cached load of one session: median wall time of several loads, tracemalloc peak of one
  load, and the process's peak resident memory (``ru_maxrss``) above its baseline after imports;
- for comparison, the course's way: ``np.load(part, allow_pickle=True)['dat'][k]``.

The real part files hold 13 sessions of a few hundred to ~1800 neurons and ~200-450 trials each.
The default here is 13 sessions of 1000 neurons x 300 trials x 250 bins (~1 GB of uint8 counts);
``--sessions 4`` scales the file down without changing the cached load (which reads one session
only). Usage::

    .venv/bin/python benchmarks/load_session.py [--sessions 13] [--neurons 1000] [--trials 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Peak resident memory of the child itself: ru_maxrss survives fork/exec on Linux (it would
# report the parent's peak), so the child resets its high-water mark and reads VmHWM instead.
PEAK_RSS = """
def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
"""

CHILD_CODE = {
    "load": """
import statistics, time, tracemalloc
from helpers.steinmetz import load_session
base = rss_mb()
reset_peak()
times = []
for _ in range({repeats}):
    start = time.perf_counter()
    session = load_session({index}, source="real", data_dir={directory!r}, verbose=False)
    times.append(time.perf_counter() - start)
    del session
tracemalloc.start()
session = load_session({index}, source="real", data_dir={directory!r}, verbose=False)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
rss = peak_mb() - base
print(json.dumps(dict(median_s=statistics.median(times), min_s=min(times),
                      tracemalloc_peak_mb=peak / 2**20, rss_growth_mb=rss,
                      spikes_mb=session.spikes.nbytes / 2**20, shape=session.spikes.shape)))
""",
    "split": """
import time
from helpers.steinmetz import split_course_file
base = rss_mb()
reset_peak()
start = time.perf_counter()
split_course_file({part!r}, 0, {directory!r}, verify=False)  # "Bench" sessions
print(json.dumps(dict(seconds=time.perf_counter() - start, rss_growth_mb=peak_mb() - base)))
""",
    "course": """
import time
import numpy as np
base = rss_mb()
reset_peak()
start = time.perf_counter()
session = np.load({part!r}, allow_pickle=True)["dat"][{index}]
print(json.dumps(dict(seconds=time.perf_counter() - start, rss_growth_mb=peak_mb() - base)))
""",
}


def run_child(mode: str, **kwargs: object) -> dict:
    """Run one measurement in a fresh interpreter (so peak memory is its own) and parse it."""
    code = "import json\n" + PEAK_RSS + CHILD_CODE[mode].format(**kwargs)
    env = {**os.environ, "STEINMETZ_SOURCE": "real", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def write_part_file(path: Path, n_sessions: int, n_neurons: int, n_trials: int) -> None:
    """A course-format file: object array of dicts, per-trial events shaped (n_trials, 1)."""
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.08, (n_neurons, n_trials, 250)).astype(np.uint8)  # ~8 Hz
    areas = np.array(["VISp", "VISam", "LGd", "MD", "CA1", "DG", "MOs", " TT", "root"])
    entries = []
    for k in range(n_sessions):
        entries.append({
            "spks": np.roll(counts, k, axis=1),  # distinct arrays, cheap to make
            "brain_area": areas[np.arange(n_neurons) % len(areas)],
            "ccf": rng.normal(size=(n_neurons, 3)),
            "contrast_left": rng.choice([0, 0.25, 0.5, 1.0], n_trials),
            "contrast_right": rng.choice([0, 0.25, 0.5, 1.0], n_trials),
            "response": rng.choice([-1.0, 0.0, 1.0], n_trials),
            "feedback_type": rng.choice([-1.0, 1.0], n_trials),
            **{key: rng.uniform(0.4, 2.0, (n_trials, 1))
               for key in ("gocue", "response_time", "feedback_time")},
            "wheel": rng.integers(-2, 3, (1, n_trials, 250)).astype(np.int8),
            "mouse_name": "Bench", "date_exp": f"2020-01-{k + 1:02d}",
            "bin_size": 0.01, "stim_onset": 0.5,
        })
    dat = np.empty(n_sessions, dtype=object)
    dat[:] = entries
    np.savez(path, dat=dat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=13)
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / "steinmetz_part0.npz"
        start = time.perf_counter()
        write_part_file(part, args.sessions, args.neurons, args.trials)
        print(f"course-format file: {args.sessions} sessions x {args.neurons} neurons x "
              f"{args.trials} trials x 250 bins, {part.stat().st_size / 2**20:.0f} MB "
              f"(written in {time.perf_counter() - start:.1f} s)")
        split = run_child("split", part=str(part), directory=tmp)
        cache = sorted((Path(tmp) / "steinmetz_sessions").glob("*.npz"))
        print(f"one-time split: {split['seconds']:.1f} s, peak memory +{split['rss_growth_mb']:.0f}"
              f" MB, {len(cache)} files of {cache[0].stat().st_size / 2**20:.0f} MB")
        index = args.sessions // 2
        load = run_child("load", index=index, directory=tmp, repeats=args.repeats)
        print(f"cached load of one session {tuple(load['shape'])}: median {load['median_s']:.3f}"
              f" s (min {load['min_s']:.3f} s, {args.repeats} loads); tracemalloc peak "
              f"{load['tracemalloc_peak_mb']:.0f} MB; peak RSS +{load['rss_growth_mb']:.0f} MB; "
              f"spikes {load['spikes_mb']:.0f} MB")
        course = run_child("course", part=str(part), index=index)
        print(f"the course's way (np.load(...)['dat'][{index}]): {course['seconds']:.2f} s, "
              f"peak RSS +{course['rss_growth_mb']:.0f} MB")
        print(f"(python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs; "
              "peak memory = the child's VmHWM above its RSS after imports)")


if __name__ == "__main__":
    main()
