#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and benchmarks.
#
#   scripts/pg-test.sh start DIR   # prints postgres://shortener@127.0.0.1:PORT/shortener_test
#   scripts/pg-test.sh down DIR    # stops it (fast shutdown), keeping DIR (fault tests: PG is down)
#   scripts/pg-test.sh kill DIR    # SIGKILLs its postmaster (a crash), keeping DIR
#   scripts/pg-test.sh up DIR      # starts it again after `down`/`kill`, on the same port
#   scripts/pg-test.sh stop DIR    # stops that cluster (by its own pid file) and removes DIR
#
# DIR must not exist or be empty (e.g. "$(mktemp -d /tmp/pg-test.XXXXXX)"); it is handed to the
# postgres user, which runs the server (PostgreSQL refuses to run as root). The server listens on
# 127.0.0.1 only, on a random free port, with its unix socket inside DIR and durability off
# (fsync=off: a crash can lose the cluster, which is fine for throwaway test data). Every wait is
# bounded. Only the URL goes to stdout; progress and errors go to stderr.
# PG_TEST_OPTIONS adds server settings ("-c name=value ..."); PG_TEST_STATEMENTS=1 creates
# pg_stat_statements in the test database (it needs PG_TEST_OPTIONS to preload it).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"  # free_port, kill_and_wait

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_USER=postgres       # the OS user running the server
ROLE=shortener         # the role the tests connect as (trust authentication, loopback only)
DATABASE=shortener_test
MARKER=.shortener-pg-test  # `stop` removes only directories that `start` made
START_TIMEOUT_S=30

die() {
  echo "pg-test: $*" >&2
  exit 1
}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}


launch() {
  local dir="$1" port="$2"
  as_pg "$PG_BIN/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t "$START_TIMEOUT_S" \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir' \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=200 -c shared_buffers=128MB ${PG_TEST_OPTIONS:-}" >/dev/null 2>&1
}

start() {
  local dir="$1"
  [[ -x "$PG_BIN/initdb" ]] || die "no $PG_BIN/initdb (install postgresql-15)"
  mkdir -p "$dir"
  [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
  dir="$(cd "$dir" && pwd)"
  touch "$dir/$MARKER"
  [[ $(id -u) -eq 0 ]] && chown -R "$PG_USER:" "$dir"

  as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$dir/initdb.log")"

  # A free port can be taken between the probe and the bind: try a few.
  local port="" attempt
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if launch "$dir" "$port"; then
      break
    fi
    port=""
    echo "pg-test: start attempt $attempt failed: $(tail -n 2 "$dir/server.log" 2>/dev/null)" >&2
  done
  [[ -n "$port" ]] || die "server did not start; see $dir/server.log"
  echo "$port" >"$dir/port"

  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE $ROLE LOGIN CREATEDB" \
    -c "CREATE DATABASE $DATABASE OWNER $ROLE" >&2 || die "cannot create role and database"
  # PG_TEST_OPTIONS="-c shared_preload_libraries=pg_stat_statements" PG_TEST_STATEMENTS=1:
  # the extension in the test database, its reset allowed to the test role (bench/reference.sh).
  if [[ ${PG_TEST_STATEMENTS:-0} == 1 ]]; then
    as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$DATABASE" \
      -c "CREATE EXTENSION pg_stat_statements" \
      -c "GRANT EXECUTE ON FUNCTION pg_stat_statements_reset TO $ROLE" >&2 ||
      die "cannot create pg_stat_statements (is it in PG_TEST_OPTIONS' shared_preload_libraries?)"
  fi
  echo "postgres://$ROLE@127.0.0.1:$port/$DATABASE"
}

# The postmaster of this cluster, named by its own pid file (empty when there is none).
postmaster_pid() {
  local pid
  pid="$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]]; then echo "$pid"; fi
}

shutdown_server() {
  local dir="$1" pid
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  if ! as_pg "$PG_BIN/pg_ctl" stop -D "$dir/data" -m fast -w -t "$START_TIMEOUT_S" >/dev/null 2>&1; then
    # pg_ctl gave up: end the postmaster of this cluster only, named by its own pid file.
    pid="$(postmaster_pid "$dir")"
    if [[ -n "$pid" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    echo "pg-test: pg_ctl stop failed; killed postmaster $pid" >&2
  fi
}

check_dir() {
  [[ -f "$1/$MARKER" ]] || die "$1 was not made by '$0 start': not touching it"
  [[ -f "$1/port" ]] || die "$1 has no port file"
}

down() {
  check_dir "$1"
  shutdown_server "$1"
}

# A crash: SIGKILL to the postmaster; its backends notice the postmaster is gone and exit. The
# next start runs crash recovery (and removes the stale pid file).
crash() {
  local dir="$1" pid
  check_dir "$dir"
  pid="$(postmaster_pid "$dir")"
  [[ -n "$pid" ]] || return 0
  kill_and_wait "$pid" "$START_TIMEOUT_S" || die "postmaster $pid still there after SIGKILL"
}

up() {
  local dir="$1" port
  check_dir "$dir"
  port="$(cat "$dir/port")"
  launch "$dir" "$port" || die "server did not start again on port $port; see $dir/server.log"
}

stop() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  [[ -f "$dir/$MARKER" ]] || die "$dir was not made by '$0 start': not touching it"
  shutdown_server "$dir"
  rm -rf "$dir"
}

case "${1:-}" in
  start) [[ $# -eq 2 ]] || die "usage: $0 start DIR"; start "$2" ;;
  down) [[ $# -eq 2 ]] || die "usage: $0 down DIR"; down "$2" ;;
  kill) [[ $# -eq 2 ]] || die "usage: $0 kill DIR"; crash "$2" ;;
  up) [[ $# -eq 2 ]] || die "usage: $0 up DIR"; up "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 start DIR | down DIR | kill DIR | up DIR | stop DIR" ;;
esac
