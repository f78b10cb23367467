"""The tooling behind `make test`: the toc parser, the nbval gate itself, and the hand-over of
nbval's executions to the site build (each notebook executed once)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import toc_notebooks as toc_notebooks_module  # noqa: E402
from check_site import page_problems  # noqa: E402
from executed_notebooks import (  # noqa: E402
    EXECUTED,
    STAMP_KEY,
    cache_executions,
    fresh_executions,
    helpers_fingerprint,
)
from toc_notebooks import longest_first, toc_files, toc_notebooks  # noqa: E402


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


# --- One execution per notebook: nbval's run is what the site renders (scripts/nbval_record.py,
# scripts/executed_notebooks.py, scripts/build_book.py).


def record_with_nbval(root: Path, *notebooks: Path) -> subprocess.CompletedProcess:
    """nbval with the recording plugin on ``notebooks`` (under ``root``), two xdist workers."""
    command = [sys.executable, str(ROOT / "scripts" / "run_pytest.py"), "-p", "nbval_record",
               "--nbval-record=executed", "--nbval-lax", "--nbval-current-env", "-n", "2",
               "--dist", "loadscope", "-p", "no:cacheprovider", "-q", "--rootdir", str(root),
               *map(str, notebooks)]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("book")
    write_notebook(root / "good.ipynb", "print('printed')\nraise NotImplementedError("
                   "'Student exercise: fill me in')", ["raises-exception"])
    write_notebook(root / "broken.ipynb", "raise RuntimeError('a broken chapter')", [])
    result = record_with_nbval(root, root / "good.ipynb", root / "broken.ipynb")
    assert result.returncode != 0 and "1 failed" in result.stdout, result.stdout[-2000:]
    return root


def test_nbval_writes_what_it_executed_for_the_site(recorded: Path) -> None:
    executed = nbformat.read(recorded / "executed" / "good.ipynb", as_version=4)
    first, stub = executed.cells
    assert first.execution_count == 1 and stub.execution_count == 2
    assert [o.output_type for o in stub.outputs] == ["stream", "error"]
    assert stub.outputs[0].text == "printed\n" and stub.outputs[1].ename == "NotImplementedError"
    assert executed.metadata.language_info.pygments_lexer == "ipython3"  # `%pip` lines lex
    assert executed.metadata[STAMP_KEY]["helpers_fingerprint"] == helpers_fingerprint()
    assert not (recorded / "executed" / "broken.ipynb").exists(), "a failing notebook is kept"


def test_only_fresh_executions_are_rendered(recorded: Path, tmp_path: Path) -> None:
    good = recorded / "good.ipynb"
    out = recorded / "executed"
    fresh, stale = fresh_executions([good, recorded / "broken.ipynb"], helpers_fingerprint(),
                                    recorded, out)
    assert list(fresh) == [good] and "not executed" in stale[recorded / "broken.ipynb"]
    assert not fresh_executions([good], "helpers changed", recorded, out)[0]
    edited = tmp_path / "good.ipynb"
    notebook = nbformat.read(good, as_version=4)
    notebook.cells[0].source = "x = 2"
    nbformat.write(notebook, edited)
    (tmp_path / "out").mkdir()
    shutil.copy(out / "good.ipynb", tmp_path / "out" / "good.ipynb")
    _, stale = fresh_executions([edited], helpers_fingerprint(), tmp_path, tmp_path / "out")
    assert "code changed" in stale[edited]


def test_the_build_finds_nbvals_outputs_in_its_cache(recorded: Path, tmp_path: Path) -> None:
    """What myst-nb does in `execute_notebooks: cache` mode: match the stored notebook (no
    outputs) to a cache record by its code, and merge that record's outputs into it."""
    from jupyter_cache import get_cache

    good = recorded / "good.ipynb"
    fresh, _ = fresh_executions([good], helpers_fingerprint(), recorded, recorded / "executed")
    cache_executions(tmp_path / "cache", fresh)
    _, merged = get_cache(str(tmp_path / "cache")).merge_match_into_notebook(
        nbformat.read(good, as_version=4))
    assert merged.cells[1].outputs[0].text == "printed\n"
    assert merged.metadata.language_info.pygments_lexer == "ipython3"


def test_longest_notebook_first(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(toc_notebooks_module, "ROOT", tmp_path)
    paths = [write_notebook(tmp_path / f"{name}.ipynb", "y = 2", []) for name in "ab"]
    for path, seconds in zip(paths, (10.0, 90.0), strict=False):
        executed = nbformat.read(path, as_version=4)
        executed.metadata[STAMP_KEY] = {"seconds": seconds}
        (tmp_path / "_build" / "executed").mkdir(parents=True, exist_ok=True)
        nbformat.write(executed, tmp_path / "_build" / "executed" / path.name)
    assert longest_first(paths) == paths[::-1]


def test_make_nbval_records_where_the_build_reads() -> None:
    makefile = (ROOT / "Makefile").read_text()
    folder = re.search(r"^EXECUTED := (\S+)$", makefile, re.M).group(1)
    assert ROOT / folder == EXECUTED
    nbval = re.search(r"^nbval:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "-p nbval_record --nbval-record=$(EXECUTED)" in nbval and "$(XDIST)" in nbval
    steps = re.search(r"^test:.*\n(?:\t.*\n)*?\t\$\(MAKE\)([^\n]*)", makefile, re.M).group(1)
    assert steps.split().index("nbval") < steps.split().index("book")
