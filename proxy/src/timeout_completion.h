// TimeoutCompletion: the handler of an operation on a socket whose deadline is kept
// outside the operation (SweptSocket's sweep, DeadlineSocket's lazy timer). Whoever
// enforces the deadline cancels the socket and sets `expired`; the cancelled operation
// then completes with beast::error::timeout, as Beast's tcp_stream's would. Its executor,
// allocator and cancellation slot are the inner handler's (the associator below).
#pragma once

#include <boost/asio/associator.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <memory>
#include <utility>

namespace gantry::proxy {

template <class Handler>
struct TimeoutCompletion {
  Handler handler;
  const bool* expired;
  // What `expired` lives in, when the socket's owner may be gone before the operation
  // completes (DeadlineSocket's shared state); empty when the owner outlives it.
  std::shared_ptr<const void> keep;
  template <class... Args>
  void operator()(boost::system::error_code ec, Args&&... args) {
    if (ec == boost::asio::error::operation_aborted && *expired) ec = boost::beast::error::timeout;
    std::move(handler)(ec, std::forward<Args>(args)...);
  }
};

}  // namespace gantry::proxy

namespace boost::asio {
template <template <class, class> class Associator, class Handler, class Default>
struct associator<Associator, gantry::proxy::TimeoutCompletion<Handler>, Default> : Associator<Handler, Default> {
  static typename Associator<Handler, Default>::type get(const gantry::proxy::TimeoutCompletion<Handler>& h,
                                                         const Default& d = Default()) noexcept {
    return Associator<Handler, Default>::get(h.handler, d);
  }
};
}  // namespace boost::asio
