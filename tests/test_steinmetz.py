"""Tests for helpers.steinmetz: the course-file reader, the cache, downloads, load_session,
list_sessions and available_source.

Real data are never downloaded here: small files in the course's exact format (few neurons,
the catalogue's trials) are written to a temporary folder and served, where a download is
tested, by a real HTTP server on 127.0.0.1 (``course_server`` in conftest.py) through
``STEINMETZ_MIRROR``; "no internet" is a fake probe (monkeypatch).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import files, steinmetz, surrogate
from helpers.catalogue import SESSIONS
from helpers.files import DataFolderError, DataUnavailableError
from helpers.session import OTHER_REGION, REGION_GROUPS
from helpers.steinmetz import (
    DataFormatError,
    list_sessions,
    load_session,
    read_steinmetz_npz,
)

AREAS = np.array(["VISp", " TT", "LGd", "root", "CA1", "MOs", "TH", "VISam"])


# --------------------------------------------------------------------------- fixtures
def course_entry(seed: int, mouse: str, date: str, n_neurons: int = 8, n_trials: int | None = None,
                 n_bins: int = 250) -> dict:
    """One session dict exactly as in the course's files (extra keys included); as many trials
    as the catalogue gives a session of that name (12 for other names)."""
    if n_trials is None:
        known = [info.n_trials for info in SESSIONS if info.name == f"{mouse} {date}"]
        n_trials = known[0] if known else 12
    rng = np.random.default_rng(seed)
    n = (n_trials, 1)
    return {
        "spks": rng.poisson(0.2, (n_neurons, n_trials, n_bins)).astype(np.uint8),
        "brain_area": AREAS[np.arange(n_neurons) % len(AREAS)],
        "ccf": rng.normal(size=(n_neurons, 3)),
        "trough_to_peak": rng.integers(5, 25, n_neurons),
        "contrast_left": rng.choice([0, 0.25, 0.5, 1.0], n_trials),
        "contrast_right": rng.choice([0, 0.25, 0.5, 1.0], n_trials),
        "response": rng.choice([-1.0, 0.0, 1.0], n_trials),
        "feedback_type": rng.choice([-1.0, 1.0], n_trials),
        "gocue": rng.uniform(0.4, 1.2, n),
        "response_time": rng.uniform(0.6, 2.0, n),
        "feedback_time": rng.uniform(0.6, 2.0, n),
        "prev_reward": rng.uniform(-1, 0, n),
        "reaction_time": rng.uniform(0, 1, (n_trials, 2)),
        "wheel": rng.integers(-2, 3, (1, n_trials, n_bins)),
        "pupil": rng.normal(size=(3, n_trials, n_bins)),
        "active_trials": np.ones(n_trials + 4, dtype=bool),
        "mouse_name": mouse,
        "date_exp": date,
        "bin_size": 0.01,
        "stim_onset": 0.5,
    }


def write_course_file(path: Path, entries: list[dict]) -> Path:
    dat = np.empty(len(entries), dtype=object)
    dat[:] = entries
    np.savez(path, dat=dat)
    return path


def catalogue_entry(index: int, seed: int | None = None, **sizes) -> dict:
    """The course dict of session ``index`` with the catalogue's name and trials."""
    info = SESSIONS[index]
    return course_entry(index if seed is None else seed, info.mouse_name, info.date_exp, **sizes)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No forced source or mirror, no remembered network failure or notice, no simulated
    session in memory."""
    for name in ("STEINMETZ_SOURCE", "STEINMETZ_DATA_DIR", "STEINMETZ_MIRROR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(steinmetz, "_SAID", set())
    monkeypatch.setattr(steinmetz._NETWORK, "failure", None)
    monkeypatch.setattr(surrogate, "_last_simulated", {})


@pytest.fixture
def part0(tmp_path) -> Path:
    """steinmetz_part0.npz with sessions 0 and 1 (Cori), in the course's format."""
    entries = [course_entry(0, "Cori", "2016-12-14"), course_entry(1, "Cori", "2016-12-17", 6)]
    return write_course_file(tmp_path / "steinmetz_part0.npz", entries)


@pytest.fixture
def offline(monkeypatch) -> list[str]:
    """The network probe says there is no internet; returns the list of probed URLs."""
    probed: list[str] = []

    def probe(url, timeout=5.0):
        probed.append(url)
        return "cannot reach osf.io (gaierror: no such host)"

    monkeypatch.setattr(files, "probe", probe)
    return probed


@pytest.fixture
def fake_simulation(monkeypatch) -> list[int]:
    """A tiny stand-in for simulated_session (the real one takes seconds); returns the calls."""
    calls: list[int] = []

    def simulate(index):
        calls.append(index)
        entry = course_entry(index, SESSIONS[index].mouse_name, SESSIONS[index].date_exp)
        session = steinmetz._session_from_dict(entry, "fake")
        session.source = "simulated"
        return session

    monkeypatch.setattr(steinmetz, "simulated_session", simulate)
    return calls


def files_in(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- reading files
def test_read_course_file(part0):
    sessions = read_steinmetz_npz(part0)
    assert [s.name for s in sessions] == ["Cori 2016-12-14", "Cori 2016-12-17"]
    first, raw = sessions[0], course_entry(0, "Cori", "2016-12-14")
    assert first.source == "real" and first.truth is None
    assert first.spikes.shape == (8, 214, 250) and first.spikes.dtype == np.uint8
    np.testing.assert_array_equal(first.spikes, raw["spks"])
    assert first.brain_area[1] == "TT" and first.region[1] == "other ctx"  # " TT" stripped
    np.testing.assert_array_equal(first.response, raw["response"])
    assert first.feedback_type.dtype == np.int64
    assert set(first.events) == {"gocue", "response_time", "feedback_time"}
    np.testing.assert_allclose(first.events["gocue"], raw["gocue"][:, 0])
    assert first.events["gocue"].shape == (214,)
    assert first.bin_size == 0.01 and first.stim_onset == 0.5
    assert sessions[1].spikes.shape == (6, 251, 250)


def test_read_float_counts_become_uint8(tmp_path):
    entry = course_entry(0, "Cori", "2016-12-14")
    entry["spks"] = entry["spks"].astype(float)
    sessions = read_steinmetz_npz(write_course_file(tmp_path / "f.npz", [entry]))
    assert sessions[0].spikes.dtype == np.uint8


def test_read_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="osf.io/agvxh"):
        read_steinmetz_npz(tmp_path / "steinmetz_part0.npz")


def test_read_truncated_file(part0):
    part0.write_bytes(part0.read_bytes()[: part0.stat().st_size // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupted.*Delete .*load_session"):
        read_steinmetz_npz(part0)


def test_read_garbage_file(tmp_path):
    path = tmp_path / "steinmetz_part1.npz"
    path.write_bytes(b"<html>Too many requests</html>")
    with pytest.raises(DataFormatError, match="corrupted.*Delete"):
        read_steinmetz_npz(path)


def test_read_corrupted_pickle(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    raw = buffer.getvalue()
    path = tmp_path / "bad.npz"
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:  # a valid zip whose pickle is cut short
        archive.writestr("dat.npy", raw[: len(raw) - 10])
    with pytest.raises(DataFormatError, match="could not be read"):
        read_steinmetz_npz(path)


def test_read_no_dat(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, spks=np.zeros(3))
    with pytest.raises(DataFormatError, match="no 'dat' array"):
        read_steinmetz_npz(path)


def test_read_dat_not_dicts(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, dat=np.arange(3))
    with pytest.raises(DataFormatError, match="1-D object array of dicts"):
        read_steinmetz_npz(path)


def test_read_missing_key(tmp_path):
    entry = course_entry(0, "Cori", "2016-12-14")
    del entry["feedback_type"]
    with pytest.raises(DataFormatError, match=r"session 0 lacks the key\(s\) \['feedback_type'\]"):
        read_steinmetz_npz(write_course_file(tmp_path / "x.npz", [entry]))


@pytest.mark.parametrize("key, value, message", [
    ("brain_area", np.array(["VISp"] * 3), "brain_area has 3 entries"),
    ("contrast_left", np.zeros(5), "contrast_left has 5 entries"),
    ("gocue", np.zeros((4, 1)), "events\\['gocue'\\] has 4 entries"),
    ("spks", np.zeros((8, 12)), "spks must be"),
    ("spks", np.full((8, 12, 250), 0.5), "whole spike counts"),
    ("spks", -np.ones((8, 12, 250)), "non-negative"),
    ("feedback_type", np.zeros(214), "feedback_type must contain only"),
    ("response", np.full(214, 0.5), "response must contain only"),
])
def test_read_inconsistent(tmp_path, key, value, message):
    entry = course_entry(0, "Cori", "2016-12-14")
    entry[key] = value
    with pytest.raises(DataFormatError, match=message):
        read_steinmetz_npz(write_course_file(tmp_path / "x.npz", [entry]))


# --------------------------------------------------------------------------- the cache
def test_load_real_from_local_file(part0):
    directory = part0.parent
    session = load_session(0, source="real", data_dir=directory)
    expected = read_steinmetz_npz(part0)[0]
    assert session.source == "real" and session.name == "Cori 2016-12-14"
    np.testing.assert_array_equal(session.spikes, expected.spikes)
    assert session.spikes.dtype == np.uint8
    for name in ("brain_area", "contrast_left", "contrast_right", "feedback_type", "response"):
        np.testing.assert_array_equal(getattr(session, name), getattr(expected, name))
    np.testing.assert_allclose(session.events["feedback_time"], expected.events["feedback_time"])
    # split once, both sessions, without pickles and without temporary files; the course
    # file's SHA-256 recorded beside it
    assert files_in(directory) == ["steinmetz_part0.npz", "steinmetz_part0.npz.sha256",
                                   "steinmetz_sessions/session_00.npz",
                                   "steinmetz_sessions/session_01.npz"]
    with np.load(directory / "steinmetz_sessions/session_01.npz", allow_pickle=False) as npz:
        assert npz["brain_area"].dtype.kind == "U" and npz["spikes"].shape == (6, 251, 250)
    record = (directory / "steinmetz_part0.npz.sha256").read_text()
    assert record == f"{files.sha256_of(part0)}  steinmetz_part0.npz\n"
    part0.unlink()  # later loads never need the big file again
    again = load_session("cori  2016-12-17", source="real", data_dir=directory)
    assert again.spikes.shape == (6, 251, 250)


def test_load_real_session_not_in_file(part0):
    with pytest.raises(DataFormatError, match=r"holds sessions \[0, 1\] but not session 2"):
        load_session(2, source="real", data_dir=part0.parent)


def test_a_mislabelled_course_file_is_refused_naming_both_sessions(tmp_path):
    """Part 1's content saved as steinmetz_part0.npz (as a manual download may be)."""
    part1 = [catalogue_entry(index) for index in (13, 14)]
    write_course_file(tmp_path / "steinmetz_part0.npz", part1)
    with pytest.raises(DataFormatError) as error:
        load_session(0, source="real", data_dir=tmp_path)
    message = str(error.value)
    assert "Lederberg 2017-12-07" in message and "Cori 2016-12-14" in message
    assert "session 13, which belongs in steinmetz_part1.npz" in message
    assert "delete it" in message
    assert files_in(tmp_path) == ["steinmetz_part0.npz"]  # nothing cached, nothing recorded


@pytest.mark.parametrize("change, found", [
    ({"date": "2016-12-15", "n_trials": 214}, "Cori 2016-12-15 (8 neurons, 214 trials)"),
    ({"n_trials": 200}, "Cori 2016-12-14 (8 neurons, 200 trials)"),
    ({"n_neurons": 735}, "Cori 2016-12-14 (735 neurons, 214 trials)"),
])
def test_a_session_unlike_its_catalogue_row_is_refused(tmp_path, change, found):
    entry = course_entry(0, "Cori", change.pop("date", "2016-12-14"), n_bins=20, **change)
    write_course_file(tmp_path / "steinmetz_part0.npz", [entry])
    with pytest.raises(DataFormatError, match="at position 0, " + found.replace("(", r"\(")
                       .replace(")", r"\)") + r" where the catalogue has session 0, Cori "
                       r"2016-12-14 \(734 neurons, 214 trials\)"):
        load_session(0, source="real", data_dir=tmp_path)


def test_a_copy_with_fewer_neurons_loads_with_a_note(part0, capsys):
    session = load_session(0, source="real", data_dir=part0.parent, verbose=False)
    assert session.n_neurons == 8
    out = capsys.readouterr().out
    assert "Note: session 0 (Cori 2016-12-14) has 8 of its 734 published neurons" in out
    load_session(1, source="real", data_dir=part0.parent, verbose=False)
    assert "session 0" not in capsys.readouterr().out  # said once


def test_a_renamed_cache_file_is_refused(part0):
    load_session(0, source="real", data_dir=part0.parent, verbose=False)
    cache = part0.parent / "steinmetz_sessions"
    (cache / "session_01.npz").unlink()
    (cache / "session_00.npz").rename(cache / "session_01.npz")
    part0.unlink()
    with pytest.raises(DataFormatError, match="session_01.npz holds session 0 \\(Cori "
                       "2016-12-14\\), not session 1 \\(Cori 2016-12-17\\).*Delete"):
        load_session(1, source="real", data_dir=part0.parent)


def test_a_course_file_that_changed_since_its_first_split_is_refused(part0):
    load_session(0, source="real", data_dir=part0.parent, verbose=False)
    (part0.parent / "steinmetz_sessions" / "session_00.npz").unlink()  # rebuilt from the file
    write_course_file(part0, [course_entry(7, "Cori", "2016-12-14")])  # same names, new content
    with pytest.raises(DataFormatError, match="steinmetz_part0.npz changed since it was first "
                       "used.*delete .*steinmetz_part0.npz.sha256"):
        load_session(0, source="real", data_dir=part0.parent)
    (part0.parent / "steinmetz_part0.npz.sha256").unlink()  # replaced on purpose
    assert load_session(0, source="real", data_dir=part0.parent).n_trials == 214


def test_a_bad_cached_bin_size_is_a_data_format_error(part0):
    load_session(0, source="real", data_dir=part0.parent, verbose=False)
    cached = part0.parent / "steinmetz_sessions" / "session_00.npz"
    with np.load(cached) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["bin_size"] = np.array([0.01, 0.02])
    np.savez(cached, **arrays)
    with pytest.raises(DataFormatError, match="session_00.npz is inconsistent.*Delete"):
        load_session(0, source="real", data_dir=part0.parent)


def test_a_differently_written_name_prints_no_note(part0, capsys):
    load_session(" CORI_2016-12-17 ", source="real", data_dir=part0.parent)
    out = capsys.readouterr().out
    assert "Loaded real session 1 (Cori 2016-12-17)" in out and "Note: the" not in out


def test_corrupted_cache_file(part0):
    load_session(0, source="real", data_dir=part0.parent)
    cached = part0.parent / "steinmetz_sessions" / "session_00.npz"
    cached.write_bytes(cached.read_bytes()[:100])
    with pytest.raises(DataFormatError, match="session_00.npz is unreadable.*Delete"):
        load_session(0, source="real", data_dir=part0.parent)


def test_cache_from_other_version_is_rebuilt(part0, monkeypatch):
    load_session(0, source="real", data_dir=part0.parent)
    monkeypatch.setattr(steinmetz, "_CACHE_FORMAT", 99)
    session = load_session(0, source="real", data_dir=part0.parent)  # rebuilt from the file
    assert "wheel" in session.behaviour
    cached = part0.parent / "steinmetz_sessions" / "session_00.npz"
    assert steinmetz._cache_format(cached) == 99


def test_cache_from_other_version_without_course_file(part0, monkeypatch):
    load_session(0, source="real", data_dir=part0.parent)
    part0.unlink()
    monkeypatch.setattr(steinmetz, "_CACHE_FORMAT", 99)
    monkeypatch.setattr(files, "probe", lambda url, timeout=5.0: "cannot reach")
    with pytest.raises(DataUnavailableError):
        load_session(0, source="real", data_dir=part0.parent)
    cached = part0.parent / "steinmetz_sessions" / "session_00.npz"
    assert cached.is_file()  # the stale file was kept: nothing is lost offline
    with pytest.raises(DataFormatError, match="another version of helpers"):
        steinmetz._session_from_cache(cached)


def test_behaviour_read_from_course_file_and_cached(part0):
    raw = course_entry(0, "Cori", "2016-12-14")
    first = read_steinmetz_npz(part0)[0]
    assert set(first.behaviour) == {"wheel", "pupil"}  # face and licks absent in this file
    assert first.behaviour["wheel"].shape == (214, 250)  # (1, trials, bins) -> (trials, bins)
    np.testing.assert_array_equal(first.behaviour["wheel"], raw["wheel"][0])
    assert first.behaviour["pupil"].shape == (214, 250, 3)
    np.testing.assert_allclose(first.behaviour["pupil"][..., 2], raw["pupil"][2], rtol=1e-6)
    cached = load_session(0, source="real", data_dir=part0.parent, verbose=False)
    again = load_session(0, source="real", data_dir=part0.parent, verbose=False)  # from cache
    for session in (cached, again):
        np.testing.assert_array_equal(session.behaviour["wheel"], raw["wheel"][0])
        assert session.behaviour["pupil"].shape == (214, 250, 3)
    with np.load(part0.parent / "steinmetz_sessions" / "session_00.npz",
                 allow_pickle=False) as npz:
        assert "behaviour_wheel" in npz.files
    window = again.window(0.0, 0.5).select(trials=[3, 1])
    np.testing.assert_array_equal(window.behaviour["wheel"], raw["wheel"][0][[3, 1], 50:100])


def test_bad_behaviour_array_in_course_file(tmp_path):
    entry = course_entry(0, "Cori", "2016-12-14")
    entry["wheel"] = entry["wheel"][0]  # (trials, bins): not the course's (1, trials, bins)
    with pytest.raises(DataFormatError, match="wheel must be a numeric \\(k, n_trials"):
        read_steinmetz_npz(write_course_file(tmp_path / "f.npz", [entry]))
    entry["wheel"] = np.zeros((1, 5, 250))  # wrong number of trials
    with pytest.raises(DataFormatError, match="behaviour\\['wheel'\\] has shape"):
        read_steinmetz_npz(write_course_file(tmp_path / "g.npz", [entry]))


def test_interrupted_split_leaves_no_file(part0, monkeypatch):
    def crash(file, **arrays):
        file.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        load_session(0, source="real", data_dir=part0.parent)
    assert files_in(part0.parent) == ["steinmetz_part0.npz", "steinmetz_part0.npz.sha256"]


# --------------------------------------------------------------------------- downloading
@pytest.fixture
def mirror(course_server, monkeypatch):
    """STEINMETZ_MIRROR -> a local HTTP server holding a small steinmetz_part0.npz (sessions 0
    and 1); returns the server (its ``files`` and ``modes`` can be changed by the test)."""
    with io.BytesIO() as buffer:
        dat = np.empty(2, dtype=object)
        dat[:] = [catalogue_entry(0, n_bins=40), catalogue_entry(1, n_bins=40)]
        np.savez(buffer, dat=dat)
        course_server.files["steinmetz_part0.npz"] = buffer.getvalue()
    monkeypatch.setenv("STEINMETZ_MIRROR", course_server.url + "/course/")
    return course_server


def test_the_mirror_serves_the_course_files(tmp_path, mirror, capsys):
    assert steinmetz.course_url("steinmetz_part2.npz") == f"{mirror.url}/course/steinmetz_part2.npz"
    assert steinmetz.available_source(0, data_dir=tmp_path).startswith(
        "real (downloaded from 127.0.0.1 into")
    session = load_session("Cori 2016-12-14", data_dir=tmp_path)  # auto
    assert session.source == "real" and session.spikes.shape == (8, 214, 40)
    assert mirror.requests == ["/course/steinmetz_part0.npz"]
    load_session(1, source="real", data_dir=tmp_path)  # from the cache: no second download
    assert len(mirror.requests) == 1
    assert not [name for name in files_in(tmp_path) if "download" in name or "tmp" in name]


@pytest.mark.parametrize("value", ["ftp://lab/steinmetz", "lab-server/steinmetz"])
def test_a_mirror_that_is_not_a_web_address_is_refused(tmp_path, monkeypatch, value):
    monkeypatch.setenv("STEINMETZ_MIRROR", value)
    with pytest.raises(ValueError, match="STEINMETZ_MIRROR=.*not an http:// or https:// URL"):
        load_session(0, source="real", data_dir=tmp_path)


@pytest.mark.parametrize("mode, reason", [
    ("missing", "the server answered HTTP 404 Not Found"),
    ("truncated", "the transfer was cut|the transfer failed"),
    ("html", "something else than the expected file .*<!DOCTYPE html>"),
])
def test_download_failures_are_named_and_leave_nothing(tmp_path, mirror, mode, reason):
    if mode == "missing":
        mirror.files.clear()
    else:
        mirror.modes["steinmetz_part0.npz"] = mode
    with pytest.raises(DataUnavailableError, match=reason) as error:
        load_session(0, source="real", data_dir=tmp_path)
    assert isinstance(error.value, ConnectionError)
    message = str(error.value)
    assert "steinmetz_part0.npz" in message and "no internet" not in message
    assert "STEINMETZ_SOURCE=simulated" in message and "STEINMETZ_MIRROR" in message
    assert files_in(tmp_path) == []  # the temporary file is gone


def test_a_stalled_server_fails_after_the_read_timeout(tmp_path, mirror, monkeypatch):
    monkeypatch.setattr(files, "READ_TIMEOUT_S", 0.5)
    mirror.modes["steinmetz_part0.npz"] = "stalled"
    start = time.perf_counter()
    with pytest.raises(DataUnavailableError, match="no data .*timed out"):
        load_session(0, source="real", data_dir=tmp_path)
    assert time.perf_counter() - start < 5 and files_in(tmp_path) == []


def test_a_trickling_server_fails_on_the_minimum_throughput(tmp_path, mirror, monkeypatch):
    """A byte every 0.1 s never trips the read timeout; the throughput floor stops it."""
    monkeypatch.setattr(files, "RATE_WINDOW_S", 0.5)
    mirror.modes["steinmetz_part0.npz"] = "trickle"
    with pytest.raises(DataUnavailableError, match="too slow: 0.0 kB/s over the last"):
        load_session(0, source="real", data_dir=tmp_path)
    assert files_in(tmp_path) == []


def test_auto_falls_back_when_the_download_fails(tmp_path, mirror, fake_simulation, capsys):
    mirror.files.clear()
    assert load_session(0, data_dir=tmp_path).source == "simulated"
    assert "download failed" in capsys.readouterr().out


def test_downloaded_and_cached_files_are_readable_by_others(tmp_path, mirror):
    old = os.umask(0o022)
    try:
        load_session(0, source="real", data_dir=tmp_path, verbose=False)
    finally:
        os.umask(old)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o777 == 0o644, path


def test_two_processes_load_one_uncached_session(tmp_path, mirror):
    code = ("from helpers.steinmetz import load_session; "
            f"s = load_session(1, source='real', data_dir={str(tmp_path)!r}, verbose=False); "
            "print(s.name, s.spikes.sum())")
    env = {**os.environ, "HELPERS_PROGRESS": "off"}
    loaders = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [loader.communicate(timeout=120) for loader in loaders]
    assert [loader.returncode for loader in loaders] == [0, 0], outputs
    names = [out.strip().splitlines()[-1] for out, _ in outputs]
    assert names[0] == names[1] and names[0].startswith("Cori 2016-12-17")
    assert files_in(tmp_path) == ["steinmetz_part0.npz", "steinmetz_part0.npz.sha256",
                                  "steinmetz_sessions/session_00.npz",
                                  "steinmetz_sessions/session_01.npz"]
    assert load_session(1, source="real", data_dir=tmp_path).spikes.sum() == int(
        names[0].split()[-1])


def test_real_without_network(tmp_path, offline):
    with pytest.raises(DataUnavailableError, match="no internet.*STEINMETZ_SOURCE=simulated"):
        load_session(30, source="real", data_dir=tmp_path)
    assert offline == ["https://osf.io/ehmw2/download"] and files_in(tmp_path) == []


def test_auto_falls_back_once(tmp_path, offline, fake_simulation, capsys):
    session = load_session("Lederberg 2017-12-05", data_dir=tmp_path)
    assert session.source == "simulated" and fake_simulation == [11]
    banner = capsys.readouterr().out
    assert "SIMULATED from session 11 (Lederberg 2017-12-05)" in banner
    assert "no internet" in banner
    assert load_session(12, data_dir=tmp_path).source == "simulated"
    assert len(offline) == 1  # the failure is remembered: no second attempt
    assert capsys.readouterr().out == ""  # and the notice is not repeated in a loop
    with pytest.raises(DataUnavailableError):  # an explicit request for real data still tries
        load_session(12, source="real", data_dir=tmp_path)
    assert len(offline) == 2


def test_auto_uses_cache_offline(part0, offline):
    session = load_session(1, data_dir=part0.parent)
    assert session.source == "real" and offline == []


def test_auto_raises_on_corrupted_download(tmp_path, offline, fake_simulation):
    (tmp_path / "steinmetz_part0.npz").write_bytes(b"not a zip")
    with pytest.raises(DataFormatError, match="Delete"):
        load_session(0, data_dir=tmp_path)


def test_download_course_file_bad_part(tmp_path):
    with pytest.raises(ValueError, match="part must be 0, 1 or 2"):
        steinmetz.download_course_file(3, tmp_path)


# --------------------------------------------------------------------------- the data folder
def test_a_full_data_folder_is_named_with_the_space_needed(part0, monkeypatch, fake_simulation,
                                                           capsys):
    def full(file, **arrays):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(DataFolderError) as error:
        load_session(0, source="real", data_dir=part0.parent)
    message = str(error.value)
    assert f"data folder {part0.parent / 'steinmetz_sessions'}: data folder full" in message
    assert "about 1 GB per course file" in message and "STEINMETZ_DATA_DIR" in message
    assert isinstance(error.value, OSError)
    assert load_session(0, data_dir=part0.parent).source == "simulated"  # auto falls back
    assert "folder full" in capsys.readouterr().out
    assert not [name for name in files_in(part0.parent) if name.endswith(".tmp")]


@pytest.fixture
def mounted(tmp_path):
    """mount(options) -> a fresh tmpfs folder mounted with those options (root only; skipped
    where mounting is not allowed, e.g. in an unprivileged container)."""
    mounts = []

    def mount(options: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        target = tmp_path / f"mount{len(mounts)}"
        target.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                                capture_output=True, text=True)
        if result.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounts.append(target)
        return target

    yield mount
    for target in mounts:
        subprocess.run(["umount", str(target)], check=False)


def test_a_really_full_disk_is_reported_and_leaves_nothing(mirror, mounted, fake_simulation,
                                                            capsys):
    folder = mounted("size=64k")  # far smaller than the course file the mirror serves
    with pytest.raises(DataFolderError, match="data folder full.*about 1 GB per course file"):
        load_session(0, source="real", data_dir=folder)
    assert files_in(folder) == []
    assert load_session(0, data_dir=folder).source == "simulated"
    assert "folder full" in capsys.readouterr().out


def test_a_read_only_data_folder_is_reported(mirror, tmp_path, mounted, fake_simulation, capsys):
    if os.geteuid() == 0:
        folder = mounted("ro,size=64k")  # root writes through permissions: use a ro mount
    else:
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o555)
    with pytest.raises(DataFolderError, match="(read-only|not writable).*STEINMETZ_DATA_DIR"):
        load_session(0, source="real", data_dir=folder)
    assert load_session(0, data_dir=folder).source == "simulated"
    assert "SIMULATED from session 0" in capsys.readouterr().out


def test_orphaned_temporary_files_are_cleaned(part0):
    cache = part0.parent / "steinmetz_sessions"
    cache.mkdir()
    orphan, fresh = cache / ".session_00-abc.tmp", cache / ".session_00-def.tmp"
    for path in (orphan, fresh):
        path.write_bytes(b"half")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    load_session(0, source="real", data_dir=part0.parent, verbose=False)
    assert not orphan.exists() and fresh.exists()  # another process may still write that one


def test_an_unreadable_cache_file_is_a_permission_problem(part0, monkeypatch):
    load_session(0, source="real", data_dir=part0.parent, verbose=False)

    def forbidden(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(np, "load", forbidden)
    with pytest.raises(DataFolderError, match="Cannot read .*session_00.npz: permission denied"
                       ".*chmod a\\+r.*STEINMETZ_DATA_DIR") as error:
        load_session(0, source="real", data_dir=part0.parent)
    assert "corrupted" not in str(error.value) and "is unreadable" not in str(error.value)


# --------------------------------------------------------------------------- sources
def test_environment_forces_simulated(tmp_path, monkeypatch, fake_simulation, capsys):
    monkeypatch.setenv("STEINMETZ_SOURCE", "simulated")
    session = load_session(3, source="real", data_dir=tmp_path)
    assert session.source == "simulated"
    assert "STEINMETZ_SOURCE='simulated'" in capsys.readouterr().out
    assert files_in(tmp_path) == []


def test_bad_sources(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown source 'web'"):
        load_session(0, source="web", data_dir=tmp_path)
    monkeypatch.setenv("STEINMETZ_SOURCE", "internet")
    with pytest.raises(ValueError, match="STEINMETZ_SOURCE='internet'.*unset it"):
        load_session(0, data_dir=tmp_path)


def test_simulated_session_layout():
    session = load_session(15, source="simulated", verbose=False)
    assert session.source == "simulated" and session.name == "Lederberg 2017-12-09"
    assert session.spikes.shape == (474, 280, 250) and session.truth is not None
    again = surrogate.simulated_session("Lederberg 2017-12-09")  # from memory, a new object
    assert again is not session and again.spikes is session.spikes


def test_data_dir(tmp_path, monkeypatch):
    assert steinmetz.data_dir() == Path(steinmetz.__file__).resolve().parent.parent / "data"
    monkeypatch.setenv("STEINMETZ_DATA_DIR", str(tmp_path / "cache"))
    assert steinmetz.data_dir() == tmp_path / "cache"
    assert steinmetz.data_dir(tmp_path) == tmp_path


def test_describe_data_dir_hides_absolute_paths_where_it_can(tmp_path, monkeypatch):
    home, work = tmp_path / "home", tmp_path / "elsewhere" / "work"
    work.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    assert steinmetz.describe_data_dir(work / "data") == "data"
    assert steinmetz.describe_data_dir(home / ".cache" / "steinmetz") == "~/.cache/steinmetz"
    assert steinmetz.describe_data_dir(tmp_path / "elsewhere" / "data") == "../data"
    outside = Path("/") / "srv" / "shared" / "steinmetz"  # neither near the working folder nor ~
    assert steinmetz.describe_data_dir(outside) == "a folder named 'steinmetz'"
    monkeypatch.setenv("STEINMETZ_DATA_DIR", str(outside))
    assert steinmetz.describe_data_dir() == "$STEINMETZ_DATA_DIR"
    monkeypatch.setenv("STEINMETZ_DATA_DIR", str(work / "cache"))
    assert steinmetz.describe_data_dir() == "cache"


def test_no_absolute_path_is_printed_when_loading(part0, monkeypatch, capsys):
    deep = part0.parent / "a" / "b"  # the data folder is two levels up: not shown
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    monkeypatch.setenv("HOME", "/nonexistent-home")
    load_session(0, source="real", data_dir=part0.parent)
    out = capsys.readouterr().out
    assert "Loaded real session 0 (Cori 2016-12-14) from the cache;" in out
    assert str(part0.parent) not in out


def test_available_source(part0, monkeypatch, offline):
    directory = part0.parent
    assert steinmetz.available_source(0, data_dir=directory).startswith("real (cached")
    assert steinmetz.available_source(11, data_dir=directory).startswith("real (cached")  # part 0
    assert steinmetz.available_source(30, data_dir=directory).startswith("simulated (no internet")
    assert len(offline) == 1  # one probe, remembered
    monkeypatch.setenv("STEINMETZ_SOURCE", "simulated")
    assert steinmetz.available_source(0, data_dir=directory).startswith("simulated")
    monkeypatch.setenv("STEINMETZ_SOURCE", "real")
    assert steinmetz.available_source(30, data_dir=directory) == (
        "real requested (STEINMETZ_SOURCE=real), but no internet")
    monkeypatch.delenv("STEINMETZ_SOURCE")
    line = steinmetz.available_source(30, data_dir=directory)
    assert len(line) <= 100 and "Error" not in line and str(directory) not in line


def test_available_source_online(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "probe", lambda url, timeout=5.0: None)
    assert steinmetz.available_source(5, data_dir=tmp_path).startswith("real (downloaded from")
    assert files_in(tmp_path) == []  # nothing was downloaded


# --------------------------------------------------------------------------- list_sessions
def test_list_sessions_simulated(tmp_path):
    table = list_sessions(source="simulated", data_dir=tmp_path)
    assert table.shape[0] == 39 and table.index.tolist() == list(range(39))
    regions = [*REGION_GROUPS, OTHER_REGION]
    assert (table[regions].sum(axis=1) == table["n_neurons"]).all()
    assert table.loc[11, "thal"] == 155 and table.loc[11, "n_trials"] == 340
    # a simulated session copies its catalogue row, which says how sure the catalogue is
    assert table["source"].str.fullmatch(r"catalogue \((several sources|one source)\)").all()
    assert table.loc[0, "source"] == "catalogue (several sources)"
    assert table.loc[30, "source"] == "catalogue (one source)"
    for info in SESSIONS:
        assert table.loc[info.index, "mouse"] == info.mouse_name
        assert table.loc[info.index, "date"] == info.date_exp
        assert table.loc[info.index, "n_neurons"] == info.n_neurons


def test_list_sessions_reads_nothing_but_the_catalogue_without_a_cache(tmp_path):
    table = list_sessions(data_dir=tmp_path)  # auto, nothing cached, no network needed
    assert table["source"].str.startswith("catalogue (").all()
    assert list(table.columns[:5]) == ["mouse", "date", "n_neurons", "n_trials", "source"]
    assert files_in(tmp_path) == []


def test_list_sessions_uses_real_cache(part0):
    load_session(0, source="real", data_dir=part0.parent, verbose=False)
    table = list_sessions(data_dir=part0.parent)
    assert table.loc[0, "source"] == "real" and table.loc[0, "n_neurons"] == 8
    assert table.loc[0, "n_trials"] == 214 and table.loc[0, "other ctx"] == 2  # MOs, " TT"
    assert table.loc[1, "source"] == "real"  # split at the same time as session 0
    assert table.loc[2, "source"].startswith("catalogue (")  # not cached: the catalogue row
    assert table.loc[2, "n_neurons"] == SESSIONS[2].n_neurons
    forced = list_sessions(source="simulated", data_dir=part0.parent)
    assert forced.loc[0, "source"].startswith("catalogue (")  # the cache is not read
    assert forced.loc[0, "n_neurons"] == SESSIONS[0].n_neurons


# --------------------------------------------------------------------------- the notice
@pytest.mark.parametrize("reason", [
    "cannot reach osf.io (gaierror: [Errno -3] Temporary failure in name resolution)",
    "no answer from osf.io within 5 s",
    "HTTPError: 503 Server Error: Service Unavailable for url: https://osf.io/agvxh/download",
])
def test_fallback_notice_is_one_short_line_without_paths_or_exception_text(
        tmp_path, monkeypatch, fake_simulation, capsys, reason):
    def failing_download(part, directory, *, retry=True):
        raise DataUnavailableError(f"Could not download into {directory}: {reason}", reason)

    monkeypatch.setattr(steinmetz, "download_course_file", failing_download)
    session = load_session(11, data_dir=tmp_path)
    assert session.source == "simulated"
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    line = out.strip()
    assert line.startswith("SIMULATED from session 11 (Lederberg 2017-12-05)")
    assert "helpers.available_source()" in line and len(line) <= 100
    assert "/" not in line and str(tmp_path) not in line
    for fragment in ("gaierror", "Errno", "HTTPError", "503", "osf.io", "Error"):
        assert fragment not in line
    expected = "download failed" if reason.startswith("HTTPError") else "no internet"
    assert f", {expected};" in line
    assert all(len(steinmetz._fallback_notice(info.index, reason)) <= 100 for info in SESSIONS)


def test_the_notice_prints_even_when_not_verbose(tmp_path, offline, fake_simulation, capsys):
    load_session(3, data_dir=tmp_path, verbose=False)
    assert capsys.readouterr().out.startswith("SIMULATED from session 3")


def test_the_simulated_notice_is_printed_once_per_process(tmp_path, monkeypatch, fake_simulation,
                                                          capsys):
    monkeypatch.setenv("STEINMETZ_SOURCE", "simulated")
    for index in (3, 4, 5):
        load_session(index, data_dir=tmp_path)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "from session 3 (Forssmann 2017-11-01)" in out



def test_no_stray_files_in_checkout():
    """The tests wrote nothing into the repository's data folder."""
    checkout = Path(steinmetz.__file__).resolve().parent.parent / "data"
    assert not any(name.endswith(".tmp") for name in os.listdir(checkout))
