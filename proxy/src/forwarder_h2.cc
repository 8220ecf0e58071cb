// Session::forward_h2: an HTTP/1.1 request to a backend that speaks HTTP/2 (h2c, or h2
// over TLS): one stream on the worker's shared connection to the endpoint. The body read
// so far goes with the head, the rest as the client sends it; the response comes back
// with its own length, or chunked, with the backend's trailers in the last chunk.
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>

#include "cors.h"
#include "h2_translate.h"
#include "head_writer.h"
#include "header_rewrite.h"
#include "retry_budget.h"
#include "session.h"
#include "upstream_timeouts.h"

namespace gantry::proxy {
namespace {

constexpr size_t kSendHighWater = 256 * 1024;  // request bytes queued on the stream before the client read waits

bool client_gone(const error_code& ec) {
  return ec == http::error::partial_message || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout;
}

}  // namespace

awaitable<bool> Session::forward_h2(const routing::Endpoint& endpoint, const Plan& plan, H2Body body) {
  const ProxyOptions& opt = worker_.options();
  const routing::Route& route = *plan.route;
  RequestParser& parser = *state().parser;
  Request& req = parser.get();
  const bool client_keep_alive = body.client_keep_alive;
  const unsigned client_version = body.client_version;
  const bool is_head = req.method() == http::verb::head;
  const bool has_body = body.has_body;
  std::string& buffered = body.buffered;

  const UpstreamTimeouts limits(route.timeouts, opt, log().start);
  const auto request_deadline = limits.request_deadline;
  char sni_buf[256];
  std::string_view sni;
  if (route.upstream_tls)
    if (auto h = req.find(http::field::host); h != req.end()) sni = routing::normalize_host(h->value(), sni_buf, sizeof sni_buf);
  UpstreamPool& pool = worker_.upstreams();
  const routing::Endpoint* ep = &endpoint;
  PoolKey pk;
  auto set_key = [&] {
    pk.set(pool, *ep, route.upstream_tls, sni);
    if (worker_.access_log_on()) log().upstream = pk.key;
  };
  set_key();
  auto failed = [&] {
    if (!pool.record_failure(*pk.health, plan.cluster, Clock::now())) return;
    worker_.note_ejection(*pk.health);
    if (plan.backend_stats) plan.backend_stats->ejections.add();
  };
  H2Head head;
  h2_request_head(req, route.upstream_tls, head);

  // The route's retry policy while the body is whole (`buffered` holds it for every try),
  // each retry to the cluster's next endpoint. A stream the backend refused
  // (REFUSED_STREAM, or a GOAWAY before it was processed) or a connection found dead
  // (for an idempotent request) goes once more without counting.
  RetryBudget retries(route.retry, body.whole, request_deadline);
  bool free_retry = body.whole;
  auto may_retry = [&](bool free) -> awaitable<bool> {
    if (free && free_retry) {
      free_retry = false;
      co_return true;
    }
    const std::optional<std::chrono::milliseconds> wait = retries.take(worker_.random());
    if (!wait) co_return false;
    ++log().retries;
    if (plan.cluster && plan.cluster->endpoints.size() > 1) {
      ep = &pool.choose(*plan.cluster, worker_.next_endpoint(plan.cluster_index));
      set_key();
    }
    if (wait->count() > 0) {
      Timer t(worker_.ioc(), *wait);
      co_await t.async_wait(use_nothrow);
    }
    co_return true;
  };
  bool mirrors_launched = false;
  std::optional<H2Call> call;
  Clock::time_point sent_at{};
  for (int attempt = 0;; ++attempt) {
    call.emplace(worker_.ioc());  // a previous try's stream is reset (CANCEL) as it goes
    sent_at = Clock::now();
    const error_code ec = co_await worker_.h2_upstreams().start(
        *call, pk, *ep, route.upstream_tls ? worker_.upstream_tls() : nullptr, sni, limits.bounded(limits.connect),
        head.fields, has_body, plan.backend_stats);
    if (ec) {
      if (plan.backend_stats) plan.backend_stats->connect_failures.add();
      failed();
      if (co_await may_retry(false)) continue;
      if (retries.timed_out) co_return co_await send_error(ProxyError::UpstreamTimeout, "timeouts.request ran out");
      const std::string detail = "connect to " + std::string(pk.key) + " (HTTP/2): " + ec.message();
      co_return co_await send_error(ec == beast::error::timeout ? ProxyError::UpstreamTimeout : ProxyError::UpstreamBroken,
                                    detail);
    }
    if (body.expect_continue && attempt == 0) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(opt.write_timeout);
      auto [cec, cn] = co_await asio::async_write(stream_, asio::buffer(kContinue), use_nothrow);
      if (cec) co_return false;
    }
    if (has_body) call->send(buffered.data(), buffered.size(), parser.is_done());
    // The rest of a body larger than --request-buffer, as the client sends it.
    bool send_stalled = false;
    while (has_body && !parser.is_done()) {
      while (call->unsent() > kSendHighWater && !call->failed())
        if (!co_await call->wait(Clock::now() + limits.bounded(limits.send))) break;
      if (call->failed()) break;
      if (call->unsent() > kSendHighWater) {
        send_stalled = true;
        break;
      }
      auto& b = req.body();
      b.data = relay();
      b.size = opt.relay_buffer;
      arm(Clock::now() + opt.body_timeout);
      auto [rec, n] = co_await http::async_read_some(stream_, buffer_, parser, use_nothrow);
      disarm();
      if (rec == http::error::need_buffer) rec = {};
      if (rec == http::error::body_limit) co_return co_await send_error(ProxyError::PayloadTooLarge, {});
      if (client_gone(rec)) co_return false;
      if (rec) {
        const std::string detail = "the request body's framing: " + rec.message();
        co_return (co_await send_error(ProxyError::BadRequest, detail), false);
      }
      const size_t got = opt.relay_buffer - b.size;
      log().bytes_in += got;
      if (body.mirror_body) body.mirror_body->take(relay(), got);
      call->send(relay(), got, parser.is_done());
    }
    if (body.mirrors && !body.mirrors->empty() && has_body && !mirrors_launched) {
      mirrors_launched = true;
      launch_mirrors(*body.mirrors, body.mirror_body);
    }
    // The backend took no more of the body for a whole send timeout. (A body that ends
    // with more than the high water still queued is not stalled: it drains as the
    // window opens, while the head is awaited.)
    if (send_stalled) {
      call->cancel();
      co_return co_await send_error(ProxyError::UpstreamTimeout, "sending the request body (HTTP/2)");
    }
    // The response head (1xx heads are dropped by the call).
    const Clock::time_point head_deadline = std::min(request_deadline, Clock::now() + limits.bounded(limits.read));
    while (!call->head_done && !call->failed())
      if (!co_await call->wait(head_deadline)) break;
    if (call->head_done) {
      // A listed status: the request again, this answer dropped (its stream reset).
      if (const unsigned got = call->status; retries.listed(got)) {
        if (got == 502 || got == 503 || got == 504) failed();
        if (co_await may_retry(false)) continue;
        if (retries.timed_out) co_return co_await send_error(ProxyError::UpstreamTimeout, "timeouts.request ran out");
      }
      break;
    }
    if (!call->failed()) {
      call->cancel();
      failed();
      if (Clock::now() < request_deadline && co_await may_retry(false)) continue;
      const bool whole_request = Clock::now() >= request_deadline || retries.timed_out;
      co_return co_await send_error(ProxyError::UpstreamTimeout, whole_request ? "timeouts.request ran out" : "");
    }
    // Refused: never processed, safe to send again (RFC 9113 section 8.7). A lost
    // connection (one that died idle, unnoticed) only for an idempotent request.
    const bool safe_again = call->refused() || (call->ec && idempotent(req.method()));
    if (!call->refused()) failed();
    if (co_await may_retry(safe_again)) continue;
    if (retries.timed_out) co_return co_await send_error(ProxyError::UpstreamTimeout, "timeouts.request ran out");
    std::string detail = call->ec ? "HTTP/2 connection to " + std::string(pk.key) + ": " + call->ec.message()
                                  : "the backend reset the stream (HTTP/2 error " + std::to_string(call->reset) + ")";
    co_return co_await send_error(ProxyError::UpstreamBroken, detail);
  }
  const auto answered = Clock::now();
  log().upstream_us = std::chrono::duration_cast<std::chrono::microseconds>(answered - sent_at).count();
  const unsigned status = call->status;
  if (status == 502 || status == 503 || status == 504) failed();
  else pool.record_success(*pk.health, answered);
  log().status = status;

  Response res(std::piecewise_construct, std::make_tuple(), std::make_tuple(ArenaAllocator<char>(&state().arena)));
  h2_response_into(*call, res);
  const bool body_allowed = !is_head && status != 204 && status != 304;
  // With its own length the body goes as it is; otherwise chunked to an HTTP/1.1 client
  // (room for trailers), and until close to an HTTP/1.0 one.
  const bool sized = res.find(http::field::content_length) != res.end();
  const bool chunked = body_allowed && !sized && client_version == 11;
  const bool keep = client_keep_alive && !closing() && (sized || chunked || !body_allowed);
  prepare_downstream_response(res, client_version, keep, false);
  apply_response_filters(route, plan.backend_filters, res);
  if (route.filters.cors && !body.origin.empty()) add_cors_headers(*route.filters.cors, body.origin, res);
  if (chunked) res.chunked(true);
  std::string& down_head = state().down_head;
  down_head.clear();
  append_head(res, down_head);
  std::string_view pending_head = down_head;
  const OutFraming framing{chunked};
  for (;;) {
    const Clock::time_point deadline = Clock::now() + limits.bounded(limits.read);
    while (call->body.empty() && !call->ended && !call->failed())
      if (!co_await call->wait(deadline)) break;
    if (call->failed() || (call->body.empty() && !call->ended)) {
      // Once the head is out, a broken stream can only be told by closing the connection.
      if (!pending_head.empty()) {
        call->cancel();
        co_return co_await send_error(call->failed() ? ProxyError::UpstreamBroken : ProxyError::UpstreamTimeout,
                                      "reading the response body (HTTP/2)");
      }
      co_return false;
    }
    std::string chunk = std::move(call->body);
    call->body.clear();
    const bool last = call->ended;
    const bool trailers = last && chunked && !call->trailers.empty();
    const size_t n = body_allowed ? chunk.size() : 0;
    FramedWrite w(pending_head, chunk.data(), n, last && !trailers, body_allowed ? framing : OutFraming{});
    pending_head = {};
    if (!w.empty()) {
      stream_.expires_after(opt.write_timeout);
      auto [wec, wn] = co_await asio::async_write(stream_, w.buffers(), use_nothrow);
      if (wec) co_return false;
    }
    if (trailers) {
      // RFC 9112 section 7.1.2: the trailer section follows the last chunk.
      std::string tail = "0\r\n";
      for (const auto& [tn, tv] : call->trailers) tail.append(tn).append(": ").append(tv).append("\r\n");
      tail += "\r\n";
      stream_.expires_after(opt.write_timeout);
      auto [tec, tn] = co_await asio::async_write(stream_, asio::buffer(tail), use_nothrow);
      if (tec) co_return false;
    }
    log().bytes_out += n;
    call->consume(chunk.size());
    if (last) break;
  }
  co_return keep;
}

}  // namespace gantry::proxy
