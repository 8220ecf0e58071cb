#include "stats.h"

#include "gantry/routing/route_series.h"

namespace gantry::proxy {

RouteStats* WorkerStats::route(const routing::Route& route) {
  const uint32_t id = route.series != routing::Route::kNoSeries ? route.series : routing::route_series_id(route.source);
  if (id < by_series_.size() && by_series_[id]) return by_series_[id];
  key_.assign(route.source.ns).append("/").append(route.source.name).append("/").append(std::to_string(route.source.rule));
  std::lock_guard lock(mutex_);
  auto& slot = routes_[{route.source.kind, key_}];
  if (!slot) {
    slot = std::make_unique<RouteStats>();
    slot->kind = route.source.kind;
    slot->name = key_;
  }
  if (id >= by_series_.size()) by_series_.resize(id + 1, nullptr);
  by_series_[id] = slot.get();
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
}

}  // namespace gantry::proxy
