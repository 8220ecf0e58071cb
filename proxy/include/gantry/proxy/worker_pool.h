// WorkerPool: the data plane's public face. Starts N workers, publishes snapshots to
// them (a post to each worker; no lock on the request path) and drains them on stop.
// No Beast in this header: cmd includes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "gantry/common/prometheus.h"
#include "gantry/proxy/options.h"
#include "gantry/routing/snapshot.h"

namespace gantry::proxy {

class Worker;
class TlsContexts;
class AccessLog;

// An endpoint that outlier detection has taken out of one worker's rotation.
struct EjectedEndpoint {
  std::string endpoint;  // "host:port"
  int worker = 0;
  int64_t remaining_ms = 0;
  uint32_t ejections = 0;  // this one included; each doubles the time out
};

class WorkerPool {
 public:
  explicit WorkerPool(ProxyOptions options);
  ~WorkerPool();

  void start();
  // Binds the snapshot's new listeners (one socket per worker) before any worker sees
  // it, then hands it to every worker. Returns the listeners that could not be bound
  // ("address:port" -> why): the snapshot is published without them, and a later publish
  // (or retry_binds) tries them again.
  std::map<std::string, std::string> publish(routing::SnapshotPtr snapshot);
  std::map<std::string, std::string> retry_binds();
  // Stops accepting, lets in-flight requests finish within drain_timeout, then stops.
  void drain_and_stop();

  // True once every worker runs the newest snapshot with every listener bound.
  bool ready() const;
  // True once every worker has switched to the newest snapshot (bound or not).
  bool caught_up() const;
  std::vector<std::string> bind_errors() const;
  // The data plane's metric families (metrics.cc), each worker's series summed.
  void write_metrics(prom::Exposition& out) const;
  std::vector<EjectedEndpoint> ejected() const;

 private:
  ProxyOptions options_;
  std::unique_ptr<AccessLog> access_log_;  // outlives the workers that write to it
  std::vector<std::unique_ptr<Worker>> workers_;
  uint64_t published_ = 0;
  std::atomic<uint64_t> tls_built_{0};
  routing::SnapshotPtr last_;
  std::shared_ptr<const TlsContexts> tls_;  // of the last published snapshot's listeners
  std::set<std::string> bound_;             // listeners whose sockets the workers hold
  mutable std::mutex failures_mutex_;       // failures_ is read by the admin thread
  std::map<std::string, std::string> failures_;
};

}  // namespace gantry::proxy
