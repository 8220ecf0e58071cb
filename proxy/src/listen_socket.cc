#include "listen_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gantry::proxy {

Result<int> open_listen_socket(const std::string& address, uint16_t port, int backlog) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  std::string host = address.size() > 1 && address.front() == '[' ? address.substr(1, address.size() - 2) : address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    return Error{"'" + address + "' is not an IP address"};
  }
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  int one = 1;
  const char* step = nullptr;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) step = "SO_REUSEADDR";
  else if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) step = "SO_REUSEPORT";
  else if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) step = "bind";
  else if (::listen(fd, backlog) != 0) step = "listen";
  if (step) {
    int e = errno;
    ::close(fd);
    return Error{std::string(step) + ": " + std::strerror(e)};
  }
  return fd;
}

}  // namespace gantry::proxy
