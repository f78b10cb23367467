"""Run pytest, turning 'no tests collected' (exit code 5) into a clear failure."""

from __future__ import annotations

import sys

import pytest

if __name__ == "__main__":
    code = pytest.main(sys.argv[1:])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(f"pytest collected no tests from {sys.argv[1:]}: that is a failure here.")
        sys.exit(1)
    sys.exit(int(code))
