#include "session.h"

#include <charconv>

#include <boost/beast/http/string_body.hpp>

#include <cstdio>

#include "access_log.h"
#include "cors.h"
#include "exchange.h"
#include "h2_connection.h"
#include "request_rules.h"
#include "gantry/routing/route_matcher.h"

namespace gantry::proxy {
namespace {

// The answer to a failed read of the head; nullopt: the client went away, say nothing.
std::optional<ProxyError> read_error(const error_code& ec) {
  if (ec == http::error::end_of_stream || ec == asio::error::eof) return std::nullopt;
  if (ec == http::error::header_limit) return ProxyError::HeadersTooLarge;
  if (ec == beast::error::timeout) return ProxyError::RequestTimeout;
  if (ec == asio::error::operation_aborted || ec == asio::error::connection_reset) return std::nullopt;
  return ProxyError::BadRequest;
}

}  // namespace

Session::Session(Worker& worker, Socket socket, std::string listener, ListenerStats* stats)
    : worker_(worker), stream_(std::move(socket)), listener_(std::move(listener)), listener_stats_(stats) {
  error_code ec;
  auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec) {
    client_ip_ = remote.address().to_string();
    if (remote.address().is_v4()) {
      auto b = remote.address().to_v4().to_bytes();
      std::copy(b.begin(), b.end(), client_addr_.begin());
      client_addr_len_ = 4;
    } else {
      client_addr_ = remote.address().to_v6().to_bytes();
      client_addr_len_ = 16;
    }
  }
  worker_.add_session(this);
  listener_stats_->accepted.add();
}

namespace {
// Each worker thread's spare request states: a connection takes one for a request and
// gives it back when idle, so only connections mid-request hold one. The pool is the
// thread's, so no lock; it keeps a few, as many as are busy at once in the common case.
thread_local std::vector<std::unique_ptr<RequestState>> spare_states;
constexpr size_t kSpareStates = 64;
}  // namespace

RequestState& Session::take_state() {
  if (spare_states.empty()) {
    st_ = std::make_unique<RequestState>();
  } else {
    st_ = std::move(spare_states.back());
    spare_states.pop_back();
  }
  return *st_;
}

void Session::release_state() {
  if (!st_) return;
  st_->parser.reset();
  st_->log.active = false;
  if (spare_states.size() < kSpareStates) spare_states.push_back(std::move(st_));
  st_.reset();
}

Session::~Session() {
  release_state();
  listener_stats_->closed.add();
  worker_.remove_session(this);
  if (relay_) worker_.give_relay_buffer(std::move(relay_));
}

void Session::cancel_if_idle() {
  // HTTP/2 with streams open: GOAWAY now, so the client opens no more; the connection
  // ends when they are done.
  if (h2_ && !idle_) h2_begin_shutdown(*h2_);
  else if (idle_) stream_.cancel();
}

char* Session::relay() {
  if (!relay_) relay_ = worker_.take_relay_buffer();
  return relay_.get();
}

awaitable<bool> Session::handshake() {
  PinnedPtr pinned = worker_.pinned();  // held through the handshake: the SNI callback reads it
  if (!pinned) co_return true;
  const routing::Listener* listener = find_listener(*pinned->snapshot, listener_);
  if (!listener || !listener->tls) co_return true;
  SSL* ssl = pinned->tls ? pinned->tls->new_connection(listener - pinned->snapshot->listeners->data()) : nullptr;
  if (!ssl) co_return false;  // no usable certificate (logged when the snapshot was published)
  stream_.start_tls(ssl);
  // A client that connects and never finishes the handshake is cut off like a slow header.
  stream_.expires_after(worker_.options().header_timeout);
  auto [ec] = co_await stream_.tls().async_handshake(asio::ssl::stream_base::server, use_nothrow);
  listener_stats_->tls_handshakes.add();
  if (ec) {
    listener_stats_->tls_failures.add();
    co_return false;
  }
  char sni_buf[256];
  sni_ = routing::normalize_host(stream_.server_name(), sni_buf, sizeof sni_buf);
  co_return true;
}

awaitable<void> Session::run() {
  auto self = shared_from_this();
  bool ok = true;
  if (!started_) {
    started_ = true;
    if (co_await maybe_pass_through()) {
      close_plain();
      co_return;
    }
    ok = co_await handshake();
  }
  if (ok && stream_.is_tls() && alpn_h2()) {
    co_await serve_h2(*this);
  } else if (ok) {
    for (;;) {
      // Between requests a connection holds no coroutine frame at all: a readable socket
      // starts run() again. TLS bytes OpenSSL already holds are read without a wait.
      if (st_) st_->parser.reset();
      if (buffer_.size() == 0) {
        if (!readable_ && !stream_.tls_pending()) {
          wait_readable();
          co_return;
        }
        readable_ = false;
        if (!co_await await_request()) break;
      }
      if (first_ && !stream_.is_tls()) {
        const bool h2c = co_await h2c_preface();
        if (h2c) {
          first_ = false;
          co_await serve_h2(*this);
          break;
        }
      }
      const bool more = co_await serve_one();
      finish_request();
      if (!more || closing()) break;
    }
  }
  if (stream_.is_tls()) {
    // close_notify, so clients can tell the end from a truncation; a peer that does not
    // answer it holds the connection no longer than this.
    stream_.expires_after(std::chrono::milliseconds(500));
    co_await stream_.tls().async_shutdown(use_nothrow);
  }
  close_plain();
}

bool Session::alpn_h2() {
  const unsigned char* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(stream_.tls().native_handle(), &proto, &len);
  return len == 2 && proto[0] == 'h' && proto[1] == '2';
}

awaitable<bool> Session::h2c_preface() {
  const auto deadline = Clock::now() + worker_.options().header_timeout;
  for (;;) {
    const std::string_view got(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    const size_t n = std::min(got.size(), kH2Preface.size());
    if (got.substr(0, n) != kH2Preface.substr(0, n)) co_return false;
    if (n == kH2Preface.size()) co_return true;
    // A prefix of the preface so far: the rest decides (an HTTP/1.1 request never starts "PRI * HTTP/2.0").
    arm(deadline);
    auto [ec, r] = co_await stream_.async_read_some(buffer_.prepare(4096), use_nothrow);
    disarm();
    if (ec) co_return false;  // serve_one sees the same end
    buffer_.commit(r);
  }
}

void Session::close_plain() {
  error_code ec;
  stream_.socket().shutdown(Socket::shutdown_send, ec);
  stream_.close();
}

void Session::begin_idle() {
  // The relay buffer and the request state go back to their pools: an idle connection
  // holds neither.
  if (relay_) worker_.give_relay_buffer(std::move(relay_));
  release_state();
  idle_ = true;
  const ProxyOptions& opt = worker_.options();
  const Clock::time_point from = finished_at_ == Clock::time_point{} ? Clock::now() : finished_at_;
  finished_at_ = {};
  arm(from + (first_ ? opt.header_timeout : opt.idle_timeout));
}

void Session::wait_readable() {
  begin_idle();
  buffer_.shrink_to_fit();  // and no read buffer: the wait needs none
  stream_.socket().async_wait(Socket::wait_read, [self = shared_from_this()](const error_code& ec) {
    self->idle_ = false;
    if (ec) {  // cancelled: the idle deadline, a drain, the listener's removal
      self->disarm();
      self->close_plain();
      return;
    }
    self->readable_ = true;
    asio::co_spawn(self->worker_.ioc(), self->run(), asio::detached);
  });
}

awaitable<bool> Session::send_error(ProxyError error, std::string_view detail) {
  unsigned status = status_of(error);
  const bool grpc = parser() && parser()->is_header_done() &&
                    is_grpc_content_type(parser()->get()[http::field::content_type]);
  http::response<http::string_body> res{static_cast<http::status>(grpc ? 200 : status), 11};
  res.set(http::field::server, "gantry");
  std::string body;
  if (grpc) {
    res.set(http::field::content_type, "application/grpc");
    res.set("grpc-status", std::to_string(grpc_status_of(error)));
    res.set("grpc-message", grpc_message(error, detail));
  } else {
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    body = error_body(error, detail);
  }
  // A head that never parsed is still a request answered.
  if (!log().active) log().begin(Clock::now(), worker_.access_log_on());
  log().status = status;
  log().bytes_out = body.size();
  res.body() = std::move(body);
  // A malformed request leaves the stream in an unknown state, and a request whose body
  // was not read cannot share the connection with the next one.
  bool keep = error != ProxyError::BadRequest && parser() && parser()->is_header_done() && parser()->is_done() &&
              parser()->get().keep_alive() && !closing();
  if (parser() && parser()->is_header_done()) res.version(parser()->get().version());
  res.keep_alive(keep);
  res.prepare_payload();
  if (parser() && parser()->is_header_done() && parser()->get().method() == http::verb::head) res.body().clear();
  stream_.expires_after(worker_.options().write_timeout);
  auto [ec, n] = co_await http::async_write(stream_, res, use_nothrow);
  co_return keep && !ec;
}

awaitable<bool> Session::await_request() {
  begin_idle();
  auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), use_nothrow);
  idle_ = false;
  disarm();
  if (ec) co_return false;
  buffer_.commit(n);
  co_return true;
}

ExchangePlan Session::plan_request(Request& req, RequestLog& log, const PinnedSnapshot* pinned, char (&host_buf)[256],
                                   std::string_view& host) {
  const bool logging = worker_.access_log_on();
  // x-request-id: the client's, else one made here; either way it goes upstream and into
  // the access log.
  if (auto id = req.find("x-request-id"); id != req.end()) {
    if (logging) log.request_id = id->value();
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    char buf[32];
    for (int half = 0; half < 2; ++half) {
      uint64_t r = worker_.random();
      for (int i = 0; i < 16; ++i, r >>= 4) buf[half * 16 + i] = kHex[r & 15];
    }
    const std::string_view made(buf, 32);
    req.set("x-request-id", made);
    if (logging) log.request_id = made;
  }
  const routing::Snapshot* snap = pinned ? pinned->snapshot.get() : nullptr;
  const routing::Listener* listener = snap ? find_listener(*snap, listener_) : nullptr;
  auto host_field = req.find(http::field::host);
  host = routing::normalize_host(host_field == req.end() ? std::string_view{} : std::string_view(host_field->value()),
                                 host_buf, sizeof host_buf);
  ExchangeRequest ask;
  ask.host = host;
  ask.sni = sni_;
  ask.view.method = req.method_string();
  routing::split_target(req.target(), ask.view.path, ask.view.query);
  ask.view.headers = static_cast<const Fields*>(&req);
  ask.view.header = &find_field;
  ask.client_addr = client_addr_.data();
  ask.client_addr_len = client_addr_len_;
  const uint64_t pick_draw = worker_.random(), canary_draw = worker_.random();
  ExchangePlan plan = plan_exchange(snap, listener, ask, pick_draw, canary_draw);
  if (plan.route) {
    log.route_stats = worker_.stats().route(*plan.route);
    if (logging) log.route = log.route_stats->name;  // "namespace/name/rule"
  }
  if (plan.cluster) {
    if (logging) log.backend = plan.cluster->name;
    log.backend_stats = worker_.stats().backend(*snap, plan.cluster_index);
  }
  return plan;
}

awaitable<bool> Session::serve_one() {
  const ProxyOptions& opt = worker_.options();
  first_ = false;

  parser().reset();  // its fields go with the arena's reset
  state().arena.reset();
  emplace_parser(parser(), state().arena);
  parser()->header_limit(static_cast<uint32_t>(opt.header_limit));
  parser()->body_limit(boost::none);
  const auto started = Clock::now();
  finished_at_ = {};  // a pipelined request's predecessor set it
  const auto head_deadline = started + opt.header_timeout;
  // The head is read whole before it is parsed so that its raw lines can be checked: the
  // parser would join an obs-fold into one value without a word.
  for (size_t scanned = 0;; ) {
    std::string_view bytes(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    if (size_t end = head_end(bytes, scanned); end != std::string_view::npos) {
      if (has_folded_line(bytes.substr(0, end)))
        co_return (co_await send_error(ProxyError::BadRequest, "a header line starts with whitespace (obs-fold)"), false);
      break;
    }
    if (buffer_.size() > opt.header_limit) break;  // the parser answers 431
    scanned = bytes.size() < 2 ? 0 : bytes.size() - 2;  // an end may straddle this read
    // A half-received head is not a request being served: a drain closes it at once.
    if (closing()) co_return false;
    idle_ = true;
    arm(head_deadline);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), use_nothrow);
    idle_ = false;
    disarm();
    if (ec) {
      if (auto error = read_error(ec)) co_await send_error(*error, {});
      co_return false;
    }
    buffer_.commit(n);
  }
  // The whole head, read or parsed, within --header-timeout of its first byte.
  arm(head_deadline);
  auto [ec, n] = co_await http::async_read_header(stream_, buffer_, *parser(), use_nothrow);
  if (ec) {
    // A named string: GCC 12 frees a temporary in a co_await expression twice.
    const std::string detail = ec.message();
    if (auto error = read_error(ec)) co_await send_error(*error, *error == ProxyError::BadRequest ? detail : std::string_view{});
    co_return false;
  }
  worker_.counters().requests.add();

  Request& req = parser()->get();
  // The access log's strings are copied only when there is an access log.
  const bool logging = worker_.access_log_on();
  log().begin(started, logging);
  if (logging) {
    log().method = req.method_string();
    log().path = req.target();  // as the client sent it ($request_uri)
  }
  if (auto refused = check_head(req, RequestLimits{opt.max_headers, opt.max_target})) {
    // A head whose framing cannot be trusted leaves the connection unusable: closed.
    co_await send_error(refused->error, refused->detail);
    co_return false;
  }
  if (!take_absolute_form(req))
    co_return (co_await send_error(ProxyError::BadRequest, "an absolute-form target must be an http(s) URI with a host"), false);
  if (opt.normalize_paths) {
    if (!normalize_target(req.target(), opt.merge_slashes, state().scratch))
      co_return co_await send_error(ProxyError::BadRequest, "the path climbs above the root or is not a valid path");
    if (!state().scratch.empty()) req.target(state().scratch);
  }
  auto host_field = req.find(http::field::host);
  if (logging && host_field != req.end()) log().authority = host_field->value();
  if (host_field == req.end() && req.version() >= 11)
    co_return co_await send_error(ProxyError::BadRequest, "HTTP/1.1 request without Host");
  // The snapshot is pinned for the whole request: a reload never changes a decision midway.
  PinnedPtr pinned = worker_.pinned();
  char host_buf[256];
  std::string_view host;
  const ExchangePlan plan = plan_request(req, log(), pinned.get(), host_buf, host);
  switch (plan.answer) {
    case Answer::Error:
      co_return co_await send_error(plan.error, plan.detail);
    case Answer::Preflight: {
      auto res = cors_preflight_response(*plan.route->filters.cors, req);
      bool keep = parser()->is_done() && req.keep_alive() && !closing();
      res.keep_alive(keep);
      log().status = res.result_int();
      stream_.expires_after(worker_.options().write_timeout);
      auto [wec, wn] = co_await http::async_write(stream_, res, use_nothrow);
      co_return keep && !wec;
    }
    case Answer::Redirect:
      co_return co_await send_redirect(*plan.redirect, *plan.route, plan.scope->port, host);
    case Answer::Forward:
      break;
  }
  if (auto refused = refuse_body(*plan.route)) co_return co_await send_error(*refused, {});
  const routing::Endpoint& endpoint = worker_.upstreams().choose(*plan.cluster, worker_.next_endpoint(plan.cluster_index));
  co_return co_await forward(endpoint, Plan{plan.route, plan.backend_filters, plan.cluster, plan.cluster_index,
                                           log().backend_stats});
}

void Session::finish_request() {
  if (!st_ || !st_->log.active) return;
  if (finished_at_ == Clock::time_point{}) finished_at_ = Clock::now();
  account(log(), finished_at_);
}

void Session::account(RequestLog& log, Clock::time_point finished) {
  log.active = false;
  if (log.status) worker_.counters().count_response(log.status);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(finished - log.start).count();
  if (RouteStats* r = log.route_stats) {
    if (log.status) count_class(worker_.stats().responses(*r, log.backend_stats).responses, log.status);
    r->duration.observe_us(static_cast<uint64_t>(us));
    if (log.upstream_us >= 0) r->upstream.observe_us(static_cast<uint64_t>(log.upstream_us));
    r->bytes_in.add(log.bytes_in);
    r->bytes_out.add(log.bytes_out);
    if (log.retries) r->retries.add(log.retries);
  }
  if (worker_.access_log_on()) log_request(log, us);
}

namespace {
// Numbers without a locale, a format string or a temporary: this runs once per request.
void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}
// Microseconds as milliseconds with three decimals.
void append_ms(std::string& out, int64_t us) {
  if (us < 0) us = 0;
  append_uint(out, static_cast<uint64_t>(us / 1000));
  char frac[4] = {'.', static_cast<char>('0' + us / 100 % 10), static_cast<char>('0' + us / 10 % 10),
                  static_cast<char>('0' + us % 10)};
  out.append(frac, 4);
}
}  // namespace

void Session::log_request(const RequestLog& log, int64_t duration_us) {
  std::string& out = worker_.log_batch();
  auto field = [&](const char* name, std::string_view value) {
    out += name;
    if (value.empty()) {
      out += "null";
      return;
    }
    out += '"';
    append_json_escaped(out, value);
    out += '"';
  };
  out += "{\"time\":\"";
  worker_.append_time(out, log.at);
  out += '"';
  field(",\"method\":", log.method);
  field(",\"authority\":", log.authority);
  field(",\"path\":", log.path);
  out += ",\"status\":";
  append_uint(out, log.status);
  out += ",\"bytes_in\":";
  append_uint(out, log.bytes_in);
  out += ",\"bytes_out\":";
  append_uint(out, log.bytes_out);
  out += ",\"duration_ms\":";
  append_ms(out, duration_us);
  field(",\"upstream\":", log.upstream);
  out += ",\"upstream_ms\":";
  if (log.upstream_us < 0) out += "null";
  else append_ms(out, log.upstream_us);
  field(",\"route\":", log.route);
  field(",\"backend\":", log.backend);
  out += ",\"retries\":";
  append_uint(out, log.retries);
  field(",\"request_id\":", log.request_id);
  out += "}\n";
  worker_.log_line_done();
}

std::optional<ProxyError> Session::refuse_body(const routing::Route& route) {
  // The route's own limit (ingress-nginx proxy-body-size), else --max-body-size.
  const uint64_t limit = route.body_limit ? route.body_limit : worker_.options().max_body_size;
  if (limit && !parser()->is_done()) {
    // A declared length over the limit is refused before a byte of it is read; a chunked
    // body is cut off by the parser when it passes the limit (forward answers 413).
    if (auto n = parser()->content_length(); n && *n > limit) return ProxyError::PayloadTooLarge;
    parser()->body_limit(limit);
  }
  return std::nullopt;
}

awaitable<bool> Session::send_redirect(const routing::Redirect& redirect, const routing::Route& route,
                                       uint16_t listener_port, std::string_view host) {
  Request& req = parser()->get();
  std::string_view path, query;
  routing::split_target(req.target(), path, query);
  std::string_view prefix = route.match.path.type == routing::PathMatchType::PathPrefix
                                ? std::string_view(route.match.path.value)
                                : std::string_view{};
  http::response<http::empty_body> res{static_cast<http::status>(redirect.status), req.version()};
  res.set(http::field::location,
          routing::redirect_location(redirect, stream_.is_tls() ? "https" : "http", host, listener_port, prefix, path, query));
  res.set(http::field::server, "gantry");
  res.content_length(0);
  bool keep = parser()->is_done() && req.keep_alive() && !closing();
  res.keep_alive(keep);
  log().status = redirect.status;
  stream_.expires_after(worker_.options().write_timeout);
  auto [ec, n] = co_await http::async_write(stream_, res, use_nothrow);
  co_return keep && !ec;
}

}  // namespace gantry::proxy
