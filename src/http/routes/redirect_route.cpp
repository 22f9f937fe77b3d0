// GET /{slug} -> 302 and GET /{slug}+ -> preview page. The 302 never carries a body and is never
// cacheable by the browser (every click must reach us: 302, not 301).
#include <string>

#include "core/click.h"
#include "http/routes/routes.h"
#include "http/wire.h"

namespace shortener::http::routes {

namespace {

constexpr std::string_view kRedirectCacheControl = "private, max-age=0";
constexpr std::size_t kMaxRecordedQueryBytes = 2048;

void html_escape_into(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

void page(Response& response, int status, std::string_view title, std::string_view message) {
  std::string body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><title>";
  html_escape_into(body, title);
  body +=
      "</title></head><body style=\"font-family:system-ui,sans-serif;max-width:40rem;"
      "margin:4rem auto;padding:0 1rem\"><h1>";
  html_escape_into(body, title);
  body += "</h1><p>";
  html_escape_into(body, message);
  body += "</p><p><a href=\"/\">Shorten a link</a></p></body></html>\n";
  response.set(status, kTextHtml, std::move(body));
  response.cache_control = kNoStore;
}

// A counted redirect: GET (not HEAD) answered with 302. The event goes to the in-process
// buffer: no I/O, no waiting; a full buffer drops and counts it.
void record_click(const RouteContext& ctx, const Request& request, const CachedLink& link) {
  TimeUs now = ctx.clock.now_us();
  ClickEvent event{
      .id = new_event_id(now),
      .link_id = link.id,
      .account_id = link.account_id,
      .slug = link.slug,
      .at = now,
      .ip = client_address(request.peer, request.x_forwarded_for, ctx.trusted_proxies).to_string(),
      .user_agent = request.user_agent,
      .referer = request.referer,
      .accept_language = request.accept_language,
      // Raw and bounded: decoding and validating utm_source is the worker's job.
      .query = std::string(request.query.substr(0, kMaxRecordedQueryBytes)),
      .destination = link.url,
  };
  ctx.clicks.offer(std::move(event));
}

void answer(const Resolution& resolution, Response& response) {
  switch (resolution.kind) {
    case Resolution::Kind::found:
      response.status = 302;
      response.location = resolution.link->url;
      response.pinned = resolution.link;
      response.cache_control = kRedirectCacheControl;
      return;
    case Resolution::Kind::not_found:
      not_found_page(response);
      return;
    case Resolution::Kind::gone:
      page(response, 410, "Link gone", "This short link has expired or was deleted.");
      return;
    case Resolution::Kind::unavailable:
      page(response, 503, "Try again soon", "The link store is unavailable right now.");
      response.headers.emplace_back("Retry-After", "5");
      return;
  }
}

}  // namespace

void not_found_page(Response& response) {
  page(response, 404, "Link not found", "No short link has this address.");
}

void redirect_resolved(const RouteContext& ctx, const Request& request,
                       const Resolution& resolution, Response& response) {
  answer(resolution, response);
  if (resolution.kind == Resolution::Kind::found && request.method == Method::get)
    record_click(ctx, request, *resolution.link);
}

bool redirect_fast(const RouteContext& ctx, const Request& request, std::string_view slug,
                   Response& response) {
  auto resolution = ctx.links.resolve_cached(slug);
  if (!resolution) return false;
  redirect_resolved(ctx, request, *resolution, response);
  return true;
}

void redirect(const RouteContext& ctx, const Request& request, std::string_view slug,
              Response& response) {
  redirect_resolved(ctx, request, ctx.links.resolve(slug), response);
}

void preview(const RouteContext& ctx, const Request&, std::string_view slug, Response& response) {
  auto resolution = ctx.links.resolve(slug);
  if (resolution.kind != Resolution::Kind::found) {
    answer(resolution, response);
    return;
  }
  const std::string& url = resolution.link->url;
  std::string body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><meta name=\"robots\" "
      "content=\"noindex\"><title>Link preview</title></head><body style=\"font-family:"
      "system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem\">"
      "<h1>Where this link goes</h1><p><code>";
  html_escape_into(body, ctx.public_url);
  body += "/";
  html_escape_into(body, slug);
  body +=
      "</code> leads to:</p><p style=\"word-break:break-all\"><a rel=\"noopener noreferrer "
      "nofollow\" href=\"";
  html_escape_into(body, url);
  body += "\">";
  html_escape_into(body, url);
  body += "</a></p></body></html>\n";
  response.set(200, kTextHtml, std::move(body));
  response.cache_control = kNoStore;
}

}  // namespace shortener::http::routes
