// Hostile request heads against the real gantry, each sent over a real socket, with a
// backend that records every byte it receives: the client gets the status the RFC asks
// for and, for a refusal, the backend sees nothing at all. RFC 9112 §6.1 and §6.3
// (Transfer-Encoding and Content-Length), §5.1 and §5.2 (field syntax, obs-fold), §3.2
// (Host; absolute-form), RFC 9110 §5.5 (field values); path normalization as the README's
// Security section defines it (RFC 3986 §5.2.4 dot segments, §6.2.2 percent-encoding).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "harness.h"
#include "raw_backends.h"

namespace gantry::test {
namespace {
using namespace std::chrono_literals;

class HostileRequests : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    backend_ = new RecordingBackend();
    auto manifests = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests);
    // Only /a/ is routed: a path that escapes it must not reach the backend as /etc/...
    write_file(manifests / "all.yaml", gateway_manifest() + service_manifest("b", {backend_->port}) +
                                           route_manifest("r", "", "  - matches: [{path: {type: PathPrefix, value: /a/}}]\n"
                                                                   "    backendRefs: [{name: b, port: 8080}]\n"));
    gantry_ = new Gantry(manifests, {"--header-timeout", "1000"});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  static void TearDownTestSuite() {
    delete gantry_;
    delete backend_;
    delete dir_;
  }
  void TearDown() override { ASSERT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log(); }

  // The status code of the answer to `raw`, what the backend received, and whether the
  // connection was closed.
  struct Outcome {
    int status = 0;
    std::string backend_saw;
    bool closed = false;
  };
  static Outcome send(const std::string& raw) {
    backend_->take();
    RawResult r = raw_exchange(gantry_->port, raw, 2s);
    std::this_thread::sleep_for(50ms);  // anything forwarded has arrived by now
    Outcome o;
    if (r.response.starts_with("HTTP/1.")) o.status = std::atoi(r.response.c_str() + 9);
    o.backend_saw = backend_->take();
    o.closed = r.closed;
    return o;
  }

  static TempDir* dir_;
  static RecordingBackend* backend_;
  static Gantry* gantry_;
};
TempDir* HostileRequests::dir_ = nullptr;
RecordingBackend* HostileRequests::backend_ = nullptr;
Gantry* HostileRequests::gantry_ = nullptr;

struct Case {
  const char* name;
  std::string request;
  int status;
};

TEST_F(HostileRequests, RefusedHeadsNeverReachTheBackend) {
  const std::string h = "Host: h\r\n";
  const std::vector<Case> cases = {
      {"Content-Length with Transfer-Encoding", "POST /a/x HTTP/1.1\r\n" + h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"differing Content-Lengths", "POST /a/x HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
      {"repeated Content-Length", "POST /a/x HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400},
      {"chunked not last", "POST /a/x HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400},
      {"xchunked", "POST /a/x HTTP/1.1\r\n" + h + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400},
      {"chunked twice", "POST /a/x HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"an unknown coding before chunked", "POST /a/x HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
      {"Transfer-Encoding in HTTP/1.0", "POST /a/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"obs-fold", "GET /a/x HTTP/1.1\r\n" + h + "X-A: one\r\n two\r\n\r\n", 400},
      {"whitespace before the first field", "GET /a/x HTTP/1.1\r\n " + h + "\r\n", 400},
      {"whitespace before the colon", "GET /a/x HTTP/1.1\r\n" + h + "X-A : one\r\n\r\n", 400},
      {"NUL in a value", std::string("GET /a/x HTTP/1.1\r\n") + h + "X-A: o" + std::string(1, '\0') + "e\r\n\r\n", 400},
      {"CR in a value", "GET /a/x HTTP/1.1\r\n" + h + "X-A: o\re\r\n\r\n", 400},
      {"CTL in the target", "GET /a/\x01x HTTP/1.1\r\n" + h + "\r\n", 400},
      {"HTTP/1.1 without Host", "GET /a/x HTTP/1.1\r\n\r\n", 400},
      {"two Hosts", "GET /a/x HTTP/1.1\r\n" + h + "Host: i\r\n\r\n", 400},
      {"a Host with a space", "GET /a/x HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"a Host with userinfo", "GET /a/x HTTP/1.1\r\nHost: u@h\r\n\r\n", 400},
      {"an absolute-form ftp target", "GET ftp://h/a/x HTTP/1.1\r\n" + h + "\r\n", 400},
      {"an absolute-form target with userinfo", "GET http://u:p@h/a/x HTTP/1.1\r\n" + h + "\r\n", 400},
      {"a path above the root", "GET /a/../../etc/passwd HTTP/1.1\r\n" + h + "\r\n", 400},
      {"a path above the root, %2e", "GET /a/%2e%2e/%2E%2e/etc/passwd HTTP/1.1\r\n" + h + "\r\n", 400},
      {"a bad percent-encoding", "GET /a/%zz HTTP/1.1\r\n" + h + "\r\n", 400},
      {"a target over 8 KiB", "GET /a/" + std::string(9000, 'x') + " HTTP/1.1\r\n" + h + "\r\n", 414},
      {"101 header fields", "GET /a/x HTTP/1.1\r\n" + h + [] {
         std::string f;
         for (int i = 0; i < 100; ++i) f += "X-" + std::to_string(i) + ": v\r\n";
         return f;
       }() + "\r\n", 431},
      // Bodies up to --request-buffer are read whole first: broken chunk framing never
      // reaches the backend (RFC 9112 §7.1).
      {"a chunk size that is not hex", "POST /a/x HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
      {"a chunk size past 64 bits", "POST /a/x HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400},
      {"a control character in a chunk extension", "POST /a/x HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5;\x01=x\r\nhello\r\n0\r\n\r\n", 400},
      {"chunk data longer than its size", "POST /a/x HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n", 400},
      {"a 70 KiB header", "GET /a/x HTTP/1.1\r\n" + h + "X-A: " + std::string(70 * 1024, 'a') + "\r\n\r\n", 431},
  };
  for (const Case& c : cases) {
    Outcome o = send(c.request);
    EXPECT_EQ(o.status, c.status) << c.name;
    EXPECT_EQ(o.backend_saw, "") << c.name << ": the backend saw it";
    EXPECT_TRUE(o.closed) << c.name << ": a refused head closes the connection";
  }
}

TEST_F(HostileRequests, ASmallBodyIsReadWholeThenForwarded) {
  Outcome o = send("POST /a/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n6;name=value\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(o.status, 200);
  EXPECT_NE(o.backend_saw.find("hello"), std::string::npos) << o.backend_saw;
  EXPECT_NE(o.backend_saw.find(" world"), std::string::npos) << o.backend_saw;
  o = send("POST /a/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(o.status, 200);
  EXPECT_TRUE(o.backend_saw.ends_with("\r\n\r\nhello")) << o.backend_saw;
}

TEST_F(HostileRequests, BrokenFramingInAStreamedBodyIsA400) {
  // Larger than --request-buffer: it streams, so the head has gone on; the broken chunk
  // that follows ends the upstream connection and the client is told.
  const std::string chunk(100 * 1024, 'x');
  char size[32];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  Outcome o = send("POST /a/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(size) + "\r\n" +
                   chunk + "\r\nzz\r\n");
  EXPECT_EQ(o.status, 400);
  EXPECT_TRUE(o.closed);
  EXPECT_TRUE(o.backend_saw.starts_with("POST /a/x HTTP/1.1\r\n"));
  EXPECT_EQ(o.backend_saw.find("zz"), std::string::npos) << "the broken chunk was not passed on";
}

TEST_F(HostileRequests, AHeadArrivingAByteAtATimeIsFoundWhereItEnds) {
  // The end of the head is looked for from where the last read left off: a "\r\n\r\n"
  // split across reads is still found.
  backend_->take();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(gantry_->port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string req = "GET /a/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  for (char c : req) {
    ASSERT_EQ(::send(fd, &c, 1, MSG_NOSIGNAL), 1);
    std::this_thread::sleep_for(2ms);
  }
  char buf[512];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  ASSERT_GT(n, 12);
  EXPECT_TRUE(std::string(buf, static_cast<size_t>(n)).starts_with("HTTP/1.1 200"));
}

TEST_F(HostileRequests, PathsAreNormalizedOnceForMatchingAndForwarding) {
  struct Normalized {
    const char* target;
    const char* forwarded;  // the request line the backend receives
  };
  for (const Normalized& n : std::vector<Normalized>{
           {"/b/../a/x", "GET /a/x HTTP/1.1"},           // routed by where it really points
           {"/a/./x/.", "GET /a/x/ HTTP/1.1"},
           {"/a//x", "GET /a/x HTTP/1.1"},               // merged slashes
           {"/a/%2e/x", "GET /a/x HTTP/1.1"},
           {"/a/x%2Fy%5c", "GET /a/x%2Fy%5C HTTP/1.1"},  // encoded separators stay data
           {"/a/%78%7e?q=%2e%2e", "GET /a/x~?q=%2e%2e HTTP/1.1"},  // unreserved decoded; the query as it was
       }) {
    Outcome o = send(std::string("GET ") + n.target + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(o.status, 200) << n.target;
    EXPECT_TRUE(o.backend_saw.starts_with(std::string(n.forwarded) + "\r\n")) << n.target << ": " << o.backend_saw.substr(0, 80);
  }
  // A path that leaves /a/ once normalized is not routed there.
  Outcome o = send("GET /a/../b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(o.status, 404);
  EXPECT_EQ(o.backend_saw, "");
}

TEST_F(HostileRequests, AnAbsoluteFormTargetIsRoutedByItsOwnAuthority) {
  // RFC 9112 §3.2.2: the target's authority replaces Host, and the request goes on in
  // origin form.
  Outcome o = send("GET http://h.example/a/x?q=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(o.status, 200);
  EXPECT_TRUE(o.backend_saw.starts_with("GET /a/x?q=1 HTTP/1.1\r\n")) << o.backend_saw.substr(0, 80);
  EXPECT_NE(o.backend_saw.find("\r\nHost: h.example\r\n"), std::string::npos) << o.backend_saw.substr(0, 200);
  EXPECT_EQ(o.backend_saw.find("Host: other"), std::string::npos);
}

}  // namespace
}  // namespace gantry::test

namespace gantry::test {
namespace {

// --max-body-size where a route sets no limit: a declared length over it is refused
// before a byte is read, a chunked body when it passes it; neither reaches the backend.
TEST(HostileBodies, ABodyOverMaxBodySizeIs413AndReachesNoBackend) {
  TempDir dir;
  RecordingBackend backend;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  write_file(manifests / "all.yaml", gateway_manifest() + service_manifest("b", {backend.port}) +
                                         route_manifest("r", "", "  - backendRefs: [{name: b, port: 8080}]\n"));
  Gantry g(manifests, {"--max-body-size", "1000"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  const std::string h = "Host: h\r\n";
  auto declared = raw_exchange(g.port, "POST / HTTP/1.1\r\n" + h + "Content-Length: 1001\r\n\r\n" + std::string(1001, 'x'), 2s);
  EXPECT_TRUE(declared.response.starts_with("HTTP/1.1 413")) << declared.response;
  auto chunked = raw_exchange(g.port, "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n7d0\r\n" +
                                          std::string(2000, 'x') + "\r\n0\r\n\r\n", 2s);
  EXPECT_TRUE(chunked.response.starts_with("HTTP/1.1 413")) << chunked.response;
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(backend.take(), "");
  auto fits = raw_exchange(g.port, "POST / HTTP/1.1\r\n" + h + "Content-Length: 1000\r\nConnection: close\r\n\r\n" +
                                       std::string(1000, 'x'), 2s);
  EXPECT_TRUE(fits.response.starts_with("HTTP/1.1 200")) << fits.response;
}

}  // namespace
}  // namespace gantry::test
