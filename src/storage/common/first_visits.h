// Who has been counted unique, per (link, UTC day), in a click writer's memory: a set of 64-bit
// visitor keys per link-day.
//
// A click is `unique` when it is its visitor's first stored click of the UTC day on the link.
// - SQLite: the durable record of that is the raw row itself (first_of_day = 1; clicks_by_link
//   covers link, time, bot, first_of_day and visitor); this is its in-memory index, so deciding
//   uniqueness costs a hash lookup instead of a random insert into a B-tree of every visitor (a
//   dirty page per click: a third of the writer's time in bench/ingest). A (link, day) is loaded
//   from the raw rows the first time a batch touches it, and dropped when prune() says late
//   clicks no longer reach its day.
// - PostgreSQL: the durable record is the `visitors` table, shared by every worker process; this
//   holds the claims a process has seen committed, so their clicks need not be sent again (a
//   claim, once committed, is never taken back).
//
// Visitors are the enricher's 64-bit hashes as 16 hex digits, kept as the number; any other
// string (tests, hand-written rows) is kept as its hash.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "core/link.h"  // TimeUs

namespace shortener::storage {

// An open-addressing set of 64-bit values (8 bytes a slot, at most half full).
class VisitorSet {
 public:
  bool contains(std::uint64_t v) const;
  // Returns whether `v` was new.
  bool insert(std::uint64_t v);

 private:
  std::size_t slot(std::uint64_t v) const;
  void grow();

  std::vector<std::uint64_t> slots_;  // 0: empty (a visitor 0 is has_zero_)
  std::size_t size_ = 0;
  bool has_zero_ = false;
};

std::uint64_t visitor_key(std::string_view visitor);

class FirstVisits {
 public:
  using LinkDay = std::pair<std::int64_t, TimeUs>;  // link id, start of the UTC day

  // The set of (link, day), or null when it has not been loaded.
  VisitorSet* find(const LinkDay& key);
  const VisitorSet* find(const LinkDay& key) const;
  VisitorSet& add(const LinkDay& key) { return sets_[key]; }
  // Forgets every day before `day`.
  void drop_before(TimeUs day);
  std::size_t link_days() const { return sets_.size(); }

 private:
  std::map<LinkDay, VisitorSet> sets_;
};

}  // namespace shortener::storage
