#include "admin.h"

#include <httplib.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "gantry/controller/dump.h"

namespace gantry::cmd {

void StatusBoard::publish(std::shared_ptr<const controller::StatusItems> status, routing::SnapshotPtr snapshot,
                          std::vector<std::string> errors) {
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::lock_guard lock(mutex_);
  status_ = std::move(status);
  snapshot_ = std::move(snapshot);
  errors_ = std::move(errors);
  published_at_ = now;
}
std::pair<uint64_t, double> StatusBoard::published() const {
  std::lock_guard lock(mutex_);
  return {snapshot_ ? snapshot_->version : 0, published_at_};
}

namespace {
// One unlabelled sample with its TYPE line.
void sample(std::string& out, const char* name, const char* type, uint64_t value) {
  out += "# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

std::string rfc3339(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>((unix_seconds - static_cast<double>(t)) * 1000));
  return std::string(buf) + frac;
}
}  // namespace
void StatusBoard::set_errors(std::vector<std::string> errors) {
  std::lock_guard lock(mutex_);
  errors_ = std::move(errors);
}
std::string StatusBoard::status() const {
  std::shared_ptr<const controller::StatusItems> items;
  std::vector<std::string> errors;
  auto [version, at] = published();
  {
    std::lock_guard lock(mutex_);
    items = status_;
    errors = errors_;
  }
  // ListMeta: the snapshot version as the list's resourceVersion, and when it went live;
  // and the manifests that could not be read ("file:line: message"; their last good
  // objects are still in use).
  boost::json::array config_errors;
  for (const auto& e : errors) config_errors.push_back(boost::json::string(e));
  boost::json::object list{{"apiVersion", "v1"},
                           {"kind", "List"},
                           {"metadata", boost::json::object{{"resourceVersion", std::to_string(version)},
                                                            {"publishedAt", at > 0 ? rfc3339(at) : ""},
                                                            {"configErrors", std::move(config_errors)}}}};
  list["items"] = items ? controller::to_array(*items) : boost::json::array{};
  return boost::json::serialize(list);
}
std::string StatusBoard::config(const std::vector<proxy::EjectedEndpoint>& ejected) const {
  routing::SnapshotPtr snapshot;
  auto [version, at] = published();
  {
    std::lock_guard lock(mutex_);
    snapshot = snapshot_;
  }
  if (!snapshot) return "{}";
  boost::json::object out{{"version", version}, {"publishedAt", rfc3339(at)}};
  boost::json::value dump = controller::snapshot_to_json(*snapshot);
  for (auto& kv : dump.as_object()) out[kv.key()] = std::move(kv.value());
  boost::json::array ej;
  for (const auto& e : ejected)
    ej.push_back(boost::json::object{{"endpoint", e.endpoint},
                                     {"worker", e.worker},
                                     {"remainingMs", e.remaining_ms},
                                     {"ejections", e.ejections}});
  out["ejectedEndpoints"] = std::move(ej);
  return boost::json::serialize(out);
}
routing::SnapshotPtr StatusBoard::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}
std::vector<std::string> StatusBoard::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

Admin::Admin(const StatusBoard& board, const proxy::WorkerPool& pool)
    : board_(board), pool_(pool), server_(std::make_unique<httplib::Server>()) {}

Admin::~Admin() { stop(); }

Result<bool> Admin::start(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return Error{"--admin: '" + address + "' is not HOST:PORT"};
  std::string host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = std::atoi(address.c_str() + colon + 1);

  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    // In cluster mode nothing is published before every resource's first list is in.
    const bool published = board_.published().first > 0;
    if (published && pool_.ready()) {
      res.set_content("ready\n", "text/plain");
      return;
    }
    std::string body = published ? "not ready\n" : "not ready: no configuration published yet\n";
    for (const auto& e : pool_.bind_errors()) body += e + "\n";
    res.status = 503;
    res.set_content(body, "text/plain");
  });
  server_->Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(board_.status(), "application/json");
  });
  server_->Get("/config_dump", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(board_.config(pool_.ejected()), "application/json");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    proxy::Counters c = pool_.counters();
    std::string out;
    sample(out, "gantry_downstream_connections_total", "counter", c.connections);
    sample(out, "gantry_downstream_connections_refused_total", "counter", c.connections_refused);
    sample(out, "gantry_requests_total", "counter", c.requests);
    out += "# TYPE gantry_responses_total counter\n";
    for (int i = 1; i < 6; ++i)
      out += "gantry_responses_total{class=\"" + std::to_string(i) + "xx\"} " + std::to_string(c.responses[i]) + "\n";
    sample(out, "gantry_upstream_connects_total", "counter", c.upstream_connects);
    sample(out, "gantry_upstream_reuses_total", "counter", c.upstream_reuses);
    sample(out, "gantry_upstream_overflows_total", "counter", c.upstream_overflows);
    sample(out, "gantry_upstream_ejections_total", "counter", c.upstream_ejections);
    sample(out, "gantry_access_log_lines_total", "counter", c.access_log_lines);
    sample(out, "gantry_access_log_dropped_total", "counter", c.access_log_dropped);
    sample(out, "gantry_upstream_ejected_endpoints", "gauge", pool_.ejected().size());
    out += "# TYPE gantry_mirror_requests_total counter\ngantry_mirror_requests_total{result=\"sent\"} " +
           std::to_string(c.mirrors_sent) + "\ngantry_mirror_requests_total{result=\"skipped\"} " +
           std::to_string(c.mirrors_skipped) + "\n";
    sample(out, "gantry_tls_handshake_failures_total", "counter", c.tls_handshake_failures);
    sample(out, "gantry_tls_contexts_built_total", "counter", c.tls_contexts_built);
    out += "# TYPE gantry_config_errors gauge\ngantry_config_errors " + std::to_string(board_.errors().size()) + "\n";
    auto [version, at] = board_.published();
    out += "# TYPE gantry_snapshot_version gauge\ngantry_snapshot_version " + std::to_string(version) + "\n";
    out += "# TYPE gantry_snapshot_published_timestamp_seconds gauge\ngantry_snapshot_published_timestamp_seconds " +
           std::to_string(at) + "\n";
    out += "# TYPE gantry_translations_total counter\ngantry_translations_total " + std::to_string(board_.translations()) + "\n";
    out += "# TYPE gantry_route_translations_total counter\ngantry_route_translations_total " +
           std::to_string(board_.route_translations()) + "\n";
    out += "# TYPE gantry_endpoint_updates_total counter\ngantry_endpoint_updates_total " +
           std::to_string(board_.endpoint_updates()) + "\n";
    {
      std::lock_guard lock(more_mutex_);
      if (more_metrics_) out += more_metrics_();
    }
    res.set_content(out, "text/plain; version=0.0.4");
  });
  if (!server_->bind_to_port(host.c_str(), port)) return Error{"--admin: cannot listen on " + address};
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return true;
}

void Admin::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace gantry::cmd
