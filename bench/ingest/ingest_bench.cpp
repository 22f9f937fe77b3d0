// Worker ingest on the embedded default: how fast do ClickWorkers drain a backlog into SQLite?
// A realistic mix: ~2,000 distinct User-Agents (uap-core's test corpus) drawn with a Zipf-like
// skew, random public IPv4 addresses, a dozen referrers, 100 links. Also the cold case: every
// User-Agent distinct, so the parser cache never hits.
//
//   build/bench/ingest/ingest_bench [events=1000000] [threads=2] [data files root]
//
// 2 threads, as serve's --worker-threads default. With more, batches that queue behind a write
// are committed together (SqliteClickStore group commit).
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/click.h"
#include "live/memory/memory_live_feed.h"
#include "queue/memory/memory_click_queue.h"
#include "storage/sqlite/sqlite_click_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "worker/click_enricher.h"
#include "worker/click_pipeline.h"

using namespace shortener;

namespace {

std::vector<std::string> load_user_agents() {
  std::vector<std::string> out;
  for (const char* file :
       {"/usr/share/uap-core/tests/test_ua.yaml", "/usr/share/uap-core/tests/test_device.yaml",
        "/usr/share/uap-core/tests/test_os.yaml"}) {
    std::ifstream in(file);
    std::string line;
    const std::string key = "user_agent_string: ";
    while (std::getline(in, line)) {
      auto at = line.find(key);
      if (at == std::string::npos) continue;
      std::string ua = line.substr(at + key.size());
      if (ua.size() >= 2 && (ua.front() == '\'' || ua.front() == '"'))
        ua = ua.substr(1, ua.size() - 2);
      out.push_back(ua);
      if (out.size() >= 2000) return out;
    }
  }
  return out;
}

std::string public_ipv4(std::mt19937_64& rng) {
  for (;;) {
    auto v = static_cast<std::uint32_t>(rng());
    unsigned a = v >> 24;
    if (a == 0 || a == 10 || a == 127 || a >= 224 || a == 172 || a == 192 || a == 100) continue;
    return std::to_string(a) + "." + std::to_string(v >> 16 & 255) + "." +
           std::to_string(v >> 8 & 255) + "." + std::to_string(v & 255);
  }
}

std::vector<ClickEvent> make_events(std::size_t n, const std::vector<std::string>& uas, bool cold) {
  static const char* kReferrers[] = {"",
                                     "https://www.google.com/",
                                     "https://t.co/abc",
                                     "https://news.ycombinator.com/item?id=1",
                                     "https://www.reddit.com/r/cpp/",
                                     "https://duckduckgo.com/",
                                     "https://www.facebook.com/",
                                     "https://l.instagram.com/",
                                     "https://www.linkedin.com/feed/",
                                     "https://github.com/",
                                     "android-app://com.slack",
                                     "https://mail.google.com/"};
  std::mt19937_64 rng(42);
  // Zipf-like: P(rank k) ~ 1/k, sampled through the inverse CDF of a continuous approximation.
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double h = std::log(static_cast<double>(uas.size())) + 0.5772;
  std::vector<ClickEvent> events(n);
  TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  for (std::size_t i = 0; i < n; ++i) {
    ClickEvent& e = events[i];
    e.at = now - static_cast<TimeUs>(n - i) * 10;
    e.id = new_event_id(e.at);
    e.link_id = 1 + static_cast<std::int64_t>(rng() % 100);
    e.slug = "bench" + std::to_string(e.link_id);
    e.ip = public_ipv4(rng);
    auto rank = static_cast<std::size_t>(std::exp(unit(rng) * h)) % uas.size();
    e.user_agent = cold ? uas[i % uas.size()] + " bench/" + std::to_string(i) : uas[rank];
    e.referer = kReferrers[rng() % 12];
    e.destination = "https://example.com/landing";
  }
  return events;
}

// CPU time, steadier than wall time on a shared machine: this thread's, and the process's.
double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double process_cpu_us() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto us = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec);
  };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

double drain(std::vector<ClickEvent> events, ClickEnricher& enricher, ClickStore& store,
             int threads) {
  MemoryClickQueue queue(events.size() + 1);
  MemoryLiveFeed live;
  std::size_t n = events.size();
  (void)queue.push(std::move(events));
  queue.close();
  ClickWorkers workers(queue, enricher, store, live, ClickWorkerOptions{.threads = threads});
  auto start = std::chrono::steady_clock::now();
  const double cpu0 = process_cpu_us();
  workers.start();
  workers.drain_and_stop(start + std::chrono::hours(1));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = process_cpu_us() - cpu0;
  auto counters = workers.counters();
  std::printf("    stored %llu of %zu (duplicates %llu, failed batches %llu), CPU %.2f us/click\n",
              static_cast<unsigned long long>(counters.processed), n,
              static_cast<unsigned long long>(counters.duplicates),
              static_cast<unsigned long long>(counters.failures), cpu / static_cast<double>(n));
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? std::stoul(argv[1]) : 1'000'000;
  int threads = argc > 2 ? std::stoi(argv[2]) : 2;
  std::filesystem::path data =
      argc > 3 ? argv[3]
               : std::filesystem::path(SHORTENER_SOURCE_DIR) / "third_party/npm/node_modules";
  auto dir =
      std::filesystem::temp_directory_path() / ("ingest-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);

  auto store = SqliteStore::open((dir / "shortener.db").string());
  if (!store) return std::fprintf(stderr, "%s\n", store.error().detail.c_str()), 1;
  auto account = (*store)->create_account(false, "bench-key-hash", 0);
  for (int i = 1; i <= 100; ++i)
    (void)(*store)->create_link(NewLink{.slug = "bench" + std::to_string(i),
                                        .url = "https://example.com/landing",
                                        .title = "",
                                        .account_id = account ? account->id : 0,
                                        .stats_token = "t",
                                        .created_at = 0,
                                        .expires_at = std::nullopt});
  auto clicks = (*store)->open_click_store(2);
  if (!clicks) return std::fprintf(stderr, "%s\n", clicks.error().detail.c_str()), 1;
  auto country = data / "@ip-location-db/geo-whois-asn-country-mmdb";
  auto enricher = ClickEnricher::load(EnricherOptions{
      .uap_regexes = (data / "uap-core/regexes.yaml").string(),
      .crawler_list = (data / "crawler-user-agents/crawler-user-agents.json").string(),
      .geoip_dbs = {(country / "geo-whois-asn-country-ipv4.mmdb").string(),
                    (country / "geo-whois-asn-country-ipv6.mmdb").string()},
      .salt_file = dir / "salts"});
  if (!enricher) return std::fprintf(stderr, "%s\n", enricher.error().detail.c_str()), 1;

  auto uas = load_user_agents();
  {
    // Stage breakdown on one thread: enrichment alone, then the store alone.
    auto events = make_events(std::min<std::size_t>(n, 200'000), uas, false);
    std::vector<EnrichedClick> enriched;
    enriched.reserve(events.size());
    const double t0 = thread_cpu_us();
    for (const auto& e : events) enriched.push_back((*enricher)->enrich(e));
    const double t1 = thread_cpu_us();
    double store_cpu = 0;  // the writes only, not the batch copies
    for (std::size_t i = 0; i < enriched.size(); i += 1000) {
      std::vector<EnrichedClick> batch(enriched.begin() + i,
                                       enriched.begin() + std::min(i + 1000, enriched.size()));
      const double before = thread_cpu_us();
      (void)(*clicks)->write(batch);
      store_cpu += thread_cpu_us() - before;
    }
    const auto n_events = static_cast<double>(events.size());
    std::printf(
        "stage breakdown (1 thread, %zu events, CPU time): enrich %.2f us/click, store %.2f "
        "us/click\n",
        events.size(), (t1 - t0) / n_events, store_cpu / n_events);
  }
  std::printf("ingest benchmark: %zu events, %d worker threads, %zu distinct user agents\n", n,
              threads, uas.size());
  double warm = drain(make_events(n, uas, false), **enricher, **clicks, threads);
  std::printf("  realistic mix (Zipf UAs):  %.2f s  -> %.0f clicks/s\n", warm, n / warm);
  std::size_t cold_n = std::min<std::size_t>(n, 200'000);
  double cold = drain(make_events(cold_n, uas, true), **enricher, **clicks, threads);
  std::printf("  cold (every UA distinct):  %.2f s for %zu -> %.0f clicks/s\n", cold, cold_n,
              cold_n / cold);
  std::filesystem::remove_all(dir);
  return 0;
}
