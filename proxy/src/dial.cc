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

}  // namespace gantry::proxy
