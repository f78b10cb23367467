"""helpers.progress: live, final-line and silent progress bars."""

from __future__ import annotations

import pytest

from helpers.progress import ProgressBar, progress, progress_mode


def test_final_mode_prints_one_clean_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "final")
    assert list(progress(range(50), "counting")) == list(range(50))
    err = capsys.readouterr().err
    assert "\r" not in err
    assert err.count("\n") == 1 and "50/50" in err and "counting" in err


def test_final_mode_supports_postfix_and_manual_updates(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "final")
    bar = ProgressBar(total=10, desc="fit")
    for _ in range(10):
        bar.update(1)
        bar.set_postfix_str("val 0.123")
    bar.close()
    bar.close()  # closing twice prints once
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "val 0.123" in err


def test_off_mode_and_disabled_bars_print_nothing(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "off")
    assert sum(progress(range(5))) == 10
    monkeypatch.setenv("HELPERS_PROGRESS", "live")
    assert sum(progress(range(5), enabled=False)) == 10
    assert capsys.readouterr().err == ""


def test_live_mode_is_a_normal_bar(monkeypatch, capsys) -> None:
    monkeypatch.delenv("HELPERS_PROGRESS", raising=False)
    assert progress_mode() == "live"
    list(progress(range(3), "live"))
    assert "3/3" in capsys.readouterr().err


def test_unknown_mode_names_the_choices(monkeypatch) -> None:
    monkeypatch.setenv("HELPERS_PROGRESS", "fancy")
    with pytest.raises(ValueError, match="live"):
        progress_mode()
