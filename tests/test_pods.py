"""The pod notebooks written by `make pods` (scripts/make_pods.py): student and instructor."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from make_pods import STUB_MARK, is_solution, is_stub, write_pods  # noqa: E402
from toc_notebooks import toc_notebooks  # noqa: E402

CHAPTERS = toc_notebooks()
# A short chapter with exercises, run under nbval in its instructor version.
NBVAL_CHAPTER = "01_steinmetz_data.ipynb"
NBVAL_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def pods(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pods")
    write_pods(out)
    return out


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def exercises(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(stub source, solution source) of every exercise in a chapter as stored in book/."""
    cells = notebook.cells
    return [(cells[i - 1].source, cell.source) for i, cell in enumerate(cells)
            if is_solution(cell) and i > 0 and is_stub(cells[i - 1])]


def solution_only_lines(notebook: nbformat.NotebookNode) -> list[str]:
    """Code lines found only in solutions: the text a student version must not contain."""
    shared = set()
    for cell in notebook.cells:
        if not is_solution(cell):
            shared |= {line.strip() for line in cell.source.splitlines()}
    lines = []
    for _, solution in exercises(notebook):
        own = [line.strip() for line in solution.splitlines()[1:]]
        own = [line for line in own if line and not line.startswith("#") and line not in shared]
        assert own, f"a solution has no line of its own to look for:\n{solution}"
        lines += own
    return lines


def test_the_book_has_exercises_to_check() -> None:
    assert sum(len(exercises(read(path))) for path in CHAPTERS) >= 4


def test_every_chapter_has_both_versions(pods) -> None:
    for folder in ("student", "instructor"):
        written = sorted(p.name for p in (pods / folder).glob("*.ipynb"))
        assert written == sorted(p.name for p in CHAPTERS), folder


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_student_version_has_no_solution_code(pods, chapter) -> None:
    student = read(pods / "student" / chapter.name)
    text = "\n".join(cell.source for cell in student.cells)
    assert not any(is_solution(cell) for cell in student.cells), "a '# Solution' cell is left"
    assert "# Solution" not in text
    leaked = [line for line in solution_only_lines(read(chapter)) if line in text]
    assert not leaked, f"{chapter.name}: solution code in the student version: {leaked}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_student_version_keeps_every_stub_and_the_rest(pods, chapter) -> None:
    original = read(chapter)
    student = read(pods / "student" / chapter.name)
    assert len(student.cells) == len(original.cells), "one note replaces each solution"
    for index, (before, after) in enumerate(zip(original.cells, student.cells, strict=True)):
        if is_solution(before):
            assert after.cell_type == "markdown" and "Your turn" in after.source
        elif index == 1:
            assert after.source.startswith(before.source) and "Student version" in after.source
        else:
            assert (after.cell_type, after.source) == (before.cell_type, before.source), index
            assert after.metadata.get("tags") == before.metadata.get("tags"), index
    stubs = [cell for cell in student.cells if is_stub(cell)]
    assert len(stubs) == len(exercises(original))
    assert all("raises-exception" in cell.metadata.get("tags", []) for cell in stubs)


@pytest.mark.parametrize("folder", ["student", "instructor"])
def test_outputs_are_cleared(pods, folder) -> None:
    for path in sorted((pods / folder).glob("*.ipynb")):
        for index, cell in enumerate(read(path).cells):
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (path.name, index)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_instructor_version_shows_each_solution_under_its_marked_stub(pods, chapter) -> None:
    original = read(chapter)
    instructor = read(pods / "instructor" / chapter.name)
    assert len(instructor.cells) == len(original.cells)
    pairs = exercises(instructor)
    assert [solution for _, solution in pairs] == [s for _, s in exercises(original)]
    assert all(stub.startswith(STUB_MARK) for stub, _ in pairs)
    for cell in instructor.cells:
        if is_solution(cell):
            assert not {"hide-input", "hide-cell", "remove-input", "remove-cell"} & set(
                cell.metadata.get("tags", [])), "solutions are shown, not collapsed"
            assert not cell.metadata.get("jupyter", {}).get("source_hidden")


def test_make_pods_command_line(tmp_path) -> None:
    chapter = ROOT / "book" / NBVAL_CHAPTER
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_pods.py"), "--out",
                             str(tmp_path), str(chapter)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "wrote 1 student and 1 instructor notebooks" in result.stdout
    assert (tmp_path / "student" / NBVAL_CHAPTER).is_file()
    assert (tmp_path / "instructor" / NBVAL_CHAPTER).is_file()


def test_a_solution_away_from_its_stub_is_refused(tmp_path) -> None:
    notebook = read(ROOT / "book" / NBVAL_CHAPTER)
    index = next(i for i, cell in enumerate(notebook.cells) if is_solution(cell))
    notebook.cells.insert(index, nbformat.v4.new_markdown_cell("in between"))
    path = tmp_path / NBVAL_CHAPTER
    nbformat.write(notebook, path)
    with pytest.raises(ValueError, match="does not directly follow its exercise stub"):
        write_pods(tmp_path / "pods", [path])


@pytest.mark.slow
def test_instructor_notebook_passes_nbval(pods) -> None:
    """The instructor version runs top to bottom (only the students' stubs may raise)."""
    notebook = pods / "instructor" / NBVAL_CHAPTER
    assert exercises(read(notebook)), "pick a chapter with exercises"
    env = {**os.environ, "STEINMETZ_SOURCE": os.environ.get("STEINMETZ_SOURCE", "simulated"),
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
               "--nbval-current-env", f"--nbval-cell-timeout={NBVAL_TIMEOUT_S}",
               "--rootdir", str(pods), str(notebook)]
    try:
        result = subprocess.run(command, cwd=pods, env=env, capture_output=True, text=True,
                                timeout=NBVAL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"nbval on {notebook.name} took over {NBVAL_TIMEOUT_S} s: {err}")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_make_test_builds_the_pods_and_runs_the_slow_tests() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "no `test:` target in the Makefile"
    steps = re.search(r"\$\(MAKE\)[^\n]*", recipe.group(1)).group(0).split()
    assert {"unit", "slow", "pods"} <= set(steps), steps
    assert re.search(r"^pods:.*\n\t.*scripts/make_pods\.py", makefile, re.M)
    assert re.search(r"^slow:.*\n\t.*-m slow", makefile, re.M)
