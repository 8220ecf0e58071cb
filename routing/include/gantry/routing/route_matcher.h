// Route matching: listener -> scope -> virtual host -> first route (routes are sorted).
#pragma once

#include <string_view>

#include "gantry/routing/request_view.h"
#include "gantry/routing/snapshot.h"

namespace gantry::routing {

bool route_matches(const RouteMatch& match, const RequestView& request);

// host: lowercase, without port (see normalize_host). Returns nullptr for "no route".
// `scope`, when given, receives the Gateway listener the route was found under.
const Route* match_route(const Listener& listener, std::string_view host, const RequestView& request,
                         const ListenerScope** scope = nullptr);

}  // namespace gantry::routing
