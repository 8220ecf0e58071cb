// Per-worker statistics: counters written by the worker's own thread only and read by the
// admin thread at scrape, where they are summed across workers. A counter is a relaxed
// load and store (no locked instruction, no shared cache line between workers); a series
// is made the first time a route, backend or listener is met, under a mutex that only
// that and a scrape take, never a request once the series exists.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gantry/common/prometheus.h"
#include "gantry/routing/snapshot.h"

namespace gantry::proxy {

class LocalCounter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class LocalHistogram {
 public:
  void observe_us(uint64_t us) {
    counts_[prom::bucket_of_us(us)].add();
    sum_us_.add(us);
  }
  void add_to(prom::Histogram& h) const {
    for (size_t i = 0; i < counts_.size(); ++i) h.counts[i] += counts_[i].get();
    h.sum += static_cast<double>(sum_us_.get()) / 1e6;
  }

 private:
  std::array<LocalCounter, prom::kSecondsBounds.size() + 1> counts_;
  LocalCounter sum_us_;
};

// Responses by status class: [1]=1xx ... [5]=5xx ([0] unused).
using ClassCounters = std::array<LocalCounter, 6>;
inline void count_class(ClassCounters& c, unsigned status) {
  if (status / 100 < 6) c[status / 100].add();
}

// A Service port (a snapshot Cluster, by name).
struct BackendStats {
  std::string name;
  LocalCounter connects, connect_failures, reuses, overflows, ejections;
  LocalCounter opened, closed;  // active connections: opened - closed
};

// A route rule ("namespace/name/rule" of an HTTPRoute or an Ingress).
struct RouteStats {
  std::string kind, name;
  struct ByBackend {
    const BackendStats* backend = nullptr;  // null: answered without one (redirect, error)
    ClassCounters responses;
  };
  std::deque<ByBackend> by_backend;  // a few per rule; a deque so that entries never move
  LocalHistogram duration, upstream;
  LocalCounter bytes_in, bytes_out, retries;
};

// A bound listener ("address:port").
struct ListenerStats {
  std::string name;
  LocalCounter accepted, closed, refused, tls_handshakes, tls_failures;
};

class WorkerStats {
 public:
  // The worker thread, per request or connection: the series of what it met, made on first use.
  RouteStats* route(const routing::Route& route);
  BackendStats* backend(const routing::Snapshot& snapshot, uint32_t cluster);
  ListenerStats* listener(const std::string& name);
  RouteStats::ByBackend& responses(RouteStats& route, const BackendStats* backend);
  // A new snapshot: clusters are found again by name (their indexes are the snapshot's);
  // routes keep their series ids, and the series themselves stay.
  void on_snapshot(const routing::Snapshot& snapshot);

  // The admin thread: `f` sees every series under the mutex.
  template <class F>
  void read(F&& f) const {
    std::lock_guard lock(mutex_);
    f(routes_, backends_, listeners_);
  }
  using Routes = std::map<std::pair<std::string, std::string>, std::unique_ptr<RouteStats>>;
  using Backends = std::map<std::string, std::unique_ptr<BackendStats>>;
  using Listeners = std::map<std::string, std::unique_ptr<ListenerStats>>;

 private:
  mutable std::mutex mutex_;
  Routes routes_;
  Backends backends_;
  Listeners listeners_;
  // Worker thread only: what the pinned snapshot's routes and clusters map to.
  std::vector<RouteStats*> by_series_;  // by Route::series: the same in every snapshot
  std::vector<BackendStats*> cluster_cache_;
  std::string key_;
};

}  // namespace gantry::proxy
