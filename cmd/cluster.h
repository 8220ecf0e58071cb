// Cluster mode's parts beside the reconcile loop: the watch (KubeSource), status
// write-back and, with --leader-elect, the Lease that decides which replica writes.
#pragma once

#include <memory>
#include <string>

#include "flags.h"
#include "gantry/common/result.h"
#include "gantry/controller/cluster/leader_election.h"
#include "gantry/controller/cluster/status_writer.h"
#include "gantry/controller/sources/kube_source.h"

namespace gantry::cmd {

struct Cluster {
  std::unique_ptr<controller::KubeSource> source;
  std::unique_ptr<controller::StatusWriter> writer;
  std::unique_ptr<controller::LeaderElector> elector;
};

// Connects to the API server and starts the watches, the writer and the elector; the API
// server may not answer yet (a pod starting beside it), so discovery is retried until it
// does or a signal arrives on `sigfd`.
Result<Cluster> start_cluster(const Flags& flags, int sigfd);

// /metrics lines: status writes, conflicts, failures, status-only events, leadership.
std::string cluster_metrics(const Cluster& cluster);

}  // namespace gantry::cmd
