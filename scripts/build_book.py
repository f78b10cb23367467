"""Build the HTML site with every notebook executed, warnings as errors (`make book`).

Executed notebooks are cached by Jupyter Book (keyed on each notebook's code). The cache is
dropped whenever `helpers/` or the pinned requirements change, so the site never shows outputs
computed with older helpers, and a rebuild with nothing changed is fast.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from check_site import main as check_site

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
FINGERPRINT = BUILD / ".helpers-fingerprint"


def helpers_fingerprint() -> str:
    """A hash of everything outside the notebooks that their outputs depend on."""
    digest = hashlib.sha256()
    paths = sorted((ROOT / "helpers").rglob("*.py")) + [ROOT / "requirements.txt"]
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def main() -> int:
    fingerprint = helpers_fingerprint()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "-W", "--keep-going"]
    previous = FINGERPRINT.read_text() if FINGERPRINT.exists() else None
    if BUILD.exists() and previous != fingerprint:
        print("helpers/ or requirements changed since the last good build: re-executing all.")
        shutil.rmtree(CACHE, ignore_errors=True)
        command.append("--all")
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
