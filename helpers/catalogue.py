"""The catalogue of the dataset's 39 sessions: what the book knows about each one before loading it.

Mouse, date, numbers of neurons and trials, and neurons per Allen area, read from
``sessions.csv`` (shipped with the package): facts printed by public course notebooks that loaded
the real files, several sources agreeing for sessions 0-25 and one source for the area counts
of 26-38 (the ``confidence`` column says which). A real file, once cached, always wins
(:mod:`helpers.steinmetz`); a simulated session copies its row (:mod:`helpers.surrogate`).
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from helpers.session import OTHER_REGION, REGION_GROUPS, region_of

__all__ = ["SessionInfo", "SESSIONS", "EXAMPLE_SESSION", "resolve_session"]


@dataclass(frozen=True)
class SessionInfo:
    """One row of :data:`SESSIONS`: what the book knows about a session before loading it.

    Attributes:
        index: position in the course's files (0-38).
        mouse_name: the mouse, e.g. ``"Lederberg"``.
        date_exp: the recording date, e.g. ``"2017-12-05"``.
        n_neurons: number of neurons recorded.
        n_trials: number of trials.
        area_counts: neurons per Allen acronym, as published for this session.
        confidence: ``"several sources"`` or ``"one source"`` agree on ``area_counts``.
    """

    index: int
    mouse_name: str
    date_exp: str
    n_neurons: int
    n_trials: int
    area_counts: dict[str, int] = field(hash=False)
    confidence: str = "several sources"

    @property
    def name(self) -> str:
        """``"Mouse YYYY-MM-DD"``."""
        return f"{self.mouse_name} {self.date_exp}"

    def region_counts(self) -> dict[str, int]:
        """Neurons per region group (all of :data:`REGION_GROUPS` and ``"other"``)."""
        counts = {r: 0 for r in (*REGION_GROUPS, OTHER_REGION)}
        for area, n in self.area_counts.items():
            counts[str(region_of([area])[0])] += n
        return counts


def _read_catalogue() -> tuple[SessionInfo, ...]:
    text = resources.files("helpers").joinpath("sessions.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        SessionInfo(int(row["index"]), row["mouse"], row["date"], int(row["n_neurons"]),
                    int(row["n_trials"]),
                    {a: int(n) for a, n in (item.split(":") for item in row["areas"].split(";"))},
                    row["confidence"])
        for row in rows
    )


#: The 39 sessions of the course's files, in file order (index 0-38), from ``sessions.csv``.
SESSIONS: tuple[SessionInfo, ...] = _read_catalogue()
#: The example session of the original project, ``alldat[11]`` (Lederberg 2017-12-05).
EXAMPLE_SESSION = 11


def _normalise(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


def resolve_session(session: int | str, *, extra_names: dict[int, str] | None = None) -> int:
    """The index (0-38) of a session given as an index or a name like ``"Lederberg 2017-12-05"``.

    Names are case- and space-tolerant (``"lederberg  2017-12-05"`` works).

    Args:
        session: an index or a name.
        extra_names: more names by index (e.g. those of cached real files), which take
            precedence over :data:`SESSIONS`.

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
            raise ValueError(f"Session index {session} is out of range: the Steinmetz data have "
                             f"{n} sessions, 0-{n - 1}. See helpers.list_sessions().")
        return int(session)
    names = {info.index: info.name for info in SESSIONS} | (extra_names or {})
    lookup = {_normalise(name): index for index, name in names.items()}
    key = _normalise(session)
    if key in lookup:
        return lookup[key]
    close = difflib.get_close_matches(key, list(lookup), n=3, cutoff=0.6)
    hint = f" Did you mean {[names[lookup[c]] for c in close]}?" if close else ""
    raise ValueError(f"Unknown session {session!r}.{hint} Names look like 'Lederberg 2017-12-05' "
                     f"('Mouse YYYY-MM-DD'); helpers.list_sessions() lists all {n}.")
