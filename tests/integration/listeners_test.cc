// Listeners across snapshots: a port that cannot be bound is a status condition, not a
// crash (the other listeners serve, and it is tried again until it can be bound); a
// removed listener stops accepting and drains its connections within --drain-timeout
// (idle ones at once, busy ones after their response, the rest at the deadline).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <thread>

#include "h2_frames.h"
#include "harness.h"

namespace gantry::test {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Gateway gw on 127.0.0.1 with an HTTP listener per (name, port); port 80 is the harness's.
std::string gateway(const std::vector<std::pair<std::string, uint16_t>>& listeners) {
  std::string out =
      "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gantry}\n"
      "spec: {controllerName: gantry.dev/gateway-controller}\n---\n"
      "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: default}\n"
      "spec:\n  gatewayClassName: gantry\n  addresses: [{type: IPAddress, value: 127.0.0.1}]\n  listeners:\n";
  for (const auto& [name, port] : listeners)
    out += "  - {name: " + name + ", port: " + std::to_string(port) + ", protocol: HTTP}\n";
  return out;
}

// The condition `type` of Gateway gw's listener `listener` in /status: "True/Reason: message".
std::string listener_condition(const Gantry& g, const std::string& listener, const std::string& type) {
  boost::system::error_code ec;
  auto v = json::parse(g.admin_get("/status"), ec);
  if (ec) return "no /status";
  for (const auto& item : v.at("items").as_array()) {
    if (item.at("kind") != "Gateway" || item.at("metadata").at("name") != "gw") continue;
    for (const auto& l : item.at("status").at("listeners").as_array()) {
      if (l.at("name").as_string() != listener) continue;
      for (const auto& c : l.at("conditions").as_array())
        if (c.at("type").as_string() == type)
          return std::string(c.at("status").as_string()) + "/" + std::string(c.at("reason").as_string()) + ": " +
                 std::string(c.at("message").as_string());
    }
  }
  return "absent";
}

template <class Pred>
bool within(std::chrono::milliseconds limit, Pred pred) {
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

// A blocking client socket whose reads give up after 6 s (no test waits forever).
tcp::socket connect(asio::io_context& ioc, uint16_t port) {
  tcp::socket s(ioc);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{6, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

void send_get(tcp::socket& s, const std::string& target) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "drain.example.com");
  http::write(s, req);
}

class ListenersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifests_ = dir_.path() / "manifests";
    fs::create_directories(manifests_);
    echo_ = std::make_unique<Echo>("a-1-a", dir_.path());
    write_file(manifests_ / "gateway.yaml", gateway({{"http", 80}}));
    write_file(manifests_ / "app.yaml", service_manifest("a", {echo_->port}) +
                                            route_manifest("app", "", "  - backendRefs: [{name: a, port: 8080}]\n"));
  }
  void start(const std::vector<std::string>& flags = {}) {
    gantry_ = std::make_unique<Gantry>(manifests_, flags);
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  void TearDown() override {
    if (gantry_) EXPECT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log();
  }

  TempDir dir_;
  fs::path manifests_;
  std::unique_ptr<Echo> echo_;
  std::unique_ptr<Gantry> gantry_;
};

TEST_F(ListenersTest, ATakenPortIsAConditionTheOthersServeAndItIsRetried) {
  start();
  uint16_t taken = 0;
  int holder = listen_loopback(8, taken);  // no SO_REUSEPORT: nobody else can bind it
  const uint16_t spare = free_port();
  write_file(manifests_ / "gateway.yaml", gateway({{"http", 80}, {"taken", taken}, {"spare", spare}}));

  ASSERT_TRUE(within(5s, [&] { return curl_status(spare, "any.example.com", "/") == 200; })) << gantry_->log();
  EXPECT_EQ(curl_status(gantry_->port, "any.example.com", "/"), 200);
  std::string accepted = listener_condition(*gantry_, "taken", "Accepted");
  EXPECT_EQ(accepted.rfind("False/PortUnavailable: listen on 127.0.0.1:" + std::to_string(taken), 0), 0u) << accepted;
  EXPECT_NE(accepted.find("in use"), std::string::npos) << accepted;
  EXPECT_EQ(listener_condition(*gantry_, "taken", "Programmed").rfind("False/Pending", 0), 0u);
  EXPECT_EQ(listener_condition(*gantry_, "spare", "Accepted").rfind("True/", 0), 0u);
  // /readyz names the listener it is waiting for (DESIGN.md: every listener bound).
  EXPECT_NE(gantry_->admin_get("/readyz").find("listen on 127.0.0.1:" + std::to_string(taken)), std::string::npos);

  // Freed, the port is bound by the next retry (every second) without any manifest change.
  ::close(holder);
  EXPECT_TRUE(within(5s, [&] { return curl_status(taken, "any.example.com", "/") == 200; })) << gantry_->log();
  EXPECT_TRUE(within(3s, [&] { return listener_condition(*gantry_, "taken", "Accepted").rfind("True/", 0) == 0; }))
      << listener_condition(*gantry_, "taken", "Accepted");
  EXPECT_EQ(gantry_->admin_get("/readyz"), "ready\n");
}

TEST_F(ListenersTest, ARemovedListenerSendsGoawayOnHttp2AndLetsTheOpenStreamFinish) {
  const uint16_t extra = free_port();
  write_file(manifests_ / "gateway.yaml", gateway({{"http", 80}, {"extra", extra}}));
  start({"--drain-timeout", "3000", "--workers", "1"});
  ASSERT_EQ(curl_status(extra, "drain.example.com", "/"), 200);
  std::thread remover([&] {
    std::this_thread::sleep_for(300ms);  // the stream is upstream by now
    write_file(manifests_ / "gateway.yaml", gateway({{"http", 80}}));
  });
  // h2c: one stream whose answer takes 1.2 s, then the client only listens.
  RawResult r = raw_exchange(extra, kPreface + frame(kSettings, 0, 0, "") +
                                        frame(kHeaders, kEndHeaders | kEndStream, 1,
                                              request_block("\x82", "drain.example.com", "/slow?delay=1200ms")),
                             6s);
  remover.join();
  ASSERT_TRUE(r.connected);
  EXPECT_TRUE(r.closed) << "the connection outlived its listener";
  auto frames = parse_frames(r.response);
  const Frame* goaway = find_frame(frames, kGoaway, 0);
  ASSERT_NE(goaway, nullptr) << frames.size() << " frames";
  EXPECT_EQ(be32(goaway->payload, 4), 0u);  // NO_ERROR
  EXPECT_EQ(be32(goaway->payload, 0), 1u);  // the last stream it will answer: the open one
  // The open stream got its whole answer before the close.
  EXPECT_NE(find_frame(frames, kHeaders, 1), nullptr);
  bool ended = false;
  for (const Frame& f : frames) ended = ended || (f.stream == 1 && (f.flags & kEndStream));
  EXPECT_TRUE(ended);
}

TEST_F(ListenersTest, ARemovedListenerDrainsItsConnectionsWithinTheDrainTimeout) {
  const uint16_t extra = free_port();
  write_file(manifests_ / "gateway.yaml", gateway({{"http", 80}, {"extra", extra}}));
  start({"--drain-timeout", "1500", "--workers", "1"});
  ASSERT_EQ(curl_status(extra, "drain.example.com", "/"), 200);

  asio::io_context ioc;
  // An idle keep-alive connection, one with a request in flight, and a WebSocket.
  tcp::socket idle = connect(ioc, extra);
  send_get(idle, "/first");
  boost::beast::flat_buffer idle_buf;
  http::response<http::string_body> first;
  http::read(idle, idle_buf, first);
  ASSERT_EQ(first.result_int(), 200u);
  ASSERT_TRUE(first.keep_alive());

  boost::beast::websocket::stream<tcp::socket> ws(connect(ioc, extra));
  ws.handshake("drain.example.com", "/ws");

  tcp::socket busy = connect(ioc, extra);
  send_get(busy, "/slow?delay=800ms");
  std::this_thread::sleep_for(100ms);  // the request is upstream now

  auto removed = Clock::now();
  write_file(manifests_ / "gateway.yaml", gateway({{"http", 80}}));

  // The idle connection is closed as soon as the snapshot is applied.
  http::response<http::string_body> none;
  boost::system::error_code ec;
  http::read(idle, idle_buf, none, ec);
  EXPECT_EQ(ec, http::error::end_of_stream) << ec.message();
  EXPECT_LT(Clock::now() - removed, 1000ms);

  // The request in flight gets its whole answer, told that the connection ends.
  boost::beast::flat_buffer busy_buf;
  http::response<http::string_body> slow;
  http::read(busy, busy_buf, slow, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(slow.result_int(), 200u);
  EXPECT_FALSE(slow.keep_alive());

  // No new connections on the removed port; the other listener serves on.
  EXPECT_TRUE(within(2s, [&] { return curl_status(extra, "drain.example.com", "/") == 0; }));
  EXPECT_EQ(curl_status(gantry_->port, "drain.example.com", "/"), 200);

  // The WebSocket outlives neither the drain timeout nor the listener.
  boost::beast::flat_buffer ws_buf;
  ws.read(ws_buf, ec);
  auto closed_after = Clock::now() - removed;
  EXPECT_TRUE(ec) << "the WebSocket stayed open";
  EXPECT_GE(closed_after, 1400ms);
  EXPECT_LT(closed_after, 4000ms);
}

}  // namespace
}  // namespace gantry::test
