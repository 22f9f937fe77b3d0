// The web app's built files (web/dist), loaded into memory at start-up so serving them does no
// I/O: hashed assets under /assets/ are cached for a year, index.html is revalidated every
// time, and a precompressed .gz sibling is sent to clients that accept gzip.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/request.h"
#include "http/response.h"

namespace shortener::http {

class StaticAssets {
 public:
  // Loads every regular file under `root` (missing root: nothing is served but the fallback).
  static StaticAssets load(const std::filesystem::path& root);

  // Answers GET/HEAD for "/", "/dashboard", "/dashboard/..." (SPA fallback: index.html) and
  // files of the build; false for any other path.
  bool serve(const Request& request, Response& response) const;
  std::size_t files() const { return files_.size(); }

 private:
  struct File {
    std::string_view content_type;
    std::string_view cache_control;
    std::string body;
    std::string gzip;  // empty when no .gz sibling
  };
  const File* find(std::string_view path) const;
  static void answer(const File& file, const Request& request, Response& response);

  std::unordered_map<std::string, File> files_;  // key: URL path ("/assets/x.js")
};

}  // namespace shortener::http
