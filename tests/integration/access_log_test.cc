// The access log: one JSON line per request with the fields the README lists, as real
// requests go through; x-request-id made when absent and passed upstream; a sink that
// takes nothing never holds requests back (its lines are dropped and counted).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <sstream>

#include "../support/eventually.h"
#include "harness.h"
#include "load_loop.h"

namespace gantry::test {
namespace {

namespace json = boost::json;

std::vector<json::object> lines_of(const std::filesystem::path& file) {
  std::vector<json::object> out;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);) {
    json::error_code ec;
    json::value v = json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    if (!ec) out.push_back(v.as_object());
  }
  return out;
}

const json::object* find_path(const std::vector<json::object>& lines, const std::string& path) {
  for (const auto& l : lines)
    if (l.at("path").is_string() && l.at("path").as_string() == path) return &l;
  return nullptr;
}

std::string app_manifests(uint16_t echo_port) {
  return gateway_manifest() + service_manifest("app", {echo_port}) +
         route_manifest("app", "app.example.com", "  - backendRefs: [{name: app, port: 8080}]\n");
}

TEST(AccessLog, EachRequestIsOneJsonLineWithItsFields) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo echo("a", dir.path());
  write_file(manifests / "app.yaml", app_manifests(echo.port));
  const auto log = dir.path() / "access.log";
  Gantry g(manifests, {"--access-log", log.string()});
  ASSERT_TRUE(g.wait_ready()) << g.log();

  auto ok = curl(g.port, "app.example.com", "/hello?x=1");
  ASSERT_NE(ok.out.find("\"pod\":\"a\""), std::string::npos) << ok.out;
  auto traced = curl(g.port, "app.example.com", "/given",
                     "-H 'X-Request-Id: my-id-1' -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'");
  EXPECT_NE(traced.out.find("my-id-1"), std::string::npos) << traced.out;  // passed upstream as it came
  EXPECT_NE(traced.out.find("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), std::string::npos) << traced.out;
  EXPECT_EQ(curl_status(g.port, "app.example.com", "/upload", "--data-binary 12345"), 200);
  EXPECT_EQ(curl_status(g.port, "nowhere.example.com", "/missing"), 404);
  auto bad = raw_exchange(g.port, "GET /a/\x7f HTTP/1.1\r\nHost: app.example.com\r\n\r\n", 2s);
  EXPECT_TRUE(bad.response.starts_with("HTTP/1.1 400")) << bad.response;
  auto odd = raw_exchange(g.port, "GET /odd HTTP/1.1\r\nHost: nowhere\r\nX-Request-Id: a\"b\\c\xff\r\nConnection: close\r\n\r\n", 2s);
  EXPECT_TRUE(odd.response.starts_with("HTTP/1.1 404")) << odd.response;

  std::vector<json::object> lines;
  ASSERT_TRUE(eventually([&] { return (lines = lines_of(log)).size() >= 6; })) << read_file(log);

  const json::object* hello = find_path(lines, "/hello?x=1");
  ASSERT_TRUE(hello) << read_file(log);
  EXPECT_EQ(hello->at("method").as_string(), "GET");
  EXPECT_EQ(hello->at("authority").as_string(), "app.example.com");
  EXPECT_EQ(hello->at("status").as_int64(), 200);
  EXPECT_EQ(hello->at("bytes_in").as_int64(), 0);
  EXPECT_EQ(hello->at("bytes_out").as_int64(), static_cast<int64_t>(ok.out.size()));
  EXPECT_GT(hello->at("duration_ms").as_double(), 0.0);
  EXPECT_EQ(hello->at("upstream").as_string(), "127.0.0.1:" + std::to_string(echo.port));
  EXPECT_GE(hello->at("upstream_ms").as_double(), 0.0);
  EXPECT_LE(hello->at("upstream_ms").as_double(), hello->at("duration_ms").as_double());
  EXPECT_EQ(hello->at("route").as_string(), "default/app/0");
  EXPECT_EQ(hello->at("backend").as_string(), "default/app:8080");
  EXPECT_EQ(hello->at("retries").as_int64(), 0);
  EXPECT_EQ(std::string(hello->at("time").as_string()).size(), 24u);  // 2026-12-01T19:05:00.123Z
  // A request id made here went upstream too: the echo shows it among the headers.
  const std::string id(hello->at("request_id").as_string());
  EXPECT_EQ(id.size(), 32u);
  EXPECT_NE(ok.out.find(id), std::string::npos) << "the backend did not get " << id << ": " << ok.out;

  const json::object* given = find_path(lines, "/given");
  ASSERT_TRUE(given);
  EXPECT_EQ(given->at("request_id").as_string(), "my-id-1");

  const json::object* upload = find_path(lines, "/upload");
  ASSERT_TRUE(upload);
  EXPECT_EQ(upload->at("method").as_string(), "POST");
  EXPECT_EQ(upload->at("bytes_in").as_int64(), 5);

  const json::object* missing = find_path(lines, "/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->at("status").as_int64(), 404);
  EXPECT_TRUE(missing->at("upstream").is_null());
  EXPECT_TRUE(missing->at("route").is_null());

  // A head the parser refused is logged too, with what is known of it.
  bool refused = false;
  for (const auto& l : lines) refused |= l.at("status").as_int64() == 400 && l.at("method").is_null();
  EXPECT_TRUE(refused) << read_file(log);

  // Quotes, a backslash and a byte outside ASCII from the client: escaped, the line still
  // JSON, the value what the client sent (the byte as \u00ff).
  const json::object* odd_line = find_path(lines, "/odd");
  ASSERT_TRUE(odd_line) << read_file(log);
  EXPECT_EQ(odd_line->at("request_id").as_string(), "a\"b\\c\xc3\xbf");
}

TEST(AccessLog, ASinkThatTakesNothingNeverHoldsRequestsBack) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo echo("a", dir.path());
  write_file(manifests / "app.yaml", app_manifests(echo.port));
  // Requests per second through the same setup with a sink that takes everything at once:
  // the yardstick (what the lines themselves cost is not the sink's slowness).
  auto rate = [](LoadLoop& load, std::chrono::milliseconds window) {
    const size_t before = load.sent();
    std::this_thread::sleep_for(window);
    return static_cast<double>(load.sent() - before) * 1000.0 / static_cast<double>(window.count());
  };
  double rate_off = 0;
  {
    Gantry off(manifests, {"--access-log", "/dev/null", "--workers", "1"});
    ASSERT_TRUE(off.wait_ready()) << off.log();
    LoadLoop load(off.port, "app.example.com", "/", 4);
    std::this_thread::sleep_for(200ms);
    rate_off = rate(load, 1500ms);
    load.stop();
    ASSERT_TRUE(load.failures().empty()) << load.failures().front();
  }
  const auto fifo = dir.path() / "stuck.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // opened, and never read
  ASSERT_GE(reader, 0);
  Gantry g(manifests, {"--access-log", fifo.string(), "--workers", "1"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  LoadLoop load(g.port, "app.example.com", "/", 4);
  // The pipe and the worker's 1 MiB slot fill up; from then on lines are dropped.
  auto dropped = [&] {
    const uint64_t d = g.metric("gantry_access_log_dropped_total");
    return d != ~0ull && d > 0;
  };
  ASSERT_TRUE(eventually(dropped, 30s))
      << "nothing was dropped after " << load.sent() << " requests";
  const double rate_stuck = rate(load, 1500ms);
  load.stop();
  ::close(reader);
  EXPECT_TRUE(load.failures().empty()) << load.failures().front();
  EXPECT_GE(rate_stuck, 0.5 * rate_off) << rate_stuck << " req/s with a stuck sink, " << rate_off << " with /dev/null";
  EXPECT_TRUE(g.process->running());
}

}  // namespace
}  // namespace gantry::test
