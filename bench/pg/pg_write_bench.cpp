// PostgresClickStore::write() throughput: batches of 1,000 enriched clicks shaped like real
// traffic (the SQLite stats_bench's mix: 10,000 Zipf-ranked links, Zipf-ranked dimension
// values, 3 % bots, visitors drawn from a pool of 200,000), written by 1 and then 2 threads,
// as 1 or 2 workers would. Reports clicks/s and per-batch p50/p99. Runs in a schema of its
// own, dropped at the end. Target: >= 30,000 clicks/s. The machine may be shared, so it also
// reports the CPU time one batch costs the server (its backends, read from /proc: run it on the
// database host) and this client: 1000 / (server + client ms) is the rate per core. Then times
// stats() over what it wrote, with the last writes' increments still pending, then folded.
//
//   build/bench/pg/pg_write_bench [postgres://... (default $SHORTENER_TEST_PG_URL)] [batches=300]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/click.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/migrations.h"
#include "storage/postgres/postgres_click_store.h"

using namespace shortener;

namespace {

constexpr std::size_t kBatch = 1000;

std::vector<double> zipf_weights(int n) {
  std::vector<double> w(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] = 1.0 / (i + 1);
  return w;
}

std::string country_code(int i) {
  return {static_cast<char>('A' + i % 26), static_cast<char>('A' + i / 26 % 26)};
}

class ClickGen {
 public:
  ClickGen() : rng_(7) {
    for (int values : {200, 2000, 50, 4, 40, 20}) {
      const auto w = zipf_weights(values);
      dims_.emplace_back(w.begin(), w.end());
    }
    const auto w = zipf_weights(10'000);
    links_ = std::discrete_distribution<int>(w.begin(), w.end());
    for (int i = 0; i < 200'000; ++i) visitors_.push_back(std::to_string(rng_()));
  }

  std::vector<EnrichedClick> batch(TimeUs& at) {
    static const char* const kDevices[] = {"desktop", "mobile", "tablet", "other"};
    std::vector<EnrichedClick> out(kBatch);
    for (EnrichedClick& c : out) {
      at += 20;  // 50,000 clicks per second of event time
      c.id = new_event_id(at);
      c.at = at;
      c.link_id = 1 + links_(rng_);
      c.country = country_code(dims_[0](rng_));
      c.city = "City " + std::to_string(dims_[1](rng_));
      c.region = "Region";
      c.referrer = "referrer" + std::to_string(dims_[2](rng_)) + ".example.com";
      c.device = kDevices[dims_[3](rng_)];
      c.browser = "Browser " + std::to_string(dims_[4](rng_));
      c.browser_version = "120";
      c.os = "OS " + std::to_string(dims_[5](rng_));
      c.bot = rng_() % 100 < 3;
      if (c.bot) {
        c.device = "bot";
        c.bot_reason = "ua-list";
      }
      c.visitor = visitors_[rng_() % visitors_.size()];
      c.destination = "https://www.example.com/landing/page-" + std::to_string(c.link_id);
    }
    return out;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::discrete_distribution<int>> dims_;
  std::discrete_distribution<int> links_;
  std::vector<std::string> visitors_;
};

// CPU seconds used so far by this process (the client side: batch building, libpq).
double client_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU seconds used so far by the server backends serving `application_name` (same host).
double server_cpu_s(pg::Connection& admin, const std::string& application_name) {
  auto pids = admin.exec(
      "SELECT pid FROM pg_stat_activity WHERE application_name = '" + application_name + "'",
      "backend pids");
  double total = 0;
  for (int r = 0; pids && r < pids->rows(); ++r) {
    std::ifstream stat("/proc/" + std::string(pids->text(r, 0)) + "/stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));  // after "pid (comm) "
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i)
      if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
    total += ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return total;
}

struct CpuProbe {
  pg::Connection& admin;
  std::string application_name;
};

// Writes `batches` with `threads` threads (batch i on thread i % threads), each expected to
// store `expect` new clicks; returns clicks/s.
double run(PostgresClickStore& store, std::vector<std::vector<EnrichedClick>> batches, int threads,
           std::size_t expect, const char* label, CpuProbe& cpu) {
  const double server_before = server_cpu_s(cpu.admin, cpu.application_name);
  const double client_before = client_cpu_s();
  std::vector<std::vector<double>> ms(static_cast<std::size_t>(threads));
  std::vector<int> failures(static_cast<std::size_t>(threads), 0);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < batches.size(); i += threads) {
        const auto begin = std::chrono::steady_clock::now();
        auto written = store.write(batches[i]);
        if (!written || written->inserted != expect) ++failures[static_cast<std::size_t>(t)];
        if (!written) std::fprintf(stderr, "write: %s\n", written.error().detail.c_str());
        ms[static_cast<std::size_t>(t)].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
                .count());
      }
    });
  }
  for (auto& worker : workers) worker.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (const auto& some : ms) all.insert(all.end(), some.begin(), some.end());
  std::sort(all.begin(), all.end());
  const auto at = [&](double p) { return all[static_cast<std::size_t>(p * (all.size() - 1))]; };
  int failed = 0;
  for (int f : failures) failed += f;
  const double rate = static_cast<double>(batches.size() * kBatch) / seconds;
  const double n = static_cast<double>(batches.size());
  const double server_ms = (server_cpu_s(cpu.admin, cpu.application_name) - server_before) * 1e3;
  const double client_ms = (client_cpu_s() - client_before) * 1e3;
  std::printf(
      "%-26s %7.0f clicks/s  batch p50 %6.1f ms  p99 %6.1f ms  CPU/batch: server %5.1f ms, "
      "client %4.1f ms  failed %d\n",
      label, rate, at(0.5), at(0.99), server_ms / n, client_ms / n, failed);
  return rate;
}

void query_latency(PostgresClickStore& store, std::vector<std::int64_t> links, TimeUs from,
                   TimeUs to, const char* label) {
  StatsQuery query;
  query.link_ids = std::move(links);
  query.from = from;
  query.to = to;
  std::vector<double> ms;
  for (int i = 0; i < 20; ++i) {
    const auto begin = std::chrono::steady_clock::now();
    auto stats = store.stats(query);
    if (!stats) return (void)std::fprintf(stderr, "stats: %s\n", stats.error().detail.c_str());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-26s p50 %6.1f ms  max %6.1f ms\n", label, ms[ms.size() / 2], ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("SHORTENER_TEST_PG_URL");
  const std::string server = argc > 1 ? argv[1] : env != nullptr ? env : "";
  const std::size_t batches = argc > 2 ? std::stoul(argv[2]) : 300;
  if (server.empty())
    return std::fprintf(stderr, "usage: %s postgres://... [batches]\n", argv[0]), 2;

  auto admin = pg::Connection::open(server, {});
  if (!admin) return std::fprintf(stderr, "%s\n", admin.error().detail.c_str()), 1;
  const std::string schema = "bench_" + std::to_string(::getpid());
  const std::string url = server + (server.find('?') == std::string::npos ? "?" : "&") +
                          "options=-csearch_path%3D" + schema + "&application_name=" + schema;
  if (auto ok = admin->exec("CREATE SCHEMA " + schema, "create schema"); !ok)
    return std::fprintf(stderr, "%s\n", ok.error().detail.c_str()), 1;
  int status = 0;
  if (auto version = pg::migrate(url); !version) {
    std::fprintf(stderr, "migrate: %s\n", version.error().detail.c_str());
    status = 1;
  } else if (auto store = PostgresClickStore::open(url, PostgresOptions{.pool_size = 2}); !store) {
    std::fprintf(stderr, "open: %s\n", store.error().detail.c_str());
    status = 1;
  } else {
    CpuProbe cpu{*admin, schema};
    ClickGen gen;
    TimeUs at = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    const auto make = [&] {
      std::vector<std::vector<EnrichedClick>> out;
      for (std::size_t i = 0; i < batches; ++i) out.push_back(gen.batch(at));
      return out;
    };
    std::printf("PostgresClickStore::write, %zu batches of %zu clicks each run\n", batches, kBatch);
    run(**store, make(), 1, kBatch, "1 writer thread", cpu);
    run(**store, make(), 2, kBatch, "2 writer threads", cpu);
    // Replays: every event already stored (a redelivered backlog).
    auto replay = make();
    run(**store, replay, 2, kBatch, "2 writer threads, again", cpu);
    run(**store, replay, 2, 0, "2 threads, all replays", cpu);
    // Reads of what was written: the busiest link, and all 10,000 links (an account).
    const TimeUs now = at;
    query_latency(**store, {1}, now - 86'400'000'000LL, now + 1, "stats: busiest link, 1 day");
    std::vector<std::int64_t> all(10'000);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i) + 1;
    query_latency(**store, all, now - 86'400'000'000LL, now + 1, "stats: 10,000 links, 1 day");
    // The same once nothing is pending: what reading the pending increments costs.
    if (auto folded = (*store)->fold_pending(); !folded)
      std::fprintf(stderr, "fold: %s\n", folded.error().detail.c_str());
    query_latency(**store, {1}, now - 86'400'000'000LL, now + 1, "  folded: busiest link");
    query_latency(**store, all, now - 86'400'000'000LL, now + 1, "  folded: 10,000 links");
  }
  (void)admin->exec("DROP SCHEMA " + schema + " CASCADE", "drop schema");
  return status;
}
