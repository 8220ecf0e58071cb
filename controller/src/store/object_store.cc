#include "gantry/controller/store/object_store.h"

namespace gantry::controller {
namespace {
template <class T>
bool put(std::map<std::string, T>& m, T&& v) {
  std::string key = key_of(v.meta);
  auto [it, inserted] = m.insert_or_assign(std::move(key), std::move(v));
  return inserted;
}
}  // namespace

bool ObjectStore::upsert(Object object) {
  return std::visit(
      [this](auto&& o) -> bool {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, Namespace>) return put(namespaces, std::move(o));
        else if constexpr (std::is_same_v<T, GatewayClass>) return put(gateway_classes, std::move(o));
        else if constexpr (std::is_same_v<T, Gateway>) return put(gateways, std::move(o));
        else if constexpr (std::is_same_v<T, HTTPRoute>) return put(http_routes, std::move(o));
        else if constexpr (std::is_same_v<T, GRPCRoute>) return put(grpc_routes, std::move(o));
        else if constexpr (std::is_same_v<T, TLSRoute>) return put(tls_routes, std::move(o));
        else if constexpr (std::is_same_v<T, ReferenceGrant>) return put(reference_grants, std::move(o));
        else if constexpr (std::is_same_v<T, Service>) return put(services, std::move(o));
        else if constexpr (std::is_same_v<T, Secret>) return put(secrets, std::move(o));
        else if constexpr (std::is_same_v<T, Ingress>) return put(ingresses, std::move(o));
        else if constexpr (std::is_same_v<T, IngressClass>) return put(ingress_classes, std::move(o));
        else return put(endpoint_slices, std::move(o));
      },
      std::move(object));
}

bool ObjectStore::erase(std::string_view kind, const std::string& key) {
  if (kind == "Namespace") return namespaces.erase(key) > 0;
  if (kind == "GatewayClass") return gateway_classes.erase(key) > 0;
  if (kind == "Gateway") return gateways.erase(key) > 0;
  if (kind == "HTTPRoute") return http_routes.erase(key) > 0;
  if (kind == "GRPCRoute") return grpc_routes.erase(key) > 0;
  if (kind == "TLSRoute") return tls_routes.erase(key) > 0;
  if (kind == "ReferenceGrant") return reference_grants.erase(key) > 0;
  if (kind == "Service") return services.erase(key) > 0;
  if (kind == "EndpointSlice") return endpoint_slices.erase(key) > 0;
  if (kind == "Secret") return secrets.erase(key) > 0;
  if (kind == "Ingress") return ingresses.erase(key) > 0;
  if (kind == "IngressClass") return ingress_classes.erase(key) > 0;
  return false;
}

void ObjectStore::ensure_namespace(const std::string& ns) {
  if (ns.empty()) return;
  auto [it, inserted] = namespaces.try_emplace(ns);
  if (inserted) it->second.meta.name = ns;
  it->second.meta.labels["kubernetes.io/metadata.name"] = ns;
}

void ObjectStore::complete_namespaces() {
  auto ensure = [this](const std::string& ns) {
    if (ns.empty()) return;
    auto [it, inserted] = namespaces.try_emplace(ns);
    if (inserted) it->second.meta.name = ns;
  };
  for (const auto& [k, v] : gateways) ensure(v.meta.ns);
  for (const auto& [k, v] : http_routes) ensure(v.meta.ns);
  for (const auto& [k, v] : grpc_routes) ensure(v.meta.ns);
  for (const auto& [k, v] : tls_routes) ensure(v.meta.ns);
  for (const auto& [k, v] : reference_grants) ensure(v.meta.ns);
  for (const auto& [k, v] : services) ensure(v.meta.ns);
  for (const auto& [k, v] : endpoint_slices) ensure(v.meta.ns);
  for (const auto& [k, v] : secrets) ensure(v.meta.ns);
  for (const auto& [k, v] : ingresses) ensure(v.meta.ns);
  for (auto& [name, ns] : namespaces) ns.meta.labels["kubernetes.io/metadata.name"] = name;
}

const Service* ObjectStore::find_service(const std::string& ns, const std::string& name) const {
  auto it = services.find(ns + "/" + name);
  return it == services.end() ? nullptr : &it->second;
}

}  // namespace gantry::controller
