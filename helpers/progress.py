"""Progress bars that read well in a terminal, in Jupyter, and in the built site.

A live :mod:`tqdm` bar redraws itself with carriage returns. Jupyter and terminals honour them,
but a notebook executed for the book stores every redraw, and the site would show dozens of
lines per training run. So the mode is chosen by the environment variable ``HELPERS_PROGRESS``:

- ``live`` (default): a normal tqdm bar, for students in Jupyter, Colab or a terminal;
- ``final``: one line with the bar's final state when the loop ends (``make book``/``make test``);
- ``off``: nothing.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
MODES = ("live", "final", "off")


def progress_mode() -> str:
    """The progress-bar mode from ``HELPERS_PROGRESS`` (``live`` when unset)."""
    mode = os.environ.get("HELPERS_PROGRESS", "live").strip().lower() or "live"
    if mode not in MODES:
        raise ValueError(f"HELPERS_PROGRESS={mode!r} is not one of {MODES}; unset it or pick one.")
    return mode


class _FinalLine(io.StringIO):
    """A file for tqdm that keeps only the last redraw and prints it when the bar closes."""

    def final_line(self) -> str:
        return self.getvalue().split("\r")[-1].strip()


class ProgressBar(tqdm):
    """:class:`tqdm.tqdm` that follows ``HELPERS_PROGRESS`` (see the module docstring)."""

    def __init__(self, iterable: Iterable | None = None, *, desc: str = "", enabled: bool = True,
                 **kwargs) -> None:
        mode = progress_mode() if enabled else "off"
        self._buffer = _FinalLine() if mode == "final" else None
        kwargs.setdefault("ncols", 80)
        kwargs.setdefault("ascii", True)
        kwargs.setdefault("mininterval", 0.5)
        output = self._buffer or sys.stderr
        super().__init__(iterable, desc=desc, disable=mode == "off", file=output, **kwargs)

    def close(self) -> None:
        already_closed = self.disable
        super().close()
        if self._buffer is not None and not already_closed:
            line = self._buffer.final_line()
            if line:
                print(line, file=sys.stderr, flush=True)
            self._buffer = None


def progress(iterable: Iterable[T], desc: str = "", *, enabled: bool = True,
             **kwargs) -> Iterator[T]:
    """Iterate with a progress bar, e.g. ``for fold in progress(folds, "folds"): ...``."""
    yield from ProgressBar(iterable, desc=desc, enabled=enabled, **kwargs)
