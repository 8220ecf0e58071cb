#include "http_client.h"

#include "../integration/harness.h"
#include "../integration/tls_client.h"

#include <strings.h>

namespace gantry::conformance {

bool HttpResponse::has(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return true;
  return false;
}

std::string HttpResponse::header(const std::string& name) const {
  std::string out;
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) != 0) continue;
    if (!out.empty()) out += ",";
    out += v;
  }
  return out;
}

namespace {

std::string dechunk(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t size = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    if (size == 0) break;
    out += body.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

}  // namespace

HttpResponse http_request(const std::string& address, uint16_t port, const std::string& method,
                          const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers,
                          std::chrono::milliseconds timeout, const TlsClient* tls) {
  HttpResponse r;
  std::string req = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "Connection: close\r\n\r\n";
  test::RawResult exchange = tls ? test::tls_exchange(address, port, tls->sni, tls->trust_pem, req, timeout)
                                  : test::raw_exchange(address, port, req, timeout);
  if (!exchange.connected) {
    r.error = "connect " + address + ":" + std::to_string(port) + " failed";
    return r;
  }
  if (!exchange.tls_error.empty()) {
    r.error = "TLS: " + exchange.tls_error;
    return r;
  }
  const std::string& raw = exchange.response;
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || head_end == std::string::npos) {
    r.error = raw.empty() ? "no response" : "malformed response";
    return r;
  }
  r.status = std::atoi(raw.c_str() + 9);
  size_t pos = raw.find("\r\n") + 2;
  while (pos < head_end) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace_back(line.substr(0, colon), value);
    }
    pos = eol + 2;
  }
  r.body = raw.substr(head_end + 4);
  if (strcasecmp(r.header("Transfer-Encoding").c_str(), "chunked") == 0) r.body = dechunk(r.body);
  return r;
}

}  // namespace gantry::conformance
