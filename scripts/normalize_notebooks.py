"""Store notebooks the way the tests require: no outputs, no execution counts, kernel `python3`.

Usage: `.venv/bin/python scripts/normalize_notebooks.py [book/*.ipynb ...]` (default: all of book/).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def normalize(path: Path) -> bool:
    """Strip outputs and counts, set the kernelspec; return whether the file changed."""
    before = path.read_text()
    notebook = nbformat.reads(before, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    notebook.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    after = nbformat.writes(notebook) + "\n"
    if after != before:
        path.write_text(after)
    return after != before


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "book").glob("*.ipynb"))
    for path in paths:
        if normalize(path):
            print(f"normalized {path}")
