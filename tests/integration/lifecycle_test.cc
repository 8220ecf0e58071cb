// Process lifecycle: graceful stop on SIGTERM, the command-line contract, determinism.
#include <signal.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "harness.h"

namespace gantry::test {
namespace {

// One echo backend behind a catch-all route, in a directory of its own.
struct OneBackend {
  OneBackend() : manifests(dir.path() / "manifests"), echo("drain-1-a", dir.path()) {
    std::filesystem::create_directories(manifests);
    write_file(manifests / "all.yaml", gateway_manifest() + service_manifest("drain", {echo.port}) +
                                           route_manifest("drain", "", "  - backendRefs: [{name: drain, port: 8080}]\n"));
  }
  TempDir dir;
  std::filesystem::path manifests;
  Echo echo;
};

TEST(Lifecycle, SigtermDrainsInFlightRequestsAndExitsZero) {
  OneBackend setup;
  Gantry gantry(setup.manifests, {"--drain-timeout", "5000"});
  ASSERT_TRUE(gantry.wait_ready()) << gantry.log();
  auto in_flight = std::async(std::launch::async, [&] { return curl_status(gantry.port, "a", "/slow?delay=1s"); });
  std::this_thread::sleep_for(300ms);
  gantry.process->signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(curl_status(gantry.port, "a", "/new", "--max-time 2"), 0) << "no new connections while draining";
  EXPECT_EQ(in_flight.get(), 200) << gantry.log();
  auto code = gantry.process->wait(5s);
  ASSERT_TRUE(code.has_value()) << "gantry did not exit after draining";
  EXPECT_EQ(*code, 0) << gantry.log();
}

TEST(Lifecycle, SigtermClosesHalfReceivedRequestsAtOnce) {
  // Only requests being served get --drain-timeout; a head still arriving is closed.
  OneBackend setup;
  Gantry gantry(setup.manifests, {"--drain-timeout", "5000"});
  ASSERT_TRUE(gantry.wait_ready()) << gantry.log();
  auto half = std::async(std::launch::async,
                         [&] { return raw_exchange(gantry.port, "GET /slow HTTP/1.1\r\nHost: a\r\nX-Half: ", 4s); });
  std::this_thread::sleep_for(300ms);
  auto start = std::chrono::steady_clock::now();
  gantry.process->signal(SIGTERM);
  auto code = gantry.process->wait(5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "the half-sent head held the drain";
  RawResult r = half.get();
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.response, "");
}

TEST(Lifecycle, DrainTimeoutBoundsTheWait) {
  OneBackend setup;
  Gantry gantry(setup.manifests, {"--drain-timeout", "300"});
  ASSERT_TRUE(gantry.wait_ready()) << gantry.log();
  auto stuck = std::async(std::launch::async, [&] { return curl_status(gantry.port, "a", "/stuck?delay=10s"); });
  std::this_thread::sleep_for(200ms);
  auto start = std::chrono::steady_clock::now();
  gantry.process->signal(SIGTERM);
  auto code = gantry.process->wait(5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  stuck.get();
}

TEST(CommandLine, TranslateIsByteIdenticalAcrossRuns) {
  TempDir dir;
  write_file(dir.path() / "m.yaml", gateway_manifest() + service_manifest("a", {3001, 3002}) +
                                        route_manifest("r", "x.example.com", "  - backendRefs: [{name: a, port: 8080}]\n"));
  std::string cmd = std::string(GANTRY_BIN) + " translate --manifests " + dir.path().string();
  auto first = run(cmd);
  ASSERT_EQ(first.exit_code, 0);
  EXPECT_NE(first.out.find("x.example.com"), std::string::npos);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run(cmd).out, first.out);
}

TEST(CommandLine, BadFlagsAreExplained) {
  auto r = run(std::string(GANTRY_BIN) + " serve --manifests x --port-map 80 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--port-map: '80' is not FROM:TO"), std::string::npos) << r.out;
  r = run(std::string(GANTRY_BIN) + " serve 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--manifests PATH is required"), std::string::npos) << r.out;
  r = run(std::string(GANTRY_BIN) + " serve --manifests x --kubeconfig k 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--manifests and cluster mode (--kubeconfig, --in-cluster) exclude each other"), std::string::npos) << r.out;
  r = run(std::string(GANTRY_BIN) + " serve --manifests x --leader-elect 2>&1");
  EXPECT_NE(r.out.find("--leader-elect and --publish-service need cluster mode"), std::string::npos) << r.out;
  // An access log that cannot be opened: named, exit 2, nothing served.
  r = run(std::string(GANTRY_BIN) + " serve --manifests x --access-log /nonexistent-dir/access.log 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--access-log: cannot open /nonexistent-dir/access.log"), std::string::npos) << r.out;
  r = run(std::string(GANTRY_BIN) + " serve --in-cluster --publish-service nameonly 2>&1");
  EXPECT_NE(r.out.find("--publish-service: 'nameonly' is not NAMESPACE/NAME"), std::string::npos) << r.out;
  // A kubeconfig that cannot be read: the file named, exit 2, nothing served.
  r = run(std::string(GANTRY_BIN) + " serve --kubeconfig /nonexistent/kubeconfig --admin 127.0.0.1:0 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("/nonexistent/kubeconfig"), std::string::npos) << r.out;
  r = run(std::string(GANTRY_BIN) + " serve --manifests x --bogus 2>&1");
  EXPECT_NE(r.out.find("unknown flag --bogus"), std::string::npos) << r.out;
  r = run(std::string(GANTRY_BIN) + " serve --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--manifests PATH..."), std::string::npos);
}

// Each worker thread's name (gantry-wN) and the CPUs it may run on, from /proc.
std::map<std::string, std::string> worker_cpus(pid_t pid) {
  std::map<std::string, std::string> out;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(tasks)) {
    std::string name = read_file(t.path() / "comm");
    while (!name.empty() && name.back() == '\n') name.pop_back();
    if (!name.starts_with("gantry-w")) continue;
    const std::string status = read_file(t.path() / "status");
    const size_t at = status.find("Cpus_allowed_list:");
    if (at == std::string::npos) continue;
    const size_t from = status.find_first_not_of(" \t", at + 18);
    out[name] = status.substr(from, status.find('\n', from) - from);
  }
  return out;
}

TEST(CommandLine, CpuAffinityPinsEachWorker) {
  const std::string all = [] {  // the CPUs this process may run on, as /proc lists them
    const std::string status = read_file("/proc/self/status");
    const size_t at = status.find("Cpus_allowed_list:");
    const size_t from = status.find_first_not_of(" \t", at + 18);
    return status.substr(from, status.find('\n', from) - from);
  }();
  const std::string first = all.substr(0, all.find_first_of(",-"));
  OneBackend setup;
  Gantry pinned(setup.manifests, {"--workers", "3", "--cpu-affinity", first});
  ASSERT_TRUE(pinned.wait_ready()) << pinned.log();
  auto cpus = worker_cpus(pinned.process->pid());
  EXPECT_EQ(cpus, (std::map<std::string, std::string>{{"gantry-w0", first}, {"gantry-w1", first}, {"gantry-w2", first}}))
      << pinned.log();
  EXPECT_EQ(curl_status(pinned.port, "a", "/"), 200);
  // Without the flag the workers may run wherever the process may.
  Gantry free(setup.manifests, {"--workers", "2"});
  ASSERT_TRUE(free.wait_ready()) << free.log();
  EXPECT_EQ(worker_cpus(free.process->pid()), (std::map<std::string, std::string>{{"gantry-w0", all}, {"gantry-w1", all}}));

  for (const char* bad : {"3-1", "x", "0,", "-1", "99999"}) {
    auto r = run(std::string(GANTRY_BIN) + " serve --manifests x --cpu-affinity '" + bad + "' 2>&1");
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.out.find("is not auto, off or a CPU list"), std::string::npos) << bad << ": " << r.out;
  }
}

TEST(CommandLine, BrokenManifestIsReportedWithFileAndLine) {
  TempDir dir;
  write_file(dir.path() / "bad.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n");
  auto r = run(std::string(GANTRY_BIN) + " translate --manifests " + dir.path().string() + " 2>&1 >/dev/null");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("bad.yaml:"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gantry::test
