// Session::start_mirrors: RequestMirror. A copy of the request header goes to one endpoint
// of each mirror backend, on this worker, fire and forget: the copy owns everything it
// needs, its answer is read and dropped, and nothing it does reaches the primary request.
// Bodies are not mirrored yet (the copy says Content-Length: 0).
#include <boost/asio/ip/address.hpp>

#include "session.h"

namespace gantry::proxy {
namespace {

constexpr int kMaxMirrorsInFlight = 1024;  // per worker: a dead mirror cannot pile up work
thread_local int g_mirrors_in_flight = 0;

awaitable<void> send_copy(asio::io_context& ioc, routing::Endpoint endpoint,
                          std::shared_ptr<http::request<http::empty_body>> copy, std::chrono::milliseconds timeout) {
  ++g_mirrors_in_flight;
  beast::tcp_stream stream(ioc);
  error_code ec;
  auto address = asio::ip::make_address(endpoint.host, ec);
  if (!ec) {
    stream.expires_after(timeout);
    auto [cec] = co_await stream.async_connect(tcp::endpoint(address, endpoint.port), use_nothrow);
    if (!cec) {
      auto [wec, wn] = co_await http::async_write(stream, *copy, use_nothrow);
      if (!wec) {
        beast::flat_buffer buffer;
        http::response_parser<http::empty_body> rp;
        rp.skip(true);
        auto [rec, rn] = co_await http::async_read_header(stream, buffer, rp, use_nothrow);
      }
    }
  }
  stream.close();
  --g_mirrors_in_flight;
}

}  // namespace

void Session::start_mirrors(const routing::Snapshot& snapshot, const std::vector<routing::Mirror>& mirrors) {
  const Request& req = parser_->get();
  for (const routing::Mirror& m : mirrors) {
    if (m.numerator < m.denominator && worker_.random() % m.denominator >= m.numerator) continue;
    if (m.cluster >= snapshot.clusters.size() || g_mirrors_in_flight >= kMaxMirrorsInFlight) continue;
    const routing::Cluster& cluster = snapshot.clusters[m.cluster];
    if (cluster.endpoints.empty()) continue;
    auto copy = std::make_shared<http::request<http::empty_body>>(req.base());
    copy->erase(http::field::transfer_encoding);
    copy->content_length(0);
    copy->keep_alive(false);
    const routing::Endpoint& ep = cluster.endpoints[worker_.next_endpoint(m.cluster) % cluster.endpoints.size()];
    asio::co_spawn(worker_.ioc(), send_copy(worker_.ioc(), ep, std::move(copy), worker_.options().response_timeout),
                   asio::detached);
  }
}

}  // namespace gantry::proxy
