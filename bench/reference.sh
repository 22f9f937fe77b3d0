#!/usr/bin/env bash
# Reference benchmark: the shortener against the seed's own design, a small Node.js 20
# implementation (bench/node-reference: Fastify + ioredis + pg + BullMQ + geoip-lite +
# ua-parser-js), on the same throwaway PostgreSQL and Redis, in the same run. Prints our figures
# as multiples of the reference's (issue #4's goal: >= 10x on both).
#
#   (a) redirects: BENCH_LINKS links created through each API, a warm-up, then BENCH_ROUNDS
#       rounds in which node, nginx and ours take turns under
#       wrk -t1 -c64 -d15s with bench/lib/random_slug.lua (the same path sequence for all);
#       req/s, latency, and CPU-us per request of the server processes (and of Redis+PostgreSQL)
#       from /proc/PID/stat. Click workers are stopped during this part, for both.
#   (b) click ingest: a backlog of BENCH_CLICKS clicks queued while no worker runs (Node:
#       Queue.addBulk of the jobs its redirects would enqueue; ours: redirects with a realistic
#       User-Agent / X-Forwarded-For / Referer mix, bench/lib/click_mix.lua, into the Redis stream
#       `clicks`), then BENCH_INGEST_WORKERS worker processes are started and the time until the
#       queue is empty (every click committed; redis-cli polled every 0.1 s) is measured, then
#       the rows in PostgreSQL are counted.
#
# "ours" runs in production mode (serve --database-url --redis-url, separate `worker`
# processes). A build without it (exit code 2, "not supported") is reported as "ours: not
# available" and the Node half still runs.
#
# Environment (defaults):
#   BENCH_DURATION=15s BENCH_CONNECTIONS=64 BENCH_THREADS=1 BENCH_WARMUP=3s   wrk settings
#   BENCH_ROUNDS=1     redirect rounds: node, nginx and ours take turns this many times (each
#                      started once, warmed up in round 1); the report prints every round's
#                      multiples and judges the goal by their median
#   BENCH_LINKS=10000  BENCH_CLICKS=200000  BENCH_INGEST_WORKERS=2  BENCH_INGEST_TIMEOUT=900 (s)
#   BENCH_NODE_API_PROCESSES=$(nproc)  Node API processes (node:cluster)
#   BENCH_NODE_CONCURRENCY=32          BullMQ worker concurrency per Node worker process
#   BENCH_SYSTEMS=node,ours,nginx  BENCH_PARTS=redirect,ingest   what to run (nginx: redirects
#                          only, `return 302`: the ceiling this machine and wrk allow)
#   SHORTENER_BIN=build/shortener  BENCH_SHORTENER_ARGS=""  BENCH_WORKER_ARGS=""  extra flags
#   BENCH_PIN=0   1: during the redirect part, wrk runs on the last CPU and everything it measures
#                 (the server under test, Redis, PostgreSQL) on the others, so the load generator
#                 no longer takes CPU from the servers: each system gets the same fixed cores, and
#                 the req/s multiple measures the servers rather than how much CPU wrk left them.
#                 Node gets one API process per server CPU, ours `--threads` = server CPUs. The
#                 ingest part runs unpinned either way. Needs taskset and at least 2 CPUs.
#   BENCH_SEED=42  BENCH_KEEP=0 (1 keeps the temp dir: logs, slugs, raw wrk output)
#   BENCH_PG_STATEMENTS=0  1: load pg_stat_statements and print PostgreSQL's top statements of
#                          each ingest (total time, calls, rows) after its table
# Writes bench/results/reference-<UTC timestamp>.txt (and .json). Stops only what it started,
# by PID (EXIT trap), and the throwaway servers through scripts/pg-test.sh / redis-test.sh.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lib="$repo/bench/lib"
noderef="$repo/bench/node-reference"
bin=${SHORTENER_BIN:-$repo/build/shortener}
duration=${BENCH_DURATION:-15s}
rounds=${BENCH_ROUNDS:-1}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-1}
warmup=${BENCH_WARMUP:-3s}
links=${BENCH_LINKS:-10000}
clicks=${BENCH_CLICKS:-200000}
ingest_workers=${BENCH_INGEST_WORKERS:-2}
ingest_timeout=${BENCH_INGEST_TIMEOUT:-900}
prefill_timeout=${BENCH_PREFILL_TIMEOUT:-600}
pin=${BENCH_PIN:-0}
all_cpus="0-$(($(nproc) - 1))" server_cpus="" client_cpu=""
if [[ $pin == 1 ]]; then
  (($(nproc) >= 2)) || { echo "reference.sh: BENCH_PIN=1 needs at least 2 CPUs" >&2; exit 1; }
  client_cpu=$(($(nproc) - 1))
  server_cpus="0-$((client_cpu - 1))"
  node_api_processes=${BENCH_NODE_API_PROCESSES:-$client_cpu}
else
  node_api_processes=${BENCH_NODE_API_PROCESSES:-$(nproc)}
fi
node_concurrency=${BENCH_NODE_CONCURRENCY:-32}
systems=${BENCH_SYSTEMS:-node,ours,nginx}
parts=${BENCH_PARTS:-redirect,ingest}
export BENCH_SEED=${BENCH_SEED:-42}
export BENCH_UA_FILE=${BENCH_UA_FILE:-$lib/user_agents.txt}
export BENCH_REFERER_FILE=${BENCH_REFERER_FILE:-$lib/referers.txt}
wrk_bin=${WRK:-wrk}
node_bin=${NODE:-node}
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
clk_tck=$(getconf CLK_TCK)
ours_stream=clicks  # src/queue/redis: RedisClickQueueOptions::stream
ours_length=clicks:length  # RedisClickQueueOptions::length_key: clicks in the stream

die() { echo "reference.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
has() { [[ ",$2," == *",$1,"* ]]; }

for tool in "$wrk_bin" "$node_bin" npm psql redis-cli curl python3 ${server_cpus:+taskset}; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ $("$node_bin" --version) == v20.* ]] || echo "reference.sh: warning: the seed names Node.js 20; this is $("$node_bin" --version)" >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shortener-reference.XXXXXX")
pg_dir="" redis_dir="" pg_url="" redis_url=""
started_pids=()  # every process this script started, stopped on exit
results="$tmp/results.jsonl"
: >"$results"

# shellcheck source=bench/lib/procs.sh
source "$lib/procs.sh"  # stop_pid PID 10: SIGTERM, 10 s, SIGKILL
# shellcheck source=bench/lib/nginx.sh
source "$lib/nginx.sh"  # start_nginx
# shellcheck source=scripts/lib.sh
source "$repo/scripts/lib.sh"  # free_port

cleanup() {
  local code=$? i
  trap - EXIT INT TERM
  for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do stop_pid "${started_pids[i]}" 10; done
  if [[ -n $redis_dir ]]; then "$repo/scripts/redis-test.sh" stop "$redis_dir" || true; fi
  if [[ -n $pg_dir ]]; then "$repo/scripts/pg-test.sh" stop "$pg_dir" || true; fi
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# wait_ready URL PID SECONDS: until URL answers 2xx, while PID lives. 1 if PID died or timed out.
wait_ready() {
  local url=$1 pid=$2 deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -sf -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.2
  done
  return 1
}

# --- CPU accounting: utime+stime (clock ticks) from /proc/PID/stat -------------------------------
# snapshot FILE PID...: "pid ticks" for each PID and its children that are alive now.
snapshot() {
  local out=$1 pid p stat rest fields
  shift
  : >"$out"
  for pid in "$@"; do
    for p in $pid $(ps -o pid= --ppid "$pid" 2>/dev/null || true); do
      stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
      rest=${stat##*) }
      read -ra fields <<<"$rest"
      echo "$p $((fields[11] + fields[12]))" >>"$out"
    done
  done
}
# delta BEFORE AFTER: ticks spent in between by the processes alive at AFTER (new ones: all of
# theirs). A process that exited in between is lost (pooled connections make that rare).
delta() {
  awk 'FILENAME == ARGV[1] { b[$1] = $2; next } { s += $2 - ($1 in b ? b[$1] : 0) } END { print s + 0 }' "$1" "$2"
}

redis_pid() { head -n1 "$redis_dir/redis.pid"; }

# pin CPUS PID...: every thread of each PID and of its children onto CPUS (taskset); processes
# they fork later inherit it (PostgreSQL's backends from the postmaster, node's cluster workers).
pin() {
  local cpus=$1 pid p
  shift
  for pid in "$@"; do
    for p in $pid $(ps -o pid= --ppid "$pid" 2>/dev/null || true); do
      taskset -a -p -c "$cpus" "$p" >/dev/null 2>&1 || true
    done
  done
}
pg_pid() { head -n1 "$pg_dir/data/postmaster.pid"; }

# run_wrk NAME URL DURATION SCRIPT: output in $tmp/wrk-NAME.out, wrk's CPU in .time
run_wrk() {
  local name=$1 url=$2 dur=$3 script=$4 TIMEFORMAT="%U %S"
  { time ${wrk_cpu:+taskset -c "$wrk_cpu"} "$wrk_bin" -t"$threads" -c"$connections" -d"$dur" --timeout 5s -s "$script" "$url" \
      >"$tmp/wrk-$name.out" 2>&1; } 2>"$tmp/wrk-$name.time"
}

record() { echo "$1" >>"$results"; }
unavailable() {  # SYSTEM PART REASON
  local reason=${3//\"/\'}
  record "{\"part\": \"$2\", \"system\": \"$1\", \"unavailable\": \"${reason//$'\n'/ }\"}"
  echo "$1: not available for $2 ($3)" >&2
}

# redirect_phase SYSTEM URL SERVER_PID ROUND: the measured wrk run bracketed by CPU snapshots of
# the server, Redis and PostgreSQL (in round 1, after a warm-up).
redirect_phase() {
  local system=$1 url=$2 pid=$3 round=$4 first code result name
  name="$system-r$round"
  first=$(head -n1 "$BENCH_SLUGS_FILE")
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url/$first")
  [[ $code == 302 ]] || die "GET $url/$first answered $code, not 302"
  if [[ $round == 1 && $warmup != 0 && $warmup != 0s ]]; then
    log "$system: warm-up ($warmup)"
    run_wrk "$system-warmup" "$url" "$warmup" "$lib/random_slug.lua"
  fi
  local load_before
  load_before=$(load)
  log "$system: redirects, round $round of $rounds, wrk -t$threads -c$connections -d$duration (load $load_before)"
  snapshot "$tmp/$name-srv.0" "$pid"
  snapshot "$tmp/$name-redis.0" "$(redis_pid)"
  snapshot "$tmp/$name-pg.0" "$(pg_pid)"
  run_wrk "$name" "$url" "$duration" "$lib/random_slug.lua"
  snapshot "$tmp/$name-srv.1" "$pid"
  snapshot "$tmp/$name-redis.1" "$(redis_pid)"
  snapshot "$tmp/$name-pg.1" "$(pg_pid)"
  result=$(sed -n 's/^BENCH_RESULT //p' "$tmp/wrk-$name.out")
  [[ -n $result ]] || { cat "$tmp/wrk-$name.out" >&2; die "wrk printed no result for $system"; }
  record "$(printf '{"part": "redirect", "system": "%s", "round": %d, "wrk": %s, "server_ticks": %d, "redis_ticks": %d, "pg_ticks": %d, "wrk_cpu_s": %s, "load_before": "%s", "server_pids": "%s"}' \
    "$system" "$round" "$result" "$(delta "$tmp/$name-srv.0" "$tmp/$name-srv.1")" \
    "$(delta "$tmp/$name-redis.0" "$tmp/$name-redis.1")" \
    "$(delta "$tmp/$name-pg.0" "$tmp/$name-pg.1")" \
    "$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/wrk-$name.time")" "$load_before" \
    "$(cut -d' ' -f1 "$tmp/$name-srv.0" | tr '\n' ' ' | sed 's/ $//')")"
}

# Clicks queued or in flight. Node: BullMQ's wait + active lists; ours: the stream's click
# counter (an entry holds a batch of clicks; it is XDELeted and its clicks subtracted when
# acknowledged, after their batch committed), as RedisClickQueue::backlog() reads it.
queue_len() {
  if [[ $1 == node ]]; then
    redis-cli -u "$redis_url" eval \
      "return redis.call('llen', KEYS[1]) + redis.call('llen', KEYS[2])" 2 \
      noderef:bull:clicks:wait noderef:bull:clicks:active
  else
    redis-cli -u "$redis_url" eval \
      "local n = redis.call('xlen', KEYS[1]) if n == 0 then return 0 end
       return math.max(n, tonumber(redis.call('get', KEYS[2]) or '0'))" 2 \
      "$ours_stream" "$ours_length"
  fi
}

count_rows() { psql "$pg_url" -XAtqc "SELECT count(*) FROM $1"; }

# statements reset|report: with BENCH_PG_STATEMENTS=1, pg_stat_statements' counters are reset
# before an ingest and its top statements by total time are kept after it (printed at the end).
statements() {
  [[ ${BENCH_PG_STATEMENTS:-0} == 1 ]] || return 0
  if [[ $1 == reset ]]; then
    psql "$pg_url" -XAtqc "SELECT pg_stat_statements_reset()" >/dev/null
  else
    psql "$pg_url" -Xq -P pager=off -c "SELECT round(total_exec_time)::bigint AS ms, calls, rows,
      round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) AS pct,
      left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
      FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15"
  fi
}

# ingest_phase SYSTEM BACKLOG TABLE CMD...: starts BENCH_INGEST_WORKERS processes of CMD (cwd
# $tmp) and polls the queue (redis-cli, every 0.1 s) until nothing is queued or in flight, then
# counts TABLE's new rows once. (Polling count(*) instead cost PostgreSQL a scan of the growing
# table five times a second, and the machine a psql process each time: CPU the workers and the
# server did not get, and that was billed to PostgreSQL per click.) A queued click leaves the
# queue only once its batch is committed (ours: XACK + XDEL after the commit; BullMQ: a job
# completes after its handler's INSERT), so an empty queue means every click was written.
ingest_phase() {
  local system=$1 backlog=$2 table=$3 before count queued t0 t_first="" t_end pid alive i load_before
  shift 3
  before=$(count_rows "$table")
  load_before=$(load)
  statements reset
  log "$system: ingest of $backlog queued clicks with $ingest_workers worker processes (load $load_before)"
  local initial
  initial=$(queue_len "$system")
  snapshot "$tmp/$system-ingest-redis.0" "$(redis_pid)"
  snapshot "$tmp/$system-ingest-pg.0" "$(pg_pid)"
  local pids=()
  : >"$tmp/empty"  # the workers are new processes: all their CPU counts
  t0=$(now)
  for ((i = 1; i <= ingest_workers; i++)); do
    (cd "$tmp" && exec "$@") >"$tmp/$system-worker-$i.out" 2>"$tmp/$system-worker-$i.err" &
    pids+=($!)
    started_pids+=($!)
  done
  local deadline=$((SECONDS + ingest_timeout)) status=complete
  while :; do
    queued=$(queue_len "$system")
    [[ -z $t_first && $queued -lt $initial ]] && t_first=$(now)
    ((queued == 0)) && break
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
    if ((alive == 0)); then
      status="workers exited: $(tail -n 2 "$tmp/$system-worker-1.err" | tr '\n"' ' ')"
      break
    fi
    ((SECONDS < deadline)) || { status="timeout after ${ingest_timeout}s"; break; }
    sleep 0.1
  done
  t_end=$(now)
  snapshot "$tmp/$system-ingest-workers.1" "${pids[@]}"
  snapshot "$tmp/$system-ingest-redis.1" "$(redis_pid)"
  snapshot "$tmp/$system-ingest-pg.1" "$(pg_pid)"
  for pid in "${pids[@]}"; do stop_pid "$pid" 10; done
  statements report >"$tmp/$system-statements.txt"
  count=$(($(count_rows "$table") - before))
  if [[ $status == complete ]] && ((count < backlog)); then
    status="queue drained with $count of $backlog stored"
  fi
  if [[ $status != complete && $count -eq 0 ]]; then
    unavailable "$system" ingest "$status"
    return
  fi
  record "$(printf '{"part": "ingest", "system": "%s", "backlog": %d, "stored": %d, "seconds": %s, "first_row_s": %s, "worker_ticks": %d, "redis_ticks": %d, "pg_ticks": %d, "workers": %d, "status": "%s", "load_before": "%s"}' \
    "$system" "$backlog" "$count" "$(awk -v a="$t0" -v b="$t_end" 'BEGIN { printf "%.3f", b - a }')" \
    "$(awk -v a="$t0" -v b="${t_first:-$t_end}" 'BEGIN { printf "%.3f", b - a }')" \
    "$(delta "$tmp/empty" "$tmp/$system-ingest-workers.1")" \
    "$(delta "$tmp/$system-ingest-redis.0" "$tmp/$system-ingest-redis.1")" \
    "$(delta "$tmp/$system-ingest-pg.0" "$tmp/$system-ingest-pg.1")" \
    "$ingest_workers" "$status" "$load_before")"
}

nginx_pid=""
# --- set-up ---------------------------------------------------------------------------------------
if has node "$systems"; then
  if [[ ! -d $noderef/node_modules || $noderef/package-lock.json -nt $noderef/node_modules/.package-lock.json ]]; then
    log "npm ci in bench/node-reference"
    (cd "$noderef" && timeout 600 nice npm ci --no-audit --no-fund --engine-strict >&2) || die "npm ci failed"
  fi
fi

log "starting PostgreSQL and Redis (scripts/pg-test.sh, scripts/redis-test.sh)"
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/reference-pg.XXXXXX")
if [[ ${BENCH_PG_STATEMENTS:-0} == 1 ]]; then
  export PG_TEST_OPTIONS="-c shared_preload_libraries=pg_stat_statements" PG_TEST_STATEMENTS=1
fi
pg_url=$("$repo/scripts/pg-test.sh" start "$pg_dir")
redis_dir=$(mktemp -d "${TMPDIR:-/tmp}/reference-redis.XXXXXX")
redis_url=$("$repo/scripts/redis-test.sh" start "$redis_dir")
log "PostgreSQL $pg_url, Redis $redis_url"
export DATABASE_URL=$pg_url REDIS_URL=$redis_url  # for the Node.js reference
load_start=$(load)
if [[ -n $server_cpus ]] && has redirect "$parts"; then
  log "pinned: wrk on CPU $client_cpu; servers, Redis and PostgreSQL on CPUs $server_cpus"
  pin "$server_cpus" "$(redis_pid)" "$(pg_pid)"
  wrk_cpu=$client_cpu
  nginx_cpus=$server_cpus
else
  wrk_cpu="" nginx_cpus=""
fi

# --- redirects: every system started and seeded, then BENCH_ROUNDS rounds of node, nginx, ours --
# --- Node.js reference -----------------------------------------------------------------
node_pid=""
if has node "$systems"; then
  "$node_bin" "$noderef/migrate.js" --reset >&2
  node_port=$(free_port)
  node_url="http://127.0.0.1:$node_port"
  log "node: starting the API ($node_api_processes processes) on $node_url"
  # On the server CPUs when pinned, from its start (taskset execs it: $! is node's pid).
  ${server_cpus:+taskset -c "$server_cpus"} "$node_bin" "$noderef/api.js" --listen "127.0.0.1:$node_port" --processes "$node_api_processes" \
    >"$tmp/node-api.out" 2>"$tmp/node-api.err" &
  node_pid=$!
  started_pids+=("$node_pid")
  wait_ready "$node_url/healthz" "$node_pid" 60 || { cat "$tmp/node-api.err" >&2; die "node API did not start"; }
  log "node: seeding $links links"
  BENCH_SEED_PATH=/api/links python3 "$lib/seed.py" "$node_url" none "$links" "$tmp/node-slugs.txt" 4 >&2
fi

# --- nginx `return 302` -----------------------------------------------------------------
if has nginx "$systems" && has redirect "$parts"; then
  if [[ ! -x $nginx_bin ]]; then
    log "nginx: not found at $nginx_bin, skipped"
  else
    nginx_port=$(free_port)
    start_nginx "$tmp" "$nginx_port" || die "nginx did not answer on port $nginx_port"
    started_pids+=("$nginx_pid")
    for ((i = 0; i < links; i++)); do echo "n$i"; done >"$tmp/nginx-slugs.txt"
  fi
fi

# --- ours --------------------------------------------------------------------------------
ours_pid="" ours_url="" ours_reason=""
if has ours "$systems"; then
  if [[ ! -x $bin ]]; then
    ours_reason="no binary at $bin"
  else
    ours_port=$(free_port)
    ours_url="http://127.0.0.1:$ours_port"
    admin_key="sk_bench_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    mkdir -p "$tmp/ours"
    log "ours: starting serve (production mode) on $ours_url"
    # shellcheck disable=SC2086  # BENCH_SHORTENER_ARGS is a list of flags
    # On the server CPUs when pinned, from its start: --threads 0 sizes to the CPUs it may use.
    (cd "$tmp/ours" && exec ${server_cpus:+taskset -c "$server_cpus"} "$bin" serve --database-url "$pg_url" --redis-url "$redis_url" \
      --listen "127.0.0.1:$ours_port" --admin-key "$admin_key" --trust-proxy 127.0.0.1/32 \
      ${BENCH_SHORTENER_ARGS:-}) >"$tmp/ours-serve.out" 2>"$tmp/ours-serve.err" &
    ours_pid=$!
    started_pids+=("$ours_pid")
    if ! wait_ready "$ours_url/readyz" "$ours_pid" 60; then
      rc=0
      if kill -0 "$ours_pid" 2>/dev/null; then rc="still running, not ready within 60 s"; else wait "$ours_pid" || rc=$?; fi
      ours_reason="serve: exit $rc: $(grep -v '^$' "$tmp/ours-serve.err" | tail -n1)"
      stop_pid "$ours_pid" 10
      ours_pid=""
    fi
  fi
  if [[ -n $ours_pid ]]; then
    log "ours: seeding $links links"
    python3 "$lib/seed.py" "$ours_url" "$admin_key" "$links" "$tmp/ours-slugs.txt" 4 >&2
  else
    has redirect "$parts" && unavailable ours redirect "$ours_reason"
  fi
fi

# --- the rounds: the three systems take turns, so a change in the machine's load (it is shared)
# between rounds affects all of them alike; the report pairs each round's figures.
if has redirect "$parts"; then
  for ((round = 1; round <= rounds; round++)); do
    if [[ -n $node_pid ]]; then
      BENCH_SLUGS_FILE="$tmp/node-slugs.txt" redirect_phase node "$node_url" "$node_pid" "$round"
    fi
    if [[ -n $nginx_pid ]]; then
      BENCH_SLUGS_FILE="$tmp/nginx-slugs.txt" redirect_phase nginx "http://127.0.0.1:$nginx_port" "$nginx_pid" "$round"
    fi
    if [[ -n $ours_pid ]]; then
      BENCH_SLUGS_FILE="$tmp/ours-slugs.txt" redirect_phase ours "$ours_url" "$ours_pid" "$round"
    fi
  done
fi
stop_pid "$node_pid" 10  # its ingest backlog is queued by prefill.js, not by redirects
stop_pid "$nginx_pid" 10

# The ingest part runs unpinned: every process may use every CPU again.
if [[ -n $wrk_cpu ]]; then
  pin "$all_cpus" "$(redis_pid)" "$(pg_pid)" ${ours_pid:+"$ours_pid"}
  wrk_cpu=""
fi

# --- Node.js reference: ingest ----------------------------------------------------------------------
if has node "$systems" && has ingest "$parts"; then
  log "node: queueing $clicks click jobs (Queue.addBulk, no worker running)"
  "$node_bin" "$noderef/prefill.js" "$clicks" >&2
  backlog=$(queue_len node)
  ingest_phase node "$backlog" noderef.clicks "$node_bin" "$noderef/worker.js" --concurrency "$node_concurrency"
fi

# --- ours: ingest -----------------------------------------------------------------------------------
ours_ingest() {
  local probe_pid rc n m deadline round=0
  # Empty the stream (the redirect part's clicks); the consumer group stays.
  sleep 1
  redis-cli -u "$redis_url" xtrim "$ours_stream" maxlen 0 >/dev/null
  redis-cli -u "$redis_url" del "$ours_length" >/dev/null
  # A build whose `worker` is not wired exits at once (code 2): find out before queueing. A
  # worker still running after 3 s is stopped again (the stream is empty: it took nothing).
  # shellcheck disable=SC2086
  (cd "$tmp/ours" && exec "$bin" worker --database-url "$pg_url" --redis-url "$redis_url" \
    ${BENCH_WORKER_ARGS:-}) >"$tmp/ours-worker-probe.out" 2>"$tmp/ours-worker-probe.err" &
  probe_pid=$!
  started_pids+=("$probe_pid")
  sleep 3
  if ! kill -0 "$probe_pid" 2>/dev/null; then
    rc=0
    wait "$probe_pid" || rc=$?
    unavailable ours ingest "worker: exit $rc: $(grep -v '^$' "$tmp/ours-worker-probe.err" | tail -n1)"
    return
  fi
  stop_pid "$probe_pid" 10

  log "ours: queueing $clicks clicks (redirects with click_mix.lua, no worker running)"
  export BENCH_SLUGS_FILE="$tmp/ours-slugs.txt"
  deadline=$((SECONDS + prefill_timeout)) n=0
  while ((n < clicks && SECONDS < deadline)); do
    round=$((round + 1))
    run_wrk "ours-prefill-$round" "$ours_url" 1s "$lib/click_mix.lua"
    n=$(queue_len ours)
  done
  # Until the server has shipped every buffered click: the backlog stable for 1 s (at most 30 s).
  for _ in $(seq 30); do
    sleep 1
    m=$(queue_len ours)
    [[ $m == "$n" ]] && break
    n=$m
  done
  if ((n < clicks)); then
    unavailable ours ingest "only $n clicks queued in ${prefill_timeout}s"
    return
  fi
  # shellcheck disable=SC2086
  ingest_phase ours "$n" public.clicks "$bin" worker --database-url "$pg_url" \
    --redis-url "$redis_url" ${BENCH_WORKER_ARGS:-}
}

if has ours "$systems" && has ingest "$parts"; then
  if [[ -z $ours_pid ]]; then
    unavailable ours ingest "$ours_reason"
  else
    ours_ingest
  fi
fi

# --- report -----------------------------------------------------------------------------------------
stamp=$(date -u +%Y%m%dT%H%M%SZ)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo none)
cat >"$tmp/meta.json" <<EOF
{"benchmark": "reference", "timestamp": "$stamp", "commit": "$commit", "cpus": $(nproc),
 "loadavg_start": "$load_start", "loadavg_end": "$(load)", "uptime_end": "$(uptime | sed 's/^ *//')",
 "duration": "$duration", "warmup": "$warmup", "rounds": $rounds, "connections": $connections, "wrk_threads": $threads,
 "links": $links, "clicks": $clicks, "ingest_workers": $ingest_workers,
 "node_api_processes": $node_api_processes, "node_concurrency": $node_concurrency,
 "node_version": "$("$node_bin" --version)", "clk_tck": $clk_tck,
 "pinned": "${server_cpus:+wrk on CPU $client_cpu, servers and their Redis and PostgreSQL on CPUs $server_cpus}",
 "shortener_args": "${BENCH_SHORTENER_ARGS:-}", "worker_args": "${BENCH_WORKER_ARGS:-}"}
EOF
mkdir -p "$repo/bench/results"
python3 "$lib/reference_report.py" "$tmp/meta.json" "$results" "$repo/bench/results/reference-$stamp"
for f in "$tmp"/*-statements.txt; do
  [[ -s $f ]] || continue
  printf '\nPostgreSQL statements during the %s ingest (pg_stat_statements):\n' "$(basename "$f" -statements.txt)"
  cat "$f"
done
