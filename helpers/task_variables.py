"""The task's variables, trial by trial, and the null each one needs to be decoded honestly
(chapter 5).

- :data:`VARIABLES`, :func:`trial_variable`: stimulus side, contrast difference, choice,
  movement, wheel speed, outcome and the previous trial's outcome and stimulus, with clear
  errors for what a session lacks.
- :data:`NULL_OF_VARIABLE`, :func:`null_options`: which null each variable gets in
  :func:`helpers.decoding.decode_over_time`, as its keyword arguments:

  - a variable the experimenter generated (the stimulus) is compared with *pseudo-sessions*
    (:func:`pseudo_targets`): stimulus sequences drawn from the task's own rules, estimated
    from the session (:func:`helpers.simulated_design.stimulus_process`);
  - choice is permuted only among trials of the same contrasts in the same quarter of the
    session (:func:`within_condition_targets`): what it adds *beyond* the stimulus;
  - the rest keep the default linear-shift null;
  - every variable is decoded beyond its confounds (:data:`NUISANCE_OF_VARIABLE`, removed from
    the activity by :func:`nuisance_regressors`): the stimulus beyond this trial's choice and
    the previous trial (a population that carries only choice, which follows the stimulus on
    most trials, would otherwise "decode" the stimulus), choice beyond slow drift and its own
    history, movement beyond drift and the previous outcome, outcome beyond drift, the previous
    outcome, choice (and movement) and the contrasts.

Trial-ordered data break a trial shuffle's assumption (exchangeable trials): see
:mod:`helpers.inference` and Harris (2020), "Nonsense correlations in neuroscience".
"""

from __future__ import annotations

import numpy as np

from helpers.session import Session

__all__ = ["VARIABLES", "trial_variable", "NULL_OF_VARIABLE", "NUISANCE_OF_VARIABLE",
           "REGRESSORS", "pseudo_targets", "within_condition_targets", "nuisance_regressors",
           "null_options"]

#: The variables :func:`trial_variable` knows: name -> (kind, meaning). ``classification``
#: variables are 0/1 per trial (scored by balanced accuracy, chance 0.5); ``regression``
#: variables are numbers (scored by R², chance 0).
VARIABLES: dict[str, tuple[str, str]] = {
    "stimulus side": ("classification", "1 right contrast higher, 0 left higher (equal: left out)"),
    "contrast difference": ("regression", "contrast right - contrast left, per trial"),
    "choice": ("classification", "1 right, 0 left (no-go trials left out)"),
    "movement": ("classification", "1 the mouse turned the wheel to answer, 0 no-go"),
    "wheel speed": ("regression", "|wheel velocity| in every bin (needs a wheel trace)"),
    "outcome": ("classification", "1 rewarded, 0 not"),
    "previous outcome": ("classification", "the previous trial's outcome (first trial left out)"),
    "previous stimulus side": ("classification", "the previous trial's stimulus side"),
}

#: The null :func:`null_options` gives each variable.
NULL_OF_VARIABLE: dict[str, str] = {
    "stimulus side": "pseudo-sessions", "contrast difference": "pseudo-sessions",
    "choice": "within condition", "movement": "shift",
    "wheel speed": "shift", "outcome": "shift",
    "previous outcome": "shift", "previous stimulus side": "pseudo-sessions",
}


def _stimulus_values(name: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Stimulus side, contrast difference or their previous-trial values from contrasts whose
    last axis is trials (leading axes: pseudo-sessions)."""
    if name.startswith("previous "):
        current = _stimulus_values(name.removeprefix("previous "), left, right)
        first = np.full((*current.shape[:-1], 1), np.nan)
        return np.concatenate([first, current[..., :-1]], axis=-1)
    if name == "stimulus side":
        return np.where(right > left, 1.0, np.where(left > right, 0.0, np.nan))
    return (right - left).astype(float)


def trial_variable(session: Session, name: str, *, bin_width: float | None = None
                   ) -> np.ndarray:
    """One task variable of every trial, NaN where it is undefined.

    Args:
        session: the session (already windowed for ``"wheel speed"``), all trials in order
            (the previous-trial variables read the trial before).
        name: a key of :data:`VARIABLES`.
        bin_width: for ``"wheel speed"``, the bins of the representation it is decoded from
            (seconds, see :meth:`~helpers.session.Session.behaviour_by_trial`).

    Returns:
        ``(n_trials,)`` floats, or ``(n_trials, n_bins)`` for ``"wheel speed"``.

    Raises:
        ValueError: an unknown name, or a variable the session cannot provide (no responses,
            no wheel trace): the message names what is missing.
    """
    if name not in VARIABLES:
        raise ValueError(f"Unknown variable {name!r}; choose from {list(VARIABLES)}.")
    if name in ("stimulus side", "contrast difference", "previous stimulus side"):
        return _stimulus_values(name, session.contrast_left, session.contrast_right)
    if name == "outcome":
        return session.is_correct.astype(float)
    if name == "previous outcome":
        return np.r_[np.nan, session.is_correct[:-1].astype(float)]
    if name == "wheel speed":
        if "wheel" not in session.behaviour:
            raise ValueError(f"Cannot decode 'wheel speed': session {session.name} "
                             f"({session.source}) has no wheel trace (behaviour it carries: "
                             f"{sorted(session.behaviour) or 'none'}).")
        return np.abs(session.behaviour_by_trial("wheel", bin_width)).astype(float)
    if session.response is None:
        raise ValueError(f"Cannot decode {name!r}: session {session.name} has no responses "
                         "(session.response is None).")
    if name == "choice":
        return np.where(session.response == -1, 1.0,
                        np.where(session.response == 1, 0.0, np.nan))
    return (session.response != 0).astype(float)  # movement


def pseudo_targets(session: Session, name: str, *, n_null: int = 200, seed: int = 0
                   ) -> np.ndarray:
    """Null draws of a stimulus variable from *pseudo-sessions*: stimulus sequences generated
    by the session's own :func:`~helpers.simulated_design.stimulus_process` (its contrast pairs
    and its repeats after errors, for the mouse's own errors). A decoder that reads the real
    sequence better than these reads the stimuli -- not a drift, nor the task's statistics.

    Args:
        session: the session, all its trials in order (the process is sequential).
        name: ``"stimulus side"``, ``"contrast difference"`` or ``"previous stimulus side"``.
        n_null: pseudo-sessions to draw.
        seed: seeds the draws.

    Returns:
        ``(n_null, n_trials)``. A pseudo-trial with equal contrasts has no stimulus side: it
        gets a random side (a coin flip), so that every trial the real variable is defined on
        has a null value too; the first trial of ``"previous stimulus side"`` stays NaN.
    """
    from helpers.simulated_design import stimulus_process

    if NULL_OF_VARIABLE.get(name) != "pseudo-sessions":
        stimulus = [n for n, null in NULL_OF_VARIABLE.items() if null == "pseudo-sessions"]
        raise ValueError(f"{name!r} is not a variable the experimenter generated; "
                         f"pseudo-sessions exist for {stimulus}.")
    process = stimulus_process(session.contrast_left, session.contrast_right,
                               session.is_correct)
    left, right = process.draw(session.is_correct, n_null, seed)
    if name == "contrast difference":
        return _stimulus_values(name, left, right)
    side = _stimulus_values("stimulus side", left, right)
    coins = np.random.default_rng([int(seed), 0x7E5]).integers(0, 2, side.shape)
    side = np.where(np.isnan(side), coins, side)
    if name == "previous stimulus side":
        side = np.concatenate([np.full((len(side), 1), np.nan), side[:, :-1]], axis=1)
    return side


def within_condition_targets(target: np.ndarray, conditions: np.ndarray, *, n_null: int = 200,
                             seed: int = 0) -> np.ndarray:
    """Null draws of a variable permuted only among trials of the same condition: what the
    condition explains is kept, so a decoder beats this null only with information beyond it
    (e.g. choice *within* stimulus condition, as Steinmetz et al. 2019 measured it).

    Args:
        target: ``(n_trials,)``; NaN trials stay NaN and are never drawn.
        conditions: ``(n_trials,)`` or ``(n_trials, k)``, one condition (row) per trial.
        n_null: permutations.
        seed: seeds them.

    Returns:
        ``(n_null, n_trials)``.

    Raises:
        ValueError: lengths that disagree, or no condition with two defined trials.
    """
    target = np.asarray(target, dtype=float).ravel()
    conditions = np.asarray(conditions)
    rows = conditions.reshape(len(conditions), -1)
    if len(rows) != len(target):
        raise ValueError(f"conditions ({len(rows)}) and target ({len(target)}) need one entry "
                         "per trial.")
    defined = np.flatnonzero(np.isfinite(target))
    if len(defined) == 0:
        raise ValueError("the target is NaN on every trial: nothing to permute.")
    group = np.ravel(np.unique(rows[defined], axis=0, return_inverse=True)[1])
    if np.bincount(group).max() < 2:
        raise ValueError("no condition holds two trials with the variable defined: a "
                         "within-condition permutation cannot move anything; use coarser "
                         "conditions.")
    rng = np.random.default_rng([int(seed), 0xC0D])
    order = defined[np.lexsort((defined, group))]
    null = np.tile(target, (int(n_null), 1))
    for draw in null:
        draw[defined[np.lexsort((rng.random(len(defined)), group))]] = target[order]
    return null


#: The regressors :func:`nuisance_regressors` knows, each one or more columns per trial.
REGRESSORS: dict[str, str] = {
    "drift": "the first n_drift cosines of the trial index (slow drift over the session)",
    "choice": "this trial's choice, two 0/1 columns (right, left; both 0 on no-go trials)",
    "contrasts": "this trial's left and right contrasts",
    "previous contrasts": "the previous trial's left and right contrasts",
    "previous contrasts after an error": "the same, 0 after a rewarded trial (the task's "
                                         "repeat-after-error rule)",
    "previous choice": "the previous trial's choice, two 0/1 columns (right, left)",
    "previous outcome": "the previous trial's outcome (0/1)",
}

#: What each variable is decoded *beyond* (removed from the activity within each training fold
#: by ``decode_over_time(nuisance=)``), besides its null (:data:`NULL_OF_VARIABLE`): the
#: stimulus beyond this trial's choice and the previous trial; choice beyond its own history;
#: outcome beyond movement, choice and contrasts. Choice's two columns carry movement too.
NUISANCE_OF_VARIABLE: dict[str, tuple[str, ...]] = {
    "stimulus side": ("drift", "choice", "previous contrasts",
                      "previous contrasts after an error", "previous choice", "previous outcome"),
    "contrast difference": ("drift", "choice", "previous contrasts",
                            "previous contrasts after an error", "previous choice",
                            "previous outcome"),
    "choice": ("drift", "previous choice", "previous outcome"),
    "movement": ("drift", "previous outcome"),
    "wheel speed": (),
    "outcome": ("drift", "previous outcome", "choice", "contrasts"),
    "previous outcome": (),
    "previous stimulus side": ("previous choice", "previous outcome"),
}


def _previous(values: np.ndarray) -> np.ndarray:
    """The previous trial's values ``(n_trials, k)``; the first trial gets the mean."""
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    return np.concatenate([values.mean(axis=0, keepdims=True), values[:-1]])


def _regressor(session: Session, name: str, n_drift: int) -> np.ndarray:
    if name == "drift":
        position = (np.arange(session.n_trials) + 0.5) / session.n_trials
        return np.column_stack([np.cos(np.pi * k * position) for k in range(1, n_drift + 1)]
                               ) if n_drift else np.empty((session.n_trials, 0))
    if name.endswith("outcome"):
        outcome = session.is_correct.astype(float)
        return _previous(outcome) if name.startswith("previous") else outcome[:, None]
    if "contrasts" in name:
        contrasts = np.c_[session.contrast_left, session.contrast_right].astype(float)
        if name.endswith("after an error"):
            return _previous(contrasts * (1 - session.is_correct[:, None]))
        return _previous(contrasts) if name.startswith("previous") else contrasts
    if session.response is None:
        raise ValueError(f"Cannot build the nuisance regressor {name!r}: session "
                         f"{session.name} has no responses (session.response is None).")
    sides = np.c_[session.response == -1, session.response == 1].astype(float)
    return _previous(sides) if name.startswith("previous") else sides


def nuisance_regressors(session: Session, regressors: tuple[str, ...] = ("drift",
                        "previous outcome"), *, n_drift: int = 3) -> np.ndarray:
    """What a decoded variable should *not* be credited with, for
    ``decode_over_time(nuisance=)``: by default slow drift over the session (the first
    ``n_drift`` cosines of the trial index, periods from twice the session down to
    ``2 / n_drift`` of it) and the previous trial's outcome.

    Args:
        session: the session, all trials in order.
        regressors: keys of :data:`REGRESSORS`, in the order of the columns.
        n_drift: cosines of ``"drift"``.

    Returns:
        ``(n_trials, k)``; a previous-trial column gives the first trial the session's mean.

    Raises:
        ValueError: an unknown regressor, ``n_drift < 0``, or choice without responses.
    """
    if n_drift < 0:
        raise ValueError(f"n_drift must be >= 0, got {n_drift}.")
    unknown = [name for name in regressors if name not in REGRESSORS]
    if unknown:
        raise ValueError(f"Unknown nuisance regressor(s) {unknown}; choose from "
                         f"{list(REGRESSORS)}.")
    columns = [_regressor(session, name, n_drift) for name in regressors]
    return np.column_stack(columns) if columns else np.empty((session.n_trials, 0))


def null_options(session: Session, name: str, *, trials: np.ndarray | None = None,
                 n_null: int = 200, seed: int = 0) -> dict[str, np.ndarray]:
    """The keyword arguments of :func:`helpers.decoding.decode_over_time` that give a variable
    its null (:data:`NULL_OF_VARIABLE`), for the trials decoded.

    Args:
        session: the session, all trials in order.
        name: a key of :data:`VARIABLES`.
        trials: indices of the decoded trials, in session order (e.g. a model's test trials);
            all trials when ``None``. The pseudo-sessions are drawn for the whole session and
            then cut, the within-condition permutations are drawn among these trials only.
        n_null, seed: draws of the null targets.

    Returns:
        ``{"null_targets": (n_null, n_decoded)}`` (absent: the default linear shift) and
        ``{"nuisance": (n_decoded, k)}`` (the regressors of :data:`NUISANCE_OF_VARIABLE`;
        choice's are left out where the session has no responses), either, both or ``{}``.
    """
    if name not in NULL_OF_VARIABLE:
        raise ValueError(f"Unknown variable {name!r}; choose from {list(NULL_OF_VARIABLE)}.")
    trials = np.arange(session.n_trials) if trials is None else np.asarray(trials)
    if trials.ndim != 1 or (len(trials) > 1 and np.any(np.diff(trials) <= 0)):
        raise ValueError("trials must be increasing trial indices (session order), e.g. "
                         "np.sort(split.test_trials).")
    null, options = NULL_OF_VARIABLE[name], {}
    regressors = NUISANCE_OF_VARIABLE[name]
    if session.response is None:  # no choice to remove: say so in the regressors' absence
        regressors = tuple(r for r in regressors if not r.endswith("choice"))
    if regressors:
        options["nuisance"] = nuisance_regressors(session, regressors)[trials]
    if null == "pseudo-sessions":
        options["null_targets"] = pseudo_targets(session, name, n_null=n_null,
                                                 seed=seed)[:, trials]
    elif null == "within condition":
        quarter = np.arange(session.n_trials) * 4 // session.n_trials
        conditions = np.c_[session.contrast_left, session.contrast_right, quarter][trials]
        target = trial_variable(session, name)[trials]
        options["null_targets"] = within_condition_targets(target, conditions, n_null=n_null,
                                                           seed=seed)
    return options
