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
  ++publishes_;
}
uint64_t StatusBoard::publishes() const {
  std::lock_guard lock(mutex_);
  return publishes_;
}
void StatusBoard::observe_translation(std::chrono::steady_clock::duration took) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  std::lock_guard lock(mutex_);
  translation_seconds_.counts[prom::bucket_of_us(static_cast<uint64_t>(us))]++;
  translation_seconds_.sum += static_cast<double>(us) / 1e6;
}
prom::Histogram StatusBoard::translation_seconds() const {
  std::lock_guard lock(mutex_);
  return translation_seconds_;
}
std::pair<uint64_t, double> StatusBoard::published() const {
  std::lock_guard lock(mutex_);
  return {snapshot_ ? snapshot_->version : 0, published_at_};
}

namespace {
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
    // Shadowed rules are found when status is asked for, once per published status.
    if (status_ && snapshot_ && marked_from_ != status_) {
      marked_from_ = status_;
      marked_ = std::make_shared<const controller::StatusItems>(controller::mark_shadowed(*status_, *snapshot_->listeners));
    }
    items = status_ ? marked_ : nullptr;
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
    prom::Exposition out;
    pool_.write_metrics(out);
    out.single("gantry_config_errors", "gauge", "Manifests or objects that could not be read (the last good config serves).",
               static_cast<uint64_t>(board_.errors().size()));
    auto [version, at] = board_.published();
    out.single("gantry_snapshot_version", "gauge", "The version of the snapshot the workers serve.", version);
    out.single("gantry_snapshot_published_timestamp_seconds", "gauge", "When the live snapshot was published (Unix time).",
               at);
    out.single("gantry_snapshot_publishes_total", "counter", "Snapshots published to the workers.", board_.publishes());
    out.single("gantry_translations_total", "counter", "Translations of the object store into a snapshot.",
               board_.translations());
    out.single("gantry_route_translations_total", "counter",
               "Translations that redid only the changed HTTPRoutes (counted in gantry_translations_total too).",
               board_.route_translations());
    out.single("gantry_endpoint_updates_total", "counter", "Snapshots that changed only endpoints (EndpointSlices).",
               board_.endpoint_updates());
    out.family("gantry_translation_duration_seconds", "histogram",
               "Time to make a snapshot from the changes seen: source scan and translation.");
    out.histogram("gantry_translation_duration_seconds", {}, board_.translation_seconds());
    std::string& text = out.text();
    {
      std::lock_guard lock(more_mutex_);
      if (more_metrics_) text += more_metrics_();
    }
    res.set_content(text, "text/plain; version=0.0.4");
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
