#!/usr/bin/env bash
# The observability-as-code tests: Grafana dashboards, Prometheus alert rules, the Terraform
# that applies the dashboards, the real /metrics of `serve` (and `worker`), a real Prometheus
# scraping them, and the Pushgateway. See tests/observability/README.md.
#
#   tests/observability/run.sh            # all of them; extra arguments go to unittest (-v, -k NAME)
#
# Needs build/shortener (or SHORTENER_BIN) and what `scripts/install-deps.sh --test` installs:
# prometheus + prometheus-pushgateway (promtool), python3-yaml, node + npm. With
# SHORTENER_TEST_PG_URL and SHORTENER_TEST_REDIS_URL set (scripts/test.sh starts both) the
# production processes are checked too; without them those tests skip and say why.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

# HashiCorp's HCL parser (WebAssembly) for the Terraform checks, pinned by package-lock.json.
if [[ ! -f "$HERE/node_modules/.package-lock.json" ||
      "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]]; then
  npm ci --prefix "$HERE" --no-audit --no-fund --loglevel=error
fi

# A missing tool (promtool, prometheus, node) fails here instead of skipping.
export SHORTENER_OBS_REQUIRE="${SHORTENER_OBS_REQUIRE:-1}"
exec python3 -m unittest discover -s tests/observability -t . "$@"
