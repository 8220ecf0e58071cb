#include "gantry/controller/dump.h"

#include <algorithm>
#include <set>

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <re2/re2.h>
#include <regex>

namespace gantry::controller {
namespace json = boost::json;
namespace {

const char* path_type(routing::PathMatchType t) {
  switch (t) {
    case routing::PathMatchType::Exact: return "Exact";
    case routing::PathMatchType::PathPrefix: return "PathPrefix";
    case routing::PathMatchType::RegularExpression: return "RegularExpression";
  }
  return "";
}

json::array value_matches(const std::vector<routing::ValueMatch>& ms) {
  json::array out;
  for (const auto& m : ms)
    out.push_back(json::object{{"name", m.name},
                               {"type", m.type == routing::ValueMatchType::Exact ? "Exact" : "RegularExpression"},
                               {"value", m.value}});
  return out;
}

json::object header_modifier_json(const routing::HeaderModifier& m) {
  json::object o;
  auto pairs = [](const auto& v) {
    json::array a;
    for (const auto& [n, val] : v) a.push_back(json::object{{"name", n}, {"value", val}});
    return a;
  };
  if (!m.set.empty()) o["set"] = pairs(m.set);
  if (!m.add.empty()) o["add"] = pairs(m.add);
  if (!m.remove.empty()) {
    json::array a;
    for (const auto& n : m.remove) a.push_back(json::string(n));
    o["remove"] = std::move(a);
  }
  return o;
}

json::value path_modifier_json(const routing::PathModifier& p) {
  switch (p.type) {
    case routing::PathModifierType::None: return nullptr;
    case routing::PathModifierType::ReplaceFullPath: return json::object{{"replaceFullPath", p.value}};
    case routing::PathModifierType::ReplacePrefixMatch: return json::object{{"replacePrefixMatch", p.value}};
    case routing::PathModifierType::RegexReplace: return json::object{{"regexReplace", p.value}};
  }
  return nullptr;
}

json::array strings_json(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& x : v) a.push_back(json::string(x));
  return a;
}

// Cluster names for the dump, and which clusters the routes refer to: only those are
// listed, sorted by name, so the dump does not depend on the order in which a translation
// (full, or of changed routes only) met them.
struct ClusterNames {
  const routing::Snapshot& s;
  std::set<uint32_t> used;
  std::string operator()(uint32_t cluster) {
    if (cluster >= s.clusters.size()) return "?";
    used.insert(cluster);
    return s.clusters[cluster].name;
  }
};

json::object filters_json(const routing::Filters& f, ClusterNames& s) {
  json::object o;
  if (!f.request_headers.empty()) o["requestHeaderModifier"] = header_modifier_json(f.request_headers);
  if (!f.response_headers.empty()) o["responseHeaderModifier"] = header_modifier_json(f.response_headers);
  if (f.redirect) {
    json::object r{{"statusCode", f.redirect->status}};
    if (!f.redirect->url.empty()) r["url"] = f.redirect->url;
    if (f.redirect->to_https) r["toHttps"] = f.redirect->keep_trailing_slash ? "keep trailing slash" : "drop trailing slash";
    if (!f.redirect->scheme.empty()) r["scheme"] = f.redirect->scheme;
    if (!f.redirect->hostname.empty()) r["hostname"] = f.redirect->hostname;
    if (f.redirect->port) r["port"] = f.redirect->port;
    if (auto p = path_modifier_json(f.redirect->path); !p.is_null()) r["path"] = p;
    o["requestRedirect"] = std::move(r);
  }
  if (f.rewrite) {
    json::object r;
    if (!f.rewrite->hostname.empty()) r["hostname"] = f.rewrite->hostname;
    if (auto p = path_modifier_json(f.rewrite->path); !p.is_null()) r["path"] = p;
    o["urlRewrite"] = std::move(r);
  }
  if (!f.mirrors.empty()) {
    json::array a;
    for (const auto& m : f.mirrors) {
      json::object mo{{"cluster", s(m.cluster)},
                      {"fraction", std::to_string(m.numerator) + "/" + std::to_string(m.denominator)}};
      if (!m.target.empty()) mo["target"] = m.target;
      if (!m.host.empty()) mo["host"] = m.host;
      if (!m.body) mo["body"] = false;
      a.push_back(std::move(mo));
    }
    o["requestMirrors"] = std::move(a);
  }
  if (f.cors) {
    json::object c{{"allowOrigins", strings_json(f.cors->allow_origins)},
                   {"allowMethods", strings_json(f.cors->allow_methods)},
                   {"allowHeaders", strings_json(f.cors->allow_headers)},
                   {"exposeHeaders", strings_json(f.cors->expose_headers)},
                   {"allowCredentials", f.cors->allow_credentials}};
    if (f.cors->max_age >= 0) c["maxAge"] = f.cors->max_age;
    o["cors"] = std::move(c);
  }
  return o;
}

json::object route_json(const routing::Route& r, ClusterNames& s) {
  json::object match{{"path", json::object{{"type", path_type(r.match.path.type)}, {"value", r.match.path.value}}}};
  if (!r.match.method.empty()) match["method"] = r.match.method;
  if (!r.match.headers.empty()) match["headers"] = value_matches(r.match.headers);
  if (!r.match.query.empty()) match["queryParams"] = value_matches(r.match.query);
  json::array backends;
  for (const auto& b : r.backends) {
    json::object o{{"weight", b.weight}};
    o["cluster"] = b.cluster == routing::kInvalidCluster ? json::value("<invalid: answers 500>") : json::value(s(b.cluster));
    if (b.filters && !b.filters->empty()) o["filters"] = filters_json(*b.filters, s);
    backends.push_back(std::move(o));
  }
  json::object out{{"source", r.source.kind + "/" + r.source.ns + "/" + r.source.name + "/rule/" +
                                  std::to_string(r.source.rule) + "/match/" + std::to_string(r.source.match)},
                   {"match", std::move(match)},
                   {"backends", std::move(backends)}};
  if (!r.filters.empty()) out["filters"] = filters_json(r.filters, s);
  if (r.timeouts.request_ms || r.timeouts.backend_request_ms)
    out["timeouts"] = json::object{{"requestMs", r.timeouts.request_ms}, {"backendRequestMs", r.timeouts.backend_request_ms}};
  if (r.timeouts.connect_ms || r.timeouts.send_ms || r.timeouts.read_ms)
    out["upstreamTimeouts"] = json::object{
        {"connectMs", r.timeouts.connect_ms}, {"sendMs", r.timeouts.send_ms}, {"readMs", r.timeouts.read_ms}};
  if (r.canary) {
    const routing::Canary& c = *r.canary;
    json::object co{{"source", c.source},
                    {"cluster", s(c.cluster)}};
    if (!c.header.empty()) co["header"] = c.header;
    if (!c.header_value.empty()) co["headerValue"] = c.header_value;
    if (c.header_pattern) co["headerPattern"] = c.header_pattern->pattern();
    if (c.pattern_invalid) co["headerPattern"] = "<invalid: never matches>";
    if (!c.cookie.empty()) co["cookie"] = c.cookie;
    if (c.weight) co["weight"] = std::to_string(c.weight) + "/" + std::to_string(c.weight_total);
    out["canary"] = std::move(co);
  }
  if (!r.source_ranges.empty()) {
    json::array a;
    for (const auto& sr : r.source_ranges) a.push_back(json::string(sr.text));
    out["sourceRanges"] = std::move(a);
  }
  if (r.body_limit) out["bodyLimit"] = r.body_limit;
  if (r.upstream_tls || r.upstream_h2) out["upstreamProtocol"] = r.upstream_h2 ? (r.upstream_tls ? "GRPCS" : "GRPC") : "HTTPS";
  if (r.retry.attempts) {
    json::array codes;
    for (unsigned c : r.retry.codes) codes.push_back(c);
    json::object retry{{"attempts", r.retry.attempts}, {"codes", std::move(codes)}};
    if (r.retry.backoff_ms) retry["backoffMs"] = *r.retry.backoff_ms;
    else retry["backoff"] = "default";
    out["retry"] = std::move(retry);
  }
  return out;
}

void emit(YAML::Emitter& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      if (v.get_object().empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (const auto& kv : v.get_object()) {
        out << YAML::Key << std::string(kv.key()) << YAML::Value;
        emit(out, kv.value());
      }
      out << YAML::EndMap;
      break;
    case json::kind::array:
      if (v.get_array().empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const auto& item : v.get_array()) emit(out, item);
      out << YAML::EndSeq;
      break;
    case json::kind::string: {
      // Quote what a YAML reader would otherwise take for a number, bool or null; the
      // emitter quotes the rest that needs it (leading '*', ': ' and so on).
      std::string s(v.get_string());
      static const std::regex kTyped(R"([-+]?[0-9][0-9_]*(\.[0-9]*)?([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|\.[0-9]+)");
      bool ambiguous = s.empty() || std::regex_match(s, kTyped) || s == "true" || s == "false" || s == "True" ||
                       s == "False" || s == "TRUE" || s == "FALSE" || s == "null" || s == "Null" || s == "NULL" ||
                       s == "~" || s == "yes" || s == "no" || s == "on" || s == "off";
      if (ambiguous) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case json::kind::int64: out << v.get_int64(); break;
    case json::kind::uint64: out << v.get_uint64(); break;
    case json::kind::double_: out << v.get_double(); break;
    case json::kind::bool_: out << (v.get_bool() ? "true" : "false"); break;
    case json::kind::null: out << YAML::Null; break;
  }
}

}  // namespace

json::value snapshot_to_json(const routing::Snapshot& snapshot) {
  ClusterNames s{snapshot, {}};
  json::array listeners;
  for (const auto& l : *snapshot.listeners) {
    json::array scopes;
    for (const auto& scope : l.scopes) {
      json::array vhosts;
      for (const auto& v : scope.vhosts) {
        json::array routes;
        for (const auto& r : v->routes) routes.push_back(route_json(r, s));
        vhosts.push_back(json::object{{"hostname", v->hostname.empty() ? "*" : v->hostname}, {"routes", std::move(routes)}});
      }
      json::object out{{"name", scope.name}, {"hostname", scope.hostname.empty() ? "*" : scope.hostname}};
      if (scope.host_depth == routing::WildcardDepth::OneLabel) out["wildcards"] = "one label";
      if (!scope.certificates.empty()) {
        // Never the key: the dump is served on the admin port.
        json::array certs;
        for (const auto& c : scope.certificates) {
          json::array names;
          for (const auto& n : c.dns_names) names.push_back(json::string(n));
          certs.push_back(json::object{{"dnsNames", std::move(names)}});
        }
        out["certificates"] = std::move(certs);
      }
      out["virtualHosts"] = std::move(vhosts);
      scopes.push_back(std::move(out));
    }
    json::object out{{"name", l.name}, {"address", l.address}, {"port", l.port}};
    if (l.tls) out["protocol"] = "HTTPS";
    if (l.passthrough) out["protocol"] = "TLS passthrough";
    if (l.ingress) {
      json::array certs;
      for (const auto& c : l.sni_certificates) {
        json::array names;
        for (const auto& n : c.certificate.dns_names) names.push_back(json::string(n));
        certs.push_back(json::object{{"host", c.host}, {"dnsNames", std::move(names)}});
      }
      if (!l.sni_passthrough.empty()) {
        json::array pass;
        for (const auto& p : l.sni_passthrough) pass.push_back(json::object{{"host", p.host}, {"cluster", s(p.cluster)}});
        out["sslPassthrough"] = std::move(pass);
      }
      if (l.tls) {
        out["sniCertificates"] = std::move(certs);
        out["otherNames"] = "self-signed fallback certificate";
      }
    }
    out["scopes"] = std::move(scopes);
    listeners.push_back(std::move(out));
  }
  std::vector<const routing::Cluster*> used;
  for (uint32_t i : s.used) used.push_back(&snapshot.clusters[i]);
  std::sort(used.begin(), used.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  json::array clusters;
  for (const routing::Cluster* cp : used) {
    const routing::Cluster& c = *cp;
    json::array eps;
    for (const auto& e : c.endpoints) eps.push_back(json::string(e.host + ":" + std::to_string(e.port)));
    json::object co{{"name", c.name}, {"endpoints", std::move(eps)}};
    if (c.protocol == routing::UpstreamProtocol::H2c) co["protocol"] = "h2c";
    clusters.push_back(std::move(co));
  }
  return json::object{{"listeners", std::move(listeners)}, {"clusters", std::move(clusters)}};
}

std::string to_yaml(const json::value& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

boost::json::object route_to_json(const routing::Route& route, const routing::Snapshot& snapshot) {
  ClusterNames names{snapshot, {}};
  return route_json(route, names);
}

}  // namespace gantry::controller
