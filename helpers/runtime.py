"""The run-time environment of a chapter: seeds, device, CPU threads and progress bars.

Progress bars follow the environment variable ``HELPERS_PROGRESS``. A live :mod:`tqdm` bar
redraws itself with carriage returns; a notebook executed for the book would store every redraw.

- ``live`` (default): a normal tqdm bar, for students in Jupyter, Colab or a terminal;
- ``final``: no bar, one line when the loop ends, saying how it ended (``make book``/``make test``);
- ``off``: nothing.
"""

from __future__ import annotations

import io
import os
import random
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch
from tqdm import tqdm

__all__ = ["set_seed", "get_device", "cpu_threads", "progress_mode", "ProgressBar", "progress"]

def set_seed(seed: int = 2021, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and PyTorch so that a chapter gives the same numbers on every run.

    Args:
        seed: the seed to use everywhere.
        deterministic: also ask PyTorch for deterministic kernels (CPU results are then
            bit-for-bit reproducible; on a GPU some operations stay nondeterministic).

    Returns:
        The seed, so a notebook can print what it used.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global generator, used by older code)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return seed


def get_device(prefer: str | None = None, *, verbose: bool = True) -> torch.device:
    """Pick the device to train on: CUDA when available, else the CPU.

    Args:
        prefer: force a device ("cpu" or "cuda"); ``None`` picks automatically.
        verbose: print which device was chosen.

    Returns:
        A :class:`torch.device`.
    """
    if prefer is None:
        name = "cuda" if torch.cuda.is_available() else "cpu"
    elif prefer in ("cpu", "cuda"):
        if prefer == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                "CUDA was requested but no GPU is visible. On Colab choose "
                "Runtime > Change runtime type > GPU, or call get_device() to use the CPU."
            )
        name = prefer
    else:
        raise ValueError(f"prefer must be None, 'cpu' or 'cuda', got {prefer!r}.")
    device = torch.device(name)
    if verbose:
        hint = "" if name == "cuda" else " (the book's chapters are sized to train on a CPU)"
        print(f"Using device: {device}{hint}")
    return device


@contextmanager
def cpu_threads(n_threads: int | None = 1) -> Iterator[None]:
    """Run a block with ``n_threads`` PyTorch CPU threads, then restore the setting.

    The book's models are small: one thread is about as fast as two on an idle machine, and
    several times faster when other programs compete for the cores (threads then wait for each
    other). ``None`` changes nothing.
    """
    previous = torch.get_num_threads()
    if n_threads is not None:
        if n_threads < 1:
            raise ValueError(f"n_threads must be >= 1 or None, got {n_threads}.")
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


T = TypeVar("T")
MODES = ("live", "final", "off")


def progress_mode() -> str:
    """The progress-bar mode from ``HELPERS_PROGRESS`` (``live`` when unset)."""
    mode = os.environ.get("HELPERS_PROGRESS", "live").strip().lower() or "live"
    if mode not in MODES:
        raise ValueError(f"HELPERS_PROGRESS={mode!r} is not one of {MODES}; unset it or pick one.")
    return mode


class _FinalLine(io.StringIO):
    """A file for tqdm that keeps only the last redraw."""

    def final_line(self) -> str:
        return self.getvalue().split("\r")[-1].strip()


class ProgressBar(tqdm):
    """:class:`tqdm.tqdm` that follows ``HELPERS_PROGRESS`` (see the module docstring).

    Call :meth:`finish` with a sentence saying how the loop ended (e.g. "stopped early at
    iteration 139, kept 90"): a live bar shows it as its last postfix, and in ``final`` mode it
    is the one line printed, on standard output, so it stays in order with the cell's prints.
    Use it on a bar advanced by hand (``total=...``, :meth:`update`): a bar that wraps an
    iterable closes itself, printing its own last line, when the loop runs out.
    """

    def __init__(self, iterable: Iterable | None = None, *, desc: str = "", enabled: bool = True,
                 **kwargs) -> None:
        mode = progress_mode() if enabled else "off"
        self._buffer = _FinalLine() if mode == "final" else None
        self._summary = ""
        kwargs.setdefault("ncols", 80)
        kwargs.setdefault("ascii", True)
        kwargs.setdefault("mininterval", 0.5)
        output = self._buffer or sys.stderr
        super().__init__(iterable, desc=desc, disable=mode == "off", file=output, **kwargs)

    def finish(self, summary: str) -> None:
        """Close the bar, ending with ``summary`` (one short sentence)."""
        self._summary = summary
        if self._buffer is None and not self.disable:
            self.set_postfix_str(summary, refresh=True)
        self.close()

    def close(self) -> None:
        already_closed = self.disable
        buffer, self._buffer = self._buffer, None
        super().close()
        if buffer is not None and not already_closed:
            line = f"{self.desc}: {self._summary}" if self._summary else buffer.final_line()
            if line:
                print(line, flush=True)


def progress(iterable: Iterable[T], desc: str = "", *, enabled: bool = True,
             **kwargs) -> Iterator[T]:
    """Iterate with a progress bar, e.g. ``for fold in progress(folds, "folds"): ...``."""
    yield from ProgressBar(iterable, desc=desc, enabled=enabled, **kwargs)
