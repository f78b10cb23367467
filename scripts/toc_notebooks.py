"""Print the notebooks listed in _toc.yml, one path per line (used by `make nbval`).

`--longest-first` orders them by the time nbval last took on each (stored in _build/executed/
by scripts/nbval_record.py), else by their number of code cells, longest first: with one
notebook per pytest-xdist worker, the last one to start is then a short one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every `file:`/`root:` entry of a Jupyter Book 1 table of contents, in order."""
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("chapters", "sections", "parts"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return files


def toc_notebooks() -> list[Path]:
    """Paths of the notebooks in the table of contents that exist as .ipynb files."""
    return [ROOT / f"{name}.ipynb" for name in toc_files() if (ROOT / f"{name}.ipynb").exists()]


def expected_seconds(path: Path) -> tuple[float, int]:
    """(seconds nbval last took, number of code cells) of a notebook; seconds 0 if unknown."""
    executed = ROOT / "_build" / "executed" / path.relative_to(ROOT)
    seconds = 0.0
    if executed.exists():
        stamp = json.loads(executed.read_text()).get("metadata", {}).get("executed_by_nbval", {})
        seconds = float(stamp.get("seconds", 0.0))
    cells = json.loads(path.read_text())["cells"]
    return seconds, sum(cell["cell_type"] == "code" for cell in cells)


def longest_first(paths: list[Path]) -> list[Path]:
    """Notebooks by expected run time, longest first (see the module docstring)."""
    return sorted(paths, key=expected_seconds, reverse=True)


if __name__ == "__main__":
    notebooks = toc_notebooks()
    if "--longest-first" in sys.argv[1:]:
        notebooks = longest_first(notebooks)
    if not notebooks:
        sys.exit("No notebooks found in _toc.yml: nothing for nbval to run.")
    print("\n".join(str(path.relative_to(ROOT)) for path in notebooks))
