#!/usr/bin/env bash
# A throwaway Redis 7 server for tests and benchmarks.
#
#   scripts/redis-test.sh start DIR     # prints redis://127.0.0.1:PORT
#   scripts/redis-test.sh restart DIR   # stops and starts it again on the same port, same data
#   scripts/redis-test.sh down DIR      # stops it, keeping DIR (fault tests: Redis is down)
#   scripts/redis-test.sh kill DIR      # SIGKILLs it (a crash, no final AOF flush), keeping DIR
#   scripts/redis-test.sh up DIR        # starts it again after `down` or `kill`
#   scripts/redis-test.sh stop DIR      # stops that server (by its own pid file) and removes DIR
#
# DIR must not exist or be empty (e.g. "$(mktemp -d /tmp/redis-test.XXXXXX)"). The server listens
# on 127.0.0.1 only, on a random free port, with its data, pid file and log inside DIR. It runs
# with AOF persistence (appendonly yes) as production does: the click stream must survive a
# restart. Every wait is bounded. Only the URL goes to stdout; progress and errors go to stderr.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"  # free_port, kill_and_wait

REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"
REDIS_CLI="${REDIS_CLI:-/usr/bin/redis-cli}"
MARKER=.shortener-redis-test  # `stop` removes only directories that `start` made
WAIT_TIMEOUT_S=15

die() {
  echo "redis-test: $*" >&2
  exit 1
}


write_config() {
  local dir="$1" port="$2"
  cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port $port
dir $dir
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
appendonly yes
appendfsync everysec
save ""
EOF
}

# Waits until the server answers PONG (not LOADING): it has replayed its AOF.
wait_ready() {
  local port="$1" deadline=$((SECONDS + WAIT_TIMEOUT_S))
  until [[ "$("$REDIS_CLI" -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

read_pid() {
  local pid
  pid="$(head -n 1 "$1/redis.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && echo "$pid"
}

launch() {
  local dir="$1" port="$2"
  write_config "$dir" "$port"
  "$REDIS_SERVER" "$dir/redis.conf" >/dev/null 2>&1 || return 1
  wait_ready "$port"
}

start() {
  local dir="$1"
  [[ -x "$REDIS_SERVER" ]] || die "no $REDIS_SERVER (install redis-server)"
  mkdir -p "$dir"
  [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
  dir="$(cd "$dir" && pwd)"
  touch "$dir/$MARKER"
  # A free port can be taken between the probe and the bind: try a few.
  local port="" attempt
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if launch "$dir" "$port"; then break; fi
    shutdown_server "$dir" "$port"
    port=""
    echo "redis-test: start attempt $attempt failed: $(tail -n 2 "$dir/redis.log" 2>/dev/null)" >&2
  done
  [[ -n "$port" ]] || die "server did not start; see $dir/redis.log"
  echo "$port" >"$dir/port"
  echo "redis://127.0.0.1:$port"
}

# SHUTDOWN flushes and fsyncs the AOF; if the server does not go within the bound, the process
# named by this server's own pid file is killed.
shutdown_server() {
  local dir="$1" port="$2" pid deadline
  pid="$(read_pid "$dir" || true)"
  "$REDIS_CLI" -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
  [[ -n "$pid" ]] || return 0
  deadline=$((SECONDS + WAIT_TIMEOUT_S))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      kill -KILL "$pid" 2>/dev/null || true
      echo "redis-test: shutdown timed out; killed redis-server $pid" >&2
      break
    fi
    sleep 0.05
  done
  rm -f "$dir/redis.pid"
}

check_dir() {
  [[ -f "$1/$MARKER" ]] || die "$1 was not made by '$0 start': not touching it"
  [[ -f "$1/port" ]] || die "$1 has no port file"
}

down() {
  check_dir "$1"
  shutdown_server "$1" "$(cat "$1/port")"
}

# SIGKILL to the server named by this server's own pid file: no SHUTDOWN, no last AOF flush.
# (What it had written to the AOF file is in the kernel's page cache and survives; only an OS
# crash loses the up to 1 s that appendfsync everysec has not fsync'd yet.)
crash() {
  local dir="$1" pid
  check_dir "$dir"
  pid="$(read_pid "$dir" || true)"
  [[ -n "$pid" ]] || return 0
  kill_and_wait "$pid" "$WAIT_TIMEOUT_S" || die "redis-server $pid still there after SIGKILL"
  rm -f "$dir/redis.pid"
}

up() {
  local dir="$1" port
  check_dir "$dir"
  port="$(cat "$dir/port")"
  launch "$dir" "$port" || die "server did not start again on port $port; see $dir/redis.log"
}

stop() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  check_dir "$dir"
  shutdown_server "$dir" "$(cat "$dir/port")"
  rm -rf "$dir"
}

case "${1:-}" in
  start) [[ $# -eq 2 ]] || die "usage: $0 start DIR"; start "$2" ;;
  restart) [[ $# -eq 2 ]] || die "usage: $0 restart DIR"; down "$2"; up "$2" ;;
  down) [[ $# -eq 2 ]] || die "usage: $0 down DIR"; down "$2" ;;
  kill) [[ $# -eq 2 ]] || die "usage: $0 kill DIR"; crash "$2" ;;
  up) [[ $# -eq 2 ]] || die "usage: $0 up DIR"; up "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 start DIR | restart DIR | down DIR | kill DIR | up DIR | stop DIR" ;;
esac
