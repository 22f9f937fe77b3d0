#!/usr/bin/env bash
# README command 2: set up and run the whole test suite, as CI does:
#   1. dependencies and data files;
#   2. optimised build: unit + contract tests (ctest, SQLite and a throwaway PostgreSQL) and
#      black-box e2e tests on the binary, on SQLite and again in production mode (PostgreSQL +
#      Redis, with a 2-replica + 2-worker cluster test); browser tests; observability and
#      deployment checks (Prometheus, promtool, dashboards, manifests);
#   3. the same suites under AddressSanitizer + UndefinedBehaviorSanitizer;
#   4. a bounded libFuzzer run on URL validation and slug parsing.
# Environment: SKIP_ASAN=1, SKIP_FUZZ=1 shorten local runs; FUZZ_SECONDS (default 30).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/install-deps.sh" --test
"$ROOT/scripts/fetch-data.sh"

say "web app: install, unit tests, build"
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm test && npm run build)

# A real PostgreSQL 15 and Redis 7 (appendonly) on random loopback ports with throwaway data
# dirs, for the production adapters' contract tests and a second e2e run; stopped (by their own
# pid files) however this exits.
pg_dir=$(mktemp -d /tmp/shortener-pg.XXXXXX)
redis_dir=$(mktemp -d /tmp/shortener-redis.XXXXXX)
stop_services() {
  "$ROOT/scripts/pg-test.sh" stop "$pg_dir" >/dev/null 2>&1 || rm -rf "$pg_dir"
  "$ROOT/scripts/redis-test.sh" stop "$redis_dir" >/dev/null 2>&1 || rm -rf "$redis_dir"
}
trap stop_services EXIT
say "starting PostgreSQL and Redis for the tests"
SHORTENER_TEST_PG_URL=$("$ROOT/scripts/pg-test.sh" start "$pg_dir")
SHORTENER_TEST_REDIS_URL=$("$ROOT/scripts/redis-test.sh" start "$redis_dir")
export SHORTENER_TEST_PG_URL SHORTENER_REQUIRE_PG=1
export SHORTENER_TEST_REDIS_URL SHORTENER_REQUIRE_REDIS=1

run_suites() {
  local dir="$1"
  say "ctest ($dir)"
  ctest --test-dir "$ROOT/$dir" --output-on-failure -j"$JOBS" --timeout 300
  say "e2e tests against $dir/shortener"
  SHORTENER_E2E_REQUIRE=1 SHORTENER_BIN="$ROOT/$dir/shortener" python3 -m unittest discover -s tests/e2e -t .
}

say "build (RelWithDebInfo)"
build_dir build -DSHORTENER_TESTS=ON -DSHORTENER_BENCH=ON
run_suites build
say "deployment files (tests/deploy)"
"$ROOT/tests/deploy/run.sh"
say "e2e tests against build/shortener in production mode (PostgreSQL + Redis, incl. the cluster test)"
SHORTENER_E2E_DATABASE_URL="$SHORTENER_TEST_PG_URL" SHORTENER_E2E_REDIS_URL="$SHORTENER_TEST_REDIS_URL" \
  SHORTENER_E2E_REQUIRE=1 SHORTENER_BIN="$ROOT/build/shortener" \
  python3 -m unittest discover -s tests/e2e -t .
say "browser end-to-end tests (Chromium) against build/shortener"
SHORTENER_E2E_REQUIRE=1 SHORTENER_BIN="$ROOT/build/shortener" node web/e2e/dashboard.e2e.mjs
say "observability: dashboards, alert rules, Terraform, /metrics, a real Prometheus and Pushgateway"
SHORTENER_OBS_REQUIRE_WORKER=1 SHORTENER_BIN="$ROOT/build/shortener" "$ROOT/tests/observability/run.sh"

if [[ "${SKIP_ASAN:-0}" != 1 ]]; then
  say "build (ASan + UBSan)"
  BUILD_TYPE=Debug build_dir build-asan -DSHORTENER_SANITIZE=ON -DSHORTENER_TESTS=ON -DSHORTENER_BENCH=OFF
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suites build-asan
fi

if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  FUZZ_SECONDS="${FUZZ_SECONDS:-30}" "$ROOT/scripts/fuzz.sh"
fi
say "all tests passed"
