"""Build the HTML site with every notebook executed, warnings as errors (`make book`).

Executed notebooks are cached by Jupyter Book (keyed on each notebook's code). The cache is
dropped whenever `helpers/`, the pinned requirements or the data source change, so the site
never shows outputs computed with older helpers, and a rebuild with nothing changed is fast.

After `make nbval` (as in `make test`), the notebooks nbval executed with today's helpers and
code are put into that cache first (scripts/executed_notebooks.py): the build renders them
instead of executing them a second time, and executes only the others.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from check_site import main as check_site
from executed_notebooks import (
    BUILD,
    cache_executions,
    fresh_executions,
    helpers_fingerprint,
    seconds_of,
)
from toc_notebooks import ROOT, toc_notebooks

CACHE = BUILD / ".jupyter_cache"
FINGERPRINT = BUILD / ".helpers-fingerprint"

__all__ = ["helpers_fingerprint", "main", "reuse_nbval_executions"]


def reuse_nbval_executions(fingerprint: str) -> None:
    """Cache nbval's fresh executions for the build; say which notebooks the build executes."""
    notebooks = toc_notebooks()
    fresh, stale = fresh_executions(notebooks, fingerprint)
    if fresh:
        cache_executions(CACHE, fresh)
        print(f"Rendering {len(fresh)} notebook(s) as nbval executed them (make nbval), "
              "with today's helpers and code; seconds nbval took:")
        for path, executed in fresh.items():
            print(f"  {path.relative_to(ROOT)}  {seconds_of(executed):6.0f} s")
    if stale and fresh:
        for path, reason in stale.items():
            print(f"  {path.relative_to(ROOT)}: executed by the build ({reason})")


def main() -> int:
    fingerprint = helpers_fingerprint()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "-W", "--keep-going"]
    previous = FINGERPRINT.read_text() if FINGERPRINT.exists() else None
    built_before = CACHE.exists() or (BUILD / "html").exists()
    if built_before and previous != fingerprint:
        print("helpers/, requirements or STEINMETZ_SOURCE changed since the last good build: "
              "re-rendering all pages, with no execution older than that.")
        shutil.rmtree(CACHE, ignore_errors=True)
        command.append("--all")
    reuse_nbval_executions(fingerprint)
    code = subprocess.call(command, cwd=ROOT)
    if code != 0:
        print(f"The book build failed (exit {code}); see the messages above "
              "and the reports under _build/html/reports/.")
        return code
    if check_site() != 0:
        print("The site was built but fails its checks (above).")
        return 1
    BUILD.mkdir(exist_ok=True)
    FINGERPRINT.write_text(fingerprint)
    print(f"Site built: {BUILD / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
