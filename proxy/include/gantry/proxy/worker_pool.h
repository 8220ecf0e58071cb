// WorkerPool: the data plane's public face. Starts N workers, publishes snapshots to
// them (a post to each worker; no lock on the request path) and drains them on stop.
// No Beast in this header: cmd includes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gantry/proxy/options.h"
#include "gantry/routing/snapshot.h"

namespace gantry::proxy {

class Worker;
class TlsContexts;

struct Counters {
  uint64_t connections = 0;
  uint64_t requests = 0;
  uint64_t responses[6] = {};  // by class: [1]=1xx ... [5]=5xx
  uint64_t upstream_connects = 0;
  uint64_t upstream_reuses = 0;
  uint64_t mirrors_sent = 0;     // RequestMirror copies sent
  uint64_t mirrors_skipped = 0;  // not sent: body over the bound, or too many in flight
  uint64_t tls_handshake_failures = 0;
};

class WorkerPool {
 public:
  explicit WorkerPool(ProxyOptions options);
  ~WorkerPool();

  void start();
  void publish(routing::SnapshotPtr snapshot);
  // Stops accepting, lets in-flight requests finish within drain_timeout, then stops.
  void drain_and_stop();

  // True once every worker runs the newest snapshot with every listener bound.
  bool ready() const;
  // True once every worker has switched to the newest snapshot (bound or not).
  bool caught_up() const;
  std::vector<std::string> bind_errors() const;
  Counters counters() const;

 private:
  ProxyOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  uint64_t published_ = 0;
  std::shared_ptr<const TlsContexts> tls_;  // of the last published snapshot's listeners
};

}  // namespace gantry::proxy
