// Test data for the ClickStore/StatsStore contract suites (click_store_contract.cpp,
// stats_store_contract.cpp): clicks, queries, and comparable views of the answers.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/click_ports.h"

namespace shortener::contract {

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z, a UTC midnight
constexpr TimeUs kMinute = 60'000'000;
constexpr TimeUs kHour = 60 * kMinute;
constexpr TimeUs kDay = 24 * kHour;

// An event id as the redirect mints it: a ULID whose time is the click's. (new_event_id keeps
// a thread's ids increasing, so after a later click it would stamp an earlier one later.)
inline std::string event_id(TimeUs at) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  static std::atomic<std::uint64_t> counter{0};
  std::string id(26, '0');
  auto ms = static_cast<std::uint64_t>(at / 1000);
  for (int i = 9; i >= 0; --i, ms >>= 5) id[static_cast<std::size_t>(i)] = kCrockford[ms & 31];
  auto n = ++counter;
  for (int i = 25; i >= 10; --i, n >>= 5) id[static_cast<std::size_t>(i)] = kCrockford[n & 31];
  return id;
}

inline EnrichedClick human(std::int64_t link, TimeUs at, std::string visitor = "v1") {
  EnrichedClick c;
  c.id = event_id(at);
  c.link_id = link;
  c.at = at;
  c.country = "FR";
  c.region = "IDF";
  c.city = "Paris";
  c.referrer = "news.example";
  c.device = "desktop";
  c.browser = "Chrome";
  c.browser_version = "120";
  c.os = "Windows";
  c.visitor = std::move(visitor);
  c.utm_source = "mail";
  c.destination = "https://example.com/a";
  return c;
}

inline EnrichedClick bot(std::int64_t link, TimeUs at) {
  EnrichedClick c = human(link, at, "crawler");
  c.bot = true;
  c.bot_reason = "ua-list";
  c.device = "bot";
  c.browser = "Googlebot";
  return c;
}

inline EnrichedClick with_country(EnrichedClick c, std::string country, std::string city) {
  c.country = std::move(country);
  c.city = std::move(city);
  return c;
}

inline StatsQuery range(std::vector<std::int64_t> links, TimeUs from, TimeUs to,
                        Interval interval = Interval::hour, bool include_bots = false) {
  StatsQuery q;
  q.link_ids = std::move(links);
  q.from = from;
  q.to = to;
  q.interval = interval;
  q.include_bots = include_bots;
  return q;
}

inline std::vector<std::pair<std::string, std::int64_t>> pairs(const std::vector<Count>& counts) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const Count& c : counts) out.emplace_back(c.key, c.clicks);
  return out;
}

using Series = std::vector<std::tuple<TimeUs, std::int64_t, std::int64_t>>;  // t, clicks, unique
inline Series series(const std::vector<Bucket>& buckets) {
  Series out;
  for (const Bucket& b : buckets) out.emplace_back(b.t, b.clicks, b.unique);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace shortener::contract
