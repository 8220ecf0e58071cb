// ProxyOptions: data-plane limits and timeouts. Defaults suit an edge proxy.
#pragma once

#include <vector>

#include <chrono>
#include <cstddef>

namespace gantry::proxy {

using Millis = std::chrono::milliseconds;

struct ProxyOptions {
  int workers = 1;
  // Worker i runs on CPU cpu_affinity[i % size] (--cpu-affinity); empty: wherever the
  // kernel puts it.
  std::vector<int> cpu_affinity;
  Millis header_timeout{10'000};        // whole request header (slowloris guard)
  Millis idle_timeout{60'000};          // keep-alive between requests, and body read stalls
  Millis connect_timeout{5'000};        // upstream TCP connect
  Millis response_timeout{60'000};      // upstream response header, and body read stalls
  Millis upstream_idle_timeout{60'000}; // a pooled connection older than this is closed
  Millis drain_timeout{10'000};         // SIGTERM: in-flight requests get this long
  size_t header_limit = 64 * 1024;      // beyond it: 431
  size_t relay_buffer = 16 * 1024;      // body bytes in flight per direction
  size_t mirror_body_limit = 1 << 20;   // RequestMirror: larger bodies are not mirrored
  size_t request_buffer = 64 * 1024;    // bodies up to this are read whole before forwarding
  uint64_t max_body_size = 0;           // request body bytes where a route sets none; beyond: 413; 0: none
  size_t max_idle_per_endpoint = 256;   // per worker
  size_t max_per_endpoint = 1024;       // open upstream connections per endpoint per worker; 0: no limit
  uint32_t eject_after = 5;             // consecutive upstream failures that eject an endpoint; 0: never
  Millis base_ejection{30'000};         // the first ejection; each next one doubles, up to max_ejection
  Millis max_ejection{300'000};
  Millis body_timeout{60'000};          // a request body that sends nothing for this long: 408
  Millis write_timeout{60'000};         // a client that takes nothing of a response for this long is cut off
  size_t max_connections = 20'000;     // per worker; beyond it a connection is refused at once
  size_t max_headers = 100;             // header fields in one request; beyond it: 431
  size_t max_target = 8 * 1024;         // request-target bytes; beyond it: 414
  int access_log_fd = -1;               // one JSON line per request goes here; -1: no access log
  bool normalize_paths = true;          // README "Security": dot segments, percent-encoding
  bool merge_slashes = true;            // "//" is "/" (with normalize_paths)
};

}  // namespace gantry::proxy
