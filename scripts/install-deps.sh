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
  uap-core
)
TEST_PACKAGES=(
  python3 clang-16 libclang-rt-16-dev clang-format
  wrk nginx-light sqlite3 chromium fonts-noto-color-emoji
  postgresql-15 postgresql-client-15 redis-server
  prometheus prometheus-pushgateway python3-yaml
  yamllint shellcheck openssl
)

packages=("${BUILD_PACKAGES[@]}")
[[ "${1:-}" == "--test" ]] && packages+=("${TEST_PACKAGES[@]}")
apt_install "${packages[@]}"
# tests/deploy renders the Kubernetes manifests with `kubectl kustomize`. Any kubectl will do;
# Debian's kubernetes-client would clash with one installed from another source (same file).
if [[ "${1:-}" == "--test" ]] && ! command -v kubectl >/dev/null; then
  apt_install kubernetes-client
fi

# Node.js: the web app's toolchain (Vite 8, Vitest 4) needs Node 20 or newer. Debian 12's own
# nodejs is 18; a machine with NodeSource's nodejs (which bundles npm) keeps it.
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  apt_install nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "Node.js $(node --version) is too old for the web app: install Node.js 20+ (e.g. NodeSource)" >&2
  exit 1
fi
