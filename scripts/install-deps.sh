#!/usr/bin/env bash
# Installs what the shortener needs from Debian 12 packages (idempotent; sudo when not root).
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the test suite and benchmarks use
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUILD_PACKAGES=(
  build-essential cmake pkg-config ccache git ca-certificates curl
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libsqlite3-dev libidn2-dev libssl-dev libspdlog-dev libcli11-dev
  libre2-dev libmaxminddb-dev libyaml-dev libhiredis-dev libpq-dev
  libgtest-dev libbenchmark-dev
  nodejs npm uap-core
)
TEST_PACKAGES=(
  python3 clang-16 libclang-rt-16-dev clang-format
  wrk nginx-light sqlite3 chromium fonts-noto-color-emoji
)

packages=("${BUILD_PACKAGES[@]}")
[[ "${1:-}" == "--test" ]] && packages+=("${TEST_PACKAGES[@]}")
apt_install "${packages[@]}"
