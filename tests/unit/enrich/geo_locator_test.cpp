#include "worker/enrich/geo_locator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "mmdb_writer.h"
#include "test_data.h"

namespace shortener::enrich {
namespace {

namespace fs = std::filesystem;

struct GeoCase {
  std::string ip;
  std::string country;
};

// Countries checked against the pinned database with libmaxminddb's own string lookup
// (MMDB_lookup_string); ip-location-db derives them from RIR registrations.
TEST(GeoLocatorCountryDbTest, LocatesWellKnownPublicAddresses) {
  ASSERT_TRUE(test::data_file(test::country_db("ipv4")));
  ASSERT_TRUE(test::data_file(test::country_db("ipv6")));
  auto geo = GeoLocator::open({test::country_db("ipv4"), test::country_db("ipv6")});
  ASSERT_TRUE(geo) << geo.error().detail;
  const std::vector<GeoCase> cases = {
      {"8.8.8.8", "US"},                    // Google DNS
      {"1.1.1.1", "AU"},                    // Cloudflare, registered with APNIC
      {"193.0.6.139", "NL"},                // RIPE NCC
      {"133.11.0.1", "JP"},                 // University of Tokyo
      {"200.160.2.3", "BR"},                // NIC.br
      {"2001:4860:4860::8888", "US"},       // Google DNS over IPv6
      {"2001:67c:2e8:22::c100:68b", "NL"},  // RIPE NCC over IPv6
      {"::ffff:8.8.8.8", "US"},             // mapped: only found once folded to IPv4
      {"10.0.0.1", "unknown"},
      {"127.0.0.1", "unknown"},
      {"192.168.0.10", "unknown"},
      {"169.254.1.1", "unknown"},
      {"::1", "unknown"},
      {"fe80::1", "unknown"},
      {"not-an-ip", "unknown"},
      {"", "unknown"},
  };
  for (const GeoCase& c : cases) {
    const GeoLocation where = geo->lookup(c.ip);
    EXPECT_EQ(where.country, c.country) << c.ip;
    EXPECT_EQ(where.region, "unknown") << c.ip << ": a country database has no regions";
    EXPECT_EQ(where.city, "unknown") << c.ip;
  }
}

TEST(GeoLocatorCountryDbTest, ExposesBuildDateAndType) {
  ASSERT_TRUE(test::data_file(test::country_db("ipv4")));
  auto geo = GeoLocator::open({test::country_db("ipv4"), test::country_db("ipv6")});
  ASSERT_TRUE(geo) << geo.error().detail;
  const auto dbs = geo->databases();
  ASSERT_EQ(dbs.size(), 2u);
  EXPECT_EQ(dbs[0].ip_version, 4);
  EXPECT_EQ(dbs[1].ip_version, 6);
  for (const auto& db : dbs) {
    EXPECT_FALSE(db.type.empty());
    EXPECT_GT(db.build_epoch, 1'700'000'000u) << "built after 2023-11";
  }
}

// Writes synthetic databases into a fresh temporary directory.
class GeoLocatorFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("enrich_geo_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string flat_city(const std::string& cc, const std::string& state,
                               const std::string& city) {
    return test::mmdb_map({{"city", test::mmdb_string(city)},
                           {"country_code", test::mmdb_string(cc)},
                           {"state1", test::mmdb_string(state)}});
  }
  static std::string nested_city(const std::string& cc, const std::string& region,
                                 const std::string& city) {
    using test::mmdb_map, test::mmdb_string, test::mmdb_array;
    return mmdb_map({
        {"city", mmdb_map({{"names", mmdb_map({{"en", mmdb_string(city)}})}})},
        {"country", mmdb_map({{"iso_code", mmdb_string(cc)}})},
        {"subdivisions",
         mmdb_array({mmdb_map({{"iso_code", mmdb_string("X")},
                               {"names", mmdb_map({{"en", mmdb_string(region)}})}})})},
    });
  }

  fs::path dir_;
};

TEST_F(GeoLocatorFileTest, ReadsMaxMindNestedSchema) {
  test::MmdbWriter writer(6, "GeoIP2-City", 1'700'000'000);
  writer.insert("81.2.69.0", 24, nested_city("GB", "England", "London"));
  writer.insert("2a02:8010::", 32, nested_city("gb", "Scotland", "Edinburgh"));
  writer.write(path("city.mmdb"));
  auto geo = GeoLocator::open({path("city.mmdb")});
  ASSERT_TRUE(geo) << geo.error().detail;

  GeoLocation where = geo->lookup("81.2.69.160");
  EXPECT_EQ(where.country, "GB");
  EXPECT_EQ(where.region, "England");
  EXPECT_EQ(where.city, "London");
  where = geo->lookup("::ffff:81.2.69.1");  // IPv4 in an IPv6 tree, via the mapped form
  EXPECT_EQ(where.city, "London");
  where = geo->lookup("2a02:8010:1::5");
  EXPECT_EQ(where.country, "GB");  // upper-cased
  EXPECT_EQ(where.city, "Edinburgh");
  EXPECT_EQ(geo->lookup("81.2.70.1").country, "unknown");
  EXPECT_EQ(geo->databases().at(0).type, "GeoIP2-City");
  EXPECT_EQ(geo->databases().at(0).build_epoch, 1'700'000'000u);
}

TEST_F(GeoLocatorFileTest, EarlierDatabasesWinPerField) {
  // Synthetic records sit on public addresses: private ones never reach a database.
  test::MmdbWriter city(4, "geolite2-city", 1);
  city.insert("81.2.69.0", 24,
              test::mmdb_map({{"city", test::mmdb_string("Springfield")},
                              {"state1", test::mmdb_string("Ohio")}}));
  city.insert("81.2.70.0", 24, flat_city("ZZ", "", ""));  // placeholders count as unknown
  city.write(path("city-ipv4.mmdb"));
  test::MmdbWriter country(4, "country", 2);
  country.insert("81.2.69.0", 24, test::mmdb_map({{"country_code", test::mmdb_string("US")}}));
  country.insert("81.2.71.0", 24, test::mmdb_map({{"country_code", test::mmdb_string("FR")}}));
  country.write(path("country-ipv4.mmdb"));

  auto geo = GeoLocator::open({path("city-ipv4.mmdb"), path("country-ipv4.mmdb")});
  ASSERT_TRUE(geo) << geo.error().detail;
  GeoLocation where = geo->lookup("81.2.69.7");
  EXPECT_EQ(where.country, "US");
  EXPECT_EQ(where.region, "Ohio");
  EXPECT_EQ(where.city, "Springfield");
  where = geo->lookup("81.2.70.7");
  EXPECT_EQ(where.country, "unknown");
  EXPECT_EQ(where.region, "unknown");
  EXPECT_EQ(where.city, "unknown");
  EXPECT_EQ(geo->lookup("81.2.71.7").country, "FR");
  // An IPv6 address skips IPv4-only files instead of failing.
  EXPECT_EQ(geo->lookup("2a02:8010::1").country, "unknown");
}

TEST_F(GeoLocatorFileTest, OpenFailuresAreTyped) {
  auto none = GeoLocator::open({});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::invalid_input);
  auto missing = GeoLocator::open({path("missing.mmdb")});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::unavailable);
  std::ofstream(path("junk.mmdb")) << "not a database";
  auto junk = GeoLocator::open({path("junk.mmdb")});
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code, Errc::invalid_input);
}

// Replaces `target` the way an updater should: write elsewhere, rename over it.
void replace(const test::MmdbWriter& writer, const std::string& target) {
  writer.write(target + ".tmp");
  fs::rename(target + ".tmp", target);
}

test::MmdbWriter country_db(const std::string& cc, std::uint64_t epoch) {
  test::MmdbWriter writer(4, "country", epoch);
  writer.insert("81.2.69.0", 24, test::mmdb_map({{"country_code", test::mmdb_string(cc)}}));
  return writer;
}

TEST_F(GeoLocatorFileTest, ReloadsOnlyWhenAFileChanged) {
  country_db("DE", 100).write(path("db.mmdb"));
  auto geo = GeoLocator::open({path("db.mmdb")});
  ASSERT_TRUE(geo) << geo.error().detail;
  EXPECT_EQ(geo->lookup("81.2.69.1").country, "DE");

  auto unchanged = geo->reload_if_changed();
  ASSERT_TRUE(unchanged) << unchanged.error().detail;
  EXPECT_FALSE(*unchanged);
  EXPECT_EQ(geo->reloads(), 0u);

  replace(country_db("AT", 200), path("db.mmdb"));
  auto changed = geo->reload_if_changed();
  ASSERT_TRUE(changed) << changed.error().detail;
  EXPECT_TRUE(*changed);
  EXPECT_EQ(geo->reloads(), 1u);
  EXPECT_EQ(geo->lookup("81.2.69.1").country, "AT");
  EXPECT_EQ(geo->databases().at(0).build_epoch, 200u);

  ASSERT_TRUE(geo->reload());  // SIGHUP: unconditional
  EXPECT_EQ(geo->reloads(), 2u);
}

TEST_F(GeoLocatorFileTest, FailedReloadKeepsServingTheOldDatabases) {
  country_db("DE", 100).write(path("db.mmdb"));
  auto geo = GeoLocator::open({path("db.mmdb")});
  ASSERT_TRUE(geo) << geo.error().detail;
  fs::remove(path("db.mmdb"));
  EXPECT_FALSE(geo->reload_if_changed());
  std::ofstream(path("db.mmdb")) << "truncated";
  EXPECT_FALSE(geo->reload());
  EXPECT_EQ(geo->lookup("81.2.69.1").country, "DE");
  EXPECT_EQ(geo->reloads(), 0u);
}

TEST_F(GeoLocatorFileTest, LookupsRunWhileReloading) {
  country_db("DE", 1).write(path("db.mmdb"));
  auto geo = GeoLocator::open({path("db.mmdb")});
  ASSERT_TRUE(geo) << geo.error().detail;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const std::string cc = geo->lookup("81.2.69.1").country;
        if (cc != "DE" && cc != "AT") bad.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    replace(country_db(i % 2 == 0 ? "AT" : "DE", static_cast<std::uint64_t>(i + 1)),
            path("db.mmdb"));
    const auto reloaded = geo->reload();
    EXPECT_TRUE(reloaded) << reloaded.error().detail;
  }
  stop.store(true);
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(geo->reloads(), 50u);
}

}  // namespace
}  // namespace shortener::enrich
