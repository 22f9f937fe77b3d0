#!/usr/bin/env bash
# Redirect load benchmark: the shortener against nginx `return 302`, same wrk settings, same run.
#
# Starts nginx (as the current user, temp config) and the shortener (temp data dir, admin key),
# seeds BENCH_LINKS links through the API, then runs wrk with random slugs against each server
# and measures each server's CPU time (utime+stime of all its processes, from /proc) to report
# CPU-us per request next to req/s and p50/p99. Writes bench/results/redirect-<timestamp>.json.
# Stops only the processes it started, by PID.
#
# Environment (defaults):
#   BENCH_DURATION=15s  BENCH_CONNECTIONS=64  BENCH_THREADS=1   wrk settings
#   BENCH_WARMUP=3s     warm-up run per server before measuring (0 to skip)
#   BENCH_ROUNDS=1      measured runs per server, alternating order; medians are reported
#   BENCH_LINKS=10000   links seeded;  BENCH_SEED=42  random path sequence
#   SHORTENER_BIN=build/shortener   BENCH_SHORTENER_ARGS=""  extra `serve` flags (e.g. --threads 2)
#   BENCH_MODE=embedded  production: the shortener runs on a throwaway PostgreSQL + Redis
#                        (scripts/pg-test.sh, scripts/redis-test.sh) with --with-worker
#   BENCH_L1=on          off: an L1 of 16 entries, so nearly every redirect is a Redis hit
#                        (the cold-cache figure of production mode)
#   BENCH_KEEP=0        1 keeps the temp dir (configs, logs, slugs)
#   BENCH_ENFORCE=0     1 exits 1 when a target of the issue is missed
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lib="$repo/bench/lib"
bin=${SHORTENER_BIN:-$repo/build/shortener}
duration=${BENCH_DURATION:-15s}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-1}
warmup=${BENCH_WARMUP:-3s}
rounds=${BENCH_ROUNDS:-1}
links=${BENCH_LINKS:-10000}
export BENCH_SEED=${BENCH_SEED:-42}
wrk_bin=${WRK:-wrk}
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
clk_tck=$(getconf CLK_TCK)

die() { echo "redirect.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

command -v "$wrk_bin" >/dev/null || die "wrk not found (apt-get install wrk)"
[[ -x $nginx_bin ]] || die "nginx not found at $nginx_bin (apt-get install nginx-light)"
[[ -x $bin ]] || die "shortener binary not found at $bin (build it, or set SHORTENER_BIN)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shortener-bench.XXXXXX")
shortener_pid=""
shortener_url=""
nginx_pid=""
pg_dir=""
redis_dir=""

# shellcheck source=bench/lib/procs.sh
source "$lib/procs.sh"  # stop_pid: SIGTERM, 5 s, SIGKILL
# shellcheck source=bench/lib/nginx.sh
source "$lib/nginx.sh"  # start_nginx
# shellcheck source=scripts/lib.sh
source "$repo/scripts/lib.sh"  # free_port

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  stop_pid "$shortener_pid"
  stop_pid "$nginx_pid"
  if [[ -n $pg_dir ]]; then "$repo/scripts/pg-test.sh" stop "$pg_dir" >/dev/null 2>&1 || true; fi
  if [[ -n $redis_dir ]]; then "$repo/scripts/redis-test.sh" stop "$redis_dir" >/dev/null 2>&1 || true; fi
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_http() {  # URL: until it answers anything, at most 10 s
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  die "no answer from $1"
}

# utime+stime, in clock ticks, of the given PIDs (all threads included by the kernel).
cpu_ticks() {
  local total=0 pid stat rest fields
  for pid in "$@"; do
    stat=$(<"/proc/$pid/stat") || die "process $pid vanished"
    rest=${stat##*) }  # fields after "pid (comm) "; comm may contain spaces
    read -ra fields <<<"$rest"
    total=$((total + fields[11] + fields[12]))  # utime (field 14), stime (field 15)
  done
  echo "$total"
}

mode_args=()
case ${BENCH_MODE:-embedded} in
  embedded) ;;
  production)
    # Their own dirs (not under $tmp, which is private to this user: PostgreSQL runs as another).
    pg_dir=$(mktemp -d /tmp/shortener-bench-pg.XXXXXX)
    redis_dir=$(mktemp -d /tmp/shortener-bench-redis.XXXXXX)
    pg_url=$("$repo/scripts/pg-test.sh" start "$pg_dir")
    redis_url=$("$repo/scripts/redis-test.sh" start "$redis_dir")
    mode_args=(--database-url "$pg_url" --redis-url "$redis_url" --with-worker)
    ;;
  *) die "BENCH_MODE must be embedded or production" ;;
esac
[[ ${BENCH_L1:-on} == off ]] && mode_args+=(--cache-entries 16)

# Sets shortener_pid and shortener_url (not in a subshell: the PID must stay ours to stop).
start_shortener() {
  local key=$1
  # shellcheck disable=SC2086  # BENCH_SHORTENER_ARGS is a list of flags
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" --admin-key "$key" \
    "${mode_args[@]}" ${BENCH_SHORTENER_ARGS:-} >"$tmp/shortener.out" 2>"$tmp/shortener.err" &
  shortener_pid=$!
  shortener_url=""
  for _ in $(seq 150); do
    shortener_url=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$tmp/shortener.out" | head -n1)
    [[ -n $shortener_url ]] && break
    kill -0 "$shortener_pid" 2>/dev/null || { cat "$tmp/shortener.err" >&2; die "shortener exited"; }
    sleep 0.1
  done
  [[ -n $shortener_url ]] || die "shortener printed no 'listening on' line within 15 s"
  wait_http "$shortener_url/readyz"
}

# All PIDs of a server: the process and its children (nginx workers).
server_pids() {
  local children
  children=$(ps -o pid= --ppid "$1" 2>/dev/null | tr -s ' \n' ' ' || true)
  echo "$1 $children"
}

# run_wrk NAME URL DURATION: runs wrk, stores its output and its own CPU seconds.
run_wrk() {
  local name=$1 url=$2 dur=$3 TIMEFORMAT="%U %S"
  { time "$wrk_bin" -t"$threads" -c"$connections" -d"$dur" --timeout 5s \
      -s "$lib/random_slug.lua" "$url" >"$tmp/wrk-$name.out" 2>&1; } 2>"$tmp/wrk-$name.time"
}

# measure NAME RUN URL PID WARMUP: optional warm-up, then the measured run bracketed by CPU
# readings. Prints one JSON object.
measure() {
  local name=$1 run=$2 url=$3 pid=$4 warm=$5 pids before after load result
  if [[ $warm != 0 && $warm != 0s ]]; then
    log "warm-up $name ($warm)"
    run_wrk "$name-warmup" "$url" "$warm"
  fi
  pids=$(server_pids "$pid")
  log "measure $name, round $run ($duration, -t$threads -c$connections; pids $pids)"
  # shellcheck disable=SC2086
  before=$(cpu_ticks $pids)
  run_wrk "$name-$run" "$url" "$duration"
  # shellcheck disable=SC2086
  after=$(cpu_ticks $pids)
  result=$(sed -n 's/^BENCH_RESULT //p' "$tmp/wrk-$name-$run.out")
  [[ -n $result ]] || { cat "$tmp/wrk-$name-$run.out" >&2; die "wrk printed no result for $name"; }
  load=$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/wrk-$name-$run.time")
  printf '{"wrk": %s, "cpu_ticks": %d, "clk_tck": %d, "load_cpu_s": %s, "pids": "%s"}' \
    "$result" $((after - before)) "$clk_tck" "$load" "$pids"
}

admin_key="sk_bench_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

log "starting nginx"
nginx_port=$(free_port)
start_nginx "$tmp" "$nginx_port" || die "nginx did not answer on port $nginx_port"
nginx_url="http://127.0.0.1:$nginx_port"

log "starting shortener ($bin)"
start_shortener "$admin_key"

log "seeding $links links into $shortener_url"
python3 "$lib/seed.py" "$shortener_url" "$admin_key" "$links" "$tmp/slugs.txt" 4 >&2
export BENCH_SLUGS_FILE="$tmp/slugs.txt"

first_slug=$(head -n1 "$tmp/slugs.txt")
for url in "$shortener_url/$first_slug" "$nginx_url/$first_slug"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [[ $code == 302 ]] || die "GET $url answered $code, not 302"
done

# Rounds alternate the order (S N, N S, ...) so a load change on a shared machine hits both.
shortener_runs="" nginx_runs=""
for round in $(seq "$rounds"); do
  warm=0
  [[ $round == 1 ]] && warm=$warmup
  if ((round % 2)); then order="shortener nginx"; else order="nginx shortener"; fi
  for name in $order; do
    if [[ $name == shortener ]]; then
      run=$(measure shortener "$round" "$shortener_url" "$shortener_pid" "$warm")
      shortener_runs+="${shortener_runs:+, }$run"
    else
      run=$(measure nginx "$round" "$nginx_url" "$nginx_pid" "$warm")
      nginx_runs+="${nginx_runs:+, }$run"
    fi
  done
done

# Click accounting: every redirect wrk received must become exactly one stored click. wrk
# counts completed responses only, so the server may have answered up to one more request per
# connection per wrk run (in flight when wrk stopped): enqueued is in
# [wrk, wrk + connections x runs].
metric() { curl -s "$shortener_url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# (+1: the curl check before the runs.)
wrk_total=$(cat "$tmp"/wrk-shortener-*.out | awk '/requests in/ {s += $1} END {print s + 1}')
wrk_runs=$(ls "$tmp"/wrk-shortener-*.out | wc -l)
log "waiting for the click queue to drain"
for _ in $(seq 600); do
  [[ $(metric shortener_click_queue_length) == 0 ]] && break
  sleep 0.5
done
enqueued=$(metric shortener_clicks_enqueued_total)
processed=$(metric shortener_clicks_processed_total)
dropped=$(metric shortener_clicks_dropped_total)
clicks_ok=false
if ((processed == enqueued && dropped == 0 && enqueued >= wrk_total &&
     enqueued <= wrk_total + connections * wrk_runs)); then clicks_ok=true; fi
printf 'clicks: wrk received %s redirects; enqueued %s, stored %s, dropped %s -> %s\n' \
  "$wrk_total" "$enqueued" "$processed" "$dropped" "$([[ $clicks_ok == true ]] && echo ok || echo MISMATCH)" >&2

stamp=$(date -u +%Y%m%dT%H%M%SZ)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo none)
cat >"$tmp/raw.json" <<EOF
{
  "meta": {"benchmark": "redirect", "timestamp": "$stamp", "commit": "$commit",
           "cpus": $(nproc), "loadavg_before": "$(cut -d' ' -f1-3 /proc/loadavg)",
           "duration": "$duration", "warmup": "$warmup", "rounds": $rounds,
           "connections": $connections,
           "wrk_threads": $threads, "links": $links, "seed": $BENCH_SEED,
           "shortener_args": "${BENCH_SHORTENER_ARGS:-}",
           "nginx_version": "$("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///')"},
  "servers": {"shortener": [$shortener_runs], "nginx": [$nginx_runs]},
  "clicks": {"wrk_redirects": $wrk_total, "enqueued": $enqueued, "stored": $processed,
             "dropped": $dropped, "ok": $clicks_ok}
}
EOF

mkdir -p "$repo/bench/results"
out="$repo/bench/results/redirect-$stamp.json"
python3 "$lib/report.py" "$tmp/raw.json" "$out"

if [[ ${BENCH_ENFORCE:-0} == 1 ]]; then
  python3 -c 'import json, sys; t = json.load(open(sys.argv[1]))["targets"]; sys.exit(0 if t["rps_ok"] and t["cpu_ok"] else 1)' "$out" \
    || die "targets missed (BENCH_ENFORCE=1)"
fi
