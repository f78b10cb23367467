"""Print the notebooks listed in _toc.yml, one path per line (used by `make nbval`)."""

from __future__ import annotations

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


if __name__ == "__main__":
    notebooks = toc_notebooks()
    if not notebooks:
        sys.exit("No notebooks found in _toc.yml: nothing for nbval to run.")
    print("\n".join(str(path.relative_to(ROOT)) for path in notebooks))
