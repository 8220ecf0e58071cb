#include "reconciler.h"

#include <malloc.h>

#include "gantry/common/log.h"

namespace gantry::cmd {

std::optional<std::chrono::steady_clock::time_point> Reconciler::trim_due() const { return trim_after_; }

void Reconciler::trim(std::chrono::steady_clock::time_point now) {
  if (!trim_after_ || now < *trim_after_) return;
  trim_after_.reset();
  malloc_trim(0);
}

void Reconciler::show(const std::map<std::string, std::string>& unbound, const std::vector<std::string>& errors) {
  auto status = status_;
  if (!unbound.empty())
    status = std::make_shared<const controller::StatusItems>(controller::mark_unbound(*status_, *live_->listeners, unbound));
  shown_ = status;
  board_.publish(std::move(status), live_, errors);
  offer_status();
  if (unbound.empty()) bind_retry_after_.reset();
  else bind_retry_after_ = std::chrono::steady_clock::now() + kBindRetry;
}

void Reconciler::retry_binds(std::chrono::steady_clock::time_point now) {
  if (!bind_retry_after_ || now < *bind_retry_after_ || !live_) return;
  auto unbound = pool_.retry_binds();
  if (unbound.empty()) log::info("every listener is bound");
  show(unbound, errors_);
}

void Reconciler::release_retired() {
  if (retiring_ && pool_.caught_up()) retiring_.reset();
}

void Reconciler::reconcile(bool full) {
  auto started = std::chrono::steady_clock::now();
  controller::ChangeReport report = source_.changes();
  for (const auto& n : report.notes) log::info(n);
  for (const auto& e : report.errors) log::error(e + " (the last good version of this file stays in use)");
  board_.set_errors(report.errors);
  // Nothing is published from a half-listed cluster; the first pass after the sync is full.
  if (!source_.synced()) return;
  if (!report.changed && report.status_changed) offer_status();
  if (!report.changed && !full && live_) return;
  const controller::ObjectStore& store = source_.store();
  const bool endpoints_only = !full && live_ && report.changed_kinds == std::set<std::string>{"EndpointSlice"};
  if (endpoints_only) {
    routing::Snapshot next = *live_;  // the listeners are shared, the clusters copied
    if (controller::refresh_endpoints(store, next) == 0) return;
    board_.count_endpoint_update();
    publish(std::move(next), status_, report.errors, "endpoints", started);
    return;
  }
  auto scanned = std::chrono::steady_clock::now();
  const std::string scan_us =
      "scan " + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(scanned - started).count()) + " us, ";
  // HTTPRoutes (and endpoints) only: those routes and the virtual hosts they touch.
  std::set<std::string> routes;
  // Only HTTPRoutes are redone one by one; with GRPCRoutes (whose acceptance an
  // HTTPRoute's hostnames decide) or TLSRoutes in the store, everything is.
  bool routes_only = !full && live_ && state_ && store.grpc_routes.empty() && store.tls_routes.empty();
  for (const std::string& id : report.changed_objects) {
    if (id.starts_with("HTTPRoute/")) routes.insert(id.substr(10));
    else if (!id.starts_with("EndpointSlice/")) routes_only = false;
  }
  if (routes_only && !routes.empty()) {
    controller::TranslateResult result = controller::translate_routes(store, options_, *state_, *live_, routes);
    if (report.changed_kinds.count("EndpointSlice")) controller::refresh_endpoints(store, result.snapshot);
    board_.count_translation(true);
    publish(std::move(result.snapshot), std::make_shared<const controller::StatusItems>(std::move(result.status)),
            report.errors, (scan_us + "routes").c_str(), started);
    return;
  }
  controller::TranslateResult result = controller::translate(store, options_);
  board_.count_translation(false);
  state_ = std::move(result.state);
  publish(std::move(result.snapshot), std::make_shared<const controller::StatusItems>(std::move(result.status)),
          report.errors, (scan_us + "translate").c_str(), started);
}

void Reconciler::publish(routing::Snapshot snapshot, std::shared_ptr<const controller::StatusItems> status,
                         const std::vector<std::string>& errors, const char* how,
                         std::chrono::steady_clock::time_point started) {
  snapshot.version = ++version_;
  auto built = std::chrono::steady_clock::now();
  board_.observe_translation(built - started);
  auto ptr = std::make_shared<const routing::Snapshot>(std::move(snapshot));
  // Whatever is freed here (the snapshot two publishes back, the old status) is freed
  // after the new one is out: a large table takes milliseconds to free.
  routing::SnapshotPtr freed = std::move(retiring_);
  auto old_status = std::move(status_);
  retiring_ = live_;
  live_ = ptr;
  status_ = std::move(status);
  errors_ = errors;
  show(pool_.publish(ptr), errors);
  auto published = std::chrono::steady_clock::now();
  freed.reset();
  old_status.reset();
  trim_after_ = published + kTrimAfterQuiet;
  auto us = [](auto a, auto b) { return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(b - a).count()); };
  log::info("published snapshot version " + std::to_string(version_) + " (" + how + " " + us(started, built) +
            " us, publish " + us(built, published) + " us)");
}

}  // namespace gantry::cmd
