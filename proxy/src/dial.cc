#include "dial.h"

#include <boost/asio/ip/address.hpp>

namespace gantry::proxy {

awaitable<error_code> dial(DeadlineSocket& stream, const routing::Endpoint& ep, std::chrono::milliseconds timeout) {
  error_code ec;
  auto address = asio::ip::make_address(ep.host, ec);
  stream.expires_after(timeout);
  if (!ec) {
    const tcp::endpoint to(address, ep.port);
    auto [cec] = co_await stream.async_connect(to, use_nothrow);
    ec = cec;
  } else {
    tcp::resolver resolver(stream.get_executor());
    auto [rec, results] = co_await resolver.async_resolve(ep.host, std::to_string(ep.port), use_nothrow);
    if (rec) co_return rec;
    ec = asio::error::host_not_found;
    for (const auto& entry : results) {
      auto [cec] = co_await stream.async_connect(entry.endpoint(), use_nothrow);
      ec = cec;
      if (!ec || ec == beast::error::timeout) break;
      stream.close();  // the next address gets a fresh socket
    }
  }
  if (!ec) stream.socket().set_option(tcp::no_delay(true), ec);
  co_return ec;
}

awaitable<error_code> connect_upstream(UpstreamConnection& c, const routing::Endpoint& ep, std::chrono::milliseconds timeout,
                                       SSL_CTX* tls, std::string_view sni, std::string_view alpn) {
  error_code ec = co_await dial(c.stream.tcp_layer(), ep, timeout);
  if (ec || !tls) co_return ec;
  SSL* ssl = SSL_new(tls);
  if (!ssl) co_return asio::error::no_memory;
  const std::string name(sni);
  asio::ip::make_address(name, ec);
  if (ec && !name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI never carries an address
  ec = {};
  if (!alpn.empty()) SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn.data()), alpn.size());
  c.stream.start_tls(ssl);
  auto [hec] = co_await c.stream.tls().async_handshake(asio::ssl::stream_base::client, use_nothrow);
  co_return hec;
}

}  // namespace gantry::proxy
