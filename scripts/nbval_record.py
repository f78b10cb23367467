"""pytest plugin: keep what nbval executed, for the site build (`make nbval` loads it).

    pytest -p nbval_record --nbval-record=_build/executed --nbval-lax --nbval-current-env ...

nbval runs each code cell of a notebook in one kernel and keeps the cell's outputs in
``IPyNbCell.test_outputs`` (streams merged exactly as the site merges them). When every cell of
a notebook passed, this plugin writes the notebook with those outputs under the given folder, at
its path relative to pytest's rootdir (scripts/executed_notebooks.py), stamped with the helpers
fingerprint taken when the session started; if `helpers/` changed during the run, nothing is
written. Works under pytest-xdist: each notebook runs on one worker (`--dist loadscope`), which
writes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from executed_notebooks import executed_path, helpers_fingerprint, write_executed

_FINGERPRINT = pytest.StashKey[str]()


@dataclass
class _Run:
    """One notebook's execution: outputs per code cell, and whether any cell failed."""

    start: float = field(default_factory=time.perf_counter)
    outputs: dict[int, list] = field(default_factory=dict)
    failed: bool = False


_RUNS: dict[str, _Run] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--nbval-record", metavar="DIR", default=None,
                     help="write every notebook that passed nbval, with its outputs, to DIR "
                          "(scripts/nbval_record.py)")


def _recording(item: pytest.Item) -> bool:
    return (type(item).__name__ == "IPyNbCell" and hasattr(item, "cell_num")
            and item.config.getoption("nbval_record") is not None)


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_FINGERPRINT] = helpers_fingerprint()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _recording(item):
        _RUNS.setdefault(item.parent.nodeid, _Run())  # the first cell starts the kernel


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if _recording(item):
        run = _RUNS.setdefault(item.parent.nodeid, _Run())
        if report.failed or report.skipped:
            run.failed = True
        elif call.when == "call":
            run.outputs[item.cell_num] = list(item.test_outputs or [])
    return report


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After a notebook's last cell: write it if every cell ran and passed."""
    if not _recording(item) or (nextitem is not None and nextitem.parent is item.parent):
        return
    run = _RUNS.pop(item.parent.nodeid, None)
    notebook = item.parent.nb
    n_code = sum(cell.cell_type == "code" for cell in notebook.cells)
    fingerprint = item.config.stash[_FINGERPRINT]
    if (run is None or run.failed or sorted(run.outputs) != list(range(n_code))
            or helpers_fingerprint() != fingerprint):
        return  # a cell failed or was skipped, or helpers/ changed while the notebook ran
    out = Path(item.config.getoption("nbval_record"))
    out = out if out.is_absolute() else item.config.invocation_params.dir / out
    path = executed_path(item.parent.path, item.config.rootpath, out)
    outputs = [run.outputs[index] for index in range(n_code)]
    # The kernel's language info, as the site build's own execution stores it: its `ipython3`
    # lexer highlights `%pip` lines without a warning. (--nbval-current-env: this interpreter.)
    from ipykernel.ipkernel import IPythonKernel

    write_executed(path, notebook, outputs, time.perf_counter() - run.start, fingerprint,
                   {"language_info": dict(IPythonKernel.language_info)})
