"""The Steinmetz et al. (2019) data as the course distributes it (chapter 1).

- :class:`Session`: one recording session, with spike counts shaped
  ``(n_neurons, n_trials, n_bins)`` exactly as in the course's ``spks`` array.
- :func:`load_session`: a real session (downloaded once, then cached one file per session) or
  its simulated stand-in; :func:`list_sessions` and :data:`SESSIONS` describe all 39.
- :func:`read_steinmetz_npz`: parse one of the course's files directly.
- :func:`split_trials` and :func:`balance_trials`: train/test splits and class balancing
  without replacement (chapters 2-4).

Environment variables: ``STEINMETZ_SOURCE`` (``real``, ``simulated`` or ``auto``) forces the
source; ``STEINMETZ_DATA_DIR`` moves the cache (see ``data/README.md``).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import socket
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pooch

if TYPE_CHECKING:
    import pandas as pd

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


# =============================================================================================
# Errors
# =============================================================================================
class DataFormatError(ValueError):
    """A course file or a cached session is corrupted or does not have the course's structure."""


class DataUnavailableError(ConnectionError):
    """Real data were requested but could not be downloaded (no internet, server error).

    Attributes:
        reason: the short cause, e.g. ``"cannot reach osf.io (gaierror: ...)"``.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


# =============================================================================================
# The 39 sessions
# =============================================================================================
@dataclass(frozen=True)
class SessionInfo:
    """One row of :data:`SESSIONS`: what the book knows about a session before loading it.

    Attributes:
        index: position in the course's ``alldat`` (0-38).
        mouse_name, date_exp: the session's name, e.g. ``"Lederberg"``, ``"2017-12-05"``.
        n_neurons: number of neurons (known for sessions 0-25; a plausible stand-in for 26-38).
        n_trials: number of trials (known for session 11 only; plausible stand-ins elsewhere).
    """

    index: int
    mouse_name: str
    date_exp: str
    n_neurons: int
    n_trials: int

    @property
    def name(self) -> str:
        """``"Mouse YYYY-MM-DD"``."""
        return f"{self.mouse_name} {self.date_exp}"


# Mouse names and dates are the course's list as remembered; neuron counts of sessions 0-25 are
# the course's. Neuron counts of 26-38 and all trial counts except session 11's 340 are
# placeholders in the real range, used only to lay out *simulated* sessions: the real files
# carry their own names and sizes, and real sessions always report those.
_SESSION_TABLE = """
Cori 2016-12-14 734 214;Cori 2016-12-17 1070 251;Cori 2016-12-18 619 228
Forssmann 2017-11-01 1769 249;Forssmann 2017-11-02 1077 254;Forssmann 2017-11-04 1169 290
Forssmann 2017-11-05 584 252;Hench 2017-06-15 1156 250;Hench 2017-06-16 788 372
Hench 2017-06-17 1172 447;Hench 2017-06-18 857 342;Lederberg 2017-12-05 698 340
Lederberg 2017-12-06 983 300;Lederberg 2017-12-07 756 268;Lederberg 2017-12-08 743 404
Lederberg 2017-12-09 474 280;Lederberg 2017-12-10 565 224;Lederberg 2017-12-11 1090 316
Moniz 2017-05-15 606 247;Moniz 2017-05-16 899 235;Moniz 2017-05-18 578 206
Muller 2017-01-07 646 444;Muller 2017-01-08 1268 212;Muller 2017-01-09 1337 231
Radnitz 2017-01-08 885 261;Radnitz 2017-01-09 1056 220;Radnitz 2017-01-10 1210 253
Radnitz 2017-01-11 842 205;Radnitz 2017-01-12 1071 237;Richards 2017-10-29 1159 260
Richards 2017-10-30 677 215;Richards 2017-10-31 1022 296;Richards 2017-11-01 897 311
Richards 2017-11-02 1102 258;Tatum 2017-12-06 1047 225;Tatum 2017-12-07 724 209
Tatum 2017-12-08 1091 343;Tatum 2017-12-09 1064 262;Theiler 2017-10-11 553 444
"""

#: The 39 sessions of the course's files, in ``alldat`` order (index 0-38).
SESSIONS: tuple[SessionInfo, ...] = tuple(
    SessionInfo(index, mouse, date, int(neurons), int(trials))
    for index, (mouse, date, neurons, trials) in enumerate(
        row.split() for row in _SESSION_TABLE.replace("\n", ";").split(";") if row.strip()
    )
)
#: The example session of the original project, ``alldat[11]``.
EXAMPLE_SESSION = 11
_LEDERBERG_EXAMPLE = EXAMPLE_SESSION
#: Session 17's thalamus, known from the course data (neurons per acronym).
_KNOWN_AREA_COUNTS = {17: {"LGd": 89, "TH": 175}}

# =============================================================================================
# Where the data live
# =============================================================================================
#: The course's three files (each about 13 sessions) and where to download them.
COURSE_FILES: dict[str, str] = {
    "steinmetz_part0.npz": "https://osf.io/agvxh/download",
    "steinmetz_part1.npz": "https://osf.io/uv3mw/download",
    "steinmetz_part2.npz": "https://osf.io/ehmw2/download",
}
SESSIONS_PER_PART = 13
SOURCES = ("auto", "real", "simulated")
CACHE_SUBDIR = "steinmetz_sessions"  # one uncompressed, pickle-free .npz per session
_CACHE_FORMAT = 1  # bump when the per-session layout changes: old files are then rebuilt
_CONNECT_TIMEOUT_S = 10.0  # seconds to wait for the server to accept a connection
_READ_TIMEOUT_S = 60.0  # seconds of silence tolerated in the middle of a download
_PROBE_TIMEOUT_S = 5.0  # seconds for the quick "is there a network?" check (DNS included)
_network_failure: str | None = None  # why the last download failed, remembered per process


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds the course files and the per-session cache.

    In order: ``path`` if given, else ``$STEINMETZ_DATA_DIR``, else ``data/`` of the repository
    when ``helpers`` runs from a checkout, else the user cache (``~/.cache/steinmetz`` on Linux,
    e.g. on Colab). The folder is not created here.
    """
    if path is None:
        path = os.environ.get("STEINMETZ_DATA_DIR") or None
    if path is not None:
        return Path(path).expanduser().resolve()
    root = Path(__file__).resolve().parent.parent
    if (root / "data" / "README.md").is_file() or (root / "pyproject.toml").is_file():
        return root / "data"
    return Path(pooch.os_cache("steinmetz"))


_get_data_dir = data_dir  # for functions whose ``data_dir`` argument hides the function


def _resolve_source(source: str) -> str:
    """The argument, unless ``$STEINMETZ_SOURCE`` forces another source."""
    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}: use one of {SOURCES}.")
    forced = os.environ.get("STEINMETZ_SOURCE", "").strip().lower()
    if not forced:
        return source
    if forced not in SOURCES:
        raise ValueError(
            f"STEINMETZ_SOURCE={forced!r} is not a source: set it to one of {SOURCES} or unset it."
        )
    return forced


def _session_path(directory: Path, index: int) -> Path:
    return directory / CACHE_SUBDIR / f"session_{index:02d}.npz"


def _part_of(index: int) -> tuple[int, str]:
    part = index // SESSIONS_PER_PART
    return part, f"steinmetz_part{part}.npz"


# =============================================================================================
# Naming sessions
# =============================================================================================
def _normalise(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


def _cached_names(directory: Path) -> dict[int, str]:
    """Names of the real sessions already in the per-session cache (the files' own names)."""
    names = {}
    for path in sorted((directory / CACHE_SUBDIR).glob("session_*.npz")):
        try:
            with np.load(path, allow_pickle=False) as npz:
                names[int(npz["index"])] = f"{npz['mouse_name']} {npz['date_exp']}"
        except Exception:  # noqa: BLE001 - an unreadable file is reported when it is loaded
            continue
    return names


def resolve_session(session: int | str, *, data_dir: str | os.PathLike[str] | None = None) -> int:
    """The index (0-38) of a session given as an index or as a name like ``"Lederberg 2017-12-05"``.

    Names are case- and space-tolerant (``"lederberg  2017-12-05"`` works). Names found in the
    real cache take precedence over the book's table :data:`SESSIONS`.

    Raises:
        ValueError: the index is out of range or the name is unknown (close names are suggested).
    """
    n = len(SESSIONS)
    if isinstance(session, str) and session.strip().isdigit():
        session = int(session)
    if isinstance(session, (bool, np.bool_)) or not isinstance(session, (int, np.integer, str)):
        raise TypeError(f"session must be an index 0-{n - 1} or a name, got {session!r}.")
    if not isinstance(session, str):
        if not 0 <= session < n:
            raise ValueError(
                f"Session index {session} is out of range: the Steinmetz data have {n} sessions, "
                f"0-{n - 1}. See helpers.data.list_sessions()."
            )
        return int(session)
    names = {info.index: info.name for info in SESSIONS}
    names.update(_cached_names(_get_data_dir(data_dir)))
    lookup = {_normalise(name): index for index, name in names.items()}
    key = _normalise(session)
    if key in lookup:
        return lookup[key]
    close = difflib.get_close_matches(key, list(lookup), n=3, cutoff=0.6)
    hint = f" Did you mean {[names[lookup[c]] for c in close]}?" if close else ""
    raise ValueError(
        f"Unknown session {session!r}.{hint} Names look like 'Lederberg 2017-12-05' "
        f"('Mouse YYYY-MM-DD'); helpers.data.list_sessions() lists all {n}."
    )


# =============================================================================================
# Reading the course's files
# =============================================================================================
_REQUIRED_KEYS = ("spks", "brain_area", "contrast_left", "contrast_right", "response",
                  "feedback_type", "mouse_name", "date_exp", "bin_size", "stim_onset")
_EVENT_KEYS = ("gocue", "response_time", "feedback_time")  # (n_trials, 1) in the files


def _fix_hint(path: Path) -> str:
    return (f"Delete {path} and call load_session again to download a fresh copy "
            f"(or download it by hand from {COURSE_FILES.get(path.name, 'the course')}).")


def _load_dat(path: str | os.PathLike[str]) -> np.ndarray:
    """The ``dat`` object array of a course file, with clear errors for broken files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No course file at {path}. load_session(..., source='real') downloads it, or "
            f"download it by hand from {COURSE_FILES.get(path.name, 'the course (osf.io)')}."
        )
    try:
        with np.load(path, allow_pickle=True) as npz:
            if "dat" not in npz.files:
                raise DataFormatError(f"{path} has no 'dat' array (it has {npz.files}): it is "
                                      f"not one of the course's files. {_fix_hint(path)}")
            dat = npz["dat"]
    except DataFormatError:
        raise
    except Exception as err:  # zip, pickle, EOF and OS errors of a truncated or corrupted file
        raise DataFormatError(f"{path} could not be read ({type(err).__name__}: {err}); it is "
                              f"probably a truncated or corrupted download. {_fix_hint(path)}"
                              ) from err
    if dat.dtype != object or dat.ndim != 1 or not all(isinstance(d, dict) for d in dat):
        raise DataFormatError(f"{path}: 'dat' must be a 1-D object array of dicts (one per "
                              f"session), got dtype {dat.dtype}, shape {dat.shape}. "
                              f"{_fix_hint(path)}")
    return dat


def _compact_counts(spks: np.ndarray, where: str) -> np.ndarray:
    """Spike counts in the smallest unsigned integer type that holds them (uint8 in practice)."""
    spks = np.asarray(spks)
    if spks.ndim != 3:
        raise DataFormatError(f"{where}: spks must be (n_neurons, n_trials, n_bins), "
                              f"got shape {spks.shape}.")
    if spks.size == 0:
        return spks.astype(np.uint8)
    if not np.issubdtype(spks.dtype, np.integer):
        if not np.issubdtype(spks.dtype, np.number) or np.any(spks != np.floor(spks)):
            raise DataFormatError(f"{where}: spks must hold whole spike counts.")
    low, high = spks.min(), spks.max()
    if low < 0 or not np.isfinite(high):
        raise DataFormatError(f"{where}: spks must be non-negative finite counts.")
    dtype = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if high <= np.iinfo(t).max)
    return spks.astype(dtype, copy=False)


def _session_from_dict(entry: dict[str, Any], where: str) -> Session:
    """Validate one ``dat`` entry and turn it into a real :class:`Session`."""
    missing = [key for key in _REQUIRED_KEYS if key not in entry]
    if missing:
        raise DataFormatError(f"{where} lacks the key(s) {missing}: it is not in the course's "
                              "format (or the file is damaged).")
    events = {key: entry[key] for key in _EVENT_KEYS if key in entry}
    try:
        session = Session(
            spikes=_compact_counts(entry["spks"], where),
            brain_area=np.asarray(entry["brain_area"]).astype(str),
            contrast_left=np.asarray(entry["contrast_left"], dtype=float),
            contrast_right=np.asarray(entry["contrast_right"], dtype=float),
            feedback_type=np.asarray(entry["feedback_type"], dtype=float),
            response=np.asarray(entry["response"], dtype=float),
            bin_size=float(entry["bin_size"]),
            stim_onset=float(entry["stim_onset"]),
            mouse_name=str(entry["mouse_name"]).strip(),
            date_exp=str(entry["date_exp"]).strip(),
            source="real",
            events=events,
        )
    except DataFormatError:
        raise
    except (ValueError, TypeError) as err:
        raise DataFormatError(f"{where} is inconsistent: {err}") from err
    # the codes were checked against {-1, 0, 1} above, so the cast is exact
    session.feedback_type = session.feedback_type.astype(np.int64)
    session.response = session.response.astype(np.int64)
    return session


def read_steinmetz_npz(path: str | os.PathLike[str]) -> list[Session]:
    """Parse one of the course's files (``steinmetz_part0.npz`` ...) into sessions.

    The file is ``np.load(path, allow_pickle=True)['dat']``, an object array of dicts (``spks``
    ``(n_neurons, n_trials, n_bins)``, ``brain_area``, per-trial arrays, some shaped
    ``(n_trials, 1)``). It is pickled: only open files you downloaded from the course. Acronyms
    are stripped of stray whitespace (``" TT"``), counts become ``uint8``, per-trial arrays 1-D.

    Args:
        path: the ``.npz`` file.

    Returns:
        One real :class:`Session` per entry, in the file's order.

    Raises:
        FileNotFoundError: no such file.
        DataFormatError: the file is truncated, corrupted or not in the course's format; the
            message says what is wrong and how to fix it.
    """
    dat = _load_dat(path)
    return [_session_from_dict(entry, f"{Path(path).name}, session {i}")
            for i, entry in enumerate(dat)]


# =============================================================================================
# The per-session cache: one pickle-free .npz per session
# =============================================================================================
def _write_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to a temporary file next to ``path``, then rename: never a half file."""
    pickled = [key for key, value in arrays.items() if np.asarray(value).dtype == object]
    if pickled:  # (np.savez only gained allow_pickle=False in NumPy 2)
        raise TypeError(f"refusing to cache object arrays {pickled}: they would need pickle.")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _session_to_arrays(session: Session, index: int, part: int) -> dict[str, np.ndarray]:
    arrays = {
        "format": np.array(_CACHE_FORMAT), "index": np.array(index), "part": np.array(part),
        "spikes": session.spikes, "brain_area": session.brain_area.astype(str),
        "mouse_name": np.array(session.mouse_name), "date_exp": np.array(session.date_exp),
        "bin_size": np.array(session.bin_size), "stim_onset": np.array(session.stim_onset),
    }
    for name in ("contrast_left", "contrast_right", "feedback_type", "response"):
        arrays[name] = getattr(session, name)
    arrays.update({f"event_{key}": value for key, value in session.events.items()})
    return arrays


def _session_from_cache(path: Path) -> Session:
    """Read one per-session cache file (no pickles) back into a real :class:`Session`."""
    fix = (f"Delete {path} and call load_session again: it is rebuilt from the course file "
           "(downloaded again if needed).")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except Exception as err:  # truncated zip, wrong file, disk error
        raise DataFormatError(f"The cached session {path} is unreadable "
                              f"({type(err).__name__}: {err}). {fix}") from err
    if arrays.get("format", np.array(-1)).item() != _CACHE_FORMAT:
        raise DataFormatError(f"The cached session {path} was written by another version of "
                              f"helpers. {fix}")
    events = {key[len("event_"):]: value for key, value in arrays.items()
              if key.startswith("event_")}
    try:
        return Session(
            spikes=arrays["spikes"], brain_area=arrays["brain_area"],
            contrast_left=arrays["contrast_left"], contrast_right=arrays["contrast_right"],
            feedback_type=arrays["feedback_type"], response=arrays["response"],
            bin_size=float(arrays["bin_size"]), stim_onset=float(arrays["stim_onset"]),
            mouse_name=str(arrays["mouse_name"]), date_exp=str(arrays["date_exp"]),
            source="real", events=events,
        )
    except (KeyError, ValueError) as err:
        raise DataFormatError(f"The cached session {path} is inconsistent ({err}). {fix}") from err


def split_course_file(part_path: str | os.PathLike[str], part: int,
                      directory: str | os.PathLike[str]) -> list[int]:
    """Split one course file into the per-session cache (done once, by :func:`load_session`).

    Session ``i`` of ``steinmetz_part{part}.npz`` becomes ``<directory>/steinmetz_sessions/
    session_{13 * part + i:02d}.npz``: uncompressed, no pickles, strings as fixed-width
    unicode, written to a temporary file and renamed, so an interrupted split leaves no half
    file.

    Returns:
        The indices (0-38) of the sessions written.
    """
    sessions = read_steinmetz_npz(part_path)
    if len(sessions) > SESSIONS_PER_PART:
        raise DataFormatError(f"{part_path} holds {len(sessions)} sessions, more than the course's "
                              f"{SESSIONS_PER_PART} per file. {_fix_hint(Path(part_path))}")
    indices = []
    for local, session in enumerate(sessions):
        index = part * SESSIONS_PER_PART + local
        arrays = _session_to_arrays(session, index, part)
        _write_atomically(_session_path(Path(directory), index), arrays)
        indices.append(index)
    return indices


# =============================================================================================
# Downloading
# =============================================================================================
def _probe_network(url: str, timeout: float = _PROBE_TIMEOUT_S) -> str | None:
    """Why the host of ``url`` cannot be reached, or ``None`` when it can, within ``timeout`` s.

    Name resolution has no timeout of its own, so the check runs in a daemon thread. Behind a
    proxy (``HTTPS_PROXY``) a direct connection proves nothing, and the check is skipped.
    """
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY")):
        return None
    host = urllib.parse.urlsplit(url).hostname or url
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            outcome.append(None)
        except OSError as err:
            outcome.append(f"cannot reach {host} ({type(err).__name__}: {err})")

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else f"no answer from {host} within {timeout:g} s"


def _make_downloader() -> Any:
    """pooch's HTTP downloader with a progress bar and short timeouts (connect, read) in s."""
    return pooch.HTTPDownloader(progressbar=True, timeout=(_CONNECT_TIMEOUT_S, _READ_TIMEOUT_S))


def download_course_file(part: int, directory: str | os.PathLike[str], *,
                         retry: bool = True) -> Path:
    """Download ``steinmetz_part{part}.npz`` into ``directory`` unless it is already there.

    pooch streams the download into a temporary file in ``directory`` and renames it only when
    complete, so a failed or interrupted download leaves nothing behind. The course publishes no
    checksums; :func:`read_steinmetz_npz` checks the structure instead.

    Args:
        part: 0, 1 or 2.
        directory: the data folder (see :func:`data_dir`).
        retry: try again even if a download already failed in this process (with ``False``,
            fail at once with the remembered reason).

    Raises:
        DataUnavailableError: no internet, or the server did not deliver the file.
    """
    global _network_failure
    fname = f"steinmetz_part{part}.npz"
    if fname not in COURSE_FILES:
        raise ValueError(f"part must be 0, 1 or 2, got {part!r}.")
    directory, url = Path(directory), COURSE_FILES[fname]
    if (directory / fname).is_file():
        return directory / fname
    import requests  # pooch's own dependency; imported here to keep `import helpers` fast

    reason = _network_failure if (_network_failure and not retry) else _probe_network(url)
    if reason is None:
        try:
            pooch.retrieve(url, known_hash=None, fname=fname, path=directory,
                           downloader=_make_downloader())
            return directory / fname
        except requests.exceptions.RequestException as err:
            reason = f"{type(err).__name__}: {err}"
    _network_failure = reason
    files = ", ".join(f"{name} ({address})" for name, address in COURSE_FILES.items())
    raise DataUnavailableError(
        f"Could not download {fname} from {url}: {reason}. There seems to be no internet "
        "connection (or osf.io is down). Set the environment variable STEINMETZ_SOURCE=simulated "
        f"to work with simulated data, or download the files by hand into {directory}: {files}.",
        reason=reason,
    )


# =============================================================================================
# Simulated sessions
# =============================================================================================
def _with_known_areas(counts: dict[str, int], known: dict[str, int],
                      n_neurons: int) -> dict[str, int]:
    """Replace the groups of the ``known`` acronyms, rescaling the rest to keep ``n_neurons``."""
    groups = {_AREA_TO_REGION.get(area, OTHER_REGION) for area in known}
    rest = {a: c for a, c in counts.items() if _AREA_TO_REGION.get(a, OTHER_REGION) not in groups}
    room = n_neurons - sum(known.values())
    scaled = np.array(list(rest.values()), dtype=float) * room / max(sum(rest.values()), 1)
    whole = np.floor(scaled).astype(int)
    whole[np.argsort(whole - scaled)[: room - whole.sum()]] += 1  # largest remainders
    return {**dict(zip(rest, whole.tolist(), strict=True)), **known}


def session_layout(session: int | str) -> dict[str, int]:
    """Neurons per brain-area acronym of the *simulated* version of a session.

    Session 11 (Lederberg 2017-12-05) uses the surrogate's default layout, modelled on the real
    one; session 17 has its real thalamus (LGd 89, TH 175); the others draw a plausible layout
    with ``n_neurons`` from :data:`SESSIONS`.
    """
    from helpers import surrogate

    index = resolve_session(session)
    info = SESSIONS[index]
    if index == _LEDERBERG_EXAMPLE:
        return dict(surrogate.DEFAULT_AREA_COUNTS)
    counts = dict(surrogate.default_area_counts(info.n_neurons, seed=index))
    if index in _KNOWN_AREA_COUNTS:
        counts = _with_known_areas(counts, _KNOWN_AREA_COUNTS[index], info.n_neurons)
    return counts


_last_simulated: dict[int, Session] = {}  # the most recent simulated session, kept in memory


def simulated_session(session: int | str) -> Session:
    """The simulated stand-in for a session: same layout and trial count, seed = its index.

    Nothing is written to disk. The most recent one is kept in memory, so loading it again is
    instant; each call returns a fresh :class:`Session` object (the arrays are shared: do not
    modify them in place). See :mod:`helpers.surrogate` for what is simulated.
    """
    from helpers import surrogate

    index = resolve_session(session)
    if index not in _last_simulated:
        info = SESSIONS[index]
        _last_simulated.clear()
        _last_simulated[index] = surrogate.make_session(
            seed=index, n_trials=info.n_trials, area_counts=session_layout(index),
            mouse_name=info.mouse_name, date_exp=info.date_exp,
        )
    return replace(_last_simulated[index])


# =============================================================================================
# Loading a session
# =============================================================================================
def _load_real(index: int, directory: Path, *, retry: bool) -> Session:
    """The real session ``index``: from the per-session cache, building it the first time."""
    path = _session_path(directory, index)
    if not path.is_file():
        part, fname = _part_of(index)
        part_path = download_course_file(part, directory, retry=retry)
        written = split_course_file(part_path, part, directory)
        if not path.is_file():
            raise DataFormatError(f"{part_path} holds sessions {written} but not session {index}. "
                                  f"{_fix_hint(part_path)}")
    return _session_from_cache(path)


def _simulation_banner(index: int, reason: str, directory: Path) -> str:
    rule = "=" * 78
    _, fname = _part_of(index)
    return (f"{rule}\nNOTE: using SIMULATED data for session {index} ({SESSIONS[index].name}).\n"
            f"Real data were unavailable: {reason}.\n"
            "The simulation has the real data's format and a known ground truth, but its numbers "
            "are not the\nrecording's. For real data, connect to the internet, or download "
            f"{fname} from {COURSE_FILES[fname]}\ninto {directory}. "
            f"Set STEINMETZ_SOURCE=simulated to silence this note.\n{rule}")


def load_session(session: int | str, *, source: str = "auto",
                 data_dir: str | os.PathLike[str] | None = None, verbose: bool = True) -> Session:
    """Load one session of the Steinmetz data (chapter 1).

    The first real load of a session downloads its course file (13 sessions, several hundred
    MB) and splits it into one small file per session; later loads read only that file (well
    under a second). Without internet, ``"auto"`` falls back within seconds and remembers the
    failure for the rest of the process.

    Args:
        session: an index 0-38 or a name like ``"Lederberg 2017-12-05"`` (case and spaces
            do not matter).
        source: ``"real"`` (download if needed; fail without internet), ``"simulated"`` (the
            stand-in of :func:`simulated_session`), or ``"auto"``: real data when cached or
            downloadable, else the simulation with a printed notice saying why. The environment
            variable ``STEINMETZ_SOURCE`` overrides this argument.
        data_dir: where the data live (default: :func:`data_dir`).
        verbose: print a line saying which source was used (the fallback notice always prints;
            it is printed rather than warned so that the book's ``-W`` build keeps working).

    Returns:
        A :class:`Session`; ``session.source`` says ``"real"`` or ``"simulated"``.

    Raises:
        ValueError: unknown session or source.
        DataUnavailableError: ``source="real"`` and the download failed (a ``ConnectionError``).
        DataFormatError: a cached file is corrupted; the message says which file to delete.
    """
    chosen = _resolve_source(source)
    directory = _get_data_dir(data_dir)
    index = resolve_session(session, data_dir=directory)
    if chosen == "simulated":
        if verbose:
            why = "STEINMETZ_SOURCE" if os.environ.get("STEINMETZ_SOURCE") else "source"
            print(f"Using simulated data for session {index} ({SESSIONS[index].name}): "
                  f"{why}='simulated'.")
        return simulated_session(index)
    try:
        result = _load_real(index, directory, retry=chosen == "real")
    except DataUnavailableError as err:
        if chosen == "real":
            raise
        print(_simulation_banner(index, err.reason, directory))
        return simulated_session(index)
    if verbose:
        where = _session_path(directory, index)
        print(f"Loaded real session {index} ({result.name}) from {where}.")
        if isinstance(session, str) and _normalise(session) != _normalise(result.name):
            print(f"Note: the course file names session {index} {result.name!r}.")
    return result


def available_source(session: int | str = EXAMPLE_SESSION, *,
                     data_dir: str | os.PathLike[str] | None = None) -> str:
    """Which source :func:`load_session` will use for ``session``, and why, in one line.

    Downloads nothing; it checks the cache and, if needed, whether osf.io answers (seconds).
    """
    global _network_failure
    chosen = _resolve_source("auto")
    directory = _get_data_dir(data_dir)
    index = resolve_session(session, data_dir=directory)
    if chosen == "simulated":
        return "simulated (STEINMETZ_SOURCE=simulated)"
    part, fname = _part_of(index)
    if _session_path(directory, index).is_file() or (directory / fname).is_file():
        return f"real (cached in {directory})"
    _network_failure = _network_failure or _probe_network(COURSE_FILES[fname])
    if _network_failure is None:
        return f"real (downloaded from osf.io into {directory} on first use)"
    if chosen == "real":
        return f"real was requested (STEINMETZ_SOURCE=real), but {_network_failure}"
    return f"simulated (no internet: {_network_failure})"


def _cached_summary(path: Path) -> dict[str, Any] | None:
    """Sizes and region counts of a cached real session, reading only its small arrays."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            areas, n_trials = npz["brain_area"], len(npz["contrast_left"])
            name = (str(npz["mouse_name"]), str(npz["date_exp"]), int(npz["index"]))
    except Exception:  # noqa: BLE001 - listed from the table instead; load_session reports it
        return None
    regions = region_of(areas)
    return {"index": name[2], "mouse": name[0], "date": name[1], "n_neurons": len(areas),
            "n_trials": n_trials, "source": "real",
            **{r: int(np.sum(regions == r)) for r in (*REGION_GROUPS, OTHER_REGION)}}


def _layout_summary(info: SessionInfo) -> dict[str, Any]:
    counts: dict[str, int] = {r: 0 for r in (*REGION_GROUPS, OTHER_REGION)}
    for area, n in session_layout(info.index).items():
        counts[_AREA_TO_REGION.get(area, OTHER_REGION)] += int(n)
    return {"index": info.index, "mouse": info.mouse_name, "date": info.date_exp,
            "n_neurons": sum(counts.values()), "n_trials": info.n_trials,
            "source": "simulated", **counts}


def list_sessions(*, source: str = "auto",
                  data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The 39 sessions as a table: one row per session, neurons per region group in columns.

    Rows come from the real per-session cache when a session is cached (``source`` column
    ``"real"``, unless the source is forced to ``"simulated"``) and from the simulated layout
    (:func:`session_layout`) otherwise. Nothing is downloaded.

    Returns:
        A ``pandas.DataFrame`` indexed by session index (0-38), with columns ``mouse``,
        ``date``, ``n_neurons``, ``n_trials``, ``source`` and one count column per region group
        of :data:`REGION_GROUPS` plus ``"other"``.
    """
    import pandas as pd

    chosen = _resolve_source(source)
    directory = _get_data_dir(data_dir)
    rows = []
    for info in SESSIONS:
        path = _session_path(directory, info.index)
        real = _cached_summary(path) if chosen != "simulated" and path.is_file() else None
        rows.append(real or _layout_summary(info))
    return pd.DataFrame(rows).set_index("index")


# =============================================================================================
# Splitting and balancing trials (chapters 2-4)
# =============================================================================================
def _labels_or_count(n_trials_or_labels: int | np.ndarray) -> tuple[int, np.ndarray | None]:
    if isinstance(n_trials_or_labels, (int, np.integer)) and not isinstance(
            n_trials_or_labels, (bool, np.bool_)):
        return int(n_trials_or_labels), None
    labels = np.asarray(n_trials_or_labels)
    if labels.ndim != 1:
        raise ValueError(f"Pass a number of trials or one label per trial (1-D), got an array "
                         f"of shape {labels.shape}.")
    return len(labels), labels


def split_trials(n_trials_or_labels: int | np.ndarray, test_fraction: float = 0.2, *,
                 seed: int = 0, stratify: bool | np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Split trials into train and test sets, without replacement (chapters 2-4).

    Args:
        n_trials_or_labels: the number of trials, or one label per trial, shape ``(n_trials,)``.
        test_fraction: share of trials in the test set, strictly between 0 and 1.
        seed: makes the split reproducible.
        stratify: keep each label's share equal in both sets. ``None``: stratify when labels
            were passed; ``True``/``False``: do or don't; an array ``(n_trials,)``: stratify by it.

    Returns:
        ``(train_idx, test_idx)``: sorted trial indices, disjoint, together every trial once.

    Raises:
        ValueError: fraction outside (0, 1), fewer than 2 trials, a set would be empty, labels of
            the wrong length, or (when stratifying) one class only or a class with one trial.
    """
    n, labels = _labels_or_count(n_trials_or_labels)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}.")
    n_test = math.ceil(n * test_fraction)
    if n < 2 or n_test >= n:
        raise ValueError(f"Cannot split {n} trials with test_fraction={test_fraction}: both "
                         "sets need at least one trial. Use more trials or another fraction.")
    strata = _strata(labels, stratify, n)
    if strata is not None:
        _check_classes(strata, minimum=2, what="stratify")
    from sklearn.model_selection import train_test_split

    try:
        train, test = train_test_split(
            np.arange(n), test_size=n_test, random_state=seed, shuffle=True, stratify=strata)
    except ValueError as err:  # e.g. fewer test trials than classes
        raise ValueError(f"Cannot stratify {n} trials into a test set of {n_test}: {err} "
                         "Use a larger test_fraction or stratify=False.") from err
    return np.sort(train), np.sort(test)


def _strata(labels: np.ndarray | None, stratify: bool | np.ndarray | None,
            n: int) -> np.ndarray | None:
    if stratify is None or isinstance(stratify, (bool, np.bool_)):
        if stratify and labels is None:
            raise ValueError("stratify=True needs labels: pass one label per trial, not a count.")
        return labels if stratify is not False else None
    strata = np.asarray(stratify)
    if strata.shape != (n,):
        raise ValueError(f"stratify must have one label per trial ({n}), got shape {strata.shape}.")
    return strata


def _check_classes(labels: np.ndarray, minimum: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"{what}: the labels have a single class {classes.tolist()}; there is "
                         "nothing to stratify or balance. Check the labels.")
    if counts.min() < minimum:
        rare = classes[counts < minimum].tolist()
        raise ValueError(f"{what}: class(es) {rare} have fewer than {minimum} trials "
                         f"(counts {dict(zip(classes.tolist(), counts.tolist(), strict=True))}).")
    return classes, counts


def balance_trials(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Undersample every class to the size of the smallest one (chapter 4).

    Args:
        labels: one label per trial, shape ``(n_trials,)`` (e.g. ``session.is_correct``).
        seed: makes the choice reproducible.

    Returns:
        Indices into ``labels``, shuffled, without repeats, ``n_classes * smallest`` of them.
        To balance a training set: ``train[balance_trials(labels[train], seed)]``.

    Raises:
        ValueError: labels not 1-D, a single class, or an empty class list.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}.")
    classes, counts = _check_classes(labels, minimum=1, what="balance_trials")
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == c), size=counts.min(), replace=False)
              for c in classes]
    return rng.permutation(np.concatenate(chosen))
