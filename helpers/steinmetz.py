"""The real Steinmetz et al. (2019) recordings, as the course distributes them (chapter 1).

- :func:`load_session`: a real session (downloaded once, then cached one file per session) or,
  when the real data cannot be had, its simulated stand-in from :mod:`helpers.surrogate`.
- :func:`list_sessions`: the 39 sessions as a table, from the cache where a session is cached
  and from the published catalogue (:data:`~helpers.catalogue.SESSIONS`) otherwise.
- :func:`read_steinmetz_npz`: parse one of the course's files directly.
- :func:`data_dir`, :func:`available_source`: where the data live and which source you get.

Environment variables: ``STEINMETZ_SOURCE`` (``real``, ``simulated`` or ``auto``) forces the
source; ``STEINMETZ_DATA_DIR`` moves the cache (see ``data/README.md``).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pooch

from helpers.catalogue import EXAMPLE_SESSION, SESSIONS, SessionInfo, resolve_session
from helpers.session import (
    BEHAVIOUR_NAMES,
    OTHER_REGION,
    REGION_GROUPS,
    Session,
    region_of,
)
from helpers.surrogate import simulated_session

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "load_session", "list_sessions", "available_source", "data_dir", "describe_data_dir",
    "read_steinmetz_npz",
    "split_course_file", "download_course_file", "DataFormatError", "DataUnavailableError",
    "COURSE_FILES", "SOURCES",
]


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
_CACHE_FORMAT = 2  # bump when the per-session layout changes: old files are then rebuilt
# (format 2 keeps the per-bin behaviour: wheel, pupil, face, licks)
_CONNECT_TIMEOUT_S = 10.0  # seconds to wait for the server to accept a connection
_READ_TIMEOUT_S = 60.0  # seconds of silence tolerated in the middle of a download
_PROBE_TIMEOUT_S = 5.0  # seconds for the quick "is there a network?" check (DNS included)


class _NetworkState:
    """Why the last download failed in this process (``None``: no failure yet)."""

    failure: str | None = None


_NETWORK = _NetworkState()


def _folder(path: str | os.PathLike[str] | None = None) -> Path:
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


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds the course files and the per-session cache: ``path`` if given,
    else ``$STEINMETZ_DATA_DIR``, else the checkout's ``data/``, else ``~/.cache/steinmetz``."""
    return _folder(path)


def describe_data_dir(path: str | os.PathLike[str] | None = None) -> str:
    """:func:`data_dir` as a reader should see it: relative to the working folder or to ``~``
    when it lies inside one of them (an absolute path otherwise)."""
    return _shown(_folder(path))


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
    behaviour = _behaviour_from_course(entry, where)
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
            behaviour=behaviour,
        )
    except DataFormatError:
        raise
    except (ValueError, TypeError) as err:
        raise DataFormatError(f"{where} is inconsistent: {err}") from err
    # the codes were checked against {-1, 0, 1} above, so the cast is exact
    session.feedback_type = session.feedback_type.astype(np.int64)
    session.response = session.response.astype(np.int64)
    return session


def _behaviour_from_course(entry: dict[str, Any], where: str) -> dict[str, np.ndarray]:
    """The per-bin behaviour of one ``dat`` entry in the Session's layout: the course's
    ``(k, n_trials, n_bins)`` becomes ``(n_trials, n_bins)`` for k = 1, else
    ``(n_trials, n_bins, k)``."""
    behaviour = {}
    for name in BEHAVIOUR_NAMES:
        if name not in entry:
            continue
        value = np.asarray(entry[name])
        if value.ndim != 3 or not np.issubdtype(value.dtype, np.number):
            raise DataFormatError(f"{where}: {name} must be a numeric (k, n_trials, n_bins) "
                                  f"array as in the course's files, got shape {value.shape}, "
                                  f"dtype {value.dtype}.")
        value = np.moveaxis(value, 0, -1)
        behaviour[name] = value[..., 0] if value.shape[-1] == 1 else value
    return behaviour


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
    arrays.update({f"behaviour_{key}": value for key, value in session.behaviour.items()})
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
    behaviour = {key[len("behaviour_"):]: value for key, value in arrays.items()
                 if key.startswith("behaviour_")}
    try:
        return Session(
            spikes=arrays["spikes"], brain_area=arrays["brain_area"],
            contrast_left=arrays["contrast_left"], contrast_right=arrays["contrast_right"],
            feedback_type=arrays["feedback_type"], response=arrays["response"],
            bin_size=float(arrays["bin_size"]), stim_onset=float(arrays["stim_onset"]),
            mouse_name=str(arrays["mouse_name"]), date_exp=str(arrays["date_exp"]),
            source="real", events=events, behaviour=behaviour,
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
    fname = f"steinmetz_part{part}.npz"
    if fname not in COURSE_FILES:
        raise ValueError(f"part must be 0, 1 or 2, got {part!r}.")
    directory, url = Path(directory), COURSE_FILES[fname]
    if (directory / fname).is_file():
        return directory / fname
    import requests  # pooch's own dependency; imported here to keep `import helpers` fast

    reason = _NETWORK.failure if (_NETWORK.failure and not retry) else _probe_network(url)
    if reason is None:
        try:
            pooch.retrieve(url, known_hash=None, fname=fname, path=directory,
                           downloader=_make_downloader())
            return directory / fname
        except requests.exceptions.RequestException as err:
            reason = f"{type(err).__name__}: {err}"
    _NETWORK.failure = reason
    files = ", ".join(f"{name} ({address})" for name, address in COURSE_FILES.items())
    raise DataUnavailableError(
        f"Could not download {fname} from {url}: {reason}. There seems to be no internet "
        "connection (or osf.io is down). Set the environment variable STEINMETZ_SOURCE=simulated "
        f"to work with simulated data, or download the files by hand into {directory}: {files}.",
        reason=reason,
    )


# =============================================================================================
# Loading a session
# =============================================================================================
def _cache_format(path: Path) -> int | None:
    """The format number of a cached session file (``None`` when it cannot be read: the
    load then reports the damaged file)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return int(npz["format"]) if "format" in npz.files else -1
    except Exception:  # noqa: BLE001 - reported with a fix by _session_from_cache
        return None


def _load_real(index: int, directory: Path, *, retry: bool) -> Session:
    """The real session ``index``: from the per-session cache, building it the first time."""
    path = _session_path(directory, index)
    stale = path.is_file() and _cache_format(path) not in (_CACHE_FORMAT, None)
    if stale or not path.is_file():  # a stale file (older helpers) is rewritten in place
        part, fname = _part_of(index)
        part_path = download_course_file(part, directory, retry=retry)
        written = split_course_file(part_path, part, directory)
        if not path.is_file() or index not in written:
            raise DataFormatError(f"{part_path} holds sessions {written} but not session {index}. "
                                  f"{_fix_hint(part_path)}")
    return _session_from_cache(path)


def _in_brief(reason: str) -> str:
    """A download failure in two words, for one-line notices (no exception text)."""
    return "no internet" if "reach" in reason or "answer" in reason else "download failed"


def _fallback_notice(index: int, reason: str) -> str:
    """One short line: which session is simulated and why (no paths, no exception text)."""
    why = _in_brief(reason)
    return (f"Note: SIMULATED session {index} ({SESSIONS[index].name}), {why}; "
            "see helpers.available_source().")  # <= 100 characters for every session


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
    directory = _folder(data_dir)
    index = resolve_session(session, extra_names=_cached_names(directory))
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
        print(_fallback_notice(index, err.reason))
        return simulated_session(index)
    if verbose:
        print(f"Loaded real session {index} ({result.name}) from the cache in {_shown(directory)}.")
        if isinstance(session, str) and _words(session) != _words(result.name):
            print(f"Note: the course file names session {index} {result.name!r}.")
    return result


def available_source(session: int | str = EXAMPLE_SESSION, *,
                     data_dir: str | os.PathLike[str] | None = None) -> str:
    """Which source :func:`load_session` will use for ``session``, and why, in one line.

    Downloads nothing; it checks the cache and, if needed, whether osf.io answers (seconds).
    """
    chosen = _resolve_source("auto")
    directory = _folder(data_dir)
    index = resolve_session(session, extra_names=_cached_names(directory))
    if chosen == "simulated":
        return "simulated (STEINMETZ_SOURCE=simulated)"
    part, fname = _part_of(index)
    if _session_path(directory, index).is_file() or (directory / fname).is_file():
        return f"real (cached in {_shown(directory)})"
    _NETWORK.failure = _NETWORK.failure or _probe_network(COURSE_FILES[fname])
    if _NETWORK.failure is None:
        return f"real (downloaded from osf.io into {_shown(directory)} on first use)"
    if chosen == "real":
        return f"real requested (STEINMETZ_SOURCE=real), but {_in_brief(_NETWORK.failure)}"
    return f"simulated ({_in_brief(_NETWORK.failure)}; real data once osf.io can be reached)"


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


def _catalogue_summary(info: SessionInfo) -> dict[str, Any]:
    return {"index": info.index, "mouse": info.mouse_name, "date": info.date_exp,
            "n_neurons": info.n_neurons, "n_trials": info.n_trials,
            "source": f"catalogue ({info.confidence})", **info.region_counts()}


def _words(name: str) -> list[str]:
    """A session name as :func:`~helpers.catalogue.resolve_session` compares it (case, spaces and
    underscores do not matter)."""
    return name.lower().replace("_", " ").split()


def _shown(path: Path) -> str:
    """A path as a reader should see it: relative to the working folder or to ``~``."""
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        if path.is_relative_to(base):
            return prefix + str(path.relative_to(base))
    return str(path)


def list_sessions(*, source: str = "auto",
                  data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The 39 sessions as a table: one row per session, neurons per region group in columns.

    Rows come from the real per-session cache when a session is cached (``source`` column
    ``"real"``, unless the source is forced to ``"simulated"``) and otherwise from the published
    catalogue :data:`~helpers.catalogue.SESSIONS` (``source`` says ``"catalogue (...)"`` and how
    many sources agree); a simulated session copies its catalogue row. Nothing is downloaded.

    Returns:
        A ``pandas.DataFrame`` indexed by session index (0-38), with columns ``mouse``,
        ``date``, ``n_neurons``, ``n_trials``, ``source`` and one count column per region group
        of :data:`REGION_GROUPS` plus ``"other"``.
    """
    import pandas as pd

    chosen = _resolve_source(source)
    directory = _folder(data_dir)
    rows = []
    for info in SESSIONS:
        path = _session_path(directory, info.index)
        real = _cached_summary(path) if chosen != "simulated" and path.is_file() else None
        rows.append(real or _catalogue_summary(info))
    return pd.DataFrame(rows).set_index("index")


