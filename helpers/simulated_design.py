"""What a simulated session is made of before any neuron fires (used by :mod:`helpers.surrogate`).

- :func:`default_area_counts`: a plausible recording layout (neurons per Allen area), for
  simulated sessions of any size.
- :func:`simulate_behaviour`: the task, trial by trial: contrasts in {0, .25, .5, 1} on each
  side; engaged/disengaged bouts and a graded engagement level in (0, 1); a choice (+1 left,
  -1 right, 0 no-go) from a three-way psychometric function whose lapses grow as engagement
  falls; reward by the Steinmetz et al. (2019) rules; go cue and movement times.
  ``p_correct`` = P(reward | contrasts, engagement), the ground truth chapter 4 compares with.
- :func:`stimulus_process`, :class:`StimulusProcess`: the stimulus sequence of any session, real
  or simulated, as a process estimated from its own trials (pair frequencies, repeats after
  errors); its :meth:`~StimulusProcess.draw` makes *pseudo-sessions*, the null of a decoder of a
  variable the experimenter generated (chapter 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TaskBehaviour", "simulate_behaviour", "default_area_counts", "StimulusProcess",
           "stimulus_process"]


_CONTRASTS = np.array([0.0, 0.25, 0.5, 1.0])


_DISENGAGED_FRACTION = 0.28


@dataclass(frozen=True)
class TaskBehaviour:
    """Per-trial behaviour and its ground truth, all shape ``(n_trials,)`` unless noted."""

    contrast_left: np.ndarray
    contrast_right: np.ndarray
    engaged: np.ndarray         # bool: the discrete engagement state
    engagement: np.ndarray      # level in (0, 1)
    p_choice: np.ndarray        # (n_trials, 3): P(left), P(right), P(no-go)
    response: np.ndarray
    feedback_type: np.ndarray
    p_correct: np.ndarray
    gocue: np.ndarray           # s after stimulus onset
    move_time: np.ndarray       # s after stimulus onset; NaN on no-go trials


def default_area_counts(n_neurons: int, seed: int) -> dict[str, int]:
    """Draw a plausible recording layout: acronym -> neuron count, summing to ``n_neurons``.

    Every layout has some thalamus (so chapter 4's outcome decoder has inputs) and usually
    visual cortex; hippocampus, other cortex, midbrain and basal ganglia appear often; a few
    percent of neurons are ``root``, as in the course's files.

    Args:
        n_neurons: total number of neurons, at least 20.
        seed: seeds the draw (independent of :func:`make_session`'s stream for the same seed).
    """
    if not isinstance(n_neurons, (int, np.integer)) or n_neurons < 20:
        raise ValueError(f"n_neurons must be an integer >= 20, got {n_neurons!r}.")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    rng = np.random.default_rng([int(seed), 0x1A7])
    p_present = {"vis ctx": 0.85, "thal": 1.0, "hipp": 0.75, "other ctx": 0.7,
                 "midbrain": 0.5, "basal ganglia": 0.35, "cortical subplate": 0.1}
    groups = [g for g, p in p_present.items() if rng.random() < p]
    weights = rng.dirichlet(np.full(len(groups), 3.0))
    n_root = int(round(n_neurons * rng.uniform(0.02, 0.08)))
    group_counts = _split(n_neurons - n_root, weights, minimum=10)
    counts: dict[str, int] = {}
    for group, n_group in zip(groups, group_counts, strict=True):
        areas = _COMMON_AREAS[group]
        chosen = rng.choice(len(areas), size=min(len(areas), int(rng.integers(1, 4))),
                            replace=False)
        split = _split(n_group, rng.dirichlet(np.full(len(chosen), 2.0)), minimum=3)
        for i, n in zip(chosen, split, strict=True):
            counts[areas[i]] = counts.get(areas[i], 0) + int(n)
    if n_root:
        counts["root"] = n_root
    return counts


_COMMON_AREAS: dict[str, tuple[str, ...]] = {
    "vis ctx": ("VISp", "VISam", "VISl", "VISpm", "VISa", "VISrl"),
    "thal": ("LGd", "LP", "MD", "PO", "LD", "VPM", "TH", "LH", "VAL", "RT", "CL"),
    "hipp": ("CA1", "DG", "SUB", "CA3", "POST"),
    "other ctx": ("MOs", "ACA", "PL", "MOp", "SSp", "RSP", "ORB", "ILA"),
    "midbrain": ("MRN", "SCm", "SCs", "APN", "ZI", "MB", "PAG"),
    "basal ganglia": ("CP", "ACB", "GPe", "SNr", "LS"),
    "cortical subplate": ("BLA", "EP"),
}


def _split(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Integer counts summing to ``total``, proportional to ``weights``, each >= ``minimum``."""
    minimum = min(minimum, total // len(weights))
    extra = np.floor(weights * (total - minimum * len(weights))).astype(int)
    extra[np.argmax(weights)] += total - minimum * len(weights) - extra.sum()
    return minimum + extra


def _draw_contrasts(rng: np.random.Generator, n_trials: int) -> tuple[np.ndarray, np.ndarray]:
    """Left and right contrasts in {0, .25, .5, 1}, each ``(n_trials,)``.

    Trial types as in the Steinmetz task: mostly one side blank (58 %), sometimes both
    contrasts unequal (22 %), both blank (12 %), or both equal and non-zero (8 %).
    """
    kind = rng.choice(4, size=n_trials, p=[0.12, 0.58, 0.22, 0.08])
    nonzero = _CONTRASTS[1:]
    pair = np.array([rng.choice(nonzero, size=2, replace=False) for _ in range(n_trials)])
    first, second = pair[:, 0], pair[:, 1]
    left = np.select([kind == 1, kind >= 2], [first, first], 0.0)
    right = np.select([kind == 2, kind == 3], [second, first], 0.0)
    swap = (kind == 1) & (rng.random(n_trials) < 0.5)
    left[swap], right[swap] = right[swap], left[swap]
    return left, right


def _draw_engagement(
    rng: np.random.Generator, n_trials: int
) -> tuple[np.ndarray, np.ndarray]:
    """Engaged/disengaged bouts and a graded engagement level per trial.

    A fixed share of the trials, ``_DISENGAGED_FRACTION``, is disengaged: a final block (the
    mouse quits, 6 % of trials) and bouts of ~6 trials (geometric lengths) at random places
    earlier on. The fraction is fixed so that
    sessions differ in where the bouts fall, not in how many trials are lost. Within a state
    the level drifts slowly (AR(1) across trials).

    Returns:
        engaged: bool ``(n_trials,)``, the discrete state.
        engagement: level in (0, 1), ``(n_trials,)``: ~0.95 engaged, ~0.1 disengaged.
    """
    n_final = int(round(0.06 * n_trials))
    n_bouts_trials = int(round(_DISENGAGED_FRACTION * n_trials)) - n_final
    bouts = []
    while sum(bouts) < n_bouts_trials:
        bouts.append(int(rng.geometric(1 / 6)))
    if bouts:
        bouts[-1] -= sum(bouts) - n_bouts_trials
        bouts = [b for b in bouts if b > 0]
    n_engaged = n_trials - n_final - n_bouts_trials
    gaps = rng.multinomial(n_engaged - len(bouts), np.full(len(bouts) + 1, 1 / (len(bouts) + 1)))
    gaps[1:-1] += 1  # bouts never touch, so they stay separate bouts
    gaps[-1] += 1 if bouts else 0
    engaged = np.concatenate(
        [np.ones(gaps[0], bool)]
        + [np.r_[np.zeros(b, bool), np.ones(g, bool)] for b, g in zip(bouts, gaps[1:], strict=True)]
        + [np.zeros(n_final, bool)]
    )
    jitter = _ar1(rng.normal(size=n_trials), phi=0.9)
    engagement = 1 / (1 + np.exp(-(np.where(engaged, 3.2, -2.4) + 0.5 * jitter)))
    return engaged, engagement


def _ar1(noise: np.ndarray, phi: float) -> np.ndarray:
    """Unit-variance AR(1) process driven by standard normal ``noise``."""
    process = np.empty_like(noise)
    process[0] = noise[0]
    for k in range(1, len(noise)):
        process[k] = phi * process[k - 1] + np.sqrt(1 - phi**2) * noise[k]
    return process


def _choice_probabilities(
    contrast_left: np.ndarray, contrast_right: np.ndarray, engagement: np.ndarray
) -> np.ndarray:
    """P(left), P(right), P(no-go) per trial, shape ``(n_trials, 3)``.

    Engaged: the Steinmetz three-way logistic model, ``P(side) ~ exp(bias + slope * c_side**0.6)``
    and ``P(no-go) ~ 1``. Disengaged: lapses, mostly no-go. Mixed by engagement.
    """
    bias, slope, power = -1.5, 8.0, 0.6
    utility = np.stack([bias + slope * contrast_left**power,
                        bias + slope * contrast_right**power,
                        np.zeros_like(contrast_left)], axis=1)
    engaged = np.exp(utility - utility.max(axis=1, keepdims=True))
    engaged /= engaged.sum(axis=1, keepdims=True)
    lapse = np.array([0.12, 0.12, 0.76])
    return engagement[:, None] * engaged + (1 - engagement[:, None]) * lapse


def _reward_probabilities(contrast_left: np.ndarray, contrast_right: np.ndarray) -> np.ndarray:
    """P(reward | choice) for choices (left, right, no-go), shape ``(n_trials, 3)``.

    Steinmetz rules: the higher contrast side is correct; both blank -> no-go is correct;
    equal non-zero contrasts -> left or right is rewarded at random (50 %), no-go is wrong.
    """
    reward = np.zeros((len(contrast_left), 3))
    reward[:, 0] = contrast_left > contrast_right
    reward[:, 1] = contrast_right > contrast_left
    both_blank = (contrast_left == 0) & (contrast_right == 0)
    equal = (contrast_left == contrast_right) & ~both_blank
    reward[both_blank, 2] = 1.0
    reward[equal, :2] = 0.5
    return reward


def simulate_behaviour(rng: np.random.Generator, n_trials: int) -> TaskBehaviour:
    """Draw contrasts, engagement, choices, rewards and timing for every trial."""
    contrast_left, contrast_right = _draw_contrasts(rng, n_trials)
    engaged, engagement = _draw_engagement(rng, n_trials)
    p_choice = _choice_probabilities(contrast_left, contrast_right, engagement)
    p_reward = _reward_probabilities(contrast_left, contrast_right)
    p_correct = (p_choice * p_reward).sum(axis=1)
    choice_index = (rng.random(n_trials)[:, None] > np.cumsum(p_choice, axis=1)).sum(axis=1)
    choice_index = np.minimum(choice_index, 2)
    response = np.array([1, -1, 0])[choice_index]
    rewarded = rng.random(n_trials) < p_reward[np.arange(n_trials), choice_index]
    feedback_type = np.where(rewarded, 1, -1)
    gocue = rng.uniform(0.5, 1.2, size=n_trials)
    reaction = 0.12 + rng.lognormal(np.log(0.25), 0.45, size=n_trials) * (1.6 - 0.6 * engagement)
    move_time = np.where(response != 0, np.minimum(reaction, 1.4), np.nan)
    return TaskBehaviour(contrast_left, contrast_right, engaged, engagement, p_choice, response,
                      feedback_type, p_correct, gocue, move_time)


# --------------------------------------------------------------------------- pseudo-sessions
@dataclass(frozen=True)
class StimulusProcess:
    """How a session's stimuli were generated, estimated from the session itself: which
    contrast pairs appear how often on fresh trials, and how often the pair of the previous
    trial is repeated after an error and after a reward (the Steinmetz task repeats a stimulus
    after errors). :meth:`draw` generates pseudo-sessions from it.

    Attributes:
        pairs: ``(n_pairs, 2)`` distinct (left, right) contrast pairs.
        probabilities: ``(n_pairs,)`` their frequencies on trials after a reward (fresh draws).
        p_repeat_after_error: probability that the experimenter repeats the previous pair
            after an unrewarded trial, beyond a chance repeat.
        p_repeat_after_reward: the same after a rewarded trial (near 0 in the task).
    """

    pairs: np.ndarray
    probabilities: np.ndarray
    p_repeat_after_error: float
    p_repeat_after_reward: float

    def draw(self, rewarded: np.ndarray, n_sessions: int = 200, seed: int = 0
             ) -> tuple[np.ndarray, np.ndarray]:
        """Pseudo-sessions: contrast sequences from this process, for the mouse's own sequence of
        rewards and errors (``rewarded``, bool ``(n_trials,)``).

        Returns:
            ``(left, right)``, each ``(n_sessions, n_trials)``.
        """
        rewarded = np.asarray(rewarded, dtype=bool).ravel()
        if int(n_sessions) < 1:
            raise ValueError(f"n_sessions must be at least 1, got {n_sessions!r}.")
        rng = np.random.default_rng([int(seed), 0x95E0])
        n_trials = len(rewarded)
        fresh = rng.choice(len(self.pairs), size=(int(n_sessions), n_trials),
                           p=self.probabilities)
        p_repeat = np.where(rewarded, self.p_repeat_after_reward, self.p_repeat_after_error)
        repeat = rng.random((int(n_sessions), n_trials)) < p_repeat[None, :]
        index = fresh.copy()
        for t in range(1, n_trials):  # a repeat copies the previous pseudo trial's pair
            index[:, t] = np.where(repeat[:, t - 1], index[:, t - 1], fresh[:, t])
        return self.pairs[index, 0], self.pairs[index, 1]


def stimulus_process(contrast_left: np.ndarray, contrast_right: np.ndarray,
                     rewarded: np.ndarray) -> StimulusProcess:
    """Estimate a session's :class:`StimulusProcess` from its own trials.

    The pair frequencies come from trials that follow a reward (fresh draws, unless the session
    has fewer than 20 such trials: then all trials). A repeat after an error happens either by
    the rule (probability ``p``) or by chance (probability ``q``, the chance that a fresh draw
    equals the previous pair, ``sum(probabilities**2)``), so the observed repeat rate ``r`` gives
    ``p = (r - q) / (1 - q)``, clipped to [0, 1]; the same after a reward.

    Args:
        contrast_left, contrast_right: contrasts per trial, ``(n_trials,)``.
        rewarded: bool per trial, ``(n_trials,)`` (``session.is_correct``).

    Raises:
        ValueError: arrays of different lengths, fewer than 10 trials, or NaN contrasts.
    """
    left = np.asarray(contrast_left, dtype=float).ravel()
    right = np.asarray(contrast_right, dtype=float).ravel()
    rewarded = np.asarray(rewarded, dtype=bool).ravel()
    if not len(left) == len(right) == len(rewarded):
        raise ValueError(f"contrast_left ({len(left)}), contrast_right ({len(right)}) and "
                         f"rewarded ({len(rewarded)}) must have one entry per trial.")
    if len(left) < 10 or not np.all(np.isfinite(left) & np.isfinite(right)):
        raise ValueError("a stimulus process needs at least 10 trials with finite contrasts, "
                         f"got {len(left)} trials.")
    pairs, index = np.unique(np.c_[left, right], axis=0, return_inverse=True)
    index = np.ravel(index)
    after_reward = np.r_[False, rewarded[:-1]]
    basis = index[after_reward] if after_reward.sum() >= 20 else index
    probabilities = np.bincount(basis, minlength=len(pairs)) / len(basis)
    chance = float((probabilities**2).sum())
    repeated = index[1:] == index[:-1]

    def rule(previous: np.ndarray) -> float:
        if not previous.any():
            return 0.0
        rate = float(repeated[previous].mean())
        return float(np.clip((rate - chance) / max(1 - chance, 1e-9), 0.0, 1.0))

    return StimulusProcess(pairs, probabilities, rule(~rewarded[:-1]), rule(rewarded[:-1]))
