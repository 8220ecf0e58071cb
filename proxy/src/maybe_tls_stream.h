// MaybeTlsStream: one connection, plain TCP or TLS over it: a downstream session's (the
// listener says which) and an upstream connection's (the route says which). Beast's
// algorithms see one AsyncStream, so the read-handle-write loop and the forwarder are the
// same code for both. Upstream it is a DeadlineSocket (one lazily armed timer per
// connection: route timeouts are too fine for the sweep) under Asio's ssl::stream;
// downstream a SweptSocket (deadlines the worker's sweep enforces) under a TlsSocket (no
// buffers held while idle).
#pragma once

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_stream.hpp>
#include <memory>
#include <string_view>

#include "asio.h"
#include "deadline_socket.h"
#include "swept_socket.h"
#include "tls_socket.h"

namespace gantry::proxy {

template <class Transport, class Tls>
class BasicMaybeTlsStream {
 public:
  // flat_stream: a relayed write gathers up to four buffers (head, chunk size, data, end)
  // and Beast's serializers (error responses) many; it coalesces them so
  // one write becomes one TLS record instead of one per buffer.
  using TlsLayer = beast::flat_stream<Tls>;
  using executor_type = typename Transport::executor_type;

  explicit BasicMaybeTlsStream(Socket socket) : tcp_(std::move(socket)) {}
  explicit BasicMaybeTlsStream(asio::io_context& ioc) : tcp_(ioc) {}

  executor_type get_executor() noexcept { return tcp_.get_executor(); }
  Socket& socket() { return tcp_.socket(); }
  Transport& tcp_layer() { return tcp_; }
  bool is_tls() const { return tls_ != nullptr; }
  // Takes ownership of `ssl` (a listener's server context, or the worker's client context
  // upstream); reads and writes go through TLS from now on. The handshake is the caller's
  // next step.
  void start_tls(SSL* ssl) { tls_ = std::make_unique<TlsLayer>(tcp_, ssl); }
  Tls& tls() { return tls_->next_layer(); }
  // Bytes the TLS layer holds that a wait for readability would not see.
  bool tls_pending() {
    if constexpr (requires(Tls& t) { t.pending(); }) return tls_ && tls().pending();
    else return false;
  }
  // The server name the client asked for (SNI), after the handshake; empty without one.
  std::string_view server_name() {
    if (!tls_) return {};
    const char* name = SSL_get_servername(tls().native_handle(), TLSEXT_NAMETYPE_host_name);
    return name ? std::string_view(name) : std::string_view{};
  }

  void expires_after(std::chrono::steady_clock::duration d) { tcp_.expires_after(d); }
  void expires_never() { tcp_.expires_never(); }
  void cancel() { tcp_.cancel(); }
  void close() { tcp_.close(); }

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<ReadToken>(token));
    return tcp_.async_read_some(buffers, std::forward<ReadToken>(token));
  }
  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<WriteToken>(token));
    return tcp_.async_write_some(buffers, std::forward<WriteToken>(token));
  }

 private:
  Transport tcp_;
  std::unique_ptr<TlsLayer> tls_;
};

// Upstream connections: Asio's TLS over a DeadlineSocket.
using MaybeTlsStream = BasicMaybeTlsStream<DeadlineSocket, asio::ssl::stream<DeadlineSocket&>>;
// Downstream sessions: OpenSSL on the socket itself, deadlines by the sweep.
using ClientStream = BasicMaybeTlsStream<SweptSocket, TlsSocket>;

}  // namespace gantry::proxy
