// KubeSource: the objects of a cluster, as the file source gives those of a tree. One
// thread per resource lists it (page by page), then watches from the list's
// resourceVersion; a watch that ends is renewed from the last version seen, a 410 (too
// old) lists again and deletes what the new list no longer holds, and a failing server is
// retried with jittered backoff (never a tight loop). Events queue up until the controller
// thread asks for changes(); wake_fd() is readable while some are waiting.
// Follows client-go's reflector: list, watch, relist on 410.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "gantry/controller/sources/kube_config.h"
#include "gantry/controller/sources/source.h"

namespace gantry::controller {

struct KubeResource {
  std::string kind;  // as the decoder knows it: "Service", "HTTPRoute", ...
  std::string path;  // the collection: "/api/v1/services", "/apis/gateway.networking.k8s.io/v1/httproutes"
};

class KubeSource : public Source {
 public:
  KubeSource(KubeConfig config, std::vector<KubeResource> resources, int watch_timeout_seconds = 300);
  ~KubeSource() override;

  void start();
  int wake_fd() const { return wake_fd_; }
  void drain_wake();  // reads wake_fd() empty (changes() does too)
  // Every resource's first list has been applied by changes() (/readyz waits for it).
  bool synced() const override;
  // An event that changed only an object's status (our own writes coming back, most
  // often) is not a change for translation: it updates observed() alone and is counted in
  // status_events().
  ChangeReport changes() override;
  // What the cluster holds of the objects whose status we write (GatewayClass, Gateway,
  // HTTPRoute, Ingress), by "Kind/namespace/name": controller thread only.
  struct Observed {
    boost::json::value status;     // null when the object has none
    std::string resource_version;  // for a write that must not overwrite a newer object
    std::string path;              // the object's own URL
  };
  const std::map<std::string, Observed>& observed() const { return observed_; }
  // The kinds observed() holds: those whose status gantry writes.
  static bool observes(std::string_view kind) {
    return kind == "GatewayClass" || kind == "Gateway" || kind == "HTTPRoute" || kind == "GRPCRoute" || kind == "TLSRoute" ||
           kind == "Ingress";
  }
  uint64_t status_events() const { return status_events_.load(std::memory_order_relaxed); }
  const ObjectStore& store() const override { return store_; }

 private:
  struct Event {
    std::string type;  // ADDED, MODIFIED, DELETED
    std::string kind;
    boost::json::object object;
    std::string collection;  // the resource's path, without query
  };
  void run(const KubeResource& resource);
  void push(std::vector<Event> events, bool listed_kind, const std::string& kind);
  void sleep_backoff(int& attempt);

  KubeConfig config_;
  std::vector<KubeResource> resources_;
  int watch_timeout_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;

  mutable std::mutex mutex_;  // the queue and the listed set, shared with the watch threads
  std::vector<Event> queue_;
  std::set<std::string> listed_;   // kinds whose first list is queued
  std::set<std::string> applied_;  // and applied to the store by changes()
  std::vector<std::string> errors_;
  std::set<class KubeClient*> clients_;  // the threads' own, stopped on destruction

  ObjectStore store_;  // controller thread only
  std::map<std::string, Observed> observed_;
  std::map<std::string, size_t> shapes_;  // "Kind/ns/name" -> hash of all but status and bookkeeping
  std::atomic<uint64_t> status_events_{0};  // read by /metrics
};

}  // namespace gantry::controller
