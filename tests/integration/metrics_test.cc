// /metrics as Prometheus reads it: every family with HELP and TYPE, names by the naming
// conventions, labels bounded to routes, backends and listeners, histograms well formed;
// and the series move as real requests go through.
#include <gtest/gtest.h>

#include <thread>

#include "../support/prom_text.h"
#include "harness.h"

namespace gantry::test {
namespace {

PromScrape scrape(const Gantry& g) {
  PromScrape s = parse_prom(g.admin_get("/metrics"));
  for (const auto& e : s.errors) ADD_FAILURE() << e;
  return s;
}

TEST(Metrics, ScrapeIsValidAndCountsByRouteBackendAndListener) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo echo("a", dir.path());
  const uint16_t dead = free_port();  // nothing listens there
  write_file(manifests / "app.yaml",
             gateway_manifest() + service_manifest("app", {echo.port}) + service_manifest("gone", {dead}) +
                 route_manifest("app", "app.example.com",
                                "  - matches: [{path: {type: PathPrefix, value: /old}}]\n"
                                "    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, "
                                "replaceFullPath: /new}}}]\n"
                                "  - matches: [{path: {type: PathPrefix, value: /dead}}]\n"
                                "    backendRefs: [{name: gone, port: 8080}]\n"
                                "  - backendRefs: [{name: app, port: 8080}]\n"));
  Gantry g(manifests, {"--access-log", "off"});
  ASSERT_TRUE(g.wait_ready()) << g.log();

  // Before any request the scrape is already valid, with the controller's families.
  PromScrape before = scrape(g);
  EXPECT_EQ(before.sum("gantry_snapshot_version"), 1);
  EXPECT_GE(before.sum("gantry_translation_duration_seconds_count"), 1);
  EXPECT_EQ(before.families["gantry_translation_duration_seconds"].type, "histogram");

  for (int i = 0; i < 3; ++i) EXPECT_EQ(curl_status(g.port, "app.example.com", "/hello/secret-path-" + std::to_string(i)), 200);
  EXPECT_EQ(curl_status(g.port, "app.example.com", "/old"), 302);
  EXPECT_EQ(curl_status(g.port, "app.example.com", "/dead"), 502);  // connection refused
  EXPECT_EQ(curl_status(g.port, "nobody.example.com", "/"), 404);
  EXPECT_EQ(curl_status(g.port, "app.example.com", "/upload", "--data-binary 0123456789"), 200);

  PromScrape s = scrape(g);
  const std::map<std::string, std::string> app0 = {{"kind", "HTTPRoute"}, {"route", "default/app/2"}};
  auto with = [](std::map<std::string, std::string> m, std::map<std::string, std::string> more) {
    m.insert(more.begin(), more.end());
    return m;
  };
  EXPECT_EQ(s.sum("gantry_route_responses_total",
                  with(app0, {{"backend", "default/app:8080"}, {"status_class", "2xx"}})), 4);
  EXPECT_EQ(s.sum("gantry_route_responses_total",
                  {{"route", "default/app/0"}, {"backend", ""}, {"status_class", "3xx"}}), 1);
  EXPECT_EQ(s.sum("gantry_route_responses_total",
                  {{"route", "default/app/1"}, {"backend", "default/gone:8080"}, {"status_class", "5xx"}}), 1);
  EXPECT_EQ(s.sum("gantry_responses_total", {{"status_class", "4xx"}}), 1);  // the unrouted one
  EXPECT_EQ(s.sum("gantry_requests_total"), 7);
  EXPECT_EQ(s.sum("gantry_route_request_duration_seconds_count", app0), 4);
  EXPECT_EQ(s.sum("gantry_route_upstream_response_seconds_count", app0), 4);
  EXPECT_GT(s.sum("gantry_route_request_duration_seconds_sum", app0), 0);
  EXPECT_EQ(s.sum("gantry_route_request_body_bytes_total", app0), 10);
  EXPECT_GT(s.sum("gantry_route_response_body_bytes_total", app0), 0);
  EXPECT_GE(s.sum("gantry_upstream_connects_total", {{"backend", "default/app:8080"}}), 1);
  EXPECT_GE(s.sum("gantry_upstream_connect_failures_total", {{"backend", "default/gone:8080"}}), 1);
  EXPECT_EQ(s.sum("gantry_upstream_connects_total", {{"backend", "default/app:8080"}}) +
                s.sum("gantry_upstream_reuses_total", {{"backend", "default/app:8080"}}),
            4);
  EXPECT_GE(s.sum("gantry_upstream_connections_active", {{"backend", "default/app:8080"}}), 1);  // pooled
  const std::string listener = "127.0.0.1:" + std::to_string(g.port);
  EXPECT_EQ(s.sum("gantry_downstream_connections_total", {{"listener", listener}}), 7);  // curl: one each

  // Bounded labels: neither the paths nor the Host of the requests appear in any label.
  for (const auto& [name, f] : s.families)
    for (const auto& sample : f.samples)
      for (const auto& [k, v] : sample.labels) {
        EXPECT_EQ(v.find("secret-path"), std::string::npos) << name << " " << k;
        EXPECT_EQ(v.find("example.com"), std::string::npos) << name << " " << k;
      }
}

TEST(Metrics, ActiveConnectionGaugesFollowOpenConnections) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo echo("a", dir.path());
  write_file(manifests / "app.yaml", gateway_manifest() + service_manifest("app", {echo.port}) +
                                         route_manifest("app", "", "  - backendRefs: [{name: app, port: 8080}]\n"));
  Gantry g(manifests, {"--access-log", "off", "--workers", "2"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  const std::string listener = "127.0.0.1:" + std::to_string(g.port);
  // A request that takes a second holds its connection open while the scrape is taken.
  std::thread slow([&] { curl_status(g.port, "x", "/?delay=1500ms"); });
  double active = 0;
  for (int i = 0; i < 100 && active < 1; ++i) {
    std::this_thread::sleep_for(20ms);
    active = scrape(g).sum("gantry_downstream_connections_active", {{"listener", listener}});
  }
  EXPECT_EQ(active, 1);
  slow.join();
  double after = 1;
  for (int i = 0; i < 100 && after > 0; ++i) {
    after = scrape(g).sum("gantry_downstream_connections_active", {{"listener", listener}});
    if (after > 0) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(after, 0);
}

}  // namespace
}  // namespace gantry::test
