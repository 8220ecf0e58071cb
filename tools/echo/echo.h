// What the echo's HTTP/1.1 and h2c servers share: the configuration, the JSON that
// describes a request, and the contract's query helpers.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace echo {

struct Config {
  std::string address = "127.0.0.1";
  unsigned short port = 3000;
  unsigned short h2c_port = 0;  // 0: no h2c listener
  bool tls_h2 = false;          // the TLS port offers h2 by ALPN (then http/1.1)
  std::string ns;
  std::string pod;
  int threads = 1;
  std::string tls_cert, tls_key;  // both set: serve HTTPS (the backend-protocol HTTPS tests)
};
extern Config g_config;

using FieldList = std::vector<std::pair<std::string, std::string>>;

struct EchoRequest {
  std::string target, host, method, proto;
  FieldList headers;
  FieldList trailers;  // HTTP/2 request trailers, when any came
  uint64_t connection = 0, body_bytes = 0, body_sum = 0;
  bool tls = false;
  std::string tls_name;
};

std::string echo_body(const EchoRequest& r);
std::string query_param(std::string_view target, std::string_view name);
std::chrono::milliseconds parse_duration(std::string_view s);
// X-Echo-Set-Header's "Name:value,Name2:value2", a repeated name's values joined by ",".
FieldList set_headers(std::string_view spec);
uint64_t next_connection();

// The h2c port: HTTP/2 with prior knowledge; anything else is answered 400
// "Expected h2c request", as echo-basic's H2C_PORT does.
boost::asio::awaitable<void> serve_h2c(boost::asio::ip::tcp::socket socket);
// The same over TLS, for a client that chose h2 by ALPN on the TLS port (--tls-h2).
boost::asio::awaitable<void> serve_h2_tls(boost::asio::ssl::stream<boost::asio::ip::tcp::socket> socket);

}  // namespace echo
