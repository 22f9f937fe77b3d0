#!/usr/bin/env bash
# README command 1: set everything up and start the shortener on the embedded default
# (SQLite in ./data, in-process cache) at http://localhost:8080. Extra arguments go to
# `shortener serve`, e.g. scripts/run.sh --listen 127.0.0.1:9000.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/build.sh"
cd "$ROOT"
say "starting: build/shortener serve $*  (Ctrl-C stops it)"
exec "$ROOT/build/shortener" serve "$@"
