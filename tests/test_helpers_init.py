"""helpers.set_seed and helpers.get_device."""
# ruff: noqa: NPY002 -- set_seed must seed the legacy global NumPy generator too.

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import helpers


def test_set_seed_makes_every_generator_repeat() -> None:
    draws = []
    for _ in range(2):
        assert helpers.set_seed(7) == 7
        draws.append((random.random(), np.random.rand(), torch.rand(1).item()))
    assert draws[0] == draws[1]
    helpers.set_seed(8)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != draws[0]


@pytest.mark.parametrize("seed", [-1, 1.5, "7", None])
def test_set_seed_rejects_bad_seeds(seed) -> None:
    with pytest.raises(ValueError, match="seed"):
        helpers.set_seed(seed)


def test_get_device_picks_cpu_without_gpu(capsys) -> None:
    device = helpers.get_device()
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.type == expected
    assert "Using device" in capsys.readouterr().out
    assert helpers.get_device("cpu", verbose=False).type == "cpu"


def test_get_device_errors_clearly() -> None:
    with pytest.raises(ValueError, match="prefer"):
        helpers.get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="GPU"):
            helpers.get_device("cuda")
