#include "cluster.h"

#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

#include "gantry/common/log.h"
#include "gantry/common/prometheus.h"
#include "gantry/controller/sources/cluster_resources.h"
#include "gantry/controller/sources/kube_client.h"

namespace gantry::cmd {
namespace {

// A replica's holderIdentity: the pod's name (POD_NAME, from the downward API, else the
// host name) and a random suffix, so a restarted pod never inherits its old term.
std::string identity() {
  std::string name;
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) name = pod;
  else {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    name = host;
  }
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_%08x", rd());
  return name + suffix;
}

}  // namespace

Result<Cluster> start_cluster(const Flags& flags, int sigfd) {
  auto config = flags.in_cluster ? controller::in_cluster_config() : controller::load_kubeconfig(flags.kubeconfig);
  if (!config) return config.error();
  Result<std::vector<controller::KubeResource>> resources = Error{""};
  for (int attempt = 0;; ++attempt) {
    controller::KubeClient probe(*config);
    resources = controller::cluster_resources(probe);
    if (resources) break;
    log::error(resources.error().message + "; trying again");
    pollfd fd{sigfd, POLLIN, 0};
    if (::poll(&fd, 1, std::min(10'000, 500 << std::min(attempt, 5))) > 0) return Error{"stopped before the API server answered"};
  }
  Cluster c;
  c.source = std::make_unique<controller::KubeSource>(*config, *resources);
  c.source->start();
  c.writer = std::make_unique<controller::StatusWriter>(*config, controller::StatusWriter::Options{flags.translate.controller_name});
  c.writer->start();
  if (flags.leader_elect) {
    controller::LeaderElector::Options lease{flags.leader_election_namespace.empty() ? config->ns : flags.leader_election_namespace,
                                             flags.leader_election_id, identity(), flags.lease_seconds};
    log::info("leader election: Lease " + lease.ns + "/" + lease.name + " as " + lease.identity);
    c.elector = std::make_unique<controller::LeaderElector>(*config, lease);
    c.elector->start();
  } else {
    c.writer->set_leading(true);
  }
  return c;
}

std::string cluster_metrics(const Cluster& c) {
  const auto* w = c.writer.get();
  const auto* e = c.elector.get();
  const auto* s = c.source.get();
  prom::Exposition out;
  out.single("gantry_status_writes_total", "counter", "Status subresource writes to the API server.", w->writes());
  out.single("gantry_status_write_conflicts_total", "counter", "Status writes refused with 409 Conflict (then retried).",
             w->conflicts());
  out.single("gantry_status_write_failures_total", "counter", "Status writes that failed otherwise.", w->failures());
  out.single("gantry_status_writes_pending", "gauge", "Objects whose status is waiting to be written.", w->pending());
  out.single("gantry_status_only_events_total", "counter", "Watch events that changed only an object's status.",
             s->status_events());
  out.single("gantry_leader", "gauge", "1 while this replica holds the leader lease.", uint64_t{w->leading() ? 1u : 0u});
  out.single("gantry_leader_transitions_total", "counter", "Times this replica gained or lost the lease.",
             e ? e->transitions() : uint64_t{0});
  return std::move(out.text());
}

}  // namespace gantry::cmd
