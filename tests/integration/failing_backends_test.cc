// Backends that die, stall, come back and roll over, under a bounded load through a real
// gantry: what clients see (failed requests counted), what outlier detection ejects, and
// the limits that keep one bad backend or one slow client from holding the proxy.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <future>
#include <thread>

#include "../support/eventually.h"
#include "harness.h"
#include "load_loop.h"
#include "raw_backends.h"

namespace gantry::test {
namespace {

namespace json = boost::json;

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < 10; ++i) out += v[i] + "\n";
  return out;
}

// One EndpointSlice per endpoint (each echo has its own port); `state` is "ready",
// "terminating" (still serving) or "gone" (left out).
std::string service_with(const std::string& name, const std::vector<std::pair<uint16_t, std::string>>& endpoints) {
  std::string out = "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name +
                    ", namespace: default}\nspec: {ports: [{name: http, port: 8080}]}\n";
  int i = 0;
  for (const auto& [port, state] : endpoints) {
    if (state == "gone") continue;
    const std::string conditions =
        state == "ready" ? "{ready: true, serving: true}" : "{ready: false, serving: true, terminating: true}";
    out += "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + name + "-" +
           std::to_string(i++) + "\n  namespace: default\n  labels: {kubernetes.io/service-name: " + name +
           "}\naddressType: IPv4\nendpoints:\n- addresses: [127.0.0.1]\n  conditions: " + conditions +
           "\nports: [{name: http, port: " + std::to_string(port) + "}]\n";
  }
  return out;
}

std::string app(const std::string& service_yaml) {
  return gateway_manifest() + service_yaml +
         route_manifest("app", "app.example.com", "  - backendRefs: [{name: app, port: 8080}]\n");
}

std::vector<std::string> ejected_endpoints(const Gantry& g) {
  std::vector<std::string> out;
  auto v = json::parse(g.admin_get("/config_dump"));
  for (const auto& e : v.at("ejectedEndpoints").as_array()) out.push_back(std::string(e.at("endpoint").as_string()));
  return out;
}

// Publishes `yaml` and waits until gantry has taken it (the snapshot version moved). A
// change that leaves routing as it was publishes nothing: that is given time instead.
void publish(Gantry& g, const std::filesystem::path& file, const std::string& yaml, bool routing_changes = true) {
  const uint64_t before = g.metric("gantry_snapshot_version");
  write_file(file, yaml);
  if (!routing_changes) {
    std::this_thread::sleep_for(500ms);
    ASSERT_EQ(g.metric("gantry_snapshot_version"), before);
    return;
  }
  ASSERT_TRUE(eventually([&] { return g.metric("gantry_snapshot_version") > before; })) << g.log();
  std::this_thread::sleep_for(100ms);  // every worker has switched (a post away)
}

TEST(FailingBackends, AKilledEndpointIsEjectedWithoutAFailedRequestAndComesBackWhenRestarted) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  auto a = std::make_unique<Echo>("a", dir.path());
  Echo b("b", dir.path()), c("c", dir.path());
  const uint16_t a_port = a->port;
  write_file(manifests / "app.yaml", app(service_with("app", {{a_port, "ready"}, {b.port, "ready"}, {c.port, "ready"}})));
  Gantry g(manifests, {"--workers", "1", "--outlier-failures", "3", "--outlier-ejection", "1500"});
  ASSERT_TRUE(g.wait_ready()) << g.log();

  LoadLoop load(g.port, "app.example.com", "/", 4);
  ASSERT_TRUE(eventually([&] { return load.served_by("a") > 20; }));
  a->process->signal(SIGKILL);
  a->process->wait(2s);
  // Refused connects go to another endpoint at once; three of them eject the endpoint.
  ASSERT_TRUE(eventually([&] { return ejected_endpoints(g) == std::vector<std::string>{"127.0.0.1:" + std::to_string(a_port)}; }))
      << g.admin_get("/config_dump");
  EXPECT_GE(g.metric("gantry_upstream_ejections_total"), 1u);
  EXPECT_EQ(g.metric("gantry_upstream_ejected_endpoints"), 1u);
  const size_t served_before = load.served_by("a");
  a = std::make_unique<Echo>("a", dir.path(), a_port);
  // Once its ejection ends, the restarted endpoint takes its share again.
  ASSERT_TRUE(eventually([&] { return load.served_by("a") > served_before + 20; }, 10s));
  load.stop();
  EXPECT_TRUE(load.failures().empty()) << joined(load.failures());
  EXPECT_GT(load.sent(), 200u);
}

TEST(FailingBackends, AStalledEndpointCostsNoMoreThanTheFailuresThatEjectIt) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo a("a", dir.path()), b("b", dir.path());
  write_file(manifests / "app.yaml", app(service_with("app", {{a.port, "ready"}, {b.port, "ready"}})));
  Gantry g(manifests, {"--workers", "1", "--outlier-failures", "2", "--outlier-ejection", "20000",
                       "--response-timeout", "300"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  a.process->signal(SIGSTOP);  // accepts (the kernel does) and never answers
  LoadLoop load(g.port, "app.example.com", "/", 2);
  std::this_thread::sleep_for(2500ms);
  load.stop();
  a.process->signal(SIGCONT);
  // Two timeouts eject it; a request already waiting on it when it was ejected is the
  // only other one that can fail.
  EXPECT_LE(load.failures().size(), 3u) << joined(load.failures());
  EXPECT_GE(load.failures().size(), 2u) << "the stalled endpoint was never tried";
  for (const auto& f : load.failures()) EXPECT_EQ(f.substr(0, 4), "504:") << f;
  EXPECT_GT(load.served_by("b"), 100u);
  EXPECT_EQ(load.served_by("a"), 0u);
  EXPECT_EQ(ejected_endpoints(g).size(), 1u);
}

TEST(FailingBackends, TheLastHealthyEndpointIsNeverEjected) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo a("a", dir.path()), b("b", dir.path()), solo("solo", dir.path());
  std::string m = app(service_with("app", {{a.port, "ready"}, {b.port, "ready"}}));
  m += service_with("solo", {{solo.port, "ready"}});
  m += route_manifest("solo", "solo.example.com", "  - backendRefs: [{name: solo, port: 8080}]\n");
  write_file(manifests / "app.yaml", m);
  Gantry g(manifests, {"--workers", "1", "--outlier-failures", "2"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  // A backend's own 503s are passed on as they are; with one endpoint nothing is ejected.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(curl_status(g.port, "solo.example.com", "/status/503"), 503);
  EXPECT_TRUE(ejected_endpoints(g).empty()) << g.admin_get("/config_dump");
  // A 500 is the application's answer, not the endpoint's health.
  for (int i = 0; i < 8; ++i) EXPECT_EQ(curl_status(g.port, "app.example.com", "/status/500"), 500);
  EXPECT_TRUE(ejected_endpoints(g).empty()) << g.admin_get("/config_dump");
  // Both endpoints answering 503: one is ejected, the other keeps serving.
  for (int i = 0; i < 8; ++i) EXPECT_EQ(curl_status(g.port, "app.example.com", "/status/503"), 503);
  EXPECT_EQ(ejected_endpoints(g).size(), 1u) << g.admin_get("/config_dump");
  EXPECT_EQ(curl_status(g.port, "app.example.com", "/"), 200);
}

TEST(FailingBackends, ARollingUpdateCostsNoRequests) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  auto file = manifests / "app.yaml";
  auto a = std::make_unique<Echo>("a", dir.path());
  auto b = std::make_unique<Echo>("b", dir.path());
  write_file(file, app(service_with("app", {{a->port, "ready"}, {b->port, "ready"}})));
  Gantry g(manifests, {"--workers", "2"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  LoadLoop load(g.port, "app.example.com", "/", 4);
  ASSERT_TRUE(eventually([&] { return load.served_by("a") > 20 && load.served_by("b") > 20; }));

  // As a Deployment rolls: a new pod becomes ready, an old one terminates (still serving
  // while it finishes), leaves the slice, and exits; then the next.
  Echo c("c", dir.path());
  publish(g, file, app(service_with("app", {{a->port, "ready"}, {b->port, "ready"}, {c.port, "ready"}})));
  // Terminating while others are ready: routing is as if it were gone.
  publish(g, file, app(service_with("app", {{a->port, "terminating"}, {b->port, "ready"}, {c.port, "ready"}})));
  publish(g, file, app(service_with("app", {{b->port, "ready"}, {c.port, "ready"}})), false);
  const size_t a_served = load.served_by("a");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(load.served_by("a"), a_served) << "a terminating endpoint took new requests while others were ready";
  a->process->signal(SIGTERM);
  a->process->wait(2s);
  Echo d("d", dir.path());
  publish(g, file, app(service_with("app", {{b->port, "terminating"}, {c.port, "ready"}, {d.port, "ready"}})));
  publish(g, file, app(service_with("app", {{c.port, "ready"}, {d.port, "ready"}})), false);
  b->process->signal(SIGTERM);
  b->process->wait(2s);
  ASSERT_TRUE(eventually([&] { return load.served_by("d") > 20; }));
  load.stop();
  EXPECT_TRUE(load.failures().empty()) << joined(load.failures());
  EXPECT_GT(load.sent(), 200u);
}

TEST(FailingBackends, AnEndpointGetsNoMoreConnectionsThanItsCap) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo a("a", dir.path());
  write_file(manifests / "app.yaml", app(service_with("app", {{a.port, "ready"}})));
  Gantry g(manifests, {"--workers", "1", "--max-upstream-connections", "1"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  auto slow = std::async(std::launch::async, [&] { return curl_status(g.port, "app.example.com", "/?delay=1s"); });
  std::this_thread::sleep_for(300ms);
  auto over = curl(g.port, "app.example.com", "/", "-w ' %{http_code}'");
  EXPECT_NE(over.out.find("connection limit"), std::string::npos) << over.out;
  EXPECT_TRUE(over.out.ends_with(" 503")) << over.out;
  EXPECT_EQ(slow.get(), 200);
  // The connection is back in the pool: the next request reuses it.
  EXPECT_EQ(curl_status(g.port, "app.example.com", "/"), 200);
  EXPECT_EQ(g.metric("gantry_upstream_overflows_total"), 1u);
}

TEST(FailingBackends, AClientThatReadsNothingIsCutOffAfterTheWriteTimeout) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  Echo a("a", dir.path());
  write_file(manifests / "app.yaml", app(service_with("app", {{a.port, "ready"}})));
  Gantry g(manifests, {"--write-timeout", "500"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);  // the kernel holds little for us
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(g.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = "GET /bytes/67108864 HTTP/1.1\r\nHost: app.example.com\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  std::this_thread::sleep_for(2s);  // reads nothing
  size_t got = 0;
  char buf[65536];
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  EXPECT_LT(got, 64u << 20) << "the whole body arrived: the slow reader was not cut off";
  EXPECT_TRUE(g.process->running());
}

TEST(FailingBackends, ARequestBodyThatStallsIs408AndReachesNoBackend) {
  TempDir dir;
  auto manifests = dir.path() / "m";
  std::filesystem::create_directories(manifests);
  RecordingBackend backend;
  write_file(manifests / "app.yaml", app(service_with("app", {{backend.port, "ready"}})));
  Gantry g(manifests, {"--body-timeout", "300"});
  ASSERT_TRUE(g.wait_ready()) << g.log();
  auto r = raw_exchange(g.port, "POST / HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 10\r\n\r\nabc", 3s);
  EXPECT_TRUE(r.response.starts_with("HTTP/1.1 408")) << r.response;
  EXPECT_TRUE(r.closed);
  EXPECT_LT(r.elapsed, 2s);
  EXPECT_EQ(backend.take(), "");
}

}  // namespace
}  // namespace gantry::test
