#include "harness.h"

#include "../support/prom_text.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <httplib.h>
#include <random>
#include <sstream>
#include <thread>

namespace gantry::test {
namespace fs = std::filesystem;

Process::Process(std::vector<std::string> argv, const fs::path& log) {
  // Everything the child needs is made before fork: in a test with threads (the API
  // double's), another thread may hold malloc's lock at fork, and the child would wait
  // for it forever.
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const std::string log_path = log.string();
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(args[0], args.data());
    std::perror("execv");
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(5s);
  }
}

void Process::signal(int sig) const { ::kill(pid_, sig); }

bool Process::running() {
  if (status_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return status_;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("gantry-it-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!std::getenv("GANTRY_KEEP_TEST_DIRS")) fs::remove_all(path_, ec);
}

int listen_loopback(int backlog, uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  ::listen(fd, backlog);
  return fd;
}

uint16_t free_port() {
  uint16_t port = 0;
  ::close(listen_loopback(1, port));
  return port;
}

static int connect_to(uint16_t port, const std::string& address = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool wait_for_port(uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = connect_to(port);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void write_file(const fs::path& p, const std::string& text) {
  // Write then rename, as editors do, so gantry never reads half a file.
  fs::path tmp = p.parent_path() / ("." + p.filename().string() + ".tmp");
  std::ofstream(tmp) << text;
  fs::rename(tmp, p);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(pipe);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

RawResult raw_exchange(uint16_t port, const std::string& request, std::chrono::milliseconds timeout) {
  return raw_exchange("127.0.0.1", port, request, timeout);
}

RawResult raw_exchange(const std::string& address, uint16_t port, const std::string& request,
                       std::chrono::milliseconds timeout) {
  RawResult r;
  auto start = std::chrono::steady_clock::now();
  int fd = connect_to(port, address);
  if (fd < 0) return r;
  r.connected = true;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  auto deadline = start + timeout;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      r.closed = true;
      break;
    }
    r.response.append(buf, static_cast<size_t>(n));
  }
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  ::close(fd);
  return r;
}

std::string gateway_manifest(const std::string& name, const std::string& address) {
  return "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gantry}\n"
         "spec: {controllerName: gantry.dev/gateway-controller}\n---\n"
         "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: " + name +
         ", namespace: default}\nspec:\n  gatewayClassName: gantry\n  addresses: [{type: IPAddress, value: " + address +
         "}]\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n";
}

std::string service_manifest(const std::string& name, const std::vector<uint16_t>& ports, bool ready) {
  std::string out = "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name +
                    ", namespace: default}\nspec: {ports: [{name: http, port: 8080}]}\n";
  // Every echo listens on 127.0.0.1 on its own port; a slice has one port list, so each
  // endpoint gets a slice of its own. No ports: one empty slice (no ready endpoint).
  for (size_t i = 0; i < std::max<size_t>(1, ports.size()); ++i) {
    out += "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + name + "-" +
           std::to_string(i) + "\n  namespace: default\n  labels: {kubernetes.io/service-name: " + name +
           "}\naddressType: IPv4\n";
    if (ports.empty()) {
      out += "endpoints: []\nports: [{name: http, port: 1}]\n";
      break;
    }
    out += "endpoints:\n- addresses: [127.0.0.1]\n  conditions: {ready: " + std::string(ready ? "true" : "false") +
           "}\nports: [{name: http, port: " + std::to_string(ports[i]) + "}]\n";
  }
  return out;
}

std::string route_manifest(const std::string& name, const std::string& hostname, const std::string& rules_yaml) {
  std::string out = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name +
                    ", namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n";
  if (!hostname.empty()) out += "  hostnames: [\"" + hostname + "\"]\n";
  out += "  rules:\n" + rules_yaml;
  return out;
}

Echo::Echo(const std::string& pod, const fs::path& dir) : Echo(pod, dir, free_port()) {}

Echo::Echo(const std::string& pod, const fs::path& dir, uint16_t p, uint16_t h2c) : port(p), h2c_port(h2c) {
  std::vector<std::string> argv{ECHO_BIN, "--port", std::to_string(port), "--namespace", "default", "--pod", pod};
  if (h2c_port) argv.insert(argv.end(), {"--h2c-port", std::to_string(h2c_port)});
  process = std::make_unique<Process>(std::move(argv), dir / ("echo-" + pod + ".log"));
  wait_for_port(port, 5s);
  if (h2c_port) wait_for_port(h2c_port, 5s);
}

std::unique_ptr<Echo> Echo::with_h2c(const std::string& pod, const fs::path& dir) {
  const uint16_t port = free_port();
  return std::make_unique<Echo>(pod, dir, port, free_port());
}

std::string h2c_service_manifest(const std::string& name, uint16_t port) {
  return "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name +
         ", namespace: default}\nspec: {ports: [{name: h2c, port: 8080, appProtocol: kubernetes.io/h2c}]}\n"
         "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + name +
         "-0\n  namespace: default\n  labels: {kubernetes.io/service-name: " + name +
         "}\naddressType: IPv4\nendpoints:\n- addresses: [127.0.0.1]\n  conditions: {ready: true}\n"
         "ports: [{name: h2c, port: " + std::to_string(port) + "}]\n";
}

Gantry::Gantry(const fs::path& manifests, const std::vector<std::string>& extra_flags)
    : Gantry({"--manifests", manifests.string(), "--scan-interval", "50"}, manifests.parent_path() / "gantry.log",
             extra_flags) {}

std::unique_ptr<Gantry> Gantry::cluster(const fs::path& kubeconfig, const std::vector<std::string>& extra_flags) {
  return std::unique_ptr<Gantry>(new Gantry({"--kubeconfig", kubeconfig.string()},
                                            kubeconfig.string() + ".gantry.log", extra_flags));
}

Gantry::Gantry(const std::vector<std::string>& source_flags, const fs::path& log, const std::vector<std::string>& extra_flags)
    : port(free_port()), admin(free_port()), log_path(log) {
  std::vector<std::string> argv{GANTRY_BIN, "serve"};
  argv.insert(argv.end(), source_flags.begin(), source_flags.end());
  for (std::string f : std::vector<std::string>{"--port-map", "80:" + std::to_string(port), "--admin",
                                                "127.0.0.1:" + std::to_string(admin)})
    argv.push_back(f);
  bool has_workers = false;
  for (const auto& f : extra_flags) has_workers = has_workers || f == "--workers";
  if (!has_workers) {
    argv.push_back("--workers");
    argv.push_back("2");
  }
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  process = std::make_unique<Process>(argv, log_path);
}

bool Gantry::wait_ready(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    httplib::Client c("127.0.0.1", admin);
    c.set_connection_timeout(1);
    auto res = c.Get("/readyz");
    if (res && res->status == 200) return true;
    if (!process->running()) return false;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string Gantry::log() const { return read_file(log_path); }

std::string Gantry::admin_get(const std::string& path) const {
  httplib::Client c("127.0.0.1", admin);
  auto res = c.Get(path.c_str());
  return res ? res->body : std::string();
}

uint64_t Gantry::metric(const std::string& name) const {
  PromScrape scrape = parse_prom(admin_get("/metrics"));
  bool found = false;
  for (const auto& [family, f] : scrape.families)
    for (const auto& sample : f.samples) found = found || sample.name == name;
  return found ? static_cast<uint64_t>(scrape.sum(name)) : ~0ull;
}

CommandResult curl(uint16_t port, const std::string& host, const std::string& path, const std::string& args) {
  return run("curl -s --max-time 20 " + args + " -H 'Host: " + host + "' 'http://127.0.0.1:" + std::to_string(port) +
             path + "'");
}

int curl_status(uint16_t port, const std::string& host, const std::string& path, const std::string& args) {
  auto r = curl(port, host, path, "-o /dev/null -w '%{http_code}' " + args);
  return std::atoi(r.out.c_str());
}

namespace {
long status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + field.size());
  return -1;
}
}  // namespace

long peak_rss_kib(pid_t pid) { return status_kib(pid, "VmHWM:"); }
long rss_kib(pid_t pid) { return status_kib(pid, "VmRSS:"); }

}  // namespace gantry::test
