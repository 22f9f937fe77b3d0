#!/usr/bin/env bash
# Fills a running shortener with demo data through its public API, so a fresh dashboard has
# something to show: creates demo links (POST /api/v1/links with the API key), then follows them
# (GET /{slug}) as synthetic visitors with varied User-Agent, Referer, Accept-Language,
# utm_source and X-Forwarded-For client addresses, and prints the account's totals.
#
# The client addresses count only if the server believes the seeder's X-Forwarded-For: start it
# with --trust-proxy covering the address it sees the seeder at, e.g.
#   ./scripts/run.sh --trust-proxy 127.0.0.1/32          (then: --url http://localhost:8080)
# docker-compose.yml trusts nginx and the Docker host already. Otherwise every click comes from
# the seeder's own address (country "unknown" for a loopback or private one).
#
#   --url URL      base URL of the shortener            (default http://localhost:8080)
#   --key KEY      API key or admin key                 (default $SHORTENER_ADMIN_KEY)
#   --links N      demo links to create                 (default 6)
#   --clicks N     synthetic clicks, spread over them   (default 300)
#   --help         this text
set -euo pipefail

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "local-seed: $*" >&2
  exit 1
}

url="http://localhost:8080"
key="${SHORTENER_ADMIN_KEY:-}"
links=6
clicks=300
while (($#)); do
  case "$1" in
    --url) url="${2:?--url needs a value}"; shift 2 ;;
    --key) key="${2:?--key needs a value}"; shift 2 ;;
    --links) links="${2:?--links needs a value}"; shift 2 ;;
    --clicks) clicks="${2:?--clicks needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "local-seed: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
url="${url%/}"
[[ -n "$key" ]] || die "no API key: pass --key or set SHORTENER_ADMIN_KEY"
[[ "$links" =~ ^[1-9][0-9]*$ && "$clicks" =~ ^[0-9]+$ ]] || die "--links and --clicks take numbers"
command -v curl >/dev/null || die "curl is required"

destinations=(
  "https://en.wikipedia.org/wiki/URL_shortening"
  "https://www.rfc-editor.org/rfc/rfc9110#name-302-found"
  "https://github.com/ua-parser/uap-core"
  "https://developer.mozilla.org/en-US/docs/Web/HTTP/Redirections"
  "https://www.postgresql.org/docs/15/ddl-partitioning.html"
  "https://redis.io/docs/latest/develop/data-types/streams/"
)
user_agents=(
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
  "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
  "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
  "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
)
# Public addresses of well-known networks in different countries (what geolocation sees).
client_addresses=(
  8.8.8.8 81.2.69.160 194.109.6.66 141.1.1.1 200.160.2.3 133.242.0.1
  203.2.218.214 196.25.1.1 77.88.55.60 2001:4860:4860::8888 2a00:1450:4001:82b::200e
)
referrers=(
  "" "" "https://www.google.com/" "https://t.co/x1" "https://news.ycombinator.com/"
  "https://www.reddit.com/r/programming/" "https://www.linkedin.com/feed/"
)
languages=("en-US,en;q=0.9" "en-GB,en;q=0.8" "de-DE,de;q=0.9" "pt-BR,pt;q=0.9" "ja-JP,ja;q=0.9")
sources=("" "" "" "newsletter" "twitter")

pick() {  # pick ELEMENT...: one of the arguments at random
  shift $((RANDOM % $#))
  printf '%s' "$1"
}

echo "local-seed: creating $links links on $url" >&2
slugs=()
for ((i = 0; i < links; i++)); do
  destination="${destinations[i % ${#destinations[@]}]}"
  body="{\"url\":\"$destination\",\"title\":\"Demo link $((i + 1))\"}"
  response="$(curl -sS --max-time 10 -w '\n%{http_code}' "$url/api/v1/links" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $key" -d "$body")" ||
    die "cannot reach $url"
  status="${response##*$'\n'}"
  [[ "$status" == 201 ]] || die "POST /api/v1/links answered $status: ${response%$'\n'*}"
  slug="$(sed -n 's/.*"slug":"\([A-Za-z0-9_-]*\)".*/\1/p' <<<"${response%$'\n'*}")"
  [[ -n "$slug" ]] || die "no slug in the answer: ${response%$'\n'*}"
  slugs+=("$slug")
  echo "  $url/$slug -> $destination" >&2
done

echo "local-seed: sending $clicks clicks" >&2
redirected=0
for ((i = 0; i < clicks; i++)); do
  slug="$(pick "${slugs[@]}")"
  referrer="$(pick "${referrers[@]}")"
  source="$(pick "${sources[@]}")"
  headers=(-H "User-Agent: $(pick "${user_agents[@]}")" -H "X-Forwarded-For: $(pick "${client_addresses[@]}")"
    -H "Accept-Language: $(pick "${languages[@]}")")
  [[ -n "$referrer" ]] && headers+=(-H "Referer: $referrer")
  target="$url/$slug"
  [[ -n "$source" ]] && target+="?utm_source=$source"
  status="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${headers[@]}" "$target")" ||
    die "cannot reach $url"
  [[ "$status" == 302 ]] || die "GET /$slug answered $status, expected 302"
  redirected=$((redirected + 1))
done
echo "local-seed: $redirected redirects answered 302" >&2

# Clicks are stored asynchronously; give the workers a moment, then show what the API counts.
sleep 2
summary="$(curl -sS --max-time 10 "$url/api/v1/stats?bots=include" -H "Authorization: Bearer $key")" ||
  die "cannot read $url/api/v1/stats"
total="$(sed -n 's/^{[^[]*"total":\([0-9]*\).*/\1/p' <<<"$summary")"
countries="$(grep -o '"countries":\[[^]]*\]' <<<"$summary" || true)"
echo "local-seed: the account now counts ${total:-?} clicks over the last 7 days (bots included)"
echo "local-seed: ${countries:-no countries yet}"
