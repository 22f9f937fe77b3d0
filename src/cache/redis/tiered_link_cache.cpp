#include "cache/redis/tiered_link_cache.h"

namespace shortener {

namespace {
constexpr int kL1Bits = 39;
constexpr std::uint64_t kL1Mask = (std::uint64_t{1} << kL1Bits) - 1;
constexpr std::uint64_t kVersionKnown = std::uint64_t{1} << kL1Bits;
constexpr int kEpochShift = 40;
constexpr std::uint64_t kEpochMask = 0xff;
constexpr int kVersionShift = 48;

void bump(std::atomic<std::uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

TieredLinkCache::TieredLinkCache(L1Factory make_l1, RedisLinkCache& l2,
                                 RedisConfig subscriber_config, TieredLinkCacheOptions options)
    : make_l1_(std::move(make_l1)),
      l2_(l2),
      options_(options),
      owner_(make_l1_()),
      prefetcher_([this](std::span<const std::string> slugs) { return warm(slugs); },
                  options.prefetch_batch, options.prefetch_queue),
      subscriber_(
          std::move(subscriber_config), {l2.options().channel},
          [this](std::string_view, std::string_view slug) { on_message(slug); },
          [this] { flush_l1(); }, options.ping_interval) {
  l1_.store(owner_.get(), std::memory_order_release);
}

TieredLinkCache::~TieredLinkCache() {
  stop();
}

void TieredLinkCache::start() {
  subscriber_.start();
  prefetcher_.start();
  if (!maintenance_.joinable()) maintenance_ = std::thread([this] { maintain(); });
}

void TieredLinkCache::stop() {
  subscriber_.stop();
  prefetcher_.stop();
  {
    std::lock_guard lock(pending_mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
}

std::uint64_t TieredLinkCache::pack(std::uint64_t l1_ticket, std::uint64_t epoch,
                                    std::optional<std::uint16_t> version) {
  // An L1 ticket beyond 39 bits (5e11 invalidations in one shard) no longer matches: its put
  // is refused, which is safe.
  std::uint64_t ticket = std::min(l1_ticket, kL1Mask) | ((epoch & kEpochMask) << kEpochShift);
  if (version) ticket |= kVersionKnown | (std::uint64_t{*version} << kVersionShift);
  return ticket;
}

LinkCache::Lookup TieredLinkCache::peek(std::string_view slug) {
  std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  Lookup local = l1_.load(std::memory_order_acquire)->get(slug);
  if (local.outcome == Outcome::miss) local.ticket = pack(local.ticket, epoch, std::nullopt);
  return local;
}

LinkCache::Lookup TieredLinkCache::get(std::string_view slug) {
  // Epoch before L1 (acquire; flush_l1 stores the new L1 before bumping the epoch): a ticket
  // whose epoch is still current when put() runs came from the current L1.
  std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  LinkCache* l1 = l1_.load(std::memory_order_acquire);
  Lookup local = l1->get(slug);
  if (local.outcome != Outcome::miss) return local;
  auto remote = l2_.fetch(slug);
  if (!remote) {
    bump(l2_errors_);
    bump(misses_);
    return {Outcome::miss, nullptr, pack(local.ticket, epoch, std::nullopt)};
  }
  if (keep_in_l1(*l1, slug, *remote, local.ticket))
    return {remote->outcome, std::move(remote->link), 0};
  bump(misses_);
  return {Outcome::miss, nullptr, pack(local.ticket, epoch, remote->version)};
}

void TieredLinkCache::prefetch(std::string_view slug, PrefetchDone done) {
  prefetcher_.submit(slug, std::move(done));
}

std::vector<LinkCache::Lookup> TieredLinkCache::warm(std::span<const std::string> slugs) {
  std::vector<Lookup> found(slugs.size());
  // As in get(): each slug's L1 ticket before its Redis read. The event loop's peek already
  // counted these lookups: a recheck is not counted again.
  LinkCache* l1 = l1_.load(std::memory_order_acquire);
  std::vector<std::string_view> missing;
  std::vector<std::size_t> positions;
  std::vector<std::uint64_t> tickets;
  for (std::size_t i = 0; i < slugs.size(); ++i) {
    Lookup local = l1->recheck(slugs[i]);
    if (local.outcome != Outcome::miss) {
      found[i] = std::move(local);  // another request put it there meanwhile
      continue;
    }
    missing.push_back(slugs[i]);
    positions.push_back(i);
    tickets.push_back(local.ticket);
  }
  if (missing.empty()) return found;
  auto remote = l2_.fetch_many(missing);
  if (!remote) {
    bump(l2_errors_);
    return found;  // the callers take the blocking path, which tries Redis and the store
  }
  for (std::size_t j = 0; j < missing.size(); ++j) {
    RedisLookup& lookup = (*remote)[j];
    // Not in Redis: a miss, and the blocking path reads the store (and counts the miss).
    keep_in_l1(*l1, missing[j], lookup, tickets[j]);
    found[positions[j]] = {lookup.outcome, std::move(lookup.link), 0};
  }
  return found;
}

bool TieredLinkCache::keep_in_l1(LinkCache& l1, std::string_view slug, const RedisLookup& remote,
                                 std::uint64_t ticket) {
  switch (remote.outcome) {
    case Outcome::hit:
      bump(l2_hits_);
      l1.put(remote.link, ticket);
      return true;
    case Outcome::negative:
      bump(l2_negative_hits_);
      l1.put_negative(slug, ticket);
      return true;
    case Outcome::miss:
      break;
  }
  return false;
}

void TieredLinkCache::put(CachedLinkPtr link, std::uint64_t ticket) {
  if (((ticket >> kEpochShift) & kEpochMask) ==
      (epoch_.load(std::memory_order_acquire) & kEpochMask))
    l1_.load(std::memory_order_acquire)->put(link, ticket & kL1Mask);
  if ((ticket & kVersionKnown) != 0 &&
      !l2_.store(*link, static_cast<std::uint16_t>(ticket >> kVersionShift)))
    bump(l2_errors_);
}

void TieredLinkCache::put_negative(std::string_view slug, std::uint64_t ticket) {
  if (((ticket >> kEpochShift) & kEpochMask) ==
      (epoch_.load(std::memory_order_acquire) & kEpochMask))
    l1_.load(std::memory_order_acquire)->put_negative(slug, ticket & kL1Mask);
  if ((ticket & kVersionKnown) != 0 &&
      !l2_.store_negative(slug, static_cast<std::uint16_t>(ticket >> kVersionShift)))
    bump(l2_errors_);
}

void TieredLinkCache::invalidate(std::string_view slug) {
  l1_.load(std::memory_order_acquire)->invalidate(slug);
  if (l2_.remove(slug)) return;
  bump(l2_errors_);
  std::lock_guard lock(pending_mutex_);
  pending_.emplace(slug);
}

void TieredLinkCache::on_message(std::string_view slug) {
  bump(received_);
  l1_.load(std::memory_order_acquire)->invalidate(slug);
}

void TieredLinkCache::flush_l1() {
  auto fresh = make_l1_();
  std::lock_guard lock(l1_mutex_);
  l1_.store(fresh.get(), std::memory_order_release);
  epoch_.fetch_add(1, std::memory_order_release);
  retired_.push_back({std::move(owner_), std::chrono::steady_clock::now()});
  owner_ = std::move(fresh);
  bump(flushes_);
}

void TieredLinkCache::maintain() {
  std::unique_lock lock(pending_mutex_);
  while (!stopping_) {
    stop_requested_.wait_for(lock, options_.retry_interval, [this] { return stopping_; });
    lock.unlock();
    retry_invalidations();
    {
      auto cutoff = std::chrono::steady_clock::now() - options_.retired_grace;
      std::lock_guard l1_lock(l1_mutex_);
      std::erase_if(retired_, [&](const Retired& r) { return r.at < cutoff; });
    }
    lock.lock();
  }
}

void TieredLinkCache::retry_invalidations() {
  std::vector<std::string> slugs;
  {
    std::lock_guard lock(pending_mutex_);
    slugs.assign(pending_.begin(), pending_.end());
  }
  for (const std::string& slug : slugs) {
    if (!l2_.remove(slug)) return;  // still down: try again next round
    std::lock_guard lock(pending_mutex_);
    pending_.erase(slug);
  }
}

TieredLinkCacheCounters TieredLinkCache::counters() const {
  std::size_t pending = 0;
  {
    std::lock_guard lock(pending_mutex_);
    pending = pending_.size();
  }
  return {l2_hits_.load(),   l2_negative_hits_.load(), misses_.load(),
          l2_errors_.load(), received_.load(),         pending,
          flushes_.load(),   prefetcher_.counters()};
}

void TieredLinkCache::visit_l1(const std::function<void(const LinkCache&)>& visit) const {
  std::lock_guard lock(l1_mutex_);
  visit(*owner_);
}

}  // namespace shortener
