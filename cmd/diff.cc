// gantry diff: what a change of manifests does to routing. Both sets are translated by the
// one translator; the listeners, hosts and routes are compared as the config dump shows
// them; requests derived from every route's own matches (in either set) are routed in both
// and those whose decision changed are listed; status conditions that changed follow.
// Exit 0 when nothing changed, 1 when something did: a review gate for CI.
#include <boost/json/serialize.hpp>
#include <iostream>
#include <map>
#include <set>
#include <tuple>

#include "explain.h"
#include "gantry/controller/dump.h"
#include "gantry/controller/sources/file_source.h"
#include "gantry/routing/route_matcher.h"

namespace gantry::cmd {
namespace {

namespace json = boost::json;

struct Translated {
  controller::TranslateResult result;
  std::vector<std::string> errors;
};

Translated load(const std::vector<std::string>& paths, const controller::TranslateOptions& options) {
  controller::FileSource source(paths);
  controller::ScanReport scan = source.scan();
  return {controller::translate(source.store(), options), scan.errors};
}

std::string source_name(const routing::SourceRef& s) {
  return s.kind + " " + s.ns + "/" + s.name + " rule " + std::to_string(s.rule) + " match " + std::to_string(s.match);
}

// "listener | gateway listener | host | route" -> the route as dumped.
std::map<std::string, std::string> routes_of(const routing::Snapshot& snap) {
  std::map<std::string, std::string> out;
  for (const auto& l : *snap.listeners)
    for (const auto& scope : l.scopes)
      for (const auto& v : scope.vhosts)
        for (const auto& r : v->routes)
          out[l.name + " " + scope.name + " host " + (v->hostname.empty() ? "*" : v->hostname) + ": " +
              source_name(r.source)] = json::serialize(controller::route_to_json(r, snap));
  return out;
}

// A request derived from a route's match: its path (a prefix, and below it), method,
// exact headers and query parameters; regexes have no sample of their own.
struct Sample {
  uint16_t port = 0;
  std::string address, host, method = "GET", target;
  HeaderList headers;
  bool operator<(const Sample& o) const {
    return std::tie(port, address, host, method, target, headers) < std::tie(o.port, o.address, o.host, o.method, o.target, o.headers);
  }
  std::string describe() const {
    std::string s = method + " " + host + ":" + std::to_string(port) + target;
    for (const auto& [k, v] : headers.list) s += " [" + k + ": " + v + "]";
    return s;
  }
};

void add_samples(const routing::Snapshot& snap, std::set<Sample>& out) {
  for (const auto& l : *snap.listeners)
    for (const auto& scope : l.scopes)
      for (const auto& v : scope.vhosts) {
        std::string host = v->hostname.empty() ? (scope.hostname.empty() ? "any.example" : scope.hostname) : v->hostname;
        if (host.starts_with("*.")) host = "sample" + host.substr(1);
        for (const auto& r : v->routes) {
          const auto& m = r.match;
          if (m.path.type == routing::PathMatchType::RegularExpression) continue;
          std::vector<std::string> paths{m.path.value};
          if (m.path.type == routing::PathMatchType::PathPrefix)
            paths.push_back(m.path.value + (m.path.value.ends_with("/") ? "" : "/") + "sample");
          std::string query;
          for (const auto& q : m.query)
            if (q.type == routing::ValueMatchType::Exact) query += (query.empty() ? "?" : "&") + q.name + "=" + q.value;
          for (const auto& p : paths) {
            Sample s;
            s.port = l.port;
            s.address = l.address;
            s.host = host;
            if (!m.method.empty()) s.method = m.method;
            s.target = p + query;
            for (const auto& h : m.headers)
              if (h.type == routing::ValueMatchType::Exact) s.headers.list.emplace_back(h.name, h.value);
            out.insert(s);
            if (!s.headers.list.empty() || !query.empty() || !m.method.empty()) {
              // The same path without the conditions: where the rest of the traffic goes.
              Sample plain = s;
              plain.headers.list.clear();
              plain.method = "GET";
              plain.target = p;
              out.insert(plain);
            }
          }
        }
      }
}

// Where a sample goes: the route and what it does with it, or why nothing serves it.
std::string decide(const routing::Snapshot& snap, const Sample& s) {
  const routing::Listener* listener = nullptr;
  for (const auto& l : *snap.listeners)
    if (l.port == s.port && l.address == s.address) listener = &l;
  if (!listener) return "no listener (connection refused)";
  routing::RequestView view;
  view.method = s.method;
  routing::split_target(s.target, view.path, view.query);
  s.headers.attach(view);
  const routing::Route* r = routing::match_route(*listener, s.host, view);
  if (!r) return "404 (no route)";
  json::object d = controller::route_to_json(*r, snap);
  std::string out = source_name(r->source) + " -> " + json::serialize(d.at("backends"));
  if (auto* f = d.if_contains("filters")) out += " filters " + json::serialize(*f);
  return out;
}

// "Kind namespace/name <where> Type" -> "Status Reason", from every status item.
std::map<std::string, std::string> conditions_of(const controller::StatusItems& items) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    const auto& md = item->at("metadata").as_object();
    std::string who = std::string(item->at("kind").as_string()) + " ";
    if (const auto* ns = md.if_contains("namespace")) who += std::string(ns->as_string()) + "/";
    who += std::string(md.at("name").as_string());
    const auto* st = item->if_contains("status");
    if (!st || !st->is_object()) continue;
    auto take = [&](const std::string& where, const json::value* conds) {
      if (!conds || !conds->is_array()) return;
      for (const auto& c : conds->as_array()) {
        const auto& co = c.as_object();
        out[who + where + " " + std::string(co.at("type").as_string())] =
            std::string(co.at("status").as_string()) + " " + std::string(co.at("reason").as_string());
      }
    };
    const auto& so = st->as_object();
    take("", so.if_contains("conditions"));
    if (const auto* ls = so.if_contains("listeners"))
      for (const auto& l : ls->as_array())
        take(" listener " + std::string(l.as_object().at("name").as_string()), l.as_object().if_contains("conditions"));
    if (const auto* ps = so.if_contains("parents"))
      for (const auto& p : ps->as_array())
        take(" parent " + json::serialize(p.as_object().at("parentRef")), p.as_object().if_contains("conditions"));
  }
  return out;
}

// Prints what is only in `a` (-), only in `b` (+) and in both but different (~).
size_t compare(const std::string& title, const std::map<std::string, std::string>& a,
               const std::map<std::string, std::string>& b, bool show_values) {
  std::vector<std::string> lines;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) lines.push_back("  - " + k + (show_values ? " (" + v + ")" : ""));
    else if (it->second != v) lines.push_back("  ~ " + k + (show_values ? ": " + v + " -> " + it->second : ""));
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) lines.push_back("  + " + k + (show_values ? " (" + v + ")" : ""));
  if (lines.empty()) return 0;
  std::cout << title << "\n";
  for (const auto& l : lines) std::cout << l << "\n";
  return lines.size();
}

}  // namespace

int run_diff(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << command_help("diff");
    return 0;
  }
  std::vector<std::string> rest, against;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--against") {
      rest.push_back(args[i]);
      continue;
    }
    while (i + 1 < args.size() && !args[i + 1].starts_with("--")) against.push_back(args[++i]);
  }
  if (against.empty()) {
    std::cerr << "gantry diff: --against NEW... is required (the manifests to compare with --manifests OLD...)\n";
    return 2;
  }
  auto flags = parse_flags(rest);
  if (!flags) {
    std::cerr << "gantry diff: " << flags.error().message << "\n";
    return 2;
  }
  Translated old_set = load(flags->manifests, flags->translate);
  Translated new_set = load(against, flags->translate);
  for (const auto& e : old_set.errors) std::cerr << "old: " << e << "\n";
  for (const auto& e : new_set.errors) std::cerr << "new: " << e << "\n";
  const routing::Snapshot& a = old_set.result.snapshot;
  const routing::Snapshot& b = new_set.result.snapshot;

  std::map<std::string, std::string> la, lb, ha, hb;
  auto hosts = [](const routing::Snapshot& s, std::map<std::string, std::string>& ls, std::map<std::string, std::string>& hs) {
    for (const auto& l : *s.listeners) {
      ls[l.name] = l.tls ? "HTTPS" : "HTTP";
      for (const auto& scope : l.scopes) {
        ls[l.name + " " + scope.name] = scope.hostname.empty() ? "*" : scope.hostname;
        for (const auto& v : scope.vhosts) hs[l.name + " " + scope.name + " host " + (v->hostname.empty() ? "*" : v->hostname)] = "";
      }
    }
  };
  hosts(a, la, ha);
  hosts(b, lb, hb);
  size_t changes = compare("listeners", la, lb, true);
  changes += compare("hosts", ha, hb, false);
  changes += compare("routes", routes_of(a), routes_of(b), true);

  std::set<Sample> samples;
  add_samples(a, samples);
  add_samples(b, samples);
  std::vector<std::string> moved;
  for (const Sample& s : samples) {
    std::string was = decide(a, s), now = decide(b, s);
    if (was != now) moved.push_back("  " + s.describe() + "\n      was " + was + "\n      now " + now);
  }
  if (!moved.empty()) {
    std::cout << "requests that go elsewhere (" << moved.size() << " of " << samples.size() << " derived from the routes)\n";
    for (const auto& m : moved) std::cout << m << "\n";
    changes += moved.size();
  }
  changes += compare("status conditions", conditions_of(old_set.result.status), conditions_of(new_set.result.status), true);
  if (changes == 0) std::cout << "no change to routing (" << samples.size() << " requests derived from the routes compared)\n";
  return changes == 0 ? 0 : 1;
}

}  // namespace gantry::cmd
