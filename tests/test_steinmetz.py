"""Tests for helpers.steinmetz: the course-file reader, the cache, downloads, load_session,
list_sessions and available_source.

Real data are never downloaded here: a small file in the course's exact format is written to a
temporary folder, and the network is replaced by fakes (monkeypatch).
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from helpers import steinmetz, surrogate
from helpers.catalogue import SESSIONS
from helpers.session import OTHER_REGION, REGION_GROUPS
from helpers.steinmetz import (
    DataFormatError,
    DataUnavailableError,
    list_sessions,
    load_session,
    read_steinmetz_npz,
)

AREAS = np.array(["VISp", " TT", "LGd", "root", "CA1", "MOs", "TH", "VISam"])


# --------------------------------------------------------------------------- fixtures
def course_entry(seed: int, mouse: str, date: str, n_neurons: int = 8, n_trials: int = 12,
                 n_bins: int = 250) -> dict:
    """One session dict exactly as in the course's files (extra keys included)."""
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


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No forced source, no remembered network failure, no simulated session in memory."""
    monkeypatch.delenv("STEINMETZ_SOURCE", raising=False)
    monkeypatch.delenv("STEINMETZ_DATA_DIR", raising=False)
    monkeypatch.setattr(steinmetz._NETWORK, "failure", None)
    monkeypatch.setattr(surrogate, "_last_simulated", {})


@pytest.fixture
def part0(tmp_path) -> Path:
    """steinmetz_part0.npz with sessions 0 and 1 (Cori), in the course's format."""
    entries = [course_entry(0, "Cori", "2016-12-14"), course_entry(1, "Cori", "2016-12-17", 6, 9)]
    return write_course_file(tmp_path / "steinmetz_part0.npz", entries)


@pytest.fixture
def offline(monkeypatch) -> list[str]:
    """The network probe says there is no internet; returns the list of probed URLs."""
    probed: list[str] = []

    def probe(url, timeout=5.0):
        probed.append(url)
        return "cannot reach osf.io (gaierror: no such host)"

    monkeypatch.setattr(steinmetz, "_probe_network", probe)
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
    assert first.spikes.shape == (8, 12, 250) and first.spikes.dtype == np.uint8
    np.testing.assert_array_equal(first.spikes, raw["spks"])
    assert first.brain_area[1] == "TT" and first.region[1] == "other ctx"  # " TT" stripped
    np.testing.assert_array_equal(first.response, raw["response"])
    assert first.feedback_type.dtype == np.int64
    assert set(first.events) == {"gocue", "response_time", "feedback_time"}
    np.testing.assert_allclose(first.events["gocue"], raw["gocue"][:, 0])
    assert first.events["gocue"].shape == (12,)
    assert first.bin_size == 0.01 and first.stim_onset == 0.5
    assert sessions[1].spikes.shape == (6, 9, 250)


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
    ("feedback_type", np.zeros(12), "feedback_type must contain only"),
    ("response", np.full(12, 0.5), "response must contain only"),
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
    # split once, both sessions, without pickles and without temporary files
    assert files_in(directory) == ["steinmetz_part0.npz", "steinmetz_sessions/session_00.npz",
                                   "steinmetz_sessions/session_01.npz"]
    with np.load(directory / "steinmetz_sessions/session_01.npz", allow_pickle=False) as npz:
        assert npz["brain_area"].dtype.kind == "U" and npz["spikes"].shape == (6, 9, 250)
    part0.unlink()  # later loads never need the big file again
    again = load_session("cori  2016-12-17", source="real", data_dir=directory)
    assert again.spikes.shape == (6, 9, 250)


def test_load_real_session_not_in_file(part0):
    with pytest.raises(DataFormatError, match=r"holds sessions \[0, 1\] but not session 2"):
        load_session(2, source="real", data_dir=part0.parent)


def test_real_names_from_cache_win(tmp_path):
    write_course_file(tmp_path / "steinmetz_part0.npz", [course_entry(0, "Cori", "2016-12-15")])
    load_session(0, source="real", data_dir=tmp_path, verbose=False)
    assert load_session("Cori 2016-12-15", source="real", data_dir=tmp_path).name == (
        "Cori 2016-12-15")


def test_a_differently_written_name_prints_no_note(part0, capsys):
    load_session(" CORI_2016-12-17 ", source="real", data_dir=part0.parent)
    out = capsys.readouterr().out
    assert "Loaded real session 1 (Cori 2016-12-17)" in out and "Note" not in out


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
    monkeypatch.setattr(steinmetz, "_probe_network", lambda url, timeout=5.0: "cannot reach")
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
    assert first.behaviour["wheel"].shape == (12, 250)  # (1, trials, bins) -> (trials, bins)
    np.testing.assert_array_equal(first.behaviour["wheel"], raw["wheel"][0])
    assert first.behaviour["pupil"].shape == (12, 250, 3)
    np.testing.assert_allclose(first.behaviour["pupil"][..., 2], raw["pupil"][2], rtol=1e-6)
    cached = load_session(0, source="real", data_dir=part0.parent, verbose=False)
    again = load_session(0, source="real", data_dir=part0.parent, verbose=False)  # from cache
    for session in (cached, again):
        np.testing.assert_array_equal(session.behaviour["wheel"], raw["wheel"][0])
        assert session.behaviour["pupil"].shape == (12, 250, 3)
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
    assert files_in(part0.parent) == ["steinmetz_part0.npz"]


def test_cache_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError, match="pickle"):
        steinmetz._write_atomically(tmp_path / "x.npz", {"a": np.array([{}], dtype=object)})
    assert files_in(tmp_path) == []


# --------------------------------------------------------------------------- downloading
def test_download_then_cached(tmp_path, monkeypatch):
    calls = []

    def retrieve(url, known_hash, fname, path, downloader):
        calls.append(url)
        assert downloader.kwargs["timeout"][0] <= 10 and downloader.progressbar
        write_course_file(Path(path) / fname, [course_entry(0, "Cori", "2016-12-14")])
        return str(Path(path) / fname)

    monkeypatch.setattr(steinmetz, "_probe_network", lambda url, timeout=5.0: None)
    monkeypatch.setattr(steinmetz.pooch, "retrieve", retrieve)
    session = load_session("Cori 2016-12-14", data_dir=tmp_path)  # auto
    assert session.source == "real" and calls == ["https://osf.io/agvxh/download"]
    load_session(0, source="real", data_dir=tmp_path)
    assert len(calls) == 1


def test_failed_download_real_raises_and_leaves_nothing(tmp_path, monkeypatch):
    def broken_downloader(url, output_file, pooch_instance):
        Path(output_file).write_bytes(b"PK\x03\x04 the first bytes")  # then the line drops
        raise requests.exceptions.ConnectionError("connection reset by peer")

    monkeypatch.setattr(steinmetz, "_probe_network", lambda url, timeout=5.0: None)
    monkeypatch.setattr(steinmetz, "_make_downloader", lambda: broken_downloader)
    with pytest.raises(DataUnavailableError) as info:
        load_session(11, source="real", data_dir=tmp_path)
    assert isinstance(info.value, ConnectionError)
    message = str(info.value)
    assert "steinmetz_part0.npz" in message and "connection reset" in message
    assert "STEINMETZ_SOURCE=simulated" in message and str(tmp_path) in message
    assert files_in(tmp_path) == []  # pooch's temporary file is gone


def test_real_without_network(tmp_path, offline):
    with pytest.raises(DataUnavailableError, match="no internet.*STEINMETZ_SOURCE=simulated"):
        load_session(30, source="real", data_dir=tmp_path)
    assert offline == ["https://osf.io/ehmw2/download"] and files_in(tmp_path) == []


def test_auto_falls_back_once(tmp_path, offline, fake_simulation, capsys):
    session = load_session("Lederberg 2017-12-05", data_dir=tmp_path)
    assert session.source == "simulated" and fake_simulation == [11]
    banner = capsys.readouterr().out
    assert "SIMULATED session 11 (Lederberg 2017-12-05)" in banner
    assert "no internet" in banner
    load_session(12, data_dir=tmp_path)
    assert len(offline) == 1  # the failure is remembered: no second attempt
    assert "SIMULATED" in capsys.readouterr().out
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


def test_probe_is_bounded():
    start = time.perf_counter()
    reason = steinmetz._probe_network("https://10.255.255.1/", timeout=0.5)  # unroutable address
    assert time.perf_counter() - start < 3
    assert reason is None or "10.255.255.1" in reason


def test_probe_gives_up_on_a_hanging_lookup(monkeypatch):
    def hang(address, timeout=None):  # e.g. a DNS server that never answers
        time.sleep(2)
        raise OSError("too late")

    monkeypatch.setattr(steinmetz.socket, "create_connection", hang)
    start = time.perf_counter()
    assert steinmetz._probe_network("https://osf.io/x", timeout=0.2) == (
        "no answer from osf.io within 0.2 s")
    assert time.perf_counter() - start < 1


def test_probe_reports_refused_connection(monkeypatch):
    def refuse(address, timeout=None):
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(steinmetz.socket, "create_connection", refuse)
    assert "cannot reach osf.io (ConnectionRefusedError" in steinmetz._probe_network("https://osf.io/x")


def test_probe_skipped_behind_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    assert steinmetz._probe_network("https://osf.io/agvxh/download") is None


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
    outside = tmp_path / "shared" / "cache"
    assert steinmetz.describe_data_dir(outside) == str(outside)  # nothing shorter is true
    monkeypatch.setenv("STEINMETZ_DATA_DIR", str(work / "cache"))
    assert steinmetz.describe_data_dir() == "cache"


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
    monkeypatch.setattr(steinmetz, "_probe_network", lambda url, timeout=5.0: None)
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
    assert table.loc[0, "n_trials"] == 12 and table.loc[0, "other ctx"] == 2  # MOs and " TT"
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
    assert line.startswith("Note: SIMULATED session 11 (Lederberg 2017-12-05)")
    assert "helpers.available_source()" in line and len(line) <= 100
    assert "/" not in line and str(tmp_path) not in line
    for fragment in ("gaierror", "Errno", "HTTPError", "503", "osf.io", "Error"):
        assert fragment not in line
    expected = "download failed" if reason.startswith("HTTPError") else "no internet"
    assert f", {expected};" in line
    assert all(len(steinmetz._fallback_notice(info.index, reason)) <= 100 for info in SESSIONS)


def test_the_notice_prints_even_when_not_verbose(tmp_path, offline, fake_simulation, capsys):
    load_session(3, data_dir=tmp_path, verbose=False)
    assert capsys.readouterr().out.startswith("Note: SIMULATED session 3")



def test_no_stray_files_in_checkout():
    """The tests wrote nothing into the repository's data folder."""
    checkout = Path(steinmetz.__file__).resolve().parent.parent / "data"
    assert not any(name.endswith(".tmp") for name in os.listdir(checkout))
