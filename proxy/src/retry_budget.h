// RetryBudget: a route's retry policy (HTTPRouteRule.retry) over one exchange's tries,
// shared by the HTTP/1.1 forwarder and HTTP/2 streams: how many retries are left, the
// backoff before the next, and none that could only start after timeouts.request.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

#include "asio.h"
#include "gantry/routing/filters.h"

namespace gantry::proxy {

// RFC 9110 section 9.2.2: sent twice, these mean what they mean once.
inline bool idempotent(http::verb m) {
  return m == http::verb::get || m == http::verb::head || m == http::verb::options || m == http::verb::trace ||
         m == http::verb::put || m == http::verb::delete_;
}

class RetryBudget {
 public:
  // `whole`: the request can be sent again (no body, or all of it in hand).
  RetryBudget(const routing::RetryPolicy& policy, bool whole, Clock::time_point request_deadline)
      : policy_(policy), left_(whole ? policy.attempts : 0), deadline_(request_deadline) {}

  uint32_t left() const { return left_; }
  bool listed(unsigned status) const {
    return left_ > 0 && std::find(policy_.codes.begin(), policy_.codes.end(), status) != policy_.codes.end();
  }
  // The backoff before another try, taking one retry; nothing when none is left or the
  // try would start past the deadline (then `timed_out`).
  std::optional<std::chrono::milliseconds> take(uint64_t random) {
    if (left_ == 0) return std::nullopt;
    const std::chrono::milliseconds wait{routing::retry_backoff_ms(policy_, policy_.attempts - left_, random)};
    if (deadline_ != Clock::time_point::max() && Clock::now() + wait >= deadline_) {
      timed_out = true;
      return std::nullopt;
    }
    --left_;
    return wait;
  }
  bool timed_out = false;

 private:
  const routing::RetryPolicy& policy_;
  uint32_t left_;
  Clock::time_point deadline_;
};

}  // namespace gantry::proxy
