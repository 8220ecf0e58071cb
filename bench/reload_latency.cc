// reload_latency: how long a manifest change takes to serve. For each of --changes
// changes it renames a file into place and polls the gantry listener over one keep-alive
// connection until the answer shows the change; prints p50/p99/max in milliseconds.
//   --mode add        a new HTTPRoute per change (host add-N), until it answers 200
//   --mode move       one route's backendRef alternates between Services a and b, until
//                     the body names the new one
//   --mode endpoints  Service ep's EndpointSlice alternates between ports A and B
// The same "new host route" change for the peers, on their hosts listeners:
//   --mode add-nginx --peer-dir BENCH    a server block appended to conf/routes-hosts.inc,
//                     then `nginx -s reload`; until its backend ("b") answers on :9013
//   --mode add-haproxy --peer-dir BENCH  `add map conf/hosts.map` on the runtime API
//                     socket run/haproxy.sock; until :9023 answers 200
// RELOAD_TRACE=1 in the environment: each change's time on stderr, to find an outlier.
// Plain sockets, no Beast: a bench tool should build in seconds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// One GET; the whole response ("" when the connection failed; it is then reopened).
std::string get(int& fd, int port, const std::string& host) {
  if (fd < 0) fd = connect_to(port);
  if (fd < 0) return "";
  std::string req = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    fd = -1;
    return "";
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      ::close(fd);
      fd = -1;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
    size_t end = out.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    size_t cl = out.find("Content-Length: ");
    if (cl == std::string::npos || cl > end) cl = out.find("content-length: ");
    size_t len = cl == std::string::npos || cl > end ? 0 : std::strtoul(out.c_str() + cl + 16, nullptr, 10);
    if (out.size() >= end + 4 + len) return out;
  }
}

void write_atomically(const std::string& dir, const std::string& name, const std::string& text) {
  std::string tmp = dir + "/." + name + ".tmp";
  std::ofstream(tmp) << text;
  std::rename(tmp.c_str(), (dir + "/" + name).c_str());
}

// On the `hosts` listener: it has no catch-all, so a host is 404 until its route is live.
std::string route(const std::string& name, const std::string& host, const std::string& svc) {
  return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name +
         ", namespace: default}\nspec:\n  parentRefs: [{name: bench, sectionName: hosts}]\n  hostnames: [" + host +
         "]\n  rules: [{backendRefs: [{name: " + svc + ", port: 8080}]}]\n";
}

std::string slice(int port) {
  return "apiVersion: v1\nkind: Service\nmetadata: {name: ep, namespace: default}\nspec: {ports: [{name: http, port: "
         "8080}]}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ep-1, namespace: "
         "default, labels: {kubernetes.io/service-name: ep}}\naddressType: IPv4\nendpoints: [{addresses: "
         "[127.0.0.1]}]\nports: [{name: http, port: " + std::to_string(port) + "}]\n";
}

// One command on HAProxy's runtime API (a Unix socket); its answer.
std::string haproxy_command(const std::string& socket_path, const std::string& command) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", socket_path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "cannot connect to " + socket_path;
  }
  std::string line = command + "\n";
  (void)!::write(fd, line.data(), line.size());
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "add", dir, peer_dir;
  int port = 9033, changes = 100, port_a = 8080, port_b = 8081;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--mode") mode = v;
    else if (a == "--dir") dir = v;
    else if (a == "--peer-dir") peer_dir = v;
    else if (a == "--port") port = std::atoi(v.c_str());
    else if (a == "--changes") changes = std::atoi(v.c_str());
    else if (a == "--backend-ports") std::sscanf(v.c_str(), "%d,%d", &port_a, &port_b);
  }
  if (mode == "add-nginx") port = 9013;
  if (mode == "add-haproxy") port = 9023;
  if (mode.starts_with("add-") ? peer_dir.empty() : dir.empty()) {
    std::fprintf(stderr, "usage: reload_latency --dir MANIFESTS [--mode add|move|endpoints] [--port 9033] [--changes 100] [--backend-ports 8080,8081]\n"
                         "       reload_latency --peer-dir BENCH --mode add-nginx|add-haproxy [--changes 100]\n");
    return 2;
  }
  // Services a and b answer "a" and "b" (bench/conf/backend.conf), so a move is visible.
  const std::string host = mode == "move" ? "move.example.com" : "ep.example.com";
  if (mode != "add" && !mode.starts_with("add-")) {
    write_atomically(dir, "reload-route.yaml", route("reload", host, mode == "move" ? "be-a" : "ep"));
    if (mode == "endpoints") write_atomically(dir, "reload-ep.yaml", slice(port_a));
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  int fd = -1;
  std::vector<double> ms;
  int failures = 0;
  for (int i = 0; i < changes; ++i) {
    std::string want;
    std::string h = host;
    auto t0 = Clock::now();
    if (mode == "add") {
      h = "add-" + std::to_string(i) + ".example.com";
      write_atomically(dir, "reload-add-" + std::to_string(i) + ".yaml", route("add-" + std::to_string(i), h, "be"));
      want = "HTTP/1.1 200";
    } else if (mode == "add-nginx") {
      h = "add-" + std::to_string(i) + ".example.com";
      std::ofstream(peer_dir + "/conf/routes-hosts.inc", std::ios::app)
          << "server { listen 127.0.0.1:9013; server_name " << h << "; location / { proxy_pass http://127.0.0.1:8082; } }\n";
      std::string reload = "nginx -p '" + peer_dir + "/' -c conf/nginx-proxy.conf -s reload 2>/dev/null";
      if (std::system(reload.c_str()) != 0) std::fprintf(stderr, "nginx -s reload failed\n");
      want = "\r\n\r\nb";  // before the reload the first server block (backend "ok") answers
    } else if (mode == "add-haproxy") {
      h = "add-" + std::to_string(i) + ".example.com";
      haproxy_command(peer_dir + "/run/haproxy.sock", "add map conf/hosts.map " + h + " be");
      want = "HTTP/1.1 200";
    } else if (mode == "move") {
      bool to_b = i % 2 == 0;
      write_atomically(dir, "reload-route.yaml", route("reload", host, to_b ? "be-b" : "be-a"));
      want = to_b ? "\r\n\r\nb" : "\r\n\r\na";
    } else {
      bool to_b = i % 2 == 0;
      write_atomically(dir, "reload-ep.yaml", slice(to_b ? port_b : port_a));
      want = to_b ? "\r\n\r\nb" : "\r\n\r\na";
    }
    bool seen = false;
    while (Clock::now() - t0 < std::chrono::seconds(10)) {
      std::string r = get(fd, port, h);
      if (r.find(want) != std::string::npos && (mode.starts_with("add") || r.starts_with("HTTP/1.1 200"))) {
        seen = true;
        break;
      }
    }
    if (!seen) ++failures;
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (std::getenv("RELOAD_TRACE")) std::fprintf(stderr, "change %d: %.1f ms\n", i, ms.back());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  if (mode == "add")
    for (int i = 0; i < changes; ++i) std::remove((dir + "/reload-add-" + std::to_string(i) + ".yaml").c_str());
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))]; };
  std::printf("%s,%zu,%.1f,%.1f,%.1f,%d\n", mode.c_str(), ms.size(), pct(0.5), pct(0.99), ms.back(), failures);
  return 0;
}
