// TlsSocket: TLS on a downstream SweptSocket, with OpenSSL reading and writing the socket
// itself (SSL_set_fd) and Asio only waiting for readiness. Asio's ssl::stream keeps two
// 17 KB record buffers and a BIO pair of two more for the connection's life (70 KB per
// idle HTTPS connection); here OpenSSL's own buffers are all there is, and with
// SSL_MODE_RELEASE_BUFFERS they are given back whenever nothing is buffered, so an idle
// connection holds the SSL object and little else.
//
// Each operation tries the SSL call first and waits for the readiness it asks for
// (WANT_READ, WANT_WRITE) through the SweptSocket, so deadlines and their timeouts are the
// socket's. An operation that finishes without waiting completes through a post: Asio's
// rule that a handler never runs inside its initiating call, which Beast's algorithms rely on.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <cerrno>
#include <type_traits>

#include "asio.h"
#include "swept_socket.h"

namespace gantry::proxy {

class TlsSocket {
 public:
  using executor_type = Executor;

  // Takes ownership of `ssl`.
  TlsSocket(SweptSocket& next, SSL* ssl) : next_(next), ssl_(ssl) {
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // OpenSSL reads and writes the descriptor itself: it must never block.
    error_code ignored;
    next_.socket().non_blocking(true, ignored);
    SSL_set_fd(ssl_, static_cast<int>(next_.socket().native_handle()));
  }
  ~TlsSocket() { SSL_free(ssl_); }
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  executor_type get_executor() noexcept { return next_.get_executor(); }
  SSL* native_handle() { return ssl_; }
  // Bytes OpenSSL holds that a read would return without touching the socket (decrypted,
  // or records already read): an idle wait for readability would miss them.
  bool pending() const { return SSL_pending(ssl_) > 0 || SSL_has_pending(ssl_); }

  template <class Token>
  auto async_handshake(asio::ssl::stream_base::handshake_type type, Token&& token) {
    if (type == asio::ssl::stream_base::server) SSL_set_accept_state(ssl_);
    else SSL_set_connect_state(ssl_);
    return run<void(error_code)>(std::forward<Token>(token), [this](size_t&) { return SSL_do_handshake(ssl_); });
  }
  // Sends close_notify and reads the peer's: a client that closes its side after ours
  // (a WebSocket close does) must find the socket still open. The caller's deadline bounds
  // a peer that never answers.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return run<void(error_code)>(std::forward<Token>(token), [this](size_t&) {
      int r = SSL_shutdown(ssl_);
      if (r == 0) r = SSL_shutdown(ssl_);  // ours is sent; this one reads theirs
      return r;
    });
  }
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    asio::mutable_buffer b = *asio::buffer_sequence_begin(buffers);
    return run<void(error_code, size_t)>(std::forward<Token>(token), [this, b](size_t& n) {
      return b.size() == 0 ? 1 : SSL_read_ex(ssl_, b.data(), b.size(), &n);
    });
  }
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    asio::const_buffer b = *asio::buffer_sequence_begin(buffers);
    return run<void(error_code, size_t)>(std::forward<Token>(token), [this, b](size_t& n) {
      return b.size() == 0 ? 1 : SSL_write_ex(ssl_, b.data(), b.size(), &n);
    });
  }

 private:
  // What an SSL call's failure means, as the error codes Asio's ssl::stream would give.
  // `err`: SSL_get_error's verdict on the failed call.
  error_code failure(int err) {
    if (err == SSL_ERROR_ZERO_RETURN) return asio::error::eof;  // the peer's close_notify
    if (err == SSL_ERROR_SYSCALL) {
      if (errno != 0) return error_code(errno, asio::error::get_system_category());
      return asio::ssl::error::stream_truncated;
    }
    const unsigned long e = ERR_get_error();
    if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return asio::ssl::error::stream_truncated;
    return error_code(static_cast<int>(e), asio::error::get_ssl_category());
  }

  template <class Step, bool Sized>
  struct Op {
    TlsSocket* s;
    Step step;
    bool waited = false;
    bool done = false;
    error_code result{};
    size_t n = 0;

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (done) return finish(self);
      if (ec) {  // the wait failed: cancelled, timed out
        result = ec;
        return finish(self);
      }
      ERR_clear_error();
      errno = 0;
      const int r = step(n);
      if (r <= 0) {
        const int err = SSL_get_error(s->ssl_, r);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
          waited = true;
          s->next_.async_wait(err == SSL_ERROR_WANT_READ ? Socket::wait_read : Socket::wait_write, std::move(self));
          return;
        }
        result = s->failure(err);
        n = 0;
      }
      done = true;
      if (!waited) {
        asio::post(s->get_executor(), std::move(self));
        return;
      }
      finish(self);
    }
    template <class Self>
    void finish(Self& self) {
      if constexpr (Sized) self.complete(result, n);
      else self.complete(result);
    }
  };

  template <class Signature, class Token, class Step>
  auto run(Token&& token, Step step) {
    constexpr bool sized = std::is_same_v<Signature, void(error_code, size_t)>;
    return asio::async_compose<Token, Signature>(Op<Step, sized>{this, std::move(step)}, token, next_.socket());
  }

  SweptSocket& next_;
  SSL* ssl_;
};

}  // namespace gantry::proxy
