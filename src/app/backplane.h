// Where a `serve` process keeps what is not in the database: the link cache, creation rate
// limits, the click queue and the live feed. The embedded default keeps all of it in the
// process; production mode keeps it in Redis, shared by every replica and worker.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/click_ports.h"
#include "core/ports.h"
#include "core/rate_limiter.h"
#include "worker/click_enricher.h"
#include "worker/click_pipeline.h"

namespace shortener {

class Backplane {
 public:
  virtual ~Backplane() = default;
  virtual LinkCache& cache() = 0;
  virtual RateLimiter& limiter() = 0;
  virtual ClickQueue& queue() = 0;         // the shipper pushes clicks here
  virtual ClickQueue* worker_queue() = 0;  // in-process click workers pop here; null: none
  virtual LiveFeed& live() = 0;
  virtual SharedSalts* shared_salts() { return nullptr; }
  // Background threads (subscribers, spool replay); after this, serving may begin.
  virtual void start() = 0;
  // Empty when every dependency answers; otherwise what is degraded, for /readyz.
  virtual std::string degraded() const = 0;
  virtual void render_metrics(std::string& out) const = 0;
  // Shutdown, after the shipper handed over every buffered click: lets in-process workers
  // finish until `deadline`, keeps what they could not process, stops background threads.
  virtual void stop(ClickWorkers* workers, std::chrono::steady_clock::time_point deadline) = 0;
};

std::unique_ptr<Backplane> make_embedded_backplane(const ServeConfig& config);
// Connects lazily: Redis may be down at start-up (the replica serves, degraded).
Result<std::unique_ptr<Backplane>> make_redis_backplane(const ServeConfig& config);

}  // namespace shortener
