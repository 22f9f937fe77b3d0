// Micro-benchmarks of click enrichment, with a naive reference in the same run: uap-core's
// rules tried one by one with RE2 (what the literal prefilter replaces).
//   cold:   a User-Agent not in the LRU cache (parse_uncached) over ~18k distinct real UAs
//           from uap-core's test files, after one warm-up lap (steady state of RE2's DFAs);
//   first:  the same, on a freshly loaded parser (DFAs empty): the worst case after a start;
//   cached: parse() of 2,000 UAs drawn with a Zipf(1) skew, as real traffic repeats.
#include <benchmark/benchmark.h>
#include <re2/re2.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "worker/enrich/bot_detector.h"
#include "worker/enrich/geo_locator.h"
#include "worker/enrich/referrer.h"
#include "worker/enrich/user_agent.h"
#include "worker/enrich/visitor_hash.h"
#include "worker/enrich/yaml_tree.h"

namespace shortener::enrich {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}
const std::string kNpm = env_or("SHORTENER_NPM_DATA_DIR", SHORTENER_NPM_DATA_DIR);
const std::string kUap = env_or("SHORTENER_SYSTEM_UAP_DIR", SHORTENER_SYSTEM_UAP_DIR);
const std::string kRegexes = env_or("SHORTENER_UAP_REGEXES", kNpm + "/uap-core/regexes.yaml");
const std::string kCrawlers = kNpm + "/crawler-user-agents/crawler-user-agents.json";
const std::string kCountry = kNpm + "/@ip-location-db/geo-whois-asn-country-mmdb/";

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> uas = [] {
    std::vector<std::string> out;
    for (const char* file :
         {"/tests/test_ua.yaml", "/tests/test_os.yaml", "/tests/test_device.yaml",
          "/test_resources/firefox_user_agent_strings.yaml"}) {
      auto doc = load_yaml_file(kUap + file);
      if (!doc || doc->find("test_cases") == nullptr) continue;
      for (const auto& c : doc->find("test_cases")->items) {
        out.emplace_back(c.text("user_agent_string").value_or(""));
      }
    }
    return out;
  }();
  return uas;
}

const UserAgentParser* parser() {
  static const auto p = [] {
    auto loaded = UserAgentParser::load(kRegexes);
    return loaded ? std::make_unique<UserAgentParser>(std::move(*loaded)) : nullptr;
  }();
  return p.get();
}

bool ready(benchmark::State& state) {
  if (parser() != nullptr && !corpus().empty()) return true;
  state.SkipWithError("data missing: run scripts/fetch-data.sh");
  return false;
}

void BM_UaParseCold(benchmark::State& state) {
  if (!ready(state)) return;
  const auto& uas = corpus();
  static const bool warmed = [&] {
    for (const auto& ua : uas) parser()->parse_uncached(ua);
    return true;
  }();
  benchmark::DoNotOptimize(warmed);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser()->parse_uncached(uas[i]));
    i = (i + 1) % uas.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UaParseCold)->Unit(benchmark::kMicrosecond);

void BM_UaParseFirstSight(benchmark::State& state) {
  if (!ready(state)) return;
  const auto& uas = corpus();
  for (auto _ : state) {
    state.PauseTiming();
    auto fresh = UserAgentParser::load(kRegexes, {.cache_entries = 0});
    state.ResumeTiming();
    for (const auto& ua : uas) benchmark::DoNotOptimize(fresh->parse_uncached(ua));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(uas.size()));
}
BENCHMARK(BM_UaParseFirstSight)->Iterations(1)->Unit(benchmark::kMillisecond);

// Zipf(1)-distributed picks from the first 2,000 distinct UAs of the corpus.
std::vector<std::size_t> zipf_picks(std::size_t distinct, std::size_t count) {
  std::vector<double> weights(distinct);
  for (std::size_t k = 0; k < distinct; ++k) weights[k] = 1.0 / static_cast<double>(k + 1);
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  std::mt19937 random(7);
  std::vector<std::size_t> out(count);
  for (auto& o : out) o = pick(random);
  return out;
}

void BM_UaParseCached(benchmark::State& state) {
  if (!ready(state)) return;
  const auto& uas = corpus();
  static const auto picks = zipf_picks(2000, 1 << 16);
  for (std::size_t k = 0; k < 2000; ++k) parser()->parse(uas[k]);  // fill the cache
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser()->parse(uas[picks[i]]));
    i = (i + 1) % picks.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UaParseCached)->Threads(1)->Threads(2);

// The reference: every rule of a section in order until one matches, no prefilter.
struct NaiveSections {
  std::vector<std::vector<std::unique_ptr<RE2>>> sections;
};

const NaiveSections& naive() {
  static const NaiveSections n = [] {
    NaiveSections out;
    auto doc = load_yaml_file(kRegexes);
    if (!doc) return out;
    for (const char* name : {"user_agent_parsers", "os_parsers", "device_parsers"}) {
      auto& section = out.sections.emplace_back();
      for (const auto& rule : doc->find(name)->items) {
        RE2::Options options;
        options.set_case_sensitive(rule.text("regex_flag").value_or("") != "i");
        options.set_log_errors(false);
        section.push_back(std::make_unique<RE2>(std::string(*rule.text("regex")), options));
      }
    }
    return out;
  }();
  return n;
}

void BM_UaParseNaiveReference(benchmark::State& state) {
  if (!ready(state) || naive().sections.size() != 3) return;
  const auto& uas = corpus();
  std::size_t i = 0;
  for (auto _ : state) {
    re2::StringPiece groups[10];
    for (const auto& section : naive().sections) {
      for (const auto& re : section) {
        const int n = std::min(re->NumberOfCapturingGroups(), 9) + 1;
        if (re->Match(uas[i], 0, uas[i].size(), RE2::UNANCHORED, groups, n)) break;
      }
    }
    i = (i + 1) % uas.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UaParseNaiveReference)->Unit(benchmark::kMicrosecond);

void BM_BotDetect(benchmark::State& state) {
  if (!ready(state)) return;
  static const auto detector = BotDetector::load(kCrawlers);
  if (!detector) return state.SkipWithError("crawler list missing");
  const auto& uas = corpus();
  std::vector<UserAgent> parsed;
  for (std::size_t k = 0; k < 2000; ++k) parsed.push_back(parser()->parse(uas[k]));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(detector->detect(uas[i], parsed[i]));
    i = (i + 1) % parsed.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BotDetect);

// Random public addresses, as text (the worker gets text): parse + lookup.
std::vector<std::string> random_ips(bool v6, std::size_t count) {
  std::mt19937 random(11);
  std::vector<std::string> out;
  while (out.size() < count) {
    std::string ip;
    if (v6) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "2%03x:%x:%x::%x", static_cast<unsigned>(random() % 0x400),
                    static_cast<unsigned>(random() & 0xffff),
                    static_cast<unsigned>(random() & 0xffff),
                    static_cast<unsigned>(random() & 0xffff));
      ip = buf;
    } else {
      ip = std::to_string(random() % 223 + 1) + "." + std::to_string(random() % 256) + "." +
           std::to_string(random() % 256) + "." + std::to_string(random() % 256);
    }
    if (auto parsed = IpAddress::parse(ip); parsed && is_public(*parsed)) out.push_back(ip);
  }
  return out;
}

void BM_GeoLookup(benchmark::State& state) {
  static const auto geo = GeoLocator::open(
      {kCountry + "geo-whois-asn-country-ipv4.mmdb", kCountry + "geo-whois-asn-country-ipv6.mmdb"});
  if (!geo) return state.SkipWithError("country database missing: run scripts/fetch-data.sh");
  const auto ips = random_ips(state.range(0) == 6, 4096);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(geo->lookup(ips[i]));
    i = (i + 1) % ips.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 6 ? "ipv6" : "ipv4");
}
BENCHMARK(BM_GeoLookup)->Arg(4)->Arg(6);

void BM_ReferrerHost(benchmark::State& state) {
  const std::vector<std::string> referers = {"https://www.google.com/",
                                             "https://t.co/abc",
                                             "android-app://com.slack/",
                                             "https://news.ycombinator.com/item?id=1",
                                             "",
                                             "https://l.facebook.com/l.php?u=x"};
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(referrer_host(referers[i]));
    i = (i + 1) % referers.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReferrerHost);

void BM_VisitorHash(benchmark::State& state) {
  const VisitorHasher hasher("benchmark-salt-0123456789");
  const std::string ua =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36";
  std::int64_t day = 20000;
  for (auto _ : state) benchmark::DoNotOptimize(hasher.hash("203.0.113.9", ua, day++));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VisitorHash);

}  // namespace
}  // namespace shortener::enrich

BENCHMARK_MAIN();
