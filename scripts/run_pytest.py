"""Run pytest, turning 'no tests collected' (exit code 5) into a clear failure.

scripts/ goes on the import path of this process and, through PYTHONPATH, of pytest-xdist's
workers, so that `-p nbval_record` (scripts/nbval_record.py) loads everywhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SCRIPTS = str(Path(__file__).resolve().parent)

if __name__ == "__main__":
    sys.path.insert(0, SCRIPTS)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [SCRIPTS] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    code = pytest.main(sys.argv[1:])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(f"pytest collected no tests from {sys.argv[1:]}: that is a failure here.")
        sys.exit(1)
    sys.exit(int(code))
