// plan_exchange, one row per way a request is answered: manifests in, a request's head
// (host, path, method, headers, SNI, client address) and the worker's draws, and the plan
// out (forward to which backend, or which answer the gateway makes itself). No sockets:
// the plan depends on nothing a carrier (HTTP/1.1 connection, HTTP/2 stream) frames.
#include "../../../proxy/src/exchange.h"

#include <gtest/gtest.h>

#include "gantry/controller/objects/decode.h"
#include "gantry/controller/translate/translator.h"
#include "gantry/routing/route_matcher.h"

namespace gantry::proxy {
namespace {

const char* kBase = R"(
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
  - {name: a, port: 80, protocol: HTTP, hostname: a.example.com}
  - {name: b, port: 80, protocol: HTTP, hostname: b.example.com}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: gantry}
spec: {controller: gantry.dev/gateway-controller}
)";

std::string service(const std::string& name, bool endpoints = true) {
  std::string out = "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name +
                    ", namespace: default}\nspec: {ports: [{name: http, port: 80}]}\n";
  if (endpoints)
    out += "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: " + name +
           "-1, namespace: default, labels: {kubernetes.io/service-name: " + name +
           "}}\naddressType: IPv4\nendpoints: [{addresses: [127.0.0.9]}]\nports: [{name: http, port: 8080}]\n";
  return out;
}

std::string route(const std::string& name, const std::string& host, const std::string& rules) {
  return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name +
         ", namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [" + host + "]\n  rules:\n" + rules;
}

std::string ingress(const std::string& name, const std::string& annotations, const std::string& svc) {
  return "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
         "\n  namespace: default\n  annotations: {" + annotations +
         "}\nspec:\n  ingressClassName: gantry\n  rules:\n  - host: ing.example.com\n    http:\n      paths:\n"
         "      - {pathType: Prefix, path: /, backend: {service: {name: " + svc + ", port: {number: 80}}}}\n";
}

const std::string kManifests =
    service("one") + service("two") + service("empty", false) +
    route("plain", "a.example.com", "  - backendRefs: [{name: one, port: 80}]\n") +
    route("split", "b.example.com",
          "  - matches: [{path: {type: PathPrefix, value: /split}}]\n"
          "    backendRefs: [{name: one, port: 80, weight: 1}, {name: two, port: 80, weight: 1}]\n"
          "  - matches: [{path: {type: PathPrefix, value: /moved}}]\n"
          "    filters: [{type: RequestRedirect, requestRedirect: {hostname: elsewhere.example, statusCode: 301}}]\n"
          "  - matches: [{path: {type: PathPrefix, value: /per-backend}}]\n"
          "    backendRefs: [{name: one, port: 80, filters: [{type: RequestRedirect, requestRedirect: "
          "{hostname: other.example, statusCode: 302}}]}]\n"
          "  - matches: [{path: {type: PathPrefix, value: /cors}}]\n"
          "    filters: [{type: CORS, cors: {allowOrigins: [\"https://app.example\"], allowMethods: [GET]}}]\n"
          "    backendRefs: [{name: one, port: 80}]\n"
          "  - matches: [{path: {type: PathPrefix, value: /missing}}]\n"
          "    backendRefs: [{name: nowhere, port: 80}]\n"
          "  - matches: [{path: {type: PathPrefix, value: /empty}}]\n"
          "    backendRefs: [{name: empty, port: 80}]\n"
          "  - matches: [{path: {type: PathPrefix, value: /zero}}]\n"
          "    backendRefs: [{name: one, port: 80, weight: 0}]\n") +
    ingress("guarded", "nginx.ingress.kubernetes.io/whitelist-source-range: \"10.0.0.0/8\"", "one") +
    ingress("guarded-canary",
            "nginx.ingress.kubernetes.io/canary: \"true\", nginx.ingress.kubernetes.io/canary-by-header: X-Canary",
            "two");

struct Row {
  const char* name;
  const char* listener;  // "address:port"
  std::string host, path;
  // "forward CLUSTER", "error STATUS[ DETAIL]", "redirect STATUS", "preflight"
  std::string want;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string sni = "";
  std::vector<uint8_t> client = {127, 0, 0, 1};
  uint64_t pick_draw = 0;

  Row&& with_method(std::string m, std::vector<std::pair<std::string, std::string>> h = {}) && {
    method = std::move(m);
    headers = std::move(h);
    return std::move(*this);
  }
  Row&& with_headers(std::vector<std::pair<std::string, std::string>> h) && {
    headers = std::move(h);
    return std::move(*this);
  }
  Row&& with_sni(std::string s) && {
    sni = std::move(s);
    return std::move(*this);
  }
  Row&& from(std::vector<uint8_t> c) && {
    client = std::move(c);
    return std::move(*this);
  }
  Row&& draw(uint64_t d) && {
    pick_draw = d;
    return std::move(*this);
  }
};

class PlanExchange : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto parsed = controller::parse_manifest("t.yaml", kBase + kManifests);
    ASSERT_TRUE(parsed) << parsed.error().message;
    controller::ObjectStore store;
    for (auto& d : parsed->objects) store.upsert(std::move(d.object));
    store.complete_namespaces();
    result_ = new controller::TranslateResult(controller::translate(store, controller::TranslateOptions{}));
  }
  static void TearDownTestSuite() { delete result_; }

  static std::string plan(const Row& row) {
    const routing::Snapshot& snap = result_->snapshot;
    const routing::Listener* listener = nullptr;
    for (const routing::Listener& l : *snap.listeners)
      if (l.name == row.listener) listener = &l;
    char buf[256];
    ExchangeRequest ask;
    ask.host = routing::normalize_host(row.host, buf, sizeof buf);
    ask.sni = row.sni;
    ask.view.method = row.method;
    routing::split_target(row.path, ask.view.path, ask.view.query);
    routing::HeaderPairs headers{row.headers};
    headers.attach(ask.view);
    ask.client_addr = row.client.data();
    ask.client_addr_len = static_cast<uint8_t>(row.client.size());
    ExchangePlan p = plan_exchange(&snap, listener, ask, row.pick_draw, 0);
    switch (p.answer) {
      case Answer::Forward:
        EXPECT_TRUE(p.route && p.cluster && &snap.clusters[p.cluster_index] == p.cluster);
        return "forward " + p.cluster->name;
      case Answer::Error:
        return "error " + std::to_string(status_of(p.error)) + (p.detail.empty() ? "" : " " + std::string(p.detail));
      case Answer::Redirect:
        return "redirect " + std::to_string(p.redirect->status);
      case Answer::Preflight:
        return "preflight";
    }
    return "?";
  }
  static controller::TranslateResult* result_;
};
controller::TranslateResult* PlanExchange::result_ = nullptr;

TEST_F(PlanExchange, EachWayARequestIsAnswered) {
  const std::vector<std::pair<std::string, std::string>> preflight = {{"origin", "https://app.example"},
                                                                        {"access-control-request-method", "GET"}};
  std::vector<Row> rows;
  rows.push_back({"a host's route", "127.0.0.1:80", "a.example.com", "/", "forward default/one:80"});
  rows.push_back({"a host with a port and capitals", "127.0.0.1:80", "A.Example.COM:80", "/x", "forward default/one:80"});
  rows.push_back({"no listener hostname matches", "127.0.0.1:80", "c.example.com", "/", "error 404"});
  rows.push_back({"no listener on the port", "127.0.0.1:81", "a.example.com", "/", "error 404"});
  rows.push_back({"no rule matches the path", "127.0.0.1:80", "b.example.com", "/none", "error 404"});
  rows.push_back(Row{"SNI of the same listener", "127.0.0.1:80", "a.example.com", "/", "forward default/one:80"}.with_sni("a.example.com"));
  rows.push_back(Row{"SNI of another listener: 421", "127.0.0.1:80", "a.example.com", "/", "error 421"}.with_sni("b.example.com"));
  rows.push_back(Row{"SNI no listener names", "127.0.0.1:80", "a.example.com", "/", "forward default/one:80"}.with_sni("z.example.com"));
  rows.push_back(Row{"weights 1:1, low draw", "127.0.0.1:80", "b.example.com", "/split", "forward default/one:80"}.draw(0));
  rows.push_back(Row{"weights 1:1, high draw", "127.0.0.1:80", "b.example.com", "/split", "forward default/two:80"}.draw(1));
  rows.push_back({"the rule's redirect", "127.0.0.1:80", "b.example.com", "/moved", "redirect 301"});
  rows.push_back({"the backendRef's redirect", "127.0.0.1:80", "b.example.com", "/per-backend", "redirect 302"});
  rows.push_back(Row{"a CORS preflight", "127.0.0.1:80", "b.example.com", "/cors", "preflight"}.with_method("OPTIONS", preflight));
  rows.push_back(Row{"OPTIONS without a requested method is no preflight", "127.0.0.1:80", "b.example.com", "/cors",
                     "forward default/one:80"}.with_method("OPTIONS", {{"origin", "https://app.example"}}));
  rows.push_back(Row{"a preflight where no CORS filter is", "127.0.0.1:80", "a.example.com", "/", "forward default/one:80"}
                     .with_method("OPTIONS", preflight));
  rows.push_back(Row{"GET with the preflight's headers is no preflight", "127.0.0.1:80", "b.example.com", "/cors",
                     "forward default/one:80"}.with_headers(preflight));
  rows.push_back({"a Service that does not exist", "127.0.0.1:80", "b.example.com", "/missing", "error 500"});
  rows.push_back({"every weight zero", "127.0.0.1:80", "b.example.com", "/zero", "error 500"});
  rows.push_back({"a Service without endpoints", "127.0.0.1:80", "b.example.com", "/empty", "error 503 default/empty:80"});
  rows.push_back({"a source outside the allowed range", "0.0.0.0:80", "ing.example.com", "/", "error 403"});
  rows.push_back(Row{"a source inside it", "0.0.0.0:80", "ing.example.com", "/", "forward default/one:80"}.from({10, 1, 2, 3}));
  rows.push_back(Row{"the canary's header", "0.0.0.0:80", "ing.example.com", "/", "forward default/two:80"}
                     .with_headers({{"x-canary", "always"}}).from({10, 1, 2, 3}));
  rows.push_back(Row{"the canary's header says never", "0.0.0.0:80", "ing.example.com", "/", "forward default/one:80"}
                     .with_headers({{"x-canary", "never"}}).from({10, 1, 2, 3}));
  for (const Row& row : rows) EXPECT_EQ(plan(row), row.want) << row.name;
}

TEST_F(PlanExchange, NoSnapshotOrListenerIsNoRoute) {
  ExchangeRequest ask;
  EXPECT_EQ(plan_exchange(nullptr, nullptr, ask, 0, 0).error, ProxyError::NoRoute);
  EXPECT_EQ(plan_exchange(&result_->snapshot, nullptr, ask, 0, 0).answer, Answer::Error);
}

}  // namespace
}  // namespace gantry::proxy
