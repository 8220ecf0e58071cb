// Bodies stream through a fixed buffer: 256 MiB each way, Content-Length and chunked,
// with gantry's peak memory bounded; Expect: 100-continue; WebSocket tunnelling.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "harness.h"
#include "websocket_echo.h"

namespace gantry::test {
namespace {
namespace json = boost::json;

constexpr uint64_t kBig = 256ull * 1024 * 1024;

class StreamingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto manifests = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests);
    echo_ = new Echo("stream-1-a", dir_->path());
    write_file(manifests / "all.yaml", gateway_manifest() + service_manifest("stream", {echo_->port}) +
                                           route_manifest("stream", "", "  - backendRefs: [{name: stream, port: 8080}]\n"));
    gantry_ = new Gantry(manifests);
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
    big_file_ = dir_->path() / "big.bin";
    ASSERT_EQ(run("truncate -s " + std::to_string(kBig) + " " + big_file_.string()).exit_code, 0);
  }
  static void TearDownTestSuite() {
    delete gantry_;
    delete echo_;
    delete dir_;
  }
  // Each transfer is 256 MiB; gantry's peak resident memory must stay far below it.
  static void expect_bounded_memory() {
    long kib = peak_rss_kib(gantry_->process->pid());
    ASSERT_GT(kib, 0);
    EXPECT_LT(kib, 64 * 1024 * kMemoryScale) << "peak RSS " << kib << " KiB after 256 MiB through the proxy";
  }
  static TempDir* dir_;
  static Echo* echo_;
  static Gantry* gantry_;
  static std::filesystem::path big_file_;
};
TempDir* StreamingTest::dir_;
Echo* StreamingTest::echo_;
Gantry* StreamingTest::gantry_;
std::filesystem::path StreamingTest::big_file_;

TEST_F(StreamingTest, UploadWithContentLength) {
  auto r = curl(gantry_->port, "up.example.com", "/upload", "--max-time 120 -T " + big_file_.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto o = json::parse(r.out);
  EXPECT_EQ(o.at("bodyBytes").to_number<uint64_t>(), kBig);
  EXPECT_EQ(o.at("method").get_string(), "PUT");
  expect_bounded_memory();
}

TEST_F(StreamingTest, UploadChunkedWithExpectContinue) {
  // curl sends a body of unknown length chunked, and asks 100-continue first.
  auto r = run("head -c " + std::to_string(kBig) + " /dev/zero | tr '\\0' 'a' | curl -s --max-time 120 -T - " +
               "-H 'Expect: 100-continue' -H 'Host: up.example.com' http://127.0.0.1:" +
               std::to_string(gantry_->port) + "/chunked");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto o = json::parse(r.out);
  EXPECT_EQ(o.at("bodyBytes").to_number<uint64_t>(), kBig);
  EXPECT_EQ(o.at("bodySum").to_number<uint64_t>(), kBig * 'a') << "bytes changed on the way";
  EXPECT_EQ(o.at("headers").at("Transfer-Encoding").at(0).get_string(), "chunked");
  EXPECT_FALSE(o.at("headers").as_object().contains("Expect")) << "gantry answers 100-continue itself";
  expect_bounded_memory();
}

TEST_F(StreamingTest, DownloadWithContentLength) {
  auto r = curl(gantry_->port, "down.example.com", "/bytes/" + std::to_string(kBig),
                "--max-time 120 -o /dev/null -w '%{http_code} %{size_download}'");
  EXPECT_EQ(r.out, "200 " + std::to_string(kBig));
  expect_bounded_memory();
}

TEST_F(StreamingTest, DownloadChunked) {
  auto r = curl(gantry_->port, "down.example.com", "/bytes/" + std::to_string(kBig) + "?chunked=1",
                "--max-time 120 -D - -o /dev/null -w '%{http_code} %{size_download}'");
  EXPECT_NE(r.out.find("Transfer-Encoding: chunked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("200 " + std::to_string(kBig)), std::string::npos) << r.out;
  expect_bounded_memory();
}

// RFC 9112 section 6.3: a HEAD's response ends with its head, chunked or not. Gantry
// writes the last chunk only where a body may follow; a stray "0\r\n\r\n" would be read
// as the start of the next response on the same connection.
TEST_F(StreamingTest, HeadOfAChunkedResponseEndsWithItsHead) {
  const std::string base = "http://127.0.0.1:" + std::to_string(gantry_->port);
  auto r = run("curl -s -I -H 'Host: down.example.com' '" + base + "/bytes/100?chunked=1' --next -s -o /dev/null " +
               "-w '%{http_code} %{size_download} %{num_connects}' -H 'Host: down.example.com' " + base + "/bytes/10");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Transfer-Encoding: chunked"), std::string::npos) << r.out;
  // The second response came on the same connection (no new connect), whole.
  EXPECT_NE(r.out.find("\r\n\r\n200 10 0"), std::string::npos) << r.out;
}

TEST_F(StreamingTest, WebSocketIsTunnelled) {
  namespace asio = boost::asio;
  namespace websocket = boost::beast::websocket;
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), gantry_->port});
  websocket::stream<asio::ip::tcp::socket> ws(std::move(socket));
  ws.handshake("ws.example.com", "/ws");
  expect_websocket_echo(ws);
  ws.close(websocket::close_code::normal);
}

}  // namespace
}  // namespace gantry::test
