// HTTP/2 to backends (appProtocol kubernetes.io/h2c): real curl and nghttp clients over
// HTTP/1.1 and HTTP/2 through the real proxy to gantry-echo's h2c port, whose HTTP/1.1
// answer to anything else is 400. Bodies past the windows both ways, trailers both ways
// (HTTP/2 <-> HTTP/2, and HTTP/2 trailers into an HTTP/1.1 chunked response), streams
// sharing one upstream connection, and the failures: a dead endpoint, a backend that
// speaks only HTTP/1.1, a reset stream, a late answer.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "h2_client.h"
#include "harness.h"

namespace gantry::test {
namespace {
namespace json = boost::json;

class H2UpstreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto manifests = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests);
    echo_ = Echo::with_h2c("grpc-1-a", dir_->path()).release();
    std::string m = gateway_manifest();
    m += h2c_service_manifest("h2", echo_->h2c_port);
    m += h2c_service_manifest("h1only", echo_->port);   // says h2c, speaks HTTP/1.1
    m += h2c_service_manifest("dead", free_port());     // nothing listens
    stalled_fd_ = listen_loopback(16, stalled_port_);   // takes the connection, never reads
    m += h2c_service_manifest("stalled", stalled_port_);
    drop_fd_ = listen_loopback(16, drop_port_);  // reads the request, closes without an answer
    m += h2c_service_manifest("drops", drop_port_);
    m += route_manifest("h2", "h2.example", "  - backendRefs: [{name: h2, port: 8080}]\n");
    m += route_manifest("slow", "slow.example",
                        "  - timeouts: {request: 500ms}\n    backendRefs: [{name: h2, port: 8080}]\n");
    m += route_manifest("h1only", "h1only.example", "  - backendRefs: [{name: h1only, port: 8080}]\n");
    m += route_manifest("dead", "dead.example", "  - backendRefs: [{name: dead, port: 8080}]\n");
    m += route_manifest("drops", "drops.example", "  - backendRefs: [{name: drops, port: 8080}]\n");
    m += route_manifest("stalled", "stalled.example",
                        "  - timeouts: {backendRequest: 1s}\n    backendRefs: [{name: stalled, port: 8080}]\n");
    // HTTP/2 clients to an HTTP/1.1 backend with the route's retry policy.
    m += service_manifest("plain", {echo_->port});
    m += route_manifest("retry", "retry.example",
                        "  - retry: {attempts: 2, codes: [500]}\n    backendRefs: [{name: plain, port: 8080}]\n");
    m += route_manifest("retry-h2", "retry-h2.example",
                        "  - retry: {attempts: 2, codes: [500]}\n    backendRefs: [{name: h2, port: 8080}]\n");
    write_file(manifests / "all.yaml", m);
    // One worker: every request of a test meets the same upstream connections.
    gantry_ = new Gantry(manifests, {"--workers", "1"});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  static void TearDownTestSuite() {
    delete gantry_;
    delete echo_;
    delete dir_;
    ::close(stalled_fd_);
    ::close(drop_fd_);
  }
  void TearDown() override { ASSERT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log(); }

  static std::string url(const std::string& path) { return "http://127.0.0.1:" + std::to_string(gantry_->port) + path; }
  // The echo's JSON from curl's output that ends "\n<status>".
  static json::object echo_of(const std::string& out) { return json::parse(out.substr(0, out.rfind('\n'))).as_object(); }
  static std::string status_of(const std::string& out) { return out.substr(out.rfind('\n') + 1); }

  static TempDir* dir_;
  static Echo* echo_;
  static Gantry* gantry_;
  static int stalled_fd_;
  static uint16_t stalled_port_;
  static int drop_fd_;
  static uint16_t drop_port_;
};
int H2UpstreamTest::drop_fd_ = -1;
uint16_t H2UpstreamTest::drop_port_ = 0;
int H2UpstreamTest::stalled_fd_ = -1;
uint16_t H2UpstreamTest::stalled_port_ = 0;
TempDir* H2UpstreamTest::dir_;
Echo* H2UpstreamTest::echo_;
Gantry* H2UpstreamTest::gantry_;

TEST_F(H2UpstreamTest, AnHttp11RequestReachesTheBackendOverH2c) {
  auto r = run("curl -s --max-time 10 -H 'Host: h2.example' -H 'Connection: keep-alive, X-Hop' -H 'X-Hop: 1' "
               "-w '\\n%{http_code}' '" + url("/hello?q=1") + "'");
  ASSERT_EQ(status_of(r.out), "200") << r.out;
  auto body = echo_of(r.out);
  EXPECT_EQ(body["proto"].as_string(), "HTTP/2.0");
  EXPECT_EQ(body["path"].as_string(), "/hello?q=1");
  EXPECT_EQ(body["host"].as_string(), "h2.example");  // Host became :authority
  const auto& headers = body["headers"].as_object();
  EXPECT_FALSE(headers.contains("X-Hop"));       // named by Connection: hop-by-hop
  EXPECT_FALSE(headers.contains("Connection"));
  EXPECT_EQ(headers.at("Te").as_array().at(0).as_string(), "trailers");
  EXPECT_TRUE(headers.contains("X-Forwarded-For"));
}

TEST_F(H2UpstreamTest, AnHttp2RequestReachesTheBackendOverH2c) {
  auto r = run("curl -s --max-time 10 --http2-prior-knowledge -H 'Host: h2.example' -w '\\n%{http_code}' '" +
               url("/two") + "'");
  ASSERT_EQ(status_of(r.out), "200") << r.out;
  auto body = echo_of(r.out);
  EXPECT_EQ(body["proto"].as_string(), "HTTP/2.0");
  EXPECT_EQ(body["host"].as_string(), "h2.example");
}

TEST_F(H2UpstreamTest, LargeBodiesPassBothWaysFromEitherClient) {
  // 3 MiB: past the request buffer, the stream window and the connection window.
  const auto file = dir_->path() / "big.bin";
  std::string big(3 << 20, '\0');
  uint64_t sum = 0;
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>(i * 7 + 3);
    sum += static_cast<unsigned char>(big[i]);
  }
  write_file(file, big);
  for (const std::string proto : {"--http1.1", "--http2-prior-knowledge"}) {
    auto r = run("curl -s --max-time 20 " + proto + " -H 'Host: h2.example' --data-binary @" + file.string() +
                 " -w '\\n%{http_code}' '" + url("/upload") + "'");
    ASSERT_EQ(status_of(r.out), "200") << proto << ": " << r.out.substr(0, 300);
    auto body = echo_of(r.out);
    EXPECT_EQ(body["bodyBytes"].to_number<uint64_t>(), big.size()) << proto;
    EXPECT_EQ(body["bodySum"].to_number<uint64_t>(), sum) << proto;
  }
}

TEST_F(H2UpstreamTest, ABackendThatTakesNoBodyIs504AfterTheSendTimeoutFromEitherClient) {
  // The backend's socket is never read: the stream window fills, then Gantry's queue.
  const auto file = dir_->path() / "stalled.bin";
  write_file(file, std::string(2 << 20, 'x'));
  for (const std::string proto : {"--http1.1", "--http2-prior-knowledge"}) {
    const auto start = std::chrono::steady_clock::now();
    auto r = run("curl -s --max-time 20 " + proto + " -H 'Host: stalled.example' --data-binary @" + file.string() +
                 " -w '\\n%{http_code}' '" + url("/upload") + "'");
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(status_of(r.out), "504") << proto << ": " << r.out.substr(0, 300);
    EXPECT_NE(r.out.find("sending the request body"), std::string::npos) << proto << ": " << r.out.substr(0, 300);
    EXPECT_GE(took, std::chrono::milliseconds(900)) << proto;
    EXPECT_LT(took, std::chrono::seconds(10)) << proto;
  }
}

TEST_F(H2UpstreamTest, AConnectionLostUnderAnIdempotentRequestIsTriedOnceMore) {
  // The backend takes each connection, reads what comes, and closes it unanswered. A GET
  // goes once more on a new connection (not counted against the route's retries); a POST
  // does not (the backend may have acted on it). Either way the client gets a 502.
  auto accepted_during = [&](const std::string& args) {
    int accepted = 0;
    std::thread backend([&] {
      for (;;) {
        pollfd p{drop_fd_, POLLIN, 0};
        if (::poll(&p, 1, 1000) != 1) return;
        int c = ::accept(drop_fd_, nullptr, nullptr);
        ++accepted;
        char buf[4096];
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 2000) == 1) (void)::read(c, buf, sizeof buf);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the rest of the request in
        while (::poll(&q, 1, 0) == 1 && ::read(c, buf, sizeof buf) > 0) {
        }
        ::close(c);
      }
    });
    auto r = run("curl -s --max-time 10 -H 'Host: drops.example' " + args + " -w '\\n%{http_code}' '" +
                 url("/gone") + "'");
    backend.join();
    EXPECT_EQ(status_of(r.out), "502") << args << ": " << r.out;
    return accepted;
  };
  EXPECT_EQ(accepted_during(""), 2);
  EXPECT_EQ(accepted_during("--http2-prior-knowledge"), 2);
  EXPECT_EQ(accepted_during("--data-binary abc"), 1);
  EXPECT_EQ(accepted_during("--http2-prior-knowledge --data-binary abc"), 1);
}

TEST_F(H2UpstreamTest, ResponseTrailersReachAnHttp2ClientAndRequestTrailersTheBackend) {
  const auto file = dir_->path() / "small.txt";
  write_file(file, "payload");
  auto r = run("nghttp -v -t 10 -H ':authority: h2.example' -d " + file.string() +
               " --trailer 'x-req-trailer: yes' '" + url("/trailers") + "' 2>&1");
  EXPECT_NE(r.out.find("\"trailers\":{\"X-Req-Trailer\":[\"yes\"]}"), std::string::npos) << r.out;
  // The response trailer comes after the body, in a HEADERS frame that ends the stream.
  const size_t data = r.out.find("recv DATA frame");
  const size_t trailer = r.out.find("x-echo-trailer: sent");
  ASSERT_NE(data, std::string::npos) << r.out;
  ASSERT_NE(trailer, std::string::npos) << r.out;
  EXPECT_LT(data, trailer);
}

TEST_F(H2UpstreamTest, ResponseTrailersReachAnHttp11ClientInTheLastChunk) {
  auto r = run("curl -s --raw -i --max-time 10 -H 'Host: h2.example' '" + url("/trailers") + "'");
  EXPECT_NE(r.out.find("Transfer-Encoding: chunked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\r\n0\r\nx-echo-trailer: sent\r\n\r\n"), std::string::npos) << r.out;
  // An HTTP/1.0 client gets the body until close, and no trailers.
  auto old = run("curl -s --raw -i --max-time 10 --http1.0 -H 'Host: h2.example' '" + url("/trailers") + "'");
  EXPECT_EQ(old.out.find("chunked"), std::string::npos) << old.out;
  EXPECT_NE(old.out.find("\"path\":\"/trailers\""), std::string::npos) << old.out;
}

TEST_F(H2UpstreamTest, ConcurrentRequestsShareFewUpstreamConnections) {
  // 30 streams at once on one client connection; the backend numbers its connections.
  std::string urls;
  for (int i = 0; i < 30; ++i) urls += " '" + url("/many/" + std::to_string(i) + "?delay=100ms") + "'";
  auto r = run("nghttp -t 10 -H ':authority: h2.example'" + urls + " 2>&1");
  std::set<int64_t> connections;
  int answers = 0;
  for (size_t at = 0; (at = r.out.find("{\"path\"", at)) != std::string::npos; ++at) {
    const size_t end = r.out.find('}', r.out.find("\"bodySum\"", at));
    auto body = json::parse(r.out.substr(at, end - at + 1)).as_object();
    connections.insert(body["connection"].as_int64());
    ++answers;
  }
  EXPECT_EQ(answers, 30) << r.out.substr(0, 2000);
  EXPECT_GE(connections.size(), 1u);
  EXPECT_LE(connections.size(), 2u);  // H2Upstreams::kConnectionsPerEndpoint
}

TEST_F(H2UpstreamTest, ADeadEndpointIs502FromEitherClient) {
  EXPECT_EQ(curl_status(gantry_->port, "dead.example", "/"), 502);
  H2Client c("127.0.0.1", gantry_->port, nullptr, std::chrono::seconds(10));
  ASSERT_TRUE(c.error().empty()) << c.error();
  H2Response res = c.request("GET", "dead.example", "/");
  EXPECT_EQ(res.status, 502) << res.error;
  EXPECT_NE(res.body.find("connect to 127.0.0.1:"), std::string::npos) << res.body;
}

TEST_F(H2UpstreamTest, ABackendThatSpeaksOnlyHttp11Is502) {
  // Its "400 Expected h2c request" is not HTTP/2: the connection fails, the request with it.
  auto r = run("curl -s --max-time 10 -H 'Host: h1only.example' -w '\\n%{http_code}' '" + url("/") + "'");
  EXPECT_EQ(status_of(r.out), "502") << r.out;
  H2Client c("127.0.0.1", gantry_->port, nullptr, std::chrono::seconds(10));
  EXPECT_EQ(c.request("GET", "h1only.example", "/").status, 502);
}

TEST_F(H2UpstreamTest, AStreamTheBackendResetsIs502AndTheConnectionStaysInUse) {
  // The echo resets the first try of this uuid's stream (RST_STREAM INTERNAL_ERROR).
  auto r = run("curl -s --max-time 10 -H 'Host: h2.example' -w '\\n%{http_code}' '" +
               url("/retry/a?uuid=reset-1&succeedAfter=1") + "'");
  EXPECT_EQ(status_of(r.out), "502") << r.out;
  EXPECT_NE(r.out.find("reset the stream"), std::string::npos) << r.out;
  auto after = run("curl -s --max-time 10 -H 'Host: h2.example' -w '\\n%{http_code}' '" +
                   url("/retry/a?uuid=reset-1&succeedAfter=1") + "'");
  EXPECT_EQ(status_of(after.out), "200") << after.out;
}

TEST_F(H2UpstreamTest, ALateAnswerIs504AndTheStreamIsCancelled) {
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(curl_status(gantry_->port, "slow.example", "/late?delay=3s"), 504);
  H2Client c("127.0.0.1", gantry_->port, nullptr, std::chrono::seconds(10));
  EXPECT_EQ(c.request("GET", "slow.example", "/late?delay=3s").status, 504);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500));
  // The connection those streams were on still serves.
  EXPECT_EQ(curl_status(gantry_->port, "h2.example", "/after"), 200);
}

TEST_F(H2UpstreamTest, EitherClientFollowsTheRoutesRetryPolicyToEitherBackend) {
  // retry.example: an HTTP/1.1 backend; retry-h2.example: the h2c one (its "reset" is a
  // stream reset). From HTTP/1.1 and HTTP/2 clients.
  const uint64_t before = gantry_->metric("gantry_route_retries_total");
  int n = 0;
  for (const std::string host : {"retry.example", "retry-h2.example"})
    for (const std::string proto : {"--http1.1", "--http2-prior-knowledge"}) {
      auto status = [&](const std::string& path, const std::string& extra = "") {
        auto r = run("curl -s --max-time 10 " + proto + " -H 'Host: " + host + "' " + extra +
                     " -w '\\n%{http_code}' '" + url(path) + "'");
        return status_of(r.out);
      };
      const std::string id = std::to_string(++n);
      // Two listed statuses, then an answer: within attempts 2.
      EXPECT_EQ(status("/retry/a?uuid=codes-" + id + "&succeedAfter=2&responseCode=500"), "200") << host << proto;
      // Two resets, then an answer; with a body that had all arrived.
      EXPECT_EQ(status("/retry/b?uuid=resets-" + id + "&succeedAfter=2", "--data-binary abc"), "200") << host << proto;
      // Three failures are one too many: the last 500 is the answer.
      EXPECT_EQ(status("/retry/c?uuid=many-" + id + "&succeedAfter=3&responseCode=500"), "500") << host << proto;
    }
  // 2 + 2 + 2 tries beyond the first, four times, counted for the routes.
  const uint64_t after = gantry_->metric("gantry_route_retries_total");
  ASSERT_NE(after, ~0ull);
  EXPECT_GE(after - (before == ~0ull ? 0 : before), 24u);
}

TEST_F(H2UpstreamTest, HeadAnd204HaveNoBody) {
  auto head = run("curl -s -I --max-time 10 -H 'Host: h2.example' '" + url("/") + "'");
  EXPECT_NE(head.out.find("200"), std::string::npos) << head.out;
  H2Client c("127.0.0.1", gantry_->port, nullptr, std::chrono::seconds(10));
  H2Response res = c.request("GET", "h2.example", "/status/204");
  EXPECT_EQ(res.status, 204) << res.error;
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(curl_status(gantry_->port, "h2.example", "/status/204"), 204);
}

}  // namespace
}  // namespace gantry::test
