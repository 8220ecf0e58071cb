// Route series ids: a small number per route rule (its kind, namespace, name and rule
// index), the same in every snapshot for the same rule, so that a worker finds the rule's
// metrics by indexing a vector instead of hashing the route's address per request.
// Interned in translation (make_vhost); ids are never reused, and a rule that comes back
// gets its old id.
#pragma once

#include <cstdint>

#include "gantry/routing/snapshot.h"

namespace gantry::routing {

uint32_t route_series_id(const SourceRef& source);

}  // namespace gantry::routing
