// The routing configuration the fuzzers run against: one Gateway listener and routes of
// every match and filter kind, translated by the real controller into a real snapshot.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <string>

#include "gantry/controller/objects/decode.h"
#include "gantry/controller/store/object_store.h"
#include "gantry/controller/translate/translator.h"
#include "gantry/routing/snapshot.h"

namespace gantry::fuzz {

inline std::string fuzz_manifests(uint16_t backend_port) {
  const std::string port = std::to_string(backend_port);
  return R"(
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gantry}
spec: {controllerName: gantry.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: gantry
  addresses: [{type: IPAddress, value: 127.0.0.1}]
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: app-1
  namespace: default
  labels: {kubernetes.io/service-name: app}
addressType: IPv4
endpoints:
- addresses: [127.0.0.1]
  conditions: {ready: true}
ports: [{name: http, port: )" + port + R"(}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: every-match, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.example.com, "*.wild.example.com"]
  rules:
  - matches:
    - path: {type: Exact, value: /exact}
    - path: {type: PathPrefix, value: /prefix/}
      method: POST
    - path: {type: RegularExpression, value: "/re/[a-z]+/[0-9]{1,4}"}
    - headers: [{name: x-version, value: "2"}, {type: RegularExpression, name: x-user, value: "a.*z"}]
      queryParams: [{name: debug, value: "1"}]
    backendRefs: [{name: app, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /rewrite}
    filters:
    - type: URLRewrite
      urlRewrite: {hostname: rewritten.example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-set, value: v}], add: [{name: x-add, value: w}], remove: [x-remove]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-resp, value: r}]}
    backendRefs: [{name: app, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /redirect}
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301, path: {type: ReplaceFullPath, replaceFullPath: /elsewhere}}
  - matches:
    - path: {type: PathPrefix, value: /missing}
    backendRefs: [{name: no-such-service, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /}
    timeouts: {request: 2s}
    retry: {attempts: 1, codes: [503]}
    backendRefs: [{name: app, port: 8080, weight: 3}, {name: app, port: 8080, weight: 1}]
)";
}

// The manifests translated as `gantry serve` would; aborts when they do not translate
// (a fuzzer against no routes would test nothing).
inline routing::SnapshotPtr fuzz_snapshot(uint16_t backend_port) {
  auto file = controller::parse_manifest("fuzz.yaml", fuzz_manifests(backend_port));
  if (!file) {
    std::fprintf(stderr, "fuzz manifests: %s\n", file.error().message.c_str());
    std::abort();
  }
  controller::ObjectStore store;
  for (auto& o : file->objects) store.upsert(std::move(o.object));
  store.complete_namespaces();
  auto result = controller::translate(store, controller::TranslateOptions{});
  if (result.snapshot.listeners->empty()) {
    std::fprintf(stderr, "fuzz manifests: no listener\n");
    std::abort();
  }
  return std::make_shared<const routing::Snapshot>(std::move(result.snapshot));
}

}  // namespace gantry::fuzz
