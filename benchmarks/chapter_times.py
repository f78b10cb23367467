"""Time the execution of every notebook in _toc.yml, as `make book` runs them.

Usage: `STEINMETZ_SOURCE=simulated .venv/bin/python benchmarks/chapter_times.py [NOTEBOOK ...]`
Prints one line per notebook (wall-clock seconds). Not a test: speed is reported, not asserted.

`benchmarks/chapter_times.py --from-nbval` executes nothing: it prints the seconds the last
`make nbval` (as in `make test`) took on each notebook, from `_build/executed/`, with each
chapter's limit (3 minutes on 2 idle cores, chapter 6: 4). Under `make test` the notebooks run
two at a time beside other work, so these are upper bounds of a chapter run alone.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from executed_notebooks import STAMP_KEY, executed_path  # noqa: E402
from toc_notebooks import toc_notebooks  # noqa: E402

LIMIT_S = {"06_hyperparameters.ipynb": 240.0}  # every other chapter: DEFAULT_LIMIT_S
DEFAULT_LIMIT_S = 180.0


def time_notebook(path: Path) -> float:
    """Execute one notebook in its own folder (exercise stubs may raise) and return seconds."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def report_notebook_time(path: Path) -> None:
    """Execute one chapter on the simulated data (unless told otherwise) and print its time."""
    os.environ.setdefault("STEINMETZ_SOURCE", "simulated")
    seconds = time_notebook(path)
    print(f"\n## Notebook\n\n{path.name} executed in {seconds:.0f} s "
          f"(STEINMETZ_SOURCE={os.environ['STEINMETZ_SOURCE']})")


def report_nbval_times(paths: list[Path]) -> None:
    """Print the seconds nbval last took on each notebook (see the module docstring)."""
    print("| notebook | seconds under make nbval | limit |\n|---|---|---|")
    for path in paths:
        executed = executed_path(path)
        if not executed.exists():
            print(f"| {path.name} | not executed by nbval yet | |")
            continue
        seconds = nbformat.read(executed, as_version=4).metadata[STAMP_KEY]["seconds"]
        print(f"| {path.name} | {seconds:.0f} | {LIMIT_S.get(path.name, DEFAULT_LIMIT_S):.0f} |")


if __name__ == "__main__":
    if "--from-nbval" in sys.argv[1:]:
        report_nbval_times(toc_notebooks())
        sys.exit(0)
    os.environ.setdefault("HELPERS_PROGRESS", "final")
    paths = [Path(p).resolve() for p in sys.argv[1:]] or toc_notebooks()
    print(f"{os.cpu_count()} CPU cores; STEINMETZ_SOURCE={os.environ.get('STEINMETZ_SOURCE')}")
    for path in paths:
        print(f"{path.name:40s} {time_notebook(path):7.1f} s", flush=True)
