"""One recording session, whatever its source: the container every chapter reads.

- :class:`Session`: spike counts ``(n_neurons, n_trials, n_bins)`` exactly as in the course's
  ``spks`` array, trial variables and, for simulated sessions, the :class:`Truth`.
  :meth:`Session.select` picks neurons and trials, :meth:`Session.window` cuts a time window
  given in seconds, and :meth:`Session.spikes_by_trial` is the one switch to the models'
  layout ``(n_trials, n_bins, n_neurons)``; :meth:`Session.behaviour_by_trial` does the same
  for the behaviour recorded in every bin (wheel velocity, pupil, face, licks).
- :func:`movement_onset`: when each trial's movement started, from the response times or the
  wheel trace; :func:`align_to_event` re-cuts trials around such a per-trial event.
- :data:`REGION_GROUPS` and :func:`region_of`: the course's grouping of brain areas.

This module reads no files and downloads nothing: what is known of the 39 sessions before
loading them lives in :mod:`helpers.catalogue`, the real data in :mod:`helpers.steinmetz`, the
simulated sessions in :mod:`helpers.surrogate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = [
    "REGION_GROUPS", "OTHER_REGION", "region_of", "Truth", "Coupling", "Session",
    "BEHAVIOUR_NAMES", "movement_onset", "WHEEL_ONSET_FRACTION", "align_to_event", "MIN_RATE",
    "as_trials_first",
]

#: The book's criterion for a neuron worth modelling: at least this many spikes/s on average
#: (as published analyses of these data do), ``session.select(min_rate=MIN_RATE)``.
MIN_RATE = 1.0

#: The per-bin behaviour the course files carry (each ``(k, n_trials, n_bins)`` there):
#: ``wheel`` velocity (k = 1), ``pupil`` area and position (k = 3), ``face`` motion energy
#: (k = 1) and ``licks`` (k = 1). A :class:`Session` keeps those present in
#: :attr:`Session.behaviour`.
BEHAVIOUR_NAMES: tuple[str, ...] = ("wheel", "pupil", "face", "licks")

#: The course's grouping of Allen CCF acronyms into region groups. Everything else
#: (``root`` and the rare leftovers) is ``"other"``.
REGION_GROUPS: dict[str, tuple[str, ...]] = {
    "vis ctx": ("VISa", "VISam", "VISl", "VISp", "VISpm", "VISrl"),
    "thal": ("CL", "LD", "LGd", "LH", "LP", "MD", "MG", "PO", "POL", "PT", "RT", "SPF", "TH",
             "VAL", "VPL", "VPM"),
    "hipp": ("CA", "CA1", "CA2", "CA3", "DG", "SUB", "POST"),
    "other ctx": ("ACA", "AUD", "COA", "DP", "ILA", "MOp", "MOs", "OLF", "ORB", "ORBm", "PIR",
                  "PL", "SSp", "SSs", "RSP", "TT"),
    "midbrain": ("APN", "IC", "MB", "MRN", "NB", "PAG", "RN", "SCs", "SCm", "SCig", "SCsg", "ZI"),
    "basal ganglia": ("ACB", "CP", "GPe", "LS", "LSc", "LSr", "MS", "OT", "SNr", "SI"),
    "cortical subplate": ("BLA", "BMA", "EP", "EPd", "MEA"),
}
#: The group of every acronym not in :data:`REGION_GROUPS` (``root`` and rare leftovers).
OTHER_REGION = "other"
_AREA_TO_REGION = {area: group for group, areas in REGION_GROUPS.items() for area in areas}
_ALL = slice(None)  # every neuron, trial or bin


def region_of(areas: np.ndarray | list[str]) -> np.ndarray:
    """Map brain-area acronyms to region-group names (stray whitespace is ignored).

    Args:
        areas: acronyms, shape ``(n_neurons,)``, e.g. ``["VISp", " TT", "root"]``.

    Returns:
        Region-group names, shape ``(n_neurons,)``, e.g. ``["vis ctx", "other ctx", "other"]``.
    """
    names = [_AREA_TO_REGION.get(str(area).strip(), OTHER_REGION) for area in np.ravel(areas)]
    return np.array(names, dtype=object)


# =============================================================================================
# The container
# =============================================================================================
@dataclass(frozen=True)
class Coupling:
    """Which simulated regions drive which, and how (chapter 3's ground truth).

    Every region group has ``n_private`` private latents that only its own neurons read. For
    each pair ``(source, target)`` of :attr:`pairs`, the target's neurons also read
    ``projections[pair] @ z_source(t - lag_s)``: a rank-``rank`` projection of the source's
    private latents, ``lag_s`` seconds earlier. All other pairs of regions share only the
    session-wide latents (task, movement, engagement, gain, shared fluctuations).

    Attributes:
        pairs: ``(source, target)`` region groups that are coupled, both recorded.
        rank: dimensionality of every coupling.
        lag_s: delay of every coupling, seconds (the source leads).
        projections: pair -> ``(rank, n_private)`` with orthonormal rows.
        private_latents: region group -> ``(n_trials, n_bins, n_private)``, unit variance.
        timescale_s: Gaussian smoothing width of the private latents, seconds.
    """

    pairs: tuple[tuple[str, str], ...]
    rank: int
    lag_s: float
    projections: dict[tuple[str, str], np.ndarray] = field(repr=False)
    private_latents: dict[str, np.ndarray] = field(repr=False)
    timescale_s: float = 0.05

    def subset(self, trials: Any = _ALL, bins: Any = _ALL) -> Coupling:
        """The same coupling on a subset of trials and bins."""
        private = {region: values[trials][:, bins]
                   for region, values in self.private_latents.items()}
        return replace(self, private_latents=private)


@dataclass
class Truth:
    """What a simulated session knows and a real one never does.

    Attributes:
        rates: the true firing rates in spikes per bin, trials first like the latents:
            ``(n_trials, n_bins, n_neurons)`` (``Session.rates_by_trial()`` rebins them).
        latents: the latent variables, shape ``(n_trials, n_bins, n_latents)``.
        latent_names: one name per latent, length ``n_latents``.
        extra: other per-trial ground truth, each ``(n_trials, ...)`` (e.g. ``"p_correct"``,
            the true chance that each trial was answered correctly).
        coupling: the regions' private latents and which regions drive which
            (:class:`Coupling`), or ``None``.
    """

    rates: np.ndarray
    latents: np.ndarray
    latent_names: tuple[str, ...]
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    coupling: Coupling | None = None

    def __getitem__(self, key: str) -> Any:
        """Dictionary-style access: ``truth["rates"]`` or ``truth["p_correct"]``."""
        if key in ("rates", "latents", "latent_names"):
            return getattr(self, key)
        if key in self.extra:
            return self.extra[key]
        raise KeyError(f"{key!r} is not part of this ground truth; available: {self.keys()}.")

    def keys(self) -> list[str]:
        """The names available through ``truth[name]``."""
        return ["rates", "latents", "latent_names", *self.extra]

    def subset(self, neurons: Any = _ALL, trials: Any = _ALL, bins: Any = _ALL) -> Truth:
        """The truth of a subset of neurons, trials and bins (indices or boolean masks)."""
        rates = self.rates[trials][:, bins][:, :, neurons]
        extra = {key: np.asarray(value)[trials] for key, value in self.extra.items()}
        coupling = None if self.coupling is None else self.coupling.subset(trials, bins)
        return replace(self, rates=rates, latents=self.latents[trials][:, bins], extra=extra,
                       coupling=coupling)


def _check_length(name: str, value: np.ndarray, expected: int, what: str) -> None:
    if len(value) != expected:
        raise ValueError(f"{name} has {len(value)} entries but spikes has {expected} ({what}).")


def _as_list(value: str | list[str] | tuple[str, ...]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@dataclass(eq=False)
class Session:
    """One recording session in the course's format.

    Attributes:
        spikes: spike counts, integers, shape ``(n_neurons, n_trials, n_bins)`` (the course's
            ``spks``). Real sessions store ``uint8``: use :meth:`spikes_by_trial` for a model.
        brain_area: Allen CCF acronym of each neuron, shape ``(n_neurons,)``.
        contrast_left: left stimulus contrast per trial in {0, .25, .5, 1}, ``(n_trials,)``.
        contrast_right: right stimulus contrast per trial, ``(n_trials,)``.
        feedback_type: +1 rewarded, -1 white-noise (error), ``(n_trials,)``.
        response: wheel choice per trial, +1 left, -1 right, 0 no-go; ``None`` if unknown.
        bin_size: bin width in seconds.
        stim_onset: stimulus onset in seconds after the start of the first bin.
        mouse_name: the mouse, e.g. ``"Lederberg"``.
        date_exp: the recording date, ``"YYYY-MM-DD"``.
        source: ``"real"`` or ``"simulated"``.
        truth: ground truth of a simulated session, ``None`` for a real one.
        events: per-trial event times in seconds from stimulus onset, each ``(n_trials,)``;
            real sessions carry ``"gocue"``, ``"response_time"`` and ``"feedback_time"``.
        behaviour: behaviour in every bin, each ``(n_trials, n_bins)`` or
            ``(n_trials, n_bins, k)``, e.g. ``"wheel"`` (wheel velocity); names in
            :data:`BEHAVIOUR_NAMES`. :meth:`select` and :meth:`window` cut it along with the
            spikes; :meth:`behaviour_by_trial` reads it in the models' bins.
        region: region group of each neuron, derived from ``brain_area``.
    """

    spikes: np.ndarray
    brain_area: np.ndarray
    contrast_left: np.ndarray
    contrast_right: np.ndarray
    feedback_type: np.ndarray
    response: np.ndarray | None = None
    bin_size: float = 0.01
    stim_onset: float = 0.5
    mouse_name: str = "unknown"
    date_exp: str = "unknown"
    source: str = "real"
    truth: Truth | None = None
    events: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    behaviour: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    region: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.spikes = _checked_counts(self.spikes)
        n_neurons, n_trials, _ = self.spikes.shape
        self.brain_area = np.array([str(a).strip() for a in np.ravel(self.brain_area)],
                                   dtype=object)
        _check_length("brain_area", self.brain_area, n_neurons, "n_neurons")
        for name in ("contrast_left", "contrast_right", "feedback_type", "response"):
            value = getattr(self, name)
            if value is None:
                if name != "response":
                    raise ValueError(f"{name} is required.")
                continue
            value = np.ravel(np.asarray(value))
            _check_length(name, value, n_trials, "n_trials")
            setattr(self, name, value)
        if not np.isin(self.feedback_type, (-1, 1)).all():
            raise ValueError("feedback_type must contain only +1 (rewarded) and -1 (error).")
        if self.response is not None and not np.isin(self.response, (-1, 0, 1)).all():
            raise ValueError("response must contain only +1 (left), -1 (right) and 0 (no-go).")
        self.events = {key: np.ravel(np.asarray(value, dtype=float))
                       for key, value in (self.events or {}).items()}
        for key, value in self.events.items():
            _check_length(f"events[{key!r}]", value, n_trials, "n_trials")
        self.behaviour = {key: _checked_behaviour(key, value, self.spikes.shape[1:])
                          for key, value in (self.behaviour or {}).items()}
        if self.source not in ("real", "simulated"):
            raise ValueError(f"source must be 'real' or 'simulated', got {self.source!r}.")
        if self.bin_size <= 0:
            raise ValueError(f"bin_size must be positive seconds, got {self.bin_size!r}.")
        expected = (n_trials, self.spikes.shape[2], n_neurons)
        if self.truth is not None and self.truth.rates.shape != expected:
            raise ValueError(
                f"truth.rates has shape {self.truth.rates.shape} but must be (n_trials, n_bins, "
                f"n_neurons) = {expected}: trials first, like the latents (the spikes' "
                "transpose(1, 2, 0))."
            )
        self.region = region_of(self.brain_area)

    # ----------------------------------------------------------------- sizes
    @property
    def n_neurons(self) -> int:
        """Number of neurons (first axis of ``spikes``)."""
        return self.spikes.shape[0]

    @property
    def n_trials(self) -> int:
        """Number of trials (second axis of ``spikes``)."""
        return self.spikes.shape[1]

    @property
    def n_bins(self) -> int:
        """Number of time bins per trial (third axis of ``spikes``)."""
        return self.spikes.shape[2]

    @property
    def name(self) -> str:
        """``"Mouse YYYY-MM-DD"``, the way the book names sessions."""
        return f"{self.mouse_name} {self.date_exp}"

    @property
    def is_correct(self) -> np.ndarray:
        """Whether each trial was rewarded (``feedback_type == 1``), bool ``(n_trials,)``."""
        return self.feedback_type == 1

    @property
    def time(self) -> np.ndarray:
        """Centre of each bin in seconds relative to stimulus onset, shape ``(n_bins,)``."""
        return (np.arange(self.n_bins) + 0.5) * self.bin_size - self.stim_onset

    @property
    def regions_present(self) -> list[str]:
        """Region groups with at least one neuron, in the order of :data:`REGION_GROUPS`."""
        present = set(self.region)
        return [r for r in (*REGION_GROUPS, OTHER_REGION) if r in present]

    def mean_rates(self) -> np.ndarray:
        """Each neuron's mean firing rate over all trials and bins, spikes/s, ``(n_neurons,)``."""
        return self.spikes.mean(axis=(1, 2), dtype=np.float64) / self.bin_size

    def task_conditions(self) -> np.ndarray:
        """Each trial's stimulus x choice: ``(n_trials, 3)`` = contrast left, contrast right,
        response (the conditions of a condition PSTH and of a within-condition shuffle)."""
        if self.response is None:
            raise ValueError(f"Session {self.name} has no responses: its conditions need the "
                             "choice. Load a session with response times and choices.")
        return np.c_[self.contrast_left, self.contrast_right, self.response]

    def trials_with_partner(self, min_trials: int = 2) -> np.ndarray:
        """Boolean mask ``(n_trials,)``: trials whose stimulus x choice condition
        (:meth:`task_conditions`) occurs at least ``min_trials`` times, i.e. trials that have a
        partner for a within-condition shuffle. Use as ``session.select(trials=mask)``."""
        _, group, sizes = np.unique(self.task_conditions(), axis=0, return_inverse=True,
                                    return_counts=True)
        return sizes[np.ravel(group)] >= min_trials

    # ------------------------------------------------------------- subsetting
    def select(self, regions: str | list[str] | None = None, areas: str | list[str] | None = None,
               *, trials: np.ndarray | None = None, min_rate: float | None = None) -> Session:
        """A session with a subset of neurons and trials; everything per trial follows along.

        Args:
            regions: region group(s) to keep, e.g. ``"thal"`` or ``["vis ctx", "hipp"]``.
            areas: brain-area acronym(s) to keep, e.g. ``["LGd", "TH"]``. With both given,
                a neuron is kept when it matches either.
            trials: trial indices (each at most once) or a boolean mask ``(n_trials,)`` to
                keep, in that order.
            min_rate: keep only neurons firing at least this many spikes/s on average over
                the session's trials and bins (published analyses often use 1 spike/s).

        Raises:
            ValueError: an unknown region group, bad or repeated trial indices, a mask of the
                wrong length, or no neuron left.
        """
        keep = self._neuron_mask(regions, areas)
        if min_rate is not None:
            if not min_rate >= 0:
                raise ValueError(f"min_rate must be a rate >= 0 spikes/s, got {min_rate!r}.")
            rates = self.mean_rates()
            if not (keep & (rates >= min_rate)).any():
                raise ValueError(
                    f"No selected neuron of {self.name} fires >= {min_rate} spikes/s (the "
                    f"fastest fires {rates[keep].max():.2f}). Lower min_rate."
                )
            keep &= rates >= min_rate
        order = self._trial_index(trials)
        return self._subset(np.flatnonzero(keep), order, slice(None))

    def _neuron_mask(self, regions: str | list[str] | None,
                     areas: str | list[str] | None) -> np.ndarray:
        if regions is None and areas is None:
            return np.ones(self.n_neurons, dtype=bool)
        keep = np.zeros(self.n_neurons, dtype=bool)
        if regions is not None:
            regions = _as_list(regions)
            unknown = [r for r in regions if r not in REGION_GROUPS and r != OTHER_REGION]
            if unknown:
                raise ValueError(
                    f"Unknown region group(s) {unknown}. Choose from "
                    f"{[*REGION_GROUPS, OTHER_REGION]}, or pass acronyms with areas=."
                )
            keep |= np.isin(self.region, regions)
        if areas is not None:
            keep |= np.isin(self.brain_area, [a.strip() for a in _as_list(areas)])
        if not keep.any():
            raise ValueError(
                f"No neurons in session {self.name} match regions={regions}, areas={areas}. "
                f"This session recorded: {self.regions_present}."
            )
        return keep

    def _trial_index(self, trials: np.ndarray | None) -> np.ndarray:
        if trials is None:
            return np.arange(self.n_trials)
        trials = np.asarray(trials)
        if trials.dtype == bool:
            if trials.shape != (self.n_trials,):
                raise ValueError(f"A trial mask needs one entry per trial ({self.n_trials}), "
                                 f"got shape {trials.shape}.")
            trials = np.flatnonzero(trials)
        if trials.ndim != 1 or not np.issubdtype(trials.dtype, np.integer) or len(trials) == 0:
            raise ValueError("trials must be a non-empty 1-D array of indices or a boolean mask.")
        if trials.min() < -self.n_trials or trials.max() >= self.n_trials:
            raise ValueError(f"Trial indices must lie in 0..{self.n_trials - 1}, got "
                             f"{trials.min()}..{trials.max()}.")
        unique, counts = np.unique(trials % self.n_trials, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"Trial(s) {unique[counts > 1].tolist()} are listed more than once: a "
                             "session holds each trial once (draw without replacement).")
        return trials

    def bins_in(self, start: float, end: float) -> slice:
        """The bins whose centre lies in ``[start, end)`` seconds from stimulus onset, as a
        slice of the time axis (what :meth:`window` keeps).

        Raises:
            ValueError: ``end <= start`` or no bin in the window (the message gives the
                session's range).
        """
        if not end > start:
            raise ValueError(f"A window needs end > start (seconds), got ({start}, {end}).")
        keep = np.flatnonzero((self.time >= start - 1e-9) & (self.time < end - 1e-9))
        if len(keep) == 0:
            raise ValueError(
                f"No bin of session {self.name} lies in the window [{start}, {end}) s; its bins "
                f"span {self.time[0]:.3f} to {self.time[-1]:.3f} s around stimulus onset."
            )
        return slice(int(keep[0]), int(keep[-1]) + 1)

    def window(self, start: float, end: float) -> Session:
        """The session cut to the bins whose centre lies in ``[start, end)`` seconds from
        stimulus onset (:meth:`bins_in`); :attr:`time` stays relative to stimulus onset."""
        bins = self.bins_in(start, end)
        windowed = self._subset(slice(None), slice(None), bins)
        windowed.stim_onset = self.stim_onset - bins.start * self.bin_size
        return windowed

    def _subset(self, neurons: Any, trials: Any, bins: Any) -> Session:
        per_trial = {name: None if getattr(self, name) is None else getattr(self, name)[trials]
                     for name in ("contrast_left", "contrast_right", "feedback_type", "response")}
        truth = None if self.truth is None else self.truth.subset(neurons, trials, bins)
        return replace(self, spikes=self.spikes[neurons][:, trials][:, :, bins],
                       brain_area=self.brain_area[neurons], truth=truth,
                       events={k: v[trials] for k, v in self.events.items()},
                       behaviour={k: v[trials][:, bins] for k, v in self.behaviour.items()},
                       **per_trial)

    # ------------------------------------------------------ the models' layout
    def spikes_by_trial(self, bin_width: float | None = None) -> np.ndarray:
        """Spike counts in the models' layout: float32 ``(n_trials, n_bins, n_neurons)``.

        Args:
            bin_width: seconds per output bin, a multiple of :attr:`bin_size` that divides the
                session's duration; consecutive bins are summed. ``None`` keeps the bins.
        """
        return _trials_first(self.spikes, self._rebin_factor(bin_width))

    def rates_by_trial(self, bin_width: float | None = None) -> np.ndarray:
        """The true rates (spikes per output bin) in the models' layout, float32
        ``(n_trials, n_bins, n_neurons)``.

        Raises:
            ValueError: a real session, which has no ground truth.
        """
        if self.truth is None:
            raise ValueError(f"Session {self.name} is {self.source}: it has no true rates. "
                             "Only simulated sessions carry a ground truth.")
        return _rebinned(self.truth.rates, self._rebin_factor(bin_width))

    def behaviour_by_trial(self, name: str, bin_width: float | None = None) -> np.ndarray:
        """One behavioural variable in the models' bins: float32 ``(n_trials, n_bins)`` or
        ``(n_trials, n_bins, k)``, averaged over the session's bins within each output bin.

        Args:
            name: a key of :attr:`behaviour`, e.g. ``"wheel"``.
            bin_width: seconds per output bin (see :meth:`spikes_by_trial`).

        Raises:
            ValueError: the session has no such trace (the message lists those it has).
        """
        if name not in self.behaviour:
            have = sorted(self.behaviour) or "none"
            raise ValueError(f"Session {self.name} ({self.source}) has no {name!r} trace; the "
                             f"behaviour it carries: {have}. Real sessions read it from the "
                             "course files' per-bin arrays (wheel, pupil, face, licks).")
        factor = self._rebin_factor(bin_width)
        values = np.asarray(self.behaviour[name], dtype=np.float32)
        if factor > 1:
            values = values.reshape(values.shape[0], -1, factor, *values.shape[2:]).mean(axis=2)
        return np.ascontiguousarray(values)

    def latents_by_trial(self, bin_width: float | None = None) -> np.ndarray:
        """The true latents in the models' bins, float32 ``(n_trials, n_bins, n_latents)``,
        averaged within each output bin (names: ``truth.latent_names``).

        Raises:
            ValueError: a real session, which has no ground truth.
        """
        if self.truth is None:
            raise ValueError(f"Session {self.name} is {self.source}: it has no true latents. "
                             "Only simulated sessions carry a ground truth.")
        factor = self._rebin_factor(bin_width)
        latents = np.asarray(self.truth.latents, dtype=np.float32)
        n_trials, n_bins, n_latents = latents.shape
        return latents.reshape(n_trials, n_bins // factor, factor, n_latents).mean(axis=2)

    def _rebin_factor(self, bin_width: float | None) -> int:
        if bin_width is None:
            return 1
        factor = int(round(bin_width / self.bin_size)) if bin_width > 0 else 0  # NaN: 0
        if factor < 1 or not np.isclose(factor * self.bin_size, bin_width) \
                or self.n_bins % factor:
            raise ValueError(f"bin_width={bin_width} s must be a multiple of the session's "
                             f"{self.bin_size} s bins that divides its {self.n_bins} bins.")
        return factor

    def summary(self) -> dict[str, Any]:
        """A one-line description: sizes, regions and fraction correct."""
        return {
            "session": self.name,
            "source": self.source,
            "n_neurons": self.n_neurons,
            "n_trials": self.n_trials,
            "n_bins": self.n_bins,
            "fraction_correct": float(np.mean(self.is_correct)),
            "regions": {r: int(np.sum(self.region == r)) for r in self.regions_present},
        }


def _checked_behaviour(name: str, value: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A per-bin behaviour array ``(n_trials, n_bins[, k])``, float, checked against the spikes'
    ``(n_trials, n_bins)``."""
    value = np.asarray(value)
    if value.ndim not in (2, 3) or value.shape[:2] != tuple(shape):
        raise ValueError(f"behaviour[{name!r}] has shape {value.shape} but must be (n_trials, "
                         f"n_bins[, k]) = {tuple(shape)}[, k], like the spikes. The course files "
                         "store (k, n_trials, n_bins): move that axis last.")
    if not np.issubdtype(value.dtype, np.number):
        raise ValueError(f"behaviour[{name!r}] must be numeric, got dtype {value.dtype}.")
    return value.astype(np.float32, copy=False)


#: :func:`movement_onset` from the wheel: a movement starts where the wheel speed first exceeds
#: this fraction of the session's typical peak speed (the median over go trials of each
#: trial's peak after stimulus onset), for two bins in a row.
WHEEL_ONSET_FRACTION = 0.25


def movement_onset(session: Session, *, method: str = "auto",
                   threshold: float | None = None,
                   fraction: float = WHEEL_ONSET_FRACTION) -> np.ndarray:
    """When each trial's wheel movement started, in seconds from stimulus onset, ``(n_trials,)``.

    Args:
        session: the session.
        method: ``"response_time"``: the session's ``events["response_time"]`` (when the choice
            was registered; in the course's files the wheel had then reached its response
            threshold, so this time comes at or after the movement's start); ``"wheel"``: the
            first bin at or after stimulus onset where the wheel speed ``|wheel|`` exceeds
            ``threshold`` for two consecutive bins (the bin's centre time); ``"auto"``:
            response times where the session has them, else the wheel.
        threshold: wheel speed, in the trace's units, for ``"wheel"``; default
            ``fraction`` times the median over go trials of each trial's peak speed after
            stimulus onset.
        fraction: that fraction (default :data:`WHEEL_ONSET_FRACTION`); a lower one (e.g. 0.1)
            finds the first small movement, as a "before movement" analysis needs.

    Returns:
        Onset times; NaN on no-go trials (``response == 0``) and, from the wheel, on trials
        whose wheel never crosses the threshold.

    Raises:
        ValueError: an unknown method, or the session lacks what the method needs (no
            ``response_time`` event, no ``wheel`` trace): the message names what is missing.
    """
    methods = ("auto", "response_time", "wheel")
    if method not in methods:
        raise ValueError(f"method must be one of {methods}, got {method!r}.")
    if method == "auto":
        method = "response_time" if "response_time" in session.events else "wheel"
    nogo = np.zeros(session.n_trials, bool) if session.response is None \
        else session.response == 0
    if method == "response_time":
        if "response_time" not in session.events:
            raise ValueError(f"Session {session.name} has no response times (events: "
                             f"{sorted(session.events) or 'none'}); use method='wheel'.")
        onset = np.asarray(session.events["response_time"], dtype=float).copy()
        onset[nogo] = np.nan
        return onset
    if "wheel" not in session.behaviour:
        raise ValueError(f"Session {session.name} has no wheel trace and no response times: "
                         "movement onset cannot be found. The course files carry both "
                         "(wheel, response_time).")
    speed = np.abs(np.asarray(session.behaviour["wheel"], dtype=float))
    if speed.ndim == 3:
        speed = speed[..., 0]
    after = session.time >= -1e-9
    if not after.any():
        raise ValueError(f"Session {session.name} has no bin after stimulus onset (its bins "
                         f"span {session.time[0]:.3f} to {session.time[-1]:.3f} s).")
    if threshold is None:
        peaks = speed[~nogo][:, after].max(axis=1)
        typical = np.median(peaks[peaks > 0]) if (peaks > 0).any() else 0.0
        if not 0 < fraction < 1:
            raise ValueError(f"fraction must be in (0, 1), got {fraction!r}.")
        threshold = fraction * typical
    if not threshold > 0:
        return np.full(session.n_trials, np.nan)
    above = speed[:, after] > threshold
    sustained = above[:, :-1] & above[:, 1:] if above.shape[1] > 1 else above
    first = np.where(sustained.any(axis=1), sustained.argmax(axis=1), -1)
    times = session.time[after]
    onset = np.where(first >= 0, times[np.maximum(first, 0)], np.nan)
    onset[nogo] = np.nan
    return onset


def align_to_event(values: np.ndarray, time: np.ndarray, event_times: np.ndarray,
                   window: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-cut every trial around its own event, e.g. movement onset.

    Args:
        values: ``(n_trials, n_bins, ...)``, bins centred at ``time``.
        time: bin centres in seconds from stimulus onset, ``(n_bins,)``.
        event_times: the event of each trial in seconds from stimulus onset, ``(n_trials,)``;
            NaN where there is none (such trials are left out).
        window: ``(start, end)`` in seconds relative to the event.

    Returns:
        ``(aligned, kept, relative_time)``: ``aligned`` ``(n_kept, n_window_bins, ...)``,
        ``kept`` a boolean mask ``(n_trials,)`` of the trials whose whole window lies inside
        the recorded bins, and the bin centres relative to the event.

    Raises:
        ValueError: ``end <= start``, shapes that disagree, or no trial whose window fits
            (the message gives the available range).
    """
    values, time = np.asarray(values), np.asarray(time, dtype=float)
    event_times = np.asarray(event_times, dtype=float)
    start, end = window
    if not end > start:
        raise ValueError(f"A window needs end > start (seconds), got {window}.")
    if values.shape[:2] != (len(event_times), len(time)):
        raise ValueError(f"values {values.shape[:2]} must be (n_trials, n_bins) = "
                         f"({len(event_times)}, {len(time)}).")
    step = float(np.median(np.diff(time))) if len(time) > 1 else 1.0
    offsets = np.arange(int(np.round(start / step)), int(np.round(end / step)))
    if len(offsets) == 0:
        raise ValueError(f"The window {window} s is shorter than one bin ({step:g} s).")
    finite = np.isfinite(event_times)
    anchor = np.full(len(event_times), -1)
    edges = time - step / 2 - 1e-9  # an event on an edge belongs to the bin that starts there
    anchor[finite] = np.searchsorted(edges, event_times[finite], side="right") - 1
    first, last = anchor + offsets[0], anchor + offsets[-1]
    kept = finite & (anchor >= 0) & (first >= 0) & (last < len(time))
    if not kept.any():
        low, high = time[0] - step / 2, time[-1] + step / 2
        events = event_times[finite]
        if len(events) == 0:
            raise ValueError("No trial has an event (all event times are NaN): nothing to "
                             "align to.")
        raise ValueError(
            f"No trial has the window [{start}, {end}) s around its event inside the recorded "
            f"bins ({low:.2f} to {high:.2f} s from stimulus onset; events fall at "
            f"{events.min():.2f} to {events.max():.2f} s): windows from {low - events.min():.2f}"
            f" s to {high - events.max():.2f} s around the event fit every trial.")
    index = anchor[kept][:, None] + offsets[None, :]
    aligned = values[np.flatnonzero(kept)[:, None], index]
    return aligned, kept, (offsets + 0.5) * step


def as_trials_first(name: str, values: np.ndarray, last: str = "n_neurons",
                    fix: str = "drop those trials or fill the gaps first") -> np.ndarray:
    """The one check of the models' layout: ``values`` as a finite float array
    ``(n_trials, n_bins, <last>)``, or a ``ValueError`` naming ``name``, the shape and the fix.

    Args:
        name: what the array is, for the message (e.g. ``"features"``).
        values: the array to check.
        last: the name of the last axis in the message (``"n_neurons"``, ``"n_features"``).
        fix: what to do about NaN or inf values.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 3:
        raise ValueError(f"{name} must be (n_trials, n_bins, {last}), got shape "
                         f"{values.shape}; session.spikes_by_trial() gives this layout.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or inf: {fix}.")
    return values


def _checked_counts(spikes: np.ndarray) -> np.ndarray:
    spikes = np.asarray(spikes)
    if spikes.ndim != 3:
        raise ValueError(
            f"spikes must have shape (n_neurons, n_trials, n_bins), got {spikes.shape}. "
            "The course's `spks` array already has this layout; do not transpose it."
        )
    if not np.issubdtype(spikes.dtype, np.integer):
        if not np.all(np.isfinite(spikes)) or np.any(spikes != np.round(spikes)):
            raise ValueError("spikes must be whole spike counts per bin (got non-integers).")
        spikes = spikes.astype(np.int64)
    if spikes.size and spikes.min() < 0:
        raise ValueError("spikes must be non-negative counts.")
    return spikes


def _trials_first(array: np.ndarray, factor: int) -> np.ndarray:
    """``(n_neurons, n_trials, n_bins)`` -> float32 ``(n_trials, n_bins // factor, n_neurons)``,
    summing ``factor`` consecutive bins: the book's only layout switch."""
    return _rebinned(np.asarray(array, dtype=np.float32).transpose(1, 2, 0), factor)


def _rebinned(array: np.ndarray, factor: int) -> np.ndarray:
    """float32 ``(n_trials, n_bins // factor, n_neurons)`` from ``(n_trials, n_bins,
    n_neurons)``, summing ``factor`` consecutive bins."""
    out = np.asarray(array, dtype=np.float32)
    if factor > 1:
        n_trials, n_bins, n_neurons = out.shape
        out = out.reshape(n_trials, n_bins // factor, factor, n_neurons).sum(axis=2)
    return np.ascontiguousarray(out)
