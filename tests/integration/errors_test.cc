// Every error a client can see, provoked for real; none hangs, none disturbs another
// connection, none crashes the proxy.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "harness.h"
#include "raw_backends.h"

namespace gantry::test {
namespace {

class ErrorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto manifests = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests);
    echo_ = new Echo("ok-1-a", dir_->path());
    garbage_ = new RawBackend("this is not http\r\n\r\n");
    truncated_ = new RawBackend("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly a little");
    hole_ = new BlackHole();
    closer_ = new RawBackend("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    std::string m = gateway_manifest();
    m += service_manifest("ok", {echo_->port});
    m += service_manifest("down", {free_port()});
    m += service_manifest("garbage", {garbage_->port});
    m += service_manifest("truncated", {truncated_->port});
    m += service_manifest("hole", {hole_->port});
    m += service_manifest("closer", {closer_->port});
    m += service_manifest("unready", {echo_->port}, false);
    m += service_manifest("half", {free_port(), echo_->port});  // one endpoint refuses connections
    for (const char* s : {"ok", "down", "garbage", "truncated", "hole", "unready", "closer", "half"})
      m += route_manifest(s, std::string(s) + ".example.com", "  - backendRefs: [{name: " + std::string(s) + ", port: 8080}]\n");
    m += route_manifest("invalid", "invalid.example.com", "  - backendRefs: [{name: no-such-service, port: 8080}]\n");
    write_file(manifests / "all.yaml", m);
    gantry_ = new Gantry(manifests, {"--header-timeout", "500", "--idle-timeout", "700", "--response-timeout", "600",
                                     "--connect-timeout", "400"});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  static void TearDownTestSuite() {
    delete gantry_;
    delete echo_;
    delete garbage_;
    delete truncated_;
    delete hole_;
    delete closer_;
    delete dir_;
  }
  void TearDown() override { ASSERT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log(); }

  static TempDir* dir_;
  static Echo* echo_;
  static RawBackend* garbage_;
  static RawBackend* truncated_;
  static BlackHole* hole_;
  static RawBackend* closer_;
  static Gantry* gantry_;
};
TempDir* ErrorsTest::dir_;
Echo* ErrorsTest::echo_;
RawBackend* ErrorsTest::garbage_;
RawBackend* ErrorsTest::truncated_;
BlackHole* ErrorsTest::hole_;
RawBackend* ErrorsTest::closer_;
Gantry* ErrorsTest::gantry_;

TEST_F(ErrorsTest, NoRouteIs404) { EXPECT_EQ(curl_status(gantry_->port, "nowhere.example.com", "/"), 404); }

TEST_F(ErrorsTest, InvalidBackendRefIs500) { EXPECT_EQ(curl_status(gantry_->port, "invalid.example.com", "/"), 500); }

TEST_F(ErrorsTest, BackendDownIs502) {
  auto r = curl(gantry_->port, "down.example.com", "/", "-w '\\n%{http_code}'");
  EXPECT_NE(r.out.find("\n502"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("connect to 127.0.0.1:"), std::string::npos) << "the body says what failed: " << r.out;
}

TEST_F(ErrorsTest, NoReadyEndpointIs503) { EXPECT_EQ(curl_status(gantry_->port, "unready.example.com", "/"), 503); }

TEST_F(ErrorsTest, MalformedResponseIs502) { EXPECT_EQ(curl_status(gantry_->port, "garbage.example.com", "/"), 502); }

TEST_F(ErrorsTest, ResetBeforeResponseIs502) {
  // echo resets the connection (SO_LINGER 0) for the first requests of a retry uuid.
  EXPECT_EQ(curl_status(gantry_->port, "ok.example.com", "/retry/x?uuid=reset-1&succeedAfter=5"), 502);
}

TEST_F(ErrorsTest, PooledConnectionClosedByTheUpstreamIsRetriedOnAFreshOne) {
  // The backend closes after each response without saying so; the pooled connection is
  // dead when the next request takes it. A request without a body is sent again.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(curl_status(gantry_->port, "closer.example.com", "/"), 200) << "request " << i;
}

TEST_F(ErrorsTest, ABufferedBodyIsSentAgainOnAFreshConnection) {
  // The same dead pooled connections, now with a body: one that fits --request-buffer was
  // read whole first, so it can be sent again.
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(curl_status(gantry_->port, "closer.example.com", "/", "-X POST --data-binary 'a small body'"), 200)
        << "request " << i;
}

TEST(ConnectionLimit, ConnectionsOverTheLimitAreRefusedCleanly) {
  TempDir dir;
  Echo echo("limit-1-a", dir.path());
  auto manifests = dir.path() / "manifests";
  std::filesystem::create_directories(manifests);
  write_file(manifests / "all.yaml", gateway_manifest() + service_manifest("s", {echo.port}) +
                                         route_manifest("r", "", "  - backendRefs: [{name: s, port: 8080}]\n"));
  Gantry gantry(manifests, {"--workers", "1", "--max-connections", "3"});
  ASSERT_TRUE(gantry.wait_ready()) << gantry.log();
  // Three idle connections hold the worker's three places.
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(gantry.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    held.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);
  RawResult r = raw_exchange(gantry.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 2s);
  EXPECT_TRUE(r.response.starts_with("HTTP/1.1 503")) << r.response;
  EXPECT_NE(r.response.find("too many connections"), std::string::npos);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(gantry.metric("gantry_downstream_connections_refused_total"), 1u);
  for (int fd : held) ::close(fd);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(curl_status(gantry.port, "a", "/"), 200) << "places free again";
}

TEST_F(ErrorsTest, ARefusedConnectIsTriedOnAnotherEndpoint) {
  // Round robin over a dead endpoint and a live one: every request is served, a POST too
  // (nothing was sent to the dead one).
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(curl_status(gantry_->port, "half.example.com", "/"), 200) << "request " << i;
    EXPECT_EQ(curl_status(gantry_->port, "half.example.com", "/", "-X POST --data-binary x"), 200) << "request " << i;
  }
}

TEST_F(ErrorsTest, StalledBackendIs504) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(curl_status(gantry_->port, "ok.example.com", "/slow?delay=5s"), 504);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(ErrorsTest, ConnectTimeoutIs504) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(curl_status(gantry_->port, "hole.example.com", "/"), 504);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(ErrorsTest, ClosedMidResponseEndsTheClientConnection) {
  // The status line is already out: the only honest signal left is closing early.
  auto start = std::chrono::steady_clock::now();
  auto r = curl(gantry_->port, "truncated.example.com", "/", "-o /dev/null");
  EXPECT_EQ(r.exit_code, 18) << "curl: partial file";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(ErrorsTest, MalformedRequestIs400) {
  RawResult r = raw_exchange(gantry_->port, "GET / HTTP/1.1\r\nHost: ok.example.com\r\nBad Header Line\r\n\r\n", 3s);
  EXPECT_TRUE(r.response.starts_with("HTTP/1.1 400")) << r.response;
  EXPECT_TRUE(r.closed);
  r = raw_exchange(gantry_->port, "GARBAGE\r\n\r\n", 3s);
  EXPECT_TRUE(r.response.starts_with("HTTP/1.1 400")) << r.response;
  EXPECT_TRUE(r.closed);
  r = raw_exchange(gantry_->port, "GET / HTTP/1.1\r\n\r\n", 3s);
  EXPECT_TRUE(r.response.starts_with("HTTP/1.1 400")) << "HTTP/1.1 needs Host: " << r.response;
  EXPECT_TRUE(r.closed);
  EXPECT_LT(r.elapsed, 300ms) << "a 400 closes the connection at once";
}

TEST_F(ErrorsTest, HugeHeaderIs431) {
  std::string req = "GET / HTTP/1.1\r\nHost: ok.example.com\r\nX-Big: " + std::string(80 * 1024, 'a') + "\r\n\r\n";
  RawResult r = raw_exchange(gantry_->port, req, 3s);
  EXPECT_TRUE(r.response.starts_with("HTTP/1.1 431")) << r.response.substr(0, 200);
}

TEST_F(ErrorsTest, SlowlorisIsCutOffByTheHeaderTimeout) {
  RawResult r = raw_exchange(gantry_->port, "GET / HTTP/1.1\r\nHost: ok.exa", 5s);
  EXPECT_TRUE(r.closed);
  EXPECT_LT(r.elapsed, 2s);
  // The deadline cancels the read rather than closing the socket, so the client is told.
  EXPECT_TRUE(r.response.starts_with("HTTP/1.1 408")) << r.response;
}

TEST_F(ErrorsTest, IdleKeepAliveConnectionIsClosed) {
  RawResult r = raw_exchange(gantry_->port, "GET / HTTP/1.1\r\nHost: ok.example.com\r\n\r\n", 5s);
  EXPECT_TRUE(r.response.starts_with("HTTP/1.1 200")) << r.response;
  EXPECT_TRUE(r.closed);
  EXPECT_LT(r.elapsed, 2500ms);
  EXPECT_GE(r.elapsed, 600ms);
}

TEST_F(ErrorsTest, AStalledRequestDoesNotDelayOthers) {
  auto slow = std::async(std::launch::async, [] { return curl_status(gantry_->port, "ok.example.com", "/s?delay=5s"); });
  std::this_thread::sleep_for(100ms);
  for (int i = 0; i < 20; ++i) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(curl_status(gantry_->port, "ok.example.com", "/fast"), 200);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 400ms);
  }
  EXPECT_EQ(slow.get(), 504);
}

}  // namespace
}  // namespace gantry::test
