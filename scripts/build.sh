#!/usr/bin/env bash
# Installs dependencies, fetches data files and builds build/shortener (Release-ish, -O2 -g).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/install-deps.sh" "$@"
"$ROOT/scripts/fetch-data.sh"
say "building the web app (web/dist)"
(cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error && npm run build)
say "building build/shortener"
build_dir build -DSHORTENER_TESTS="${SHORTENER_TESTS:-OFF}" -DSHORTENER_BENCH=OFF
