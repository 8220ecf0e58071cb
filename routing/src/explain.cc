#include "gantry/routing/explain.h"

#include "gantry/routing/route_matcher.h"

namespace gantry::routing {
namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

const char* type_name(ValueMatchType t) { return t == ValueMatchType::Exact ? "Exact" : "RegularExpression"; }

}  // namespace

std::string_view to_string(Miss miss) {
  switch (miss) {
    case Miss::Precedence: return "precedence";
    case Miss::Path: return "path";
    case Miss::Method: return "method";
    case Miss::Header: return "header";
    case Miss::Query: return "query";
    case Miss::Hostname: return "hostname";
    case Miss::ListenerIsolation: return "listener isolation";
  }
  return "";
}

std::string describe(const PathMatch& path) {
  const char* type = path.type == PathMatchType::Exact        ? "Exact"
                     : path.type == PathMatchType::PathPrefix ? "PathPrefix"
                                                              : "RegularExpression";
  return std::string(type) + " " + path.value;
}

std::string describe(const ValueMatch& value) {
  return value.name + " " + type_name(value.type) + " " + quoted(value.value);
}

std::optional<MatchFailure> why_not(const RouteMatch& match, const RequestView& request) {
  if (!path_matches(match.path, request.path))
    return MatchFailure{Miss::Path, "wants path " + describe(match.path) + ", the request has " + std::string(request.path)};
  if (!match.method.empty() && match.method != request.method)
    return MatchFailure{Miss::Method, "wants method " + match.method + ", the request is " + std::string(request.method)};
  for (const ValueMatch& h : match.headers) {
    bool found = false;
    std::string_view value = request.find_header(h.name, found);
    if (!found) return MatchFailure{Miss::Header, "wants header " + describe(h) + ", the request has none"};
    if (!value_matches(h, value))
      return MatchFailure{Miss::Header, "wants header " + describe(h) + ", the request has " + quoted(value)};
  }
  for (const ValueMatch& q : match.query) {
    std::string_view value;
    if (!find_query_param(request.query, q.name, value))
      return MatchFailure{Miss::Query, "wants query parameter " + describe(q) + ", the request has none"};
    if (!value_matches(q, value))
      return MatchFailure{Miss::Query, "wants query parameter " + describe(q) + ", the request has " + quoted(value)};
  }
  return std::nullopt;
}

Explanation explain(const Listener& listener, std::string_view host, const RequestView& request) {
  Explanation out;
  out.route = match_route(listener, host, request, &out.scope);
  if (out.scope) {
    if (auto v = out.scope->vhost_index->find(host)) out.vhost = out.scope->vhosts[*v].get();
  }
  // The chosen virtual host: every other route, with the first reason it lost.
  if (out.vhost) {
    for (const Route& r : out.vhost->routes) {
      if (&r == out.route) continue;
      NearMiss m{&r, out.scope, out.vhost, Miss::Precedence, {}};
      if (auto failure = why_not(r.match, request)) {
        m.miss = failure->miss;
        m.detail = std::move(failure->detail);
      } else {
        m.detail = "matches too, but ";
        if (out.route) {
          const SourceRef& w = out.route->source;
          m.detail += w.kind + " " + w.ns + "/" + w.name + " rule " + std::to_string(w.rule) + " match " +
                      std::to_string(w.match) + " comes first in precedence order";
        } else {
          m.detail += "comes later in precedence order";
        }
      }
      out.near.push_back(std::move(m));
    }
  }
  // Routes that match but sit under another hostname or on another Gateway listener.
  for (const ListenerScope& scope : listener.scopes) {
    const bool same_scope = &scope == out.scope;
    std::optional<uint32_t> host_vhost = scope.vhost_index->find(host);
    for (size_t i = 0; i < scope.vhosts.size(); ++i) {
      const VirtualHost& vhost = *scope.vhosts[i];
      if (&vhost == out.vhost) continue;
      const bool host_fits = host_vhost && *host_vhost == i;
      for (const Route& r : vhost.routes) {
        if (why_not(r.match, request)) continue;
        NearMiss m{&r, &scope, &vhost, Miss::Hostname, {}};
        if (!same_scope && host_fits) {
          m.miss = Miss::ListenerIsolation;
          m.detail = "matches, but on listener " + scope.name + "; the host " + std::string(host) + " belongs to " +
                     (out.scope ? "listener " + out.scope->name : std::string("no listener"));
        } else {
          m.detail = "matches, but serves host " + (vhost.hostname.empty() ? std::string("*") : vhost.hostname);
          if (!same_scope) m.detail += " on listener " + scope.name;
        }
        out.near.push_back(std::move(m));
      }
    }
  }
  return out;
}

}  // namespace gantry::routing
