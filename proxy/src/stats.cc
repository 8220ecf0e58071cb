#include "stats.h"

namespace gantry::proxy {

RouteStats* WorkerStats::route(const routing::Route& route) {
  if (auto it = route_cache_.find(&route); it != route_cache_.end()) return it->second;
  key_.assign(route.source.ns).append("/").append(route.source.name).append("/").append(std::to_string(route.source.rule));
  std::lock_guard lock(mutex_);
  auto& slot = routes_[{route.source.kind, key_}];
  if (!slot) {
    slot = std::make_unique<RouteStats>();
    slot->kind = route.source.kind;
    slot->name = key_;
  }
  route_cache_.emplace(&route, slot.get());
  return slot.get();
}

BackendStats* WorkerStats::backend(const routing::Snapshot& snapshot, uint32_t cluster) {
  if (cluster >= snapshot.clusters.size()) return nullptr;
  if (cluster_cache_.size() != snapshot.clusters.size()) cluster_cache_.assign(snapshot.clusters.size(), nullptr);
  BackendStats*& cached = cluster_cache_[cluster];
  if (cached) return cached;
  const std::string& name = snapshot.clusters[cluster].name;
  std::lock_guard lock(mutex_);
  auto& slot = backends_[name];
  if (!slot) {
    slot = std::make_unique<BackendStats>();
    slot->name = name;
  }
  cached = slot.get();
  return cached;
}

ListenerStats* WorkerStats::listener(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = listeners_[name];
  if (!slot) {
    slot = std::make_unique<ListenerStats>();
    slot->name = name;
  }
  return slot.get();
}

RouteStats::ByBackend& WorkerStats::responses(RouteStats& route, const BackendStats* backend) {
  for (auto& b : route.by_backend)
    if (b.backend == backend) return b;
  std::lock_guard lock(mutex_);
  route.by_backend.emplace_back().backend = backend;
  return route.by_backend.back();
}

void WorkerStats::on_snapshot(const routing::Snapshot& snapshot) {
  cluster_cache_.assign(snapshot.clusters.size(), nullptr);
  // An endpoints-only publish shares the listeners, so their routes' addresses hold.
  if (routes_of_ != snapshot.listeners.get()) {
    route_cache_.clear();
    routes_of_ = snapshot.listeners.get();
  }
}

}  // namespace gantry::proxy
