"""Sphinx extension for the course site (loaded through `sphinx.local_extensions` in _config.yml).

What it changes in the HTML, and why (issue 12; `scripts/check_browser.py` holds each one):

- Exercises: an exercise stub (code cell tagged `raises-exception`) shows a short "Your turn"
  note instead of its deliberate NotImplementedError traceback; the notebooks still raise for
  students. Its solution (the next cell, starting with `# Solution`) is collapsed whole, code and
  output, behind a toggle that reads "Show solution".
- Script tags: sphinx-thebe 0.3.1 registers its inline `const THEBE_JS_URL = ...` script after
  the HTML builder was initialised; Sphinx 7.4 stores that one script twice (once with filename
  None, once with ""), so every page declared the constant twice and logged a SyntaxError. Pages
  get each script once.
- Theme: the theme showed a second search field in the top navbar, next to the sidebar's; its
  empty default colour mode logged a console error on a reader's first page.
- Bibliography: labels read "Steinmetz et al., 2019", like the author-year citations in the
  text, instead of pybtex's alpha labels ("CvMerrienboerG+14").
- API page: an Attributes entry "a, b: text" (rendered by napoleon as "b (a,) - text") becomes
  one entry per name; dataclass signatures show neither private fields (`_name`) nor `<factory>`
  defaults, private members are never listed, and a constant's value is shown only when it is
  short (`SESSIONS` used to be a 3,800-character line).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

__all__ = ["AuthorYearLabels", "ExercisePresentation", "author_year_label", "clean_signature",
           "is_solution_source", "setup", "split_grouped_attributes", "unique_scripts",
           "value_is_short"]

SOLUTION_MARK = "# Solution"
STUB_TAG = "raises-exception"
YOUR_TURN = ("Your turn: complete the code above and run it. In the notebook this cell raises "
             "NotImplementedError until you do; the solution follows.")


def is_solution_source(source: str) -> bool:
    """Whether a code cell's source is an exercise solution (its first line is `# Solution`)."""
    return source.lstrip().startswith(SOLUTION_MARK)


class ExercisePresentation(SphinxPostTransform):
    """Stub cells: a "Your turn" note instead of the traceback; solution cells: collapsed whole.

    Runs before myst-nb's HideInputCells (priority 199), which turns `hide_mode` into the
    <details> toggle.
    """

    default_priority = 150
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        for cell in list(self.document.findall(nodes.container)):
            if cell.get("nb_element") != "cell_code":
                continue
            tags = cell.get("cell_metadata", {}).get("tags", [])
            source = "".join(block.astext() for block in cell.findall(nodes.literal_block)
                             if block.parent.get("nb_element") == "cell_code_source")
            if STUB_TAG in tags:
                cell["classes"].append("exercise-stub")
                for output in [c for c in cell.children
                               if c.get("nb_element") == "cell_code_output"]:
                    cell.remove(output)
                note = nodes.container(classes=["exercise-your-turn"])
                note += nodes.paragraph(text=YOUR_TURN)
                cell += note
            elif is_solution_source(source):
                cell["classes"].append("exercise-solution")
                cell["hide_mode"] = "all"
                cell["prompt_show"] = "Show solution"
                cell["prompt_hide"] = "Hide solution"


def unique_scripts(scripts: list[Any]) -> list[Any]:
    """The page's scripts in order, each once (an inline script's filename may be None or "")."""
    seen, kept = set(), []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""
        attributes = tuple(sorted((getattr(script, "attributes", None) or {}).items()))
        key = (filename, getattr(script, "priority", None), attributes)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    return kept


def dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict,
                   doctree: Any) -> None:
    if "script_files" in context:
        context["script_files"] = unique_scripts(context["script_files"])


def clean_signature(signature: str | None) -> str | None:
    """A dataclass signature without private fields and with `<factory>` defaults as `...`.

    `signature` is autodoc's "(a: int = 1, _cache: dict = <factory>)" text.
    """
    if not signature or not signature.startswith("("):
        return signature
    inner = signature[1:signature.rfind(")")]
    tail = signature[signature.rfind(")") + 1:]
    parameters, depth, current = [], 0, ""
    for char in inner:  # split on top-level commas only
        depth += char in "([{<"
        depth -= char in ")]}>"
        if char == "," and depth == 0:
            parameters.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parameters.append(current.strip())
    kept = [re.sub(r"=\s*<factory>", "= ...", p) for p in parameters
            if not p.lstrip("*").startswith("_")]
    return "(" + ", ".join(kept) + ")" + tail


def process_signature(app: Sphinx, what: str, name: str, obj: Any, options: Any,
                      signature: str | None, return_annotation: str | None
                      ) -> tuple[str | None, str | None]:
    if what == "class":
        return clean_signature(signature), return_annotation
    return signature, return_annotation


def skip_private_fields(app: Sphinx, what: str, name: str, obj: Any, skip: bool,
                        options: Any) -> bool | None:
    """Private dataclass fields are never documented."""
    return True if name.startswith("_") and not name.startswith("__") else None


def theme_options(app: Sphinx, config: Any) -> None:
    """One search field (the sidebar's, none in the top navbar); an explicit colour mode (the
    theme's empty default logged "Got invalid theme mode" on a reader's first page)."""
    options = dict(config.html_theme_options or {})
    options.setdefault("navbar_persistent", [])
    config.html_theme_options = options
    config.html_context = {"default_mode": "auto", **(config.html_context or {})}


MAX_VALUE_CHARS = 60


def value_is_short(value: Any) -> bool:
    """Whether autodoc may print this constant's value in the page (a short repr)."""
    from sphinx.util.inspect import object_description

    try:
        return len(object_description(value)) <= MAX_VALUE_CHARS
    except Exception:  # an object whose repr fails has no value worth showing
        return False


def _short_value_documenters():
    from sphinx.ext.autodoc import AttributeDocumenter, DataDocumenter

    class ShortValueDataDocumenter(DataDocumenter):
        """Module constants: the value only when it is short."""

        def should_suppress_value_header(self) -> bool:
            return super().should_suppress_value_header() or not value_is_short(self.object)

    class ShortValueAttributeDocumenter(AttributeDocumenter):
        """Class attributes (dataclass defaults too): the value only when it is short."""

        def should_suppress_value_header(self) -> bool:
            return super().should_suppress_value_header() or not value_is_short(self.object)

    return ShortValueDataDocumenter, ShortValueAttributeDocumenter


SECTION = re.compile(r"^(\s*)([A-Z][A-Za-z ]*):\s*$")
GROUPED_ENTRY = re.compile(r"^(\s+)(\w+(?:\s*,\s*\w+)+)(\s*\([^)]*\))?:(.*)$")


def split_grouped_attributes(lines: list[str]) -> list[str]:
    """Google-style docstring lines with "a, b: text" entries of an Attributes section written
    as one entry per name ("a: text", "b: text"), which napoleon renders correctly."""
    out, in_attributes, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        section = SECTION.match(line)
        if section:
            in_attributes = section.group(2) == "Attributes"
        entry = GROUPED_ENTRY.match(line) if in_attributes else None
        if entry is None:
            out.append(line)
            i += 1
            continue
        indent, names, kind, text = entry.groups()
        block_end = i + 1  # continuation lines are indented deeper than the entry
        while block_end < len(lines) and (not lines[block_end].strip() or (
                len(lines[block_end]) - len(lines[block_end].lstrip()) > len(indent))):
            block_end += 1
        while block_end > i + 1 and not lines[block_end - 1].strip():
            block_end -= 1
        for name in re.split(r"\s*,\s*", names):
            out.append(f"{indent}{name}{kind or ''}:{text}")
            out.extend(lines[i + 1:block_end])
        i = block_end
    return out


def process_docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any,
                      lines: list[str]) -> None:
    lines[:] = split_grouped_attributes(lines)


def _plain(latex: str) -> str:
    from pybtex.richtext import Text

    return Text.from_latex(latex).render_as("text").replace("{", "").replace("}", "")


def author_year_label(last_names: list[str], year: str) -> str:
    """'Steinmetz et al., 2019', 'Ojala and Garriga, 2010', 'Cho, 2014' (as cited in the text)."""
    if not last_names:
        who = "Anonymous"
    elif len(last_names) == 1:
        who = last_names[0]
    elif len(last_names) == 2:
        who = f"{last_names[0]} and {last_names[1]}"
    else:
        who = f"{last_names[0]} et al."
    return f"{who}, {year}"


def _make_label_style():
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabels(BaseLabelStyle):
        """Bibliography labels matching sphinxcontrib-bibtex's author_year citations."""

        def format_labels(self, sorted_entries):
            labels = [self.format_label(entry) for entry in sorted_entries]
            count, counted = Counter(labels), Counter()
            for label in labels:  # same authors and year: 2019a, 2019b
                yield label if count[label] == 1 else label + chr(ord("a") + counted[label])
                counted.update([label])

        def format_label(self, entry) -> str:
            persons = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
            return author_year_label(names, entry.fields.get("year", "n.d."))

    return AuthorYearLabels


def _make_formatting_style(label_style: type):
    from pybtex.style.formatting.unsrt import Style as UnsrtStyle

    class CourseStyle(UnsrtStyle):
        """pybtex's unsrt entries, author-year labels, sorted by author, year and title."""

        default_label_style = label_style
        default_sorting_style = "author_year_title"

    return CourseStyle


AuthorYearLabels = None  # set in setup(): pybtex is imported only when Sphinx runs


def setup(app: Sphinx) -> dict[str, Any]:
    global AuthorYearLabels
    from pybtex.plugin import register_plugin

    AuthorYearLabels = _make_label_style()
    ShortValueDataDocumenter, ShortValueAttributeDocumenter = _short_value_documenters()
    register_plugin("pybtex.style.labels", "course_author_year", AuthorYearLabels,
                    force=True)
    register_plugin("pybtex.style.formatting", "course_author_year",
                    _make_formatting_style(AuthorYearLabels), force=True)
    app.add_post_transform(ExercisePresentation)
    app.connect("config-inited", theme_options)
    app.connect("html-page-context", dedupe_scripts)
    app.connect("autodoc-process-signature", process_signature)
    app.connect("autodoc-process-docstring", process_docstring, priority=400)  # before napoleon
    app.connect("autodoc-skip-member", skip_private_fields)
    app.add_autodocumenter(ShortValueDataDocumenter, override=True)
    app.add_autodocumenter(ShortValueAttributeDocumenter, override=True)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
