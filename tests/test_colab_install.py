"""Install `helpers` the way a chapter's Colab set-up cell does, then run Getting started there.

What this reproduces of Colab:
- a fresh virtual environment outside the checkout, with PyTorch and a Jupyter kernel already
  installed (Colab preinstalls both), and nothing else from the book;
- ``helpers`` installed by the notebook's own set-up cell (``%pip install "helpers @ ..."``, run
  because ``google.colab`` is imported, as on Colab), from a wheel built from this checkout instead
  of the GitHub URL, so pip resolves the package's loose dependency ranges (``numpy>=1.24``, ...)
  to whatever the index has today and must keep the preinstalled torch;
- the notebook executed by a kernel whose working directory, ``HOME`` and caches lie outside the
  checkout, so it cannot lean on the checkout's files or on ``data/``.

Torch: Colab's torch is usually a different minor version from the pinned one. The package index
offers other torch minor versions for Linux only as CUDA builds (several GB, with the NVIDIA
libraries), so this test preinstalls the same CPU build the checkout uses (torch 2.13.0+cpu, a
local wheel); what is checked is that installing ``helpers`` keeps a preinstalled torch instead of
replacing it.

It needs the package index (as ``make setup`` does) and takes about 2 minutes on 2 idle cores
(half of it pip installing numpy, scipy, pandas, ... in the set-up cell).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "book" / "00_getting_started.ipynb"
PIP_TIMEOUT_S = 600
RUN_TIMEOUT_S = 600
GIT_REQUIREMENT = re.compile(r"[\"']helpers @ git\+[^\"']+[\"']")
MARKER = "COLAB-CHECK "

# First cell: what makes the set-up cell believe it runs on Colab.
LOOK_LIKE_COLAB = """\
import sys, types
sys.modules["google.colab"] = types.ModuleType("google.colab")  # the test's only pretence"""

# Last cell: what the test checks, printed as one JSON line.
REPORT = f"""\
import importlib, importlib.metadata, json, os, sys
import helpers, torch
for _name in ("helpers.steinmetz", "helpers.data"):
    try:
        _module = importlib.import_module(_name)
        break
    except ImportError:
        continue
print({MARKER!r} + json.dumps({{
    "helpers": helpers.__file__, "python": sys.executable, "torch": torch.__version__,
    "data_dir": str(_module.data_dir()), "cwd": os.getcwd(),
    "versions": {{_p: importlib.metadata.version(_p) for _p in ("numpy", "scipy", "pandas",
                 "scikit-learn", "matplotlib", "seaborn", "pooch", "tqdm")}},
    "modules": sorted({{getattr(m, "__file__", None) or "" for m in list(sys.modules.values())}}),
}}))"""

# Runs inside the fresh environment: execute the notebook as Jupyter would.
RUNNER = f"""\
import sys
import zipfile
import nbclient, nbformat
notebook = nbformat.read(sys.argv[1], as_version=4)
client = nbclient.NotebookClient(notebook, timeout={RUN_TIMEOUT_S}, kernel_name="python3")
try:
    client.execute()
finally:
    nbformat.write(notebook, sys.argv[2])
"""


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def build_wheel(workdir: Path) -> Path:
    """The helpers wheel, built from a copy of only what packaging needs (not the checkout)."""
    source = workdir / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "helpers", source / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         str(workdir / "dist"), str(source)], timeout=PIP_TIMEOUT_S)
    (wheel,) = (workdir / "dist").glob("helpers-*.whl")
    return wheel


def colab_like_notebook(wheel: Path) -> nbformat.NotebookNode:
    """Getting started, its set-up cell pointed at the wheel, between the two test cells."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    setup = notebook.cells[3]
    assert "google.colab" in setup.source and GIT_REQUIREMENT.search(setup.source), (
        "the set-up cell no longer installs helpers with "
        '`%pip install "helpers @ git+https://..."`: update this test')
    setup.source = GIT_REQUIREMENT.sub(f'"helpers @ {wheel.as_uri()}"', setup.source)
    # Byte-compiling numpy, scipy, pandas, ... takes more time than installing them; Colab's
    # own pip compiles, which changes nothing that this test checks.
    setup.source = setup.source.replace("%pip install ", "%pip install --no-compile ", 1)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(LOOK_LIKE_COLAB))
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT))
    return notebook


@pytest.mark.slow
def test_getting_started_runs_after_a_colab_style_install(tmp_path) -> None:
    torch_version = importlib.metadata.version("torch")
    if "+cpu" not in torch_version:
        pytest.skip(f"torch {torch_version} is not a CPU build: preinstalling it in a fresh "
                    "environment could download several GB of CUDA libraries")
    assert not tmp_path.resolve().is_relative_to(ROOT), "the test must run outside the checkout"
    pip_cache = run([sys.executable, "-m", "pip", "cache", "dir"]).stdout.strip()
    start = time.perf_counter()
    wheel = build_wheel(tmp_path)
    timings = {"build the wheel": time.perf_counter() - start}
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.namelist()
    data_files = [p.relative_to(ROOT).as_posix() for pattern in ("*.csv", "*.json")
                  for p in (ROOT / "helpers").glob(pattern)]
    assert all(name in shipped for name in data_files), (
        f"the wheel lacks package data {data_files}: see [tool.setuptools.package-data]")

    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "venv", str(venv)], timeout=PIP_TIMEOUT_S)
    # What Colab has before the set-up cell runs: torch and a Jupyter kernel.
    # (--no-compile: byte-compiling torch's thousands of modules would take longer than the rest.)
    run([str(python), "-m", "pip", "install", "--quiet", "--no-compile", f"torch=={torch_version}",
         "ipykernel", "nbclient"], timeout=PIP_TIMEOUT_S)
    timings["fresh venv with torch and a kernel"] = time.perf_counter() - start - sum(
        timings.values())

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    notebook_in, notebook_out = work / "getting_started.ipynb", work / "executed.ipynb"
    nbformat.write(colab_like_notebook(wheel), notebook_in)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "XDG_", "STEINMETZ_",
                                  "MPLBACKEND", "PIP_"))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               STEINMETZ_SOURCE="simulated", OMP_NUM_THREADS="1", PIP_CACHE_DIR=pip_cache,
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    result = subprocess.run([str(python), "-c", RUNNER, str(notebook_in), str(notebook_out)],
                            cwd=work, env=env, capture_output=True, text=True,
                            timeout=RUN_TIMEOUT_S, check=False)
    timings["set-up cell's install and the notebook"] = time.perf_counter() - start - sum(
        timings.values())
    executed = nbformat.read(notebook_out, as_version=4) if notebook_out.exists() else None
    outputs = "" if executed is None else "\n".join(
        output.get("text", "") or "\n".join(str(v) for v in output.get("data", {}).values())
        + "".join(output.get("traceback", []))
        for cell in executed.cells if cell.cell_type == "code" for output in cell.outputs)
    assert result.returncode == 0, f"{outputs[-6000:]}\n{result.stderr[-4000:]}"

    line = next(line for line in outputs.splitlines() if line.startswith(MARKER))
    report = json.loads(line.removeprefix(MARKER))
    print(", ".join(f"{step}: {seconds:.0f} s" for step, seconds in timings.items()))
    print("resolved:", report["versions"], "torch", report["torch"])
    assert Path(report["python"]).parent.parent == venv, report["python"]
    assert Path(report["helpers"]).is_relative_to(venv), (
        f"helpers was imported from {report['helpers']}, not from the fresh environment")
    assert report["torch"] == torch_version, "installing helpers replaced the preinstalled torch"
    assert Path(report["data_dir"]).is_relative_to(home / ".cache"), (
        f"outside a checkout the data cache should be the user cache, not {report['data_dir']}")
    from_checkout = [path for path in report["modules"] if path.startswith(str(ROOT))]
    assert not from_checkout, f"modules imported from the checkout: {from_checkout[:5]}"
    shown = outputs.replace(line, "")
    assert str(ROOT) not in shown, "an output shows a path of the checkout"
    assert "Traceback" not in shown
