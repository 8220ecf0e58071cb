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
  // Every resource's first list has been applied by changes() (/readyz waits for it).
  bool synced() const;
  ChangeReport changes() override;
  const ObjectStore& store() const override { return store_; }

 private:
  struct Event {
    std::string type;  // ADDED, MODIFIED, DELETED
    std::string kind;
    boost::json::object object;
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
};

}  // namespace gantry::controller
