#include "gantry/controller/migrate.h"

#include <re2/re2.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "../translate/backends.h"
#include "../translate/context.h"
#include "../translate/ingress_annotations.h"
#include "forms.h"

namespace gantry::controller {
using namespace translate_detail;
using namespace migrate_detail;

namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_number(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

// A listener name (DNS-1123 label) for a TLS host: "https-app-example-com".
std::string listener_name(const std::string& host) {
  std::string out = "https-";
  for (char c : host) out += c == '*' ? 'w' : c == '.' ? '-' : c;
  return out.substr(0, 63);
}

// An HTTPRoute name part for a host: "app-example-com", "any" for every host.
std::string host_slug(const std::string& host) {
  if (host.empty()) return "any";
  std::string out;
  for (char c : host) out += c == '*' ? 'w' : c == '.' ? '-' : c;
  return out;
}

// One Ingress's routes on one host of one ingress listener, as HTTPRoute rules.
struct Group {
  const Ingress* ingress = nullptr;
  std::string host;
  std::string http_rules, https_rules;
  bool on_http = false, on_https = false;
};

class Writer {
 public:
  Writer(const routing::Snapshot& snap, MigrateResult& out) : snap_(snap), out_(out) {}

  void note(const Ingress& ing, const std::string& what) {
    if (!noted_.insert({&ing, what}).second) return;
    comments_[&ing].push_back(what);
    out_.notes.push_back("Ingress " + ing.meta.ns + "/" + ing.meta.name + ": " + what);
  }
  const std::vector<std::string>& comments(const Ingress& ing) { return comments_[&ing]; }

  // The rules for one translated Ingress route (a canary makes several).
  std::string rules(const Ingress& ing, const routing::Route& r) {
    std::string path = path_match(ing, r);
    std::string filters = filters_of(ing, r);
    if (r.filters.redirect) return rule(path, "", filters, "");
    std::string main = backend_refs(ing, r.backends);
    if (!r.canary) return rule(path, "", filters, main);
    const routing::Canary& c = *r.canary;
    note(ing, "the canary Ingress " + c.source + " is written as rules of this HTTPRoute");
    std::string canary = backend_refs(ing, {{c.cluster, 1, nullptr}});
    std::string out;
    // ingress-nginx's order, as rules: the header decides first, then the cookie, then the
    // weight. Each header rule has one header match, so it beats the weighted rule, and rule
    // order settles a request that carries both the header and the cookie.
    if (!c.header.empty()) {
      if (!c.header_value.empty()) {
        out += rule(path, header_match(c.header, "Exact", c.header_value), filters, canary);
      } else if (c.pattern_invalid) {
        out += rule(path, header_match(c.header, "RegularExpression", ".*"), filters, main);
        note(ing, "canary-by-header-pattern does not compile, so the header " + c.header +
                      " always means the main backend; written as a rule that says so");
      } else if (c.header_pattern) {
        out += rule(path, header_match(c.header, "RegularExpression", ".*(?:" + c.header_pattern->pattern() + ").*"),
                    filters, canary);
      } else {
        out += rule(path, header_match(c.header, "Exact", "always"), filters, canary);
        out += rule(path, header_match(c.header, "Exact", "never"), filters, main);
      }
    }
    if (!c.cookie.empty()) {
      // The Cookie header holding `name=always` among its pairs (routing::find_cookie).
      auto cookie = [&](const char* value) {
        return header_match("Cookie", "RegularExpression",
                            "(?:.*;)?[ \\t]*" + RE2::QuoteMeta(c.cookie) + "=" + value + "[ \\t]*(?:;.*)?");
      };
      out += rule(path, cookie("always"), filters, canary);
      out += rule(path, cookie("never"), filters, main);
    }
    if (c.weight == 0 || c.weight_total == 0) return out + rule(path, "", filters, main);
    const uint32_t w = std::min(c.weight, c.weight_total);
    std::string split = backend_refs(ing, r.backends, c.weight_total - w) + backend_refs(ing, {{c.cluster, 1, nullptr}}, w);
    return out + rule(path, "", filters, split);
  }

  // What a route carries that Gateway API has no field for; said once per Ingress.
  void limits(const Ingress& ing, const routing::Route& r) {
    if (!r.source_ranges.empty())
      note(ing, "whitelist-source-range has no Gateway API equivalent: clients outside it are no longer refused");
    if (r.body_limit != kDefaultIngressBodyLimit)
      note(ing, "proxy-body-size has no Gateway API equivalent (Gantry's --max-body-size applies to every route)");
    if (r.timeouts.connect_ms || r.timeouts.send_ms || r.timeouts.read_ms)
      note(ing, "proxy-connect/send/read-timeout have no Gateway API equivalent (timeouts.backendRequest bounds a "
                "whole try, not each read)");
    if (r.upstream_h2)
      note(ing, "backend-protocol GRPC/GRPCS: the Service port needs appProtocol kubernetes.io/h2c (a GRPCRoute "
                "matches by service and method)");
    if (r.upstream_tls)
      note(ing, std::string("backend-protocol ") + (r.upstream_h2 ? "GRPCS" : "HTTPS") +
                    " needs a BackendTLSPolicy for the Service, not written here");
  }

 private:
  static std::string rule(const std::string& path, const std::string& headers, const std::string& filters,
                          const std::string& backends) {
    std::string out = "  - matches:\n    - path: " + path + "\n";
    if (!headers.empty()) out += "      headers: [" + headers + "]\n";
    out += filters;
    if (!backends.empty()) out += "    backendRefs:\n" + backends;
    return out;
  }

  static std::string header_match(const std::string& name, const char* type, const std::string& value) {
    return "{type: " + std::string(type) + ", name: " + name + ", value: " + quoted(value) + "}";
  }

  std::string path_match(const Ingress& ing, const routing::Route& r) {
    const routing::PathMatch& m = r.match.path;
    if (r.filters.rewrite && r.filters.rewrite->path.type == routing::PathModifierType::RegexReplace)
      if (auto p = prefix_rewrite(m.value, r.filters.rewrite->path.value)) {
        note(ing, "the regex path " + p->prefix + "(/|$)(.*) is written as PathPrefix " + p->prefix +
                      ", which Gateway API matches case-sensitively");
        return "{type: PathPrefix, value: " + quoted(p->prefix) + "}";
      }
    switch (m.type) {
      case routing::PathMatchType::Exact: return "{type: Exact, value: " + quoted(m.value) + "}";
      case routing::PathMatchType::PathPrefix: return "{type: PathPrefix, value: " + quoted(m.value) + "}";
      default: return "{type: RegularExpression, value: " + quoted(m.value) + "}";
    }
  }

  std::string filters_of(const Ingress& ing, const routing::Route& r) {
    std::string out;
    if (r.filters.redirect) {
      const routing::Redirect& d = *r.filters.redirect;
      unsigned code = d.status;
      if (!redirect_code(code)) {
        note(ing, "redirect code " + std::to_string(code) + " is not one Gateway API allows; written as 302");
        code = 302;
      }
      std::string fields;
      if (d.to_https) {
        fields = "scheme: https, ";
        if (!d.keep_trailing_slash)
          note(ing, "ssl-redirect drops a trailing / of the path; a RequestRedirect keeps the path as it is");
      } else if (auto f = redirect_fields(d.url)) {
        if (!f->scheme.empty()) fields += "scheme: " + f->scheme + ", ";
        if (!f->hostname.empty()) fields += "hostname: " + quoted(f->hostname) + ", ";
        if (f->port) fields += "port: " + std::to_string(f->port) + ", ";
        if (!f->full_path.empty()) {
          fields += "path: {type: ReplaceFullPath, replaceFullPath: " + quoted(f->full_path) + "}, ";
          std::string shown = d.url.starts_with("$scheme://$host") ? d.url.substr(15) : d.url;
          note(ing, "the redirect to " + shown + " drops the query string; a RequestRedirect keeps it");
        }
      } else {
        note(ing, "the redirect to " + d.url + " has no RequestRedirect form (it is written as a redirect to the same URL)");
      }
      return "    filters:\n    - type: RequestRedirect\n      requestRedirect: {" + fields +
             "statusCode: " + std::to_string(code) + "}\n";
    }
    if (r.filters.rewrite) {
      const routing::UrlRewrite& w = *r.filters.rewrite;
      std::string fields;
      if (!w.hostname.empty()) fields += "hostname: " + quoted(w.hostname);
      if (w.path.type == routing::PathModifierType::RegexReplace) {
        if (auto p = prefix_rewrite(r.match.path.value, w.path.value)) {
          fields += std::string(fields.empty() ? "" : ", ") +
                    "path: {type: ReplacePrefixMatch, replacePrefixMatch: " + quoted(p->replacement) + "}";
        } else if (w.path.value.find('$') == std::string::npos) {
          fields += std::string(fields.empty() ? "" : ", ") +
                    "path: {type: ReplaceFullPath, replaceFullPath: " + quoted(w.path.value) + "}";
        } else {
          note(ing, "rewrite-target " + w.path.value +
                        " uses captures in a way URLRewrite cannot say (it replaces a prefix or the whole path): "
                        "requests reach the backend with their own path");
        }
      }
      if (!fields.empty()) out += "    - type: URLRewrite\n      urlRewrite: {" + fields + "}\n";
    }
    if (r.filters.cors) {
      const routing::Cors& c = *r.filters.cors;
      out += "    - type: CORS\n      cors:\n        allowOrigins: " + list(c.allow_origins) +
             "\n        allowMethods: " + list(c.allow_methods) + "\n        allowHeaders: " + list(c.allow_headers) +
             "\n        exposeHeaders: " + list(c.expose_headers) +
             "\n        allowCredentials: " + (c.allow_credentials ? "true" : "false") + "\n";
      if (c.max_age >= 0) out += "        maxAge: " + std::to_string(c.max_age) + "\n";
    }
    for (const routing::Mirror& m : r.filters.mirrors) {
      auto svc = cluster_service(snap_.clusters[m.cluster].name);
      if (svc && (m.target.empty() || m.target == "$request_uri") && m.body && svc->ns == ing.meta.ns && is_number(svc->port)) {
        out += "    - type: RequestMirror\n      requestMirror: {backendRef: {name: " + svc->name + ", port: " + svc->port + "}}\n";
        if (!m.host.empty() && m.host.find('.') != std::string::npos)
          note(ing, "mirror-target: the copy is sent with the request's own Host, not " + m.host);
      } else {
        note(ing, "mirror-target " + snap_.clusters[m.cluster].name +
                      " (another namespace, a fixed path, no body or not a Service) has no RequestMirror form: not written");
      }
    }
    return out.empty() ? out : "    filters:\n" + out;
  }

  static std::string list(const std::vector<std::string>& v) {
    std::string out = "[";
    for (const auto& s : v) out += (out.size() > 1 ? ", " : "") + quoted(s);
    return out + "]";
  }

  // backendRefs lines for `clusters`, with `weight` when given, else their own weights
  // when there are several.
  std::string backend_refs(const Ingress& ing, const std::vector<routing::WeightedCluster>& clusters,
                           std::optional<uint32_t> weight = std::nullopt) {
    std::string out;
    for (const auto& b : clusters) {
      if (b.cluster == routing::kInvalidCluster) continue;
      const std::string& name = snap_.clusters[b.cluster].name;
      auto svc = cluster_service(name);
      if (!svc) {
        note(ing, "backend " + name + " is not a Service: not written");
        continue;
      }
      std::string port = svc->port;
      if (!is_number(port)) {
        note(ing, "Service " + svc->name + " has no port named " + port + ": set the port by hand");
        port = "0";
      }
      out += "    - {name: " + svc->name + ", port: " + port;
      if (weight || clusters.size() > 1) out += ", weight: " + std::to_string(weight.value_or(b.weight));
      out += "}\n";
    }
    return out;
  }

  const routing::Snapshot& snap_;
  MigrateResult& out_;
  std::set<std::pair<const Ingress*, std::string>> noted_;
  std::map<const Ingress*, std::vector<std::string>> comments_;
};

}  // namespace

MigrateResult migrate_ingresses(const ObjectStore& store, const TranslateOptions& translate_options,
                                const MigrateOptions& opt) {
  MigrateResult out;
  TranslateResult translated = translate(store, translate_options);
  const routing::Snapshot& snap = translated.snapshot;
  Writer w(snap, out);

  // The Ingresses' own notes first: annotations the translation did not apply.
  std::map<std::string, const Ingress*> ours;  // "ns/name"
  std::map<std::string, std::pair<std::string, std::string>> tls_hosts;  // host -> (Secret namespace, name)
  for (const auto& [key, ing] : store.ingresses) {
    if (!ingress_is_ours(store, translate_options, ing)) continue;
    ours[ing.meta.ns + "/" + ing.meta.name] = &ing;
    std::vector<AnnotationNote> notes;
    const IngressAnnotations a = parse_ingress_annotations(ing.meta.annotations, notes);
    for (const auto& n : notes) w.note(ing, n.annotation + ": " + n.message);
    if (a.ssl_passthrough)
      w.note(ing, "ssl-passthrough is a Gateway listener with protocol TLS and tls.mode Passthrough and a TLSRoute "
                  "per host (not written here)");
    for (const auto& t : ing.tls)
      for (const auto& h : t.hosts) tls_hosts.emplace(lower(h), std::make_pair(ing.meta.ns, t.secret_name));
  }

  // The translated Ingress routes, grouped by the Ingress and host they came from.
  std::map<std::pair<std::string, std::string>, Group> groups;  // (ns/name, host)
  std::vector<std::pair<std::string, std::string>> order;
  for (const routing::Listener& l : *snap.listeners) {
    if (!l.ingress) continue;
    for (const auto& scope : l.scopes)
      for (const auto& vhost : scope.vhosts)
        for (const routing::Route& r : vhost->routes) {
          if (r.source.kind != "Ingress") continue;
          auto ing = ours.find(r.source.ns + "/" + r.source.name);
          if (ing == ours.end()) continue;
          // The Gateway's HTTPS listeners are per certificate: hosts without one are not served on 443.
          if (l.tls && !tls_hosts.count(vhost->hostname)) continue;
          std::pair<std::string, std::string> key{ing->first, vhost->hostname};
          Group& g = groups[key];
          if (!g.ingress) {
            g.ingress = ing->second;
            g.host = vhost->hostname;
            order.push_back(key);
          }
          (l.tls ? g.on_https : g.on_http) = true;
          (l.tls ? g.https_rules : g.http_rules) += w.rules(*g.ingress, r);
          w.limits(*g.ingress, r);
        }
  }
  auto names_host = [](const Ingress& ing, const std::string& host) {
    return std::any_of(ing.rules.begin(), ing.rules.end(), [&](const IngressRule& r) { return lower(r.host) == host; });
  };
  for (const auto& [key, g] : groups)
    if (g.on_http && !g.host.empty() && !tls_hosts.count(g.host) && names_host(*g.ingress, g.host))
      w.note(*g.ingress, "host " + g.host + " has no spec.tls: ingress-nginx answers it on 443 with its default "
                         "certificate, the Gateway serves it on HTTP only");

  std::string& y = out.yaml;
  y += "# Gateway API objects for the Ingresses of IngressClass " + translate_options.ingress_class +
       ", written by gantry migrate.\n";
  // A GatewayClass of ours by that name is used as it is.
  auto existing = store.gateway_classes.find(opt.gateway_class);
  if (existing == store.gateway_classes.end() || existing->second.controller_name != translate_options.controller_name)
    y += "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: " + opt.gateway_class +
         "\nspec:\n  controllerName: " + translate_options.controller_name + "\n---\n";
  y += "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: " + opt.gateway_name +
       "\n  namespace: " + opt.gateway_namespace + "\nspec:\n  gatewayClassName: " + opt.gateway_class +
       "\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n    allowedRoutes: {namespaces: {from: All}}\n";
  std::set<std::string> grant_namespaces;  // Secrets outside the Gateway's namespace
  for (const auto& [host, secret] : tls_hosts) {
    y += "  - name: " + listener_name(host) + "\n    port: 443\n    protocol: HTTPS\n    hostname: " + quoted(host) +
         "\n    tls:\n      certificateRefs: [{name: " + secret.second +
         (secret.first != opt.gateway_namespace ? ", namespace: " + secret.first : std::string()) +
         "}]\n    allowedRoutes: {namespaces: {from: All}}\n";
    if (secret.first != opt.gateway_namespace) grant_namespaces.insert(secret.first);
  }
  for (const auto& ns : grant_namespaces)
    y += "---\n# The Gateway reads certificates from Secrets in " + ns +
         ".\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata:\n  name: " +
         opt.gateway_name + "-certificates\n  namespace: " + ns +
         "\nspec:\n  from:\n  - {group: gateway.networking.k8s.io, kind: Gateway, namespace: " + opt.gateway_namespace +
         "}\n  to:\n  - {group: \"\", kind: Secret}\n";

  std::map<std::string, size_t> hosts_of;  // an Ingress's groups: one keeps the Ingress's name
  for (const auto& key : order) ++hosts_of[key.first];
  auto parent = [&](const std::string& section) {
    return "  - {name: " + opt.gateway_name + ", namespace: " + opt.gateway_namespace + ", sectionName: " + section + "}\n";
  };
  auto route = [&](const Group& g, const std::string& name, const std::string& parents, const std::string& rules,
                   const std::string& why) {
    y += "---\n";
    for (const auto& c : w.comments(*g.ingress)) y += "# " + c + "\n";
    if (!why.empty()) y += "# " + why + "\n";
    y += "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: " + name + "\n  namespace: " +
         g.ingress->meta.ns + "\nspec:\n  parentRefs:\n" + parents;
    if (!g.host.empty()) y += "  hostnames: [" + quoted(g.host) + "]\n";
    y += "  rules:\n" + rules;
  };
  for (const auto& key : order) {
    const Group& g = groups[key];
    std::string name = g.ingress->meta.name + (hosts_of[key.first] > 1 ? "-" + host_slug(g.host) : "");
    name = name.substr(0, 253);
    if (g.on_https && g.on_http && g.http_rules == g.https_rules) {
      route(g, name, parent("http") + parent(listener_name(g.host)), g.https_rules, "");
    } else {
      if (g.on_https) route(g, name, parent(listener_name(g.host)), g.https_rules, "");
      if (g.on_http)
        route(g, g.on_https ? name + "-http" : name, parent("http"), g.http_rules,
              g.on_https ? "Plain HTTP to " + g.host + ": ingress-nginx's ssl-redirect sends it to HTTPS." : "");
    }
  }
  // Notes grouped by Ingress, each Ingress's in the order they were found.
  std::stable_sort(out.notes.begin(), out.notes.end(), [](const std::string& a, const std::string& b) {
    return a.substr(0, a.find(": ")) < b.substr(0, b.find(": "));
  });
  return out;
}

}  // namespace gantry::controller
