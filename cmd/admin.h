// Admin server (cpp-httplib, its own thread): /healthz, /readyz, /status, /config_dump,
// /metrics. It reads what the reconcile loop last published and the proxy's counters.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <utility>
#include <mutex>
#include <string>
#include <thread>

#include <boost/json/array.hpp>

#include "gantry/common/prometheus.h"
#include "gantry/common/result.h"
#include "gantry/controller/translate/translator.h"
#include "gantry/proxy/worker_pool.h"
#include "gantry/routing/snapshot.h"

namespace httplib { class Server; }

namespace gantry::cmd {

// What the reconcile loop publishes for the admin server, serialized only when asked
// for: a route change does not pay for a dump nobody reads. The mutex is taken by the
// reconcile loop and the admin thread only, never on the request path.
class StatusBoard {
 public:
  void publish(std::shared_ptr<const controller::StatusItems> status, routing::SnapshotPtr snapshot,
               std::vector<std::string> errors);
  void set_errors(std::vector<std::string> errors);
  std::string status() const;
  // The live snapshot, and the endpoints outlier detection has ejected (live state, not
  // part of the snapshot: "ejectedEndpoints").
  std::string config(const std::vector<proxy::EjectedEndpoint>& ejected) const;
  std::vector<std::string> errors() const;
  routing::SnapshotPtr snapshot() const;
  // How each publish was made: a translation, or endpoints only (EndpointSlice changes).
  // `routes_only`: only the changed HTTPRoutes were translated (counted in both).
  void count_translation(bool routes_only) {
    translations_.fetch_add(1, std::memory_order_relaxed);
    if (routes_only) route_translations_.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t route_translations() const { return route_translations_.load(std::memory_order_relaxed); }
  void count_endpoint_update() { endpoint_updates_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t translations() const { return translations_.load(std::memory_order_relaxed); }
  uint64_t endpoint_updates() const { return endpoint_updates_.load(std::memory_order_relaxed); }
  // The live snapshot's version and when it was published (Unix seconds); 0 before the first.
  std::pair<uint64_t, double> published() const;
  uint64_t publishes() const;
  // How long a snapshot took to make (translation, or endpoints only), source scan included.
  void observe_translation(std::chrono::steady_clock::duration took);
  prom::Histogram translation_seconds() const;

 private:
  std::atomic<uint64_t> translations_{0}, route_translations_{0}, endpoint_updates_{0};
  double published_at_ = 0;
  uint64_t publishes_ = 0;
  prom::Histogram translation_seconds_;
  mutable std::mutex mutex_;
  std::shared_ptr<const controller::StatusItems> status_;
  // status_ with its shadowed rules marked, made from marked_from_ when first asked for.
  mutable std::shared_ptr<const controller::StatusItems> marked_from_, marked_;
  routing::SnapshotPtr snapshot_;
  std::vector<std::string> errors_;
};

class Admin {
 public:
  Admin(const StatusBoard& board, const proxy::WorkerPool& pool);
  ~Admin();
  Result<bool> start(const std::string& address);  // "host:port"
  void stop();
  // More /metrics lines (cluster mode's status writes and leadership), from any time on.
  void add_metrics(std::function<std::string()> more) {
    std::lock_guard lock(more_mutex_);
    more_metrics_ = std::move(more);
  }

 private:
  const StatusBoard& board_;
  const proxy::WorkerPool& pool_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex more_mutex_;
  std::function<std::string()> more_metrics_;
};

}  // namespace gantry::cmd
