// backendRefs -> clusters: Service + EndpointSlices (or ExternalName, or clusterIP).
#include "backends.h"

namespace gantry::controller {
namespace translate_detail {

std::vector<routing::Endpoint> endpoints_of(const ObjectStore& store, const Service& svc, const ServicePort& port) {
  std::vector<routing::Endpoint> out;
  if (svc.type == "ExternalName") {
    if (!svc.external_name.empty()) out.push_back({svc.external_name, static_cast<uint16_t>(port.port)});
    return out;
  }
  bool any_slice = false;
  // Ready endpoints take traffic. When none is ready (every pod of a rolling update is
  // shutting down), those still serving while terminating do, as kube-proxy does
  // (KEP-1669): their in-flight graceful shutdown beats a 503.
  std::vector<routing::Endpoint> terminating;
  for (const auto& [key, slice] : store.endpoint_slices) {
    if (slice.meta.ns != svc.meta.ns || slice.service_name != svc.meta.name) continue;
    any_slice = true;
    for (const SlicePort& sp : slice.ports) {
      // EndpointSlice ports carry the Service port's name ("" when the Service has one
      // unnamed port).
      if (sp.name.value_or("") != port.name || !sp.port) continue;
      for (const SliceEndpoint& ep : slice.endpoints) {
        const bool ready = ep.ready.value_or(true);
        const bool serving_while_terminating = ep.terminating.value_or(false) && ep.serving.value_or(ready);
        if (!ready && !serving_while_terminating) continue;
        auto& into = ready ? out : terminating;
        for (const std::string& addr : ep.addresses) {
          routing::Endpoint e{addr, static_cast<uint16_t>(*sp.port)};
          if (std::find(into.begin(), into.end(), e) == into.end()) into.push_back(std::move(e));
        }
      }
    }
  }
  if (out.empty()) out = std::move(terminating);
  if (!any_slice && !svc.cluster_ip.empty() && svc.cluster_ip != "None")
    out.push_back({svc.cluster_ip, static_cast<uint16_t>(port.port)});
  return out;
}

routing::UpstreamProtocol protocol_of(const ServicePort& port) {
  // Gateway API GEP-1911: kubernetes.io/h2c is HTTP/2 with prior knowledge; any other
  // value (kubernetes.io/ws included, an HTTP/1.1 upgrade) is HTTP/1.1.
  return port.app_protocol == "kubernetes.io/h2c" ? routing::UpstreamProtocol::H2c : routing::UpstreamProtocol::Http1;
}

BackendResolution resolve_backend(Context& ctx, const BackendRef& ref, const std::string& route_ns,
                                  std::string_view route_kind) {
  BackendResolution r;
  if (!ref.group.empty() || ref.kind != "Service") {
    r.reason = "InvalidKind";
    r.message = "backendRef kind " + (ref.group.empty() ? "" : ref.group + "/") + ref.kind + " is not supported; use Service";
    return r;
  }
  std::string ns = ref.ns.value_or(route_ns);
  if (ns != route_ns &&
      !reference_granted(ctx.store, kGatewayGroup, route_kind, route_ns, "", "Service", ns, ref.name)) {
    r.reason = "RefNotPermitted";
    r.message = "no ReferenceGrant in namespace " + ns + " allows " + std::string(route_kind) + "s from " + route_ns +
                " to Service " + ref.name;
    return r;
  }
  const Service* svc = ctx.store.find_service(ns, ref.name);
  if (!svc) {
    r.reason = "BackendNotFound";
    r.message = "Service " + ns + "/" + ref.name + " not found";
    return r;
  }
  if (!ref.port) {
    r.reason = "UnsupportedValue";
    r.message = "backendRef to Service " + ns + "/" + ref.name + " needs a port";
    return r;
  }
  const ServicePort* port = nullptr;
  for (const auto& p : svc->ports)
    if (p.port == *ref.port) port = &p;
  if (!port && svc->type == "ExternalName") {
    static ServicePort any;
    any.port = *ref.port;
    port = &any;
  }
  if (!port) {
    r.reason = "BackendNotFound";
    r.message = "Service " + ns + "/" + ref.name + " has no port " + std::to_string(*ref.port);
    return r;
  }
  std::string name = ns + "/" + ref.name + ":" + std::to_string(*ref.port);
  auto [it, inserted] = ctx.clusters.try_emplace(name, static_cast<uint32_t>(ctx.snapshot.clusters.size()));
  if (inserted) ctx.snapshot.clusters.push_back({name, endpoints_of(ctx.store, *svc, *port), protocol_of(*port)});
  r.cluster = it->second;
  return r;
}

std::optional<ClusterService> cluster_service(const std::string& cluster) {
  size_t slash = cluster.find('/'), colon = cluster.rfind(':');
  if (cluster.starts_with("mirror:") || slash == std::string::npos || colon == std::string::npos || colon < slash)
    return std::nullopt;
  return ClusterService{cluster.substr(0, slash), cluster.substr(slash + 1, colon - slash - 1), cluster.substr(colon + 1)};
}

}  // namespace translate_detail

size_t refresh_endpoints(const ObjectStore& store, routing::Snapshot& snapshot) {
  size_t changed = 0;
  for (routing::Cluster& c : snapshot.clusters) {
    auto ref = translate_detail::cluster_service(c.name);
    if (!ref) continue;
    const Service* svc = store.find_service(ref->ns, ref->name);
    std::vector<routing::Endpoint> eps;
    if (svc) {
      const std::string& port_text = ref->port;
      const ServicePort* port = nullptr;
      for (const auto& p : svc->ports)
        if (std::to_string(p.port) == port_text) port = &p;
      ServicePort any;
      if (!port && svc->type == "ExternalName") {
        any.port = std::strtoll(port_text.c_str(), nullptr, 10);
        port = &any;
      }
      if (port) eps = translate_detail::endpoints_of(store, *svc, *port);
      if (port && translate_detail::protocol_of(*port) != c.protocol) {
        c.protocol = translate_detail::protocol_of(*port);
        ++changed;
      }
    }
    if (eps != c.endpoints) {
      c.endpoints = std::move(eps);
      ++changed;
    }
  }
  return changed;
}

namespace translate_detail {

uint32_t fixed_cluster(Context& ctx, const std::string& name, std::vector<routing::Endpoint> endpoints) {
  auto [it, inserted] = ctx.clusters.try_emplace(name, static_cast<uint32_t>(ctx.snapshot.clusters.size()));
  if (inserted) ctx.snapshot.clusters.push_back({name, std::move(endpoints)});
  return it->second;
}

uint32_t resolve_ingress_backend(Context& ctx, const std::string& ns, const IngressServiceBackend& b,
                                 std::string& problem) {
  const Service* svc = ctx.store.find_service(ns, b.name);
  const ServicePort* port = nullptr;
  if (svc)
    for (const auto& p : svc->ports)
      if (b.port_number ? p.port == *b.port_number : p.name == b.port_name) port = &p;
  std::string port_text = b.port_number ? std::to_string(*b.port_number) : b.port_name;
  if (!svc) {
    problem = "Service " + ns + "/" + b.name + " not found: answers 503";
  } else if (!port && svc->type == "ExternalName" && b.port_number) {
    static ServicePort any;
    any.port = *b.port_number;
    port = &any;
  } else if (!port) {
    problem = "Service " + ns + "/" + b.name + " has no port " + port_text + ": answers 503";
  }
  std::string name = ns + "/" + b.name + ":" + (port ? std::to_string(port->port) : port_text);
  auto [it, inserted] = ctx.clusters.try_emplace(name, static_cast<uint32_t>(ctx.snapshot.clusters.size()));
  if (inserted)
    ctx.snapshot.clusters.push_back({name, port ? endpoints_of(ctx.store, *svc, *port) : std::vector<routing::Endpoint>{},
                                     port ? protocol_of(*port) : routing::UpstreamProtocol::Http1});
  return it->second;
}

}  // namespace translate_detail
}  // namespace gantry::controller
