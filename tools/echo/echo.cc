// gantry-echo: see README.md. One io_context per thread, one coroutine per connection.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "echo.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

namespace echo {

Config g_config;

std::atomic<uint64_t> g_connections{0};
uint64_t next_connection() { return ++g_connections; }
std::unique_ptr<asio::ssl::context> g_tls;
std::mutex g_retry_mutex;
std::map<std::string, int> g_retry_counts;  // uuid -> requests seen (retry tests)

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Go's textproto.CanonicalMIMEHeaderKey: "x-foo-bar" -> "X-Foo-Bar".
std::string canonical(std::string_view name) {
  std::string out(name);
  bool upper = true;
  for (char& c : out) {
    if (c == ' ') return std::string(name);
    c = upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
              : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

// Go durations as the conformance tests use them: "500ms", "1s", "1.5s", "2m".
std::chrono::milliseconds parse_duration(std::string_view s) {
  double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    double v = std::atof(std::string(s.substr(0, i)).c_str());
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
    std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    if (unit == "ms") total += v;
    else if (unit == "s") total += v * 1000;
    else if (unit == "m") total += v * 60000;
    else if (unit == "us" || unit == "µs") total += v / 1000;
    else if (unit == "h") total += v * 3600000;
    if (i == 0 && j == 0) break;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

std::string query_param(std::string_view target, std::string_view name) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> set_headers(std::string_view spec) {
  // "Name:value,Name2:value2"; a repeated name appends its value with ",".
  std::vector<std::pair<std::string, std::string>> out;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    size_t colon = item.find(':');
    if (colon != std::string_view::npos) {
      std::string name(item.substr(0, colon));
      std::string value(item.substr(colon + 1));
      while (!name.empty() && name.front() == ' ') name.erase(0, 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == name; });
      if (it == out.end()) out.emplace_back(std::move(name), std::move(value));
      else it->second += "," + value;
    }
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return out;
}

std::string echo_body(const EchoRequest& r) {
  json::object headers;
  auto add = [](json::object& into, const auto& fields) {
    for (const auto& [n, v] : fields) {
      auto& arr = into[canonical(n)];
      if (!arr.is_array()) arr = json::array();
      arr.get_array().emplace_back(json::string(v));
    }
  };
  add(headers, r.headers);
  json::object body{{"path", r.target},
                    {"host", r.host},
                    {"method", r.method},
                    {"proto", r.proto},
                    {"headers", std::move(headers)},
                    {"namespace", g_config.ns},
                    {"ingress", ""},
                    {"service", ""},
                    {"pod", g_config.pod},
                    {"httpPort", std::to_string(g_config.port)},
                    {"connection", r.connection},
                    {"bodyBytes", r.body_bytes},
                    {"bodySum", r.body_sum}};
  if (!r.trailers.empty()) {
    json::object trailers;
    add(trailers, r.trailers);
    body["trailers"] = std::move(trailers);
  }
  if (r.tls) body["tlsServerName"] = r.tls_name;
  return json::serialize(body);
}

asio::awaitable<void> websocket_echo(tcp::socket socket, http::request<http::empty_body> req) {
  beast::websocket::stream<tcp::socket> ws(std::move(socket));
  auto [ec] = co_await ws.async_accept(req, nothrow);
  if (ec) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    auto [rec, n] = co_await ws.async_read(buffer, nothrow);
    if (rec) co_return;
    ws.text(ws.got_text());
    auto [wec, wn] = co_await ws.async_write(buffer.data(), nothrow);
    if (wec) co_return;
    buffer.consume(buffer.size());
  }
}

// Resets the connection (SO_LINGER 0), as echo-basic does for a failing retry request.
void reset(tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(asio::socket_base::linger(true, 0), ec);
  socket.close(ec);
}

template <class Stream>
asio::awaitable<void> stream_bytes(Stream& socket, uint64_t size, bool chunked, bool keep_alive, unsigned version,
                                   bool head_only) {
  http::response<http::buffer_body> res{http::status::ok, version};
  res.set(http::field::content_type, "application/octet-stream");
  if (chunked) res.chunked(true);
  else res.content_length(size);
  res.keep_alive(keep_alive);
  http::response_serializer<http::buffer_body> sr{res};
  std::vector<char> block(64 * 1024, 'x');
  res.body().data = nullptr;
  res.body().more = true;
  auto [hec, hn] = co_await http::async_write_header(socket, sr, nothrow);
  if (hec || head_only) co_return;
  uint64_t left = size;
  while (left > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, block.size()));
    res.body().data = block.data();
    res.body().size = n;
    left -= n;
    res.body().more = left > 0;
    auto [ec, wn] = co_await http::async_write(socket, sr, nothrow);
    if (ec == http::error::need_buffer) continue;
    if (ec) co_return;
  }
  if (!sr.is_done()) {
    res.body().data = nullptr;
    res.body().size = 0;
    res.body().more = false;
    co_await http::async_write(socket, sr, nothrow);
  }
}

// One connection's requests, over plain TCP or TLS (`tls_name`: the SNI the client sent).
template <class Stream>
asio::awaitable<void> serve_stream(Stream& socket, bool tls, std::string tls_name) {
  const uint64_t connection = next_connection();
  boost::system::error_code ec;
  tcp::socket& raw = beast::get_lowest_layer(socket);
  std::string remote = raw.remote_endpoint(ec).address().to_string() + ":" +
                       std::to_string(ec ? 0 : raw.remote_endpoint(ec).port());
  beast::flat_buffer buffer;
  std::vector<char> sink(64 * 1024);
  for (;;) {
    http::request_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto [rec, rn] = co_await http::async_read_header(socket, buffer, parser, nothrow);
    if (rec) co_return;
    auto& req = parser.get();
    if constexpr (std::is_same_v<Stream, tcp::socket>) if (beast::websocket::is_upgrade(req)) {
      http::request<http::empty_body> upgrade_req;
      upgrade_req.method(req.method());
      upgrade_req.target(req.target());
      upgrade_req.version(req.version());
      for (const auto& f : req) upgrade_req.insert(f.name_string(), f.value());
      co_await websocket_echo(std::move(socket), std::move(upgrade_req));
      co_return;
    }
    // Read (and count) the body without keeping it.
    uint64_t body_bytes = 0, body_sum = 0;
    while (!parser.is_done()) {
      req.body().data = sink.data();
      req.body().size = sink.size();
      auto [bec, bn] = co_await http::async_read(socket, buffer, parser, nothrow);
      if (bec == http::error::need_buffer) bec = {};
      if (bec) co_return;
      size_t got = sink.size() - req.body().size;
      body_bytes += got;
      for (size_t i = 0; i < got; ++i) body_sum += static_cast<unsigned char>(sink[i]);
    }
    std::string target(req.target());
    std::string path = target.substr(0, target.find('?'));
    bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    std::cout << "Echoing back request made to " << target << " to client (" << remote << ")" << std::endl;
    std::cout << "Request method for " << target << ": " << req.method_string() << std::endl;
    if (body_bytes) std::cout << "Request body for " << target << ": " << body_bytes << " bytes, sum " << body_sum << std::endl;
    if (auto h = req.find(http::field::host); h != req.end())
      std::cout << "Request host for " << target << ": " << h->value() << std::endl;

    if (std::string d = query_param(target, "delay"); !d.empty()) {
      asio::steady_timer t(socket.get_executor(), parse_duration(d));
      co_await t.async_wait(nothrow);
    }

    http::response<http::string_body> res{http::status::ok, req.version()};
    if (path == "/health") {
      res.body() = "OK";
    } else if (path.rfind("/status/", 0) == 0) {
      res.result(static_cast<unsigned>(std::atoi(path.c_str() + 8)));
    } else if (path.rfind("/bytes/", 0) == 0) {
      uint64_t size = std::strtoull(path.c_str() + 7, nullptr, 10);
      co_await stream_bytes(socket, size, query_param(target, "chunked") == "1", keep_alive, req.version(), head);
      if (!keep_alive) co_return;
      continue;
    } else if (path.rfind("/retry/", 0) == 0 && !query_param(target, "uuid").empty()) {
      std::string uuid = query_param(target, "uuid");
      int succeed_after = std::atoi(query_param(target, "succeedAfter").c_str());
      int seen;
      {
        std::lock_guard lock(g_retry_mutex);
        seen = ++g_retry_counts[uuid];
      }
      if (seen <= succeed_after) {
        if (std::string d = query_param(target, "delayRetry"); !d.empty()) {
          asio::steady_timer t(socket.get_executor(), parse_duration(d));
          co_await t.async_wait(nothrow);
        }
        std::string code = query_param(target, "responseCode");
        if (code.empty()) {
          reset(raw);
          co_return;
        }
        res.result(static_cast<unsigned>(std::atoi(code.c_str())));
        res.keep_alive(keep_alive);
        res.prepare_payload();
        auto [wec, wn] = co_await http::async_write(socket, res, nothrow);
        if (wec || !keep_alive) co_return;
        continue;
      }
    }
    if (res.result() == http::status::ok && path != "/health") {
      EchoRequest r{target, std::string(req[http::field::host]), std::string(req.method_string()),
                    req.version() == 10 ? "HTTP/1.0" : "HTTP/1.1"};
      for (const auto& f : req) r.headers.emplace_back(f.name_string(), f.value());
      r.connection = connection;
      r.body_bytes = body_bytes;
      r.body_sum = body_sum;
      r.tls = tls;
      r.tls_name = tls_name;
      res.set(http::field::content_type, "application/json");
      res.body() = echo_body(r);
    }
    if (auto spec = req.find("X-Echo-Set-Header"); spec != req.end())
      for (const auto& [n, v] : set_headers(spec->value())) res.set(n, v);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    // RFC 9110 section 9.3.2: a HEAD's response is the GET's head alone (Beast's
    // serializer would write the body too, and the next response would follow it).
    http::response_serializer<http::string_body> sr{res};
    boost::system::error_code wec;
    if (head) std::tie(wec, std::ignore) = co_await http::async_write_header(socket, sr, nothrow);
    else std::tie(wec, std::ignore) = co_await http::async_write(socket, sr, nothrow);
    if (wec || !keep_alive) {
      raw.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
  }
}

asio::awaitable<void> serve(tcp::socket socket) {
  if (!g_tls) co_return co_await serve_stream(socket, false, "");
  asio::ssl::stream<tcp::socket> tls(std::move(socket), *g_tls);
  auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, nothrow);
  if (ec) co_return;
  const unsigned char* proto = nullptr;
  unsigned proto_len = 0;
  SSL_get0_alpn_selected(tls.native_handle(), &proto, &proto_len);
  if (proto && std::string_view(reinterpret_cast<const char*>(proto), proto_len) == "h2")
    co_return co_await serve_h2_tls(std::move(tls));
  const char* sni = SSL_get_servername(tls.native_handle(), TLSEXT_NAMETYPE_host_name);
  co_await serve_stream(tls, true, sni ? sni : "");
}

asio::awaitable<void> accept(tcp::acceptor& acceptor, bool h2c) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (h2c) asio::co_spawn(acceptor.get_executor(), serve_h2c(std::move(socket)), asio::detached);
    else asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

void usage() {
  std::cout << "usage: gantry-echo [--address ADDR] [--port N] [--namespace NS] [--pod NAME] [--threads N]\n"
               "                   [--tls-cert FILE --tls-key FILE [--tls-h2]] [--h2c-port N]\n"
               "  defaults: 127.0.0.1, $HTTP_PORT or 3000, $NAMESPACE, $POD_NAME, 1; plain HTTP;\n"
               "  h2c (HTTP/2 with prior knowledge) on $H2C_PORT when set, else not;\n"
               "  --tls-h2: the TLS port offers h2 by ALPN (then http/1.1)\n";
}

}  // namespace echo

using namespace echo;

int main(int argc, char** argv) {
  g_config.port = static_cast<unsigned short>(std::atoi(env_or("HTTP_PORT", "3000").c_str()));
  g_config.ns = env_or("NAMESPACE", "");
  g_config.pod = env_or("POD_NAME", "");
  g_config.h2c_port = static_cast<unsigned short>(std::atoi(env_or("H2C_PORT", "0").c_str()));
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "gantry-echo: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--address") g_config.address = next();
    else if (a == "--port") g_config.port = static_cast<unsigned short>(std::atoi(next().c_str()));
    else if (a == "--namespace") g_config.ns = next();
    else if (a == "--pod") g_config.pod = next();
    else if (a == "--threads") g_config.threads = std::max(1, std::atoi(next().c_str()));
    else if (a == "--tls-cert") g_config.tls_cert = next();
    else if (a == "--tls-key") g_config.tls_key = next();
    else if (a == "--tls-h2") g_config.tls_h2 = true;
    else if (a == "--h2c-port") g_config.h2c_port = static_cast<unsigned short>(std::atoi(next().c_str()));
    else if (a == "--help" || a == "-h") { usage(); return 0; }
    else { std::cerr << "gantry-echo: unknown argument " << a << "\n"; usage(); return 2; }
  }
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  try {
    if (!g_config.tls_cert.empty() || !g_config.tls_key.empty()) {
      g_tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      g_tls->use_certificate_chain_file(g_config.tls_cert);
      g_tls->use_private_key_file(g_config.tls_key, asio::ssl::context::pem);
      if (g_config.tls_h2)
        SSL_CTX_set_alpn_select_cb(
            g_tls->native_handle(),
            [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen, void*) {
              static const unsigned char ours[] = "\x02h2\x08http/1.1";
              unsigned char* sel = nullptr;
              if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
                return SSL_TLSEXT_ERR_NOACK;
              *out = sel;
              return SSL_TLSEXT_ERR_OK;
            },
            nullptr);
    }
    auto address = asio::ip::make_address(g_config.address);
    for (int t = 0; t < g_config.threads; ++t) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      for (unsigned short port : {g_config.port, g_config.h2c_port}) {
        if (port == 0) continue;
        auto acc = std::make_unique<tcp::acceptor>(*contexts.back());
        tcp::endpoint ep(address, port);
        acc->open(ep.protocol());
        acc->set_option(asio::socket_base::reuse_address(true));
        int one = 1;
        ::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        acc->bind(ep);
        acc->listen(4096);
        asio::co_spawn(*contexts.back(), accept(*acc, port == g_config.h2c_port), asio::detached);
        acceptors.push_back(std::move(acc));
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "gantry-echo: cannot listen on " << g_config.address << ":" << g_config.port << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "gantry-echo listening on " << g_config.address << ":" << g_config.port;
  if (g_config.h2c_port) std::cerr << ", h2c on " << g_config.h2c_port;
  std::cerr << std::endl;
  asio::signal_set signals(*contexts.front(), SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    for (auto& c : contexts) c->stop();
  });
  std::vector<std::thread> threads;
  for (size_t t = 1; t < contexts.size(); ++t) threads.emplace_back([&, t] { contexts[t]->run(); });
  contexts.front()->run();
  for (auto& c : contexts) c->stop();
  for (auto& th : threads) th.join();
  return 0;
}
