"""Where a hyperparameter search keeps its trials, and what happens when things fail (chapter 6).

- :func:`open_storage`: a journal file (one machine, or a shared file system) or a database URL
  (PostgreSQL for many machines), failing fast with a :class:`StorageError` that names the URL
  and the fix.
- Journal files are checked before use: a half-written last record (a worker killed or out of
  disk mid-write) is cut off, with a backup, and said so with its byte offset; a complete record
  glued to such a fragment is recovered; a file that is not an Optuna journal is refused. Every
  append first cuts any fragment and, if the disk fills, undoes its own partial write and says
  "disk full writing <journal>", so no reader ever meets a broken line.
- Databases: several workers creating the tables of an empty database at once race on
  PostgreSQL's catalogue; creation is retried on exactly those errors.
- Stale trials: :func:`fail_stale_trials` fails the running trials of dead workers (and queues
  each once for a retry) through Optuna's public API; databases also get Optuna's own
  heartbeat (``heartbeat_interval``, ``grace_period``, a retry callback), which journal files
  do not support in Optuna 5.0.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import socket
import sys
import time
import warnings
from pathlib import Path

with warnings.catch_warnings():  # Optuna imports tqdm.auto, which warns in Jupyter without widgets
    warnings.filterwarnings("ignore", message="IProgress not found")
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock, JournalStorage
    from optuna.trial import TrialState

__all__ = ["StorageError", "open_storage", "check_journal", "worker_id", "fail_stale_trials",
           "counted_trials", "storage_failure", "HEARTBEAT_S"]

#: How often a running trial says it is alive (Optuna's heartbeat on databases; the
#: ``heartbeat`` user attribute on journal files, see :class:`helpers.sweep.Objective`).
HEARTBEAT_S = 30
_JOURNAL_START = b'{"op_code":'
_RACE_WORDS = ("pg_type_typname_nsp_index", "already exists", "duplicate key",
               "UniqueViolation", "DuplicateTable", "DuplicateObject", "deadlock detected")


class StorageError(RuntimeError):
    """A study storage that cannot be opened or written; the message names it and the fix."""


# ============================================================================ journal files
def _say(message: str) -> None:
    print(f"note: {message}", file=sys.stderr, flush=True)


def _salvage(line: bytes) -> bytes | None:
    """A complete record at the end of ``line`` (a fragment glued to it), or ``None``."""
    start = line.rfind(_JOURNAL_START)
    try:
        json.loads(line[start:])
    except ValueError:
        return None
    return line[start:] if start > 0 else None


def _looks_like_journal(first: bytes) -> bool:
    """Whether a file's first line is an Optuna journal record (or the start of one)."""
    try:
        record = json.loads(first)
    except ValueError:
        return first.startswith(_JOURNAL_START)
    return isinstance(record, dict) and "op_code" in record


def _problems(data: bytes, shown: str) -> tuple[bytes, list[str]]:
    """The journal's bytes with fragments cut off and glued records recovered, and what was
    done (empty: nothing to do). Raises :class:`StorageError` for a file that is not a journal
    or a broken line that cannot be recovered."""
    lines = data.split(b"\n")
    tail, complete = lines[-1], lines[:-1]
    if data and not _looks_like_journal(lines[0]):
        first = data[:40].decode("utf-8", "replace").splitlines()[0] if data.strip() else ""
        raise StorageError(f"Cannot open the study storage {shown!r}: it is not an Optuna journal "
                           f"(it begins with {first!r}). Fix: give a new file name (e.g. "
                           "study.journal); a worker never writes into other files.")
    done, kept, offset = [], [], 0
    for line in complete:
        try:
            json.loads(line)
            kept.append(line)
        except ValueError:
            record = _salvage(line)
            if record is None:
                raise StorageError(
                    f"Cannot open the study storage {shown!r}: the record at byte {offset} is "
                    "broken and cannot be recovered. Fix: keep the file for inspection and start "
                    "a new journal, or cut that line by hand.") from None
            kept.append(record)
            done.append(f"recovered the record glued to a fragment at byte {offset}")
        offset += len(line) + 1
    if tail:
        done.append(f"cut {len(tail)} bytes of a half-written last record at byte {offset}")
    return b"".join(line + b"\n" for line in kept), done


def _repair(path: Path, shown: str) -> None:
    """Under the journal's own lock: cut fragments, keeping the original as a backup."""
    lock = JournalFileSymlinkLock(str(path))
    lock.acquire()
    try:
        data = path.read_bytes()
        fixed, done = _problems(data, shown)
        if not done:
            return
        backup = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            shutil.copyfile(path, backup)
            if data.startswith(fixed):
                os.truncate(path, len(fixed))  # only the tail changes: readers keep offsets
            else:
                tmp = path.with_name(f".{path.name}.repaired")
                tmp.write_bytes(fixed)
                os.replace(tmp, path)
        except OSError as err:
            raise StorageError(f"Cannot repair the study storage {shown!r} ({'; '.join(done)}): "
                               f"{err.strerror or err}. Fix: free space (the original is kept "
                               "unchanged) and start the worker again.") from err
        _say(f"{path}: {'; '.join(done)} (left by a worker that stopped mid-write); the "
             f"complete trials are kept, the original is in {backup.name}.")
    finally:
        lock.release()


def check_journal(path: str | os.PathLike[str]) -> None:
    """Check a journal file before use and repair it if a worker died mid-write (see the module
    docstring); a missing or empty file is fine.

    Raises:
        StorageError: not an Optuna journal, or a broken record that cannot be recovered (the
            file is left unchanged).
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if _problems(data, str(path))[1]:  # only then take the lock and look again
        _repair(path, str(path))


class _CheckedJournalFile(JournalFileBackend):
    """Optuna's journal file backend whose appends never leave half a record: any fragment
    left by a killed writer is cut first, and a failed write (disk full) is undone."""

    def __init__(self, path: Path) -> None:
        self._guard = JournalFileSymlinkLock(str(path))
        super().__init__(str(path), lock_obj=self._guard)
        self.path = path

    def _cut_fragment(self) -> None:
        size = self.path.stat().st_size
        if size == 0:
            return
        with open(self.path, "rb") as file:
            file.seek(size - 1)
            if file.read(1) == b"\n":
                return
        self._guard.release()  # _repair takes the same lock
        try:
            _repair(self.path, str(self.path))
        finally:
            self._guard.acquire()

    def append_logs(self, logs: list[dict]) -> None:
        payload = ("\n".join(json.dumps(log, separators=(",", ":")) for log in logs)
                   + "\n").encode("utf-8")
        self._guard.acquire()
        try:
            self._cut_fragment()
            size = self.path.stat().st_size
            try:
                with open(self.path, "ab") as file:
                    file.write(payload)
                    file.flush()
                    os.fsync(file.fileno())
            except OSError as err:
                os.truncate(self.path, size)  # never leave half a record behind
                what = "disk full" if err.errno in (errno.ENOSPC, errno.EDQUOT) else (
                    f"cannot write ({err.strerror or err})")
                raise StorageError(f"{what} writing {self.path}: this worker stops; the journal "
                                   "is intact. Fix: free space and start the worker again (its "
                                   "running trial is retried).") from err
        finally:
            self._guard.release()


def _journal(url: str) -> optuna.storages.BaseStorage:
    path = Path(url.removeprefix("journal:")).expanduser()
    folder = path.parent
    problem = None
    if not folder.is_dir():
        problem = (f"the folder {folder} does not exist. Fix: create it (mkdir -p {folder}) or "
                   "choose a path in an existing folder")
    elif path.is_dir():
        problem = f"{path} is a folder. Fix: give a file name, e.g. {path / 'study.journal'}"
    elif not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        problem = f"{path} is not writable. Fix: choose a path you can write to"
    if problem:
        raise StorageError(f"Cannot open the study storage {url!r}: {problem}.")
    check_journal(path)
    try:
        return JournalStorage(_CheckedJournalFile(path))
    except OSError as err:
        raise StorageError(f"Cannot open the study storage {url!r}: {err.strerror or err}. "
                           "Fix: choose a folder with room that you can write to.") from err


# ================================================================================ databases
_DRIVER_FIX = {"postgresql": "pip install psycopg[binary] (or psycopg2-binary)",
               "mysql": "pip install pymysql and use a mysql+pymysql:// URL"}


def _importable(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):  # e.g. blocked with sys.modules[module] = None
        return False


def _hide_password(url: str) -> str:
    """The URL as shown in messages: any password replaced by ***."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: show it as given
        return url


def _is_database_url(url: str) -> bool:
    return "://" in url


def _chain(err: BaseException | None):
    """``err`` and the exceptions it was raised from or during, outermost first."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def _first_line(err: BaseException) -> str:
    inner = [e for e in _chain(err) if getattr(e, "orig", None) is not None]
    text = str(inner[0].orig if inner else err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _database_fix(reason: str) -> str:
    """The fix that fits a database's error (not "start the server" for a bad password)."""
    low = reason.lower()
    if any(word in low for word in ("connection refused", "could not connect", "timeout",
                                    "could not translate host", "name or service not known",
                                    "no route to host", "connection to server")):
        return ("start the database server (or ask for one), check host and port, and make sure "
                "every worker's machine can reach it")
    if "password authentication failed" in low or ("role" in low and "does not exist" in low):
        return "check the user name and password in the URL"
    if "database" in low and "does not exist" in low:
        return "create the database (e.g. createdb NAME) or correct its name in the URL"
    return "check the URL and the database server's log"


def _driver_url(url: str, shown: str) -> tuple[str, str]:
    """The URL with a driver that is installed, and the backend's name."""
    import sqlalchemy
    from sqlalchemy.engine import make_url

    if url.startswith("postgres://"):
        raise StorageError(f"Cannot open the study storage {shown!r}: SQLAlchemy needs the "
                           "scheme postgresql://. Fix: write postgresql:// instead of postgres://.")
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql" and not _importable("psycopg") \
                and _importable("psycopg2"):  # SQLAlchemy >= 2.1 defaults to psycopg 3
            parsed = parsed.set(drivername="postgresql+psycopg2")
            url = parsed.render_as_string(hide_password=False)
        parsed.get_dialect().import_dbapi()
    except sqlalchemy.exc.NoSuchModuleError as err:
        raise StorageError(f"Cannot open the study storage {shown!r}: unknown database type. Fix: "
                           "use a file path (journal file) or postgresql://user:password@host/db."
                           ) from err
    except ImportError as err:
        fix = _DRIVER_FIX.get(parsed.get_backend_name(), f"pip install {err.name}")
        raise StorageError(f"Cannot open the study storage {shown!r}: its Python driver "
                           f"({err.name}) is not installed. Fix: {fix}.") from err
    except sqlalchemy.exc.ArgumentError as err:
        raise StorageError(f"Cannot open the study storage {shown!r}: not a valid URL ({err}). "
                           "Fix: postgresql://user:password@host:port/database.") from err
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().parent
        if not folder.is_dir():
            raise StorageError(f"Cannot open the study storage {shown!r}: the folder {folder} does "
                               f"not exist. Fix: create it (mkdir -p {folder}).")
    return url, backend


def _rdb(url: str, backend: str, grace_period_s: float) -> optuna.storages.RDBStorage:
    engine_kwargs = {"pool_pre_ping": True}
    if backend == "postgresql":
        engine_kwargs["connect_args"] = {"connect_timeout": 5}
    with warnings.catch_warnings():  # the heartbeat's retry callback is "experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
        return optuna.storages.RDBStorage(
            url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S,
            grace_period=max(int(grace_period_s), 2 * HEARTBEAT_S),
            heartbeat_stale_trial_callback=retry)


def _database(url: str, grace_period_s: float, attempts: int = 8) -> optuna.storages.BaseStorage:
    import sqlalchemy

    shown = _hide_password(url)
    url, backend = _driver_url(url, shown)
    for attempt in range(attempts):
        try:
            return _rdb(url, backend, grace_period_s)
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as err:
            text = " ".join(f"{type(e).__name__} {e}" for e in _chain(err))
            if attempt + 1 < attempts and any(word in text for word in _RACE_WORDS):
                time.sleep(random.uniform(0.05, 0.3) * (attempt + 1))  # another worker creates
                continue  # the tables right now: try again once it is done
            reason = _first_line(err)
            raise StorageError(f"Cannot open the study storage {shown!r}: {reason}. Fix: "
                               f"{_database_fix(reason)}.") from err
    raise AssertionError("unreachable")


def open_storage(url: str | optuna.storages.BaseStorage, *,
                 grace_period_s: float = 600.0) -> optuna.storages.BaseStorage:
    """Open a study storage, failing fast with a :class:`StorageError` that names the URL and
    the fix (bad path, not a journal, missing driver, unreachable server) before any training.

    Args:
        url: a journal file path (one machine or a shared file system; ``journal:`` prefix
            optional), or a database URL such as ``postgresql://user:password@host/db``.
            A storage object is returned as it is.
        grace_period_s: on a database, a running trial without a heartbeat for this long is
            failed and retried once (Optuna's heartbeat, every :data:`HEARTBEAT_S` s).
    """
    if isinstance(url, optuna.storages.BaseStorage):
        return url
    if not isinstance(url, str) or not url.strip():
        raise StorageError(f"Cannot open the study storage {url!r}: give a journal file path "
                           "or a database URL such as postgresql://user:password@host/db.")
    return _database(url, grace_period_s) if _is_database_url(url) else _journal(url)


def storage_failure(err: BaseException) -> StorageError | None:
    """The storage failure behind an exception of ``study.optimize`` (Optuna may hide it behind
    an ``AssertionError`` or ``UnboundLocalError`` of its own clean-up), as a
    :class:`StorageError`; ``None`` when the storage is not to blame."""
    import sqlalchemy

    for cause in _chain(err):
        if isinstance(cause, StorageError):
            return cause
        if isinstance(cause, (sqlalchemy.exc.SQLAlchemyError,
                              optuna.exceptions.StorageInternalError)):
            reason = _first_line(cause)
            return StorageError(f"The study storage failed during a trial: {reason}. Fix: "
                                f"{_database_fix(reason)}, then start the worker again (its "
                                "running trial is retried).")
    return None


# ============================================================================= stale trials
def worker_id() -> str:
    """``host:pid`` of this process; trials record it, so that a dead worker's can be found."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(worker: str) -> bool | None:
    """Whether the worker ``host:pid`` still runs (``None``: another machine, unknown)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return not stat.read_text().split(") ")[-1].startswith("Z")  # a zombie is dead
    except OSError:
        return True


def _stale_reason(trial: optuna.trial.FrozenTrial, stale_after_s: float) -> str | None:
    worker = str(trial.user_attrs.get("worker", ""))
    alive = _alive(worker) if worker else None
    if alive is False:
        return f"worker {worker} died while running trial {trial.number}"
    started = trial.datetime_start.timestamp() if trial.datetime_start else time.time()
    age = time.time() - float(trial.user_attrs.get("heartbeat", started))
    if alive is None and age > stale_after_s:
        return f"no heartbeat from worker {worker or '?'} for {age:.0f} s (trial {trial.number})"
    return None


def fail_stale_trials(study: optuna.Study, *, stale_after_s: float = 600.0,
                      retry: bool = True) -> list[int]:
    """Fail the running trials of dead workers, and queue each one once for a retry.

    A trial is stale when its worker ran on this machine and is gone, or when its ``heartbeat``
    user attribute is older than ``stale_after_s`` (workers elsewhere). Only Optuna's public
    API is used: ``study.tell(number, state=FAIL)``, and the retry is an enqueued trial with the
    same parameters and the user attributes ``retry_of`` (the failed trial's number) and
    ``retry_reason``. :func:`helpers.sweep.run_worker` calls this before every trial, so a
    killed worker's trial is retried by the survivors and they finish the study they were
    asked for.

    Returns:
        The numbers of the trials marked failed.
    """
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        reason = _stale_reason(trial, stale_after_s)
        if reason is None:
            continue
        try:
            study.tell(trial.number, state=TrialState.FAIL)
        except (ValueError, RuntimeError, optuna.exceptions.UpdateFinishedTrialError):
            continue  # another worker got there first
        failed.append(trial.number)
        if retry and "retry_of" not in trial.user_attrs:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number,
                                                          "retry_reason": reason})
    return failed


def counted_trials(study: optuna.Study) -> int:
    """Trials that count towards a study's cap: complete, pruned, failed and running ones,
    except failed trials that were retried (by :func:`fail_stale_trials` or Optuna's heartbeat
    callback) -- their retry counts instead."""
    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get("retry_of") for t in trials}
    retried |= {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    counted = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.FAIL)
    return sum(1 for t in trials if t.state in counted
               and not (t.state == TrialState.FAIL and t.number in retried))
