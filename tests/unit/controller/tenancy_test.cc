// Tenancy is security: on a shared Gateway (and on the shared ingress listeners) one
// team's objects cannot reach past what the owners allow. Each case translates the
// manifests and asks the proxy's own router which route a request gets. Gateway API:
// allowedRoutes (namespaces From Same/Selector, kinds), ReferenceGrant for Services and
// Secrets in other namespaces, conflict resolution by age (the older route keeps a
// hostname and path); Ingress: the older Ingress keeps a host and path; and an object
// broken in one namespace changes nothing in another.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "gantry/controller/objects/decode.h"
#include "gantry/controller/translate/translator.h"
#include "gantry/routing/route_matcher.h"

namespace gantry::controller {
namespace {

const char* kShared = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gantry}
spec: {controllerName: gantry.dev/gateway-controller}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: gantry}
spec: {controller: gantry.dev/gateway-controller}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b, labels: {team: b}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: gantry
  listeners:
  - {name: same, port: 80, protocol: HTTP, hostname: same.example, allowedRoutes: {namespaces: {from: Same}}}
  - {name: team-a-only, port: 80, protocol: HTTP, hostname: a.example,
     allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}}
  - {name: all, port: 80, protocol: HTTP, hostname: "*.shared.example", allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: team-a}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: team-b}
spec: {ports: [{port: 8080}]}
)";

std::string route(const std::string& ns, const std::string& name, const std::string& host, const std::string& path,
                  const std::string& backend_ns = "", const std::string& created = "2026-01-01T00:00:00Z",
                  const std::string& extra_match = "") {
  return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name + ", namespace: " +
         ns + ", creationTimestamp: \"" + created + "\"}\nspec:\n  parentRefs: [{name: gw, namespace: infra}]\n"
         "  hostnames: [\"" + host + "\"]\n  rules:\n  - matches: [{path: {type: PathPrefix, value: " + path + "}" +
         extra_match + "}]\n    backendRefs: [{name: svc, port: 8080" +
         (backend_ns.empty() ? "" : ", namespace: " + backend_ns) + "}]\n";
}

std::string ingress(const std::string& ns, const std::string& name, const std::string& host, const std::string& created,
                    const std::string& annotations = "") {
  return "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: " + name + ", namespace: " + ns +
         ", creationTimestamp: \"" + created + "\", annotations: {" + annotations +
         "}}\nspec:\n  ingressClassName: gantry\n  rules:\n  - host: " + host +
         "\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: svc, port: {number: 8080}}}}\n";
}

TranslateResult translate_text(const std::string& text) {
  ObjectStore store;
  auto parsed = parse_manifest("t.yaml", text);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  if (parsed)
    for (auto& d : parsed->objects) store.upsert(std::move(d.object));
  store.complete_namespaces();
  return translate(store, TranslateOptions{});
}

// "namespace/name" of the route the proxy's router picks for host and path ("" for
// none), and whether its backend is usable.
struct Served {
  std::string by;
  bool backend_valid = false;
};
Served served(const routing::Snapshot& s, const std::string& host, const std::string& path) {
  routing::RequestView view;
  view.method = "GET";
  view.path = path;
  for (const auto& l : *s.listeners) {
    const routing::ListenerScope* scope = nullptr;
    if (const routing::Route* r = routing::match_route(l, host, view, &scope))
      return {r->source.kind + "/" + r->source.ns + "/" + r->source.name,
              !r->backends.empty() && r->backends[0].cluster != routing::kInvalidCluster};
  }
  return {};
}

TEST(Tenancy, AllowedRoutesDecideWhoAttaches) {
  auto t = translate_text(std::string(kShared) + route("team-b", "sneaky", "same.example", "/") +
                          route("team-b", "b-on-a", "a.example", "/") + route("team-a", "a", "a.example", "/a") +
                          route("team-b", "b", "b.shared.example", "/"));
  EXPECT_EQ(served(t.snapshot, "same.example", "/").by, "") << "From: Same keeps other namespaces out";
  EXPECT_EQ(served(t.snapshot, "a.example", "/x").by, "") << "the selector admits team-a only";
  EXPECT_EQ(served(t.snapshot, "a.example", "/a").by, "HTTPRoute/team-a/a");
  EXPECT_EQ(served(t.snapshot, "b.shared.example", "/").by, "HTTPRoute/team-b/b");
}

TEST(Tenancy, AnotherNamespacesServiceNeedsAReferenceGrant) {
  const std::string r = route("team-b", "b", "b.shared.example", "/", "team-a");
  auto without = translate_text(std::string(kShared) + r);
  EXPECT_EQ(served(without.snapshot, "b.shared.example", "/").by, "HTTPRoute/team-b/b");
  EXPECT_FALSE(served(without.snapshot, "b.shared.example", "/").backend_valid) << "answered 500, never team-a's pods";
  auto with = translate_text(std::string(kShared) + r +
                             "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\n"
                             "metadata: {name: let-b, namespace: team-a}\nspec:\n"
                             "  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: team-b}]\n"
                             "  to: [{group: \"\", kind: Service}]\n");
  EXPECT_TRUE(served(with.snapshot, "b.shared.example", "/").backend_valid);
}

TEST(Tenancy, AnotherNamespacesSecretNeedsAReferenceGrant) {
  auto t = translate_text(std::string(kShared) +
                          "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: tls, namespace: team-b}\n"
                          "spec:\n  gatewayClassName: gantry\n  listeners:\n"
                          "  - {name: https, port: 443, protocol: HTTPS, hostname: b.example,\n"
                          "     tls: {certificateRefs: [{name: a-cert, namespace: team-a}]}}\n");
  for (const auto& item : t.status) {
    if (item->at("kind") != "Gateway" || item->at("metadata").at("name") != "tls") continue;
    const auto& conds = item->at("status").at("listeners").at(0).at("conditions").as_array();
    bool refused = false;
    for (const auto& c : conds)
      refused = refused || (c.at("type") == "ResolvedRefs" && c.at("reason") == "RefNotPermitted");
    EXPECT_TRUE(refused) << boost::json::serialize(conds);
  }
  EXPECT_EQ(served(t.snapshot, "b.example", "/").by, "");
}

TEST(Tenancy, TheOlderRouteKeepsAHostnameAndPath) {
  // team-b comes later with the same hostname and path on the shared listener.
  auto t = translate_text(std::string(kShared) + route("team-b", "late", "x.shared.example", "/", "", "2026-06-01T00:00:00Z") +
                          route("team-a", "first", "x.shared.example", "/", "", "2026-01-01T00:00:00Z"));
  EXPECT_EQ(served(t.snapshot, "x.shared.example", "/").by, "HTTPRoute/team-a/first");
}

TEST(Tenancy, ABrokenRouteInOneNamespaceChangesNothingInAnother) {
  const std::string a = route("team-a", "a", "a.shared.example", "/");
  auto before = translate_text(std::string(kShared) + a);
  auto after = translate_text(std::string(kShared) + a +
                              route("team-b", "broken", "a.shared.example", "/", "", "2025-01-01T00:00:00Z",
                                    ", headers: [{type: RegularExpression, name: x, value: \"(\"}]"));
  EXPECT_EQ(served(after.snapshot, "a.shared.example", "/").by, "HTTPRoute/team-a/a");
  auto status_of = [](const TranslateResult& r) {
    for (const auto& item : r.status)
      if (item->at("kind") == "HTTPRoute" && item->at("metadata").at("name") == "a") return boost::json::serialize(*item);
    return std::string();
  };
  EXPECT_EQ(status_of(after), status_of(before));
}

TEST(Tenancy, IngressesTheOlderIngressKeepsAHostAndABrokenOneChangesNothing) {
  auto t = translate_text(std::string(kShared) + ingress("team-b", "late", "app.example", "2026-06-01T00:00:00Z") +
                          ingress("team-a", "first", "app.example", "2026-01-01T00:00:00Z") +
                          ingress("team-b", "broken", "other.example", "2025-01-01T00:00:00Z",
                                  "nginx.ingress.kubernetes.io/use-regex: \"true\", "
                                  "nginx.ingress.kubernetes.io/canary: \"maybe\""));
  EXPECT_EQ(served(t.snapshot, "app.example", "/").by, "Ingress/team-a/first");
}

}  // namespace
}  // namespace gantry::controller
