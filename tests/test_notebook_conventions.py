"""The book's notebook conventions (CONTRIBUTING.md), checked on every notebook in book/."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from toc_notebooks import toc_files  # noqa: E402

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_exercise_stub(cell) -> bool:
    return cell.cell_type == "code" and "raise NotImplementedError" in cell.source


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request) -> tuple[Path, nbformat.NotebookNode]:
    return request.param, load(request.param)


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "book/ has no notebooks"


def test_toc_lists_every_notebook_and_only_existing_files() -> None:
    listed = toc_files()
    for name in listed:
        assert (ROOT / f"{name}.ipynb").exists() or (ROOT / f"{name}.md").exists(), (
            f"_toc.yml lists {name}, which is neither a .ipynb nor a .md file"
        )
    in_toc = {ROOT / f"{name}.ipynb" for name in listed}
    missing = [p.name for p in NOTEBOOKS if p not in in_toc]
    assert not missing, f"notebooks missing from _toc.yml: {missing}"
    pages = {p for p in (ROOT / "book").glob("*.md")}
    orphans = [p.name for p in pages if p.with_suffix("") not in {ROOT / n for n in listed}]
    assert not orphans, f"pages in book/ missing from _toc.yml: {orphans}"


def test_stored_without_outputs_and_with_python3_kernel(notebook) -> None:
    path, nb = notebook
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", path.name
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name} cell {index} has stored outputs"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"


def test_header_order(notebook) -> None:
    path, nb = notebook
    cells = nb.cells
    assert len(cells) > 6, f"{path.name} is too short to be a chapter"
    title, badge, objectives, setup, imports, seeding = cells[:6]
    assert title.cell_type == "markdown" and title.source.startswith("# "), "title first"
    assert badge.cell_type == "markdown" and "colab-badge.svg" in badge.source, "Colab badge second"
    assert objectives.cell_type == "markdown" and objectives.source.startswith("## Objectives")
    assert setup.cell_type == "code" and "google.colab" in setup.source
    assert "remove-input" in tags(setup), "the Colab set-up cell is hidden in the site"
    import_lines = [line for line in imports.source.splitlines() if line.strip()]
    assert import_lines and all(
        line.startswith(("import ", "from ")) for line in import_lines
    ), f"{path.name}: the fifth cell holds imports only"
    assert "helpers.set_seed(" in seeding.source and "helpers.get_device(" in seeding.source


def test_colab_badge_points_at_this_notebook(notebook) -> None:
    path, nb = notebook
    repository = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    branch = CONFIG["repository"].get("branch", "main")
    expected = (f"https://colab.research.google.com/github/{repository}/blob/{branch}/"
                f"book/{path.name}")
    assert expected in nb.cells[1].source, f"{path.name}: badge should link to {expected}"


def test_exercises_follow_the_convention(notebook) -> None:
    path, nb = notebook
    cells = nb.cells
    for index, cell in enumerate(cells):
        if "raises-exception" in tags(cell):
            assert is_exercise_stub(cell), f"{path.name} cell {index}: only stubs may raise"
        if not is_exercise_stub(cell):
            continue
        assert "raises-exception" in tags(cell), f"{path.name} cell {index}: tag the stub"
        assert 'NotImplementedError("Student exercise' in cell.source
        heading = cells[index - 1]
        assert heading.cell_type == "markdown" and re.search(r"^### Exercise \d+", heading.source,
                                                             re.M), f"{path.name} cell {index}"
        solution = cells[index + 1]
        assert solution.cell_type == "code" and solution.source.startswith("# Solution")
        assert "hide-input" in tags(solution), f"{path.name} cell {index + 1}: collapse solutions"


def test_no_function_definitions_outside_exercises(notebook) -> None:
    """Shared code lives in helpers/, not in notebook cells."""
    path, nb = notebook
    exercise_cells = set()
    for index, cell in enumerate(nb.cells):
        if is_exercise_stub(cell):
            exercise_cells |= {index, index + 1}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and index not in exercise_cells:
            assert not re.search(r"^\s*(def|class) ", cell.source, re.M), (
                f"{path.name} cell {index} defines a function: move it to helpers/"
            )


def test_chapters_close_with_what_we_learned(notebook) -> None:
    path, nb = notebook
    headings = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any("## What we learned" in h for h in headings), path.name


SECTION = re.compile(r"^## (\d+)\. .*$", re.M)
ESTIMATE = re.compile(r"\((\d+) min\)$")
TOTAL = re.compile(r"^Time: about (\d+) minutes", re.M)
TOTAL_SLACK_MIN = 15  # the total may add this much to the sections' sum (introduction, wrap-up)


def test_sections_carry_time_estimates(notebook) -> None:
    """Pods plan a session from these: every numbered section says how long it takes."""
    path, nb = notebook
    headings = [m.group(0) for c in nb.cells if c.cell_type == "markdown"
                for m in SECTION.finditer(c.source)]
    assert headings, f"{path.name} has no numbered sections ('## 1. Title (10 min)')"
    missing = [h for h in headings if not ESTIMATE.search(h.rstrip())]
    assert not missing, (
        f"{path.name}: end every numbered section heading with its time estimate for a pod "
        f"(reading, running, discussing, exercises), e.g. '## 2. Fitting the model (15 min)'. "
        f"Add one to: {missing}"
    )


def test_objectives_give_the_chapter_total_time(notebook) -> None:
    path, nb = notebook
    estimates = [int(ESTIMATE.search(m.group(0).rstrip()).group(1))
                 for c in nb.cells if c.cell_type == "markdown"
                 for m in SECTION.finditer(c.source) if ESTIMATE.search(m.group(0).rstrip())]
    total_needed = sum(estimates)
    objectives = nb.cells[2].source if len(nb.cells) > 2 else ""
    found = TOTAL.search(objectives)
    assert found, (
        f"{path.name}: the Objectives cell (third cell) needs the chapter's total on its own "
        f"line, right under '## Objectives': 'Time: about {total_needed} minutes; each section "
        f"gives its own estimate.' (the sections' estimates add up to {total_needed} min; the "
        f"total may add up to {TOTAL_SLACK_MIN} min for the introduction and wrap-up)"
    )
    total = int(found.group(1))
    assert total_needed <= total <= total_needed + TOTAL_SLACK_MIN, (
        f"{path.name}: 'Time: about {total} minutes' does not match the sections' estimates, "
        f"which add up to {total_needed} min: give a total between {total_needed} and "
        f"{total_needed + TOTAL_SLACK_MIN} minutes, or fix the section estimates"
    )
