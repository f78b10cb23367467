"""The browser check catches what it claims to, on a small site with one of each fault.

Needs Chromium and chromium-driver (as `make browser` does); skipped without them. About 10 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from check_browser import check_pages, find_browser  # noqa: E402

pytest.importorskip("selenium")
BROWSER = find_browser()
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium with chromedriver")

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><style>body {{ margin: 0; font-family: sans-serif; }}
main {{ max-width: 700px; margin: auto; }} pre {{ overflow-x: auto; }}</style></head>
<body><main>{body}</main></body></html>"""

CLEAN = """<button class="search-button-field">Search</button>
<p>Fine text.</p><img src="dot.svg" alt="a dot">
<div class="cell tag_raises-exception"><div class="cell_input"><pre>x = ...</pre></div>
<div class="exercise-your-turn"><p>Your turn</p></div></div>
<div class="cell"><details class="hide"><summary>Show solution</summary>
<div class="cell_input"><pre># Solution
x = 1</pre></div><div class="cell_output"><div class="output"><pre>1</pre></div></div>
</details></div>
<div class="cell"><div class="cell_input"><pre>print("short")</pre></div>
<div class="cell_output"><div class="output stream"><pre>short</pre></div></div></div>"""

FAULTY = """<script>not_defined_anywhere();</script>
<button class="search-button-field">Search</button>
<button class="search-button-field">Search</button>
<img src="missing.png" alt="gone">
<div style="width: 2000px">too wide for any window</div>
<div class="cell"><div class="cell_input"><pre>print(row)</pre></div>
<div class="cell_output"><div class="output stream"><pre>{long_line}</pre></div></div></div>
<div class="cell"><div class="cell_input"><pre># Solution
x = 1</pre></div><div class="cell_output"><div class="output"><pre>1</pre></div></div></div>
<div class="cell tag_raises-exception"><div class="cell_input"><pre>x = ...</pre></div>
<div class="cell_output"><div class="output traceback"><pre>Traceback (most recent call last)
NotImplementedError: Student exercise</pre></div></div></div>
<div class="cell"><div class="cell_input"><pre>fit()</pre></div>
<div class="cell_output"><div class="output traceback"><pre>Traceback (most recent call last)
ValueError: bad input</pre></div></div></div>"""


def test_a_clean_page_passes_and_each_fault_is_reported(tmp_path: Path) -> None:
    (tmp_path / "dot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" '
                                      'height="8"><circle cx="4" cy="4" r="4"/></svg>')
    (tmp_path / "clean.html").write_text(PAGE.format(body=CLEAN))
    (tmp_path / "faulty.html").write_text(PAGE.format(body=FAULTY.format(long_line="x" * 160)))
    problems, counts = check_pages(tmp_path, BROWSER, tmp_path / "shots", search=None)

    assert not [p for p in problems if p.startswith("clean.html")], problems
    faulty = "\n".join(problems)
    for width in ("desktop", "phone"):
        assert f"faulty.html @ {width}: console error" in faulty
        assert "not_defined_anywhere" in faulty
        assert f"faulty.html @ {width}: image did not load" in faulty
        assert f"faulty.html @ {width}: page is " in faulty
        assert f"faulty.html @ {width}: exercise solution not collapsed" in faulty
        assert f"faulty.html @ {width}: solution toggle does not say 'solution'" in faulty
        assert f"faulty.html @ {width}: exercise stub shows a traceback" in faulty
        assert f"faulty.html @ {width}: error output outside an exercise stub" in faulty
        assert f"faulty.html @ {width}: 2 search fields in view" in faulty
    assert "faulty.html @ desktop: output wider than its box: " + "x" * 20 in faulty
    assert "faulty.html @ phone: output wider" not in faulty  # judged at desktop width only
    assert counts["loads"] == 4 and counts["solutions"] == 2 and counts["stubs"] == 2
    assert counts["shots"] == 4 and (tmp_path / "shots" / "clean-phone.png").stat().st_size > 0
