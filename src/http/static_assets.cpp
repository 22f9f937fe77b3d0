#include "http/static_assets.h"

#include <fstream>
#include <sstream>

#include "http/wire.h"

namespace shortener::http {

namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";
constexpr std::string_view kShortCache = "public, max-age=3600";

std::string_view content_type_of(const std::filesystem::path& path) {
  static const std::unordered_map<std::string, std::string_view> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  };
  auto it = kTypes.find(path.extension().string());
  return it == kTypes.end() ? std::string_view("application/octet-stream") : it->second;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool accepts_gzip(std::string_view accept_encoding) {
  return accept_encoding.find("gzip") != std::string_view::npos;
}

}  // namespace

StaticAssets StaticAssets::load(const std::filesystem::path& root) {
  StaticAssets assets;
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) return assets;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".gz") continue;
    std::string url = "/" + std::filesystem::relative(entry.path(), root).generic_string();
    File file;
    file.content_type = content_type_of(entry.path());
    // Vite names everything under assets/ by content hash: safe to cache forever.
    file.cache_control = url.starts_with("/assets/") ? kImmutable
                         : url.ends_with(".html")    ? kRevalidate
                                                     : kShortCache;
    file.body = read_file(entry.path());
    auto gz = entry.path();
    gz += ".gz";
    if (std::filesystem::is_regular_file(gz, ec)) file.gzip = read_file(gz);
    assets.files_.emplace(std::move(url), std::move(file));
  }
  return assets;
}

const StaticAssets::File* StaticAssets::find(std::string_view path) const {
  auto it = files_.find(std::string(path));
  return it == files_.end() ? nullptr : &it->second;
}

void StaticAssets::answer(const File& file, const Request& request, Response& response) {
  bool gzip = !file.gzip.empty() && accepts_gzip(request.accept_encoding);
  response.set(200, file.content_type, gzip ? file.gzip : file.body);
  response.cache_control = file.cache_control;
  if (!file.gzip.empty()) response.headers.emplace_back("Vary", "Accept-Encoding");
  if (gzip) response.headers.emplace_back("Content-Encoding", "gzip");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

bool StaticAssets::serve(const Request& request, Response& response) const {
  if (!request.is_get_or_head()) return false;
  std::string_view path = request.path;
  bool app_route = path == "/" || path == "/dashboard" || path.starts_with("/dashboard/");
  if (!app_route) {
    // Slugs never hold '.' or a second '/': redirects skip the lookup (and its allocation).
    bool file_like = path.find('.') != std::string_view::npos || path.starts_with("/assets/");
    if (!file_like || path.find("..") != std::string_view::npos) return false;
    if (const File* file = find(path)) {
      answer(*file, request, response);
      return true;
    }
    return false;
  }
  if (const File* index = find("/index.html")) {
    answer(*index, request, response);
    return true;
  }
  response.set(200, kTextHtml,
               "<!doctype html><title>shortener</title><p>The web app is not built. Run "
               "<code>scripts/build.sh</code> (or <code>npm ci &amp;&amp; npm run build</code> in "
               "<code>web/</code>), or pass <code>--web-dir</code>. The API is at "
               "<code>/api/v1/</code>.</p>\n");
  response.cache_control = kNoStore;
  return true;
}

}  // namespace shortener::http
