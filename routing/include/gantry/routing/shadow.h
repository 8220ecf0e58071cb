// Shadowed rules: a route no request can reach because a route before it in its virtual
// host's precedence order matches every request it matches. Judged conservatively: a rule
// is reported only when the cover is certain (a regex covers an Exact path it matches, and
// otherwise only the same regex), never on a guess.
#pragma once

#include <vector>

#include "gantry/routing/snapshot.h"

namespace gantry::routing {

// True when every request `b` matches is matched by `a` too.
bool covers(const RouteMatch& a, const RouteMatch& b);

struct Shadowed {
  const Route* route = nullptr;  // never chosen
  const Route* by = nullptr;     // the first route before it that covers it
};

// In precedence order. Cost: each route is compared with the routes whose path could hold
// for its own path value, not with every route of the virtual host.
std::vector<Shadowed> shadowed_routes(const VirtualHost& vhost);

}  // namespace gantry::routing
