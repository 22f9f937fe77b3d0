// Compact binary encoding for values stored in or published through Redis: unsigned LEB128
// varints, zigzag for signed integers, length-prefixed strings. Decoding is bounds-checked and
// never throws: a truncated or foreign payload makes the reader !ok().
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shortener {

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_ += static_cast<char>(v); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  void i64(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  std::uint8_t u8() {
    if (pos_ >= in_.size()) return fail(), 0;
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t byte = u8();
      if (!ok_) return 0;
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    return fail(), 0;
  }
  std::int64_t i64() {
    std::uint64_t v = varint();
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
  std::string str() {
    std::uint64_t n = varint();
    if (!ok_ || n > in_.size() - pos_) return fail(), std::string();
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  void fail() { ok_ = false; }

  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// A versioned list of records: the version byte, the count, then each record as `write` puts it.
template <class Range, class Write>
std::string encode_list(std::uint8_t version, const Range& records, Write write) {
  ByteWriter out;
  out.u8(version);
  out.varint(std::size(records));
  for (const auto& record : records) write(out, record);
  return std::move(out.bytes());
}

// nullopt for another version, a truncated or padded payload, or a count the bytes cannot hold
// at `min_record_bytes` a record (refused before anything is allocated for it).
template <class T, class Read>
std::optional<std::vector<T>> decode_list(std::string_view bytes, std::uint8_t version,
                                          std::size_t min_record_bytes, Read read) {
  ByteReader in(bytes);
  if (in.u8() != version) return std::nullopt;
  std::uint64_t count = in.varint();
  if (!in.ok() || count > bytes.size() / min_record_bytes) return std::nullopt;
  std::vector<T> records;
  records.reserve(count);
  for (std::uint64_t i = 0; i < count && in.ok(); ++i) records.push_back(read(in));
  if (!in.ok() || !in.at_end()) return std::nullopt;
  return records;
}

}  // namespace shortener
