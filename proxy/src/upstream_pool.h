// UpstreamPool: one worker's view of each upstream endpoint: its idle keep-alive
// connections (reused LIFO: the most recently used is the one most likely still open, as
// in nginx), how many connections it has open, and its passive health (outlier detection:
// consecutive failures eject it for a while, Envoy's consecutive_gateway_failure).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "asio.h"
#include "maybe_tls_stream.h"
#include "gantry/routing/host_index.h"
#include "gantry/routing/snapshot.h"

namespace gantry::proxy {

struct EndpointState;
struct BackendStats;

struct UpstreamConnection {
  // Reads take what the buffer has room for: room for a full relay chunk keeps large
  // bodies moving in few syscalls. `owner` counts it as open until it is destroyed.
  // `stats`: the backend it was opened for, which counts it as active until then.
  UpstreamConnection(asio::io_context& ioc, EndpointState& owner, BackendStats* stats = nullptr);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;
  MaybeTlsStream stream;  // TLS for backend-protocol HTTPS routes
  beast::flat_buffer buffer;
  Clock::time_point idle_since;
  EndpointState* owner;
  BackendStats* stats;
};

using UpstreamPtr = std::unique_ptr<UpstreamConnection>;

struct EndpointState {
  std::string key;  // "host:port", "|tls|sni" appended for TLS upstreams
  std::vector<UpstreamPtr> idle;
  uint32_t open = 0;      // this worker's connections to it, idle or in use
  uint32_t failures = 0;  // consecutive: connect failures, lost or late responses, 502/503/504
  uint32_t ejections = 0; // since it was last healthy for a whole max ejection time
  Clock::time_point ejected_until{};
  bool ejected(Clock::time_point now) const { return now < ejected_until; }
};

// "host:port" written into a caller's buffer: lookups allocate nothing.
std::string_view endpoint_key(const routing::Endpoint& ep, char* buf, size_t cap);

class UpstreamPool;
// An endpoint's entries in the pool: passive health by "host:port" alone, and its
// connections, told apart by the server name too when they speak TLS
// ("host:port|tls|sni"). `key` (in `buf`) names the latter.
struct PoolKey {
  char buf[600];
  std::string_view key;
  EndpointState* health = nullptr;
  EndpointState* connections = nullptr;
  void set(UpstreamPool& pool, const routing::Endpoint& ep, bool tls, std::string_view sni);
};

struct PoolLimits {
  size_t max_idle_per_endpoint = 256;
  size_t max_per_endpoint = 0;  // open connections; 0: no limit
  std::chrono::milliseconds max_idle{60'000};
  // Outlier detection: this many consecutive failures eject an endpoint for base, doubling
  // with each ejection up to max; 0 failures: never eject.
  uint32_t eject_after = 5;
  std::chrono::milliseconds base_ejection{30'000};
  std::chrono::milliseconds max_ejection{300'000};
};

class UpstreamPool {
 public:
  explicit UpstreamPool(PoolLimits limits) : limits_(limits) {}

  // The endpoint's state, made on first use. Stable: states are only dropped by prune().
  EndpointState& state(std::string_view key);
  // nullptr when the endpoint has no such state yet (it was never used).
  const EndpointState* find(std::string_view key) const;
  // An idle connection that is still open, or nullptr.
  // `now`: the caller's clock reading (the request's start, its response's arrival), so
  // the pool reads none of its own.
  UpstreamPtr acquire(EndpointState& st, Clock::time_point now);
  void release(EndpointState& st, UpstreamPtr conn, Clock::time_point now);
  // False when the endpoint already has max_per_endpoint connections open.
  bool may_open(const EndpointState& st) const { return !limits_.max_per_endpoint || st.open < limits_.max_per_endpoint; }
  // Passive health, kept on the state of the plain "host:port" key. A failure that completes a run of eject_after ejects the endpoint,
  // unless every other endpoint of `cluster` is ejected already: the last healthy one
  // keeps serving (a cluster-wide outage is the backend's answer, not an outlier). True
  // when this failure ejected it.
  bool record_failure(EndpointState& st, const routing::Cluster* cluster, Clock::time_point now);
  void record_success(EndpointState& st, Clock::time_point now);
  // Round robin from `start` over the cluster, passing over ejected endpoints (all of
  // them ejected: the one at `start`). Costs nothing while no endpoint is ejected.
  const routing::Endpoint& choose(const routing::Cluster& cluster, uint32_t start) const;
  bool any_ejected() const { return ejections_end_ != Clock::time_point{} && Clock::now() < ejections_end_; }
  void clear();
  // Forgets endpoints with nothing open and nothing to remember (endpoints come and go
  // with pods).
  void prune(Clock::time_point now);

 private:
  bool ejected(const routing::Endpoint& ep, Clock::time_point now) const;

  PoolLimits limits_;
  Clock::time_point ejections_end_{};  // the latest ejected_until of any endpoint
  std::unordered_map<std::string, EndpointState, routing::StringHash, std::equal_to<>> endpoints_;
};

}  // namespace gantry::proxy
