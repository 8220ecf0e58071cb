// LeaderElector: one replica of many writes status; every replica serves traffic. The
// leader holds a coordination.k8s.io/v1 Lease, renewing it every retry period; the others
// watch its renewTime and take it over once it has not moved for leaseDurationSeconds of
// their own clock (never comparing clocks across machines). On shutdown the leader
// releases the Lease so another takes over at once. Follows client-go's leaderelection:
// optimistic concurrency on the Lease's resourceVersion (API conventions, "Concurrency
// Control and Consistency"), a 409 means another replica won the round; renewTime and
// acquireTime are MicroTime (RFC 3339 with microseconds).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gantry/controller/sources/kube_config.h"

namespace gantry::controller {

class LeaderElector {
 public:
  struct Options {
    std::string ns, name;  // the Lease
    std::string identity;  // this replica's holderIdentity (pod name and a unique suffix)
    int lease_seconds = 15;
  };
  LeaderElector(KubeConfig config, Options options);
  ~LeaderElector();

  void start();
  bool leading() const { return leading_.load(); }
  // Readable when leading() changed; the serve loop polls it and reads it empty.
  int wake_fd() const { return wake_fd_; }
  void drain_wake();
  // Stops renewing and, if leading, gives the Lease up (holderIdentity cleared).
  void release();
  uint64_t transitions() const { return transitions_.load(); }  // times this replica became leader

 private:
  void run();
  bool try_acquire_or_renew();
  void set_leading(bool leading);

  KubeConfig config_;
  Options options_;
  std::unique_ptr<class KubeClient> client_;
  std::atomic<bool> leading_{false};
  std::atomic<uint64_t> transitions_{0};
  int wake_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  // The last Lease record seen from another holder, and when (our clock) it changed.
  std::string observed_record_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::chrono::steady_clock::time_point renewed_at_{};
  std::string last_lease_;  // as our last create or update returned it (renewed from it)
  std::thread thread_;
};

}  // namespace gantry::controller
