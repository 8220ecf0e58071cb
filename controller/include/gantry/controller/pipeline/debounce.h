// Debounce: when a burst of changes becomes one translation. A translation is due once no
// event has arrived for `hold_off`, or `max_delay` after the first event of the burst, so
// a burst costs one translation and a steady stream of changes still publishes.
#pragma once

#include <chrono>
#include <optional>

namespace gantry::controller {

class Debounce {
 public:
  using Clock = std::chrono::steady_clock;

  Debounce(Clock::duration hold_off, Clock::duration max_delay) : hold_off_(hold_off), max_delay_(max_delay) {}

  void event(Clock::time_point now) {
    if (!first_) first_ = now;
    last_ = now;
  }
  bool pending() const { return first_.has_value(); }
  // When the pending burst is due; nullopt when nothing is pending.
  std::optional<Clock::time_point> due() const {
    if (!first_) return std::nullopt;
    return std::min(last_ + hold_off_, *first_ + max_delay_);
  }
  // True (and the burst consumed) when it is due at `now`.
  bool take(Clock::time_point now) {
    auto d = due();
    if (!d || now < *d) return false;
    first_.reset();
    return true;
  }

 private:
  Clock::duration hold_off_, max_delay_;
  std::optional<Clock::time_point> first_;
  Clock::time_point last_{};
};

}  // namespace gantry::controller
