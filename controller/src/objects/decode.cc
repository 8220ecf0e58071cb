// JSON value -> typed objects. Unknown fields are ignored; a field of the wrong type is an
// error that names the field path and the line it came from.
#include "gantry/controller/objects/decode.h"

#include <boost/json/serialize.hpp>

#include "gantry/controller/objects/base64.h"
#include "yaml_json.h"

namespace gantry::controller {
namespace json = boost::json;
namespace {

struct DecodeFailure {
  const json::value* at;
  std::string message;
};

class Reader {
 public:
  Reader(const json::object& o, std::string path) : o_(o), path_(std::move(path)) {}

  const json::value* raw(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
  }
  std::string path(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }

  std::optional<std::string> str(std::string_view key) const {
    const json::value* v = raw(key);
    if (!v) return std::nullopt;
    if (v->is_string()) return std::string(v->get_string());
    // Kubernetes accepts numbers and booleans where a label value or name is expected
    // only when quoted; tell the user rather than guessing.
    throw DecodeFailure{v, path(key) + ": expected a string"};
  }
  std::string str_or(std::string_view key, std::string fallback) const { return str(key).value_or(std::move(fallback)); }

  std::optional<int64_t> integer(std::string_view key) const {
    const json::value* v = raw(key);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
    throw DecodeFailure{v, path(key) + ": expected an integer"};
  }
  std::optional<bool> boolean(std::string_view key) const {
    const json::value* v = raw(key);
    if (!v) return std::nullopt;
    if (v->is_bool()) return v->get_bool();
    throw DecodeFailure{v, path(key) + ": expected true or false"};
  }
  // "8080" or 8080 or "http": IntOrString, kept as text.
  std::string int_or_string(std::string_view key) const {
    const json::value* v = raw(key);
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
    throw DecodeFailure{v, path(key) + ": expected an integer or a string"};
  }
  std::optional<Reader> object(std::string_view key) const {
    const json::value* v = raw(key);
    if (!v) return std::nullopt;
    if (!v->is_object()) throw DecodeFailure{v, path(key) + ": expected a mapping"};
    return Reader(v->get_object(), path(key));
  }
  template <class F>
  void each(std::string_view key, F&& f) const {
    const json::value* v = raw(key);
    if (!v) return;
    if (!v->is_array()) throw DecodeFailure{v, path(key) + ": expected a list"};
    size_t i = 0;
    for (const json::value& item : v->get_array()) {
      std::string p = path(key) + "[" + std::to_string(i++) + "]";
      if (!item.is_object()) throw DecodeFailure{&item, p + ": expected a mapping"};
      f(Reader(item.get_object(), p));
    }
  }
  std::vector<std::string> strings(std::string_view key) const {
    std::vector<std::string> out;
    const json::value* v = raw(key);
    if (!v) return out;
    if (!v->is_array()) throw DecodeFailure{v, path(key) + ": expected a list"};
    for (const json::value& item : v->get_array()) {
      if (!item.is_string()) throw DecodeFailure{&item, path(key) + ": expected a list of strings"};
      out.emplace_back(item.get_string());
    }
    return out;
  }
  std::map<std::string, std::string> string_map(std::string_view key) const {
    std::map<std::string, std::string> out;
    auto o = object(key);
    if (!o) return out;
    for (const auto& kv : o->o_) {
      if (kv.value().is_string()) out[std::string(kv.key())] = std::string(kv.value().get_string());
      else if (!kv.value().is_null()) throw DecodeFailure{&kv.value(), o->path(kv.key()) + ": expected a string"};
    }
    return out;
  }
  const json::object& raw_object() const { return o_; }

 private:
  const json::object& o_;
  std::string path_;
};

ObjectMeta read_meta(const Reader& r, bool namespaced) {
  ObjectMeta m;
  auto md = r.object("metadata");
  if (!md) throw DecodeFailure{nullptr, "metadata: missing"};
  m.name = md->str_or("name", "");
  if (m.name.empty()) throw DecodeFailure{md->raw("name"), "metadata.name: missing"};
  if (namespaced) m.ns = md->str_or("namespace", "default");
  m.labels = md->string_map("labels");
  m.annotations = md->string_map("annotations");
  m.creation_timestamp = md->str_or("creationTimestamp", "");
  if (auto g = md->integer("generation")) m.generation = *g;
  return m;
}

LabelSelector read_selector(const Reader& r) {
  LabelSelector s;
  s.match_labels = r.string_map("matchLabels");
  r.each("matchExpressions", [&](const Reader& e) {
    s.match_expressions.push_back({e.str_or("key", ""), e.str_or("operator", ""), e.strings("values")});
  });
  return s;
}

GatewayClass read_gateway_class(const Reader& r) {
  GatewayClass c{read_meta(r, false), ""};
  if (auto spec = r.object("spec")) c.controller_name = spec->str_or("controllerName", "");
  return c;
}

Gateway read_gateway(const Reader& r) {
  Gateway g;
  g.meta = read_meta(r, true);
  auto spec = r.object("spec");
  if (!spec) return g;
  g.gateway_class_name = spec->str_or("gatewayClassName", "");
  if (auto infra = spec->object("infrastructure"))
    if (auto p = infra->object("parametersRef"))
      g.parameters_ref = LocalParametersReference{p->str_or("group", ""), p->str_or("kind", ""), p->str_or("name", "")};
  spec->each("listeners", [&](const Reader& l) {
    GatewayListener listener;
    listener.name = l.str_or("name", "");
    listener.hostname = l.str("hostname");
    listener.port = l.integer("port").value_or(0);
    listener.protocol = l.str_or("protocol", "");
    if (auto t = l.object("tls")) {
      GatewayTLSConfig tls;
      tls.mode = t->str_or("mode", "Terminate");
      t->each("certificateRefs", [&](const Reader& c) {
        tls.certificate_refs.push_back({c.str_or("group", ""), c.str_or("kind", "Secret"), c.str_or("name", ""), c.str("namespace")});
      });
      listener.tls = std::move(tls);
    }
    if (auto ar = l.object("allowedRoutes")) {
      if (auto ns = ar->object("namespaces")) {
        listener.allowed_routes.from = ns->str_or("from", "Same");
        if (auto sel = ns->object("selector")) listener.allowed_routes.selector = read_selector(*sel);
      }
      if (ar->raw("kinds")) {
        std::vector<RouteGroupKind> kinds;
        ar->each("kinds", [&](const Reader& k) { kinds.push_back({k.str_or("group", kGatewayGroup), k.str_or("kind", "")}); });
        listener.allowed_routes.kinds = std::move(kinds);
      }
    }
    g.listeners.push_back(std::move(listener));
  });
  spec->each("addresses", [&](const Reader& a) {
    g.addresses.push_back({a.str_or("type", "IPAddress"), a.str_or("value", "")});
  });
  return g;
}

HTTPValueMatch read_value_match(const Reader& r) {
  return {r.str_or("type", "Exact"), r.str_or("name", ""), r.str_or("value", "")};
}

HTTPHeaderFilter read_header_filter(const std::optional<Reader>& r) {
  HTTPHeaderFilter f;
  if (!r) return f;
  r->each("set", [&](const Reader& h) { f.set.emplace_back(h.str_or("name", ""), h.str_or("value", "")); });
  r->each("add", [&](const Reader& h) { f.add.emplace_back(h.str_or("name", ""), h.str_or("value", "")); });
  f.remove = r->strings("remove");
  return f;
}

std::optional<HTTPPathModifier> read_path_modifier(const std::optional<Reader>& r) {
  if (!r) return std::nullopt;
  return HTTPPathModifier{r->str_or("type", ""), r->str_or("replaceFullPath", ""), r->str_or("replacePrefixMatch", "")};
}

std::vector<HTTPRouteFilter> read_filters(const Reader& r) {
  std::vector<HTTPRouteFilter> out;
  r.each("filters", [&](const Reader& f) {
    HTTPRouteFilter filter;
    filter.type = f.str_or("type", "");
    filter.request_header_modifier = read_header_filter(f.object("requestHeaderModifier"));
    filter.response_header_modifier = read_header_filter(f.object("responseHeaderModifier"));
    if (auto rr = f.object("requestRedirect")) {
      filter.request_redirect = HTTPRequestRedirectFilter{rr->str("scheme"), rr->str("hostname"),
                                                          read_path_modifier(rr->object("path")), rr->integer("port"),
                                                          rr->integer("statusCode")};
    }
    if (auto c = f.object("cors"))
      filter.cors = HTTPCORSFilter{c->strings("allowOrigins"), c->strings("allowMethods"), c->strings("allowHeaders"),
                                   c->strings("exposeHeaders"), c->boolean("allowCredentials").value_or(false),
                                   c->integer("maxAge")};
    if (auto u = f.object("urlRewrite"))
      filter.url_rewrite = HTTPURLRewriteFilter{u->str("hostname"), read_path_modifier(u->object("path"))};
    if (auto m = f.object("requestMirror")) {
      HTTPRequestMirrorFilter mirror;
      if (auto b = m->object("backendRef"))
        mirror.backend_ref = {b->str_or("group", ""), b->str_or("kind", "Service"), b->str_or("name", ""), b->str("namespace"),
                              b->integer("port")};
      mirror.percent = m->integer("percent");
      if (auto fr = m->object("fraction"))
        mirror.fraction = std::pair{fr->integer("numerator").value_or(0), fr->integer("denominator").value_or(100)};
      filter.request_mirror = std::move(mirror);
    }
    out.push_back(std::move(filter));
  });
  return out;
}

std::vector<ParentRef> read_parent_refs(const Reader& spec) {
  std::vector<ParentRef> out;
  spec.each("parentRefs", [&](const Reader& p) {
    ParentRef ref;
    ref.group = p.str_or("group", kGatewayGroup);
    ref.kind = p.str_or("kind", "Gateway");
    ref.ns = p.str("namespace");
    ref.name = p.str_or("name", "");
    ref.section_name = p.str("sectionName");
    ref.port = p.integer("port");
    ref.as_written = p.raw_object();
    out.push_back(std::move(ref));
  });
  return out;
}

std::vector<BackendRef> read_backend_refs(const Reader& rule) {
  std::vector<BackendRef> out;
  rule.each("backendRefs", [&](const Reader& b) {
    BackendRef ref;
    ref.group = b.str_or("group", "");
    ref.kind = b.str_or("kind", "Service");
    ref.name = b.str_or("name", "");
    ref.ns = b.str("namespace");
    ref.port = b.integer("port");
    ref.weight = b.integer("weight").value_or(1);
    ref.filters = read_filters(b);
    out.push_back(std::move(ref));
  });
  return out;
}

// What every route kind's spec has (CommonRouteSpec's parentRefs, and hostnames); each of
// spec.rules is read by `read_rule`.
template <class Route, class ReadRule>
Route read_route(const Reader& r, ReadRule read_rule) {
  Route route;
  route.meta = read_meta(r, true);
  auto spec = r.object("spec");
  if (!spec) return route;
  route.parent_refs = read_parent_refs(*spec);
  route.hostnames = spec->strings("hostnames");
  spec->each("rules", [&](const Reader& rr) { route.rules.push_back(read_rule(rr)); });
  return route;
}

HTTPRoute read_http_route(const Reader& r) {
  return read_route<HTTPRoute>(r, [](const Reader& rr) {
    HTTPRouteRule rule;
    rule.name = rr.str("name");
    rr.each("matches", [&](const Reader& m) {
      HTTPRouteMatch match;
      if (auto p = m.object("path")) {
        match.path.type = p->str_or("type", "PathPrefix");
        match.path.value = p->str_or("value", "/");
      }
      m.each("headers", [&](const Reader& h) { match.headers.push_back(read_value_match(h)); });
      m.each("queryParams", [&](const Reader& q) { match.query_params.push_back(read_value_match(q)); });
      match.method = m.str("method");
      rule.matches.push_back(std::move(match));
    });
    rule.backend_refs = read_backend_refs(rr);
    rule.filters = read_filters(rr);
    if (auto t = rr.object("timeouts")) rule.timeouts = {t->str("request"), t->str("backendRequest")};
    if (auto rt = rr.object("retry")) {
      HTTPRouteRetry retry;
      if (const auto* codes = rt->raw("codes"); codes && codes->is_array())
        for (const auto& c : codes->get_array())
          if (c.is_int64()) retry.codes.push_back(c.get_int64());
      retry.attempts = rt->integer("attempts");
      retry.backoff = rt->str("backoff");
      rule.retry = std::move(retry);
    }
    return rule;
  });
}

GRPCRoute read_grpc_route(const Reader& r) {
  return read_route<GRPCRoute>(r, [](const Reader& rr) {
    GRPCRouteRule rule;
    rule.name = rr.str("name");
    rr.each("matches", [&](const Reader& m) {
      GRPCRouteMatch match;
      if (auto mm = m.object("method")) {
        GRPCMethodMatch method;
        method.type = mm->str_or("type", "Exact");
        method.service = mm->str("service");
        method.method = mm->str("method");
        match.method = std::move(method);
      }
      m.each("headers", [&](const Reader& h) { match.headers.push_back(read_value_match(h)); });
      rule.matches.push_back(std::move(match));
    });
    rule.backend_refs = read_backend_refs(rr);
    rule.filters = read_filters(rr);
    return rule;
  });
}

TLSRoute read_tls_route(const Reader& r) {
  return read_route<TLSRoute>(r, [](const Reader& rr) {
    TLSRouteRule rule;
    rule.name = rr.str("name");
    rule.backend_refs = read_backend_refs(rr);
    return rule;
  });
}

ReferenceGrant read_reference_grant(const Reader& r) {
  ReferenceGrant g;
  g.meta = read_meta(r, true);
  auto spec = r.object("spec");
  if (!spec) return g;
  spec->each("from", [&](const Reader& f) { g.from.push_back({f.str_or("group", ""), f.str_or("kind", ""), f.str_or("namespace", "")}); });
  spec->each("to", [&](const Reader& t) { g.to.push_back({t.str_or("group", ""), t.str_or("kind", ""), t.str("name")}); });
  return g;
}

Service read_service(const Reader& r) {
  Service s;
  s.meta = read_meta(r, true);
  // status.loadBalancer: what --publish-service writes into Gateway and Ingress status.
  if (auto status = r.object("status"))
    if (auto lb = status->object("loadBalancer"))
      lb->each("ingress", [&](const Reader& i) {
        if (auto ip = i.str("ip")) s.load_balancer.push_back({"IPAddress", *ip});
        else if (auto host = i.str("hostname")) s.load_balancer.push_back({"Hostname", *host});
      });
  auto spec = r.object("spec");
  if (!spec) return s;
  s.type = spec->str_or("type", "ClusterIP");
  s.cluster_ip = spec->str_or("clusterIP", "");
  s.external_name = spec->str_or("externalName", "");
  spec->each("ports", [&](const Reader& p) {
    ServicePort port;
    port.name = p.str_or("name", "");
    port.port = p.integer("port").value_or(0);
    port.target_port = p.int_or_string("targetPort");
    port.app_protocol = p.str_or("appProtocol", "");
    s.ports.push_back(std::move(port));
  });
  return s;
}


Secret read_secret(const Reader& r) {
  Secret s;
  s.meta = read_meta(r, true);
  s.type = r.str_or("type", "Opaque");
  for (auto& [key, encoded] : r.string_map("data")) {
    auto decoded = base64_decode(encoded);
    if (!decoded) throw DecodeFailure{r.raw("data")->get_object().if_contains(key), r.path("data." + key) + ": not base64"};
    s.data[key] = std::move(*decoded);
  }
  for (auto& [key, text] : r.string_map("stringData")) s.data[key] = std::move(text);
  return s;
}

EndpointSlice read_endpoint_slice(const Reader& r) {
  EndpointSlice s;
  s.meta = read_meta(r, true);
  auto it = s.meta.labels.find("kubernetes.io/service-name");
  if (it != s.meta.labels.end()) s.service_name = it->second;
  s.address_type = r.str_or("addressType", "IPv4");
  r.each("endpoints", [&](const Reader& e) {
    SliceEndpoint ep;
    ep.addresses = e.strings("addresses");
    if (auto c = e.object("conditions")) {
      ep.ready = c->boolean("ready");
      ep.serving = c->boolean("serving");
      ep.terminating = c->boolean("terminating");
    }
    s.endpoints.push_back(std::move(ep));
  });
  r.each("ports", [&](const Reader& p) { s.ports.push_back({p.str("name"), p.integer("port")}); });
  return s;
}

IngressBackend read_ingress_backend(const Reader& r) {
  IngressBackend b;
  if (auto svc = r.object("service")) {
    IngressServiceBackend s;
    s.name = svc->str_or("name", "");
    if (auto port = svc->object("port")) {
      s.port_number = port->integer("number");
      s.port_name = port->str_or("name", "");
    }
    b.service = std::move(s);
  }
  if (auto res = r.object("resource"))
    b.resource = res->str_or("apiGroup", "") + "/" + res->str_or("kind", "") + " " + res->str_or("name", "");
  return b;
}

Ingress read_ingress(const Reader& r) {
  Ingress ing;
  ing.meta = read_meta(r, true);
  auto spec = r.object("spec");
  if (!spec) return ing;
  ing.ingress_class_name = spec->str("ingressClassName");
  if (auto d = spec->object("defaultBackend")) ing.default_backend = read_ingress_backend(*d);
  spec->each("rules", [&](const Reader& rule) {
    IngressRule out;
    out.host = rule.str_or("host", "");
    if (auto h = rule.object("http")) {
      h->each("paths", [&](const Reader& p) {
        HTTPIngressPath path;
        path.path = p.str_or("path", "");
        path.path_type = p.str_or("pathType", "ImplementationSpecific");
        if (auto b = p.object("backend")) path.backend = read_ingress_backend(*b);
        out.paths.push_back(std::move(path));
      });
    }
    ing.rules.push_back(std::move(out));
  });
  spec->each("tls", [&](const Reader& t) { ing.tls.push_back({t.strings("hosts"), t.str_or("secretName", "")}); });
  return ing;
}

std::string spec_text(const json::object& o) {
  if (const json::value* spec = o.if_contains("spec")) return json::serialize(*spec);
  json::object copy = o;
  copy.erase("metadata");
  copy.erase("status");
  return json::serialize(copy);
}

}  // namespace

const ObjectMeta& meta_of(const Object& object) {
  return std::visit([](const auto& o) -> const ObjectMeta& { return o.meta; }, object);
}
ObjectMeta& meta_of(Object& object) {
  return std::visit([](auto& o) -> ObjectMeta& { return o.meta; }, object);
}

Result<std::optional<DecodedObject>> decode_object(const json::value& value, std::string_view file,
                                                   const SourceLines* lines) {
  auto where = [&](const json::value* at) {
    int line = lines ? lines->find(at ? at : &value, lines->find(&value, 0)) : 0;
    return line > 0 ? std::string(file) + ":" + std::to_string(line) : std::string(file);
  };
  if (!value.is_object()) return Error{where(&value) + ": a manifest object must be a mapping"};
  const json::object& o = value.get_object();
  Reader r(o, "");
  try {
    std::string api = r.str_or("apiVersion", "");
    std::string kind = r.str_or("kind", "");
    std::string group = api.find('/') == std::string::npos ? "" : api.substr(0, api.find('/'));
    std::optional<Object> object;
    if (group == kGatewayGroup) {
      if (kind == "GatewayClass") object = read_gateway_class(r);
      else if (kind == "Gateway") object = read_gateway(r);
      else if (kind == "HTTPRoute") object = read_http_route(r);
      else if (kind == "GRPCRoute") object = read_grpc_route(r);
      else if (kind == "TLSRoute") object = read_tls_route(r);
      else if (kind == "ReferenceGrant") object = read_reference_grant(r);
    } else if (group.empty() && api == "v1") {
      if (kind == "Namespace") object = Namespace{read_meta(r, false)};
      else if (kind == "Service") object = read_service(r);
      else if (kind == "Secret") object = read_secret(r);
    } else if (group == kNetworkingGroup && api == std::string(kNetworkingGroup) + "/v1") {
      if (kind == "Ingress") object = read_ingress(r);
      else if (kind == "IngressClass") {
        IngressClass c{read_meta(r, false), ""};
        if (auto spec = r.object("spec")) c.controller = spec->str_or("controller", "");
        object = std::move(c);
      }
    } else if (group == "discovery.k8s.io" && kind == "EndpointSlice") {
      object = read_endpoint_slice(r);
    }
    if (!object) return std::optional<DecodedObject>{};
    int line = lines ? lines->find(&value, 0) : 0;
    meta_of(*object).source = line > 0 ? std::string(file) + ":" + std::to_string(line) : std::string(file);
    auto fnv1a = [](const std::string& text) {
      uint64_t h = 1469598103934665603ull;
      for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
      return h;
    };
    return std::optional<DecodedObject>{
        DecodedObject{std::move(*object), kind, fnv1a(spec_text(o)), fnv1a(json::serialize(value))}};
  } catch (const DecodeFailure& f) {
    const json::value* md = o.if_contains("metadata");
    const json::value* nm = md && md->is_object() ? md->get_object().if_contains("name") : nullptr;
    std::string who = nm && nm->is_string() ? " (" + std::string(nm->get_string()) + ")" : "";
    const json::value* kind = o.if_contains("kind");
    std::string k = kind && kind->is_string() ? std::string(kind->get_string()) : "object";
    return Error{where(f.at) + ": " + k + who + ": " + f.message};
  }
}

}  // namespace gantry::controller
