"""Execute every chapter through the *real-data* code path, offline (`make real-path`).

No real recording reaches the build machines, so the chapters normally run on simulated
sessions, and the code paths that only real data take (no ``truth``, the per-session cache,
every eligible session in a loop) would go untested. This script writes the course's three
files (``steinmetz_part{0,1,2}.npz``, the exact format: object arrays of dicts) from simulated
sessions with *other seeds* than the chapters' stand-ins, into a temporary data folder, then
executes each chapter with ``STEINMETZ_SOURCE=real`` and ``STEINMETZ_DATA_DIR`` pointing there.
It fails on any error outside an exercise stub. Run it before saying a chapter is done; it is
outside ``make test`` because it roughly doubles its time.

Usage: ``.venv/bin/python scripts/check_real_path.py [book/NN_name.ipynb ...] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from toc_notebooks import ROOT, toc_notebooks

SEED_OFFSET = 1000  # the files' sessions use seed index + 1000: not the chapters' stand-ins


def course_entry(index: int) -> dict:
    """One session of the course files, simulated with the catalogue's layout."""
    from helpers.catalogue import SESSIONS
    from helpers.surrogate import make_session

    info = SESSIONS[index]
    session = make_session(SEED_OFFSET + index, n_trials=info.n_trials,
                           area_counts=dict(info.area_counts), mouse_name=info.mouse_name,
                           date_exp=info.date_exp)
    extra = session.truth.extra
    response_time = session.events.get("response_time", extra["move_time"])
    per_trial = {key: np.asarray(value, dtype=float)[:, None] for key, value in (
        ("gocue", extra["gocue"]), ("response_time", response_time),
        ("feedback_time", extra["gocue"] + 0.5))}
    # per-bin behaviour as the course stores it, (k, n_trials, n_bins)
    per_bin = {name: np.moveaxis(np.atleast_3d(value), -1, 0) for name, value in
               session.behaviour.items()}
    return {
        "spks": session.spikes.astype(np.uint8), "brain_area": session.brain_area.astype(str),
        "contrast_left": session.contrast_left, "contrast_right": session.contrast_right,
        "response": session.response.astype(float),
        "feedback_type": session.feedback_type.astype(float),
        "mouse_name": info.mouse_name, "date_exp": info.date_exp,
        "bin_size": session.bin_size, "stim_onset": session.stim_onset, **per_trial,
        **per_bin,
    }


def write_course_files(directory: Path) -> None:
    """The three course files, 13 sessions each, as the course distributes them."""
    from helpers.catalogue import SESSIONS

    for part in range(3):
        indices = range(13 * part, min(13 * (part + 1), len(SESSIONS)))
        dat = np.empty(len(indices), dtype=object)
        for slot, index in enumerate(indices):
            dat[slot] = course_entry(index)
        np.savez(directory / f"steinmetz_part{part}.npz", dat=dat)
        print(f"wrote steinmetz_part{part}.npz (sessions {indices.start}-{indices.stop - 1})",
              flush=True)


def execute(path: Path) -> list[str]:
    """Run one notebook; return the errors outside exercise stubs."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=1800, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = []
    for number, cell in enumerate(notebook.cells):
        if "raises-exception" in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                errors.append(f"{path.name} cell {number}: {output.ename}: {output.evalue}")
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebook in _toc.yml")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    paths = [Path(p).resolve() for p in args.notebooks] or toc_notebooks()
    with tempfile.TemporaryDirectory(prefix="steinmetz-real-path-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        if not all((directory / f"steinmetz_part{p}.npz").exists() for p in range(3)):
            write_course_files(directory)
        os.environ.update(STEINMETZ_SOURCE="real", STEINMETZ_DATA_DIR=str(directory),
                          HELPERS_PROGRESS="final")
        errors = []
        for path in paths:
            start = time.perf_counter()
            found = execute(path)
            errors += found
            print(f"{path.name}: {'ok' if not found else 'FAILED'} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    for error in errors:
        print("REAL PATH:", error)
    print(f"real-data path: {len(paths)} notebook(s), {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
