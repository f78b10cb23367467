"""Chapter 5's tests and latent model, measured at the chapter's settings.

Run from the repository root (CPU only)::

    .venv/bin/python benchmarks/latents.py            # everything (about 15-25 min on 2 cores)
    .venv/bin/python benchmarks/latents.py --quick    # fewer runs, 5 seeds, no notebook
    .venv/bin/python benchmarks/latents.py --skip-notebook

Prints markdown tables for issue notes:

1. **False-positive rates** of every test the chapter draws a conclusion from, on data where
   the claim is false, at the chapter's sizes (170 decoded trials = the test half of session
   11, 40 bins of 50 ms, 8 latent dimensions): the share of runs with *any* significant bin
   over the window (family-wise; the target is 5 %). Scenarios: i.i.d. noise; labels in bouts
   against drifting features (linear-shift null; the trial shuffle beside it); a stimulus with
   the repeat-after-error rule against drifting features (pseudo-session null); features that
   carry only the stimulus while choice follows it (within-condition null for choice; the plain
   shift beside it); outcome against features carrying slow drift and the previous outcome
   (shift null with nuisance regressors); the chapter's options of
   :func:`helpers.task_variables.null_options` on a task session -- a population carrying only
   the choice (which follows the stimulus on about 74 % of trials) tested for the stimulus, a
   choice with a slowly drifting bias against drifting features, a population carrying only
   movement tested for outcome -- each beside its null without the nuisance regressors; two
   equally informative representations (the paired comparison's simultaneous band).
2. **Power** of the same tests on planted effects: an onset found within 2 bins; choice beyond
   the stimulus; stimulus beyond the choice; outcome beyond movement; one representation
   better than another.
3. **The latent model over seeds** on the chapter's simulated session: co-smoothing, truth
   recovery both ways, and seed agreement of >= 5 trained networks against >= 5 untrained ones,
   raw and on trial-to-trial residuals.
4. The wall-clock time of executing ``book/05_latents.ipynb``.
"""

from __future__ import annotations

import argparse
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from chapter_times import report_notebook_time  # benchmarks/ is on sys.path when run as a script

from helpers.decoding import compare_over_time, decode_over_time, first_decodable_time
from helpers.evaluation import score_rates
from helpers.latent_spaces import compare_latents, seed_agreement
from helpers.models import LatentRNN
from helpers.runtime import set_seed
from helpers.session import Session
from helpers.simulated_design import StimulusProcess
from helpers.splits import co_smoothing_split
from helpers.steinmetz import load_session
from helpers.task_variables import null_options, pseudo_targets, within_condition_targets
from helpers.train import fit

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "book" / "05_latents.ipynb"
N_TRIALS, N_BINS, N_FEATURES, ONSET_BIN = 170, 40, 8, 20  # the chapter's decoding sizes
BIN, WINDOW, REGIONS = 0.05, (-0.5, 1.5), ["vis ctx", "thal"]
PAIRS = np.array([[0, 0], [0.25, 0], [0.5, 0], [1, 0], [0, 0.25], [0, 0.5], [0, 1],
                  [0.5, 0.25], [0.25, 0.5], [1, 0.5], [0.5, 1], [0.5, 0.5]])
TASK = StimulusProcess(PAIRS, np.full(len(PAIRS), 1 / len(PAIRS)), 0.8, 0.0)


# ============================================================================ data generators
def walk(rng: np.random.Generator, n: int, k: int = 1) -> np.ndarray:
    """Random walks across trials, scaled to unit s.d.: ``(n, k)``."""
    steps = np.cumsum(rng.normal(size=(n, k)), axis=0)
    return (steps - steps.mean(axis=0)) / steps.std(axis=0)


def drifting_features(rng: np.random.Generator, drift: float = 1.0) -> np.ndarray:
    """Noise in every bin plus a slow drift across trials shared by all bins."""
    noise = rng.normal(size=(N_TRIALS, N_BINS, N_FEATURES))
    return noise + drift * walk(rng, N_TRIALS, N_FEATURES)[:, None, :]


def bouts(rng: np.random.Generator, p_stay: float = 0.95) -> np.ndarray:
    """A stationary two-state Markov chain (labels in bouts)."""
    state = np.empty(N_TRIALS)
    state[0] = rng.integers(2)
    flips = rng.random(N_TRIALS) > p_stay
    for t in range(1, N_TRIALS):
        state[t] = 1 - state[t - 1] if flips[t] else state[t - 1]
    return state


def task_session(rng: np.random.Generator):
    """Contrasts by the task's rules (repeats after 80 % of errors) for a mouse whose reward
    rate drifts with its engagement: ``(left, right, rewarded)``."""
    rewarded = rng.random(N_TRIALS) < 1 / (1 + np.exp(-(1.0 + 1.5 * walk(rng, N_TRIALS)[:, 0])))
    left, right = TASK.draw(rewarded, 1, seed=int(rng.integers(1 << 30)))
    return left[0], right[0], rewarded


def side_of(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.where(right > left, 1.0, np.where(left > right, 0.0, np.nan))


def planted(features: np.ndarray, label: np.ndarray, size: float, onset: int = ONSET_BIN,
            feature: int = 0) -> np.ndarray:
    """Add ``size * (label - mean)`` to one feature from bin ``onset`` on."""
    out = features.copy()
    centred = np.nan_to_num(label - np.nanmean(label))
    out[:, onset:, feature] += size * centred[:, None]
    return out


def pseudo(left, right, rewarded, seed) -> np.ndarray:
    """The chapter's pseudo-session null of stimulus side, for these trials."""
    session = Session(spikes=np.zeros((1, len(left), 1), int), brain_area=["VISp"],
                      contrast_left=left, contrast_right=right,
                      feedback_type=np.where(rewarded, 1, -1))
    return pseudo_targets(session, "stimulus side", seed=seed)


def mouse_session(rng: np.random.Generator, bias: float = 0.0) -> Session:
    """A task session (contrasts by the task's rules) whose choice follows the stimulus when
    rewarded (about 74 % of trials, with drifting engagement); with ``bias``, choices come from
    the contrast difference and a slowly drifting right/left bias of that size instead. A
    ``Session``, so that :func:`helpers.task_variables.null_options` gives the chapter's null."""
    rewarded = rng.random(N_TRIALS) < 1 / (1 + np.exp(-(1.1 + 1.0 * walk(rng, N_TRIALS)[:, 0])))
    left, right = (values[0] for values in TASK.draw(rewarded, 1,
                                                      seed=int(rng.integers(1 << 30))))
    side = side_of(left, right)
    choice = np.where(np.isnan(side), rng.integers(0, 2, N_TRIALS), np.where(rewarded, side,
                                                                             1 - side))
    if bias:  # choices from the contrasts and a slowly drifting right/left bias
        drive = 4 * (right - left) + bias * walk(rng, N_TRIALS)[:, 0]
        choice = (rng.random(N_TRIALS) < 1 / (1 + np.exp(-drive))) * 1.0
        rewarded = np.where(np.isfinite(side), choice == side, rewarded)
    return Session(spikes=np.zeros((1, N_TRIALS, 1), int), brain_area=["VISp"],
                   contrast_left=left, contrast_right=right,
                   feedback_type=np.where(rewarded, 1, -1),
                   response=np.where(choice == 1, -1, 1))


def chapter_decode(session: Session, name: str, x: np.ndarray, rng: np.random.Generator,
                   *, nuisance: bool = True):
    """``decode_over_time`` with the chapter's options for ``name`` (without its nuisance
    regressors when ``nuisance`` is False, for contrast)."""
    from helpers.task_variables import trial_variable

    options = null_options(session, name, seed=int(rng.integers(1 << 30)))
    if not nuisance:
        options.pop("nuisance", None)
    return decode_over_time(x, trial_variable(session, name), time=np.arange(N_BINS) * BIN,
                            **options)


# ============================================================================ scenarios
def scenario(name: str, rng: np.random.Generator, effect: float = 0.0):
    """One run: ``(table of decode_over_time, expected onset time or None)``."""
    time_s = np.arange(N_BINS) * BIN
    if name == "iid noise (shift null)":
        labels = rng.integers(0, 2, N_TRIALS).astype(float)
        x = planted(rng.normal(size=(N_TRIALS, N_BINS, N_FEATURES)), labels, effect)
        return decode_over_time(x, labels, time=time_s), {}
    if name.startswith("iid noise (old rule"):
        labels = rng.integers(0, 2, N_TRIALS).astype(float)
        x = rng.normal(size=(N_TRIALS, N_BINS, N_FEATURES))
        table = decode_over_time(x, labels, time=time_s, null="shuffle", n_permutations=20)
        above = (table["score"] > table["null_high"]).to_numpy()  # each bin vs its own 95th pct
        return table.assign(significant=above & (np.r_[above[1:], False]
                                                 | np.r_[False, above[:-1]])), {}
    if name.startswith("bouts vs drift"):
        labels = bouts(rng)
        x = planted(drifting_features(rng), labels, effect)
        null = "shuffle" if "shuffle" in name else "shift"
        return decode_over_time(x, labels, time=time_s, null=null), {}
    if name.startswith("stimulus with repeats"):
        left, right, rewarded = task_session(rng)
        side = side_of(left, right)
        x = planted(drifting_features(rng), side, effect)
        return decode_over_time(x, side, time=time_s,
                                null_targets=pseudo(left, right, rewarded,
                                                    int(rng.integers(1 << 30)))), {}
    if name.startswith("choice ="):
        left, right, rewarded = task_session(rng)
        difference = right - left
        choice = np.where(rng.random(N_TRIALS) < 0.8, (difference > 0) * 1.0,
                          rng.integers(0, 2, N_TRIALS))
        choice[difference == 0] = rng.integers(0, 2, int((difference == 0).sum()))
        x = planted(rng.normal(size=(N_TRIALS, N_BINS, N_FEATURES)), difference, 3.0, 10)
        x = planted(x, choice, effect, feature=1)  # choice beyond the stimulus, from the onset
        if "plain shift" in name:
            return decode_over_time(x, choice, time=time_s), {}
        quarter = np.arange(N_TRIALS) * 4 // N_TRIALS
        null = within_condition_targets(choice, np.c_[left, right, quarter],
                                        seed=int(rng.integers(1 << 30)))
        return decode_over_time(x, choice, time=time_s, null_targets=null), {}
    if name.startswith("stimulus when only choice"):
        session = mouse_session(rng)
        choice = np.where(session.response == -1, 1.0, 0.0)
        x = planted(drifting_features(rng), choice, 2.0)  # choice, no stimulus beyond it
        x = planted(x, side_of(session.contrast_left, session.contrast_right), effect,
                    feature=1)
        return chapter_decode(session, "stimulus side", x, rng,
                              nuisance="alone" not in name), {}
    if name.startswith("choice with a drifting bias"):
        session = mouse_session(rng, bias=4.0)
        choice = np.where(session.response == -1, 1.0, 0.0)
        x = planted(drifting_features(rng, 2.0), choice, effect, feature=1)
        return chapter_decode(session, "choice", x, rng, nuisance="alone" not in name), {}
    if name.startswith("outcome when only movement"):
        session = mouse_session(rng)
        moved = (rng.random(N_TRIALS) < 0.8) * 1.0
        rewarded = session.is_correct & (moved == 1) | (rng.random(N_TRIALS) < 0.1)
        response = np.where(moved == 1, session.response, 0)
        session = Session(spikes=session.spikes, brain_area=["VISp"],
                          contrast_left=session.contrast_left,
                          contrast_right=session.contrast_right,
                          feedback_type=np.where(rewarded, 1, -1), response=response)
        x = planted(rng.normal(size=(N_TRIALS, N_BINS, N_FEATURES)), moved, 1.5)
        x = planted(x, rewarded * 1.0, effect, feature=1)
        return chapter_decode(session, "outcome", x, rng, nuisance="alone" not in name), {}
    if name.startswith("outcome"):
        engagement = walk(rng, N_TRIALS)[:, 0]
        outcome = (rng.random(N_TRIALS) < 1 / (1 + np.exp(-(0.8 + 1.5 * engagement)))) * 1.0
        previous = np.r_[outcome.mean(), outcome[:-1]]
        x = rng.normal(size=(N_TRIALS, N_BINS, N_FEATURES))
        x[:, :, 0] += 1.0 * engagement[:, None]
        x[:, :, 1] += 1.0 * (previous - previous.mean())[:, None]
        x = planted(x, outcome, effect)
        position = (np.arange(N_TRIALS) + 0.5) / N_TRIALS
        nuisance = np.column_stack([np.cos(np.pi * k * position) for k in (1, 2, 3)]
                                   + [previous])
        options = {"nuisance": nuisance} if "nuisance" in name else {}
        return decode_over_time(x, outcome, time=time_s, **options), {}
    if name.startswith("paired"):
        labels = rng.integers(0, 2, N_TRIALS).astype(float)
        base = rng.normal(size=(N_TRIALS, N_BINS, N_FEATURES))
        a = planted(base + 0.5 * rng.normal(size=base.shape), labels, 1.0 + effect)
        b = planted(base + 0.5 * rng.normal(size=base.shape), labels, 1.0)
        return compare_over_time({"a": a, "b": b}, labels, reference="a", time=time_s), {}
    raise ValueError(name)


FALSE_POSITIVE = ["iid noise (shift null)",
                  "iid noise (old rule: 2 bins in a row above 20 shuffles, for contrast)",
                  "bouts vs drift (shift null)",
                  "bouts vs drift (trial shuffle, for contrast)",
                  "stimulus with repeats vs drift (pseudo-sessions)",
                  "choice = stimulus + noise (within-condition null)",
                  "choice = stimulus + noise (plain shift, for contrast)",
                  "outcome vs drift + previous outcome (shift + nuisance)",
                  "outcome vs drift + previous outcome (shift alone, for contrast)",
                  "stimulus when only choice is encoded (pseudo-sessions + choice nuisance)",
                  "stimulus when only choice is encoded (pseudo-sessions alone, for contrast)",
                  "choice with a drifting bias vs drift (within condition + drift/history "
                  "nuisance)",
                  "choice with a drifting bias vs drift (within condition alone, for contrast)",
                  "outcome when only movement is encoded (shift + movement/choice nuisance)",
                  "outcome when only movement is encoded (shift alone, for contrast)",
                  "paired: equal representations (simultaneous band)"]
POWER = {"iid noise (shift null)": 1.0, "bouts vs drift (shift null)": 1.0,
         "stimulus with repeats vs drift (pseudo-sessions)": 1.0,
         "choice = stimulus + noise (within-condition null)": 1.5,
         "outcome vs drift + previous outcome (shift + nuisance)": 1.0,
         "stimulus when only choice is encoded (pseudo-sessions + choice nuisance)": 1.5,
         "choice with a drifting bias vs drift (within condition + drift/history nuisance)":
             3.0,
         "outcome when only movement is encoded (shift + movement/choice nuisance)": 1.5,
         "paired: equal representations (simultaneous band)": 0.6}


def calibration(n_runs: int) -> pd.DataFrame:
    """False-positive rate (no effect) and power (planted effect) of every scenario."""
    rows = []
    for name in FALSE_POSITIVE:
        start = time.perf_counter()
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        flagged = [bool(scenario(name, rng)[0]["significant"].any()) for _ in range(n_runs)]
        rate = float(np.mean(flagged))
        row = {"scenario": name, "runs": n_runs, "false-positive rate": rate,
               "MC s.e.": float(np.sqrt(max(rate, 0.05) * (1 - max(rate, 0.05)) / n_runs))}
        if name in POWER:
            found = []
            for _ in range(n_runs):
                table = scenario(name, rng, effect=POWER[name])[0]
                if name.startswith("paired"):
                    found.append(bool((table["significant"] & (table["score"] > 0)).any()))
                    continue
                onset = first_decodable_time(table)
                found.append(bool(abs(onset - ONSET_BIN * BIN) <= 2 * BIN + 1e-9))
            row["planted effect"] = POWER[name]
            row["power"] = float(np.mean(found))
        row["s per run"] = (time.perf_counter() - start) / (n_runs * (2 if name in POWER else 1))
        rows.append(row)
        print(f"  {name}: {row}", flush=True)
    return pd.DataFrame(rows)


# ============================================================================ the latent model
def latent_seeds(seeds: tuple[int, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chapter's latent model on its simulated session with several seeds: co-smoothing,
    truth recovery (test trials), and seed agreement against untrained networks."""
    session = load_session("Lederberg 2017-12-05")
    areas = session.select(regions=REGIONS, min_rate=1.0).window(*WINDOW)
    spikes = areas.spikes_by_trial(BIN)
    split = co_smoothing_split(areas.n_trials, areas.n_neurons, test_fraction=0.5, seed=2021)
    data = split.apply(spikes)
    heldin = spikes[:, :, split.heldin_neurons]
    test = split.test_trials
    true, names = areas.latents_by_trial(BIN), areas.truth.latent_names
    rows, trained, untrained = [], [], []
    for seed in seeds:
        set_seed(seed)
        model = LatentRNN(len(split.heldin_neurons), len(split.heldout_neurons))
        untrained.append(model.predict(heldin)[1])
        start = time.perf_counter()
        fit(model, data.train_inputs, data.train_targets, seed=seed, progress=False)
        seconds = time.perf_counter() - start
        trained.append(model.predict(heldin)[1])
        score = score_rates({"latent": model.predict(data.test_inputs)[0]}, data.test_targets,
                            n_boot=200).loc["latent"]
        comparison = compare_latents(trained[-1][test], true[test], names, n_boot=100)
        rows.append({"seed": seed, "bits/spike": score["score"], "low": score["low"],
                     "high": score["high"], "fit s": seconds,
                     "true latents recovered (R² >= 0.5)": len(comparison.recovered()),
                     "true->learned (median R²)": float(np.median(comparison.to_learned)),
                     "extra factors": len(comparison.extra_dimensions())})
    agreement = seed_agreement([t[test] for t in trained], [u[test] for u in untrained])
    return pd.DataFrame(rows), agreement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 runs per scenario")
    parser.add_argument("--runs", type=int, default=None, help="runs per scenario (0: none)")
    parser.add_argument("--skip-notebook", action="store_true", help="don't time the chapter")
    parser.add_argument("--skip-seeds", action="store_true", help="no latent-model training")
    args = parser.parse_args()
    n_runs = args.runs if args.runs is not None else (20 if args.quick else 80)
    if n_runs > 0:
        print(f"## 1-2. False-positive rate and power at the chapter's settings ({N_TRIALS} "
              f"trials, {N_BINS} bins, {N_FEATURES} features, 200 nulls, any significant "
              "bin)\n", flush=True)
        table = calibration(n_runs)
        print()
        print(table.round(3).to_markdown(index=False))
    if not args.skip_seeds:
        seeds = (0, 1, 2, 3, 4)
        print(f"\n## 3. The latent model over {len(seeds)} seeds (session 11, simulated)\n")
        rows, agreement = latent_seeds(seeds)
        print(rows.round(3).to_markdown(index=False))
        print("\nSeed agreement, test trials (median R² of a linear map between two seeds' "
              "factors, both ways), trained vs untrained networks:\n")
        print(agreement.round(3).to_markdown(index=False))
    if not (args.quick or args.skip_notebook):
        print("\n## 4. Chapter run time\n")
        report_notebook_time(NOTEBOOK)


if __name__ == "__main__":
    main()
