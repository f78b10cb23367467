"""Write the Neuromatch-style pod notebooks of every chapter in _toc.yml (`make pods`).

- ``_build/pods/student/NN_name.ipynb``: each exercise's solution cell is replaced by a short
  note; the stubs (which raise until completed) and everything else are kept; outputs cleared.
- ``_build/pods/instructor/NN_name.ipynb``: the whole chapter with each solution shown in full
  right under the students' stub (marked as such), no cell collapsed; outputs cleared.

As in Neuromatch Academy, the instructor notebook is the complete chapter and the student
notebook is derived from it by taking the solutions out. Exercises follow CONTRIBUTING.md: a
stub tagged ``raises-exception`` followed by a solution cell starting with ``# Solution``.

Usage: ``.venv/bin/python scripts/make_pods.py [--out _build/pods] [book/NN_name.ipynb ...]``
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from toc_notebooks import toc_notebooks  # noqa: E402

__all__ = [
    "STUB_MARK",
    "instructor_version",
    "is_solution",
    "is_stub",
    "student_version",
    "write_pods",
]

STUB_MARK = "# Students' stub (it raises until completed); the solution is the next cell.\n"
HIDING_TAGS = {"hide-input", "hide-output", "hide-cell", "remove-input", "remove-output",
               "remove-cell"}


def is_stub(cell: nbformat.NotebookNode) -> bool:
    """An exercise stub: a code cell that raises ``NotImplementedError`` until completed."""
    return cell.cell_type == "code" and "raise NotImplementedError" in cell.source


def is_solution(cell: nbformat.NotebookNode) -> bool:
    """An exercise solution: a code cell whose first line is ``# Solution``."""
    return cell.cell_type == "code" and cell.source.lstrip().startswith("# Solution")


def _chapter_url(name: str) -> str:
    """The chapter's notebook on GitHub (repository and branch from _config.yml)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repository = config["repository"]
    return f"{repository['url']}/blob/{repository.get('branch', 'main')}/book/{name}"


def _cleared(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without outputs, execution counts or execution timing."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def _note_under_badge(notebook: nbformat.NotebookNode, note: str) -> None:
    """Append an italic line to the cell that holds the Colab badge (the second cell)."""
    for cell in notebook.cells[:3]:
        if cell.cell_type == "markdown" and "colab-badge.svg" in cell.source:
            cell.source = f"{cell.source.rstrip()}\n\n*{note}*"
            return


def _check_exercises(notebook: nbformat.NotebookNode, name: str) -> None:
    """Every solution directly follows a stub, so removing it never strands a result."""
    for index, cell in enumerate(notebook.cells):
        if is_solution(cell) and (index == 0 or not is_stub(notebook.cells[index - 1])):
            raise ValueError(f"{name}: cell {index} is a solution ('# Solution') that does not "
                             "directly follow its exercise stub (see CONTRIBUTING.md)")


def student_version(notebook: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The chapter for students: solutions replaced by a note, stubs kept, outputs cleared.

    Args:
        notebook: the chapter as stored in book/.
        name: its file name, e.g. ``"01_steinmetz_data.ipynb"`` (for links and messages).
    """
    _check_exercises(notebook, name)
    notebook = _cleared(notebook)
    cells = []
    for cell in notebook.cells:
        if is_solution(cell):
            hint = nbformat.v4.new_markdown_cell(
                "**Your turn.** Complete the cell above and run it: the cells below use its "
                "result. Stuck? Ask your teaching assistant (the instructor notebook has the "
                "solution), or find it under this exercise in the book's version of the chapter "
                f"(on the book's site, or [on GitHub]({_chapter_url(name)}))."
            )
            hint.id = cell.get("id", hint.id)  # reuse the id: the output stays deterministic
            cells.append(hint)
        else:
            cells.append(cell)
    notebook.cells = cells
    _note_under_badge(notebook, "Student version for pods: the exercise solutions are taken "
                                "out; complete each exercise before running the cells after it.")
    return notebook


def instructor_version(notebook: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The chapter for teaching assistants: each stub marked, its solution shown in full.

    Args:
        notebook: the chapter as stored in book/.
        name: its file name (for messages).
    """
    _check_exercises(notebook, name)
    notebook = _cleared(notebook)
    for index, cell in enumerate(notebook.cells):
        if is_solution(cell):
            cell.metadata["tags"] = [t for t in cell.metadata.get("tags", [])
                                     if t not in HIDING_TAGS]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
            cell.metadata.pop("collapsed", None)
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
            if cell.metadata.get("jupyter") == {}:
                del cell.metadata["jupyter"]
            stub = notebook.cells[index - 1]
            if not stub.source.startswith(STUB_MARK):
                stub.source = STUB_MARK + stub.source
    _note_under_badge(notebook, "Instructor version for pods: each exercise shows the students' "
                                "stub (it raises until completed) and, right under it, the "
                                "solution.")
    return notebook


def _write(notebook: nbformat.NotebookNode, path: Path) -> None:
    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook) + "\n")


def write_pods(out_dir: Path, notebooks: list[Path] | None = None) -> list[Path]:
    """Write ``out_dir/student/`` and ``out_dir/instructor/`` (replacing both folders).

    Args:
        out_dir: destination, e.g. ``_build/pods``.
        notebooks: chapters to convert; default every notebook listed in _toc.yml.

    Returns:
        The paths written, student versions first.
    """
    notebooks = toc_notebooks() if notebooks is None else [Path(p) for p in notebooks]
    if not notebooks:
        raise ValueError("no notebooks to convert: _toc.yml lists none")
    versions = {"student": student_version, "instructor": instructor_version}
    written = []
    for folder, make in versions.items():
        target = Path(out_dir) / folder
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for source in notebooks:
            notebook = nbformat.read(source, as_version=4)
            path = target / source.name
            _write(make(notebook, source.name), path)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pods",
                        help="destination folder (default: _build/pods)")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapters to convert (default: every notebook in _toc.yml)")
    args = parser.parse_args(argv)
    written = write_pods(args.out, args.notebooks or None)
    n = len(written) // 2
    print(f"wrote {n} student and {n} instructor notebooks under {args.out}/")


if __name__ == "__main__":
    main()
