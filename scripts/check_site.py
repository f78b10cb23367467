"""Check the built site (`make book` runs this after the build).

- every page in _toc.yml was rendered to HTML;
- the only error shown in any output is an exercise stub's deliberate NotImplementedError;
- progress bars were not stored redraw by redraw;
- no output line is longer than 100 characters (the notebooks' limit; wider lines scroll
  sideways at desktop width, which `make browser` measures);
- every chapter shows at least one figure;
- the API page documents the helpers every chapter relies on, prints no constant as a long blob,
  no `<factory>` default, no private field, and no dataclass field twice (as an attribute and
  again as a parameter).
"""

from __future__ import annotations

import html
import re
import sys

from toc_notebooks import ROOT, toc_files

SITE = ROOT / "_build" / "html"
OUTPUT = re.compile(r'<div class="cell_output docutils container">(.*?)</div>\s*</div>', re.S)
MAX_OUTPUT_CHARS = 100
API_NAMES = ("helpers.runtime.set_seed", "helpers.runtime.get_device",
             "helpers.session.Session", "helpers.steinmetz.load_session", "helpers.train.fit",
             "helpers.metrics.bits_per_spike", "helpers.models.Seq2SeqRNN")


def output_texts(page: str) -> list[str]:
    """Plain text of every cell output on a rendered page."""
    return [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in OUTPUT.findall(page)]


def page_problems(name: str, page: str) -> list[str]:
    problems = []
    for text in output_texts(page):
        if "Traceback" in text or re.search(r"^\w+Error\b", text, re.M):
            if "Student exercise" not in text:
                problems.append(f"{name}: an output shows an error: {text.strip()[:200]!r}")
        for line in text.splitlines():
            if len(line) > MAX_OUTPUT_CHARS:
                problems.append(f"{name}: an output line of {len(line)} characters (limit "
                                f"{MAX_OUTPUT_CHARS}): {line[:80]!r}")
        redraws = len(re.findall(r"\d+%\|", text))
        if redraws > 1 and redraws > text.count("100%|"):
            problems.append(f"{name}: a progress bar was stored redraw by redraw")
    is_chapter = re.match(r"book/\d\d_", name) and not name.startswith("book/00_")
    if is_chapter and "<img" not in page.split('id="objectives"')[-1]:
        problems.append(f"{name}: a chapter without a single figure")
    return problems


SIGNATURE = re.compile(r'<dt class="sig sig-object py" id="([^"]+)">(.*?)</dt>', re.S)
FIELD_LIST = re.compile(r'<dl class="field-list simple">(.*?)</dl>', re.S)
MAX_CONSTANT_CHARS = 200


def api_problems(page: str) -> list[str]:
    """The API page's signatures: no value blobs, no `<factory>`, no private names."""
    problems = []
    for name, signature in SIGNATURE.findall(page):
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", signature))).strip()
        if "<factory>" in text:
            problems.append(f"api: {name} shows a <factory> default")
        if any(part.startswith("_") and not part.startswith("__") for part in name.split(".")):
            problems.append(f"api: {name} is private")
        is_constant = re.match(r"[\w.]+\s*[:=]", text) is not None  # not f(...) or class
        if is_constant and len(text) > MAX_CONSTANT_CHARS:
            problems.append(f"api: {name} is printed as a {len(text)}-character blob")
    for block in FIELD_LIST.findall(page):
        names = {}
        for section in re.split(r'<dt class="field-(?:odd|even)">', block)[1:]:
            names[section.split("<", 1)[0]] = set(re.findall(r"<strong>(\w+)</strong>", section))
        twice = names.get("Variables", set()) & names.get("Parameters", set())
        if twice:
            problems.append(f"api: {', '.join(sorted(twice))} documented twice (as attributes "
                            "and as parameters)")
    return problems


def main() -> int:
    problems = []
    for name in toc_files():
        path = SITE / f"{name}.html"
        if not path.exists():
            problems.append(f"{name}: no page at {path}")
            continue
        problems += page_problems(name, path.read_text())
    api = (SITE / "book" / "api.html").read_text() if (SITE / "book" / "api.html").exists() else ""
    problems += [f"api: {n} is not documented" for n in API_NAMES if f'id="{n}"' not in api]
    problems += api_problems(api)
    if (SITE / "index.html").exists() is False:
        problems.append("no index.html")
    for problem in problems:
        print("SITE CHECK:", problem)
    print(f"site check: {len(toc_files())} pages, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
