// Internal: the Asio/Beast names the proxy uses, in one place.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <tuple>

#include "header_arena.h"

namespace gantry::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Each worker runs one io_context: sockets, timers and coroutines name its executor type
// instead of any_io_executor, whose type erasure costs an indirect call and a copy of a
// polymorphic object on every operation.
using Executor = asio::io_context::executor_type;
using Socket = tcp::socket::rebind_executor<Executor>::other;
using Acceptor = tcp::acceptor::rebind_executor<Executor>::other;
using Timer = asio::steady_timer::rebind_executor<Executor>::other;
template <class T>
using awaitable = asio::awaitable<T, Executor>;

// Every async call returns its error code instead of throwing: the data plane never throws.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable_t<Executor>{});

// The proxied request's and response's fields live in the request's HeaderArena.
using Fields = http::basic_fields<ArenaAllocator<char>>;
using RequestParser = http::request_parser<http::buffer_body, ArenaAllocator<char>>;
using ResponseParser = http::response_parser<http::buffer_body, ArenaAllocator<char>>;
using Request = http::request<http::buffer_body, Fields>;
using Response = http::response<http::buffer_body, Fields>;

// A parser whose fields are allocated from `arena`.
template <class Parser>
void emplace_parser(std::optional<Parser>& p, HeaderArena& arena) {
  p.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(ArenaAllocator<char>(&arena)));
}

}  // namespace gantry::proxy
