// HTTP/2 downstream through the real proxy: real curl with prior knowledge on a plain
// listener and by ALPN over TLS, many streams on one connection, request and response
// bodies larger than the flow-control windows, and the connection's limits provoked with
// raw frames (rapid reset, CONTINUATION flood, concurrent streams, header list size), a
// drain's GOAWAY. RFC 9113; CVE-2023-44487, CVE-2024-27316.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>

#include "h2_client.h"
#include "h2_frames.h"
#include "harness.h"
#include "../support/self_signed.h"

namespace gantry::test {
namespace {
namespace json = boost::json;

class H2Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto manifests = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests);
    echo_ = new Echo("web-1-a", dir_->path());
    tls_port_ = free_port();
    std::string m = gateway_manifest();
    for (const std::string host : {"shop", "api"}) {
      auto cert = make_self_signed("/CN=" + host, {host + ".example.com"});
      ASSERT_TRUE(cert);
      write_file(dir_->path() / (host + ".crt"), cert->crt_pem);
      m += tls_secret_manifest(host, *cert);
    }
    m += "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: secure, namespace: default}\n"
         "spec:\n  gatewayClassName: gantry\n  addresses: [{type: IPAddress, value: 127.0.0.1}]\n  listeners:\n"
         "  - {name: shop, port: 443, protocol: HTTPS, hostname: shop.example.com, tls: {certificateRefs: [{name: shop}]}}\n"
         "  - {name: api, port: 443, protocol: HTTPS, hostname: api.example.com, tls: {certificateRefs: [{name: api}]}}\n";
    m += service_manifest("web", {echo_->port});
    m += "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: default}\n"
         "spec:\n  parentRefs: [{name: secure}, {name: gw}]\n  hostnames: [app.example.com, shop.example.com, api.example.com]\n"
         "  rules:\n  - matches: [{path: {type: PathPrefix, value: /old}}]\n"
         "    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]\n"
         "  - filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: X-Via, value: gantry}]}}]\n"
         "    backendRefs: [{name: web, port: 8080}]\n";
    write_file(manifests / "all.yaml", m);
    gantry_ = new Gantry(manifests, {"--port-map", "443:" + std::to_string(tls_port_), "--max-header-count", "50"});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  static void TearDownTestSuite() {
    delete gantry_;
    delete echo_;
    delete dir_;
  }
  void TearDown() override { ASSERT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log(); }

  static std::string plain_url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(gantry_->port) + path;
  }
  // curl with prior knowledge; its output ends with "\n<http_version> <status>".
  static CommandResult h2c(const std::string& path, const std::string& args = "") {
    return run("curl -s --max-time 10 --http2-prior-knowledge -H 'Host: app.example.com' " + args +
               " -w '\\n%{http_version} %{http_code}' '" + plain_url(path) + "'");
  }
  static std::string last_line(const std::string& out) { return out.substr(out.rfind('\n') + 1); }
  static json::object body_json(const std::string& out) {
    return json::parse(out.substr(0, out.rfind('\n'))).as_object();
  }
  // Sends `bytes` after the preface and an empty SETTINGS, and reads what comes back
  // until the server closes or `timeout` passes.
  static RawResult raw(const std::string& bytes, std::chrono::milliseconds timeout = 3s) {
    return raw_exchange(gantry_->port, kPreface + frame(kSettings, 0, 0, "") + bytes, timeout);
  }

  static TempDir* dir_;
  static Echo* echo_;
  static Gantry* gantry_;
  static uint16_t tls_port_;
};
TempDir* H2Test::dir_;
Echo* H2Test::echo_;
Gantry* H2Test::gantry_;
uint16_t H2Test::tls_port_;

TEST_F(H2Test, PriorKnowledgeOnAPlainListenerReachesTheBackendAsHttp11) {
  auto r = h2c("/h2/hello?x=1", "-i");
  ASSERT_EQ(r.exit_code, 0) << r.out << gantry_->log();
  EXPECT_EQ(last_line(r.out), "2 200") << r.out;
  EXPECT_NE(r.out.find("x-via: gantry"), std::string::npos) << r.out;  // response filters apply, names lowercased
  const std::string body = r.out.substr(r.out.find("\r\n\r\n") + 4);
  auto j = body_json(body);
  EXPECT_EQ(j.at("path").as_string(), "/h2/hello?x=1");
  EXPECT_EQ(j.at("host").as_string(), "app.example.com");  // :authority became Host
  EXPECT_EQ(j.at("proto").as_string(), "HTTP/1.1");
  const auto& headers = j.at("headers").as_object();
  EXPECT_EQ(headers.at("X-Forwarded-Proto").as_array().at(0).as_string(), "http");
  EXPECT_TRUE(headers.contains("X-Request-Id"));
}

TEST_F(H2Test, TlsClientsGetH2ByAlpnAndHttp11WhenTheyAskForIt) {
  const std::string base = "curl -s --max-time 10 --cacert " + (dir_->path() / "shop.crt").string() + " --resolve shop.example.com:" +
                           std::to_string(tls_port_) + ":127.0.0.1 -w '\\n%{http_version} %{http_code}' ";
  const std::string url = " 'https://shop.example.com:" + std::to_string(tls_port_) + "/tls'";
  auto h2 = run(base + "--http2" + url);
  ASSERT_EQ(h2.exit_code, 0) << h2.out << gantry_->log();
  EXPECT_EQ(last_line(h2.out), "2 200") << h2.out;
  EXPECT_EQ(body_json(h2.out).at("headers").as_object().at("X-Forwarded-Proto").as_array().at(0).as_string(), "https");
  auto h1 = run(base + "--http1.1" + url);
  ASSERT_EQ(h1.exit_code, 0) << h1.out;
  EXPECT_EQ(last_line(h1.out), "1.1 200") << h1.out;
}

TEST_F(H2Test, AStreamForAnotherListenersHostIs421AndTheConnectionServesItsOwn) {
  // One TLS connection for shop.example.com (SNI), as a browser coalescing connections
  // would reuse it: api.example.com belongs to another listener (RFC 9113 section 9.1.1).
  H2Client::Tls tls{"shop.example.com", read_file(dir_->path() / "shop.crt")};
  H2Client c("127.0.0.1", tls_port_, &tls, 5s);
  ASSERT_EQ(c.error(), "") << gantry_->log();
  EXPECT_EQ(c.alpn(), "h2");
  H2Response own = c.request("GET", "shop.example.com", "/mine");
  EXPECT_EQ(own.status, 200) << own.error;
  H2Response other = c.request("GET", "api.example.com", "/theirs");
  EXPECT_EQ(other.status, 421) << other.error;
  EXPECT_NE(other.body.find("another listener"), std::string::npos) << other.body;
  H2Response again = c.request("GET", "shop.example.com:" + std::to_string(tls_port_), "/mine-again");
  EXPECT_EQ(again.status, 200) << again.error;
  // The other name on its own connection is served.
  H2Client::Tls api{"api.example.com", read_file(dir_->path() / "api.crt")};
  H2Client d("127.0.0.1", tls_port_, &api, 5s);
  EXPECT_EQ(d.request("GET", "api.example.com", "/theirs").status, 200);
}

TEST_F(H2Test, ManyStreamsOnOneConnectionAllAnswer) {
  // nghttp sends them all at once on one connection (curl 7.88 fails to reuse an h2c one).
  std::string urls;
  for (int i = 0; i < 30; ++i) urls += " '" + plain_url("/many/" + std::to_string(i)) + "'";
  auto r = run("nghttp -n -s -t 10 -H ':authority: app.example.com'" + urls);
  ASSERT_EQ(r.exit_code, 0) << r.out << gantry_->log();
  size_t ok = 0;
  for (size_t at = 0; (at = r.out.find(" 200 ", at)) != std::string::npos; ++at) ++ok;
  EXPECT_EQ(ok, 30u) << r.out;
}

TEST_F(H2Test, BodiesLargerThanTheWindowsFlowBothWays) {
  // 1 MiB up: four times the stream window, so it passes only as windows come back.
  write_file(dir_->path() / "up.bin", std::string(1 << 20, 'u'));
  auto up = h2c("/upload", "--data-binary @" + (dir_->path() / "up.bin").string());
  ASSERT_EQ(up.exit_code, 0) << up.out << gantry_->log();
  EXPECT_EQ(last_line(up.out), "2 200");
  EXPECT_EQ(body_json(up.out).at("bodyBytes").to_number<int64_t>(), 1 << 20);
  // 3 MiB down, chunked from the backend, streamed as DATA frames.
  auto down = h2c("/bytes/3145728?chunked=1", "-o " + (dir_->path() / "down.bin").string());
  ASSERT_EQ(down.exit_code, 0) << down.out << gantry_->log();
  EXPECT_EQ(last_line(down.out), "2 200");
  EXPECT_EQ(std::filesystem::file_size(dir_->path() / "down.bin"), 3145728u);
}

TEST_F(H2Test, GatewayAnswersTravelAsStreamsAndTheConnectionGoesOn) {
  H2Client c("127.0.0.1", gantry_->port, nullptr, 5s);
  ASSERT_EQ(c.error(), "");
  H2Response missing = c.request("GET", "nowhere.example.com", "/a");
  EXPECT_EQ(missing.status, 404) << missing.error;
  EXPECT_NE(missing.body.find("no route"), std::string::npos) << missing.body;
  H2Response moved = c.request("GET", "app.example.com", "/old/x?q=1");
  EXPECT_EQ(moved.status, 302) << moved.error;
  std::string location;
  for (const auto& [k, v] : moved.headers)
    if (k == "location") location = v;
  EXPECT_EQ(location, "http://app.example.com/new/x?q=1");
  H2Response ok = c.request("GET", "app.example.com", "/fine");
  EXPECT_EQ(ok.status, 200) << ok.error;
  H2Response head = c.request("HEAD", "app.example.com", "/head");
  EXPECT_EQ(head.status, 200) << head.error;
  EXPECT_EQ(head.body, "");
}

TEST_F(H2Test, AHeaderListOverTheLimitIs431) {
  // 64 KiB of head, as for HTTP/1.1. Clients built on nghttp2 refuse to send more than
  // 64 KiB themselves, so the block is framed here: five 15,000-byte fields, literal,
  // across a HEADERS and CONTINUATION frames.
  std::string block = request_block("\x82", "app.example.com", "/big");
  for (int i = 0; i < 5; ++i) block += literal_new("x-big" + std::to_string(i), std::string(15000, 'b'));
  std::string frames;
  for (size_t at = 0; at < block.size(); at += 16384) {
    const bool first = at == 0, last = at + 16384 >= block.size();
    frames += frame(first ? kHeaders : kContinuation, (last ? kEndHeaders : 0) | (first ? kEndStream : 0), 1,
                    block.substr(at, 16384));
  }
  RawResult r = raw(frames, 1s);
  auto got = parse_frames(r.response);
  ASSERT_NE(find_frame(got, kHeaders, 1), nullptr) << got.size() << " frames";
  const Frame* data = find_frame(got, kData, 1);
  ASSERT_NE(data, nullptr);
  EXPECT_NE(data->payload.find("request header fields too large"), std::string::npos) << data->payload;
  EXPECT_EQ(find_frame(got, kGoaway, 0), nullptr);  // the connection stays usable
  // --max-header-count fields.
  std::string many;
  for (int i = 0; i < 60; ++i) many += " -H 'x-f" + std::to_string(i) + ": v'";
  EXPECT_EQ(last_line(h2c("/many-fields", many).out), "2 431");
  EXPECT_EQ(last_line(h2c("/after").out), "2 200");
}

TEST_F(H2Test, TheServerAnnouncesItsLimits) {
  RawResult r = raw("", 500ms);
  ASSERT_TRUE(r.connected);
  auto frames = parse_frames(r.response);
  const Frame* settings = find_frame(frames, kSettings, 0);
  ASSERT_NE(settings, nullptr) << r.response.size();
  std::map<uint16_t, uint32_t> values;
  for (size_t at = 0; at + 6 <= settings->payload.size(); at += 6)
    values[uint16_t(uint8_t(settings->payload[at])) << 8 | uint8_t(settings->payload[at + 1])] =
        be32(settings->payload, at + 2);
  EXPECT_EQ(values[3], 100u);        // SETTINGS_MAX_CONCURRENT_STREAMS
  EXPECT_EQ(values[4], 256u * 1024);  // SETTINGS_INITIAL_WINDOW_SIZE
  // No SETTINGS_MAX_HEADER_LIST_SIZE: over 64 KiB is 431 (AHeaderListOverTheLimitIs431).
  EXPECT_EQ(values.count(6), 0u);
}

TEST_F(H2Test, RapidResetEndsTheConnectionWithGoaway) {
  std::string flood;
  for (uint32_t id = 1; id < 2 * 1000; id += 2)
    flood += frame(kHeaders, kEndHeaders | kEndStream, id, request_block("\x82", "app.example.com")) + rst(id, 8);
  RawResult r = raw(flood, 5s);
  ASSERT_TRUE(r.connected);
  EXPECT_TRUE(r.closed) << "the connection outlived 1000 resets";
  auto frames = parse_frames(r.response);
  const Frame* goaway = find_frame(frames, kGoaway, 0);
  ASSERT_NE(goaway, nullptr) << frames.size() << " frames, none a GOAWAY";
  EXPECT_EQ(be32(goaway->payload, 4), 0xbu);  // ENHANCE_YOUR_CALM
}

TEST_F(H2Test, AContinuationFloodEndsTheConnection) {
  std::string flood = frame(kHeaders, 0, 1, request_block("\x82", "app.example.com"));
  const std::string field = std::string("\x00\x03x-a\x01b", 7);  // a literal with a new name
  for (int i = 0; i < 200; ++i) flood += frame(kContinuation, 0, 1, field);  // never END_HEADERS
  RawResult r = raw(flood, 3s);
  ASSERT_TRUE(r.connected);
  EXPECT_TRUE(r.closed);
  auto frames = parse_frames(r.response);
  EXPECT_NE(find_frame(frames, kGoaway, 0), nullptr);
  EXPECT_EQ(last_line(h2c("/after").out), "2 200");
}

TEST_F(H2Test, ASettingsFrameWithTooManyEntriesEndsTheConnection) {
  std::string entries;
  for (int i = 0; i < 40; ++i) entries += std::string("\x00\x04\x00\x01\x00\x00", 6);  // INITIAL_WINDOW_SIZE 65536
  RawResult r = raw(frame(kSettings, 0, 0, entries), 3s);
  ASSERT_TRUE(r.connected);
  EXPECT_TRUE(r.closed);
  EXPECT_NE(find_frame(parse_frames(r.response), kGoaway, 0), nullptr);
}

TEST_F(H2Test, StreamsBeyondTheConcurrencyLimitAreRefused) {
  // 101 uploads that never end: the 101st is over SETTINGS_MAX_CONCURRENT_STREAMS.
  std::string open;
  for (uint32_t i = 0; i < 101; ++i)
    open += frame(kHeaders, kEndHeaders, 2 * i + 1, request_block("\x83", "app.example.com", "/slow"));
  RawResult r = raw(open, 1500ms);
  ASSERT_TRUE(r.connected);
  auto frames = parse_frames(r.response);
  const Frame* refused = find_frame(frames, kRstStream, 201);
  ASSERT_NE(refused, nullptr) << frames.size() << " frames";
  const uint32_t code = be32(refused->payload, 0);
  EXPECT_EQ(code, 0x7u);  // REFUSED_STREAM: the client may try it again later
  // The first 100 were taken: none of them was reset.
  for (uint32_t id = 1; id < 201; id += 2) EXPECT_EQ(find_frame(frames, kRstStream, id), nullptr) << id;
}

TEST(H2Drain, SigtermSendsGoawayToAnIdleConnection) {
  TempDir dir;
  auto manifests = dir.path() / "manifests";
  std::filesystem::create_directories(manifests);
  Echo echo("web-1-a", dir.path());
  write_file(manifests / "all.yaml", gateway_manifest() + service_manifest("web", {echo.port}) +
                                         route_manifest("web", "", "  - backendRefs: [{name: web, port: 8080}]\n"));
  Gantry g(manifests);
  ASSERT_TRUE(g.wait_ready()) << g.log();
  // The client opens its connection and waits; the signal comes while it does.
  std::thread killer([&] {
    std::this_thread::sleep_for(400ms);
    g.process->signal(SIGTERM);
  });
  RawResult r = raw_exchange(g.port, kPreface + frame(kSettings, 0, 0, ""), 5s);
  killer.join();
  ASSERT_TRUE(r.connected);
  EXPECT_TRUE(r.closed);
  auto frames = parse_frames(r.response);
  const Frame* goaway = find_frame(frames, kGoaway, 0);
  ASSERT_NE(goaway, nullptr) << frames.size() << " frames";
  EXPECT_EQ(be32(goaway->payload, 4), 0u);  // NO_ERROR: a graceful end
  EXPECT_EQ(g.process->wait(10s), 0);
}

}  // namespace
}  // namespace gantry::test
