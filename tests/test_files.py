"""helpers.files: downloads through a real HTTP server on 127.0.0.1 (``course_server`` in
conftest.py), the reachability probe, atomic writes others can read, checksums, disk errors.
The course-specific paths (mirror, identity, fallback) are tested in tests/test_steinmetz.py."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import files
from helpers.files import DataFolderError, DataUnavailableError

BODY = b"PK\x03\x04" + bytes(range(256)) * 40


def test_download_writes_the_file_others_can_read(course_server, tmp_path):
    course_server.files["data.npz"] = BODY
    old = os.umask(0o022)
    try:
        path = files.download(f"{course_server.url}/data.npz", tmp_path / "data.npz", magic=b"PK")
    finally:
        os.umask(old)
    assert path.read_bytes() == BODY and path.stat().st_mode & 0o777 == 0o644
    assert os.listdir(tmp_path) == ["data.npz"]


def test_a_stricter_umask_is_respected(tmp_path):
    old = os.umask(0o077)
    try:
        files.write_atomically(tmp_path / "x.npz", {"a": np.arange(3)})
    finally:
        os.umask(old)
    assert (tmp_path / "x.npz").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("mode, message", [
    ("missing", "HTTP 404 Not Found"), ("truncated", "cut after|transfer failed"),
    ("html", "something else than the expected file"),
])
def test_failed_downloads_say_why_and_leave_nothing(course_server, tmp_path, mode, message):
    if mode != "missing":
        course_server.files["data.npz"] = BODY
        course_server.modes["data.npz"] = mode
    with pytest.raises(DataUnavailableError, match=message) as error:
        files.download(f"{course_server.url}/data.npz", tmp_path / "data.npz", magic=b"PK")
    assert "no internet" not in str(error.value) and error.value.reason
    assert os.listdir(tmp_path) == []


def test_a_disk_error_while_downloading_names_the_folder(course_server, tmp_path, monkeypatch):
    course_server.files["data.npz"] = BODY

    class FullFile:
        def __init__(self, handle, mode):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            os.close(self.handle)

        def write(self, chunk):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fdopen", FullFile)
    with pytest.raises(DataFolderError, match=f"data folder {tmp_path}: data folder full"):
        files.download(f"{course_server.url}/data.npz", tmp_path / "data.npz")
    assert os.listdir(tmp_path) == []


def test_the_recorded_sha256_is_written_once_then_checked(tmp_path):
    path = tmp_path / "part.npz"
    path.write_bytes(b"first")
    assert files.check_recorded_sha256(path) is None  # recorded
    assert (tmp_path / "part.npz.sha256").read_text().startswith(files.sha256_of(path))
    assert files.check_recorded_sha256(path) is None  # unchanged
    path.write_bytes(b"second")
    assert "changed since it was first used" in files.check_recorded_sha256(path)


def test_write_atomically_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError, match="pickle"):
        files.write_atomically(tmp_path / "x.npz", {"a": np.array([{}], dtype=object)})
    assert os.listdir(tmp_path) == []


def test_remove_orphans_keeps_files_still_being_written(tmp_path):
    old, new = tmp_path / ".a-1.tmp", tmp_path / ".a-2.tmp"
    for path in (old, new):
        path.write_bytes(b"x")
    os.utime(old, (time.time() - 7200,) * 2)
    assert files.remove_orphans(tmp_path, ".a-*.tmp") == [old]
    assert new.exists()


@pytest.mark.parametrize("code, reason", [
    (errno.ENOSPC, "data folder full"), (errno.EROFS, "data folder read-only"),
    (errno.EACCES, "data folder not writable"),
])
def test_folder_errors(tmp_path, code, reason):
    error = files.folder_error(tmp_path, OSError(code, os.strerror(code)))
    assert isinstance(error, OSError) and error.reason == reason
    assert str(tmp_path) in str(error) and "STEINMETZ_DATA_DIR" in str(error)
    assert "GB free" in str(error)


# --------------------------------------------------------------------------- the probe
def test_probe_uses_the_urls_own_port(course_server):
    assert files.probe(f"{course_server.url}/x") is None
    course_server.close()
    assert "cannot reach 127.0.0.1" in files.probe(f"{course_server.url}/x")


def test_probe_is_bounded():
    start = time.perf_counter()
    reason = files.probe("https://10.255.255.1/", timeout=0.5)  # unroutable address
    assert time.perf_counter() - start < 3
    assert reason is None or "10.255.255.1" in reason


def test_probe_gives_up_on_a_hanging_lookup(monkeypatch):
    def hang(address, timeout=None):  # e.g. a DNS server that never answers
        time.sleep(2)
        raise OSError("too late")

    monkeypatch.setattr(files.socket, "create_connection", hang)
    start = time.perf_counter()
    assert files.probe("https://osf.io/x", timeout=0.2) == "no answer from osf.io within 0.2 s"
    assert time.perf_counter() - start < 1


def test_probe_reports_refused_connection(monkeypatch):
    ports = []

    def refuse(address, timeout=None):
        ports.append(address[1])
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(files.socket, "create_connection", refuse)
    assert "cannot reach osf.io (ConnectionRefusedError" in files.probe("https://osf.io/x")
    files.probe("http://lab.example/x")
    files.probe("http://lab.example:8080/x")
    assert ports == [443, 80, 8080]


def test_probe_skipped_behind_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    assert files.probe("https://osf.io/agvxh/download") is None


def test_no_stray_files_in_the_checkout():
    """The tests wrote nothing into the repository's data folder."""
    checkout = Path(files.__file__).resolve().parent.parent / "data"
    stray = [name for name in os.listdir(checkout) if name.endswith((".tmp", ".download"))]
    assert not stray
