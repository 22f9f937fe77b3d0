#!/usr/bin/env bash
# Lays out an installed shortener under DEST from a built source tree, as the container image
# ships it, and lists the Debian packages its binary needs at run time:
#
#   DEST/opt/shortener/bin/shortener          build/shortener, debug info stripped
#   DEST/opt/shortener/data/...               the enrichment data, in the layout --data-files reads
#   DEST/opt/shortener/web/                   web/dist (the dashboard), for --web-dir
#   DEST/runtime-packages.txt                 one Debian package a line: what provides each shared
#                                             library the binary loads (ldd + dpkg -S)
#
# Run after scripts/build.sh, on the Debian 12 system that built the binary (the Dockerfile's
# build stage; tests/deploy runs it on the development machine).
set -euo pipefail

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  echo "usage: deploy/docker/stage-install.sh DEST"
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "" | -*) usage >&2; exit 2 ;;
esac
dest="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
binary="$root/build/shortener"
[[ -x "$binary" ]] || { echo "stage-install: no $binary (run scripts/build.sh)" >&2; exit 1; }
[[ -f "$root/web/dist/index.html" ]] ||
  { echo "stage-install: no web/dist (run scripts/build.sh)" >&2; exit 1; }

# The data files fetch-data.sh resolved (uap-core: the newer of npm's and Debian's).
eval "$("$root/scripts/fetch-data.sh")"

prefix="$dest/opt/shortener"
data="$prefix/data"
mkdir -p "$prefix/bin" "$data/uap-core" "$data/crawler-user-agents" \
  "$data/@ip-location-db/geo-whois-asn-country-mmdb"
objcopy --strip-debug "$binary" "$prefix/bin/shortener"

# Same relative paths as third_party/npm/node_modules, so --data-files finds every default.
modules="$root/third_party/npm/node_modules"
cp "$SHORTENER_UAP_REGEXES" "$data/uap-core/regexes.yaml"
cp "$SHORTENER_CRAWLER_LIST" "$data/crawler-user-agents/crawler-user-agents.json"
cp "$SHORTENER_GEOIP_COUNTRY_V4" "$SHORTENER_GEOIP_COUNTRY_V6" \
  "$data/@ip-location-db/geo-whois-asn-country-mmdb/"
# Licences and attribution travel with the data (CC BY 4.0, Apache-2.0, MIT).
for package in uap-core crawler-user-agents @ip-location-db/geo-whois-asn-country-mmdb; do
  for file in "$modules/$package"/{LICENSE*,README*,package.json}; do
    if [[ -f "$file" ]]; then cp "$file" "$data/$package/"; fi
  done
done

rm -rf "$prefix/web"
cp -r "$root/web/dist" "$prefix/web"

# Every shared library ldd resolves -> the package that owns it. Debian 12 is merged-/usr, and
# dpkg knows each file under the directory its package shipped it in, so try both spellings.
owner_of() {
  local path="$1" candidate
  for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
    dpkg-query -S "$candidate" 2>/dev/null | sed -n '1s/:.*//p' | grep . && return 0
  done
  echo "stage-install: no Debian package owns $path" >&2
  return 1
}
libraries=$(ldd "$prefix/bin/shortener" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
for library in $libraries; do owner_of "$library"; done | sort -u >"$dest/runtime-packages.txt"
echo "stage-install: $(wc -l <"$dest/runtime-packages.txt") runtime packages, tree in $prefix" >&2
