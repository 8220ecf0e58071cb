// Exchange: how one request is answered, decided from what any carrier of a request
// knows (an HTTP/1.1 connection today, an HTTP/2 stream next): the listener's route for
// the host and the request, the backendRef its weights pick (or the canary), and the
// answers the gateway makes itself (no route, a misdirected request, a CORS preflight, a
// redirect, a refused source address, an invalid or empty backend). No framing, no Beast:
// the carrier reads the head, asks plan_exchange, then writes the answer or forwards.
#pragma once

#include <cstdint>
#include <string_view>

#include "gantry/routing/request_view.h"
#include "gantry/routing/snapshot.h"
#include "proxy_error.h"

namespace gantry::proxy {

// What the carrier knows of the request before its body.
struct ExchangeRequest {
  std::string_view host;  // normalized (routing::normalize_host)
  std::string_view sni;   // the connection's TLS server name, lowercased; empty when plain
  routing::RequestView view;
  const uint8_t* client_addr = nullptr;  // network order, 4 or 16 bytes
  uint8_t client_addr_len = 0;
};

enum class Answer {
  Forward,    // to `cluster`
  Error,      // `error`, with `detail`
  Preflight,  // the route's CORS filter answers it
  Redirect,   // `redirect`
};

struct ExchangePlan {
  Answer answer = Answer::Error;
  ProxyError error = ProxyError::NoRoute;
  std::string_view detail;  // lives in the snapshot
  const routing::Route* route = nullptr;  // set whenever a route matched
  const routing::ListenerScope* scope = nullptr;
  const routing::Filters* backend_filters = nullptr;  // the chosen backendRef's filters
  const routing::Redirect* redirect = nullptr;
  const routing::Cluster* cluster = nullptr;
  uint32_t cluster_index = routing::kInvalidCluster;
};

// Two draws of the worker's generator go in (the weighted pick, the canary), so that the
// plan is a function of its inputs and a table of cases can pin it down.
// `listener`: the connection's, in `snapshot`; null (no snapshot yet, a listener gone) is no route.
ExchangePlan plan_exchange(const routing::Snapshot* snapshot, const routing::Listener* listener,
                           const ExchangeRequest& request, uint64_t pick_draw, uint64_t canary_draw);

// The snapshot's listener bound as `name` ("address:port"), or null.
const routing::Listener* find_listener(const routing::Snapshot& snapshot, std::string_view name);

// OPTIONS with Origin and Access-Control-Request-Method (the Fetch standard's preflight).
bool is_cors_preflight(const routing::RequestView& view);

}  // namespace gantry::proxy
