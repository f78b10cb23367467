"""helpers.sweep_storage and the worker command under faults (issue 19): half-written journals,
files that are not journals, a full disk, killed workers, the PostgreSQL table-creation race with
several workers starting together on an empty database, and bad options.

The PostgreSQL tests need a server: ``OPTUNA_TEST_STORAGE=postgresql://user:password@host/db``
(``.ci/postgres.sh`` starts one), or a server on localhost:5432 that accepts ``postgres``.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from test_sweep import FAST, WORKER_ARGS, _postgres_url, tiny_data

from helpers import sweep, sweep_storage
from helpers.sweep import SweepData, main, run_worker
from helpers.sweep_analysis import launch_workers
from helpers.sweep_storage import StorageError, check_journal, fail_stale_trials, open_storage


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    return tiny_data().save(tmp_path_factory.mktemp("storage") / "tiny.npz")


def journal_with_trials(path: Path, n: int = 3) -> Path:
    study = optuna.create_study(study_name="s", storage=open_storage(str(path)))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n)
    return path


def plain(path: Path) -> optuna.storages.JournalStorage:
    """The journal as plain Optuna opens it."""
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def complete(path: Path) -> int:
    study = optuna.load_study(study_name="s", storage=open_storage(str(path)))
    return len(study.get_trials(states=(TrialState.COMPLETE,)))


# ============================================================================ journal files
def test_a_half_written_last_record_is_cut_with_a_backup(tmp_path, capsys):
    path = journal_with_trials(tmp_path / "study.journal")
    whole = path.read_bytes()
    fragment = b'{"op_code":4,"worker_id":"w","study_id":0,"datet'
    path.write_bytes(whole + fragment)
    assert complete(path) == 3  # opened by the helpers: no complete trial lost
    err = capsys.readouterr().err
    assert (f"cut {len(fragment)} bytes of a half-written last record at byte {len(whole)}"
            in err)
    assert path.read_bytes() == whole
    backup, = tmp_path.glob("study.journal.broken-*")
    assert backup.read_bytes().endswith(b'"datet')  # the original is kept
    study = optuna.load_study(study_name="s", storage=plain(path))  # plain Optuna reads it too
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert len(study.trials) == 4


def test_a_journal_destroyed_by_an_append_after_a_fragment_is_recovered(tmp_path, capsys):
    """What older helpers left after a full disk: a fragment, then a record on the same line."""
    path = journal_with_trials(tmp_path / "study.journal")
    lines = path.read_bytes().splitlines(keepends=True)
    glued = b'{"op_code":4,"wor' + lines[-2]
    path.write_bytes(b"".join(lines[:-2]) + glued + lines[-1])
    with pytest.raises(ValueError):  # Optuna alone cannot read it any more
        optuna.load_study(study_name="s", storage=plain(path))
    assert complete(path) == 3
    assert "recovered the record glued to a fragment" in capsys.readouterr().err


def test_an_unrecoverable_line_is_refused_and_the_file_kept(tmp_path):
    path = journal_with_trials(tmp_path / "study.journal")
    lines = path.read_bytes().splitlines(keepends=True)
    broken = b"".join(lines[:2]) + b"garbage\n" + b"".join(lines[2:])
    path.write_bytes(broken)
    with pytest.raises(StorageError, match=f"record at byte {len(lines[0]) + len(lines[1])} is "
                       "broken and cannot be recovered.*start a new journal"):
        open_storage(str(path))
    assert path.read_bytes() == broken


def test_a_file_that_is_not_a_journal_is_refused_untouched(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\nmore notes\n")
    with pytest.raises(StorageError, match="not an Optuna journal \\(it begins with 'my notes'\\)"
                       ".*new file name"):
        open_storage(str(notes))
    status = main(["--study", "x", "--storage", str(notes), "--n-trials", "1"])
    assert status == 2 and notes.read_text() == "my notes\nmore notes\n"


def test_a_full_disk_leaves_the_journal_intact(tmp_path, monkeypatch):
    path = journal_with_trials(tmp_path / "study.journal")
    before = path.read_bytes()

    class FullDisk:
        """A file on a disk that fills after 20 bytes of the next write."""

        def __init__(self, name, mode):
            self.file = open(name, mode)  # noqa: SIM115

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def write(self, data):
            self.file.write(data[:20])
            self.file.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self):
            pass

        def fileno(self):
            return self.file.fileno()

    def full_disk_open(name, mode="r", *args, **kwargs):
        return FullDisk(name, mode) if mode == "ab" else open(name, mode, *args, **kwargs)

    monkeypatch.setattr(sweep_storage, "open", full_disk_open, raising=False)
    with pytest.raises(StorageError, match=f"disk full writing {path}.*journal is intact"):
        run_worker("s2", str(path), tiny_data(), n_trials=1, recipe=FAST)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the partial record was taken back
    assert complete(path) == 3


@pytest.fixture
def small_tmpfs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    target = tmp_path / "disk"
    target.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(target)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield target
    subprocess.run(["umount", str(target)], check=False)


@pytest.mark.slow  # a worker process fills a small disk, then another carries on
def test_a_really_full_tmpfs_stops_the_worker_with_a_clear_message(small_tmpfs, data_file):
    journal = small_tmpfs / "study.journal"
    filler = small_tmpfs / "filler"
    filler.write_bytes(b"x" * (256 * 1024 - 8 * 1024))  # about 8 kB left for the journal
    result = subprocess.run([sys.executable, "-m", "helpers.sweep", "--study", "full",
                             "--storage", str(journal), "--n-trials", "3", "--data",
                             str(data_file), *WORKER_ARGS], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "HELPERS_PROGRESS": "off"})
    assert result.returncode == 1, result.stderr
    assert f"disk full writing {journal}" in result.stderr.strip().splitlines()[-1]
    assert "Should not reach" not in result.stderr
    assert all(records(journal))  # every line is a whole record
    filler.unlink()  # space freed: the next worker carries on with the same journal
    study = run_worker("full", str(journal), SweepData.load(data_file), n_trials=1,
                       recipe=FAST)
    assert study.trials[-1].state == TrialState.COMPLETE
    check_journal(journal)
    assert all(records(journal))


# ============================================================================= stale trials
def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_dead_workers_trial_is_retried_before_the_next_trial(monkeypatch):
    """The survivor finishes the study it was asked for (3 counted trials), not 2."""
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(study_name="dead", storage=storage, direction="maximize")
    trial = study.ask({"lr": optuna.distributions.FloatDistribution(1e-3, 3e-2, log=True)})
    trial.set_user_attr("worker", f"{os.uname().nodename}:{_dead_pid()}")
    calls = []
    monkeypatch.setattr(sweep, "fail_stale_trials",
                        lambda s, **k: calls.append(1) or fail_stale_trials(s, **k))
    study = run_worker("dead", storage, tiny_data(), n_trials=5, max_trials=3, recipe=FAST,
                       sampler_seed=0)
    states = [t.state for t in study.trials]
    assert states == [TrialState.FAIL] + [TrialState.COMPLETE] * 3
    retry = study.trials[1]
    assert retry.user_attrs["retry_of"] == 0 and "died while running trial 0" in (
        retry.user_attrs["retry_reason"])
    assert retry.params["lr"] == trial.params["lr"]
    assert len(calls) == 4  # before every trial (and once more to see the cap is reached)
    assert sweep_storage.counted_trials(study) == 3


def test_a_killed_worker_process_leaves_a_resumable_study(tmp_path, data_file) -> None:
    storage = str(tmp_path / "killed.journal")
    args = ("--data", str(data_file), "--n-iter", "1000000", "--patience", "1000000")
    worker, = launch_workers(1, "killed", storage, 1, log_dir=tmp_path, args=args)
    study = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            study = study or optuna.load_study(study_name="killed", storage=open_storage(storage))
        except KeyError:
            pass
        if study and any(t.intermediate_values for t in study.get_trials()):
            break
        time.sleep(0.1)
    worker.kill()
    worker.wait()
    running, = study.get_trials(states=(TrialState.RUNNING,))
    resumed = run_worker("killed", storage, SweepData.load(data_file), n_trials=1,
                         recipe=replace(FAST, n_iter=1000000), sampler_seed=1)
    dead, retry = resumed.get_trials()
    assert dead.number == running.number and dead.state == TrialState.FAIL
    assert f":{worker.pid} died" in retry.user_attrs["retry_reason"]
    assert retry.state == TrialState.COMPLETE and retry.user_attrs["retry_of"] == dead.number
    assert retry.params == dead.params
    assert fail_stale_trials(resumed) == []


def test_a_silent_worker_elsewhere_is_failed_after_the_grace_period() -> None:
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    trial.set_user_attr("worker", "another-machine:123")
    trial.set_user_attr("heartbeat", time.time() - 100)
    assert fail_stale_trials(study, stale_after_s=1000) == []
    assert fail_stale_trials(study, stale_after_s=10, retry=False) == [0]
    assert study.trials[0].state == TrialState.FAIL and len(study.trials) == 1


def test_a_database_lost_during_a_trial_is_named_not_an_unbound_local() -> None:
    import sqlalchemy

    lost = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception(
        "connection to server at 127.0.0.1 failed: Connection refused"))
    try:
        try:
            raise lost
        except Exception:
            raise UnboundLocalError("cannot access local variable 'updated_state'") from None
    except UnboundLocalError as hidden:
        hidden.__context__ = lost
        failure = sweep_storage.storage_failure(hidden)
    assert "Connection refused" in str(failure) and "start the database server" in str(failure)
    assert sweep_storage.storage_failure(ValueError("not the storage")) is None


# ================================================================================ databases
@pytest.mark.parametrize("url, message", [
    ("/no/such/folder/study.journal", "mkdir -p /no/such/folder"),
    ("postgres://user:secret@localhost/db", "postgresql://"),
    ("postgresql://user:secret@127.0.0.1:1/db", "start the database server"),
    ("nosuchdb://host/db", "unknown database type"),
    ("mysql://user@localhost/db", "pip install pymysql"),
    ("", "journal file path"),
])
def test_bad_storage_urls_name_the_url_and_the_fix(url, message) -> None:
    with pytest.raises(StorageError, match="Cannot open the study storage") as error:
        open_storage(url)
    assert message in str(error.value)
    assert "secret" not in str(error.value)


@pytest.mark.parametrize("reason, fix", [
    ('password authentication failed for user "x"', "user name and password"),
    ('database "sweeps" does not exist', "create the database"),
    ('duplicate key value violates unique constraint "x"', "database server's log"),
])
def test_hints_fit_their_errors(reason, fix) -> None:
    assert fix in sweep_storage._database_fix(reason)
    assert "start the database server" not in sweep_storage._database_fix(reason)


def test_a_missing_postgresql_driver_says_what_to_install(monkeypatch) -> None:
    for module in ("psycopg", "psycopg2"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(StorageError, match="not installed. Fix: pip install psycopg"):
        open_storage("postgresql://user@127.0.0.1/db")


@pytest.fixture
def empty_database():
    """A URL of an empty PostgreSQL schema (no Optuna tables yet), dropped afterwards."""
    import sqlalchemy

    url = _postgres_url()
    schema = f"empty_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.mark.slow  # a minute on 2 busy cores: each worker process imports PyTorch
@pytest.mark.parametrize("n_workers", [2, 4])
def test_workers_starting_together_on_an_empty_database(empty_database, tmp_path, data_file,
                                                        n_workers) -> None:
    """Only the workers touch the database (as on a cluster): they race to create its tables."""
    processes = launch_workers(n_workers, "race", empty_database, 1, log_dir=tmp_path,
                               args=("--data", str(data_file), *WORKER_ARGS),
                               check_storage=False)
    for process in processes:
        process.wait(timeout=300)
    logs = [Path(p.log_path).read_text() for p in processes]
    assert [p.returncode for p in processes] == [0] * n_workers, "\n".join(logs)
    study = optuna.load_study(study_name="race", storage=empty_database)  # plain Optuna
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * n_workers


def test_the_postgresql_storage_has_optunas_heartbeat() -> None:
    storage = open_storage(_postgres_url(), grace_period_s=300)
    assert storage.get_heartbeat_interval() == sweep_storage.HEARTBEAT_S
    assert storage.grace_period == 300
    assert storage.get_heartbeat_stale_trial_callback() is not None


# ====================================================================================== CLI
@pytest.mark.parametrize("options, named", [
    (["--n-trials", "-1"], "argument --n-trials: -1 is below 0"),
    (["--n-trials", "1", "--max-trials", "0"], "argument --max-trials: 0 is below 1"),
    (["--n-trials", "two"], "argument --n-trials: 'two' is not a int"),
    (["--n-trials", "1", "--window", "0.4", "0.0"], "--window 0.4 0: START_S must be below"),
    (["--n-trials", "1", "--data", "/no/such/split.npz"], "--data /no/such/split.npz: cannot"),
    (["--n-trials", "1", "--stale-after", "0"], "argument --stale-after: 0 is below 1.0"),
])
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, options, named) -> None:
    storage = ["--study", "x", "--storage", str(tmp_path / "s.journal")]
    with pytest.raises(SystemExit) as exit_:
        main(storage + options)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["train_inputs", "train_targets"])
def test_data_with_nan_are_refused_before_any_trial(tmp_path, capsys, where) -> None:
    data = tiny_data()
    getattr(data, where)[3, 2, 1] = float("nan")
    with pytest.raises(ValueError, match=f"sweep's {where} hold 1 NaN"):
        run_worker("nan", optuna.storages.InMemoryStorage(), data, n_trials=1, recipe=FAST)
    path = data.save(tmp_path / "nan.npz")
    status = main(["--study", "x", "--storage", str(tmp_path / "s.journal"), "--n-trials", "1",
                   "--data", str(path)])
    assert status == 2 and f"sweep's {where} hold 1 NaN" in capsys.readouterr().err


def test_data_without_trials_are_refused() -> None:
    data = tiny_data()
    empty = SweepData(data.train_inputs[:, :0], data.train_targets[:, :0], data.test_inputs,
                      data.test_targets, 0.2, "no bins")
    with pytest.raises(ValueError, match="no empty axis, got shape \\(30, 0, 6\\)"):
        run_worker("empty", optuna.storages.InMemoryStorage(), empty, n_trials=1, recipe=FAST)


def test_the_worker_command_fails_before_training_on_a_bad_storage(capsys) -> None:
    status = main(["--study", "x", "--storage", "/no/such/folder/s.journal", "--n-trials", "1"])
    assert status == 2
    assert "mkdir -p /no/such/folder" in capsys.readouterr().err
