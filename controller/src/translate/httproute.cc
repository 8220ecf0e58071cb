// HTTPRoute's rules compiled, and what every route kind of the HTTP listeners shares:
// parentRef attachment (sectionName, port, allowedRoutes, hostnames), routes in every
// virtual host the route serves, and the route's status (route_rules.h).
#include <re2/re2.h>

#include <algorithm>

#include "backends.h"
#include "route_rules.h"

namespace gantry::controller::translate_detail {
namespace {

routing::HeaderModifier header_modifier(const HTTPHeaderFilter& f) {
  routing::HeaderModifier m;
  m.set = f.set;
  m.add = f.add;
  m.remove = f.remove;
  return m;
}

routing::PathModifier path_modifier(const std::optional<HTTPPathModifier>& p, std::string& problem) {
  routing::PathModifier m;
  if (!p) return m;
  if (p->type == "ReplaceFullPath") {
    m.type = routing::PathModifierType::ReplaceFullPath;
    m.value = p->replace_full_path;
  } else if (p->type == "ReplacePrefixMatch") {
    m.type = routing::PathModifierType::ReplacePrefixMatch;
    m.value = p->replace_prefix_match;
  } else {
    problem = "path modifier type " + p->type + " is not supported";
  }
  return m;
}

}  // namespace

routing::Filters compile_filters(Context& ctx, const std::vector<HTTPRouteFilter>& in, const std::string& route_ns,
                                 std::string_view route_kind, std::string& problem, std::string& refs_reason,
                                 std::string& refs_message) {
  routing::Filters out;
  for (const HTTPRouteFilter& f : in) {
    if (f.type == "RequestHeaderModifier") {
      out.request_headers = header_modifier(f.request_header_modifier);
    } else if (f.type == "ResponseHeaderModifier") {
      out.response_headers = header_modifier(f.response_header_modifier);
    } else if (f.type == "RequestRedirect" && f.request_redirect) {
      const auto& r = *f.request_redirect;
      routing::Redirect redirect;
      redirect.scheme = r.scheme.value_or("");
      redirect.hostname = r.hostname.value_or("");
      redirect.port = static_cast<uint16_t>(r.port.value_or(0));
      redirect.path = path_modifier(r.path, problem);
      redirect.status = static_cast<unsigned>(r.status_code.value_or(302));
      out.redirect = std::move(redirect);
    } else if (f.type == "CORS" && f.cors) {
      out.cors = routing::Cors{f.cors->allow_origins, f.cors->allow_methods, f.cors->allow_headers,
                               f.cors->expose_headers, f.cors->allow_credentials, f.cors->max_age.value_or(-1)};
    } else if (f.type == "URLRewrite" && f.url_rewrite) {
      out.rewrite = routing::UrlRewrite{f.url_rewrite->hostname.value_or(""), path_modifier(f.url_rewrite->path, problem)};
    } else if (f.type == "RequestMirror" && f.request_mirror) {
      const auto& m = *f.request_mirror;
      BackendRef ref;
      ref.group = m.backend_ref.group;
      ref.kind = m.backend_ref.kind;
      ref.name = m.backend_ref.name;
      ref.ns = m.backend_ref.ns;
      ref.port = m.backend_ref.port;
      BackendResolution res = resolve_backend(ctx, ref, route_ns, route_kind);
      if (!res.reason.empty()) {
        if (refs_reason.empty()) {
          refs_reason = res.reason;
          refs_message = "mirror: " + res.message;
        }
        continue;
      }
      routing::Mirror mirror{res.cluster, 1, 1};
      if (m.fraction) mirror = {res.cluster, static_cast<uint64_t>(std::max<int64_t>(0, m.fraction->first)),
                                static_cast<uint64_t>(std::max<int64_t>(1, m.fraction->second))};
      else if (m.percent) mirror = {res.cluster, static_cast<uint64_t>(std::clamp<int64_t>(*m.percent, 0, 100)), 100};
      out.mirrors.push_back(mirror);
    } else {
      problem = "filter type " + f.type + " is not supported";
    }
  }
  return out;
}

std::shared_ptr<const re2::RE2> compile(const Context& ctx, const std::string& pattern, std::string& problem) {
  auto re = compile_regex(ctx, pattern);
  if (!re->ok()) {
    problem = "invalid regular expression " + pattern + ": " + re->error();
    return nullptr;
  }
  return re;
}

routing::ValueMatch value_match(const Context& ctx, const HTTPValueMatch& m, bool header, std::string& problem) {
  routing::ValueMatch v;
  v.name = header ? lower(m.name) : m.name;
  v.value = m.value;
  if (m.type == "RegularExpression") {
    v.type = routing::ValueMatchType::RegularExpression;
    v.regex = compile(ctx, m.value, problem);
  } else if (m.type != "Exact") {
    problem = "match type " + m.type + " is not supported";
  }
  return v;
}

namespace {

routing::RouteMatch route_match(const Context& ctx, const HTTPRouteMatch& m, std::string& problem) {
  routing::RouteMatch out;
  out.path.value = m.path.value;
  if (m.path.type == "Exact") out.path.type = routing::PathMatchType::Exact;
  else if (m.path.type == "PathPrefix") out.path.type = routing::PathMatchType::PathPrefix;
  else if (m.path.type == "RegularExpression") {
    out.path.type = routing::PathMatchType::RegularExpression;
    out.path.regex = compile(ctx, m.path.value, problem);
  } else {
    problem = "path match type " + m.path.type + " is not supported";
  }
  if (out.path.type != routing::PathMatchType::RegularExpression && !m.path.value.starts_with("/"))
    problem = "path " + m.path.value + " must start with /";
  out.method = m.method.value_or("");
  for (const auto& h : m.headers) out.headers.push_back(value_match(ctx, h, true, problem));
  for (const auto& q : m.query_params) out.query.push_back(value_match(ctx, q, false, problem));
  return out;
}

json::object parent_ref_status(const ParentRef& ref) {
  // Group and kind are written out even when the route left them to their defaults.
  json::object out{{"group", ref.group}, {"kind", ref.kind}};
  if (ref.ns) out["namespace"] = *ref.ns;
  out["name"] = ref.name;
  if (ref.section_name) out["sectionName"] = *ref.section_name;
  if (ref.port) out["port"] = *ref.port;
  return out;
}

bool namespace_allowed(const Context& ctx, const AllowedRoutes& allowed, const std::string& gw_ns,
                       const std::string& route_ns) {
  if (allowed.from == "All") return true;
  if (allowed.from == "Same") return gw_ns == route_ns;
  if (allowed.from == "Selector") {
    auto it = ctx.store.namespaces.find(route_ns);
    static const std::map<std::string, std::string> kNone;
    return selector_matches(allowed.selector, it == ctx.store.namespaces.end() ? kNone : it->second.meta.labels);
  }
  return false;
}

bool kind_allowed(const ListenerState& ls, std::string_view kind) {
  for (const auto& k : ls.supported_kinds)
    if (k.kind == kind && k.group == kGatewayGroup) return true;
  return false;
}

// GEP-1016, cross serving: a GRPCRoute and an HTTPRoute never share a hostname on a listener.
bool hostnames_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  auto covers = [](const std::string& wild, const std::string& host) {
    return wild.starts_with("*.") && host.size() > wild.size() - 1 && host.ends_with(wild.substr(1));
  };
  for (const auto& x : a)
    for (const auto& y : b)
      if (x.empty() || y.empty() || x == y || covers(x, y) || covers(y, x)) return true;
  return false;
}

void add_routes(Context& ctx, const ListenerState& ls, const std::vector<std::string>& hostnames,
                const RouteSource& route, const CompiledRoute& compiled, RouteRecord& record) {
  const std::vector<CompiledRule>& rules = compiled.rules;
  const std::string route_key = key_of(route.meta);
  for (const std::string& host : hostnames) {
    VhostKey key{ls.snapshot_listener, ls.scope, host};
    routing::VirtualHost& vhost = vhost_for(ctx, key);
    record.vhosts.insert(std::move(key));
    for (size_t r = 0; r < rules.size(); ++r) {
      for (size_t m = 0; m < rules[r].matches.size(); ++m) {
        routing::Route out;
        out.match = rules[r].matches[m];
        out.backends = rules[r].backends;
        out.filters = rules[r].filters;
        out.timeouts = rules[r].timeouts;
        out.retry = rules[r].retry;
        out.upstream_h2 = compiled.h2;
        out.source = {std::string(route.kind), route.meta.ns, route.meta.name, static_cast<int>(r), static_cast<int>(m)};
        if (m < rules[r].grpc_lengths.size()) {
          const auto [service, method] = rules[r].grpc_lengths[m];
          out.precedence = routing::make_grpc_precedence_key(service, method, out.match.headers.size(),
                                                             route.meta.creation_timestamp, route_key,
                                                             static_cast<int>(r), static_cast<int>(m));
        } else {
          out.precedence = routing::make_precedence_key(out.match, route.meta.creation_timestamp, route_key,
                                                        static_cast<int>(r), static_cast<int>(m));
        }
        vhost.routes.push_back(std::move(out));
      }
    }
  }
}

}  // namespace

void translate_http_routes(Context& ctx, StatusItems& out) {
  for (const auto& [key, route] : ctx.store.http_routes) {
    RouteRecord record;
    translate_http_route(ctx, route, record);
    if (record.status) out.push_back(record.status);
    if (ctx.records) (*ctx.records)[key] = std::move(record);
  }
}

void compile_backends(Context& ctx, const std::vector<BackendRef>& refs, const std::string& ns, CompiledRoute& route,
                      CompiledRule& rule) {
  for (const BackendRef& ref : refs) {
    BackendResolution res = resolve_backend(ctx, ref, ns, route.kind);
    if (!res.reason.empty() && route.refs_reason.empty()) {
      route.refs_reason = res.reason;
      route.refs_message = res.message;
    }
    uint32_t weight = ref.weight < 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(ref.weight, 1'000'000));
    routing::WeightedCluster wc{res.cluster, weight, nullptr};
    if (!ref.filters.empty())
      wc.filters = std::make_shared<const routing::Filters>(compile_filters(
          ctx, ref.filters, ns, route.kind, route.problem, route.refs_reason, route.refs_message));
    rule.backends.push_back(std::move(wc));
  }
}

void translate_http_route(Context& ctx, const HTTPRoute& route, RouteRecord& record) {
  // Rules compile once per route, whatever the number of parents.
  CompiledRoute compiled;
  compiled.kind = "HTTPRoute";
  std::string& match_problem = compiled.problem;
  for (const HTTPRouteRule& rule : route.rules) {
    CompiledRule cr;
    if (rule.matches.empty()) cr.matches.push_back(routing::RouteMatch{});
    for (const auto& m : rule.matches) cr.matches.push_back(route_match(ctx, m, match_problem));
    cr.filters = compile_filters(ctx, rule.filters, route.meta.ns, compiled.kind, match_problem, compiled.refs_reason,
                                 compiled.refs_message);
    if (rule.timeouts.request) {
      auto ms = routing::parse_duration_ms(*rule.timeouts.request);
      if (!ms) match_problem = "timeouts.request " + *rule.timeouts.request + " is not a duration";
      else cr.timeouts.request_ms = static_cast<uint32_t>(*ms);
    }
    if (rule.timeouts.backend_request) {
      auto ms = routing::parse_duration_ms(*rule.timeouts.backend_request);
      if (!ms) match_problem = "timeouts.backendRequest " + *rule.timeouts.backend_request + " is not a duration";
      else cr.timeouts.backend_request_ms = static_cast<uint32_t>(*ms);
    }
    if (rule.retry) {
      // HTTPRouteRetry.attempts counts retries, not tries.
      cr.retry.attempts = static_cast<uint32_t>(std::clamp<int64_t>(rule.retry->attempts.value_or(1), 0, 10));
      for (int64_t c : rule.retry->codes) cr.retry.codes.push_back(static_cast<unsigned>(c));
      if (rule.retry->backoff) {
        auto ms = routing::parse_duration_ms(*rule.retry->backoff);
        if (!ms) match_problem = "retry.backoff " + *rule.retry->backoff + " is not a duration";
        else cr.retry.backoff_ms = static_cast<uint32_t>(*ms);
      }
    }
    compile_backends(ctx, rule.backend_refs, route.meta.ns, compiled, cr);
    compiled.rules.push_back(std::move(cr));
  }
  attach_route(ctx, RouteSource{"HTTPRoute", route.meta, route.parent_refs, route.hostnames}, compiled, record);
}

void attach_route(Context& ctx, const RouteSource& route, const CompiledRoute& compiled, RouteRecord& record) {
  const int64_t gen = route.meta.generation;
  const std::string& match_problem = compiled.problem;
  const std::string& refs_reason = compiled.refs_reason;
  const std::string& refs_message = compiled.refs_message;
  const bool grpc = route.kind == "GRPCRoute";
  const bool track_http_hosts = !grpc && !ctx.store.grpc_routes.empty();
  json::array parents;
  for (const ParentRef& ref : route.parent_refs) {
    if (ref.group != kGatewayGroup || ref.kind != "Gateway") continue;
    std::string gw_ns = ref.ns.value_or(route.meta.ns);
    auto gw = ctx.gateways.find(gw_ns + "/" + ref.name);
    if (gw == ctx.gateways.end()) continue;  // not a Gateway of ours: its controller writes this parent
    GatewayState& state = gw->second;
    const std::string& gw_key = gw->first;

    bool any_candidate = false, any_allowed = false, any_hostname = false, any_free = false;
    for (uint32_t li = 0; li < state.listeners.size(); ++li) {
      ListenerState& ls = state.listeners[li];
      if (ref.section_name && *ref.section_name != ls.spec->name) continue;
      if (ref.port && *ref.port != ls.spec->port) continue;
      any_candidate = true;
      if (!ls.attachable) continue;
      if (!kind_allowed(ls, route.kind) || !namespace_allowed(ctx, ls.spec->allowed_routes, gw_ns, route.meta.ns))
        continue;
      any_allowed = true;
      auto hostnames = intersect_hostnames(ls.spec->hostname, route.hostnames);
      if (hostnames.empty()) continue;
      any_hostname = true;
      // HTTPRoutes are attached first; a GRPCRoute that would share one of their
      // hostnames on this listener is the one refused.
      if (grpc && hostnames_overlap(ls.http_hostnames, hostnames)) continue;
      any_free = true;
      if (track_http_hosts) ls.http_hostnames.insert(ls.http_hostnames.end(), hostnames.begin(), hostnames.end());
      ++ls.attached_routes;
      record.attached.emplace_back(gw_key, li);
      if (ls.valid && match_problem.empty()) add_routes(ctx, ls, hostnames, route, compiled, record);
    }

    json::array conds;
    if (!any_candidate)
      conds.push_back(condition("Accepted", false, "NoMatchingParent",
                                "no listener matches the parentRef's sectionName and port", gen));
    else if (!any_allowed)
      conds.push_back(condition("Accepted", false, "NotAllowedByListeners",
                                "no listener of the Gateway allows this route (allowedRoutes)", gen));
    else if (!any_hostname)
      conds.push_back(condition("Accepted", false, "NoMatchingListenerHostname",
                                "no route hostname intersects a listener hostname", gen));
    else if (!any_free)
      conds.push_back(condition("Accepted", false, "NotAllowedByListeners",
                                "an HTTPRoute on the listener already serves these hostnames; a GRPCRoute and an "
                                "HTTPRoute cannot share a hostname (GEP-1016)",
                                gen));
    else if (!match_problem.empty())
      conds.push_back(condition("Accepted", false, "UnsupportedValue", match_problem, gen));
    else
      conds.push_back(condition("Accepted", true, "Accepted", "route accepted", gen));
    conds.push_back(refs_reason.empty()
                        ? condition("ResolvedRefs", true, "ResolvedRefs", "all references resolved", gen)
                        : condition("ResolvedRefs", false, refs_reason, refs_message, gen));
    parents.push_back(json::object{{"parentRef", parent_ref_status(ref)},
                                   {"controllerName", ctx.options.controller_name},
                                   {"conditions", std::move(conds)}});
  }
  if (!parents.empty())
    record.status = std::make_shared<const json::object>(
        status_item(route.kind, route.meta, json::object{{"parents", std::move(parents)}}));
}

}  // namespace gantry::controller::translate_detail
