// Integration harness: real gantry and gantry-echo processes on loopback, curl and raw
// sockets as clients. Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gantry::test {

using namespace std::chrono_literals;

class Process {
 public:
  Process(std::vector<std::string> argv, const std::filesystem::path& log);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Exit code, or nullopt when it did not exit within the timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

uint16_t free_port();
// A socket listening on 127.0.0.1 on a free port (written to `port`).
int listen_loopback(int backlog, uint16_t& port);
bool wait_for_port(uint16_t port, std::chrono::milliseconds timeout);
void write_file(const std::filesystem::path& p, const std::string& text);
std::string read_file(const std::filesystem::path& p);

struct CommandResult {
  int exit_code = -1;
  std::string out;
};
// Runs a shell command (curl, openssl) and captures its standard output.
CommandResult run(const std::string& command);

// One HTTP/1.1 exchange over a raw socket: sends `request` as is, reads until the peer
// closes or `timeout` passes. For malformed requests no client library would send.
struct RawResult {
  bool connected = false;
  std::string response;
  bool closed = false;  // the peer closed (EOF or reset) within the timeout
  std::chrono::milliseconds elapsed{0};
  std::string tls_error;  // tls_exchange: why the handshake or verification failed
};
RawResult raw_exchange(uint16_t port, const std::string& request, std::chrono::milliseconds timeout);
RawResult raw_exchange(const std::string& address, uint16_t port, const std::string& request,
                       std::chrono::milliseconds timeout);

// Manifests for tests.
std::string gateway_manifest(const std::string& name = "gw", const std::string& address = "127.0.0.1");
std::string service_manifest(const std::string& name, const std::vector<uint16_t>& ports, bool ready = true);
// A Service whose port 8080 says appProtocol kubernetes.io/h2c, its endpoint at `port`.
std::string h2c_service_manifest(const std::string& name, uint16_t port);
std::string route_manifest(const std::string& name, const std::string& hostname, const std::string& rules_yaml);

// A gantry-echo on a free port.
struct Echo {
  explicit Echo(const std::string& pod, const std::filesystem::path& dir);
  // On a given port: a backend restarted where it was.
  // `h2c_port`, when not 0: the contract's h2c port too (HTTP/2 with prior knowledge).
  Echo(const std::string& pod, const std::filesystem::path& dir, uint16_t port, uint16_t h2c_port = 0);
  // With an h2c port, both on free ports.
  static std::unique_ptr<Echo> with_h2c(const std::string& pod, const std::filesystem::path& dir);
  uint16_t port;
  uint16_t h2c_port = 0;
  std::unique_ptr<Process> process;
};

// gantry serve on a manifest directory, listener port 80 mapped to a free port.
struct Gantry {
  Gantry(const std::filesystem::path& manifests, const std::vector<std::string>& extra_flags = {});
  // Cluster mode: `gantry serve --kubeconfig FILE`, its log beside the file.
  static std::unique_ptr<Gantry> cluster(const std::filesystem::path& kubeconfig, const std::vector<std::string>& extra_flags = {});
  bool wait_ready(std::chrono::milliseconds timeout = 10s);
  std::string log() const;
  std::string admin_get(const std::string& path) const;  // body, "" on failure
  uint64_t metric(const std::string& name) const;        // a /metrics sample summed over its labels; ~0 if absent
  uint16_t port;
  uint16_t admin;
  std::filesystem::path log_path;
  std::unique_ptr<Process> process;

 private:
  Gantry(const std::vector<std::string>& source_flags, const std::filesystem::path& log_path,
         const std::vector<std::string>& extra_flags);
};

// curl through gantry: `curl -s <args> http://127.0.0.1:<port><path>` with Host set.
CommandResult curl(uint16_t port, const std::string& host, const std::string& path, const std::string& args = "");
int curl_status(uint16_t port, const std::string& host, const std::string& path, const std::string& args = "");

// Memory bounds are doubled in the ASan build (scripts/sanitize.sh): its shadow memory and
// allocator metadata are tens of MiB the proxy never asked for.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr long kMemoryScale = 2;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr long kMemoryScale = 2;
#else
inline constexpr long kMemoryScale = 1;
#endif
#else
inline constexpr long kMemoryScale = 1;
#endif
long peak_rss_kib(pid_t pid);  // VmHWM
long rss_kib(pid_t pid);       // VmRSS

}  // namespace gantry::test
