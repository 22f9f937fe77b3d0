// A minimal MaxMind DB (format 2.0) writer for tests: builds small databases in either
// schema (flat ip-location-db or nested MaxMind) so GeoLocator can be tested without a
// licensed file. Record size 24, no pointers or deduplication in the data section.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace shortener::enrich::test {

// Data-section encoders (spec "Output Data Section"): control byte = type << 5 | size.
inline std::string mmdb_control(int type, std::size_t size) {
  std::string out;
  const int tag = type <= 7 ? type : 0;
  if (size < 29) {
    out.push_back(static_cast<char>(tag << 5 | static_cast<int>(size)));
  } else {
    out.push_back(static_cast<char>(tag << 5 | 29));
  }
  if (type > 7) out.push_back(static_cast<char>(type - 7));
  if (size >= 29) out.push_back(static_cast<char>(size - 29));  // enough for test data
  return out;
}
inline std::string mmdb_string(const std::string& s) {
  return mmdb_control(2, s.size()) + s;
}
inline std::string mmdb_uint(int type /* 5: u16, 6: u32, 9: u64 */, std::uint64_t v) {
  std::string bytes;
  for (; v != 0; v >>= 8) bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
  return mmdb_control(type, bytes.size()) + bytes;
}
inline std::string mmdb_map(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = mmdb_control(7, members.size());
  for (const auto& [key, value] : members) out += mmdb_string(key) + value;
  return out;
}
inline std::string mmdb_array(const std::vector<std::string>& items) {
  std::string out = mmdb_control(11, items.size());
  for (const auto& item : items) out += item;
  return out;
}

class MmdbWriter {
 public:
  MmdbWriter(int ip_version, std::string type, std::uint64_t build_epoch)
      : ip_version_(ip_version), type_(std::move(type)), build_epoch_(build_epoch) {
    nodes_.push_back({});
  }

  // `record` is an encoded data-section value (usually mmdb_map). In an IPv6 database IPv4
  // networks go under ::/96, where libmaxminddb looks them up.
  void insert(const std::string& ip, int prefix, const std::string& record) {
    std::array<unsigned char, 16> bytes{};
    std::vector<int> bits;
    if (inet_pton(AF_INET, ip.c_str(), bytes.data()) == 1) {
      if (ip_version_ == 6) bits.assign(96, 0);
      for (int i = 0; i < prefix; ++i) bits.push_back(bytes[i / 8] >> (7 - i % 8) & 1);
    } else if (inet_pton(AF_INET6, ip.c_str(), bytes.data()) == 1) {
      for (int i = 0; i < prefix; ++i) bits.push_back(bytes[i / 8] >> (7 - i % 8) & 1);
    } else {
      throw std::invalid_argument(ip);
    }
    std::size_t node = 0;
    for (std::size_t i = 0; i + 1 < bits.size(); ++i) {
      const auto bit = static_cast<std::size_t>(bits[i]);
      if (nodes_[node][bit].kind == Slot::empty) {
        nodes_[node][bit] = {Slot::node, nodes_.size()};
        nodes_.push_back({});  // invalidates references into nodes_: index again below
      }
      node = nodes_[node][bit].value;
    }
    nodes_[node][static_cast<std::size_t>(bits.back())] = {Slot::data, data_.size()};
    data_ += record;
  }

  std::string bytes() const {
    const std::uint64_t count = nodes_.size();
    std::string out;
    for (const auto& node : nodes_) {
      for (const Slot& slot : node) {
        std::uint64_t v = count;  // "no data"
        if (slot.kind == Slot::node) v = slot.value;
        if (slot.kind == Slot::data) v = count + 16 + slot.value;
        out.push_back(static_cast<char>(v >> 16 & 0xff));
        out.push_back(static_cast<char>(v >> 8 & 0xff));
        out.push_back(static_cast<char>(v & 0xff));
      }
    }
    out += std::string(16, '\0') + data_ + "\xab\xcd\xefMaxMind.com";
    out += mmdb_map({{"binary_format_major_version", mmdb_uint(5, 2)},
                     {"binary_format_minor_version", mmdb_uint(5, 0)},
                     {"build_epoch", mmdb_uint(9, build_epoch_)},
                     {"database_type", mmdb_string(type_)},
                     {"description", mmdb_map({{"en", mmdb_string("test database")}})},
                     {"ip_version", mmdb_uint(5, static_cast<std::uint64_t>(ip_version_))},
                     {"languages", mmdb_array({mmdb_string("en")})},
                     {"node_count", mmdb_uint(6, count)},
                     {"record_size", mmdb_uint(5, 24)}});
    return out;
  }

  void write(const std::string& path) const {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes();
  }

 private:
  struct Slot {
    enum Kind { empty, node, data } kind = empty;
    std::size_t value = 0;
  };
  int ip_version_;
  std::string type_;
  std::uint64_t build_epoch_;
  std::vector<std::array<Slot, 2>> nodes_;
  std::string data_;
};

}  // namespace shortener::enrich::test
