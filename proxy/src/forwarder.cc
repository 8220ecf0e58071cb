// Session::forward: the upstream half of a request. Apply the route's request filters,
// take a pooled connection (or open one), send the request header and stream its body,
// read the response header, apply the response filters, stream the response back, and
// return the connection to the pool when both sides allow it. Retries and timeouts follow
// the route (HTTPRouteRule.retry, .timeouts).
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/string.hpp>
#include <cstring>

#include "cors.h"
#include "dial.h"
#include "head_writer.h"
#include "header_rewrite.h"
#include "relay.h"
#include "retry_budget.h"
#include "upstream_timeouts.h"
#include "session.h"

namespace gantry::proxy {
namespace {

bool is_connection_loss(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == http::error::partial_message;
}

ProxyError upstream_error(const error_code& ec) {
  return ec == beast::error::timeout ? ProxyError::UpstreamTimeout : ProxyError::UpstreamBroken;
}

// A read from the client that failed because the client went away (or the drain's
// deadline cancelled it), not because its bytes were wrong.
bool client_gone(const error_code& ec) {
  return ec == http::error::partial_message || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout;
}

}  // namespace

awaitable<bool> Session::forward(const routing::Endpoint& endpoint, const Plan& plan) {
  const ProxyOptions& opt = worker_.options();
  const routing::Route& route = *plan.route;
  RequestParser& parser = *state().parser;
  Request& req = parser.get();
  const bool client_keep_alive = req.keep_alive();
  const unsigned client_version = req.version();
  const bool is_head = req.method() == http::verb::head;
  const bool upgrade = is_upgrade_request(req);
  const bool has_body = !parser.is_done();
  std::string origin;  // for CORS response headers; the request fields change below
  // $request_uri of mirror targets: the target as the client sent it.
  std::string original_target;
  if (!route.filters.mirrors.empty()) original_target = req.target();
  if (route.filters.cors)
    if (auto o = req.find(http::field::origin); o != req.end()) origin = o->value();
  bool expect_continue = false;
  if (auto e = req.find(http::field::expect); e != req.end() && beast::iequals(e->value(), "100-continue")) {
    expect_continue = true;
    req.erase(http::field::expect);  // answered here, before the body is read
  }
  prepare_upstream_request(req, client_ip_, stream_.is_tls(), upgrade);
  apply_request_filters(route, plan.backend_filters, req);
  std::vector<MirrorCopy> mirrors;
  if (!route.filters.mirrors.empty()) collect_mirrors(*worker_.pinned()->snapshot, route.filters.mirrors, original_target, req, mirrors);
  if (plan.backend_filters && !plan.backend_filters->mirrors.empty())
    collect_mirrors(*worker_.pinned()->snapshot, plan.backend_filters->mirrors, req.target(), req, mirrors);
  std::optional<BodyTap> mirror_body;
  if (!mirrors.empty()) {
    if (has_body) mirror_body.emplace().limit = opt.mirror_body_limit;
    else launch_mirrors(mirrors, nullptr);
  }

  // A body that fits --request-buffer is read whole before any upstream is chosen, so
  // broken framing (a bad chunk size) is refused before a byte reaches a backend, and a
  // retry can send it again. A larger body streams, the part read so far first.
  std::string buffered;
  bool body_whole = !has_body;
  if (has_body && !expect_continue && !upgrade && opt.request_buffer > 0) {
    if (auto declared = parser.content_length(); !declared || *declared <= opt.request_buffer) {
      auto& body = req.body();
      buffered.reserve(declared ? static_cast<size_t>(*declared) : opt.relay_buffer);
      while (!parser.is_done() && buffered.size() < opt.request_buffer) {
        const size_t had = buffered.size();
        const size_t room = declared ? std::max<size_t>(1, static_cast<size_t>(*declared) - had) : opt.relay_buffer;
        buffered.resize(had + room);
        body.data = buffered.data() + had;
        body.size = room;
        arm(Clock::now() + opt.body_timeout);
        auto [ec, n] = co_await http::async_read_some(stream_, buffer_, parser, use_nothrow);
        disarm();
        if (ec == http::error::need_buffer) ec = {};
        if (ec == http::error::body_limit) co_return co_await send_error(ProxyError::PayloadTooLarge, {});
        if (ec == beast::error::timeout) co_return co_await send_error(ProxyError::RequestTimeout, "the request body stalled");
        if (client_gone(ec)) co_return false;
        if (ec) {
          const std::string detail = "the request body's framing: " + ec.message();
          co_return (co_await send_error(ProxyError::BadRequest, detail), false);
        }
        buffered.resize(had + room - body.size);
      }
      body_whole = parser.is_done();
      log().bytes_in = buffered.size();
      if (mirror_body) mirror_body->take(buffered.data(), buffered.size());
    }
  }
  bool mirrors_launched = !has_body;
  if (!upgrade && (route.upstream_h2 || (plan.cluster && plan.cluster->protocol == routing::UpstreamProtocol::H2c)))
    co_return co_await forward_h2(endpoint, plan,
                                  H2Body{has_body, body_whole, expect_continue, client_version, client_keep_alive, buffered, origin, &mirrors,
                                         mirror_body ? &*mirror_body : nullptr});

  const auto started = log().start;
  const UpstreamTimeouts limits(route.timeouts, opt, started);
  const auto request_deadline = limits.request_deadline;
  const auto send_timeout = limits.send, read_timeout = limits.read, connect_timeout = limits.connect;
  auto bounded = [&](std::chrono::milliseconds t) { return limits.bounded(t); };

  // TLS upstream (backend-protocol HTTPS): the SNI is the Host going upstream, and pooled
  // connections are told apart by it.
  char sni_buf[256];
  std::string_view sni;
  if (route.upstream_tls)
    if (auto h = req.find(http::field::host); h != req.end()) sni = routing::normalize_host(h->value(), sni_buf, sizeof sni_buf);
  bool fresh_only = upgrade;  // a pooled connection is not to be taken
  UpstreamPool& pool = worker_.upstreams();
  const routing::Endpoint* ep = &endpoint;
  PoolKey pk;
  std::string_view& key = pk.key;
  EndpointState*& st = pk.connections;
  EndpointState*& health = pk.health;
  auto set_key = [&] { pk.set(pool, *ep, route.upstream_tls, sni); };
  auto failed = [&] {
    if (!pool.record_failure(*health, plan.cluster, Clock::now())) return;
    worker_.note_ejection(*health);
    if (plan.backend_stats) plan.backend_stats->ejections.add();
  };
  set_key();
  // A connect failure, or a connection lost before any response byte of an idempotent
  // request with its body in hand, is tried once more on another endpoint of the cluster.
  bool switched = false;
  auto other_endpoint = [&]() -> bool {
    if (switched || !plan.cluster || plan.cluster->endpoints.size() < 2) return false;
    const auto& eps = plan.cluster->endpoints;
    for (size_t i = 0; i < eps.size(); ++i) {
      const routing::Endpoint& next = pool.choose(*plan.cluster, worker_.next_endpoint(plan.cluster_index));
      if (next == *ep) continue;
      ep = &next;
      switched = true;
      fresh_only = true;
      set_key();
      return true;
    }
    return false;
  };
  // The head as it goes upstream, the same for every try.
  std::string& up_head = state().up_head;
  up_head.clear();
  append_head(req, up_head);
  const OutFraming request_framing{req.chunked()};
  UpstreamPtr conn;
  std::optional<ResponseParser> rp;
  RetryBudget retries(route.retry, body_whole, request_deadline);

  // A retry happens only while the request is still whole (no body was consumed): on a
  // pooled connection that turns out dead (once, not counted), or as the route's retry
  // policy allows, on a connection error or a listed status.
  bool& timed_out = retries.timed_out;  // timeouts.request ran out between tries
  auto may_retry = [&](bool stale) -> awaitable<bool> {
    // A dead pooled connection gets one free retry, unless the route counts retries: a
    // backend that resets connections on purpose must not earn extra tries.
    if (stale && !fresh_only && route.retry.attempts == 0) {
      fresh_only = true;
      co_return true;
    }
    const std::optional<std::chrono::milliseconds> wait = retries.take(worker_.random());
    if (!wait) co_return false;
    fresh_only = true;
    if (wait->count() > 0) {
      Timer t(worker_.ioc(), *wait);
      co_await t.async_wait(use_nothrow);
    }
    co_return true;
  };

  Clock::time_point sent_at{}, answered{};
  for (bool first_try = true;; first_try = false) {
    if (!first_try) ++log().retries;
    conn.reset();
    bool reused = false;
    if (!fresh_only) conn = pool.acquire(*st, started);
    if (conn) {
      reused = true;
      if (plan.backend_stats) plan.backend_stats->reuses.add();
    } else {
      if (!pool.may_open(*st)) {
        // Circuit breaking: an endpoint this worker already holds its cap of connections
        // to gets no more; another endpoint may take the request, else it is 503 at once.
        if (plan.backend_stats) plan.backend_stats->overflows.add();
        if (other_endpoint()) continue;
        co_return co_await send_error(ProxyError::NoEndpoint, "connection limit of " + std::string(key) + " reached");
      }
      conn = std::make_unique<UpstreamConnection>(worker_.ioc(), *st, plan.backend_stats);
      error_code ec = co_await connect_upstream(*conn, *ep, bounded(connect_timeout),
                                       route.upstream_tls ? worker_.upstream_tls() : nullptr, sni);
      if (ec) {
        if (plan.backend_stats) plan.backend_stats->connect_failures.add();
        failed();
        if (co_await may_retry(false)) continue;
        if (!timed_out && other_endpoint()) continue;  // nothing was sent: safe for any request
        if (timed_out) co_return co_await send_error(ProxyError::UpstreamTimeout, "timeouts.request ran out");
        co_return co_await send_error(upstream_error(ec), "connect to " + std::string(key) + ": " + ec.message());
      }
    }

    if (worker_.access_log_on()) log().upstream = key;
    sent_at = Clock::now();
    // The head goes with the body read so far (all of it, when it is whole) in one write;
    // with Expect: 100-continue it goes alone, and the client hears 100 after it.
    std::string_view head = up_head;
    if (expect_continue && has_body) {
      conn->stream.expires_after(bounded(send_timeout));
      auto [hec, hn] = co_await asio::async_write(conn->stream, asio::buffer(head.data(), head.size()), use_nothrow);
      if (hec) {
        if (co_await may_retry(reused)) continue;
        co_return co_await send_error(upstream_error(hec), hec.message());
      }
      head = {};
      expect_continue = false;
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(opt.write_timeout);
      auto [cec, cn] = co_await asio::async_write(stream_, asio::buffer(kContinue), use_nothrow);
      if (cec) co_return false;
    }
    if (!has_body || body_whole || !buffered.empty()) {
      FramedWrite w(head, buffered.data(), buffered.size(), parser.is_done(), request_framing);
      head = {};
      conn->stream.expires_after(bounded(send_timeout));
      auto [wec, wn] = co_await asio::async_write(conn->stream, w.buffers(), use_nothrow);
      if (wec) {
        // Nothing of the body beyond `buffered` was read yet: the request can still go again.
        if (co_await may_retry(reused)) continue;
        if (!has_body) co_return co_await send_error(upstream_error(wec), wec.message());
        co_return co_await send_error(upstream_error(wec), "sending the request body: " + wec.message());
      }
    }
    if (!parser.is_done()) {
      RelayResult r = co_await relay_body(stream_, buffer_, parser, conn->stream, head, request_framing, relay(),
                                          opt.relay_buffer, opt.body_timeout, bounded(send_timeout),
                                          mirror_body ? &*mirror_body : nullptr);
      log().bytes_in += r.bytes;
      if (r.failure == RelayFailure::Input && r.ec == http::error::body_limit)
        co_return co_await send_error(ProxyError::PayloadTooLarge, {});
      if (r.failure == RelayFailure::Input && client_gone(r.ec)) co_return false;
      if (r.failure == RelayFailure::Input) {
        // Broken framing in a streamed body: the upstream connection goes with this
        // request (never back to the pool), and the client hears why, as no response
        // has started.
        const std::string detail = "the request body's framing: " + r.ec.message();
        co_return (co_await send_error(ProxyError::BadRequest, detail), false);
      }
      if (r.failure == RelayFailure::Output)
        co_return co_await send_error(upstream_error(r.ec), "sending the request body: " + r.ec.message());
    }
    if (!mirrors_launched && !mirrors.empty()) {
      launch_mirrors(mirrors, &*mirror_body);
      mirrors_launched = true;
    }

    // The response header; 1xx interim responses other than 101 are read past.
    error_code rec;
    for (;;) {
      emplace_parser(rp, state().arena);
      rp->header_limit(static_cast<uint32_t>(opt.header_limit));
      rp->body_limit(boost::none);
      if (is_head) rp->skip(true);
      conn->stream.expires_after(bounded(read_timeout));
      auto [ec, n] = co_await http::async_read_header(conn->stream, conn->buffer, *rp, use_nothrow);
      rec = ec;
      if (ec) break;
      unsigned s = rp->get().result_int();
      if (s >= 200 || s == 101) break;
    }
    if (rec) {
      bool stale = reused && is_connection_loss(rec);
      if (!stale) failed();
      if (body_whole && (rec != beast::error::timeout || Clock::now() < request_deadline) && co_await may_retry(stale))
        continue;
      if (body_whole && !stale && is_connection_loss(rec) && idempotent(req.method()) && other_endpoint()) continue;
      if (timed_out || Clock::now() >= request_deadline)
        co_return co_await send_error(ProxyError::UpstreamTimeout, "timeouts.request ran out");
      // With a retry policy spent on lost connections there is no upstream answer to pass
      // on: 503, as for an unavailable backend.
      if (route.retry.attempts > 0 && rec != beast::error::timeout)
        co_return co_await send_error(ProxyError::NoEndpoint, "retries exhausted: " + rec.message());
      co_return co_await send_error(upstream_error(rec), "reading the response header: " + rec.message());
    }
    const unsigned status = rp->get().result_int();
    answered = Clock::now();
    log().upstream_us = std::chrono::duration_cast<std::chrono::microseconds>(answered - sent_at).count();
    // Gateway failures say the endpoint is unwell (Envoy's consecutive_gateway_failure); a
    // 500 is the application's own answer and says nothing of the endpoint.
    if (status == 502 || status == 503 || status == 504) failed();
    else pool.record_success(*health, answered);
    if (retries.listed(status)) {
      if (co_await may_retry(false)) continue;  // the connection is dropped with its unread body
      if (timed_out) co_return co_await send_error(ProxyError::UpstreamTimeout, "timeouts.request ran out");
    }
    break;
  }
  // An answer that comes after timeouts.request is an answer the client no longer gets.
  if (answered > request_deadline)
    co_return co_await send_error(ProxyError::UpstreamTimeout, "timeouts.request ran out");

  Response& res = rp->get();
  const unsigned status = res.result_int();
  const bool upstream_keep_alive = rp->keep_alive();
  log().status = status;

  std::string& down_head = state().down_head;
  down_head.clear();
  if (status == 101 && upgrade) {
    prepare_downstream_response(res, client_version, false, true);
    append_head(res, down_head);
    stream_.expires_after(opt.write_timeout);
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(down_head), use_nothrow);
    if (!ec) co_await tunnel(*conn);
    co_return false;
  }

  // A body that ends at EOF cannot be followed by another response on the client side.
  const bool eof_body = !rp->is_done() && !rp->chunked() && !rp->content_length();
  const bool keep = client_keep_alive && !eof_body && !closing();
  prepare_downstream_response(res, client_version, keep, false);
  apply_response_filters(route, plan.backend_filters, res);
  if (route.filters.cors && !origin.empty()) add_cors_headers(*route.filters.cors, origin, res);
  append_head(res, down_head);
  // RFC 9112 section 6.3: no body follows the head of a HEAD's response, a 204 or a 304.
  const bool body_allowed = !is_head && status != 204 && status != 304;
  std::string_view head = down_head;
  // When the body (or its first part) has already arrived, head and body leave in one
  // write; otherwise the head goes first, so a slow stream starts at once.
  if (!rp->is_done() && conn->buffer.size() == 0) {
    stream_.expires_after(opt.write_timeout);
    auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(down_head), use_nothrow);
    if (wec) co_return false;
    head = {};
  }
  RelayResult r = co_await relay_body(conn->stream, conn->buffer, *rp, stream_, head,
                                      OutFraming{body_allowed && res.chunked()}, relay(), opt.relay_buffer,
                                      bounded(read_timeout), opt.write_timeout);
  log().bytes_out = r.bytes;
  // Once the head is out, a broken upstream can only be told by closing the connection.
  if (r.failure != RelayFailure::None) co_return false;
  if (upstream_keep_alive && rp->is_done() && conn->buffer.size() == 0) {
    finished_at_ = Clock::now();  // the request's end too (finish_request)
    pool.release(*st, std::move(conn), finished_at_);
  }
  co_return keep;
}

}  // namespace gantry::proxy
