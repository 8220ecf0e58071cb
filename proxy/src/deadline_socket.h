// DeadlineSocket: an upstream TCP socket with one timer for its life, armed lazily. A
// deadline is a time stamp; the timer is set only when it would otherwise fire too late
// (the new deadline comes before the one it waits for). A later deadline is a store, and
// the timer, firing early, sets itself again for the stamp. Beast's tcp_stream arms and
// cancels a timer around every read and write, with two more completions per operation;
// here a request's reads and writes to its upstream usually arm nothing.
//
// A wait past its deadline is cancelled and completes with beast::error::timeout, as
// tcp_stream's would. The socket stays open; its owner closes it.
#pragma once

#include <memory>
#include <utility>

#include "asio.h"
#include "timeout_completion.h"

namespace gantry::proxy {

class DeadlineSocket {
 public:
  using executor_type = Socket::executor_type;
  using lowest_layer_type = Socket;

  explicit DeadlineSocket(asio::io_context& ioc) : state_(std::make_shared<State>(ioc)) {}
  ~DeadlineSocket() {
    error_code ignored;
    state_->timer.cancel();  // its handler holds the state and lets it go
    state_->socket.close(ignored);
  }
  DeadlineSocket(const DeadlineSocket&) = delete;
  DeadlineSocket& operator=(const DeadlineSocket&) = delete;

  executor_type get_executor() noexcept { return state_->socket.get_executor(); }
  Socket& socket() { return state_->socket; }
  lowest_layer_type& lowest_layer() { return state_->socket; }

  void expires_at(Clock::time_point t) {
    state_->deadline = t;
    state_->expired = false;
  }
  void expires_after(Clock::duration d) { expires_at(Clock::now() + d); }
  void expires_never() { expires_at(kNever); }
  void cancel() {
    error_code ignored;
    state_->socket.cancel(ignored);
  }
  void close() {
    error_code ignored;
    state_->socket.close(ignored);
  }

  template <class Handler>
  using Completion = TimeoutCompletion<Handler>;

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return asio::async_initiate<ReadToken, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& b) {
          watch();
          state_->socket.async_read_some(b, Completion<std::decay_t<decltype(handler)>>{std::move(handler),
                                                                                       &state_->expired, state_});
        },
        token, buffers);
  }
  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return asio::async_initiate<WriteToken, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          watch();
          state_->socket.async_write_some(b, Completion<std::decay_t<decltype(handler)>>{std::move(handler),
                                                                                        &state_->expired, state_});
        },
        token, buffers);
  }
  template <class ConnectToken>
  auto async_connect(const tcp::endpoint& to, ConnectToken&& token) {
    return asio::async_initiate<ConnectToken, void(error_code)>(
        [this](auto handler, const tcp::endpoint& ep) {
          watch();
          state_->socket.async_connect(ep, Completion<std::decay_t<decltype(handler)>>{std::move(handler),
                                                                                      &state_->expired, state_});
        },
        token, to);
  }

 private:
  static constexpr Clock::time_point kNever = Clock::time_point::max();

  // Shared with the timer's handler and with each pending operation's, which may run
  // after the socket's owner is gone (its destructor closes the socket; they complete).
  struct State {
    explicit State(asio::io_context& ioc) : socket(ioc.get_executor()), timer(ioc.get_executor()) {}
    Socket socket;
    Timer timer;
    Clock::time_point deadline = kNever;
    Clock::time_point armed_for = kNever;  // what the pending wait waits for; kNever: none
    uint32_t generation = 0;               // a wait superseded by a re-arm is ignored
    bool expired = false;
  };

  // Before each operation: the timer must fire no later than the deadline.
  void watch() {
    State& s = *state_;
    if (s.deadline == kNever || s.armed_for <= s.deadline) return;
    arm(state_);
  }

  static void arm(const std::shared_ptr<State>& sp) {
    State& s = *sp;
    s.armed_for = s.deadline;
    const uint32_t generation = ++s.generation;
    s.timer.expires_at(s.deadline);
    s.timer.async_wait([sp, generation](error_code ec) {
      State& st = *sp;
      if (ec == asio::error::operation_aborted || generation != st.generation) return;
      st.armed_for = kNever;
      if (st.deadline == kNever) return;
      if (Clock::now() < st.deadline) return arm(sp);
      st.deadline = kNever;
      st.expired = true;
      error_code ignored;
      st.socket.cancel(ignored);
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace gantry::proxy
