// libFuzzer target for everything that parses text from the internet in core: destination
// URLs, request paths, custom slugs and RFC 3339 timestamps. Beyond "no crash, no sanitizer
// report", it checks the promises the redirect path relies on (see check_url).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/slug.h"
#include "core/time.h"
#include "core/url_policy.h"

namespace {

using namespace shortener;

void require(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\ninput: %.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

const UrlPolicy& policy() {
  static const UrlPolicy p = [] {
    UrlPolicy x;
    x.own_hosts = {"sho.rt"};
    x.blocked_domains = {"evil.example"};
    return x;
  }();
  return p;
}

// A normalised URL goes verbatim into `Location`.
void check_url(std::string_view input) {
  const auto url = normalize_url(input, policy());
  if (!url) {
    require(url.error().code == Errc::invalid_input && !url.error().detail.empty(),
            "a refusal is invalid_input with a detail", input);
    // Refused by the final re-parse: we produced something that is not a URL.
    require(url.error().detail != "url could not be normalised", "output parses", input);
    return;
  }
  const std::string& out = *url;
  require(out.size() <= policy().max_length, "within max_length", input);
  require(out.starts_with("http://") || out.starts_with("https://"), "http(s) scheme", input);
  for (const char c : out) {
    const auto byte = static_cast<unsigned char>(c);
    require(byte > 0x20 && byte < 0x7f, "printable ASCII only (no CR, LF, space, control)", input);
  }
  const auto again = normalize_url(out, policy());
  require(again.has_value() && *again == out, "normalisation is a fixed point", input);
  const auto host = host_of(out);
  require(host.has_value() && !host->empty() && *host != "sho.rt", "a host, not ours", input);
}

void check_slug(std::string_view input) {
  if (const auto path = parse_slug_path(input)) {
    const std::string rebuilt = "/" + std::string(path->slug) + (path->preview ? "+" : "");
    require(rebuilt == input, "a parsed slug path rebuilds the input", input);
  }
  if (validate_custom_slug(input)) {
    const std::string request_path = "/" + std::string(input);
    const auto path = parse_slug_path(request_path);
    require(path && path->slug == input && !path->preview, "a valid slug is a slug path", input);
  }
}

void check_time(std::string_view input) {
  const auto t = parse_rfc3339(input);
  if (!t) return;
  require(*t >= 0, "not before the epoch", input);
  require(parse_rfc3339(format_rfc3339(*t)) == t, "format/parse round trip", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_url(input);
  check_slug(input);
  check_time(input);
  (void)host_of(input);
  return 0;
}
