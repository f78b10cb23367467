# Sourced by .ci/run: a throwaway PostgreSQL server on localhost for tests/test_sweep*.py (the
# search workers of chapter 6, and 2 and 4 of them creating an empty database together, in a
# schema of its own per test). Idempotent: a server
# already answering on the port is reused. Exports OPTUNA_TEST_STORAGE on success; on failure it
# says so loudly and the PostgreSQL test skips (the journal-file tests still run).
PG_PORT="${PG_PORT:-55432}"
PG_ROOT="${PG_ROOT:-/tmp/ci-postgres}"

_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

_pg_as_owner() {  # initdb and the server refuse to run as root
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

_pg_start() {
    if [ -z "$(_pg_bin)" ]; then
        echo "Installing PostgreSQL (Debian package) for the sweep tests..."
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                postgresql >/dev/null || return 1
        else
            sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install \
                -y -qq postgresql >/dev/null || return 1
        fi
    fi
    local bin
    bin="$(_pg_bin)"
    [ -n "$bin" ] || return 1
    if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
        rm -rf "$PG_ROOT" && mkdir -p "$PG_ROOT"
        [ "$(id -u)" != 0 ] || chown postgres "$PG_ROOT"
        _pg_as_owner "'$bin/initdb' -D '$PG_ROOT/data' -U postgres -A trust --no-sync \
            >'$PG_ROOT/initdb.log' 2>&1" || return 1
        _pg_as_owner "'$bin/pg_ctl' -D '$PG_ROOT/data' -l '$PG_ROOT/server.log' -w \
            -o \"-p $PG_PORT -k '$PG_ROOT' -c listen_addresses=127.0.0.1 -c fsync=off\" start \
            >/dev/null" || return 1
    fi
    "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=0 \
        -c "CREATE ROLE optuna LOGIN PASSWORD 'optuna'" \
        -c "CREATE DATABASE optuna_test OWNER optuna" >/dev/null 2>&1 || true
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d optuna_test
}

if _pg_start; then
    export OPTUNA_TEST_STORAGE="postgresql://optuna:optuna@127.0.0.1:$PG_PORT/optuna_test"
    echo "PostgreSQL for the sweep tests: $OPTUNA_TEST_STORAGE"
else
    echo "WARNING: could not start PostgreSQL (see $PG_ROOT/*.log);" \
         "tests/test_sweep.py will skip its PostgreSQL test." >&2
fi
