"""The Steinmetz et al. (2019) data as the course distributes it (chapter 1).

The central object is :class:`Session`: one recording session, with spike counts shaped
``(n_neurons, n_trials, n_bins)`` exactly as in the course's ``spks`` array.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

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
OTHER_REGION = "other"
_AREA_TO_REGION = {area: group for group, areas in REGION_GROUPS.items() for area in areas}


def region_of(areas: np.ndarray | list[str]) -> np.ndarray:
    """Map brain-area acronyms to region-group names (stray whitespace is ignored).

    Args:
        areas: acronyms, shape ``(n_neurons,)``, e.g. ``["VISp", " TT", "root"]``.

    Returns:
        Region-group names, shape ``(n_neurons,)``, e.g. ``["vis ctx", "other ctx", "other"]``.
    """
    names = [_AREA_TO_REGION.get(str(area).strip(), OTHER_REGION) for area in np.ravel(areas)]
    return np.array(names, dtype=object)


@dataclass
class Truth:
    """What a simulated session knows and a real one never does.

    Attributes:
        rates: the true firing rates, spikes per bin, same shape as ``Session.spikes``.
        latents: the latent variables, shape ``(n_trials, n_bins, n_latents)``.
        latent_names: one name per latent, shape ``(n_latents,)``.
        extra: other per-trial ground truth (e.g. ``"p_correct"``, the true chance that each
            trial was answered correctly).
    """

    rates: np.ndarray
    latents: np.ndarray
    latent_names: tuple[str, ...]
    extra: dict[str, np.ndarray] = field(default_factory=dict)

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


@dataclass(eq=False)
class Session:
    """One recording session in the course's format.

    Attributes:
        spikes: spike counts, int, shape ``(n_neurons, n_trials, n_bins)`` (the course's ``spks``).
        brain_area: Allen CCF acronym of each neuron, shape ``(n_neurons,)``.
        contrast_left: left stimulus contrast per trial in {0, .25, .5, 1}, shape ``(n_trials,)``.
        contrast_right: right stimulus contrast per trial, shape ``(n_trials,)``.
        feedback_type: +1 rewarded, -1 white-noise (error), shape ``(n_trials,)``.
        response: wheel choice per trial, +1 left, -1 right, 0 no-go; ``None`` if unknown.
        bin_size: bin width in seconds.
        stim_onset: stimulus onset, in seconds from the start of the first bin.
        mouse_name, date_exp: identify the session.
        source: ``"real"`` or ``"simulated"``.
        truth: ground truth for simulated sessions, ``None`` for real ones.
        events: per-trial event times in seconds from stimulus onset, each shape
            ``(n_trials,)``; real sessions carry ``"gocue"``, ``"response_time"`` and
            ``"feedback_time"``. Empty when unknown.
        region: region group of each neuron (derived from ``brain_area``).

    Real sessions store counts as ``uint8`` (8 times less memory than ``int64``): convert with
    ``spikes.astype(np.float32)`` before subtracting or feeding a model.
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
    region: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        spikes = np.asarray(self.spikes)
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
        self.spikes = spikes
        n_neurons, n_trials, _ = spikes.shape
        areas = [str(area).strip() for area in np.ravel(self.brain_area)]
        self.brain_area = np.array(areas, dtype=object)
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
        if self.source not in ("real", "simulated"):
            raise ValueError(f"source must be 'real' or 'simulated', got {self.source!r}.")
        if self.bin_size <= 0:
            raise ValueError(f"bin_size must be positive seconds, got {self.bin_size!r}.")
        if self.truth is not None and self.truth.rates.shape != spikes.shape:
            raise ValueError(
                f"truth.rates has shape {self.truth.rates.shape} but spikes {spikes.shape}."
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

    # ------------------------------------------------------------- subsetting
    def select(
        self, regions: str | list[str] | None = None, areas: str | list[str] | None = None
    ) -> Session:
        """A session with a subset of neurons; trials, behaviour and latents are kept.

        Args:
            regions: region group(s) to keep, e.g. ``"thal"`` or ``["vis ctx", "hipp"]``.
            areas: brain-area acronym(s) to keep, e.g. ``["LGd", "TH"]``. With both given,
                a neuron is kept when it matches either.

        Raises:
            ValueError: a name is not a known region group, or nothing matches.
        """
        if regions is None and areas is None:
            return replace(self)
        keep = np.zeros(self.n_neurons, dtype=bool)
        if regions is not None:
            regions = [regions] if isinstance(regions, str) else list(regions)
            unknown = [r for r in regions if r not in REGION_GROUPS and r != OTHER_REGION]
            if unknown:
                raise ValueError(
                    f"Unknown region group(s) {unknown}. Choose from "
                    f"{[*REGION_GROUPS, OTHER_REGION]}, or pass acronyms with areas=."
                )
            keep |= np.isin(self.region, regions)
        if areas is not None:
            areas = [areas] if isinstance(areas, str) else list(areas)
            keep |= np.isin(self.brain_area, [a.strip() for a in areas])
        if not keep.any():
            raise ValueError(
                f"No neurons in session {self.name} match regions={regions}, areas={areas}. "
                f"This session recorded: {self.regions_present}."
            )
        truth = self.truth
        if truth is not None:
            truth = replace(truth, rates=truth.rates[keep])
        return replace(
            self, spikes=self.spikes[keep], brain_area=self.brain_area[keep], truth=truth
        )

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


def _check_length(name: str, value: np.ndarray, expected: int, what: str) -> None:
    if len(value) != expected:
        raise ValueError(f"{name} has {len(value)} entries but spikes has {expected} ({what}).")


SESSION_FIELDS = tuple(f.name for f in fields(Session) if f.init)
