# Process helpers for the bench scripts (sourced, not run).

# Stops a process the script started: SIGTERM, up to GRACE seconds (default 5), then SIGKILL.
# Only ever the caller's own PIDs.
stop_pid() {
  local pid=$1 grace=${2:-5}
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((grace * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
