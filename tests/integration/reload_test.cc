// Live reconfiguration: file events (inotify) instead of polling, editors' renames,
// Kubernetes' `..data` volume swaps, EndpointSlice changes that translate nothing, and
// 100 changes under load that fail no request and drop no connection.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <thread>

#include "harness.h"
#include "websocket_echo.h"

namespace gantry::test {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

std::string pod_of(uint16_t port, const std::string& host, const std::string& path) {
  auto r = curl(port, host, path);
  boost::system::error_code ec;
  auto v = json::parse(r.out, ec);
  return !ec && v.is_object() && v.as_object().contains("pod") ? std::string(v.at("pod").get_string()) : "";
}

// Waits until `host` `path` is served by `pod` (bounded); the time it took, or nullopt.
std::optional<std::chrono::milliseconds> served_within(uint16_t port, const std::string& host, const std::string& path,
                                                       const std::string& pod, std::chrono::milliseconds limit = 3s) {
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    if (pod_of(port, host, path) == pod)
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

// Waits until `host` answers 404 (its route is gone); bounded.
bool within_404(uint16_t port, const std::string& host) {
  auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    if (curl_status(port, host, "/") == 404) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifests_ = dir_.path() / "manifests";
    fs::create_directories(manifests_);
    for (const char* pod : {"a-1-a", "b-1-a"}) echoes_.push_back(std::make_unique<Echo>(pod, dir_.path()));
    write_file(manifests_ / "base.yaml", gateway_manifest() + service_manifest("a", {echoes_[0]->port}) +
                                             service_manifest("b", {echoes_[1]->port}) +
                                             route_manifest("stable", "stable.example.com", "  - backendRefs: [{name: a, port: 8080}]\n"));
    // No --scan-interval polling matters here: changes must be seen through file events.
    gantry_ = std::make_unique<Gantry>(manifests_, std::vector<std::string>{"--scan-interval", "60000"});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  void TearDown() override { EXPECT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log(); }

  std::string route(const std::string& name, const std::string& host, const std::string& svc) {
    return route_manifest(name, host, "  - backendRefs: [{name: " + svc + ", port: 8080}]\n");
  }

  TempDir dir_;
  fs::path manifests_;
  std::vector<std::unique_ptr<Echo>> echoes_;
  std::unique_ptr<Gantry> gantry_;
};

TEST_F(ReloadTest, AFileWrittenInPlaceIsServedWithoutPolling) {
  write_file(manifests_ / "new.yaml", route("new", "new.example.com", "b"));
  auto took = served_within(gantry_->port, "new.example.com", "/", "b-1-a");
  ASSERT_TRUE(took) << gantry_->log();
  EXPECT_LT(*took, 1000ms);
}

TEST_F(ReloadTest, AnEditorsRenameOverTheFileIsServed) {
  write_file(manifests_ / "r.yaml", route("r", "r.example.com", "a"));
  ASSERT_TRUE(served_within(gantry_->port, "r.example.com", "/", "a-1-a"));
  write_file(manifests_ / ".r.yaml.swp", route("r", "r.example.com", "b"));
  fs::rename(manifests_ / ".r.yaml.swp", manifests_ / "r.yaml");
  EXPECT_TRUE(served_within(gantry_->port, "r.example.com", "/", "b-1-a")) << gantry_->log();
}

TEST_F(ReloadTest, ANewFileInANewDirectoryIsServed) {
  fs::create_directories(manifests_ / "team" / "a");
  write_file(manifests_ / "team" / "a" / "t.yaml", route("t", "t.example.com", "b"));
  EXPECT_TRUE(served_within(gantry_->port, "t.example.com", "/", "b-1-a")) << gantry_->log();
  write_file(manifests_ / "team" / "a" / "t.yaml", route("t", "t.example.com", "a"));
  EXPECT_TRUE(served_within(gantry_->port, "t.example.com", "/", "a-1-a")) << gantry_->log();
}

// Kubernetes' atomic writer (ConfigMap and Secret volumes): the files are symlinks into
// `..data`, itself a symlink to a timestamped directory; an update writes a new directory
// and renames a new `..data` link over the old one.
TEST_F(ReloadTest, AVolumesDataSymlinkSwapIsServed) {
  fs::path vol = dir_.path() / "volume";
  fs::create_directories(vol / "..2026_12_01_00_00_00.1");
  write_file(vol / "..2026_12_01_00_00_00.1" / "routes.yaml", route("vol", "vol.example.com", "a"));
  fs::create_directory_symlink("..2026_12_01_00_00_00.1", vol / "..data");
  fs::create_symlink("..data/routes.yaml", vol / "routes.yaml");
  // A second gantry, serving the base manifests and the volume.
  Gantry vg(manifests_, {"--scan-interval", "60000", "--manifests", vol.string()});
  ASSERT_TRUE(vg.wait_ready()) << vg.log();
  ASSERT_TRUE(served_within(vg.port, "vol.example.com", "/", "a-1-a")) << vg.log();

  fs::create_directories(vol / "..2026_12_01_00_01_00.2");
  write_file(vol / "..2026_12_01_00_01_00.2" / "routes.yaml", route("vol", "vol.example.com", "b"));
  fs::create_directory_symlink("..2026_12_01_00_01_00.2", vol / "..data_tmp");
  fs::rename(vol / "..data_tmp", vol / "..data");
  fs::remove_all(vol / "..2026_12_01_00_00_00.1");
  EXPECT_TRUE(served_within(vg.port, "vol.example.com", "/", "b-1-a")) << vg.log();
}

TEST_F(ReloadTest, AManifestsPathThatIsALinkIsWatchedThroughIt) {
  fs::path real = dir_.path() / "real", link = dir_.path() / "link";
  fs::create_directories(real);
  write_file(real / "l.yaml", route("l", "l.example.com", "a"));
  fs::create_directory_symlink(real, link);
  Gantry lg(manifests_, {"--scan-interval", "60000", "--manifests", link.string()});
  ASSERT_TRUE(lg.wait_ready()) << lg.log();
  ASSERT_TRUE(served_within(lg.port, "l.example.com", "/", "a-1-a")) << lg.log();
  write_file(real / "l.yaml", route("l", "l.example.com", "b"));
  EXPECT_TRUE(served_within(lg.port, "l.example.com", "/", "b-1-a")) << lg.log();
}

TEST_F(ReloadTest, AnEndpointSliceChangeTranslatesNothing) {
  ASSERT_EQ(pod_of(gantry_->port, "stable.example.com", "/"), "a-1-a");
  uint64_t translations = gantry_->metric("gantry_translations_total");
  uint64_t updates = gantry_->metric("gantry_endpoint_updates_total");
  ASSERT_NE(translations, ~0ull) << "no gantry_translations_total in /metrics";
  ASSERT_NE(updates, ~0ull) << "no gantry_endpoint_updates_total in /metrics";
  // Service a's endpoints move to b's echo: only an EndpointSlice changes.
  std::string base = read_file(manifests_ / "base.yaml");
  std::string a_slice = "name: http, port: " + std::to_string(echoes_[0]->port) + "}]";
  auto at = base.find(a_slice);
  ASSERT_NE(at, std::string::npos);
  base.replace(at, a_slice.size(), "name: http, port: " + std::to_string(echoes_[1]->port) + "}]");
  write_file(manifests_ / "base.yaml", base);
  EXPECT_TRUE(served_within(gantry_->port, "stable.example.com", "/", "b-1-a")) << gantry_->log();
  EXPECT_EQ(gantry_->metric("gantry_translations_total"), translations);
  EXPECT_EQ(gantry_->metric("gantry_endpoint_updates_total"), updates + 1);
  // /status and /config_dump say which snapshot is live and since when.
  auto status = json::parse(gantry_->admin_get("/status"));
  EXPECT_NE(status.at("metadata").at("resourceVersion").get_string(), "1");
  EXPECT_FALSE(status.at("metadata").at("publishedAt").get_string().empty());
  auto config = json::parse(gantry_->admin_get("/config_dump"));
  EXPECT_EQ(std::to_string(config.at("version").to_number<uint64_t>()), std::string(status.at("metadata").at("resourceVersion").get_string()));
}

// A change to HTTPRoutes alone translates those routes only (gantry_route_translations_total);
// any other kind (here a Service) is a full translation again.
TEST_F(ReloadTest, ARouteChangeTranslatesOnlyThatRoute) {
  const uint64_t translations = gantry_->metric("gantry_translations_total");
  const uint64_t partial = gantry_->metric("gantry_route_translations_total");
  ASSERT_NE(partial, ~0ull) << "no gantry_route_translations_total in /metrics";
  write_file(manifests_ / "r.yaml", route("r", "r.example.com", "a"));
  ASSERT_TRUE(served_within(gantry_->port, "r.example.com", "/", "a-1-a")) << gantry_->log();
  write_file(manifests_ / "r.yaml", route("r", "r.example.com", "b"));
  ASSERT_TRUE(served_within(gantry_->port, "r.example.com", "/", "b-1-a")) << gantry_->log();
  EXPECT_EQ(gantry_->metric("gantry_route_translations_total"), partial + 2);
  EXPECT_EQ(gantry_->metric("gantry_translations_total"), translations + 2);
  // The live table is the one a full translation of the same files gives.
  EXPECT_EQ(pod_of(gantry_->port, "stable.example.com", "/"), "a-1-a");
  write_file(manifests_ / "svc.yaml", service_manifest("c", {echoes_[1]->port}));
  auto until = std::chrono::steady_clock::now() + 3s;
  while (gantry_->metric("gantry_translations_total") != translations + 3 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(gantry_->metric("gantry_translations_total"), translations + 3);
  EXPECT_EQ(gantry_->metric("gantry_route_translations_total"), partial + 2);
  fs::remove(manifests_ / "r.yaml");
  EXPECT_TRUE(within_404(gantry_->port, "r.example.com"));
  EXPECT_EQ(gantry_->metric("gantry_route_translations_total"), partial + 3);
}

TEST_F(ReloadTest, ABrokenFileKeepsItsLastGoodRoutesServing) {
  write_file(manifests_ / "k.yaml", route("k", "k.example.com", "b"));
  ASSERT_TRUE(served_within(gantry_->port, "k.example.com", "/", "b-1-a"));
  write_file(manifests_ / "k.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n");
  // Bounded generously: under a parallel ctest the scan that sees the file can be late.
  auto until = std::chrono::steady_clock::now() + 3s;
  while (gantry_->metric("gantry_config_errors") != 1 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(gantry_->metric("gantry_config_errors"), 1u);
  // In /status too, with its file and line (the end of the file, where the list should close).
  auto errors = json::parse(gantry_->admin_get("/status")).at("metadata").at("configErrors").as_array();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(std::string(errors[0].as_string()).find("k.yaml:5:"), std::string::npos) << errors[0];
  EXPECT_NE(gantry_->admin_get("/readyz").find("ready"), std::string::npos);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(pod_of(gantry_->port, "k.example.com", "/"), "b-1-a");
  write_file(manifests_ / "k.yaml", route("k", "k.example.com", "a"));
  EXPECT_TRUE(served_within(gantry_->port, "k.example.com", "/", "a-1-a"));
  EXPECT_EQ(gantry_->metric("gantry_config_errors"), 0u);
  EXPECT_TRUE(json::parse(gantry_->admin_get("/status")).at("metadata").at("configErrors").as_array().empty());
}

// 100 changes (routes added, moved to another backend, deleted; EndpointSlice edits; a
// broken file now and then) while keep-alive clients, new-connection clients and one
// WebSocket run: no request fails, no connection drops.
TEST_F(ReloadTest, HundredChangesUnderLoadFailNothing) {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  auto keep_alive = [&] {
    httplib::Client c("127.0.0.1", gantry_->port);
    c.set_keep_alive(true);
    c.set_read_timeout(5, 0);
    for (int i = 0; i < 200000 && !stop; ++i) {
      auto r = c.Get("/ka", {{"Host", "stable.example.com"}});
      (r && r->status == 200 ? ok : failed)++;
    }
  };
  auto fresh = [&] {
    for (int i = 0; i < 20000 && !stop; ++i) {
      httplib::Client c("127.0.0.1", gantry_->port);
      c.set_read_timeout(5, 0);
      auto r = c.Get("/new", {{"Host", "stable.example.com"}, {"Connection", "close"}});
      (r && r->status == 200 ? ok : failed)++;
    }
  };
  std::vector<std::thread> load;
  for (int i = 0; i < 2; ++i) load.emplace_back(keep_alive);
  load.emplace_back(fresh);

  namespace websocket = boost::beast::websocket;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), gantry_->port});
  websocket::stream<boost::asio::ip::tcp::socket> ws(std::move(socket));
  ws.handshake("stable.example.com", "/ws");

  const std::string base = read_file(manifests_ / "base.yaml");
  const std::string a_port = "port: " + std::to_string(echoes_[0]->port) + "}]";
  const std::string b_port = "port: " + std::to_string(echoes_[1]->port) + "}]";
  for (int i = 0; i < 100; ++i) {
    std::string name = "churn-" + std::to_string(i % 10);
    switch (i % 4) {
      case 0: write_file(manifests_ / (name + ".yaml"), route(name, name + ".example.com", "a")); break;
      case 1: write_file(manifests_ / (name + ".yaml"), route(name, name + ".example.com", "b")); break;
      case 2: fs::remove(manifests_ / ("churn-" + std::to_string((i + 5) % 10) + ".yaml")); break;
      case 3: {
        // Service b's slice moves between the two echoes: an EndpointSlice edit.
        std::string next = base;
        size_t at = next.rfind(b_port);
        if ((i / 4) % 2 == 0) next.replace(at, b_port.size(), a_port);
        write_file(manifests_ / "base.yaml", next);
        break;
      }
    }
    // A broken file lands now and then and is mended later: what it held keeps serving.
    if (i % 25 == 12) write_file(manifests_ / "broken.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n");
    if (i % 25 == 20) fs::remove(manifests_ / "broken.yaml");
    if (i % 10 == 9) {
      std::string msg = "change " + std::to_string(i);
      ws.write(boost::asio::buffer(msg));
      boost::beast::flat_buffer buf;
      ws.read(buf);
      EXPECT_EQ(boost::beast::buffers_to_string(buf.data()), msg);
    }
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(200ms);
  stop = true;
  for (auto& t : load) t.join();
  expect_websocket_echo(ws);
  ws.close(websocket::close_code::normal);
  EXPECT_EQ(failed.load(), 0) << ok.load() << " ok";
  EXPECT_GT(ok.load(), 500);
  EXPECT_GE(gantry_->metric("gantry_endpoint_updates_total"), 10u);
  EXPECT_GE(gantry_->metric("gantry_route_translations_total"), 40u);
  EXPECT_NE(gantry_->log().find("broken.yaml:"), std::string::npos) << "the broken file was never read";
}

TEST(TranslateDeterminism, ShuffledFileOrdersGiveTheSameBytes) {
  std::vector<std::string> docs = {gateway_manifest(), service_manifest("a", {3001}), service_manifest("b", {3002, 3003}),
                                   route_manifest("r1", "x.example.com", "  - backendRefs: [{name: a, port: 8080}]\n"),
                                   route_manifest("r2", "y.example.com", "  - backendRefs: [{name: b, port: 8080}]\n")};
  std::string first;
  for (int shuffle = 0; shuffle < 4; ++shuffle) {
    TempDir dir;
    fs::create_directories(dir.path() / "sub");
    // Each arrangement puts the documents in another order, in differently named files.
    std::vector<size_t> order(docs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::rotate(order.begin(), order.begin() + shuffle, order.end());
    if (shuffle % 2) std::reverse(order.begin(), order.end());
    for (size_t i = 0; i < order.size(); ++i) {
      std::string name = std::string(1, static_cast<char>('a' + i)) + std::to_string(order[i]) + ".yaml";
      write_file(dir.path() / (shuffle % 2 ? "sub" : "") / name, docs[order[i]]);
    }
    auto r = run(std::string(GANTRY_BIN) + " translate --manifests " + dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.out;
    if (first.empty()) first = r.out;
    EXPECT_EQ(r.out, first) << "arrangement " << shuffle;
  }
}

}  // namespace
}  // namespace gantry::test
