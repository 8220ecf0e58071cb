// A plain HTTP/1.1 client for the conformance runner: one request per connection
// (upstream disables keep-alive), the Host header sent verbatim, redirects not followed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gantry::conformance {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as received
  std::string body;
  std::string error;  // set when no response could be read

  bool has(const std::string& name) const;
  // Every value of `name` joined with "," (the corpus compares them that way).
  std::string header(const std::string& name) const;
};

// HTTPS: the server name to send and the certificate to trust as the only root.
struct TlsClient {
  std::string sni;
  std::string trust_pem;
};

// `tls` null: plain HTTP.
HttpResponse http_request(const std::string& address, uint16_t port, const std::string& method,
                          const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers,
                          std::chrono::milliseconds timeout, const TlsClient* tls = nullptr);

}  // namespace gantry::conformance
