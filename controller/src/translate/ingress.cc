// Ingress v1 of our IngressClass -> the ingress HTTP and HTTPS listeners: which Ingresses
// are ours, their paths merged per host (the oldest Ingress wins a host + path), default
// backends, canaries, host-wide regex mode, TLS, and each Ingress's status and warnings.
#include "ingress.h"

#include <re2/re2.h>

#include <algorithm>

#include "backends.h"

namespace gantry::controller::translate_detail {
namespace {

constexpr const char* kLegacyClassAnnotation = "kubernetes.io/ingress.class";
constexpr const char* kDefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class";

// IngressClass selection (networking.k8s.io/v1 IngressSpec.ingressClassName): the legacy
// annotation first, as ingress-nginx reads it, then the class name, then the default class
// (file mode has no admission controller to fill it in, so it is done here).
bool is_ours(const Context& ctx, const Ingress& ing, std::string& note) {
  const TranslateOptions& opt = ctx.options;
  auto ours = [&](const std::string& name) {
    auto it = ctx.store.ingress_classes.find(name);
    return it != ctx.store.ingress_classes.end() && it->second.controller == opt.controller_name;
  };
  if (auto it = ing.meta.annotations.find(kLegacyClassAnnotation); it != ing.meta.annotations.end())
    return it->second == opt.ingress_class;
  if (ing.ingress_class_name) {
    if (*ing.ingress_class_name != opt.ingress_class) return false;
    if (ours(opt.ingress_class)) return true;
    note = "IngressClass " + opt.ingress_class + " with spec.controller " + opt.controller_name +
           " not found: the Ingress is not served";
    return false;
  }
  auto it = ctx.store.ingress_classes.find(opt.ingress_class);
  if (it == ctx.store.ingress_classes.end() || it->second.controller != opt.controller_name) return false;
  auto d = it->second.meta.annotations.find(kDefaultClassAnnotation);
  return d != it->second.meta.annotations.end() && d->second == "true";
}

struct Bind {
  std::string address;
  uint16_t port = 0;  // the listener's own port (80, 443), before --port-map
  std::string name;   // as bound, after --port-map
};

std::optional<Bind> parse_bind(const std::string& text, const std::map<uint16_t, uint16_t>& port_map) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size()) return std::nullopt;
  Bind b;
  b.address = text.substr(0, colon);
  if (b.address.starts_with("[") && b.address.ends_with("]")) b.address = b.address.substr(1, b.address.size() - 2);
  unsigned long p = std::strtoul(text.c_str() + colon + 1, nullptr, 10);
  if (p == 0 || p > 65535 || b.address.empty()) return std::nullopt;
  b.port = static_cast<uint16_t>(p);
  uint16_t bound = b.port;
  if (auto it = port_map.find(bound); it != port_map.end()) bound = it->second;
  b.name = (b.address.find(':') != std::string::npos ? "[" + b.address + "]" : b.address) + ":" + std::to_string(bound);
  return b;
}

// The ingress listener at `bind`, unless a Gateway holds that address and port.
routing::ListenerScope* add_listener(Context& ctx, const Bind& bind, bool https, std::string& problem) {
  if (auto owner = ctx.bound_owner.find(bind.name); owner != ctx.bound_owner.end()) {
    problem = bind.name + " is held by Gateway " + owner->second + "; Ingresses are not served there";
    return nullptr;
  }
  ctx.bound_owner[bind.name] = "ingress";
  ctx.bound[bind.name] = static_cast<uint32_t>(ctx.listeners.size());
  routing::Listener l;
  l.name = bind.name;
  l.address = bind.address;
  l.port = static_cast<uint16_t>(std::stoul(bind.name.substr(bind.name.rfind(':') + 1)));
  l.tls = https;
  l.ingress = true;
  routing::ListenerScope scope;
  scope.name = https ? "ingress/https" : "ingress/http";
  scope.port = bind.port;
  scope.host_depth = routing::WildcardDepth::OneLabel;
  l.scopes.push_back(std::move(scope));
  ctx.listeners.push_back(std::move(l));
  return &ctx.listeners.back().scopes.back();
}

std::string path_key(const std::string& host, const std::string& path, const std::string& type) {
  return host + "\n" + path + "\n" + type;
}

std::string ingress_key(const Ingress& ing) { return ing.meta.ns + "/" + ing.meta.name; }

// The canary Ingress's choice rules; its backend cluster is set per path.
routing::Canary make_canary(const Context& ctx, OurIngress& o) {
  const IngressAnnotations& a = o.annotations;
  routing::Canary c;
  c.source = ingress_key(*o.ingress);
  c.header = a.canary_header;
  c.header_value = a.canary_header_value;
  if (!a.canary_header_pattern.empty() && a.canary_header_value.empty()) {
    auto re = compile_regex(ctx, a.canary_header_pattern);
    if (re->ok()) {
      c.header_pattern = re;
    } else {
      c.pattern_invalid = true;
      o.warn("AnnotationInvalidValue", std::string(kNginxPrefix) + "canary-by-header-pattern: '" +
                                           a.canary_header_pattern + "' is not a valid RE2 expression (" + re->error() +
                                           "): the header never selects the canary");
    }
  }
  c.cookie = a.canary_cookie;
  c.weight = a.canary_weight;
  c.weight_total = a.canary_weight_total;
  return c;
}

}  // namespace


void translate_ingresses(Context& ctx, json::array& out) {
  std::vector<OurIngress> ours;
  for (const auto& [key, ing] : ctx.store.ingresses) {
    std::string note;
    if (is_ours(ctx, ing, note)) {
      OurIngress o;
      o.ingress = &ing;
      std::vector<AnnotationNote> notes;
      o.annotations = parse_ingress_annotations(ing.meta.annotations, notes);
      for (const AnnotationNote& n : notes)
        o.warn("Annotation" + n.reason, std::string(kNginxPrefix) + n.annotation + ": " + n.message);
      ours.push_back(std::move(o));
    } else if (!note.empty()) {
      json::object status{{"loadBalancer", json::object{}}};
      json::object item = status_item(std::string(kNetworkingGroup) + "/v1", "Ingress", ing.meta, std::move(status));
      item["warnings"] = json::array{json::object{{"reason", "IngressClassNotFound"}, {"message", note}}};
      out.push_back(std::move(item));
    }
  }
  if (ours.empty()) return;
  // The oldest Ingress wins what two claim (creation time, then namespace/name).
  std::stable_sort(ours.begin(), ours.end(), [](const OurIngress& a, const OurIngress& b) {
    return std::tie(a.ingress->meta.creation_timestamp, a.ingress->meta.ns, a.ingress->meta.name) <
           std::tie(b.ingress->meta.creation_timestamp, b.ingress->meta.ns, b.ingress->meta.name);
  });

  std::map<std::string, IngressHost> hosts;
  std::map<std::string, const OurIngress*> claimed;  // path_key -> owner
  auto backend_cluster = [&](OurIngress& o, const IngressBackend& b) -> std::optional<uint32_t> {
    if (!b.service) {
      o.warn("BackendNotSupported", "backend " + b.resource.value_or("") + " is a resource, not a Service: not routed");
      return std::nullopt;
    }
    std::string problem;
    uint32_t c = resolve_ingress_backend(ctx, o.ingress->meta.ns, *b.service, problem);
    if (!problem.empty()) o.warn("BackendNotFound", problem);
    return c;
  };

  // Rule paths of the main (not canary) Ingresses.
  for (OurIngress& o : ours) {
    if (o.annotations.canary) continue;
    const Ingress& ing = *o.ingress;
    for (size_t r = 0; r < ing.rules.size(); ++r) {
      const IngressRule& rule = ing.rules[r];
      std::string host = lower(rule.host);
      IngressHost& h = hosts[host];
      if (o.annotations.use_regex || o.annotations.rewrite_target)
        if (!h.regex_cause) h.regex_cause = &o;
      for (size_t p = 0; p < rule.paths.size(); ++p) {
        const HTTPIngressPath& path = rule.paths[p];
        std::string value = path.path.empty() ? "/" : path.path;
        if (path.path_type != "Exact" && path.path_type != "Prefix" && path.path_type != "ImplementationSpecific") {
          o.warn("InvalidPath", "host " + (host.empty() ? "*" : host) + ": pathType " + path.path_type + " is not one of Exact, Prefix, ImplementationSpecific");
          continue;
        }
        if (path.path_type != "ImplementationSpecific" && !value.starts_with("/")) {
          o.warn("InvalidPath", "path " + value + " must start with /");
          continue;
        }
        auto [it, inserted] = claimed.try_emplace(path_key(host, value, path.path_type), &o);
        if (!inserted) {
          o.warn("PathConflict", "host " + (host.empty() ? "*" : host) + " path " + value + " (" + path.path_type +
                                     ") is served by the older Ingress " + ingress_key(*it->second->ingress));
          continue;
        }
        auto cluster = backend_cluster(o, path.backend);
        if (!cluster) continue;
        h.paths.push_back({&o, value, path.path_type, *cluster, static_cast<int>(r), static_cast<int>(p), {}});
      }
    }
  }

  // spec.defaultBackend: the unmatched paths of the Ingress's own hosts; an Ingress with no
  // rules at all is the catch-all for every host (the oldest one if several).
  auto has_root = [](const IngressHost& h) {
    return std::any_of(h.paths.begin(), h.paths.end(),
                       [](const IngressPath& p) { return p.path == "/" && p.type != "Exact"; });
  };
  OurIngress* catch_all = nullptr;
  std::optional<uint32_t> catch_all_cluster;
  for (OurIngress& o : ours) {
    if (o.annotations.canary || !o.ingress->default_backend) continue;
    auto cluster = backend_cluster(o, *o.ingress->default_backend);
    if (!cluster) continue;
    if (o.ingress->rules.empty()) {
      if (catch_all) {
        o.warn("DefaultBackendConflict", "the older Ingress " + ingress_key(*catch_all->ingress) +
                                             " already is the default backend for every host");
        continue;
      }
      catch_all = &o;
      catch_all_cluster = cluster;
      continue;
    }
    for (const IngressRule& rule : o.ingress->rules) {
      IngressHost& h = hosts[lower(rule.host)];
      if (!has_root(h)) h.paths.push_back({&o, "/", "Prefix", *cluster, -1, 0, {}});
    }
  }
  if (catch_all) {
    // The catch-all also serves what no other path of a host matched, as ingress-nginx's
    // default server does; and every host without rules of its own.
    hosts[""];
    for (auto& [name, h] : hosts)
      if (!has_root(h)) h.paths.push_back({catch_all, "/", "Prefix", *catch_all_cluster, -1, 0, {}});
  }

  // Canary Ingresses: an alternative for the main path with the same host, path and type.
  for (OurIngress& o : ours) {
    if (!o.annotations.canary) continue;
    const Ingress& ing = *o.ingress;
    std::optional<routing::Canary> rules;  // made (and its pattern reported) once per Ingress
    for (const IngressRule& rule : ing.rules) {
      std::string host = lower(rule.host);
      for (const HTTPIngressPath& path : rule.paths) {
        std::string value = path.path.empty() ? "/" : path.path;
        auto hit = hosts.find(host);
        IngressPath* main = nullptr;
        if (hit != hosts.end())
          for (IngressPath& p : hit->second.paths)
            if (p.rule >= 0 && p.path == value && p.type == path.path_type) main = &p;
        if (!main) {
          o.warn("CanaryWithoutMain", "host " + (host.empty() ? "*" : host) + " path " + value + " (" + path.path_type +
                                          "): no main Ingress serves it, so this canary path does nothing");
          continue;
        }
        if (main->canary) {
          o.warn("CanaryConflict", "host " + (host.empty() ? "*" : host) + " path " + value + " already has the canary " +
                                       main->canary->source);
          continue;
        }
        auto cluster = backend_cluster(o, path.backend);
        if (!cluster) continue;
        if (!rules) rules = make_canary(ctx, o);
        routing::Canary canary = *rules;
        canary.cluster = *cluster;
        main->canary = std::move(canary);
      }
    }
    if (ing.rules.empty()) o.warn("CanaryWithoutMain", "a canary Ingress without rules does nothing");
  }

  // from-to-www-redirect: the other name of a host redirects to it, unless it is a host
  // of its own.
  std::map<std::string, std::pair<std::string, const OurIngress*>> www;
  for (const OurIngress& o : ours) {
    if (o.annotations.canary || !o.annotations.from_to_www) continue;
    for (const IngressRule& rule : o.ingress->rules) {
      std::string host = lower(rule.host);
      if (host.empty() || host.starts_with("*.")) continue;
      std::string other = host.starts_with("www.") ? host.substr(4) : "www." + host;
      if (!hosts.count(other)) www.emplace(other, std::make_pair(host, &o));
    }
  }
  for (auto& [other, to] : www) {
    hosts[other].redirect_to = to.first;
    hosts[other].redirect_owner = to.second;
  }

  // Host-wide regex mode: ingress-nginx makes every path of such a host a regex.
  for (auto& [name, h] : hosts) {
    if (!h.regex_cause) continue;
    std::set<const OurIngress*> told;
    for (const IngressPath& p : h.paths) {
      if (!told.insert(p.owner).second) continue;
      p.owner->warn("RegexModeHost",
                    "host " + (name.empty() ? "*" : name) + ": Ingress " + ingress_key(*h.regex_cause->ingress) +
                        " sets use-regex or rewrite-target, so every path of this host (other Ingresses' too) is a "
                        "case-insensitive regular expression anchored at the start, tried longest first: a Prefix "
                        "/foo also matches /foobar, and an Exact path also matches longer paths");
    }
  }

  // ssl-passthrough (ingress-nginx): a host's TLS connections go unopened to the backend
  // of its rule's first path; its paths mean nothing there, as no request is read.
  std::vector<routing::SniPassthrough> passthrough;
  std::set<std::string> passed;
  for (OurIngress& o : ours) {
    if (o.annotations.canary || !o.annotations.ssl_passthrough) continue;
    for (const IngressRule& rule : o.ingress->rules) {
      const std::string host = lower(rule.host);
      if (host.empty()) {
        o.warn("PassthroughWithoutHost", "ssl-passthrough needs a rule host: the server name picks the backend");
        continue;
      }
      if (rule.paths.empty() || !passed.insert(host).second) continue;
      if (rule.paths.size() > 1)
        o.warn("PassthroughPaths", "host " + host + ": with ssl-passthrough only the first path's backend is used " +
                                       "(no request is read on port 443)");
      if (auto cluster = backend_cluster(o, rule.paths.front().backend)) passthrough.push_back({host, *cluster});
    }
  }

  std::vector<routing::SniCertificate> certificates;
  resolve_ingress_tls(ctx, ours, hosts, certificates);

  std::string listener_problem;
  std::optional<std::string> status_address;
  for (bool https : {false, true}) {
    const std::string& text = https ? ctx.options.ingress_https : ctx.options.ingress_http;
    auto bind = parse_bind(text, ctx.options.port_map);
    if (!bind) {
      listener_problem = (https ? "--ingress-https " : "--ingress-http ") + text + " is not ADDRESS:PORT";
      continue;
    }
    std::string problem;
    routing::ListenerScope* scope = add_listener(ctx, *bind, https, problem);
    if (!scope) {
      listener_problem = problem;
      continue;
    }
    if (!status_address) status_address = bind->address;
    emit_ingress_routes(ctx, hosts, https, *scope);
    if (https) {
      ctx.listeners.back().sni_certificates = certificates;
      ctx.listeners.back().sni_passthrough = passthrough;
    }
  }

  const auto published = published_addresses(ctx);
  for (OurIngress& o : ours) {
    if (!listener_problem.empty()) o.warn("ListenerNotBound", listener_problem);
    json::array lb;
    if (published)
      for (const auto& [type, value] : *published) lb.push_back(json::object{{type == "Hostname" ? "hostname" : "ip", value}});
    else if (status_address)
      lb.push_back(json::object{{"ip", *status_address}});
    json::object status{{"loadBalancer", json::object{{"ingress", std::move(lb)}}}};
    json::object item = status_item(std::string(kNetworkingGroup) + "/v1", "Ingress", o.ingress->meta, std::move(status));
    item["warnings"] = std::move(o.warnings);
    out.push_back(std::move(item));
  }
}

}  // namespace gantry::controller::translate_detail

namespace gantry::controller {

bool ingress_is_ours(const ObjectStore& store, const TranslateOptions& options, const Ingress& ingress) {
  translate_detail::Context ctx{store, options, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  std::string note;
  return translate_detail::is_ours(ctx, ingress, note);
}

}  // namespace gantry::controller
