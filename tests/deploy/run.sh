#!/usr/bin/env bash
# Checks the deployment files (Dockerfile, docker-compose.yml, k8s/, deploy/, workflows, scripts)
# with what runs on this machine; no Docker engine and no cloud account are needed:
#   - yamllint on every YAML file (errors fail; long lines are warnings, not shown);
#   - shellcheck on scripts/*.sh, tests/deploy/*.sh, deploy/docker/*.sh, k8s/base/app/*.sh;
#   - promtool check config on deploy/prometheus/prometheus.yml (and its rule file);
#   - the Python tests in tests/deploy: kubectl kustomize renders every kustomization and the
#     manifests, compose file, Dockerfile and workflows are checked against the binary's real
#     --help and a running build/shortener (with nginx, and a worker when
#     SHORTENER_TEST_PG_URL and SHORTENER_TEST_REDIS_URL are set).
# Needs build/shortener and, from Debian (scripts/install-deps.sh --test): kubernetes-client
# (or any kubectl), yamllint, the shellcheck package, prometheus (promtool), nginx-light,
# openssl and curl.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
say() { printf '\033[1m--> %s\033[0m\n' "$*" >&2; }

missing=()
for tool in kubectl yamllint shellcheck promtool openssl curl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
if ((${#missing[@]})); then
  echo "tests/deploy: missing ${missing[*]} (scripts/install-deps.sh --test)" >&2
  exit 1
fi

# PyYAML: Python has no YAML parser of its own; Debian's python3-yaml comes with yamllint.
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import yaml' 2>/dev/null; then python="$candidate"; break; fi
done
if [[ -z "$python" ]]; then
  echo "tests/deploy: no python3 with PyYAML (apt-get install python3-yaml)" >&2
  exit 1
fi

say "yamllint"
yamllint --no-warnings .

say "shellcheck"
shellcheck scripts/*.sh tests/deploy/*.sh deploy/docker/*.sh k8s/base/app/*.sh

# (deploy/prometheus/k8s-scrape-configs.yaml cannot be checked this way: Debian builds
# Prometheus without Kubernetes service discovery. test_compose.py checks its labels and ports.)
say "promtool check config"
promtool check config deploy/prometheus/prometheus.yml >/dev/null

say "tests/deploy (kubectl: $(command -v kubectl))"
# The e2e harness reads these to pick a backend; these tests start SQLite instances.
env -u SHORTENER_E2E_DATABASE_URL -u SHORTENER_E2E_REDIS_URL \
  "$python" -m unittest discover -s tests/deploy -t . "$@"
