// A bounded soak: a minute (GANTRY_SOAK_SECONDS) of keep-alive traffic, request bodies
// buffered and streamed, hostile clients, abandoned connections and config changes at
// once, through one gantry. Nothing may fail that should succeed, and memory must stay
// flat: RSS at the end within 5 % of RSS after the warm-up.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "../support/eventually.h"
#include "harness.h"
#include "load_loop.h"

namespace gantry::test {
namespace {

std::chrono::seconds soak_length() {
  const char* s = std::getenv("GANTRY_SOAK_SECONDS");
  return std::chrono::seconds(s ? std::atoi(s) : 60);
}

std::string routes(int generation) {
  // Each generation adds a header to every response and a route of its own: a real
  // change to translate, publish and switch workers to.
  std::string out = route_manifest(
      "app", "app.example.com",
      "  - filters:\n    - type: ResponseHeaderModifier\n      responseHeaderModifier: {set: [{name: x-generation, value: \"" +
          std::to_string(generation) + "\"}]}\n    backendRefs: [{name: app, port: 8080}]\n");
  out += route_manifest("gen-" + std::to_string(generation % 5), "gen" + std::to_string(generation % 5) + ".example.com",
                        "  - backendRefs: [{name: app, port: 8080}]\n");
  return out;
}

const char* const kHostile[] = {
    "POST / HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "GET / HTTP/1.1\r\nHost: app.example.com\r\nX-A: a\r\n folded\r\n\r\n",
    "GET /a/../../etc/passwd HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\n\r\n",
    "GET http://app.example.com/x HTTP/1.1\r\nHost: elsewhere\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: app.example.com\r\nX-Half: the rest never comes",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all",
};

TEST(Soak, AMinuteOfMixedTrafficHostileClientsAndReloadsKeepsMemoryFlat) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo a("a", dir.path()), b("b", dir.path());
  write_file(manifests / "base.yaml", gateway_manifest() + service_manifest("app", {a.port, b.port}));
  write_file(manifests / "routes.yaml", routes(0));
  Gantry g(manifests, {"--workers", "2", "--header-timeout", "1000"});
  ASSERT_TRUE(g.wait_ready()) << g.log();

  std::atomic<bool> stop{false};
  std::atomic<size_t> body_failures{0}, bodies{0}, hostile{0}, hostile_answered{0};
  LoadLoop load(g.port, "app.example.com", "/", 3);
  std::thread uploads([&] {
    httplib::Client client("127.0.0.1", g.port);
    client.set_keep_alive(true);
    const std::string small(1000, 's'), large(200 * 1024, 'l');  // buffered, streamed
    for (size_t i = 0; !stop; ++i) {
      auto res = client.Post("/", httplib::Headers{{"Host", "app.example.com"}}, i % 2 ? large : small, "text/plain");
      ++bodies;
      if (!res || res->status != 200) ++body_failures;
    }
  });
  std::thread attackers([&] {
    for (size_t i = 0; !stop; ++i) {
      const std::string bytes = kHostile[i % std::size(kHostile)];
      auto r = raw_exchange(g.port, bytes, 1500ms);
      ++hostile;
      if (r.response.starts_with("HTTP/1.1 4") || r.response.starts_with("HTTP/1.1 200") || r.closed) ++hostile_answered;
    }
  });
  std::thread reloads([&] {
    for (int gen = 1; !stop; ++gen) {
      for (int i = 0; i < 20 && !stop; ++i) std::this_thread::sleep_for(100ms);
      write_file(manifests / "routes.yaml", routes(gen));
    }
  });

  const auto length = soak_length();
  const auto warm_up = std::min<std::chrono::seconds>(10s, length / 4);
  std::this_thread::sleep_for(warm_up);
  const long rss_warm = rss_kib(g.process->pid());
  std::this_thread::sleep_for(length - warm_up);
  const long rss_end = rss_kib(g.process->pid());
  stop = true;
  load.stop();
  uploads.join();
  attackers.join();
  reloads.join();

  ASSERT_TRUE(g.process->running()) << g.log();
  EXPECT_TRUE(load.failures().empty()) << load.failures().size() << " failed, first: " << load.failures().front();
  EXPECT_EQ(body_failures.load(), 0u) << "of " << bodies.load() << " uploads";
  EXPECT_EQ(hostile_answered.load(), hostile.load()) << "a hostile client was neither answered nor closed";
  EXPECT_GT(load.sent(), 1000u);
  EXPECT_GT(g.metric("gantry_snapshot_version"), 3u) << "the config did not change during the soak";
  std::printf("soak: %zu requests, %zu uploads, %zu hostile; RSS %ld KiB after warm-up, %ld KiB at the end\n",
              load.sent(), bodies.load(), hostile.load(), rss_warm, rss_end);
  EXPECT_LE(rss_end, rss_warm * 105 / 100) << "RSS grew from " << rss_warm << " KiB to " << rss_end << " KiB";
}

}  // namespace
}  // namespace gantry::test
