// SweptSocket: a downstream TCP socket whose deadline is a time stamp that the worker's
// sweep checks, not a timer. Beast's tcp_stream holds two timers for its life (half a
// kilobyte per connection) and re-arms one for every read and write; a connection here
// costs its socket and sixteen bytes, and setting a deadline is a store.
//
// A wait past its deadline is cancelled by the sweep (expire) and completes with
// beast::error::timeout, as tcp_stream's would; unlike tcp_stream the socket stays open,
// so the session can still tell a slow client 408. A deadline is honoured to within one
// sweep period (a quarter of the shortest timeout, at most a second).
#pragma once

#include <utility>

#include "asio.h"
#include "timeout_completion.h"

namespace gantry::proxy {

class SweptSocket {
 public:
  using executor_type = Socket::executor_type;
  using lowest_layer_type = Socket;

  explicit SweptSocket(Socket socket) : socket_(std::move(socket)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  Socket& socket() { return socket_; }
  lowest_layer_type& lowest_layer() { return socket_; }

  void expires_at(Clock::time_point t) {
    deadline_ = t;
    expired_ = false;
  }
  void expires_after(Clock::duration d) { expires_at(Clock::now() + d); }
  void expires_never() { expires_at({}); }
  // The sweep: a deadline passed cancels what waits on the socket.
  void expire(Clock::time_point now) {
    if (deadline_ == Clock::time_point{} || now < deadline_) return;
    deadline_ = {};
    expired_ = true;
    cancel();
  }
  void cancel() {
    error_code ignored;
    socket_.cancel(ignored);
  }
  void close() {
    error_code ignored;
    socket_.close(ignored);
  }

  template <class Handler>
  using Completion = TimeoutCompletion<Handler>;

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return asio::async_initiate<ReadToken, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& b) {
          socket_.async_read_some(b, Completion<std::decay_t<decltype(handler)>>{std::move(handler), &expired_, {}});
        },
        token, buffers);
  }
  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return asio::async_initiate<WriteToken, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          socket_.async_write_some(b, Completion<std::decay_t<decltype(handler)>>{std::move(handler), &expired_, {}});
        },
        token, buffers);
  }
  template <class WaitToken>
  auto async_wait(Socket::wait_type w, WaitToken&& token) {
    return asio::async_initiate<WaitToken, void(error_code)>(
        [this, w](auto handler) {
          socket_.async_wait(w, Completion<std::decay_t<decltype(handler)>>{std::move(handler), &expired_, {}});
        },
        token);
  }

 private:
  Socket socket_;
  Clock::time_point deadline_{};
  bool expired_ = false;
};

}  // namespace gantry::proxy
