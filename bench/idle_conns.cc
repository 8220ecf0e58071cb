// idle_conns: opens N keep-alive connections to 127.0.0.1:PORT (over TLS with --tls, the
// certificate not checked), sends one request on each, reads its response, then holds
// them all until stdin closes. Prints "ready N" once every connection has had its
// response. For the idle-memory measurement.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  bool tls = argc > 1 && std::string(argv[1]) == "--tls";
  if (tls) {
    --argc;
    ++argv;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: idle_conns [--tls] PORT N [HOST]\n");
    return 2;
  }
  SSL_CTX* ctx = tls ? SSL_CTX_new(TLS_client_method()) : nullptr;
  std::vector<SSL*> sessions;
  int port = std::atoi(argv[1]);
  int n = std::atoi(argv[2]);
  std::string host = argc > 3 ? argv[3] : "localhost";
  rlimit rl{static_cast<rlim_t>(n + 64), static_cast<rlim_t>(n + 64)};
  setrlimit(RLIMIT_NOFILE, &rl);
  std::string req = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect");
      break;
    }
    fds.push_back(fd);
    // A proxy at its connection limit leaves a handshake unanswered: give up on it (and
    // report what is held) instead of waiting for ever.
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char buf[4096];
    if (tls) {
      // Blocking, one at a time: the handshakes are what the proxy holds state for.
      SSL* ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      SSL_set_tlsext_host_name(ssl, host.c_str());
      sessions.push_back(ssl);
      if (SSL_connect(ssl) != 1 || SSL_write(ssl, req.data(), static_cast<int>(req.size())) <= 0) break;
      if (SSL_read(ssl, buf, sizeof buf) > 0) ++ok;
      continue;
    }
    if (send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) break;
    // Read the response (small: "ok") so the connection is idle between requests.
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) > 0 && recv(fd, buf, sizeof buf, 0) > 0) ++ok;
  }
  std::printf("ready %d\n", ok);
  std::fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  for (SSL* ssl : sessions) SSL_free(ssl);
  for (int fd : fds) close(fd);
  if (ctx) SSL_CTX_free(ctx);
  return 0;
}
