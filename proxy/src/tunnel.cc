// Session::tunnel: after a 101 Switching Protocols (WebSocket), bytes flow both ways
// untouched until either side closes.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>

#include "session.h"

namespace gantry::proxy {
namespace {

void half_close(Socket& s) {
  error_code ignored;
  s.shutdown(Socket::shutdown_send, ignored);
}
// TLS has no half-close that every client understands: once the upstream is done the
// client's pending read is cancelled, and the session ends the connection with a TLS
// close_notify (Session::run).
template <class Transport, class Tls>
void half_close(BasicMaybeTlsStream<Transport, Tls>& s) {
  if (s.is_tls()) s.cancel();
  else half_close(s.socket());
}

template <class From, class To>
awaitable<void> pump(From& from, To& to) {
  char buf[8192];
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), use_nothrow);
    if (ec) break;
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf, n), use_nothrow);
    if (wec) break;
  }
  half_close(to);
}

template <class To>
awaitable<bool> flush(To& to, beast::flat_buffer& pending) {
  if (pending.size() == 0) co_return true;
  auto [ec, n] = co_await asio::async_write(to, pending.data(), use_nothrow);
  pending.consume(pending.size());
  co_return !ec;
}

}  // namespace

awaitable<void> Session::tunnel(UpstreamConnection& upstream) {
  using namespace asio::experimental::awaitable_operators;
  stream_.expires_never();
  upstream.stream.expires_never();
  ClientStream& down = stream_;
  MaybeTlsStream& up = upstream.stream;
  // Bytes that arrived with the headers belong to the tunnel.
  if (!co_await flush(up, buffer_) || !co_await flush(down, upstream.buffer)) co_return;
  co_await (pump(down, up) && pump(up, down));
}

}  // namespace gantry::proxy
