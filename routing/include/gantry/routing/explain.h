// Explain: why a request goes where it goes. The winner is found by match_route, the
// function the proxy calls; the routes that came close are then judged one by one with the
// same matchers (path, method, headers, query), each with the first reason it lost.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/routing/request_view.h"
#include "gantry/routing/snapshot.h"

namespace gantry::routing {

enum class Miss {
  Precedence,         // it matches too, but a route earlier in precedence order wins
  Path,
  Method,
  Header,
  Query,
  Hostname,           // it matches, under a hostname the request does not have
  ListenerIsolation,  // it matches, on a Gateway listener the request's host does not pick
};

std::string_view to_string(Miss miss);

struct NearMiss {
  const Route* route = nullptr;
  const ListenerScope* scope = nullptr;
  const VirtualHost* vhost = nullptr;
  Miss miss = Miss::Path;
  std::string detail;  // what it wanted and what the request had
};

struct Explanation {
  const ListenerScope* scope = nullptr;  // the Gateway listener (or Ingress scope) the host picked
  const VirtualHost* vhost = nullptr;
  const Route* route = nullptr;          // the winner; null: 404
  std::vector<NearMiss> near;            // in precedence order within each virtual host
};

// `host`: lowercase, without port (normalize_host).
Explanation explain(const Listener& listener, std::string_view host, const RequestView& request);

// Why `match` does not hold for `request`: the first failing part; nullopt when it holds.
struct MatchFailure {
  Miss miss;
  std::string detail;
};
std::optional<MatchFailure> why_not(const RouteMatch& match, const RequestView& request);

// "Exact /a", "PathPrefix /a", "RegularExpression ^/a"
std::string describe(const PathMatch& path);
std::string describe(const ValueMatch& value);

}  // namespace gantry::routing
