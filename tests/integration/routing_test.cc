// Routing through the real proxy: hosts, paths, weights, upstream keep-alive, the
// proxy's header manners, reloads.
#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/json.hpp>
#include <set>
#include <thread>

#include "harness.h"

namespace gantry::test {
namespace {
namespace json = boost::json;

class RoutingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    manifests_ = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests_);
    for (const char* pod : {"app-1-a", "users-1-a", "stable-1-a", "canary-1-a"})
      echoes_.push_back(new Echo(pod, dir_->path()));
    std::string m = gateway_manifest();
    m += service_manifest("app", {echoes_[0]->port});
    m += service_manifest("users", {echoes_[1]->port});
    m += service_manifest("stable", {echoes_[2]->port});
    m += service_manifest("canary", {echoes_[3]->port});
    m += route_manifest("app", "app.example.com", "  - backendRefs: [{name: app, port: 8080}]\n");
    m += route_manifest("api", "api.example.com",
                        "  - matches: [{path: {type: PathPrefix, value: /users}}]\n"
                        "    backendRefs: [{name: users, port: 8080}]\n"
                        "  - matches: [{path: {type: Exact, value: /app}}]\n"
                        "    backendRefs: [{name: app, port: 8080}]\n");
    m += route_manifest("shop", "shop.example.com",
                        "  - backendRefs: [{name: stable, port: 8080, weight: 70}, {name: canary, port: 8080, weight: 30}]\n");
    write_file(manifests_ / "base.yaml", m);
    gantry_ = new Gantry(manifests_, {"--workers", "1"});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  static void TearDownTestSuite() {
    delete gantry_;
    for (auto* e : echoes_) delete e;
    echoes_.clear();
    delete dir_;
  }

  static json::object echo(const std::string& host, const std::string& path, const std::string& args = "") {
    auto r = curl(gantry_->port, host, path, args);
    boost::system::error_code ec;
    auto v = json::parse(r.out, ec);
    if (ec || !v.is_object()) return {};
    return v.get_object();
  }
  static std::string pod(const json::object& o) { return o.contains("pod") ? std::string(o.at("pod").get_string()) : ""; }

  static TempDir* dir_;
  static std::filesystem::path manifests_;
  static std::vector<Echo*> echoes_;
  static Gantry* gantry_;
};
TempDir* RoutingTest::dir_;
std::filesystem::path RoutingTest::manifests_;
std::vector<Echo*> RoutingTest::echoes_;
Gantry* RoutingTest::gantry_;

TEST_F(RoutingTest, HostRoutingPicksTheHostsBackend) {
  EXPECT_EQ(pod(echo("app.example.com", "/anything")), "app-1-a");
  EXPECT_EQ(pod(echo("APP.example.com:80", "/x")), "app-1-a");  // case and port do not matter
  EXPECT_EQ(pod(echo("api.example.com", "/users/7")), "users-1-a");
}

TEST_F(RoutingTest, PathRoutingIsSegmentAware) {
  EXPECT_EQ(pod(echo("api.example.com", "/users")), "users-1-a");
  EXPECT_EQ(pod(echo("api.example.com", "/users/")), "users-1-a");
  EXPECT_EQ(pod(echo("api.example.com", "/app")), "app-1-a");
  EXPECT_EQ(curl_status(gantry_->port, "api.example.com", "/usersx"), 404);
  EXPECT_EQ(curl_status(gantry_->port, "api.example.com", "/app/more"), 404);
  EXPECT_EQ(curl_status(gantry_->port, "nobody.example.com", "/"), 404);
}

TEST_F(RoutingTest, PathAndQueryReachTheBackendUnchanged) {
  auto o = echo("api.example.com", "/users/a%20b?x=1&y=two");
  EXPECT_EQ(o.at("path").get_string(), "/users/a%20b?x=1&y=two");
  EXPECT_EQ(o.at("method").get_string(), "GET");
}

TEST_F(RoutingTest, WeightedSplitIsSeventyThirty) {
  httplib::Client c("127.0.0.1", gantry_->port);
  c.set_keep_alive(true);
  int stable = 0, canary = 0;
  constexpr int kRequests = 1000;
  for (int i = 0; i < kRequests; ++i) {
    auto res = c.Get("/", {{"Host", "shop.example.com"}});
    ASSERT_TRUE(res && res->status == 200);
    auto p = pod(json::parse(res->body).get_object());
    if (p == "stable-1-a") ++stable;
    else if (p == "canary-1-a") ++canary;
  }
  EXPECT_EQ(stable + canary, kRequests);
  EXPECT_NEAR(stable / double(kRequests), 0.70, 0.05) << stable << " stable, " << canary << " canary";
}

TEST_F(RoutingTest, UpstreamConnectionsAreReused) {
  // One worker, sequential requests: one upstream connection serves them all.
  std::set<int64_t> connections;
  httplib::Client c("127.0.0.1", gantry_->port);
  c.set_keep_alive(true);
  for (int i = 0; i < 200; ++i) {
    auto res = c.Get("/reuse", {{"Host", "app.example.com"}});
    ASSERT_TRUE(res && res->status == 200);
    connections.insert(json::parse(res->body).at("connection").as_int64());
  }
  EXPECT_LE(connections.size(), 2u) << "upstream connections opened for 200 requests";
  // New client connections (no downstream keep-alive) reuse the pool as well.
  std::set<int64_t> fresh;
  for (int i = 0; i < 20; ++i) fresh.insert(echo("app.example.com", "/fresh").at("connection").as_int64());
  EXPECT_LE(fresh.size(), 2u);
}

TEST_F(RoutingTest, ChunkedRequestLeavesTheUpstreamConnectionReusable) {
  // A chunked body must end with exactly one last-chunk, or the upstream reads the
  // surplus as a broken next request and the pooled connection dies.
  for (int i = 0; i < 3; ++i) {
    auto up = run("printf 'hello world' | curl -s --max-time 10 -T - -H 'Host: app.example.com' http://127.0.0.1:" +
                  std::to_string(gantry_->port) + "/chunked-" + std::to_string(i));
    auto o = json::parse(up.out).as_object();
    EXPECT_EQ(o.at("bodyBytes").to_number<int>(), 11);
    auto next = echo("app.example.com", "/after");
    ASSERT_TRUE(next.contains("connection")) << "the request after a chunked upload failed";
    EXPECT_EQ(next.at("connection"), o.at("connection")) << "the pooled upstream connection was not reused";
  }
}

TEST_F(RoutingTest, ForwardsHeadersLikeAProxy) {
  auto o = echo("app.example.com", "/h",
                "-H 'X-Forwarded-For: 203.0.113.9' -H 'Connection: keep-alive, X-Secret' -H 'X-Secret: s' "
                "-H 'Keep-Alive: timeout=5' -H 'TE: trailers' -H 'X-Kept: yes'");
  const auto& h = o.at("headers").get_object();
  EXPECT_EQ(h.at("X-Forwarded-For").at(0).get_string(), "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(h.at("X-Forwarded-Proto").at(0).get_string(), "http");
  EXPECT_EQ(h.at("X-Forwarded-Host").at(0).get_string(), "app.example.com");
  EXPECT_EQ(h.at("Host").at(0).get_string(), "app.example.com");
  EXPECT_EQ(h.at("X-Kept").at(0).get_string(), "yes");
  EXPECT_FALSE(h.contains("X-Secret")) << "a header named by Connection is hop-by-hop";
  EXPECT_FALSE(h.contains("Keep-Alive"));
  EXPECT_FALSE(h.contains("Te"));
}

TEST_F(RoutingTest, HeadAnd204And304HaveNoBodies) {
  // All on one connection: a body where none belongs would corrupt the next response.
  std::string req =
      "HEAD /head HTTP/1.1\r\nHost: app.example.com\r\n\r\n"
      "GET /status/204 HTTP/1.1\r\nHost: app.example.com\r\n\r\n"
      "GET /status/304 HTTP/1.1\r\nHost: app.example.com\r\n\r\n"
      "GET /last HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n";
  RawResult r = raw_exchange(gantry_->port, req, 5s);
  EXPECT_TRUE(r.closed);
  size_t head = r.response.find("HTTP/1.1 200");
  size_t s204 = r.response.find("HTTP/1.1 204");
  size_t s304 = r.response.find("HTTP/1.1 304");
  size_t last = r.response.find("\"path\":\"/last\"");
  ASSERT_NE(head, std::string::npos) << r.response;
  ASSERT_NE(s204, std::string::npos) << r.response;
  ASSERT_NE(s304, std::string::npos) << r.response;
  ASSERT_NE(last, std::string::npos) << r.response;
  // HEAD announced a length but sent no body: the 204 follows the HEAD header directly.
  EXPECT_EQ(r.response.find("{", head), r.response.find("{", s304)) << r.response;
  EXPECT_NE(r.response.substr(head, s204 - head).find("Content-Length:"), std::string::npos);
  EXPECT_EQ(r.response.substr(head, s204 - head).find("{"), std::string::npos);
}

TEST_F(RoutingTest, ReloadAppliesNewRoutesAndBrokenFilesKeepTheLastGood) {
  write_file(manifests_ / "extra.yaml",
             route_manifest("extra", "extra.example.com", "  - backendRefs: [{name: users, port: 8080}]\n"));
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    served = curl_status(gantry_->port, "extra.example.com", "/") == 200;
    if (!served) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(served) << gantry_->log();
  // Now break that file: the error names file and line; the last good version serves on.
  write_file(manifests_ / "extra.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: x\n");
  bool logged = false;
  for (int i = 0; i < 100 && !logged; ++i) {
    logged = gantry_->log().find("extra.yaml:") != std::string::npos;
    if (!logged) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(logged) << gantry_->log();
  EXPECT_EQ(curl_status(gantry_->port, "extra.example.com", "/"), 200);
  EXPECT_EQ(curl_status(gantry_->port, "app.example.com", "/"), 200);
  std::filesystem::remove(manifests_ / "extra.yaml");
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = curl_status(gantry_->port, "extra.example.com", "/") == 404;
    if (!gone) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(gone);
}

TEST_F(RoutingTest, AdminServesStatusAndConfig) {
  auto status = json::parse(gantry_->admin_get("/status"));
  EXPECT_EQ(status.at("kind").get_string(), "List");
  bool found = false;
  for (const auto& item : status.at("items").get_array())
    if (item.at("kind").get_string() == "HTTPRoute" && item.at("metadata").at("name").get_string() == "shop") found = true;
  EXPECT_TRUE(found);
  auto config = json::parse(gantry_->admin_get("/config_dump"));
  EXPECT_EQ(config.at("listeners").as_array().size(), 1u);
  EXPECT_NE(gantry_->admin_get("/metrics").find("gantry_requests_total"), std::string::npos);
  EXPECT_EQ(gantry_->admin_get("/healthz"), "ok\n");
}

}  // namespace
}  // namespace gantry::test
