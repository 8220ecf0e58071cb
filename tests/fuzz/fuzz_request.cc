// The downstream request path: arbitrary bytes from a client through the real Session
// (head checks, normalization, routing, body framing, forwarding, error answers) of a real
// Worker, over one end of a socketpair, with a real snapshot whose backend is a loopback
// server in this process. The input ends with the client's half-close.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "../../proxy/src/session.h"
#include "../../proxy/src/worker.h"
#include "fuzz_config.h"

namespace {

using namespace gantry;

// Answers each connection's first request head with a fixed response, then closes.
class Backend {
 public:
  Backend() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 128) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      std::abort();
    port = ntohs(a.sin_port);
    std::thread([fd = fd_] {
      for (;;) {
        int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) continue;
        std::string got;
        char buf[4096];
        while (got.find("\r\n\r\n") == std::string::npos && got.size() < 65536) {
          pollfd p{c, POLLIN, 0};
          if (::poll(&p, 1, 200) <= 0) break;
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          got.append(buf, static_cast<size_t>(n));
        }
        static constexpr char kReply[] =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        ::send(c, kReply, sizeof kReply - 1, MSG_NOSIGNAL);
        ::close(c);
      }
    }).detach();
  }
  uint16_t port = 0;

 private:
  int fd_ = -1;
};

struct World {
  World() : worker(0, options) {
    snapshot = fuzz::fuzz_snapshot(backend.port);
    listener = snapshot->listeners->front().name;
    worker.post_snapshot(snapshot, nullptr, 1, {});
    worker.ioc().poll();
  }
  static proxy::ProxyOptions make_options() {
    proxy::ProxyOptions o;
    o.connect_timeout = proxy::Millis(500);
    o.response_timeout = proxy::Millis(1000);
    o.request_buffer = 4096;  // small, so that both buffered and streamed bodies are reached
    o.relay_buffer = 1024;
    return o;
  }
  Backend backend;
  proxy::ProxyOptions options = make_options();
  proxy::Worker worker;
  routing::SnapshotPtr snapshot;
  std::string listener;
};

// What gantry answered, read so its writes never block; FUZZ_SHOW=1 prints it (to read
// what an input did: `FUZZ_SHOW=1 fuzz_request FILE`).
void drain(int fd) {
  static const bool show = std::getenv("FUZZ_SHOW") != nullptr;
  char buf[16384];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
    if (show) fwrite(buf, 1, static_cast<size_t>(n), stderr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();  // lives for the process: the worker is reused
  if (size > 256 * 1024) return -1;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  auto& ioc = world->worker.ioc();
  proxy::Socket socket(ioc);
  boost::system::error_code ec;
  socket.assign(proxy::tcp::v4(), fds[0], ec);
  if (ec) std::abort();
  std::weak_ptr<proxy::Session> alive;
  ioc.restart();  // run out of work by the last input, it counts as stopped
  {
    auto session = std::make_shared<proxy::Session>(world->worker, std::move(socket), world->listener,
                                                   world->worker.stats().listener(world->listener));
    alive = session;
    proxy::asio::co_spawn(ioc, session->run(), proxy::asio::detached);
    ioc.poll();  // the coroutine starts and holds its session (as when the worker accepts)
  }
  size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool shut = false;
  while (!alive.expired() && std::chrono::steady_clock::now() < deadline) {
    if (sent < size) {
      ssize_t n = ::send(fds[1], data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
    } else if (!shut) {
      ::shutdown(fds[1], SHUT_WR);
      shut = true;
    }
    drain(fds[1]);
    ioc.run_one_for(std::chrono::milliseconds(5));
  }
  if (!alive.expired()) std::abort();  // a session that outlives its client by seconds hangs
  ::close(fds[1]);
  ioc.restart();
  ioc.poll();  // what the session left (its upstream's closing)
  return 0;
}
