// The Prometheus text exposition format (version 0.0.4): metric families with their HELP
// and TYPE lines, samples with escaped label values, histograms with cumulative buckets.
// Shared by the proxy (its counters) and the admin server (the controller's).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace gantry::prom {

// Upper bounds, in seconds, of the latency histograms' buckets (+Inf is implied): from
// half a millisecond, where a loopback proxy hop lives, to ten seconds.
inline constexpr std::array<double, 14> kSecondsBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                          0.1,    0.25,  0.5,    1,     2.5,   5,    10};

// A histogram's observations per bucket (not cumulative; the last is +Inf) and their sum.
struct Histogram {
  std::array<uint64_t, kSecondsBounds.size() + 1> counts{};
  double sum = 0;  // seconds
  uint64_t count() const;
  void add(const Histogram& other);
};

// The bucket an observation of `us` microseconds falls in.
size_t bucket_of_us(uint64_t us);

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class Exposition {
 public:
  // Starts a family; the samples written after it are its own. type: counter, gauge, histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, uint64_t value);
  void sample(std::string_view name, Labels labels, double value);
  void histogram(std::string_view name, Labels labels, const Histogram& h);
  // A family with one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help, uint64_t value);
  void single(std::string_view name, std::string_view type, std::string_view help, double value);
  std::string& text() { return out_; }

 private:
  void head(std::string_view name, Labels labels, std::string_view extra_name = {}, std::string_view extra = {});
  std::string out_;
};

}  // namespace gantry::prom
