"""The tooling behind `make test`: the toc parser and the nbval gate itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from check_site import page_problems  # noqa: E402
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


def rendered(*outputs: str, figure: bool = True) -> str:
    blocks = "".join(f'<div class="cell_output docutils container"><pre>{text}</pre></div>\n</div>'
                     for text in outputs)
    return f'<h2 id="objectives">Objectives</h2>{blocks}' + ("<img src='f.png'>" if figure else "")


def test_site_check_accepts_a_clean_chapter() -> None:
    page = rendered("loss 0.1", "NotImplementedError: Student exercise: write the loss",
                    "training: 100%|####| 50/50 [00:01<00:00]")
    assert page_problems("book/02_chapter", page) == []


@pytest.mark.parametrize(
    ("outputs", "figure", "problem"),
    [
        (["Traceback (most recent call last)\nValueError: bad"], True, "error"),
        (["fit:  10%|#  | 5/50\nfit:  20%|## | 10/50\nfit: 100%|###| 50/50"], True, "redraw"),
        (["just numbers"], False, "figure"),
    ],
    ids=["error-output", "progress-redraws", "no-figure"],
)
def test_site_check_catches_problems(outputs: list[str], figure: bool, problem: str) -> None:
    problems = page_problems("book/02_chapter", rendered(*outputs, figure=figure))
    assert len(problems) == 1 and problem in problems[0]
