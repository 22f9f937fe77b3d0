// Prometheus text exposition for the app's own series: single-value metrics and fixed-bucket
// histograms that are cheap to observe from any thread (relaxed atomic adds).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shortener::metrics {

// Appends `# HELP`, `# TYPE` and one sample. `type`: "counter" or "gauge".
void append(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value);
// The same with one label: name{label="value"}; the value is escaped.
void append_labelled(std::string& out, std::string_view name, std::string_view type,
                     std::string_view help, std::string_view label, std::string_view label_value,
                     double value);
std::string escape_label(std::string_view value);

// A histogram with N upper bounds (ascending, in the unit the series reports).
template <std::size_t N>
class Histogram {
 public:
  explicit constexpr Histogram(std::array<double, N> bounds) : bounds_(bounds) {}

  void observe(double value) {
    std::size_t i = 0;
    while (i < N && value > bounds_[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);  // [N]: above the last bound
    // Sums are kept in millionths so they can be atomic integers.
    sum_micro_.fetch_add(static_cast<std::uint64_t>(value * 1e6), std::memory_order_relaxed);
  }

  void render(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::array<double, N> bounds_;
  std::array<std::atomic<std::uint64_t>, N + 1> buckets_{};
  std::atomic<std::uint64_t> sum_micro_{0};
};

void render_histogram(std::string& out, std::string_view name, std::string_view help,
                      const double* bounds, const std::uint64_t* counts, std::size_t n, double sum);

template <std::size_t N>
void Histogram<N>::render(std::string& out, std::string_view name, std::string_view help) const {
  std::array<std::uint64_t, N + 1> counts;
  for (std::size_t i = 0; i <= N; ++i) counts[i] = buckets_[i].load(std::memory_order_relaxed);
  render_histogram(out, name, help, bounds_.data(), counts.data(), N,
                   static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6);
}

}  // namespace shortener::metrics
