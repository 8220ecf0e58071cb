// UpstreamTimeouts: what a route's timeouts (HTTPRouteRule.timeouts and ingress-nginx's
// proxy-*-timeout annotations) mean for one exchange with its upstream: timeouts.request
// bounds the whole exchange, timeouts.backendRequest each try, and the connect, each write
// and each read have their own, all cut to what is left of timeouts.request. The same for
// an HTTP/1.1 request and an HTTP/2 stream.
#pragma once

#include <algorithm>
#include <chrono>

#include "asio.h"
#include "gantry/proxy/options.h"
#include "gantry/routing/filters.h"

namespace gantry::proxy {

struct UpstreamTimeouts {
  using ms = std::chrono::milliseconds;
  UpstreamTimeouts(const routing::Timeouts& t, const ProxyOptions& opt, Clock::time_point started)
      : request_deadline(t.request_ms ? started + ms(t.request_ms) : Clock::time_point::max()),
        try_timeout(t.backend_request_ms ? ms(t.backend_request_ms) : opt.response_timeout),
        send(t.send_ms ? ms(t.send_ms) : try_timeout),
        read(t.read_ms ? ms(t.read_ms) : try_timeout),
        connect(t.connect_ms ? ms(t.connect_ms) : opt.connect_timeout) {}

  // `t`, or what is left of timeouts.request when that is less (at least 1 ms).
  ms bounded(ms t) const {
    if (request_deadline == Clock::time_point::max()) return t;
    auto left = std::chrono::duration_cast<ms>(request_deadline - Clock::now());
    return std::max(ms(1), std::min(t, left));
  }
  bool expired(Clock::time_point now) const { return now >= request_deadline; }

  Clock::time_point request_deadline;
  ms try_timeout, send, read, connect;
};

}  // namespace gantry::proxy
