"""Chapter 2's seq-to-seq Poisson RNN, measured: held-out co-smoothing scores and training time.

Run from the repository root (CPU only; the full run takes 10-20 minutes on 2 cores)::

    .venv/bin/python benchmarks/seq2seq.py                 # everything
    .venv/bin/python benchmarks/seq2seq.py --quick         # one seed, no course recipe, no notebook

It reports, as markdown tables for issue notes:

1. the default simulated session (``make_session()``, visual cortex, 250 bins) and the chapter's
   session (simulated Lederberg 2017-12-05): held-out bits/spike with 95 % bootstrap intervals
   over test trials for the recommended model, the course recipe, the smoothing + GLM baseline,
   condition PSTHs, the constant-rate null and the true rates (oracle); fraction of the oracle
   and ratio to smoothing (paired bootstrap);
2. the small-session setting -- 100 trials, 40 bins (0-0.4 s after stimulus onset), 130 input
   and 130 target visual-cortex neurons -- over several seeds: recommended model, course
   recipe, smoothing and null;
3. speed: the course recipe against the recommended one on the same data (wall and CPU time),
   time per iteration with PyTorch's default threads and with one, and a profile of one
   iteration of the course model (where the time goes);
4. the wall-clock time of executing ``book/02_seq2seq_poisson_rnn.ipynb``;
5. the fit before and after issue 21, side by side on chapter 2's session and split: the previous
   default (full-batch Adam, :data:`PREVIOUS_FIT`) and today's :data:`RECOMMENDED_FIT`, trained
   in turn in this one process for each of several seeds (wall and CPU seconds, iterations,
   held-out bits/spike), the time ratios, and the paired gain in bits/spike with a bootstrap
   over test trials and seeds. ``--fit-speed-only`` runs just this section.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from chapter_times import report_notebook_time  # benchmarks/ is on sys.path when run as a script

from helpers import Session, load_session
from helpers.baselines import baseline_rates
from helpers.evaluation import relation, score_gains, score_rates
from helpers.metrics import bits_per_spike
from helpers.models import COURSE_SEQ2SEQ, RECOMMENDED_SEQ2SEQ, Seq2SeqRNN, Seq2SeqSettings
from helpers.runtime import get_device
from helpers.session import MIN_RATE
from helpers.splits import CoSmoothingData, CoSmoothingSplit, co_smoothing_split, split_trials
from helpers.surrogate import make_session
from helpers.train import COURSE_RECIPE, RECOMMENDED_FIT, FitSettings, History, fit

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "book" / "02_seq2seq_poisson_rnn.ipynb"
SMALL_WINDOW = (0.0, 0.4)  # seconds after stimulus onset
SMALL_AREAS = {"VISp": 130, "VISam": 130}
CHAPTER_SEED = 2021  # chapter 2's SEED: its trial split and its neuron permutation
#: The recommended fit before issue 21: full-batch Adam (one update per pass over the trials).
PREVIOUS_FIT = FitSettings(n_iter=2000, lr=0.01, validation=0.2, patience=50, eval_every=5,
                           batch_size=None, num_threads=1)


def train(settings: Seq2SeqSettings, data: CoSmoothingData, recipe: FitSettings = RECOMMENDED_FIT,
          **overrides) -> tuple[np.ndarray, History, float, float]:
    """Fit a model; return its test-trial rates, history, wall and CPU seconds."""
    model = Seq2SeqRNN(data.train_inputs.shape[-1], data.train_targets.shape[-1], settings)
    wall, cpu = time.perf_counter(), time.process_time()
    history = fit(model, data.train_inputs, data.train_targets, recipe, progress=False,
                  **overrides)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return model.predict(data.test_inputs)[0], history, wall, cpu


def table(scores) -> None:
    """Print a score table (helpers.evaluation.score_rates) as a markdown table."""
    print("| model | bits/spike [95 % CI] | fraction of oracle | ratio to smoothing "
          "| median pseudo-R² |\n|---|---|---|---|---|")
    for _, row in scores.iterrows():
        print(f"| {row['label']} | {_interval(row)} | {row['fraction_of_oracle']:.2f} | "
              f"{row['ratio']:.2f} [{row['ratio_low']:.2f}, {row['ratio_high']:.2f}] | "
              f"{row['median_pseudo_r2']:.3f} |")


def full_session(name: str, session: Session, seed: int, course: bool) -> dict:
    """Section 1 (and the timings of section 3) on one 250-bin session."""
    session = session.select("vis ctx", min_rate=MIN_RATE)
    split = co_smoothing_split(session.n_trials, session.n_neurons, seed=seed)
    data = split.apply(session.spikes_by_trial())
    conditions = np.c_[session.contrast_left, session.contrast_right]
    start = time.perf_counter()
    predictions = baseline_rates(data, split, conditions, true_rates=session.rates_by_trial(),
                                 seed=seed)
    baseline_seconds = time.perf_counter() - start
    rates, history, wall, cpu = train(RECOMMENDED_SEQ2SEQ, data, seed=seed)
    predictions = {"rnn": rates, **predictions}
    timing = {"recommended": (wall, cpu, history.n_iterations)}
    if course:
        rates, course_history, wall, cpu = train(COURSE_SEQ2SEQ, data, COURSE_RECIPE, seed=seed)
        predictions["course"] = rates
        timing["course"] = (wall, cpu, course_history.n_iterations)
    print(f"\n### {name}: {len(split.heldin_neurons)} held-in -> {len(split.heldout_neurons)} "
          f"held-out neurons, {len(split.train_trials)} train / {len(split.test_trials)} test "
          f"trials, {session.n_bins} bins (split seed {seed})\n")
    table(score_rates(predictions, data.test_targets, reference="smoothing", oracle="oracle",
                      seed=seed))
    print(f"\nRecommended: stopped at {history.n_iterations} iterations (best "
          f"{history.best_iteration}); baselines took {baseline_seconds:.0f} s.")
    return timing


def small_sessions(seeds: list[int]) -> None:
    """Section 2: the small-session setting, where the course recipe overfits."""
    print("\n## Small sessions: 100 trials x 40 bins (0-0.4 s), visual-cortex neurons >= 1 Hz"
          "\n\n| seed | recommended | course recipe | smoothing + GLM | null | oracle | "
          "recommended iterations |\n|---|---|---|---|---|---|---|")
    for seed in seeds:
        session = make_session(seed, n_trials=100, area_counts=SMALL_AREAS)
        session = session.select(min_rate=MIN_RATE).window(*SMALL_WINDOW)
        split = co_smoothing_split(session.n_trials, session.n_neurons, seed=seed)
        data = split.apply(session.spikes_by_trial())
        predictions = baseline_rates(data, split, np.c_[session.contrast_left,
                                                        session.contrast_right],
                                     true_rates=session.rates_by_trial(), seed=seed)
        recommended, history, _, _ = train(RECOMMENDED_SEQ2SEQ, data, seed=seed)
        course, *_ = train(COURSE_SEQ2SEQ, data, COURSE_RECIPE, seed=seed)
        predictions.update({"rnn": recommended, "course": course})
        rows = score_rates(predictions, data.test_targets, n_boot=200, seed=seed)
        cells = [_interval(rows.loc[name]) for name in ("rnn", "course", "smoothing", "null",
                                                         "oracle")]
        print(f"| {seed} | {' | '.join(cells)} | {history.n_iterations} |")


def _interval(row) -> str:
    return f"{row['score']:.3f} [{row['low']:.3f}, {row['high']:.3f}]"


def per_iteration_ms(settings: Seq2SeqSettings, inputs: np.ndarray, targets: np.ndarray,
                     n_threads: int | None, n_iter: int = 10) -> float:
    """Wall-clock milliseconds per full-batch iteration (median of two runs, no validation)."""
    model = Seq2SeqRNN(inputs.shape[-1], targets.shape[-1], settings)
    times = [fit(model, inputs, targets, n_iter=n_iter, validation=None, num_threads=n_threads,
                 progress=False).seconds for _ in range(2)]
    return 1000 * min(times) / n_iter


def profile_course_model(data: CoSmoothingData) -> None:
    """Where an iteration of the course model spends its time: an ablation (the same model with
    one input and one output neuron keeps only the per-bin recurrence) and torch.profiler."""
    from torch.profiler import ProfilerActivity, profile

    x, y = data.train_inputs, data.train_targets
    full = per_iteration_ms(COURSE_SEQ2SEQ, x, y, 1)
    recurrence = per_iteration_ms(COURSE_SEQ2SEQ, x[..., :1], y[..., :1], 1)
    print(f"\nCourse model, 1 thread: {full:.0f} ms/iteration for {x.shape} -> {y.shape[-1]} "
          f"neurons; {recurrence:.0f} ms with 1 input and 1 output neuron, i.e. "
          f"{recurrence / full:.0%} in the per-bin recurrence and {1 - recurrence / full:.0%} in "
          "whole-array work that grows with neurons (input projection, readout, softplus, "
          "loss, their gradients, memory). Top operations (torch.profiler, 3 iterations):")
    model = Seq2SeqRNN(x.shape[-1], y.shape[-1], COURSE_SEQ2SEQ)
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    torch.set_num_threads(1)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            model.zero_grad()
            model.loss(model(x), y).backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))


def speed(default_session: Session, timing: dict) -> None:
    """Section 3: the speed-up and where it comes from."""
    session = default_session.select("vis ctx", min_rate=MIN_RATE)
    split = co_smoothing_split(session.n_trials, session.n_neurons, seed=0)
    data = split.apply(session.spikes_by_trial())
    print("\n## Speed (same data: default session, visual cortex)\n")
    if "course" in timing:
        (c_wall, c_cpu, c_it), (r_wall, r_cpu, r_it) = timing["course"], timing["recommended"]
        print(f"Course recipe (PyTorch's default threads): {c_it} iterations, {c_wall:.0f} s wall "
              f"/ {c_cpu:.0f} s CPU. Recommended (1 thread): {r_it} iterations, {r_wall:.0f} s "
              f"wall / {r_cpu:.0f} s CPU. Speed-up: {c_wall / r_wall:.1f}x wall, "
              f"{c_cpu / r_cpu:.1f}x CPU.")
    for name, settings in (("course model", COURSE_SEQ2SEQ),
                           ("recommended model", RECOMMENDED_SEQ2SEQ)):
        default = per_iteration_ms(settings, data.train_inputs, data.train_targets, None)
        single = per_iteration_ms(settings, data.train_inputs, data.train_targets, 1)
        print(f"- {name}: {default:.0f} ms/iteration with PyTorch's default "
              f"{torch.get_num_threads()} threads, {single:.0f} ms with 1 thread")
    profile_course_model(data)


def chapter_data() -> CoSmoothingData:
    """Chapter 2's data: session 11's visual cortex (>= 1 spike/s), its trial split and neuron
    halves drawn exactly as the chapter draws them."""
    visual = load_session("Lederberg 2017-12-05").select(regions="vis ctx", min_rate=MIN_RATE)
    train_trials, test_trials = split_trials(visual.n_trials, test_fraction=0.2,
                                             seed=CHAPTER_SEED)
    order = np.random.default_rng(CHAPTER_SEED).permutation(visual.n_neurons)
    n_heldout = round(0.5 * visual.n_neurons)
    split = CoSmoothingSplit(train_trials, test_trials, np.sort(order[n_heldout:]),
                             np.sort(order[:n_heldout]))
    return split.apply(visual.spikes_by_trial())


def fit_speed(seeds: list[int]) -> None:
    """Section 5: the previous default fit against today's, paired by seed, in one process
    (the two alternate which goes first, so a change in machine load hits both)."""
    data, device = chapter_data(), get_device(verbose=False)
    recipes = {"previous": PREVIOUS_FIT, "recommended": RECOMMENDED_FIT}
    print(f"\n## The fit, before and after (chapter 2's session and split, {device})\n\n"
          f"previous: {PREVIOUS_FIT}\nrecommended: {RECOMMENDED_FIT}\n\n"
          f"train {data.train_inputs.shape} -> {data.train_targets.shape[-1]} neurons, test "
          f"{data.test_inputs.shape[0]} trials\n\n| seed | fit | iterations (kept) | wall s | "
          "CPU s | bits/spike |\n|---|---|---|---|---|---|")
    rates = {name: [] for name in recipes}
    seconds = {name: np.zeros((len(seeds), 2)) for name in recipes}
    for i, seed in enumerate(seeds):
        for name in (list(recipes) if i % 2 == 0 else list(recipes)[::-1]):
            model = Seq2SeqRNN(data.train_inputs.shape[-1], data.train_targets.shape[-1])
            wall, cpu = time.perf_counter(), time.process_time()
            history = fit(model.to(device), data.train_inputs, data.train_targets,
                          recipes[name], seed=seed, progress=False)
            seconds[name][i] = time.perf_counter() - wall, time.process_time() - cpu
            rates[name].append(model.predict(data.test_inputs)[0])
            score = bits_per_spike(rates[name][-1], data.test_targets)
            print(f"| {seed} | {name} | {history.n_iterations} ({history.best_iteration}) | "
                  f"{seconds[name][i, 0]:.1f} | {seconds[name][i, 1]:.1f} | {score:.4f} |",
                  flush=True)
    wall_ratio, cpu_ratio = seconds["previous"].sum(axis=0) / seconds["recommended"].sum(axis=0)
    per_seed = seconds["previous"][:, 0] / seconds["recommended"][:, 0]
    gain = score_gains({name: np.stack(stack) for name, stack in rates.items()},
                       data.test_targets, reference="previous").loc["recommended"]
    print(f"\nRecommended vs previous over seeds {seeds}: {wall_ratio:.1f}x less wall time "
          f"(per seed {', '.join(f'{r:.1f}x' for r in per_seed)}), {cpu_ratio:.1f}x less CPU "
          f"time; bits/spike gain {gain['score']:+.4f} [{gain['low']:+.4f}, {gain['high']:+.4f}]"
          f" (95 % paired bootstrap over test trials, a seed drawn per resample): "
          f"the interval {relation(gain['low'], gain['high'], 0.0)}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="default session only, no course recipe there, 2 small seeds")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument("--no-notebook", action="store_true")
    parser.add_argument("--fit-seeds", type=int, nargs="*", default=[0, 1, 2],
                        help="seeds of section 5 (the fit before and after; at least 3)")
    parser.add_argument("--fit-speed-only", action="store_true", help="run only section 5")
    args = parser.parse_args()
    os.environ.setdefault("STEINMETZ_SOURCE", "simulated")
    if args.fit_speed_only:
        fit_speed(args.fit_seeds)
        return
    print(f"Recommended model: {RECOMMENDED_SEQ2SEQ}; fit defaults (lr, patience, validation) "
          "as in helpers.train.fit.\n\n## Full sessions")
    default_session = make_session()
    timing = full_session("make_session() (seed 0)", default_session, seed=0,
                          course=not args.quick)
    if not args.quick:
        full_session("simulated Lederberg 2017-12-05 (the chapter's session)",
                     load_session("Lederberg 2017-12-05"), seed=0, course=False)
    small_sessions(args.seeds[:2] if args.quick else args.seeds)
    speed(default_session, timing)
    fit_speed(args.fit_seeds)
    if not (args.quick or args.no_notebook):
        report_notebook_time(NOTEBOOK)


if __name__ == "__main__":
    main()
