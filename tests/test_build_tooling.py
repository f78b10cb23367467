"""The tooling behind `make test`: the toc parser and the nbval gate itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from toc_notebooks import toc_files, toc_notebooks  # noqa: E402


def test_toc_starts_at_the_intro_and_lists_notebooks() -> None:
    files = toc_files()
    assert files[0] == "book/intro"
    assert ROOT / "book" / "00_getting_started.ipynb" in toc_notebooks()


def write_notebook(path: Path, source: str, tags: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell("x = 1"),
                      nbformat.v4.new_code_cell(source, metadata={"tags": tags})]
    nbformat.write(notebook, path)
    return path


def run_nbval(path: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "scripts" / "run_pytest.py"), "--nbval-lax",
               "--nbval-current-env", "-p", "no:cacheprovider", "-q", str(path)]
    return subprocess.run(command, cwd=path.parent, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("source", "tags", "passes"),
    [
        ("raise RuntimeError('a broken chapter')", [], False),
        ("raise NotImplementedError('Student exercise: fill me in')", ["raises-exception"], True),
    ],
    ids=["broken-cell-fails", "tagged-exercise-stub-passes"],
)
def test_nbval_gate(tmp_path: Path, source: str, tags: list[str], passes: bool) -> None:
    result = run_nbval(write_notebook(tmp_path / "chapter.ipynb", source, tags))
    assert (result.returncode == 0) is passes, result.stdout[-2000:]
