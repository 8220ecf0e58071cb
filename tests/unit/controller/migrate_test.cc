// gantry migrate, one row per ingress-nginx form: the Ingress in, the Gateway API text it
// must be written as, and the proof on the two sets (how many differences it lists, none
// unlisted). Then the proof itself: an edited output is caught, request by request.
#include <gtest/gtest.h>

#include "gantry/controller/migrate.h"
#include "gantry/controller/objects/decode.h"

namespace gantry::controller {
namespace {

const char* kBase = R"(
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: gantry, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: gantry.dev/gateway-controller}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1]}]
ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: next, namespace: default}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: next, namespace: default, labels: {kubernetes.io/service-name: next}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.2]}]
ports: [{name: http, port: 8080}]
)";

// An Ingress on app.example.com with one path to `service`.
std::string ing(const std::string& name, const std::string& annotations, const std::string& path = "/",
                const std::string& type = "Prefix", const std::string& service = "web") {
  return "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
         "\n  namespace: default\n  annotations: {" + annotations +
         "}\nspec:\n  rules:\n  - host: app.example.com\n    http:\n      paths:\n      - {path: '" + path +
         "', pathType: " + type + ", backend: {service: {name: " + service + ", port: {number: 80}}}}\n";
}
std::string a(const std::string& name, const std::string& value) {
  return "nginx.ingress.kubernetes.io/" + name + ": '" + value + "', ";
}

ObjectStore store_of(const std::string& manifests) {
  auto parsed = parse_manifest("t.yaml", kBase + manifests);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  ObjectStore store;
  if (parsed)
    for (auto& d : parsed->objects) store.upsert(std::move(d.object));
  store.complete_namespaces();
  return store;
}

struct Row {
  const char* name;
  std::string manifests;
  std::vector<std::string> written;  // each must be in the output
  size_t listed = 0;                 // differences the notes account for
  std::string note;                  // "" or a part of one note
};

class MigrateForms : public ::testing::TestWithParam<Row> {};

TEST_P(MigrateForms, WrittenAndRoutedAlike) {
  const Row& row = GetParam();
  ObjectStore store = store_of(row.manifests);
  MigrateResult out = migrate_ingresses(store, TranslateOptions{}, MigrateOptions{});
  for (const auto& w : row.written) EXPECT_NE(out.yaml.find(w), std::string::npos) << "missing: " << w << "\n" << out.yaml;
  if (!row.note.empty()) {
    bool found = false;
    for (const auto& n : out.notes) found = found || n.find(row.note) != std::string::npos;
    EXPECT_TRUE(found) << "no note with: " << row.note;
  }
  auto proof = prove_migration(store, TranslateOptions{}, MigrateOptions{}, out);
  ASSERT_TRUE(proof) << proof.error().message;
  EXPECT_GE(proof->compared, 2u);
  EXPECT_EQ(proof->unlisted(), 0u) << out.yaml;
  EXPECT_EQ(proof->differences.size(), row.listed);
  for (const auto& d : proof->differences)
    EXPECT_FALSE(d.listed.empty()) << d.probe.describe() << ": " << d.ingress << " / " << d.gateway;
}

const Row kRows[] = {
    {"PrefixAndExact", ing("p", "", "/shop") + ing("e", "", "/shop", "Exact", "next"),
     {"{type: PathPrefix, value: \"/shop\"}", "{type: Exact, value: \"/shop\"}"}},
    {"CanaryByWeight", ing("main", "") + ing("c", a("canary", "true") + a("canary-weight", "25"), "/", "Prefix", "next"),
     {"{name: web, port: 80, weight: 75}", "{name: next, port: 80, weight: 25}"}, 0, "is written as rules of this HTTPRoute"},
    {"CanaryByHeaderAlwaysNever",
     ing("main", "") + ing("c", a("canary", "true") + a("canary-by-header", "X-Beta"), "/", "Prefix", "next"),
     {"{type: Exact, name: x-beta, value: \"always\"}", "{type: Exact, name: x-beta, value: \"never\"}"}},
    {"CanaryByHeaderValue",
     ing("main", "") +
         ing("c", a("canary", "true") + a("canary-by-header", "X-Env") + a("canary-by-header-value", "blue"), "/",
             "Prefix", "next"),
     {"{type: Exact, name: x-env, value: \"blue\"}"}},
    {"CanaryByHeaderPattern",
     ing("main", "") +
         ing("c", a("canary", "true") + a("canary-by-header", "X-Env") + a("canary-by-header-pattern", "^(al|bl)"), "/",
             "Prefix", "next"),
     {"{type: RegularExpression, name: x-env, value: \".*(?:^(al|bl)).*\"}"}},
    {"CanaryByCookieThenWeight",
     ing("main", "") +
         ing("c", a("canary", "true") + a("canary-by-header", "X-Beta") + a("canary-by-cookie", "beta") +
                      a("canary-weight", "5") + a("canary-weight-total", "1000"),
             "/", "Prefix", "next"),
     {"name: Cookie", "beta=always", "beta=never", "weight: 995"}},
    {"PermanentRedirectToAnotherHost", ing("r", a("permanent-redirect", "https://new.example.com$request_uri")),
     {"requestRedirect: {scheme: https, hostname: \"new.example.com\", statusCode: 301}"}},
    {"TemporalRedirectToFixedUrl", ing("r", a("temporal-redirect", "https://new.example.com:8443/moved")),
     {"requestRedirect: {scheme: https, hostname: \"new.example.com\", port: 8443, path: {type: ReplaceFullPath, "
      "replaceFullPath: \"/moved\"}, statusCode: 302}"},
     0, "drops the query string"},
    {"RedirectCodeGatewayApiHasNot",
     ing("r", a("permanent-redirect", "https://new.example.com$request_uri") + a("permanent-redirect-code", "300")),
     {"statusCode: 302"}, 2, "redirect code 300"},
    {"RedirectWithoutForm", ing("r", a("permanent-redirect", "https://new.example.com/old$request_uri")),
     {"requestRedirect: {statusCode: 301}"}, 2, "has no RequestRedirect form"},
    {"AppRoot", ing("r", a("app-root", "/start")),
     {"{type: Exact, value: \"/\"}", "replaceFullPath: \"/start\"}, statusCode: 302"}},
    {"FromToWww", ing("r", a("from-to-www-redirect", "true")),
     {"hostnames: [\"www.app.example.com\"]", "requestRedirect: {hostname: \"app.example.com\", statusCode: 308}"}},
    {"RewriteClassicCaptures", ing("r", a("rewrite-target", "/$2"), "/api(/|$)(.*)", "ImplementationSpecific"),
     {"{type: PathPrefix, value: \"/api\"}", "replacePrefixMatch: \"/\""}, 0, "matches case-sensitively"},
    {"RewriteFixed", ing("r", a("rewrite-target", "/index.html"), "/old", "Prefix"),
     {"{type: RegularExpression, value: \"(?i)(?:/old).*\"}", "replaceFullPath: \"/index.html\""}},
    // "/x/$1" keeps one capture: URLRewrite cannot, so requests keep their path (listed).
    {"RewriteOtherCaptures", ing("r", a("rewrite-target", "/x/$1"), "/old/(.*)", "ImplementationSpecific"),
     {"{type: RegularExpression"}, 2, "uses captures"},
    {"UpstreamVhostAndCors", ing("r", a("upstream-vhost", "inside.local") + a("enable-cors", "true")),
     {"urlRewrite: {hostname: \"inside.local\"}", "type: CORS"}},
    {"ForceSslRedirectWithoutTls", ing("r", a("force-ssl-redirect", "true")),
     {"requestRedirect: {scheme: https, statusCode: 308}"}, 0, "has no spec.tls"},
    {"DefaultBackend",
     "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: d, namespace: default}\nspec:\n"
     "  defaultBackend: {service: {name: next, port: {number: 80}}}\n" + ing("r", "", "/app"),
     {"name: d-any", "name: d-app-example-com"}},
    {"MissingService", ing("r", "", "/", "Prefix", "gone"), {"{name: gone, port: 80}"}, 2},
};

INSTANTIATE_TEST_SUITE_P(Rows, MigrateForms, ::testing::ValuesIn(kRows), [](const auto& info) { return info.param.name; });

TEST(MigrateProof, AnEditedOutputIsCaughtRequestByRequest) {
  ObjectStore store = store_of(ing("main", "") + ing("c", a("canary", "true") + a("canary-by-header", "X-Beta") +
                                                             a("canary-weight", "25"),
                                                         "/", "Prefix", "next") +
                               ing("r", a("permanent-redirect", "https://new.example.com$request_uri"), "/old"));
  MigrateResult out = migrate_ingresses(store, TranslateOptions{}, MigrateOptions{});
  auto clean = prove_migration(store, TranslateOptions{}, MigrateOptions{}, out);
  ASSERT_TRUE(clean);
  ASSERT_EQ(clean->differences.size(), 0u);

  auto edited = [&](const std::string& from, const std::string& to) {
    MigrateResult e = out;
    size_t at = e.yaml.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) e.yaml.replace(at, from.size(), to);
    auto proof = prove_migration(store, TranslateOptions{}, MigrateOptions{}, e);
    EXPECT_TRUE(proof);
    return proof ? *proof : MigrationProof{};
  };
  // The weights: every probe the weighted rule decides differs, and says how.
  MigrationProof w = edited("weight: 25", "weight: 50");
  ASSERT_GE(w.unlisted(), 1u);
  EXPECT_NE(w.differences[0].ingress.find("default/next:80 25%"), std::string::npos) << w.differences[0].ingress;
  EXPECT_NE(w.differences[0].gateway.find("default/next:80 40%"), std::string::npos) << w.differences[0].gateway;
  // The header rule gone: "x-beta: always" now goes by weight.
  MigrationProof h = edited("value: \"always\"", "value: \"sometimes\"");
  ASSERT_EQ(h.unlisted(), 2u);  // "/" and "/sample" with the header
  for (const auto& d : h.differences) EXPECT_EQ(d.probe.headers.at(0).second, "always") << d.probe.describe();
  // The redirect's host.
  MigrationProof r = edited("hostname: \"new.example.com\"", "hostname: \"other.example.com\"");
  ASSERT_GE(r.unlisted(), 1u);
  EXPECT_EQ(r.differences[0].ingress, "301 to https://new.example.com/old");
  EXPECT_EQ(r.differences[0].gateway, "301 to https://other.example.com/old");
  // A route removed: its requests are 404 now.
  MigrationProof gone = edited("    - path: {type: PathPrefix, value: \"/old\"}", "    - path: {type: Exact, value: \"/elsewhere\"}");
  ASSERT_GE(gone.unlisted(), 1u);
  EXPECT_EQ(gone.differences[0].gateway.substr(0, 3), "GET") << "falls to the / route";
}

TEST(MigrateProof, OutputThatDoesNotParseIsAnError) {
  ObjectStore store = store_of(ing("main", ""));
  MigrateResult out = migrate_ingresses(store, TranslateOptions{}, MigrateOptions{});
  out.yaml += "---\nkind: [unclosed\n";
  auto proof = prove_migration(store, TranslateOptions{}, MigrateOptions{}, out);
  ASSERT_FALSE(proof);
  EXPECT_NE(proof.error().message.find("do not parse"), std::string::npos) << proof.error().message;
}

TEST(MigrateProof, GatewayNameAndNamespaceAreTheOnesAskedFor) {
  ObjectStore store = store_of(ing("main", ""));
  MigrateOptions opt;
  opt.gateway_name = "edge";
  opt.gateway_namespace = "infra";
  MigrateResult out = migrate_ingresses(store, TranslateOptions{}, opt);
  EXPECT_NE(out.yaml.find("kind: Gateway\nmetadata:\n  name: edge\n  namespace: infra\n"), std::string::npos) << out.yaml;
  EXPECT_NE(out.yaml.find("{name: edge, namespace: infra, sectionName: http}"), std::string::npos);
  auto proof = prove_migration(store, TranslateOptions{}, opt, out);
  ASSERT_TRUE(proof);
  EXPECT_EQ(proof->differences.size(), 0u);
}

}  // namespace
}  // namespace gantry::controller
