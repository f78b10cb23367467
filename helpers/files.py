"""Files in the data folder, written so that nothing is lost or half-written (issue 19).

- :func:`download`: fetch one URL into a folder over HTTP(S), through a temporary file renamed
  only when complete, with a connection timeout, a read timeout and a minimum throughput, so a
  stalled or trickling server fails with a message instead of hanging.
- :func:`probe`: whether a server answers on its own scheme and port, within seconds.
- :func:`write_atomically`: ``np.savez`` through a temporary file and a rename.
- :func:`sha256_of`, :func:`check_recorded_sha256`: a file's checksum, recorded beside it the
  first time and verified later.
- :func:`folder_error`: a disk error (read-only, full, no permission) as a :class:`DataFolderError`
  that names the folder, the space needed and ``STEINMETZ_DATA_DIR``.

Every file written here is readable by others as the umask allows (``0644`` under the usual
umask ``022``), not ``0600`` as temporary files are created.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

__all__ = [
    "DataUnavailableError", "DataFolderError", "download", "probe", "write_atomically",
    "share", "sha256_of", "check_recorded_sha256", "folder_error", "remove_orphans",
]

CONNECT_TIMEOUT_S = 10.0  # seconds to wait for the server to accept a connection
READ_TIMEOUT_S = 60.0  # seconds of silence tolerated in the middle of a download
PROBE_TIMEOUT_S = 5.0  # seconds for the quick "is the server there?" check (DNS included)
MIN_BYTES_PER_S = 20_000.0  # a download slower than this over RATE_WINDOW_S fails
RATE_WINDOW_S = 60.0
ORPHAN_AGE_S = 3600.0  # a temporary file untouched this long belongs to a killed process
_DOWNLOAD_SUFFIX, _TMP_SUFFIX = ".download", ".tmp"
_CHUNK = 1 << 20


class DataUnavailableError(ConnectionError):
    """Real data were requested but could not be downloaded (no internet, a server error, a
    cut or stalled transfer).

    Attributes:
        reason: the short cause, e.g. ``"cannot reach osf.io (gaierror: ...)"``.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


class DataFolderError(OSError):
    """The data folder cannot be written or read: read-only, full, or another user's files.

    Attributes:
        reason: the short cause, e.g. ``"data folder full"``.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


# ============================================================================ disk errors
_DISK_PROBLEMS = {errno.ENOSPC: "data folder full", errno.EDQUOT: "data folder full",
                  errno.EROFS: "data folder read-only", errno.EACCES: "data folder not writable",
                  errno.EPERM: "data folder not writable"}


def is_disk_problem(err: BaseException) -> bool:
    """Whether ``err`` is a full, read-only or forbidden folder (not a network error)."""
    return isinstance(err, OSError) and err.errno in _DISK_PROBLEMS


def folder_error(folder: Path, err: OSError, *, needed_gb: float = 1.0,
                 action: str = "write to") -> DataFolderError:
    """``err`` (a disk error) as a :class:`DataFolderError` naming the folder and the fixes."""
    reason = _DISK_PROBLEMS.get(err.errno, "data folder error")
    try:
        free = f" ({shutil.disk_usage(folder).free / 1e9:.1f} GB free)"
    except OSError:
        free = ""
    return DataFolderError(
        f"Cannot {action} the data folder {folder}: {reason} ({err.strerror or err}){free}. "
        f"The real data need about {needed_gb:g} GB per course file (about 3 GB for all 39 "
        "sessions). Fix: free space or make the folder writable, or set STEINMETZ_DATA_DIR to a "
        "folder with room that you can write to (or STEINMETZ_SOURCE=simulated).", reason)


def _umask() -> int:
    """This process's umask, without changing it (Linux reports it in /proc)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it (not thread-safe, brief)
    os.umask(mask)
    return mask


def share(path: Path) -> None:
    """Give ``path`` the permissions a new file would get (``0666`` minus the umask):
    temporary files start as ``0600``, readable by their owner only."""
    os.chmod(path, 0o666 & ~_umask())


def remove_orphans(folder: Path, pattern: str, max_age_s: float = ORPHAN_AGE_S) -> list[Path]:
    """Delete temporary files matching ``pattern`` in ``folder`` untouched for ``max_age_s``
    (left by a process killed mid-write; a live writer touches its file every few seconds)."""
    removed = []
    for path in folder.glob(pattern):
        try:
            if time.time() - path.stat().st_mtime > max_age_s:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


def _temporary(folder: Path, name: str, suffix: str) -> tuple[int, Path]:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=suffix)
    except OSError as err:
        raise (folder_error(folder, err) if is_disk_problem(err) else err) from err
    return handle, Path(tmp)


def write_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` (no pickles) to a temporary file next to ``path``, then rename: never a half
    file, and a disk error becomes a :class:`DataFolderError`."""
    pickled = [key for key, value in arrays.items() if np.asarray(value).dtype == object]
    if pickled:  # (np.savez only gained allow_pickle=False in NumPy 2)
        raise TypeError(f"refusing to cache object arrays {pickled}: they would need pickle.")
    remove_orphans(path.parent, f".{path.stem}-*{_TMP_SUFFIX}")
    handle, tmp = _temporary(path.parent, path.stem, _TMP_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        share(tmp)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise (folder_error(path.parent, err) if is_disk_problem(err) else err) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ============================================================================= checksums
def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_recorded_sha256(path: Path) -> str | None:
    """Compare ``path`` with the SHA-256 recorded in ``<path>.sha256``, recording it there
    (``sha256sum`` format) the first time.

    Returns:
        ``None`` when it matches or was just recorded, else a sentence saying what differs.
    """
    record = path.with_name(path.name + ".sha256")
    actual = sha256_of(path)
    if record.is_file():
        expected = record.read_text().split()[0] if record.read_text().strip() else ""
        if expected != actual:
            return (f"{path.name} changed since it was first used: its SHA-256 is {actual}, "
                    f"{record.name} recorded {expected or 'nothing'}")
        return None
    handle, tmp = _temporary(path.parent, record.name, _TMP_SUFFIX)
    with os.fdopen(handle, "w") as file:
        file.write(f"{actual}  {path.name}\n")
    share(tmp)
    os.replace(tmp, record)
    return None


# ============================================================================== the network
def _proxied(url: str) -> bool:
    """Whether requests would reach ``url`` through a proxy (then a direct probe proves
    nothing)."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def probe(url: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Why the server of ``url`` cannot be reached, or ``None`` when it can, within ``timeout``
    seconds, on the URL's own port (443 for https, 80 for http unless given).

    Name resolution has no timeout of its own, so the check runs in a daemon thread. Behind a
    proxy a direct connection proves nothing, and the check is skipped.
    """
    if _proxied(url):
        return None
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or url
    try:
        port = parts.port or (80 if parts.scheme == "http" else 443)
    except ValueError:  # a port that is not a number
        return f"bad port in {url}"
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome.append(None)
        except OSError as err:
            outcome.append(f"cannot reach {host} ({type(err).__name__}: {err})")

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else f"no answer from {host} within {timeout:g} s"


class _TransferError(Exception):
    """A download that failed after the server was reached (status, cut, stall, wrong file)."""


class _Throughput:
    """Fails a transfer whose rate over the last window is below ``MIN_BYTES_PER_S``."""

    def __init__(self) -> None:
        self.start, self.at_start = time.monotonic(), 0

    def check(self, received: int) -> None:
        elapsed = time.monotonic() - self.start
        if elapsed < RATE_WINDOW_S:
            return
        rate = (received - self.at_start) / elapsed
        if rate < MIN_BYTES_PER_S:
            raise _TransferError(
                f"the transfer was too slow: {rate / 1e3:.1f} kB/s over the last {elapsed:.0f} s "
                f"(minimum {MIN_BYTES_PER_S / 1e3:g} kB/s), after {received / 1e6:.1f} MB")
        self.start, self.at_start = time.monotonic(), received


def _stream(response, file, desc: str) -> int:
    """Copy the body of ``response`` into ``file``; returns the bytes received."""
    from tqdm import tqdm  # (helpers.runtime imports PyTorch: seconds the loader avoids)

    size = int(response.headers.get("Content-Length") or 0) or None
    encoded = response.headers.get("Content-Encoding", "identity") not in ("", "identity")
    received, rate = 0, _Throughput()
    live = os.environ.get("HELPERS_PROGRESS", "live").strip().lower() in ("", "live")
    with tqdm(total=size, desc=desc, unit="B", unit_scale=True, mininterval=1.0, ncols=80,
              ascii=True, disable=not live, file=sys.stderr) as bar:
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            try:
                file.write(chunk)
            except OSError as err:
                raise _DiskFull(err) from err
            received += len(chunk)
            bar.update(len(chunk))
            rate.check(received)
    if size is not None and not encoded and received != size:
        raise _TransferError(f"the transfer was cut after {received / 1e6:.1f} of "
                             f"{size / 1e6:.1f} MB")
    return received


class _DiskFull(Exception):
    def __init__(self, err: OSError) -> None:
        super().__init__(str(err))
        self.err = err


def _get(url: str, file, desc: str) -> None:
    """One HTTP GET of ``url`` into ``file``: raises :class:`_TransferError` on failure."""
    import requests
    import urllib3

    try:
        with requests.get(url, stream=True, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)) as answer:
            if answer.status_code >= 400:
                raise _TransferError(f"the server answered HTTP {answer.status_code} "
                                     f"{answer.reason or ''}".strip())
            _stream(answer, file, desc)
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as err:
        cause = err.__context__ if isinstance(err, requests.exceptions.ConnectionError) else err
        kind = "no data" if "timed out" in str(err).lower() else "the transfer failed"
        raise _TransferError(f"{kind} ({type(cause or err).__name__}: {cause or err})") from err


def _check_start(tmp: Path, magic: bytes) -> None:
    with open(tmp, "rb") as file:
        start = file.read(max(len(magic), 60))
    if not start.startswith(magic):
        shown = start[:40].decode("ascii", "replace").split("\n")[0]
        raise _TransferError(f"the server sent something else than the expected file (it "
                             f"begins with {shown!r}, e.g. an error page)")


def download(url: str, path: Path, *, desc: str | None = None, magic: bytes = b"") -> Path:
    """Download ``url`` to ``path`` through ``.<name>-*.download`` in the same folder, renamed
    only when complete (a failed or interrupted download leaves nothing behind); ``magic``: the
    bytes the file must begin with (``b"PK"`` for a zip or ``.npz``).

    Raises:
        DataUnavailableError: the server answered with an HTTP error, the transfer was cut,
            stalled (no data for ``READ_TIMEOUT_S``) or too slow (``MIN_BYTES_PER_S``); the
            ``reason`` says which.
        DataFolderError: the folder is read-only or full.
    """
    remove_orphans(path.parent, f".{path.name}-*{_DOWNLOAD_SUFFIX}")
    handle, tmp = _temporary(path.parent, path.name, _DOWNLOAD_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as file:
            _get(url, file, desc or path.name)
        _check_start(tmp, magic)
        share(tmp)
        os.replace(tmp, path)
    except _TransferError as err:
        raise DataUnavailableError(f"Could not download {url}: {err}.", str(err)) from None
    except _DiskFull as err:
        raise folder_error(path.parent, err.err) from err.err
    except OSError as err:
        raise (folder_error(path.parent, err) if is_disk_problem(err) else err) from err
    finally:
        tmp.unlink(missing_ok=True)
    return path
