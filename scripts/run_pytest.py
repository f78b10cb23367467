"""Run pytest, turning 'no tests collected' (exit code 5) into a clear failure.

scripts/ goes on the import path of this process and, through PYTHONPATH, of pytest-xdist's
workers, so that `-p nbval_record` (scripts/nbval_record.py) loads everywhere.

With pytest-xdist workers (`-n N`, N not 0), each worker and the kernels it starts use one
BLAS/OpenMP thread: xdist already runs one process per core, and two notebooks whose numpy and
PyTorch each start a thread per core oversubscribe the cores (measured: chapter 2 took 439 s
beside chapter 6 on 2 cores, 79 s alone). A value already set in the environment is kept.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SCRIPTS = str(Path(__file__).resolve().parent)

def _parallel(args: list[str]) -> bool:
    """Whether the arguments ask pytest-xdist for workers (`-n N` or `-nN`, N not 0)."""
    for index, arg in enumerate(args):
        value = args[index + 1] if arg == "-n" and index + 1 < len(args) else (
            arg[2:] if arg.startswith("-n") and len(arg) > 2 else None)
        if value is not None:
            return value not in ("0", "")
    return False


if __name__ == "__main__":
    sys.path.insert(0, SCRIPTS)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [SCRIPTS] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    if _parallel(sys.argv[1:]):
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
    code = pytest.main(sys.argv[1:])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(f"pytest collected no tests from {sys.argv[1:]}: that is a failure here.")
        sys.exit(1)
    sys.exit(int(code))
