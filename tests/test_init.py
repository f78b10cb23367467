"""The package as a whole: its top-level names, one concern per module, no import cycle, and
``__all__`` in every module (issue 8)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import helpers

ROOT = Path(helpers.__file__).resolve().parent.parent
MODULES = sorted(info.name for info in pkgutil.iter_modules(helpers.__path__))

_PROBE = """
import importlib, json, sys
importlib.import_module("helpers.{name}")
print(json.dumps(sorted(m for m in sys.modules if m.startswith("helpers"))))
"""


@pytest.fixture(scope="module")
def fresh_imports() -> dict[str, subprocess.CompletedProcess]:
    """Import every module alone, each in a fresh interpreter (started all at once)."""
    processes = {name: subprocess.Popen(
        [sys.executable, "-c", _PROBE.format(name=name)], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in MODULES}
    results = {}
    for name, process in processes.items():
        out, err = process.communicate(timeout=300)
        results[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return results


def test_the_package_has_the_modules_of_issue_8():
    expected = {"baselines", "classify", "evaluation", "metrics", "models", "plotting", "recipes",
                "realism", "runtime", "session", "splits", "steinmetz", "surrogate", "train"}
    assert expected <= set(MODULES)
    assert "data" not in MODULES and "progress" not in MODULES  # split up, not kept as aliases
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("helpers.data")


@pytest.mark.parametrize("name", MODULES)
def test_every_module_imports_alone_in_a_fresh_interpreter(fresh_imports, name):
    result = fresh_imports[name]
    assert result.returncode == 0, f"import helpers.{name} failed:\n{result.stderr[-2000:]}"
    assert f"helpers.{name}" in json.loads(result.stdout.strip().splitlines()[-1])


def test_the_simulation_does_not_import_the_real_data_loader(fresh_imports):
    loaded = json.loads(fresh_imports["surrogate"].stdout.strip().splitlines()[-1])
    assert "helpers.steinmetz" not in loaded
    assert "helpers.session" in loaded


@pytest.mark.parametrize("name", MODULES)
def test_every_module_defines_all_and_its_names_exist(name):
    module = importlib.import_module(f"helpers.{name}")
    assert isinstance(getattr(module, "__all__", None), list | tuple), f"{name} has no __all__"
    assert module.__all__, f"helpers.{name}.__all__ is empty"
    missing = [item for item in module.__all__ if not hasattr(module, item)]
    assert not missing, f"helpers.{name}.__all__ names missing objects: {missing}"
    assert len(set(module.__all__)) == len(module.__all__), f"duplicates in {name}.__all__"


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_its_own_test_file(name):
    """Tests mirror modules: helpers/<module>.py is tested in tests/test_<module>.py."""
    assert (ROOT / "tests" / f"test_{name}.py").is_file(), f"no tests/test_{name}.py"


def test_top_level_names():
    from helpers.runtime import get_device, set_seed
    from helpers.session import Session
    from helpers.steinmetz import list_sessions, load_session

    assert set(helpers.__all__) == {"set_seed", "get_device", "load_session", "list_sessions",
                                    "Session", "__version__"}
    assert helpers.set_seed is set_seed and helpers.get_device is get_device
    assert helpers.load_session is load_session and helpers.list_sessions is list_sessions
    assert helpers.Session is Session
    assert isinstance(helpers.__version__, str)


def test_one_rate_floor():
    from helpers import baselines, metrics, models

    assert metrics.RATE_FLOOR == 1e-6
    assert models.RATE_FLOOR is metrics.RATE_FLOOR and baselines.RATE_FLOOR is metrics.RATE_FLOOR


def test_recipes_are_frozen_dataclasses():
    import dataclasses

    from helpers.classify import CLASSIFIER_RECIPE, PLAIN_RECIPE
    from helpers.models import (
        COURSE_SEQ2SEQ,
        PLAIN_CLASSIFIER,
        RECOMMENDED_CLASSIFIER,
        RECOMMENDED_SEQ2SEQ,
    )
    from helpers.train import COURSE_RECIPE, RECOMMENDED_FIT

    for recipe in (RECOMMENDED_FIT, COURSE_RECIPE, RECOMMENDED_SEQ2SEQ, COURSE_SEQ2SEQ,
                   RECOMMENDED_CLASSIFIER, PLAIN_CLASSIFIER, CLASSIFIER_RECIPE, PLAIN_RECIPE):
        assert dataclasses.is_dataclass(recipe)
        field = dataclasses.fields(recipe)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(recipe, field, None)
