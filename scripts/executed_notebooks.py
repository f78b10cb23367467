"""Executed notebooks handed from nbval to the site build, so that `make test` runs each once.

`make nbval` executes every chapter under nbval; its plugin (scripts/nbval_record.py) writes
each notebook that passed, with the outputs nbval saw, to `_build/executed/<path>.ipynb`,
stamped with the fingerprint of `helpers/` and the pinned requirements at the time.
`make book` (scripts/build_book.py) then puts those whose stamp and code match today's into
Jupyter Book's execution cache, so the build renders them instead of executing them again; any
other notebook (edited since, run with older helpers, or never run under nbval) is executed by
the build as before. The site therefore never shows outputs older than `helpers/`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import nbformat
from toc_notebooks import ROOT

BUILD = ROOT / "_build"
EXECUTED = BUILD / "executed"
STAMP_KEY = "executed_by_nbval"


def helpers_fingerprint() -> str:
    """A hash of everything outside the notebooks that their outputs depend on: `helpers/`,
    the pinned requirements and the data source (STEINMETZ_SOURCE)."""
    digest = hashlib.sha256(os.environ.get("STEINMETZ_SOURCE", "auto").encode())
    paths = sorted((ROOT / "helpers").rglob("*.py")) + [ROOT / "requirements.txt"]
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_sources(notebook: nbformat.NotebookNode) -> list[str]:
    """The source of every code cell, in order (what an execution depends on in the file)."""
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def executed_path(notebook_path: Path, root: Path = ROOT, out: Path = EXECUTED) -> Path:
    """Where the executed copy of a notebook under ``root`` is kept: the same relative path
    under ``out``."""
    return out / Path(notebook_path).resolve().relative_to(root.resolve())


def write_executed(path: Path, notebook: nbformat.NotebookNode, outputs: list[list],
                   seconds: float, fingerprint: str, metadata: dict | None = None) -> Path:
    """Write ``notebook`` to ``path`` with ``outputs`` (one list per code cell, in order),
    execution counts 1, 2, ..., notebook ``metadata`` added, and its stamp (helpers
    fingerprint, seconds)."""
    executed = nbformat.from_dict(notebook)
    cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    if len(cells) != len(outputs):
        raise ValueError(f"{path.name}: {len(outputs)} outputs for {len(cells)} code cells.")
    for count, (cell, cell_outputs) in enumerate(zip(cells, outputs, strict=False), start=1):
        cell.outputs = [nbformat.from_dict(output) for output in cell_outputs]
        cell.execution_count = count
    executed.metadata.update(metadata or {})
    executed.metadata[STAMP_KEY] = {"helpers_fingerprint": fingerprint,
                                    "seconds": round(seconds, 1)}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    nbformat.write(executed, partial)
    partial.replace(path)  # never a half-written notebook, even with parallel workers
    return path


def fresh_executions(notebooks: list[Path], fingerprint: str, root: Path = ROOT,
                     out: Path = EXECUTED
                     ) -> tuple[dict[Path, nbformat.NotebookNode], dict[Path, str]]:
    """Executed copies usable today, and why the others are not.

    Returns ``(fresh, stale)``: ``fresh`` maps a notebook to its executed copy (same code cells,
    same helpers fingerprint); ``stale`` maps the rest to a reason.
    """
    fresh, stale = {}, {}
    for path in notebooks:
        copy_path = executed_path(path, root, out)
        if not copy_path.exists():
            stale[path] = "not executed by nbval"
            continue
        executed = nbformat.read(copy_path, as_version=4)
        stamp = executed.metadata.get(STAMP_KEY, {})
        if stamp.get("helpers_fingerprint") != fingerprint:
            stale[path] = "executed with other helpers/ or requirements"
        elif code_sources(executed) != code_sources(nbformat.read(path, as_version=4)):
            stale[path] = "its code changed since nbval executed it"
        else:
            fresh[path] = executed
    return fresh, stale


def seconds_of(executed: nbformat.NotebookNode) -> float:
    """Execution time nbval measured for an executed copy (seconds)."""
    return float(executed.metadata[STAMP_KEY]["seconds"])


def cache_executions(cache_path: Path, fresh: dict[Path, nbformat.NotebookNode]) -> None:
    """Put executed copies into Jupyter Book's execution cache (jupyter-cache), keyed on their
    code like the build's own executions, so the build renders them without executing."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_path))
    for path, executed in fresh.items():
        cache.cache_notebook_bundle(
            CacheBundleIn(executed, str(path), data={"execution_seconds": seconds_of(executed)}),
            check_validity=False, overwrite=True)
