"""The real Steinmetz et al. (2019) recordings, as the course distributes them (chapter 1).

- :func:`load_session`: a real session (downloaded once, then cached one file per session) or,
  when the real data cannot be had, its simulated stand-in from :mod:`helpers.surrogate`.
- :func:`list_sessions`: the 39 sessions as a table, from the cache where a session is cached
  and from the published catalogue (:data:`~helpers.catalogue.SESSIONS`) otherwise.
- :func:`read_steinmetz_npz`: parse one of the course's files directly.
- :func:`data_dir`, :func:`available_source`: where the data live and which source you get.

Environment variables: ``STEINMETZ_SOURCE`` (``real``, ``simulated`` or ``auto``) forces the
source; ``STEINMETZ_DATA_DIR`` moves the cache; ``STEINMETZ_MIRROR`` (a base URL holding
``steinmetz_part0.npz`` ... ``steinmetz_part2.npz``, e.g. a lab server) replaces osf.io (see
``data/README.md``).

Nothing is lost or mislabelled: each session of a course file is checked against the catalogue
(mouse, date, trials, neurons) before it is cached, each cached file against its name, and a
course file against the SHA-256 recorded the first time it was split. Downloads and cache files
go through temporary files renamed when complete (:mod:`helpers.files`), readable by others as
the umask allows; a full or read-only folder is reported as such.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from helpers import files
from helpers.catalogue import EXAMPLE_SESSION, SESSIONS, SessionInfo, resolve_session
from helpers.files import DataFolderError, DataUnavailableError
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
    "split_course_file", "download_course_file", "course_url", "DataFormatError",
    "COURSE_FILES", "SOURCES",
]


# =============================================================================================
# Errors
# =============================================================================================

class DataFormatError(ValueError):
    """A course file or a cached session is corrupted, does not have the course's structure, or
    holds other sessions than its name says."""


# DataUnavailableError (no internet, a server error, a cut or stalled download) and
# DataFolderError (a read-only, full or unreadable data folder) live in helpers.files.


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
MIRROR_VARIABLE = "STEINMETZ_MIRROR"


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
    import pooch  # only for the user cache folder of each platform

    return Path(pooch.os_cache("steinmetz"))


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds the course files and the per-session cache: ``path`` if given,
    else ``$STEINMETZ_DATA_DIR``, else the checkout's ``data/``, else ``~/.cache/steinmetz``."""
    return _folder(path)


def describe_data_dir(path: str | os.PathLike[str] | None = None) -> str:
    """:func:`data_dir` as a reader should see it, never as an absolute path: relative to the
    working folder (``data``, ``../data``) or to ``~``, else ``$STEINMETZ_DATA_DIR`` or the
    folder's name."""
    folder = _folder(path)
    shown = _shown(folder)
    if shown is not None:
        return shown
    if os.environ.get("STEINMETZ_DATA_DIR") and _folder(None) == folder:
        return "$STEINMETZ_DATA_DIR"
    return f"a folder named {folder.name!r}"


def course_url(fname: str) -> str:
    """Where a course file is downloaded from: ``$STEINMETZ_MIRROR/<fname>`` when the variable
    is set (a lab server, a course's own bucket), else osf.io (:data:`COURSE_FILES`)."""
    if fname not in COURSE_FILES:
        raise ValueError(f"{fname!r} is not a course file: use one of {list(COURSE_FILES)}.")
    mirror = os.environ.get(MIRROR_VARIABLE, "").strip()
    if not mirror:
        return COURSE_FILES[fname]
    if urllib.parse.urlsplit(mirror).scheme not in ("http", "https"):
        raise ValueError(f"{MIRROR_VARIABLE}={mirror!r} is not an http:// or https:// URL: set it "
                         "to the base URL of a folder holding steinmetz_part0.npz ... "
                         "steinmetz_part2.npz, or unset it to download from osf.io.")
    return f"{mirror.rstrip('/')}/{fname}"


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


def _source_of(fname: str) -> str:
    return course_url(fname) if fname in COURSE_FILES else "the course (osf.io)"


def _fix_hint(path: Path) -> str:
    return (f"Delete {path} and call load_session again to download a fresh copy "
            f"(or download it by hand from {_source_of(path.name)}).")


def _unreadable(path: Path, err: PermissionError) -> DataFolderError:
    """A file of the data folder this user may not read: say so (not "corrupted")."""
    try:
        mode = f", mode {path.stat().st_mode & 0o777:o}, owner uid {path.stat().st_uid}"
    except OSError:
        mode = ""
    return DataFolderError(
        f"Cannot read {path}: permission denied{mode}. It was written by another user. Fix: "
        f"ask its owner to run chmod a+r {path} (helpers now write files others can read), or "
        "set STEINMETZ_DATA_DIR to a folder of your own.", "data folder not readable")


def _load_dat(path: str | os.PathLike[str]) -> np.ndarray:
    """The ``dat`` object array of a course file, with clear errors for broken files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No course file at {path}. load_session(..., source='real') downloads it, or "
            f"download it by hand from {_source_of(path.name)}."
        )
    try:
        with np.load(path, allow_pickle=True) as npz:
            if "dat" not in npz.files:
                raise DataFormatError(f"{path} has no 'dat' array (it has {npz.files}): it is "
                                      f"not one of the course's files. {_fix_hint(path)}")
            dat = npz["dat"]
    except DataFormatError:
        raise
    except PermissionError as err:
        raise _unreadable(path, err) from err
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


def _read_cache(path: Path, fix: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except PermissionError as err:
        raise _unreadable(path, err) from err
    except Exception as err:  # truncated zip, wrong file, disk error
        raise DataFormatError(f"The cached session {path} is unreadable "
                              f"({type(err).__name__}: {err}). {fix}") from err


def _session_from_cache(path: Path, index: int | None = None) -> Session:
    """Read one per-session cache file (no pickles) back into a real :class:`Session`,
    checking that it holds session ``index`` (the number in its name) when given."""
    fix = (f"Delete {path} and call load_session again: it is rebuilt from the course file "
           "(downloaded again if needed).")
    arrays = _read_cache(path, fix)
    if arrays.get("format", np.array(-1)).item() != _CACHE_FORMAT:
        raise DataFormatError(f"The cached session {path} was written by another version of "
                              f"helpers. {fix}")
    stored = int(arrays["index"]) if "index" in arrays else None
    if index is not None and stored != index:
        raise DataFormatError(
            f"The cached session {path.name} holds session {stored} "
            f"({arrays.get('mouse_name', '?')} {arrays.get('date_exp', '?')}), not session "
            f"{index} ({SESSIONS[index].name}) as its name says: it was renamed or copied. {fix}")
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
    except (KeyError, ValueError, TypeError) as err:
        raise DataFormatError(f"The cached session {path} is inconsistent "
                              f"({type(err).__name__}: {err}). {fix}") from err


def _identity_problem(session: Session, index: int) -> str | None:
    """What differs between a file's session and the catalogue's row ``index`` (``None``: it
    is that session). Fewer neurons than published are allowed (a copy keeping only some)."""
    info = SESSIONS[index]
    same_name = _words(session.name) == _words(info.name)
    if same_name and session.n_trials == info.n_trials and session.n_neurons <= info.n_neurons:
        return None
    found = (f"{session.name} ({session.n_neurons} neurons, {session.n_trials} trials) where "
             f"the catalogue has session {index}, {info.name} ({info.n_neurons} neurons, "
             f"{info.n_trials} trials)")
    other = next((i for i in SESSIONS if _words(i.name) == _words(session.name)), None)
    if other is not None and other.index != index:
        found += (f"; {session.name} is session {other.index}, which belongs in "
                  f"{_part_of(other.index)[1]}: the file was probably saved under another "
                  "part's name")
    return found


def _check_identities(sessions: list[Session], part: int, part_path: Path) -> None:
    """Every session of a course file is the catalogue's session at its position."""
    for local, session in enumerate(sessions):
        problem = _identity_problem(session, part * SESSIONS_PER_PART + local)
        if problem:
            raise DataFormatError(
                f"{part_path} holds, at position {local}, {problem}. Fix: delete it (or give it "
                f"its right name) and call load_session again to download "
                f"{part_path.name} from {_source_of(part_path.name)}.")
        info = SESSIONS[part * SESSIONS_PER_PART + local]
        if session.n_neurons < info.n_neurons:
            _say_once(("subset", info.index), f"Note: session {info.index} ({info.name}) has "
                      f"{session.n_neurons} of its {info.n_neurons} published neurons\n"
                      f"in {part_path.name} (a reduced copy).")


def split_course_file(part_path: str | os.PathLike[str], part: int,
                      directory: str | os.PathLike[str], *, verify: bool = True) -> list[int]:
    """Split one course file into the per-session cache (done once, by :func:`load_session`).

    Session ``i`` of ``steinmetz_part{part}.npz`` becomes ``<directory>/steinmetz_sessions/
    session_{13 * part + i:02d}.npz``: uncompressed, no pickles, strings as fixed-width
    unicode, written to a temporary file and renamed, so an interrupted split leaves no half
    file.

    Args:
        part_path: the course file.
        part: 0, 1 or 2.
        directory: the data folder.
        verify: check every session against the catalogue (mouse, date, trials; at most the
            published number of neurons) and the file against the SHA-256 recorded in
            ``<part_path>.sha256`` the first time (recorded then). Turn it off only for files
            that are not the course's (benchmarks).

    Returns:
        The indices (0-38) of the sessions written.

    Raises:
        DataFormatError: a broken file, more than 13 sessions, a session that is not the
            catalogue's (both are named), or a file that changed since it was first split.
        DataFolderError: the folder is read-only or full.
    """
    part_path, directory = Path(part_path), Path(directory)
    sessions = read_steinmetz_npz(part_path)
    if len(sessions) > SESSIONS_PER_PART:
        raise DataFormatError(f"{part_path} holds {len(sessions)} sessions, more than the course's "
                              f"{SESSIONS_PER_PART} per file. {_fix_hint(part_path)}")
    if verify:
        _check_identities(sessions, part, part_path)
        changed = files.check_recorded_sha256(part_path)
        if changed:
            raise DataFormatError(
                f"{changed}. If you replaced {part_path.name} on purpose, delete "
                f"{part_path}.sha256; otherwise {_fix_hint(part_path)[0].lower()}"
                f"{_fix_hint(part_path)[1:]}")
    indices = []
    for local, session in enumerate(sessions):
        index = part * SESSIONS_PER_PART + local
        files.write_atomically(_session_path(directory, index),
                               _session_to_arrays(session, index, part))
        indices.append(index)
    return indices


# =============================================================================================
# Downloading
# =============================================================================================
def download_course_file(part: int, directory: str | os.PathLike[str], *,
                         retry: bool = True) -> Path:
    """Download ``steinmetz_part{part}.npz`` into ``directory`` unless it is already there.

    From :func:`course_url` (osf.io, or ``$STEINMETZ_MIRROR``), after a quick check that the
    server answers on its port. The download goes to a temporary file renamed only when
    complete (:func:`helpers.files.download`), so a failed, cut or stalled download leaves
    nothing behind; a server slower than 20 kB/s for a minute is given up on.

    Args:
        part: 0, 1 or 2.
        directory: the data folder (see :func:`data_dir`).
        retry: try again even if a download already failed in this process (with ``False``,
            fail at once with the remembered reason).

    Raises:
        DataUnavailableError: no internet, or the server did not deliver the file (its reason
            says which: unreachable, HTTP status, cut, stalled, too slow, not a zip).
        DataFolderError: the folder is read-only or full.
    """
    fname = f"steinmetz_part{part}.npz"
    if fname not in COURSE_FILES:
        raise ValueError(f"part must be 0, 1 or 2, got {part!r}.")
    directory, url = Path(directory), course_url(fname)
    if (directory / fname).is_file():
        return directory / fname
    unreachable = _NETWORK.failure if (_NETWORK.failure and not retry) else files.probe(url)
    if unreachable is None:
        try:
            return files.download(url, directory / fname, magic=b"PK")
        except DataUnavailableError as err:
            _NETWORK.failure = err.reason
            raise DataUnavailableError(
                f"Could not download {fname} from {url}: {err.reason}. "
                f"{_manual_hint(directory)}", err.reason) from None
    _NETWORK.failure = unreachable
    host = urllib.parse.urlsplit(url).hostname
    raise DataUnavailableError(
        f"Could not download {fname} from {url}: {unreachable}. There seems to be no internet "
        f"connection (or {host} is down). {_manual_hint(directory)}", reason=unreachable)


def _manual_hint(directory: Path) -> str:
    listed = ", ".join(f"{name} ({course_url(name)})" for name in COURSE_FILES)
    return ("Set the environment variable STEINMETZ_SOURCE=simulated to work with simulated "
            f"data, set {MIRROR_VARIABLE} to a server holding the files, or download them by "
            f"hand into {directory}: {listed}.")


# =============================================================================================
# Loading a session
# =============================================================================================
_SAID: set = set()  # the once-per-process notices already printed


def _say_once(key: tuple, line: str) -> None:
    """Print ``line`` unless a line with the same ``key`` was printed in this process."""
    if key not in _SAID:
        _SAID.add(key)
        print(line)


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
    return _session_from_cache(path, index)


_FOLDER_BRIEF = {"data folder full": "folder full", "data folder read-only": "folder read-only",
                 "data folder not writable": "no write access",
                 "data folder not readable": "no read access"}


def _in_brief(reason: str) -> str:
    """A failure in a few words, for one-line notices (no exception text)."""
    if reason.startswith("data folder"):
        return _FOLDER_BRIEF.get(reason, "folder error")
    unreachable = reason.startswith(("cannot reach", "no answer from"))  # files.probe's words
    return "no internet" if unreachable else "download failed"


def _fallback_notice(index: int, reason: str) -> str:
    """One short line: which session is simulated and why (no paths, no exception text)."""
    return (f"SIMULATED from session {index} ({SESSIONS[index].name}), "
            f"{_in_brief(reason)}; see helpers.available_source().")


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
            downloadable, else the simulation with a printed notice saying why (also when the
            data folder is read-only or full). The environment variable ``STEINMETZ_SOURCE``
            overrides this argument.
        data_dir: where the data live (default: :func:`data_dir`).
        verbose: print a line saying which source was used. Each such line, and the fallback
            notice (printed even when not verbose), appears once per process and source, not
            once per session of a loop; ``session.source`` says what each session is.

    Returns:
        A :class:`Session`; ``session.source`` says ``"real"`` or ``"simulated"``.

    Raises:
        ValueError: unknown session or source.
        DataUnavailableError: ``source="real"`` and the download failed (a ``ConnectionError``).
        DataFolderError: ``source="real"`` and the data folder is read-only, full or unreadable
            (an ``OSError`` naming the folder, the space needed and ``STEINMETZ_DATA_DIR``).
        DataFormatError: a file is corrupted or holds another session than its name says; the
            message says which file to delete.
    """
    chosen = _resolve_source(source)
    directory = _folder(data_dir)
    index = resolve_session(session, extra_names=_cached_names(directory))
    if chosen == "simulated":
        if verbose:
            why = "STEINMETZ_SOURCE" if os.environ.get("STEINMETZ_SOURCE") else "source"
            _say_once(("simulated", why), f"Using simulated data ({why}='simulated') from "
                      f"session {index} ({SESSIONS[index].name}) on.")  # <= 100 characters
        return simulated_session(index)
    try:
        result = _load_real(index, directory, retry=chosen == "real")
    except (DataUnavailableError, DataFolderError) as err:
        if chosen == "real":
            raise
        _say_once(("fallback", _in_brief(err.reason)), _fallback_notice(index, err.reason))
        return simulated_session(index)
    if verbose:
        where = _shown(directory)
        _say_once(("real", directory), f"Loaded real session {index} ({result.name}) from the "
                  f"cache{f' in {where}' if where else ''}; later loads are silent.")
        if isinstance(session, str) and _words(session) != _words(result.name):
            print(f"Note: the course file names session {index} {result.name!r}.")
    return result


def available_source(session: int | str = EXAMPLE_SESSION, *,
                     data_dir: str | os.PathLike[str] | None = None) -> str:
    """Which source :func:`load_session` will use for ``session``, and why, in one line.

    Downloads nothing; it checks the cache and, if needed, whether the server (osf.io or
    ``$STEINMETZ_MIRROR``) answers (seconds).
    """
    chosen = _resolve_source("auto")
    directory = _folder(data_dir)
    index = resolve_session(session, extra_names=_cached_names(directory))
    if chosen == "simulated":
        return "simulated (STEINMETZ_SOURCE=simulated)"
    part, fname = _part_of(index)
    where = _shown(directory) or "the data folder"
    if _session_path(directory, index).is_file() or (directory / fname).is_file():
        return f"real (cached in {where})"
    url = course_url(fname)
    host = urllib.parse.urlsplit(url).hostname
    _NETWORK.failure = _NETWORK.failure or files.probe(url)
    if _NETWORK.failure is None:
        return f"real (downloaded from {host} into {where} on first use)"
    if chosen == "real":
        return f"real requested (STEINMETZ_SOURCE=real), but {_in_brief(_NETWORK.failure)}"
    return f"simulated ({_in_brief(_NETWORK.failure)}; real data once {host} can be reached)"


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


def _shown(path: Path) -> str | None:
    """A path as a reader should see it, never absolute: relative to the working folder (at
    most one ``..``, e.g. ``../data`` from ``book/``) or to ``~``; ``None`` otherwise."""
    cwd = Path.cwd()
    if path.is_relative_to(cwd):
        return str(path.relative_to(cwd))
    if path.is_relative_to(Path.home()):
        return "~/" + str(path.relative_to(Path.home()))
    relative = os.path.relpath(path, cwd)
    return relative if relative.split(os.sep).count("..") <= 1 else None


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


