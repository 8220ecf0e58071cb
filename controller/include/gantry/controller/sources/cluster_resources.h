// The collections cluster mode lists and watches: what translation reads, each at the
// API version the cluster serves. ReferenceGrant is asked for at v1 and, where the
// cluster's Gateway API CRDs are older, at v1beta1 (API discovery decides). Secrets are
// only those of type kubernetes.io/tls (a field selector), so a cluster with thousands of
// other Secrets costs nothing.
#pragma once

#include <vector>

#include "gantry/controller/sources/kube_client.h"
#include "gantry/controller/sources/kube_source.h"

namespace gantry::controller {

// Asks the API server's discovery document for gateway.networking.k8s.io/v1; an error
// when the API server cannot be reached or does not serve the Gateway API at all.
Result<std::vector<KubeResource>> cluster_resources(KubeClient& client);

}  // namespace gantry::controller
