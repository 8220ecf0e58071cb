// RequestMirror through the real proxy: copies carry the body up to the bound, larger
// bodies are not mirrored, and a stalled or dead mirror changes nothing for the client.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "harness.h"
#include "raw_backends.h"

namespace gantry::test {
namespace {
namespace json = boost::json;

constexpr size_t kLimit = 64 * 1024;

class MirrorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto manifests = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests);
    primary_ = new Echo("primary-1-a", dir_->path());
    copy_ = new Echo("copy-1-a", dir_->path());
    hole_ = new BlackHole();
    std::string m = gateway_manifest();
    m += service_manifest("primary", {primary_->port});
    m += service_manifest("copy", {copy_->port});
    m += service_manifest("hole", {hole_->port});
    m += service_manifest("down", {free_port()});
    for (const char* mirror : {"copy", "hole", "down"})
      m += route_manifest(std::string("to-") + mirror, std::string(mirror) + ".example.com",
                          "  - backendRefs: [{name: primary, port: 8080}]\n"
                          "    filters:\n"
                          "    - type: RequestMirror\n"
                          "      requestMirror: {backendRef: {name: " + std::string(mirror) + ", port: 8080}}\n");
    m += route_manifest("plain", "plain.example.com", "  - backendRefs: [{name: primary, port: 8080}]\n");
    write_file(manifests / "all.yaml", m);
    gantry_ = new Gantry(manifests, {"--mirror-body-limit", std::to_string(kLimit)});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
    body_file_ = dir_->path() / "body";
    std::string body(kLimit * 2, '\0');
    for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
    write_file(body_file_, body);
  }
  static void TearDownTestSuite() {
    delete gantry_;
    delete primary_;
    delete copy_;
    delete hole_;
    delete dir_;
  }
  void TearDown() override { ASSERT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log(); }

  // The line gantry-echo logs for a body, for the first `n` bytes of body_file_.
  static std::string body_line(const std::string& target, size_t n) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; ++i) sum += static_cast<unsigned char>('a' + i % 26);
    return "Request body for " + target + ": " + std::to_string(n) + " bytes, sum " + std::to_string(sum);
  }
  static bool copy_logged(const std::string& needle, std::chrono::milliseconds within = 3s) {
    auto until = std::chrono::steady_clock::now() + within;
    do {
      if (read_file(dir_->path() / "echo-copy-1-a.log").find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < until);
    return false;
  }
  static std::string upload(const std::string& host, const std::string& target, size_t n, bool chunked) {
    std::string cut = (dir_->path() / ("body-" + std::to_string(n))).string();
    run("head -c " + std::to_string(n) + " " + body_file_.string() + " > " + cut);
    std::string how = chunked ? "-H 'Transfer-Encoding: chunked' --data-binary @" + cut : "--data-binary @" + cut;
    return curl(gantry_->port, host, target, how).out;
  }

  static TempDir* dir_;
  static Echo* primary_;
  static Echo* copy_;
  static BlackHole* hole_;
  static Gantry* gantry_;
  static std::filesystem::path body_file_;
};
TempDir* MirrorTest::dir_;
Echo* MirrorTest::primary_;
Echo* MirrorTest::copy_;
BlackHole* MirrorTest::hole_;
Gantry* MirrorTest::gantry_;
std::filesystem::path MirrorTest::body_file_;

TEST_F(MirrorTest, RequestWithoutBodyIsCopied) {
  auto r = curl(gantry_->port, "copy.example.com", "/no-body?x=1");
  EXPECT_NE(r.out.find("primary-1-a"), std::string::npos) << r.out;
  EXPECT_TRUE(copy_logged("Echoing back request made to /no-body?x=1 "));
}

// The copy has fields of its own (the original's live in the request's arena): the same
// method, a verb Beast does not know included, and the same headers.
TEST_F(MirrorTest, CopyKeepsTheMethodAndTheHeaders) {
  auto r = curl(gantry_->port, "copy.example.com", "/purge-me", "-X PURGE -H 'X-Team: blue'");
  EXPECT_NE(r.out.find("\"method\":\"PURGE\""), std::string::npos) << r.out;
  EXPECT_TRUE(copy_logged("Request method for /purge-me: PURGE")) << read_file(dir_->path() / "echo-copy-1-a.log");
  EXPECT_TRUE(copy_logged("Request host for /purge-me: copy.example.com"));
}

TEST_F(MirrorTest, BodyIsCopiedWhole) {
  for (bool chunked : {false, true}) {
    std::string target = chunked ? "/body-chunked" : "/body-length";
    auto primary = json::parse(upload("copy.example.com", target, 50'000, chunked)).as_object();
    EXPECT_EQ(primary.at("bodyBytes").to_number<uint64_t>(), 50'000u);
    EXPECT_TRUE(copy_logged(body_line(target, 50'000))) << read_file(dir_->path() / "echo-copy-1-a.log");
  }
}

// An HTTP/2 stream is one exchange like any: its copy goes too, with its body once the
// last DATA frame has passed to the primary.
TEST_F(MirrorTest, Http2StreamsAreCopiedWithTheirBodies) {
  auto get = curl(gantry_->port, "copy.example.com", "/h2-no-body", "--http2-prior-knowledge");
  EXPECT_NE(get.out.find("primary-1-a"), std::string::npos) << get.out;
  EXPECT_TRUE(copy_logged("Echoing back request made to /h2-no-body "));
  const std::string cut = (dir_->path() / "body-h2").string();
  run("head -c 50000 " + body_file_.string() + " > " + cut);
  auto post = curl(gantry_->port, "copy.example.com", "/h2-body", "--http2-prior-knowledge --data-binary @" + cut);
  EXPECT_NE(post.out.find("\"bodyBytes\":50000"), std::string::npos) << post.out;
  EXPECT_TRUE(copy_logged(body_line("/h2-body", 50'000))) << read_file(dir_->path() / "echo-copy-1-a.log");
}

TEST_F(MirrorTest, BodyOverTheBoundIsNotMirroredButServed) {
  auto primary = json::parse(upload("copy.example.com", "/too-big", kLimit + 1, false)).as_object();
  EXPECT_EQ(primary.at("bodyBytes").to_number<uint64_t>(), kLimit + 1);
  // A later small request arrives at the copy; the big one never did.
  upload("copy.example.com", "/after-big", 10, false);
  ASSERT_TRUE(copy_logged(body_line("/after-big", 10)));
  EXPECT_EQ(read_file(dir_->path() / "echo-copy-1-a.log").find("/too-big"), std::string::npos);
  EXPECT_NE(gantry_->admin_get("/metrics").find("gantry_mirror_requests_total{result=\"skipped\"} 1"), std::string::npos)
      << gantry_->admin_get("/metrics");
}

TEST_F(MirrorTest, StalledOrDeadMirrorDoesNotSlowThePrimary) {
  for (const char* host : {"hole.example.com", "down.example.com"}) {
    for (int i = 0; i < 20; ++i) {
      auto start = std::chrono::steady_clock::now();
      std::string out = i % 2 ? upload(host, "/p", 1000, false) : curl(gantry_->port, host, "/p").out;
      auto took = std::chrono::steady_clock::now() - start;
      EXPECT_NE(out.find("primary-1-a"), std::string::npos) << host << ": " << out;
      EXPECT_LT(took, 500ms) << host;
    }
  }
}

}  // namespace
}  // namespace gantry::test
