// An HTTP/2 client for tests and the conformance runner, framed by nghttp2: one
// connection (h2c with prior knowledge, or h2 by ALPN over TLS), requests sent on it one
// after another, so that a test can ask several things of one connection (421 on a
// shared connection is judged per request). Blocking sockets, every read bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gantry::test {

struct H2Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // lowercase names
  std::string body;
  uint32_t reset = 0;  // RST_STREAM's error code, when the server reset the stream
  std::string error;   // set when no answer came (connection closed, timeout, protocol error)
};

class H2Client {
 public:
  // `sni` empty with `tls`: no server name. `trust_pem` empty: the certificate is not checked.
  struct Tls {
    std::string sni;
    std::string trust_pem;
  };
  // Connects and sends the preface; `error()` says why it could not.
  H2Client(const std::string& address, uint16_t port, const Tls* tls, std::chrono::milliseconds timeout);
  ~H2Client();
  H2Client(const H2Client&) = delete;
  H2Client& operator=(const H2Client&) = delete;

  const std::string& error() const { return error_; }
  const std::string& alpn() const { return alpn_; }
  // `authority` becomes :authority; `headers` go as given (lowercase names).
  H2Response request(const std::string& method, const std::string& authority, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers = {}, const std::string& body = {});

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::string error_, alpn_;
};

}  // namespace gantry::test
