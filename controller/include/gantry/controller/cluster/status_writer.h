// StatusWriter: status write-back to the /status subresources of GatewayClass, Gateway,
// HTTPRoute and Ingress, on a thread of its own so that a slow API server never holds up
// translation. The controller thread offers each translation's status with what the
// cluster's objects hold; an object whose status would change is queued (a later offer
// replaces a queued one: only the newest status is ever sent). Writes are JSON merge
// patches (custom resources refuse strategic merge patch) carrying the resourceVersion
// they were computed from, so a concurrent change is a 409 and never overwritten: the
// object is read again, the status merged again, and written if it still differs.
// Writes are paced by a token bucket (the API server's priority and fairness budget);
// a 429 waits its Retry-After. Only a leader writes: offers made while not leading are
// kept and compared again when leadership comes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gantry/controller/sources/kube_source.h"
#include "gantry/controller/translate/translator.h"

namespace gantry::controller {

class KubeClient;

class StatusWriter {
 public:
  struct Options {
    std::string controller_name;
    double writes_per_second = 500;  // sustained; a burst of `burst` goes at once
    int burst = 500;
    // Writes in flight at once, each on a connection of its own: an API server answers a
    // write in milliseconds, so one at a time would cap a large cluster at a few hundred
    // a second.
    int connections = 4;
  };
  StatusWriter(KubeConfig config, Options options);
  ~StatusWriter();

  void start();
  // Controller thread: the status of every object translation knows, and the cluster's
  // view of them. Returns how many writes were queued.
  size_t offer(const StatusItems& desired, const std::map<std::string, KubeSource::Observed>& observed);
  // Leadership: false holds writes back (queued ones are dropped; the next offer after
  // true compares everything again).
  void set_leading(bool leading);
  bool leading() const { return leading_.load(); }

  uint64_t writes() const { return writes_.load(); }        // PATCHes answered 2xx
  uint64_t conflicts() const { return conflicts_.load(); }  // 409s, each read and retried
  uint64_t failures() const { return failures_.load(); }    // given up (422, 404, no answer)
  size_t pending() const;

 private:
  struct Write {
    std::string kind, id, path;  // path: the object's URL; the patch goes to path + "/status"
    boost::json::object desired;  // translation's status, before merging
    boost::json::value current;   // the object's, when computed
    std::string resource_version;
  };
  void run();
  void write(KubeClient& client, Write w);

  KubeConfig config_;
  Options options_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> writes_{0}, conflicts_{0}, failures_{0};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Write> queue_;  // by id: the newest status only
  // What was last written for an object, and the resourceVersion it was computed from:
  // until the watch brings the object back, the same status is not sent again.
  std::map<std::string, std::pair<boost::json::object, std::string>> sent_;
  std::map<std::string, boost::json::object> in_flight_;  // being written now: not queued again
  double tokens_ = 0;  // the bucket, under mutex_
  std::chrono::steady_clock::time_point refilled_;
  std::vector<std::thread> threads_;
};

// "2026-12-01T14:00:00Z", and with microseconds for the Lease's MicroTime fields.
std::string rfc3339_now(bool micro = false);

}  // namespace gantry::controller
