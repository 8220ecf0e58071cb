// gantry explain and gantry diff, run as the real binary on manifest sets: explain's
// winner, outcome and each kind of near miss on a table of requests; diff's findings and
// exit status on pairs of manifest sets.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "harness.h"

namespace gantry::test {
namespace {

namespace json = boost::json;

const char* kRoutes = R"(---
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
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: admin, port: 80, protocol: HTTP, hostname: admin.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [app.example.com]
  rules:
  - matches: [{path: {type: Exact, value: /exact}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /api}, method: POST}]
    backendRefs: [{name: b, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: X-Env, value: canary}]}]
    backendRefs: [{name: b, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /api}, queryParams: [{name: v, value: "2"}]}]
    backendRefs: [{name: b, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]
  - matches: [{path: {type: PathPrefix, value: /rw}}]
    filters: [{type: URLRewrite, urlRewrite: {hostname: internal, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]
    backendRefs: [{name: a, port: 8080}]
  - backendRefs: [{name: a, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: dup, namespace: default, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [app.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: c, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: iso, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [admin.example.com]
  rules:
  - backendRefs: [{name: a, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: admin, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: admin}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /only}}]
    backendRefs: [{name: a, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: stranger, namespace: team}
spec:
  parentRefs: [{name: gw, namespace: default}]
  hostnames: [app.example.com]
  rules:
  - backendRefs: [{name: a, port: 8080}]
)";

struct Case {
  std::string url;
  std::string flags;  // -H, --method
  std::string route;  // "name/rule", "" for none
  std::string action;
  int status = 0;              // for redirect and error
  std::string expect;          // forward: the path; redirect: the Location
  std::string near;            // "name/rule:reason" expected among the near misses, if set
};

json::object explain(const std::filesystem::path& dir, const Case& c) {
  auto r = run(std::string(GANTRY_BIN) + " explain --manifests " + dir.string() + " --url '" + c.url + "' " + c.flags +
               " --output json");
  json::error_code ec;
  json::value v = json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out;
  return ec ? json::object{} : v.as_object();
}

TEST(Explain, WinnerOutcomeAndNearMisses) {
  TempDir dir;
  write_file(dir.path() / "routes.yaml", std::string(kRoutes) + service_manifest("a", {9001}) +
                                             service_manifest("b", {9002}) + service_manifest("c", {9003}));
  const std::vector<Case> cases = {
      {"http://app.example.com/exact", "", "web/0", "forward", 0, "/exact", "web/6:precedence"},
      {"http://app.example.com/api/x", "--method POST", "web/1", "forward", 0, "/api/x", "dup/0:precedence"},
      {"http://app.example.com/api/x", "-H 'X-Env: canary'", "web/2", "forward", 0, "/api/x", "web/1:method"},
      {"http://app.example.com/api/x?v=2", "", "web/3", "forward", 0, "/api/x?v=2", "web/2:header"},
      {"http://app.example.com/api/x?v=3", "", "dup/0", "forward", 0, "/api/x?v=3", "web/3:query"},
      {"http://app.example.com/exactly", "", "web/6", "forward", 0, "/exactly", "web/0:path"},
      {"http://app.example.com/old/page?q=1", "", "web/4", "redirect", 301, "https://app.example.com/old/page?q=1", ""},
      {"http://app.example.com/rw/a", "", "web/5", "forward", 0, "/new/a", ""},
      {"http://other.example.com/", "", "", "error", 404, "", "web/6:hostname"},
      {"http://admin.example.com/", "", "", "error", 404, "", "iso/0:listener isolation"},
      {"http://admin.example.com/only/x", "", "admin/0", "forward", 0, "/only/x", "iso/0:listener isolation"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url + " " + c.flags);
    json::object out = explain(dir.path(), c);
    ASSERT_TRUE(out.contains("listeners"));
    const auto& listeners = out.at("listeners").as_array();
    ASSERT_EQ(listeners.size(), 1u);
    const auto& l = listeners[0].as_object();
    const auto& route = l.at("route");
    if (c.route.empty()) {
      EXPECT_TRUE(route.is_null());
    } else {
      ASSERT_TRUE(route.is_object());
      const auto& s = route.as_object().at("source").as_object();
      EXPECT_EQ(std::string(s.at("name").as_string()) + "/" + std::to_string(s.at("rule").to_number<int>()), c.route);
    }
    const auto& o = l.at("outcome").as_object();
    EXPECT_EQ(o.at("action").as_string(), c.action);
    if (c.status) EXPECT_EQ(o.at("status").to_number<int>(), c.status);
    if (c.action == "forward") EXPECT_EQ(o.at("path").as_string(), c.expect);
    if (c.action == "redirect") EXPECT_EQ(o.at("location").as_string(), c.expect);
    if (c.url.find("/rw/") != std::string::npos) EXPECT_EQ(o.at("host").as_string(), "internal");
    if (!c.near.empty()) {
      bool found = false;
      std::string seen;
      for (const auto& n : l.at("nearMisses").as_array()) {
        const auto& no = n.as_object();
        const auto& s = no.at("source").as_object();
        std::string id = std::string(s.at("name").as_string()) + "/" + std::to_string(s.at("rule").to_number<int>()) +
                         ":" + std::string(no.at("reason").as_string());
        seen += id + " ";
        found = found || id == c.near;
      }
      EXPECT_TRUE(found) << "near misses: " << seen;
    }
    // The route whose attachment was refused is named with its reason.
    const auto& refused = out.at("notAttached").as_array();
    if (c.url.find("app.example.com") != std::string::npos) {
      // Accepted=False (the listeners allow their own namespace only), and ResolvedRefs=False
      // (team has no Service a).
      bool not_allowed = false;
      EXPECT_FALSE(refused.empty());
      for (const auto& r : refused) {
        EXPECT_EQ(r.as_object().at("name").as_string(), "stranger");
        not_allowed = not_allowed || r.as_object().at("reason") == "NotAllowedByListeners";
      }
      EXPECT_TRUE(not_allowed);
    }
  }
}

TEST(Explain, TextOutputAndBadUsage) {
  TempDir dir;
  write_file(dir.path() / "routes.yaml", std::string(kRoutes) + service_manifest("a", {9001}) +
                                             service_manifest("b", {9002}) + service_manifest("c", {9003}));
  auto text = run(std::string(GANTRY_BIN) + " explain --manifests " + dir.path().string() +
                  " --url http://app.example.com/api/x --method POST");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("route      HTTPRoute default/web rule 1 match 0"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("forwarded to default/b:8080"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("[precedence] matches too, but HTTPRoute default/web rule 1 match 0 comes first"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("not attached"), std::string::npos) << text.out;
  for (const char* bad : {"--url ftp://x/", "--url http://a/ -H novalue", "--url http://a/ --output yaml", ""}) {
    auto r = run(std::string(GANTRY_BIN) + " explain --manifests " + dir.path().string() + " " + bad + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out;
  }
}

TEST(Diff, ReportsRoutingChangesAndExitsOneOnlyWhenSomethingChanged) {
  TempDir dir;
  auto before = dir.path() / "before", after = dir.path() / "after";
  std::filesystem::create_directories(before);
  std::filesystem::create_directories(after);
  const std::string services = service_manifest("a", {9001}) + service_manifest("b", {9002}) + service_manifest("c", {9003});
  write_file(before / "r.yaml", std::string(kRoutes) + services);
  auto diff = [&](const std::filesystem::path& a, const std::filesystem::path& b) {
    return run(std::string(GANTRY_BIN) + " diff --manifests " + a.string() + " --against " + b.string());
  };
  auto same = diff(before, before);
  EXPECT_EQ(same.exit_code, 0) << same.out;
  EXPECT_NE(same.out.find("no change to routing"), std::string::npos) << same.out;

  // dup's /api now goes to b: the route changed, and requests under /api go elsewhere.
  std::string changed = std::string(kRoutes);
  changed.replace(changed.find("    backendRefs: [{name: c, port: 8080}]"), 40, "    backendRefs: [{name: b, port: 8080}]");
  write_file(after / "r.yaml", changed + services);
  auto moved = diff(before, after);
  EXPECT_EQ(moved.exit_code, 1) << moved.out;
  EXPECT_NE(moved.out.find("~ 0.0.0.0:80 default/gw/http host app.example.com: HTTPRoute default/dup rule 0 match 0"),
            std::string::npos) << moved.out;
  EXPECT_NE(moved.out.find("GET app.example.com:80/api/sample"), std::string::npos) << moved.out;
  EXPECT_EQ(moved.out.find("status conditions"), std::string::npos) << moved.out;

  // The stranger's namespace is now allowed: it attaches (a status change) and takes traffic
  // that went to web's catch-all before.
  std::string allowed = std::string(kRoutes);
  allowed.replace(allowed.find("  - {name: http, port: 80, protocol: HTTP}"), 42,
                  "  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}");
  write_file(after / "r.yaml", allowed + services);
  auto attached = diff(before, after);
  EXPECT_EQ(attached.exit_code, 1) << attached.out;
  EXPECT_NE(attached.out.find("status conditions"), std::string::npos) << attached.out;
  EXPECT_NE(attached.out.find("HTTPRoute team/stranger"), std::string::npos) << attached.out;
  EXPECT_NE(attached.out.find("+ 0.0.0.0:80 default/gw/http host app.example.com: HTTPRoute team/stranger rule 0"),
            std::string::npos) << attached.out;

  auto usage = run(std::string(GANTRY_BIN) + " diff --manifests " + before.string() + " 2>&1");
  EXPECT_EQ(usage.exit_code, 2) << usage.out;
}

TEST(ShadowedRules, ReportedByTranslateAndOnStatus) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo echo("a", dir.path());
  write_file(manifests / "r.yaml",
             gateway_manifest() + service_manifest("app", {echo.port}) +
                 route_manifest("twice", "app.example.com",
                                "  - matches: [{path: {type: PathPrefix, value: /z}, headers: [{name: x-env, value: a}]}]\n"
                                "    backendRefs: [{name: app, port: 8080}]\n"
                                "  - matches: [{path: {type: PathPrefix, value: /z/deeper}, headers: [{name: x-env, value: a}]}]\n"
                                "    backendRefs: [{name: app, port: 8080}]\n"
                                "  - matches: [{path: {type: PathPrefix, value: /z/deeper}}]\n"
                                "    backendRefs: [{name: app, port: 8080}]\n"));
  auto translated = run(std::string(GANTRY_BIN) + " translate --manifests " + manifests.string());
  // The longer prefix comes first in precedence order, so neither header rule covers the
  // other; rule 2 (no header) is covered by neither.
  EXPECT_EQ(translated.out.find("gantry.dev/ShadowedRules"), std::string::npos) << translated.out;

  write_file(manifests / "r.yaml",
             gateway_manifest() + service_manifest("app", {echo.port}) +
                 route_manifest("twice", "app.example.com",
                                "  - matches: [{path: {type: PathPrefix, value: /z}, method: GET}]\n"
                                "    backendRefs: [{name: app, port: 8080}]\n"
                                "  - matches: [{path: {type: PathPrefix, value: /z}, method: GET, headers: [{name: x-env, value: a}]}]\n"
                                "    backendRefs: [{name: app, port: 8080}]\n"));
  // Rule 1 has more header matches, so it comes first: nothing shadowed either way round.
  translated = run(std::string(GANTRY_BIN) + " translate --manifests " + manifests.string());
  EXPECT_EQ(translated.out.find("gantry.dev/ShadowedRules"), std::string::npos) << translated.out;

  write_file(manifests / "r.yaml",
             gateway_manifest() + service_manifest("app", {echo.port}) +
                 route_manifest("twice", "app.example.com",
                                "  - matches: [{path: {type: PathPrefix, value: /z}, method: GET}]\n"
                                "    backendRefs: [{name: app, port: 8080}]\n"
                                "  - matches: [{path: {type: PathPrefix, value: /z}, method: GET}, {path: {type: Exact, value: /y}}]\n"
                                "    backendRefs: [{name: app, port: 8080}]\n"));
  translated = run(std::string(GANTRY_BIN) + " translate --manifests " + manifests.string());
  const std::string message =
      "rule 1 match 0 on host app.example.com is never used: its own rule 0 match 0 matches every request it matches "
      "and comes first";
  EXPECT_NE(translated.out.find("gantry.dev/ShadowedRules"), std::string::npos) << translated.out;
  EXPECT_NE(translated.out.find(message), std::string::npos) << translated.out;
  EXPECT_EQ(translated.out.find("rule 1 match 1"), std::string::npos) << translated.out;  // /y is reachable

  Gantry g(manifests, {"--access-log", "off"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  const std::string status = g.admin_get("/status");
  EXPECT_NE(status.find("\"type\":\"gantry.dev/ShadowedRules\""), std::string::npos) << status;
  EXPECT_NE(status.find(message), std::string::npos) << status;
}

}  // namespace
}  // namespace gantry::test
