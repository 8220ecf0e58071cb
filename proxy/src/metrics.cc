// The data plane's /metrics families: each worker's series summed by their labels at
// scrape. Label values are route rules, Service ports and bound listeners (finite, from
// the configuration), never a request's path or Host.
#include <map>

#include "gantry/proxy/worker_pool.h"
#include "access_log.h"
#include "worker.h"

namespace gantry::proxy {
namespace {

const char* const kClass[6] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};

struct RouteSum {
  std::map<std::string, std::array<uint64_t, 6>> responses;  // by backend ("" none)
  prom::Histogram duration, upstream;
  uint64_t bytes_in = 0, bytes_out = 0, retries = 0;
};
struct BackendSum {
  uint64_t connects = 0, connect_failures = 0, reuses = 0, overflows = 0, ejections = 0;
  int64_t active = 0;
};
struct ListenerSum {
  uint64_t accepted = 0, refused = 0, tls_handshakes = 0, tls_failures = 0;
  int64_t active = 0;
};

struct Sums {
  uint64_t requests = 0, mirrors_sent = 0, mirrors_skipped = 0;
  std::array<uint64_t, 6> responses{};
  std::map<std::pair<std::string, std::string>, RouteSum> routes;
  std::map<std::string, BackendSum> backends;
  std::map<std::string, ListenerSum> listeners;
};

void add(Sums& s, const Worker& w) {
  const WorkerCounters& c = w.counters();
  s.requests += c.requests.get();
  s.mirrors_sent += c.mirrors_sent.get();
  s.mirrors_skipped += c.mirrors_skipped.get();
  for (size_t i = 0; i < 6; ++i) s.responses[i] += c.responses[i].get();
  w.stats().read([&](const WorkerStats::Routes& routes, const WorkerStats::Backends& backends,
                     const WorkerStats::Listeners& listeners) {
    for (const auto& [key, r] : routes) {
      RouteSum& sum = s.routes[key];
      for (const auto& b : r->by_backend) {
        auto& counts = sum.responses[b.backend ? b.backend->name : std::string()];
        for (size_t i = 0; i < 6; ++i) counts[i] += b.responses[i].get();
      }
      r->duration.add_to(sum.duration);
      r->upstream.add_to(sum.upstream);
      sum.bytes_in += r->bytes_in.get();
      sum.bytes_out += r->bytes_out.get();
      sum.retries += r->retries.get();
    }
    for (const auto& [name, b] : backends) {
      BackendSum& sum = s.backends[name];
      sum.connects += b->connects.get();
      sum.connect_failures += b->connect_failures.get();
      sum.reuses += b->reuses.get();
      sum.overflows += b->overflows.get();
      sum.ejections += b->ejections.get();
      sum.active += static_cast<int64_t>(b->opened.get() - b->closed.get());
    }
    for (const auto& [name, l] : listeners) {
      ListenerSum& sum = s.listeners[name];
      sum.accepted += l->accepted.get();
      sum.refused += l->refused.get();
      sum.tls_handshakes += l->tls_handshakes.get();
      sum.tls_failures += l->tls_failures.get();
      sum.active += static_cast<int64_t>(l->accepted.get() - l->closed.get());
    }
  });
}

template <class Map, class Get>
void per_key(prom::Exposition& out, const Map& map, std::string_view name, std::string_view label, Get get) {
  for (const auto& [key, v] : map) out.sample(name, {{label, key}}, static_cast<uint64_t>(get(v)));
}

}  // namespace

void WorkerPool::write_metrics(prom::Exposition& out) const {
  Sums s;
  for (const auto& w : workers_) add(s, *w);

  out.single("gantry_requests_total", "counter", "Requests whose head was read, routed or not.", s.requests);
  out.family("gantry_responses_total", "counter", "Responses sent downstream, by status class.");
  for (int i = 1; i < 6; ++i) out.sample("gantry_responses_total", {{"status_class", kClass[i]}}, s.responses[i]);

  out.family("gantry_downstream_connections_total", "counter", "Client connections accepted, by bound listener.");
  per_key(out, s.listeners, "gantry_downstream_connections_total", "listener", [](auto& l) { return l.accepted; });
  out.family("gantry_downstream_connections_active", "gauge", "Client connections open now, by bound listener.");
  per_key(out, s.listeners, "gantry_downstream_connections_active", "listener", [](auto& l) { return l.active; });
  out.family("gantry_downstream_connections_refused_total", "counter",
             "Client connections closed at once because --max-connections was reached.");
  per_key(out, s.listeners, "gantry_downstream_connections_refused_total", "listener",
          [](auto& l) { return l.refused; });
  out.family("gantry_tls_handshakes_total", "counter", "TLS handshakes begun on HTTPS listeners.");
  per_key(out, s.listeners, "gantry_tls_handshakes_total", "listener", [](auto& l) { return l.tls_handshakes; });
  out.family("gantry_tls_handshake_failures_total", "counter", "TLS handshakes that failed or timed out.");
  per_key(out, s.listeners, "gantry_tls_handshake_failures_total", "listener", [](auto& l) { return l.tls_failures; });

  out.family("gantry_route_responses_total", "counter",
             "Responses to requests a route rule matched, by rule, backend (empty: answered without one) and "
             "status class.");
  for (const auto& [key, r] : s.routes)
    for (const auto& [backend, counts] : r.responses)
      for (int i = 1; i < 6; ++i)
        if (counts[i])
          out.sample("gantry_route_responses_total",
                     {{"kind", key.first}, {"route", key.second}, {"backend", backend}, {"status_class", kClass[i]}},
                     counts[i]);
  out.family("gantry_route_request_duration_seconds", "histogram",
             "Time from a request's head to the end of its response, by route rule.");
  for (const auto& [key, r] : s.routes)
    out.histogram("gantry_route_request_duration_seconds", {{"kind", key.first}, {"route", key.second}}, r.duration);
  out.family("gantry_route_upstream_response_seconds", "histogram",
             "Time from sending a request upstream to its response head, by route rule (the last try).");
  for (const auto& [key, r] : s.routes)
    out.histogram("gantry_route_upstream_response_seconds", {{"kind", key.first}, {"route", key.second}}, r.upstream);
  out.family("gantry_route_request_body_bytes_total", "counter", "Request body bytes read from clients, by route rule.");
  for (const auto& [key, r] : s.routes)
    out.sample("gantry_route_request_body_bytes_total", {{"kind", key.first}, {"route", key.second}}, r.bytes_in);
  out.family("gantry_route_response_body_bytes_total", "counter", "Response body bytes sent to clients, by route rule.");
  for (const auto& [key, r] : s.routes)
    out.sample("gantry_route_response_body_bytes_total", {{"kind", key.first}, {"route", key.second}}, r.bytes_out);
  out.family("gantry_route_retries_total", "counter", "Upstream tries beyond the first, by route rule.");
  for (const auto& [key, r] : s.routes)
    out.sample("gantry_route_retries_total", {{"kind", key.first}, {"route", key.second}}, r.retries);

  out.family("gantry_upstream_connects_total", "counter", "Upstream connections opened, by backend (namespace/service:port).");
  per_key(out, s.backends, "gantry_upstream_connects_total", "backend", [](auto& b) { return b.connects; });
  out.family("gantry_upstream_connect_failures_total", "counter", "Upstream connects that failed or timed out.");
  per_key(out, s.backends, "gantry_upstream_connect_failures_total", "backend", [](auto& b) { return b.connect_failures; });
  out.family("gantry_upstream_reuses_total", "counter", "Requests sent on a pooled keep-alive upstream connection.");
  per_key(out, s.backends, "gantry_upstream_reuses_total", "backend", [](auto& b) { return b.reuses; });
  out.family("gantry_upstream_connections_active", "gauge", "Upstream connections open now, idle or busy.");
  per_key(out, s.backends, "gantry_upstream_connections_active", "backend", [](auto& b) { return b.active; });
  out.family("gantry_upstream_overflows_total", "counter",
             "Requests refused a new connection because --max-upstream-connections was reached.");
  per_key(out, s.backends, "gantry_upstream_overflows_total", "backend", [](auto& b) { return b.overflows; });
  out.family("gantry_upstream_ejections_total", "counter", "Endpoints ejected by outlier detection.");
  per_key(out, s.backends, "gantry_upstream_ejections_total", "backend", [](auto& b) { return b.ejections; });
  out.single("gantry_upstream_ejected_endpoints", "gauge", "Endpoints out of rotation now (per worker).",
             static_cast<uint64_t>(ejected().size()));

  out.family("gantry_mirror_requests_total", "counter",
             "RequestMirror copies: sent, or skipped (body over the bound, too many in flight).");
  out.sample("gantry_mirror_requests_total", {{"result", "sent"}}, s.mirrors_sent);
  out.sample("gantry_mirror_requests_total", {{"result", "skipped"}}, s.mirrors_skipped);
  out.single("gantry_access_log_lines_total", "counter", "Access log lines written to the sink.",
             access_log_ ? access_log_->written() : 0);
  out.single("gantry_access_log_dropped_total", "counter", "Access log lines dropped because the sink was too slow.",
             access_log_ ? access_log_->dropped() : 0);
  out.single("gantry_tls_contexts_built_total", "counter",
             "TLS contexts made from certificate PEM (unchanged certificates are reused).",
             tls_built_.load(std::memory_order_relaxed));
}

}  // namespace gantry::proxy
