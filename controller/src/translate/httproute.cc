// HTTPRoute: parentRef attachment (sectionName, port, allowedRoutes, hostnames), then
// rules -> routes in every virtual host the route serves, and the route's status.
#include <re2/re2.h>

#include "backends.h"
#include "context.h"

namespace gantry::controller::translate_detail {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct CompiledRule {
  std::vector<routing::RouteMatch> matches;
  std::vector<routing::WeightedCluster> backends;
};

std::shared_ptr<const re2::RE2> compile(const std::string& pattern, std::string& problem) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(pattern, opts);
  if (!re->ok()) {
    problem = "invalid regular expression " + pattern + ": " + re->error();
    return nullptr;
  }
  return re;
}

routing::ValueMatch value_match(const HTTPValueMatch& m, bool header, std::string& problem) {
  routing::ValueMatch v;
  v.name = header ? lower(m.name) : m.name;
  v.value = m.value;
  if (m.type == "RegularExpression") {
    v.type = routing::ValueMatchType::RegularExpression;
    v.regex = compile(m.value, problem);
  } else if (m.type != "Exact") {
    problem = "match type " + m.type + " is not supported";
  }
  return v;
}

routing::RouteMatch route_match(const HTTPRouteMatch& m, std::string& problem) {
  routing::RouteMatch out;
  out.path.value = m.path.value;
  if (m.path.type == "Exact") out.path.type = routing::PathMatchType::Exact;
  else if (m.path.type == "PathPrefix") out.path.type = routing::PathMatchType::PathPrefix;
  else if (m.path.type == "RegularExpression") {
    out.path.type = routing::PathMatchType::RegularExpression;
    out.path.regex = compile(m.path.value, problem);
  } else {
    problem = "path match type " + m.path.type + " is not supported";
  }
  if (out.path.type != routing::PathMatchType::RegularExpression && !m.path.value.starts_with("/"))
    problem = "path " + m.path.value + " must start with /";
  out.method = m.method.value_or("");
  for (const auto& h : m.headers) out.headers.push_back(value_match(h, true, problem));
  for (const auto& q : m.query_params) out.query.push_back(value_match(q, false, problem));
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

bool kind_allowed(const ListenerState& ls) {
  for (const auto& k : ls.supported_kinds)
    if (k.kind == "HTTPRoute" && k.group == kGatewayGroup) return true;
  return false;
}

void add_routes(Context& ctx, const ListenerState& ls, const std::vector<std::string>& hostnames,
                const HTTPRoute& route, const std::vector<CompiledRule>& rules) {
  routing::ListenerScope& scope = ctx.snapshot.listeners[ls.snapshot_listener].scopes[ls.scope];
  for (const std::string& host : hostnames) {
    auto [it, inserted] = ctx.vhosts.try_emplace({ls.snapshot_listener, ls.scope, host},
                                                 static_cast<uint32_t>(scope.vhosts.size()));
    if (inserted) scope.vhosts.push_back({host, {}, {}});
    routing::VirtualHost* vhost = &scope.vhosts[it->second];
    for (size_t r = 0; r < rules.size(); ++r) {
      for (size_t m = 0; m < rules[r].matches.size(); ++m) {
        routing::Route out;
        out.match = rules[r].matches[m];
        out.backends = rules[r].backends;
        out.source = {"HTTPRoute", route.meta.ns, route.meta.name, static_cast<int>(r), static_cast<int>(m)};
        out.precedence = routing::make_precedence_key(out.match, route.meta.creation_timestamp, key_of(route.meta),
                                                      static_cast<int>(r), static_cast<int>(m));
        vhost->routes.push_back(std::move(out));
      }
    }
  }
}

}  // namespace

void translate_http_routes(Context& ctx, json::array& out) {
  for (const auto& [key, route] : ctx.store.http_routes) {
    const int64_t gen = route.meta.generation;

    // Rules compile once per route, whatever the number of parents.
    std::vector<CompiledRule> rules;
    std::string refs_reason, refs_message, match_problem;
    for (const HTTPRouteRule& rule : route.rules) {
      CompiledRule cr;
      if (rule.matches.empty()) cr.matches.push_back(routing::RouteMatch{});
      for (const auto& m : rule.matches) cr.matches.push_back(route_match(m, match_problem));
      for (const BackendRef& ref : rule.backend_refs) {
        BackendResolution res = resolve_backend(ctx, ref, route.meta.ns);
        if (!res.reason.empty() && refs_reason.empty()) {
          refs_reason = res.reason;
          refs_message = res.message;
        }
        uint32_t weight = ref.weight < 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(ref.weight, 1'000'000));
        cr.backends.push_back({res.cluster, weight});
      }
      rules.push_back(std::move(cr));
    }

    json::array parents;
    for (const ParentRef& ref : route.parent_refs) {
      if (ref.group != kGatewayGroup || ref.kind != "Gateway") continue;
      std::string gw_ns = ref.ns.value_or(route.meta.ns);
      auto gw = ctx.gateways.find(gw_ns + "/" + ref.name);
      if (gw == ctx.gateways.end()) continue;  // not a Gateway of ours: its controller writes this parent
      GatewayState& state = gw->second;

      bool any_candidate = false, any_allowed = false, any_hostname = false;
      for (ListenerState& ls : state.listeners) {
        if (ref.section_name && *ref.section_name != ls.spec->name) continue;
        if (ref.port && *ref.port != ls.spec->port) continue;
        any_candidate = true;
        if (!ls.valid) continue;
        if (!kind_allowed(ls) || !namespace_allowed(ctx, ls.spec->allowed_routes, gw_ns, route.meta.ns)) continue;
        any_allowed = true;
        auto hostnames = intersect_hostnames(ls.spec->hostname, route.hostnames);
        if (hostnames.empty()) continue;
        any_hostname = true;
        ++ls.attached_routes;
        if (match_problem.empty()) add_routes(ctx, ls, hostnames, route, rules);
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
      out.push_back(status_item("HTTPRoute", route.meta, json::object{{"parents", std::move(parents)}}));
  }
}

}  // namespace gantry::controller::translate_detail
