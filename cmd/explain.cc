// gantry explain: which listener, route, rule and backends would serve a request, what the
// filters make of it, and why the routes that came close did not win. The decision is
// routing::explain's, which calls the proxy's own match_route; the outcome follows the
// proxy's order (redirect, then backends; the rule's filters, then the backend's).
#include "explain.h"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <iostream>

#include "gantry/controller/dump.h"
#include "gantry/controller/sources/file_source.h"
#include "gantry/routing/canary.h"
#include "gantry/routing/explain.h"
#include "gantry/routing/route_matcher.h"
#include "gantry/routing/weighted_pick.h"

namespace gantry::cmd {
namespace {

namespace json = boost::json;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

json::object source_json(const routing::SourceRef& s) {
  json::object o{{"kind", s.kind}, {"namespace", s.ns}, {"name", s.name}, {"rule", s.rule}, {"match", s.match}};
  return o;
}

std::string describe_match(const routing::RouteMatch& m) {
  std::string out = "path " + routing::describe(m.path);
  if (!m.method.empty()) out += ", method " + m.method;
  for (const auto& h : m.headers) out += ", header " + routing::describe(h);
  for (const auto& q : m.query) out += ", query " + routing::describe(q);
  return out;
}

// The Gateway API filter kinds a rule's (or backendRef's) filters amount to, in the order
// the proxy applies them.
void describe_filters(const routing::Filters& f, const std::string& where, json::array& out) {
  auto mod = [](const routing::HeaderModifier& m) {
    std::string s;
    for (const auto& [k, v] : m.set) s += (s.empty() ? "" : "; ") + std::string("set ") + k + ": " + v;
    for (const auto& [k, v] : m.add) s += (s.empty() ? "" : "; ") + std::string("add ") + k + ": " + v;
    for (const auto& k : m.remove) s += (s.empty() ? "" : "; ") + std::string("remove ") + k;
    return s;
  };
  if (f.cors) out.push_back(json::string(where + "CORS"));
  if (f.redirect) out.push_back(json::string(where + "RequestRedirect (" + std::to_string(f.redirect->status) + ")"));
  if (!f.request_headers.empty()) out.push_back(json::string(where + "RequestHeaderModifier: " + mod(f.request_headers)));
  if (f.rewrite) out.push_back(json::string(where + "URLRewrite"));
  for (size_t i = 0; i < f.mirrors.size(); ++i) out.push_back(json::string(where + "RequestMirror"));
  if (!f.response_headers.empty())
    out.push_back(json::string(where + "ResponseHeaderModifier: " + mod(f.response_headers)));
}

bool host_matches(std::string_view pattern, std::string_view host) {
  if (pattern.empty() || pattern == "*") return true;
  if (pattern.starts_with("*.")) return host.size() > pattern.size() - 1 && host.ends_with(pattern.substr(1));
  return pattern == host;
}

// Routes whose attachment was refused (a parent's Accepted=False) and whose hostnames could
// have taken the request: their status says why.
json::array refused_routes(const controller::StatusItems& status, const controller::ObjectStore& store,
                           std::string_view host) {
  json::array out;
  for (const auto& item : status) {
    if (item->at("kind") != "HTTPRoute") continue;
    const auto& md = item->at("metadata").as_object();
    const std::string key = std::string(md.at("namespace").as_string()) + "/" + std::string(md.at("name").as_string());
    auto route = store.http_routes.find(key);
    if (route == store.http_routes.end()) continue;
    bool fits = route->second.hostnames.empty();
    for (const auto& h : route->second.hostnames) fits = fits || host_matches(lower(h), host);
    if (!fits) continue;
    const auto* st = item->at("status").as_object().if_contains("parents");
    if (!st) continue;
    for (const auto& p : st->as_array()) {
      for (const auto& c : p.as_object().at("conditions").as_array()) {
        const auto& co = c.as_object();
        if ((co.at("type") == "Accepted" || co.at("type") == "ResolvedRefs") && co.at("status") == "False") {
          out.push_back(json::object{{"kind", "HTTPRoute"},
                                     {"namespace", md.at("namespace")},
                                     {"name", md.at("name")},
                                     {"parentRef", p.as_object().at("parentRef")},
                                     {"condition", co.at("type")},
                                     {"reason", co.at("reason")},
                                     {"message", co.at("message")}});
        }
      }
    }
  }
  return out;
}

// What the proxy does with the request on the winning route.
json::object outcome(const routing::Snapshot& snap, const routing::Route& route, const routing::ListenerScope& scope,
                     const routing::RequestView& view, std::string_view scheme, std::string_view host,
                     std::string_view target, json::object& report) {
  std::string_view path, query;
  routing::split_target(target, path, query);
  json::array filters, backends;
  describe_filters(route.filters, "", filters);
  for (const auto& b : route.backends) {
    json::object o{{"weight", b.weight}};
    o["share"] = route.total_weight ? static_cast<double>(b.weight) / static_cast<double>(route.total_weight) : 0.0;
    if (b.cluster == routing::kInvalidCluster) {
      o["backend"] = "<invalid: answers 500>";
    } else {
      o["backend"] = snap.clusters[b.cluster].name;
      o["endpoints"] = snap.clusters[b.cluster].endpoints.size();
    }
    if (b.filters) {
      json::array bf;
      describe_filters(*b.filters, "", bf);
      if (!bf.empty()) o["filters"] = std::move(bf);
    }
    backends.push_back(std::move(o));
  }
  report["filters"] = std::move(filters);
  report["backends"] = std::move(backends);
  if (route.canary) {
    report["canary"] = controller::route_to_json(route, snap).at("canary");
  }
  std::string_view prefix =
      route.match.path.type == routing::PathMatchType::PathPrefix ? std::string_view(route.match.path.value) : std::string_view{};
  auto redirect = [&](const routing::Redirect& r) {
    return json::object{{"action", "redirect"},
                        {"status", r.status},
                        {"location", routing::redirect_location(r, scheme, host, scope.port, prefix, path, query)}};
  };
  if (route.filters.redirect) return redirect(*route.filters.redirect);
  // With several backends the answer depends on the pick; the heaviest one is shown.
  const routing::WeightedCluster* pick = nullptr;
  for (const auto& b : route.backends)
    if (b.weight && (!pick || b.weight > pick->weight)) pick = &b;
  if (pick && pick->filters && pick->filters->redirect) return redirect(*pick->filters->redirect);
  if (!pick) return json::object{{"action", "error"}, {"status", 500}, {"reason", "no backend has weight"}};
  if (pick->cluster == routing::kInvalidCluster)
    return json::object{{"action", "error"}, {"status", 500}, {"reason", "the backendRef is invalid (see the route's status)"}};
  uint32_t cluster_index = pick->cluster;
  const routing::Filters* pick_filters = pick->filters.get();
  std::string by = "weight";
  size_t weighted = 0;
  for (const auto& b : route.backends) weighted += b.weight ? 1 : 0;
  if (weighted == 1) by = "its only backend";
  if (route.canary) {
    // The proxy's own choice by header and cookie; the weight, a die the proxy casts per
    // request, is reported as a share.
    routing::Canary decided = *route.canary;
    decided.weight = 0;
    if (routing::canary_chosen(decided, view, 0)) {
      cluster_index = route.canary->cluster;
      pick_filters = nullptr;
      by = "canary (header or cookie)";
    } else if (route.canary->weight) {
      by = "weight; the canary takes " + std::to_string(route.canary->weight) + "/" +
           std::to_string(route.canary->weight_total) + " of the rest";
    }
  }
  const routing::Cluster& cluster = snap.clusters[cluster_index];
  if (cluster.endpoints.empty())
    return json::object{{"action", "error"}, {"status", 503}, {"reason", "no ready endpoint of " + cluster.name}};
  std::string out_target(target), out_host(host);
  for (const routing::Filters* f : {&route.filters, pick_filters}) {
    if (!f || !f->rewrite) continue;
    if (!f->rewrite->hostname.empty()) out_host = f->rewrite->hostname;
    if (auto t = routing::rewrite_target(f->rewrite->path, route.match.path, out_target)) out_target = *t;
  }
  json::object o{{"action", "forward"}, {"backend", cluster.name}, {"chosenBy", by}, {"path", out_target}, {"host", out_host}};
  if (!route.source_ranges.empty()) {
    json::array a;
    for (const auto& r : route.source_ranges) a.push_back(json::string(r.text));
    o["onlyFrom"] = std::move(a);
  }
  return o;
}

void print_text(const json::object& r) {
  auto str = [](const json::value& v) { return v.is_string() ? std::string(v.as_string()) : json::serialize(v); };
  const auto& req = r.at("request").as_object();
  std::cout << "request    " << str(req.at("method")) << " " << str(req.at("url")) << "\n";
  for (const auto& l : r.at("listeners").as_array()) {
    const auto& lo = l.as_object();
    std::cout << "listener   " << str(lo.at("listener")) << (lo.at("tls").as_bool() ? " (HTTPS)" : " (HTTP)");
    if (lo.at("gatewayListener").is_string()) std::cout << ", " << str(lo.at("gatewayListener"));
    else std::cout << ", no listener hostname takes " << str(req.at("host"));
    std::cout << "\n";
    if (const auto* route = lo.if_contains("route"); route && route->is_object()) {
      const auto& ro = route->as_object();
      const auto& s = ro.at("source").as_object();
      std::cout << "route      " << str(s.at("kind")) << " " << str(s.at("namespace")) << "/" << str(s.at("name")) << " rule "
                << s.at("rule").to_number<int64_t>() << " match " << s.at("match").to_number<int64_t>() << " (host "
                << str(lo.at("virtualHost")) << "): " << str(ro.at("matches")) << "\n";
      const auto& filters = lo.at("filters").as_array();
      for (size_t i = 0; i < filters.size(); ++i)
        std::cout << (i ? "           " : "filters    ") << i + 1 << ". " << str(filters[i]) << "\n";
      for (const auto& b : lo.at("backends").as_array()) {
        const auto& bo = b.as_object();
        std::cout << "backend    " << str(bo.at("backend")) << " weight " << bo.at("weight").to_number<int64_t>() << " ("
                  << static_cast<int>(bo.at("share").as_double() * 100 + 0.5) << "%)";
        if (const auto* e = bo.if_contains("endpoints")) std::cout << ", " << e->to_number<int64_t>() << " endpoints";
        std::cout << "\n";
        if (const auto* bf = bo.if_contains("filters"))
          for (const auto& f : bf->as_array()) std::cout << "             then " << str(f) << "\n";
      }
      if (const auto* c = lo.if_contains("canary")) std::cout << "canary     " << json::serialize(*c) << "\n";
    }
    const auto& o = lo.at("outcome").as_object();
    std::cout << "outcome    ";
    if (o.at("action") == "forward") {
      const std::string by = str(o.at("chosenBy"));
      if (by.starts_with("weight")) std::cout << "forwarded by " << by << ", most often to " << str(o.at("backend")) << ", as ";
      else std::cout << "forwarded to " << str(o.at("backend")) << " (" << by << ") as ";
      std::cout << str(req.at("method")) << " " << str(o.at("path"))
                << " with Host " << str(o.at("host"));
      if (const auto* only = o.if_contains("onlyFrom")) std::cout << " (clients in " << json::serialize(*only) << " only; others 403)";
    } else if (o.at("action") == "redirect") {
      std::cout << o.at("status").to_number<int64_t>() << " redirect to " << str(o.at("location"));
    } else {
      std::cout << o.at("status").to_number<int64_t>() << ": " << str(o.at("reason"));
    }
    std::cout << "\n";
    const auto& near = lo.at("nearMisses").as_array();
    if (!near.empty()) std::cout << "near misses\n";
    // Every route of every other host matches "/": a few of those say enough.
    size_t hostname_misses = 0, hostname_shown = 5;
    for (const auto& n : near) {
      const auto& no = n.as_object();
      if (no.at("reason") == "hostname" && ++hostname_misses > hostname_shown) continue;
      const auto& s = no.at("source").as_object();
      std::cout << "  " << str(s.at("kind")) << " " << str(s.at("namespace")) << "/" << str(s.at("name")) << " rule "
                << s.at("rule").to_number<int64_t>() << " match " << s.at("match").to_number<int64_t>() << " [" << str(no.at("reason"))
                << "] " << str(no.at("detail")) << "\n";
    }
    if (hostname_misses > hostname_shown)
      std::cout << "  ... and " << hostname_misses - hostname_shown << " more under other hosts (--output json lists them)\n";
  }
  if (r.at("listeners").as_array().empty()) std::cout << "listener   none on port " << req.at("port").to_number<int64_t>() << ": the connection is refused\n";
  const auto& refused = r.at("notAttached").as_array();
  if (!refused.empty()) std::cout << "not attached\n";
  for (const auto& x : refused) {
    const auto& xo = x.as_object();
    std::cout << "  HTTPRoute " << str(xo.at("namespace")) << "/" << str(xo.at("name")) << " to "
              << json::serialize(xo.at("parentRef")) << ": " << str(xo.at("condition")) << "=False " << str(xo.at("reason"))
              << ": " << str(xo.at("message")) << "\n";
  }
}

}  // namespace

int run_explain(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << command_help("explain");
    return 0;
  }
  std::string url, method = "GET", output = "text";
  HeaderList headers;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool takes = a == "--url" || a == "-H" || a == "--header" || a == "--method" || a == "--output";
    if (!takes) {
      rest.push_back(a);
      continue;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "gantry explain: " << a << " needs a value\n";
      return 2;
    }
    const std::string& v = args[++i];
    if (a == "--url") url = v;
    else if (a == "--method") method = v;
    else if (a == "--output") output = v;
    else {
      size_t colon = v.find(':');
      if (colon == std::string::npos || colon == 0) {
        std::cerr << "gantry explain: -H wants 'Name: value', not '" << v << "'\n";
        return 2;
      }
      std::string value = v.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(value.begin());
      headers.list.emplace_back(lower(v.substr(0, colon)), value);
    }
  }
  if (output != "text" && output != "json") {
    std::cerr << "gantry explain: --output wants text or json\n";
    return 2;
  }
  auto flags = parse_flags(rest);
  if (!flags) {
    std::cerr << "gantry explain: " << flags.error().message << "\n";
    return 2;
  }
  auto parsed = boost::urls::parse_uri(url);
  if (url.empty() || !parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty()) {
    std::cerr << "gantry explain: --url wants http(s)://host[:port]/path, not '" << url << "'\n";
    return 2;
  }
  const std::string scheme(parsed->scheme());
  const uint16_t port = parsed->has_port() ? parsed->port_number() : (scheme == "https" ? 443 : 80);
  std::string target(parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path()));
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());
  // The Host: a -H 'Host: ...' wins over the URL's, as with curl.
  std::string host_header(parsed->encoded_host());
  for (const auto& [k, v] : headers.list)
    if (k == "host") host_header = v;
  char host_buf[256];
  const std::string host(routing::normalize_host(host_header, host_buf, sizeof host_buf));

  controller::FileSource source(flags->manifests);
  controller::ScanReport scan = source.scan();
  for (const auto& e : scan.errors) std::cerr << e << "\n";
  controller::TranslateResult result = controller::translate(source.store(), flags->translate);
  const routing::Snapshot& snap = result.snapshot;

  routing::RequestView view;
  view.method = method;
  routing::split_target(target, view.path, view.query);
  headers.attach(view);

  json::object report;
  json::object req{{"method", method}, {"url", url}, {"host", host}, {"port", port}, {"target", target}};
  report["request"] = std::move(req);
  // The listeners on the URL's port: the one bound to the URL's address, else the rest.
  std::vector<const routing::Listener*> listeners;
  for (const auto& l : *snap.listeners)
    if (l.port == port && l.address == host) listeners.push_back(&l);
  if (listeners.empty())
    for (const auto& l : *snap.listeners)
      if (l.port == port) listeners.push_back(&l);
  json::array per_listener;
  for (const routing::Listener* l : listeners) {
    routing::Explanation e = routing::explain(*l, host, view);
    json::object lo{{"listener", l->name}, {"tls", l->tls}};
    lo["gatewayListener"] = e.scope ? json::value(e.scope->name) : json::value(nullptr);
    lo["virtualHost"] = e.vhost ? json::value(e.vhost->hostname.empty() ? "*" : e.vhost->hostname) : json::value(nullptr);
    if (e.route) {
      lo["route"] = json::object{{"source", source_json(e.route->source)}, {"matches", describe_match(e.route->match)}};
      lo["outcome"] = outcome(snap, *e.route, *e.scope, view, scheme, host, target, lo);
    } else {
      lo["route"] = nullptr;
      lo["outcome"] = json::object{{"action", "error"}, {"status", 404}, {"reason", "no route matches"}};
    }
    json::array near;
    for (const auto& m : e.near) {
      near.push_back(json::object{{"source", source_json(m.route->source)},
                                  {"host", m.vhost->hostname.empty() ? "*" : m.vhost->hostname},
                                  {"gatewayListener", m.scope->name},
                                  {"reason", std::string(routing::to_string(m.miss))},
                                  {"detail", m.detail}});
    }
    lo["nearMisses"] = std::move(near);
    // A listener that routes the request comes first: with several on the port (a Gateway
    // and the ingress listener, say) that is the one the reader is after.
    if (e.route) per_listener.insert(per_listener.begin(), std::move(lo));
    else per_listener.push_back(std::move(lo));
  }
  // Once one listener routes it, the ones that do not are left out of the report.
  if (per_listener.size() > 1 && per_listener[0].as_object().at("route").is_object())
    while (per_listener.size() > 1 && !per_listener.back().as_object().at("route").is_object()) per_listener.pop_back();
  report["listeners"] = std::move(per_listener);
  report["notAttached"] = refused_routes(result.status, source.store(), host);
  if (output == "json") std::cout << json::serialize(report) << "\n";
  else print_text(report);
  return scan.errors.empty() ? 0 : 1;
}

}  // namespace gantry::cmd
