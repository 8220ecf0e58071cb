// translate_routes (only the changed HTTPRoutes translated again) against translate (all
// of it) on the same store, step by step: every step's snapshot dump and status must be
// the same bytes, and the virtual hosts a step does not touch must be the very objects
// of the snapshot before it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>

#include "gantry/controller/dump.h"
#include "gantry/controller/sources/file_source.h"
#include "gantry/controller/translate/translator.h"

namespace gantry::controller {
namespace {
namespace fs = std::filesystem;

constexpr const char* kBase = R"(apiVersion: gateway.networking.k8s.io/v1
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
  - {name: shop, port: 8080, protocol: HTTP, hostname: "*.shop.example.com"}
  - {name: other, port: 8080, protocol: HTTP, hostname: other.example.com, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: team}
spec: {ports: [{port: 80}]}
)";

std::string slice(const std::string& svc, const std::string& ip) {
  return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: " + svc +
         "-1, namespace: default, labels: {kubernetes.io/service-name: " + svc +
         "}}\naddressType: IPv4\nendpoints: [{addresses: [" + ip + "]}]\nports: [{port: 8080}]\n";
}

std::string route(const std::string& name, const std::string& spec, const std::string& ns = "default",
                  const std::string& created = "") {
  return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name + ", namespace: " + ns +
         (created.empty() ? "" : ", creationTimestamp: \"" + created + "\"") + "}\nspec:\n" + spec;
}

// One step: files written ("" removes the file).
struct Step {
  const char* what;
  std::vector<std::pair<std::string, std::string>> files;
};

class TranslateRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gantry-routes-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    options_.regex_cache = &cache_;
    options_.keep_state = true;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    if (text.empty()) {
      fs::remove(dir_ / name);
      return;
    }
    // A new inode every time: the change is seen whatever the clock's resolution.
    std::ofstream(dir_ / ("." + name)) << text;
    fs::rename(dir_ / ("." + name), dir_ / name);
  }

  static std::string bytes(const TranslateResult& r) {
    return to_yaml(boost::json::object{{"snapshot", snapshot_to_json(r.snapshot)}, {"status", to_array(r.status)}});
  }

  fs::path dir_;
  routing::RegexCache cache_;
  TranslateOptions options_;
};

TEST_F(TranslateRoutes, EveryStepEqualsAFullTranslation) {
  const std::vector<Step> steps = {
      {"a route on a new hostname, to a Service no route used yet",
       {{"r4.yaml", route("r4", "  parentRefs: [{name: gw, sectionName: shop}]\n  hostnames: [new.shop.example.com]\n"
                                "  rules: [{backendRefs: [{name: b, port: 80}]}]\n")}}},
      {"a route changed: another path, another backend, one more parent",
       {{"r1.yaml", route("r1", "  parentRefs: [{name: gw, sectionName: http}, {name: gw, sectionName: shop}]\n"
                                "  rules: [{matches: [{path: {type: PathPrefix, value: /a2}}], backendRefs: [{name: b, port: 80}]}]\n")}}},
      {"a route removed: its virtual host goes with it",
       {{"r2.yaml", ""}}},
      {"an older route on the same host: precedence across routes",
       {{"r5.yaml", route("r5", "  parentRefs: [{name: gw, sectionName: shop}]\n  hostnames: [new.shop.example.com]\n"
                                "  rules: [{matches: [{path: {type: PathPrefix, value: /}}], backendRefs: [{name: a, port: 80}]}]\n",
                          "default", "2020-01-01T00:00:00Z")}}},
      {"a cross-namespace backend without a ReferenceGrant, and a route of another namespace",
       {{"r6.yaml", route("r6", "  parentRefs: [{name: gw, namespace: default, sectionName: other}]\n"
                                "  rules: [{backendRefs: [{name: c, port: 80}]}]\n", "team") + "---\n" +
                        route("r7", "  parentRefs: [{name: gw, sectionName: http}]\n"
                                    "  rules: [{backendRefs: [{name: c, namespace: team, port: 80}]}]\n")}}},
      {"an invalid regex: the route is refused and serves nothing",
       {{"r3.yaml", route("r3", "  parentRefs: [{name: gw}]\n"
                                "  rules: [{matches: [{path: {type: RegularExpression, value: \"/re(\"}}], backendRefs: [{name: a, port: 80}]}]\n")}}},
      {"a parent that does not exist, and an EndpointSlice edit in the same burst",
       {{"r8.yaml", route("r8", "  parentRefs: [{name: gw, sectionName: nope}]\n  rules: [{backendRefs: [{name: a, port: 80}]}]\n")},
        {"slices.yaml", slice("a", "10.0.0.2") + "---\n" + slice("b", "10.0.0.3")}}},
      {"the regex fixed again",
       {{"r3.yaml", route("r3", "  parentRefs: [{name: gw}]\n"
                                "  rules: [{matches: [{path: {type: RegularExpression, value: \"/re[0-9]+\"}}], backendRefs: [{name: a, port: 80}]}]\n")}}},
      {"every route removed",
       {{"r1.yaml", ""}, {"r3.yaml", ""}, {"r4.yaml", ""}, {"r5.yaml", ""}, {"r6.yaml", ""}, {"r8.yaml", ""}}},
  };

  write("base.yaml", kBase);
  write("slices.yaml", slice("a", "10.0.0.1") + "---\n" + slice("b", "10.0.0.1"));
  write("r1.yaml", route("r1", "  parentRefs: [{name: gw, sectionName: http}]\n"
                               "  rules: [{matches: [{path: {type: PathPrefix, value: /a}}], backendRefs: [{name: a, port: 80}]}]\n"));
  write("r2.yaml", route("r2", "  parentRefs: [{name: gw}]\n  hostnames: [x.shop.example.com, other.example.com]\n"
                               "  rules: [{matches: [{headers: [{name: x-v, value: \"2\"}]}], backendRefs: [{name: b, port: 80}]}]\n"));
  write("r3.yaml", route("r3", "  parentRefs: [{name: gw}]\n"
                               "  rules: [{matches: [{path: {type: RegularExpression, value: \"/re[0-9]+\"}}], backendRefs: [{name: a, port: 80}]}]\n"));
  FileSource source({dir_.string()});
  ASSERT_TRUE(source.scan().errors.empty());
  TranslateResult first = translate(source.store(), options_);
  ASSERT_TRUE(first.state);
  std::shared_ptr<TranslationState> state = first.state;
  auto live = std::make_shared<const routing::Snapshot>(std::move(first.snapshot));

  for (const Step& step : steps) {
    for (const auto& [name, text] : step.files) write(name, text);
    ScanReport report = source.scan();
    ASSERT_TRUE(report.errors.empty()) << step.what;
    std::set<std::string> routes;
    for (const std::string& id : report.changed_objects) {
      ASSERT_TRUE(id.starts_with("HTTPRoute/") || id.starts_with("EndpointSlice/")) << id;
      if (id.starts_with("HTTPRoute/")) routes.insert(id.substr(10));
    }
    ASSERT_FALSE(routes.empty()) << step.what;
    TranslateResult partial = translate_routes(source.store(), options_, *state, *live, routes);
    if (report.changed_kinds.count("EndpointSlice")) refresh_endpoints(source.store(), partial.snapshot);
    TranslateOptions fresh_options;  // no cache, no state: nothing shared with the pass above
    TranslateResult full = translate(source.store(), fresh_options);
    EXPECT_EQ(bytes(partial), bytes(full)) << step.what;
    live = std::make_shared<const routing::Snapshot>(std::move(partial.snapshot));
  }
}

// A new route on its own hostname rebuilds one virtual host; the others are shared.
TEST_F(TranslateRoutes, UntouchedVirtualHostsAreSharedWithTheLiveSnapshot) {
  std::string many;
  for (int i = 0; i < 50; ++i)
    many += route("h" + std::to_string(i), "  parentRefs: [{name: gw, sectionName: shop}]\n  hostnames: [h" + std::to_string(i) +
                                               ".shop.example.com]\n  rules: [{backendRefs: [{name: a, port: 80}]}]\n") + "---\n";
  write("base.yaml", kBase);
  write("many.yaml", many + route("p", "  parentRefs: [{name: gw, sectionName: http}]\n"
                                       "  rules: [{matches: [{path: {type: PathPrefix, value: /p}}], backendRefs: [{name: a, port: 80}]}]\n"));
  FileSource source({dir_.string()});
  source.scan();
  TranslateResult first = translate(source.store(), options_);
  auto live = std::make_shared<const routing::Snapshot>(std::move(first.snapshot));

  write("new.yaml", route("new", "  parentRefs: [{name: gw, sectionName: shop}]\n  hostnames: [zz.shop.example.com]\n"
                                 "  rules: [{backendRefs: [{name: b, port: 80}]}]\n"));
  source.scan();
  TranslateResult next = translate_routes(source.store(), options_, *first.state, *live, {"default/new"});

  auto vhosts_of = [](const routing::Snapshot& s, const std::string& scope) {
    std::map<std::string, const routing::VirtualHost*> out;
    for (const auto& l : *s.listeners)
      for (const auto& sc : l.scopes)
        if (sc.name == scope)
          for (const auto& v : sc.vhosts) out[v->hostname] = v.get();
    return out;
  };
  auto before = vhosts_of(*live, "default/gw/shop"), after = vhosts_of(next.snapshot, "default/gw/shop");
  ASSERT_EQ(before.size(), 50u);
  ASSERT_EQ(after.size(), 51u);
  for (const auto& [host, vhost] : before) EXPECT_EQ(after.at(host), vhost) << host << " was rebuilt";
  EXPECT_EQ(vhosts_of(next.snapshot, "default/gw/http").at(""), vhosts_of(*live, "default/gw/http").at(""));
  ASSERT_EQ(after.at("zz.shop.example.com")->routes.size(), 1u);
}

}  // namespace
}  // namespace gantry::controller
