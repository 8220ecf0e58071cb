// Internal: one backendRef resolved to a cluster, or the reason it could not be.
#pragma once

#include "context.h"

namespace gantry::controller::translate_detail {

struct BackendResolution {
  uint32_t cluster = routing::kInvalidCluster;
  std::string reason;  // ResolvedRefs=False reason; empty when resolved
  std::string message;
};

BackendResolution resolve_backend(Context& ctx, const BackendRef& ref, const std::string& route_ns);

}  // namespace gantry::controller::translate_detail
