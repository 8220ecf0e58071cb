// ObjectStore: the typed objects translation reads, keyed by "namespace/name".
// Maps keep iteration sorted, so translation is deterministic.
#pragma once

#include <map>
#include <string>

#include "gantry/controller/objects/decode.h"

namespace gantry::controller {

struct ObjectStore {
  std::map<std::string, Namespace> namespaces;  // by name
  std::map<std::string, GatewayClass> gateway_classes;
  std::map<std::string, Gateway> gateways;
  std::map<std::string, HTTPRoute> http_routes;
  std::map<std::string, GRPCRoute> grpc_routes;
  std::map<std::string, TLSRoute> tls_routes;
  std::map<std::string, ReferenceGrant> reference_grants;
  std::map<std::string, Service> services;
  std::map<std::string, EndpointSlice> endpoint_slices;
  std::map<std::string, Secret> secrets;
  std::map<std::string, Ingress> ingresses;
  std::map<std::string, IngressClass> ingress_classes;  // by name

  // Returns false when an object of that kind and key was already present (replaced).
  bool upsert(Object object);
  // Removes the object of `kind` ("Service", "HTTPRoute", ...) and key; false if absent.
  bool erase(std::string_view kind, const std::string& key);

  // Every namespace an object lives in gets a Namespace entry, and every Namespace the
  // label kubernetes.io/metadata.name, as the API server does since Kubernetes 1.22.
  void complete_namespaces();
  // The same for one namespace, as an object in it arrives (a source that keeps the store
  // up to date need not walk every object on each change).
  void ensure_namespace(const std::string& ns);

  const Service* find_service(const std::string& ns, const std::string& name) const;
};

}  // namespace gantry::controller
