"""helpers.runtime: seeds, device, CPU threads and live, final-line and silent progress bars."""
# ruff: noqa: NPY002 -- set_seed must seed the legacy global NumPy generator too.

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from helpers.runtime import (
    ProgressBar,
    cpu_threads,
    get_device,
    progress,
    progress_mode,
    set_seed,
)


# ------------------------------------------------------------------------------ seeds
def test_set_seed_makes_every_generator_repeat() -> None:
    draws = []
    for _ in range(2):
        assert set_seed(7) == 7
        draws.append((random.random(), np.random.rand(), torch.rand(1).item()))
    assert draws[0] == draws[1]
    set_seed(8)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != draws[0]
    assert set_seed(np.int64(3)) == 3 and isinstance(set_seed(np.int64(3)), int)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", None])
def test_set_seed_rejects_bad_seeds(seed) -> None:
    with pytest.raises(ValueError, match="seed"):
        set_seed(seed)


# ------------------------------------------------------------------------------ device
def test_get_device_picks_cpu_without_gpu(capsys) -> None:
    device = get_device()
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.type == expected
    assert "Using device" in capsys.readouterr().out
    assert get_device("cpu", verbose=False).type == "cpu"
    assert capsys.readouterr().out == ""


def test_get_device_errors_clearly() -> None:
    with pytest.raises(ValueError, match="prefer"):
        get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="GPU"):
            get_device("cuda")


# ------------------------------------------------------------------------------ threads
def test_cpu_threads_is_restored():
    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with cpu_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="n_threads"), cpu_threads(0):
        pass
    assert torch.get_num_threads() == before


def test_cpu_threads_is_restored_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(KeyError), cpu_threads(1):
        raise KeyError("boom")
    assert torch.get_num_threads() == before


# ------------------------------------------------------------------------------ progress
def test_final_mode_prints_one_clean_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "final")
    assert list(progress(range(50), "counting")) == list(range(50))
    captured = capsys.readouterr()
    assert "\r" not in captured.out and captured.err == ""
    assert captured.out.count("\n") == 1 and "50/50" in captured.out
    assert captured.out.startswith("counting")


def test_final_mode_supports_postfix_and_manual_updates(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "final")
    bar = ProgressBar(total=10, desc="fit")
    for _ in range(10):
        bar.update(1)
        bar.set_postfix_str("val 0.123")
    bar.close()
    bar.close()  # closing twice prints once
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "val 0.123" in out


def test_finish_in_final_mode_prints_exactly_the_summary_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "final")
    bar = ProgressBar(total=300, desc="training")
    for _ in range(139):
        bar.update()
    bar.finish("stopped early at iteration 139 of 300, kept 90")
    bar.close()  # already closed: nothing more
    captured = capsys.readouterr()
    assert captured.out == "training: stopped early at iteration 139 of 300, kept 90\n"
    assert captured.err == ""


def test_finish_in_live_mode_ends_the_bar_with_the_summary(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "live")
    bar = ProgressBar(total=5, desc="training")
    bar.update(5)
    bar.finish("ran all 5 iterations")
    captured = capsys.readouterr()
    assert "ran all 5 iterations" in captured.err and captured.out == ""


def test_off_mode_and_disabled_bars_print_nothing(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "off")
    assert sum(progress(range(5))) == 10
    ProgressBar(total=3, desc="quiet").finish("stopped early at iteration 1 of 3, kept 0")
    monkeypatch.setenv("HELPERS_PROGRESS", "live")
    assert sum(progress(range(5), enabled=False)) == 10
    monkeypatch.setenv("HELPERS_PROGRESS", "final")
    ProgressBar(total=3, desc="quiet", enabled=False).finish("ran all 3 iterations")
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_live_mode_is_a_normal_bar(monkeypatch, capsys) -> None:
    monkeypatch.delenv("HELPERS_PROGRESS", raising=False)
    assert progress_mode() == "live"
    list(progress(range(3), "live"))
    assert "3/3" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "mode"), [("FINAL", "final"), (" off ", "off"),
                                             ("", "live")])
def test_mode_is_read_leniently(monkeypatch, value, mode) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", value)
    assert progress_mode() == mode


def test_unknown_mode_names_the_choices(monkeypatch) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "fancy")
    with pytest.raises(ValueError, match="live"):
        progress_mode()
