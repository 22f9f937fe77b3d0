#!/usr/bin/env bash
# Checks a built image in each role, the way the workflows use it (needs a Docker engine):
#   - it runs as a non-root user and declares a HEALTHCHECK;
#   - serve (embedded SQLite, the default command) becomes healthy and answers /readyz,
#     /metrics and the web app;
#   - with --database-url and --redis-url (PostgreSQL and Redis reachable from the host
#     network): migrate applies the schema, serve runs in production mode and worker answers
#     /readyz on its metrics port.
#
#   deploy/docker/smoke-test.sh IMAGE [--database-url URL --redis-url URL]
set -euo pipefail

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "smoke-test: $*" >&2
  exit 1
}

image=""
database_url=""
redis_url=""
while (($#)); do
  case "$1" in
    --database-url) database_url="${2:?}"; shift 2 ;;
    --redis-url) redis_url="${2:?}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; exit 2 ;;
    *) image="$1"; shift ;;
  esac
done
[[ -n "$image" ]] || { usage >&2; exit 2; }

containers=()
cleanup() {
  for container in "${containers[@]}"; do docker rm -f "$container" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# start NAME [DOCKER-RUN-OPTION...] -- ARG...: runs the image detached on the host network.
start() {
  local name="$1" options=()
  shift
  while [[ "$1" != -- ]]; do options+=("$1"); shift; done
  shift
  docker run -d --name "$name" --network host "${options[@]}" "$image" "$@" >/dev/null
  containers+=("$name")
}

# wait_for URL NAME: polls until URL answers 200 (30 s), printing the container's log otherwise.
wait_for() {
  for _ in $(seq 60); do
    curl -fsS -o /dev/null "$1" && return 0
    sleep 0.5
  done
  docker logs "$2" >&2 || true
  die "$1 did not answer 200"
}

user="$(docker image inspect -f '{{.Config.User}}' "$image")"
[[ -n "$user" && "${user%%:*}" != 0 && "${user%%:*}" != root ]] || die "image user is '$user'"
[[ "$(docker image inspect -f '{{.Config.Healthcheck}}' "$image")" != "<nil>" ]] ||
  die "image has no HEALTHCHECK"
echo "smoke-test: runs as $user, has a HEALTHCHECK"

# The default command; SHORTENER_LISTEN also tells the HEALTHCHECK which port to probe.
start smoke-embedded -e SHORTENER_LISTEN=127.0.0.1:18080 --
wait_for http://127.0.0.1:18080/readyz smoke-embedded
curl -fsS http://127.0.0.1:18080/metrics | grep -q '^shortener_build_info' || die "no build info"
curl -fsS http://127.0.0.1:18080/ | grep -qi '<!doctype html' || die "no web app at /"
for _ in $(seq 30); do
  [[ "$(docker inspect -f '{{.State.Health.Status}}' smoke-embedded)" == healthy ]] && break
  sleep 1
done
[[ "$(docker inspect -f '{{.State.Health.Status}}' smoke-embedded)" == healthy ]] ||
  die "the HEALTHCHECK did not report healthy"
echo "smoke-test: serve (embedded) is ready and healthy"

if [[ -n "$database_url" && -n "$redis_url" ]]; then
  docker run --rm --network host "$image" migrate --database-url "$database_url"
  start smoke-serve -- serve --listen 127.0.0.1:18081 --database-url "$database_url" \
    --redis-url "$redis_url" --no-migrate
  wait_for http://127.0.0.1:18081/readyz smoke-serve
  start smoke-worker -- worker --metrics-listen 127.0.0.1:19091 --database-url "$database_url" \
    --redis-url "$redis_url"
  wait_for http://127.0.0.1:19091/readyz smoke-worker
  echo "smoke-test: migrate, serve and worker work on PostgreSQL + Redis"
fi
