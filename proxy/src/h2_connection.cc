#include "h2_connection.h"

#include <nghttp2/nghttp2.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <charconv>
#include <cstring>
#include <unordered_map>

#include "cors.h"
#include "dial.h"
#include "exchange.h"
#include "h2_translate.h"
#include "h2_upstream.h"
#include "head_writer.h"
#include "header_rewrite.h"
#include "relay.h"
#include "request_rules.h"
#include "retry_budget.h"
#include "session.h"
#include "upstream_timeouts.h"

namespace gantry::proxy {
namespace {

constexpr uint32_t kMaxConcurrentStreams = 100;
constexpr int32_t kStreamWindow = 256 * 1024;  // request body bytes a stream may send ahead
constexpr int32_t kConnectionWindow = 1 << 20;
constexpr size_t kResponseHighWater = 64 * 1024;  // response bytes queued per stream before the upstream read waits
constexpr size_t kWriteBatch = 64 * 1024;

void lowercase(std::string& s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
}

nghttp2_nv nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

// One request and its response on the connection.
struct H2Stream {
  using Field = std::pair<std::string_view, std::string_view>;
  explicit H2Stream(int32_t stream_id, asio::io_context& ioc)
      : id(stream_id), fields(ArenaAllocator<Field>(&arena)), wake(ioc.get_executor()) {
    fields.reserve(24);
  }
  int32_t id;
  // The request as it arrived, its bytes in `arena` (no malloc per field).
  HeaderArena arena;  // these, and the upstream request's and response's fields
  std::string_view method, scheme, authority, path;
  std::vector<Field, ArenaAllocator<Field>> fields;
  std::string_view keep(std::string_view v) {
    if (v.empty()) return {};
    char* p = static_cast<char*>(arena.allocate(v.size(), 1));
    std::memcpy(p, v.data(), v.size());
    return {p, v.size()};
  }
  size_t header_bytes = 0;
  bool too_large = false;   // past --header-limit (or --max-headers): 431
  bool ended = false;       // END_STREAM from the client: the body is whole
  bool bodyless = false;    // END_STREAM on the request's HEADERS: no body at all
  bool grpc = false;        // content-type application/grpc: errors as grpc-status
  bool done = false;        // the exchange is over: body bytes still arriving are dropped
  bool closed = false;      // nghttp2 closed the stream (done, or reset by either side)
  std::string body;         // request bytes received and not yet sent upstream
  H2Outbox out;             // the response's body and trailers, for nghttp2's DATA frames
  Timer wake;               // the stream's coroutine waits here for body bytes or room
  UpstreamConnection* upstream = nullptr;  // cancelled when the client resets the stream
  H2Call* call = nullptr;   // an HTTP/2 backend's stream: woken with the stream's news
  H2FieldList trailers;     // the request's, passed on to an HTTP/2 backend
  RequestLog log;
  void notify() {
    wake.cancel();
    if (call) call->notify();
  }
};

class H2Connection : public std::enable_shared_from_this<H2Connection> {
 public:
  explicit H2Connection(std::shared_ptr<Session> session)
      : session_(std::move(session)), s_(*session_), done_(s_.worker_.ioc().get_executor()) {}
  ~H2Connection() {
    if (ng_) nghttp2_session_del(ng_);
  }

  awaitable<void> run();
  void begin_shutdown() {
    if (goaway_ || broken_ || !ng_) return;
    // Graceful: streams up to the last one seen finish, new ones are refused.
    goaway_ = true;
    nghttp2_submit_goaway(ng_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(ng_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
    kick();
  }

 private:
  using StreamPtr = std::shared_ptr<H2Stream>;

  bool start();
  void kick();
  awaitable<void> flush(std::shared_ptr<H2Connection> self);
  void rearm();
  bool finished() const { return streams_.empty() && active_ == 0 && !writing_; }
  void maybe_wake_reader();
  awaitable<void> serve(StreamPtr st, std::shared_ptr<H2Connection> self);
  awaitable<void> forward(H2Stream& st, Request& req, const ExchangePlan& plan, bool has_body);
  // To a backend that speaks HTTP/2: both directions at once on one upstream stream.
  // A stream's RequestMirror copies and its body's tap, launched when the body has passed.
  struct Mirrors {
    std::vector<Session::MirrorCopy> copies;
    std::optional<BodyTap> tap;
    void take(Session& s, const char* data, size_t n, bool last) {
      if (copies.empty() || !tap) return;
      if (n) tap->take(data, n);
      if (last) s.launch_mirrors(copies, &*tap);
    }
  };
  awaitable<void> forward_h2(H2Stream& st, Request& req, const ExchangePlan& plan, const routing::Endpoint& ep,
                             std::string_view sni, const UpstreamTimeouts& limits, bool has_body,
                             std::string_view origin, Mirrors& mirrors);
  // The response head as HTTP/2 fields: names lowercased, no connection-specific ones.
  void submit_head(H2Stream& st, const Response& res, bool with_body);
  // Waits until the stream's coroutine is notified (bytes, room, a reset).
  awaitable<void> wait(H2Stream& st);
  // The same, or until `deadline`: false then.
  awaitable<bool> wait(H2Stream& st, Clock::time_point deadline);
  // Takes one retry of `retries` and sleeps its backoff; false when none is left (or the
  // client reset the stream meanwhile).
  awaitable<bool> retry_after(H2Stream& st, RetryBudget& retries);
  void respond(H2Stream& st, unsigned status, std::vector<nghttp2_nv> fields, std::string body);
  void respond_error(H2Stream& st, ProxyError error, std::string_view detail);
  void reset(H2Stream& st, uint32_t code);
  void consume(H2Stream& st, size_t n);
  void queue_body(H2Stream& st, const char* data, size_t n, bool last);
  H2Stream* stream_of(int32_t id);
  // The reset bucket: kResetBurst resets at once, then kResetsPerSecond.
  bool take_reset_token() {
    const auto now = Clock::now();
    reset_tokens_ = std::min<double>(kResetBurst, reset_tokens_ + std::chrono::duration<double>(now - reset_at_).count() *
                                                                     kResetsPerSecond);
    reset_at_ = now;
    if (reset_tokens_ < 1) return false;
    reset_tokens_ -= 1;
    return true;
  }
  static constexpr double kResetBurst = 200, kResetsPerSecond = 50;
  double reset_tokens_ = kResetBurst;
  Clock::time_point reset_at_ = Clock::now();

  // nghttp2's callbacks; user_data is the connection.
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t flags, void* user);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_data_chunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data, size_t len,
                           void* user);
  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user);
  static ssize_t read_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void* user);

  std::shared_ptr<Session> session_;
  Session& s_;
  nghttp2_session* ng_ = nullptr;
  std::unordered_map<int32_t, StreamPtr> streams_;
  size_t active_ = 0;  // stream coroutines still running
  bool writing_ = false;
  bool broken_ = false;  // a write failed or the framing did: no more bytes either way
  bool goaway_ = false;  // a drain's GOAWAY went out
  std::string wbuf_;
  std::vector<nghttp2_nv> nv_scratch_;  // submit_head's field list
  Timer done_;  // the reader, once it stopped reading, waits here for the streams
  Clock::time_point last_active_ = Clock::now();
};

H2Stream* H2Connection::stream_of(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

int H2Connection::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* c = static_cast<H2Connection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  c->streams_.emplace(frame->hd.stream_id, std::make_shared<H2Stream>(frame->hd.stream_id, c->s_.worker_.ioc()));
  return 0;
}

int H2Connection::on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                            const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  auto* c = static_cast<H2Connection*>(user);
  H2Stream* st = c->stream_of(frame->hd.stream_id);
  if (!st || frame->hd.type != NGHTTP2_HEADERS) return 0;
  const ProxyOptions& opt = c->s_.worker_.options();
  st->header_bytes += namelen + valuelen + 32;  // RFC 9113 section 6.5.2's accounting
  // Far past the limit is not a large request but an attack on the decoder: the connection goes.
  if (st->header_bytes > 4 * opt.header_limit) return NGHTTP2_ERR_CALLBACK_FAILURE;
  if (st->too_large) return 0;
  if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) {  // trailers: for an HTTP/2 backend
    if (st->header_bytes <= opt.header_limit && namelen && name[0] != ':')
      st->trailers.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                                std::string(reinterpret_cast<const char*>(value), valuelen));
    return 0;
  }
  if (st->header_bytes > opt.header_limit || st->fields.size() >= opt.max_headers) {
    st->too_large = true;
    return 0;
  }
  std::string_view n(reinterpret_cast<const char*>(name), namelen), v(reinterpret_cast<const char*>(value), valuelen);
  if (n == ":method") st->method = st->keep(v);
  else if (n == ":scheme") st->scheme = st->keep(v);
  else if (n == ":authority") st->authority = st->keep(v);
  else if (n == ":path") st->path = st->keep(v);
  else if (n.empty() || n[0] != ':') {
    if (n == "content-type" && is_grpc_content_type(v)) st->grpc = true;
    st->fields.emplace_back(st->keep(n), st->keep(v));
  }
  return 0;
}

int H2Connection::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* c = static_cast<H2Connection*>(user);
  H2Stream* st = c->stream_of(frame->hd.stream_id);
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
      if (!st) return 0;
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) st->ended = true;
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        st->bodyless = st->ended;
        ++c->active_;
        asio::co_spawn(c->s_.worker_.ioc(), c->serve(c->streams_[st->id], c->shared_from_this()), asio::detached);
      } else {
        st->notify();  // trailers end the body
      }
      return 0;
    case NGHTTP2_DATA:
      if (st && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        st->ended = true;
        st->notify();
      }
      return 0;
    case NGHTTP2_RST_STREAM:
      // Rapid reset (CVE-2023-44487): a client that opens and cancels streams faster than
      // the bucket refills is not browsing; it is made to stop.
      if (!c->take_reset_token()) nghttp2_session_terminate_session(c->ng_, NGHTTP2_ENHANCE_YOUR_CALM);
      return 0;
    default:
      return 0;
  }
}

int H2Connection::on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                                void* user) {
  auto* c = static_cast<H2Connection*>(user);
  H2Stream* st = c->stream_of(stream_id);
  if (!st || st->done) {
    // Bytes no exchange will take still count against the windows: given back at once.
    if (st) nghttp2_session_consume(c->ng_, stream_id, len);
    else nghttp2_session_consume_connection(c->ng_, len);
    return 0;
  }
  st->body.append(reinterpret_cast<const char*>(data), len);
  st->notify();
  return 0;
}

int H2Connection::on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
  auto* c = static_cast<H2Connection*>(user);
  auto it = c->streams_.find(stream_id);
  if (it == c->streams_.end()) return 0;
  H2Stream& st = *it->second;
  st.closed = true;
  // A reset stream's upstream exchange ends now: nobody is left to read its answer.
  if (st.upstream) st.upstream->stream.cancel();
  st.notify();
  c->streams_.erase(it);  // its coroutine holds its own reference
  return 0;
}

ssize_t H2Connection::read_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length, uint32_t* flags,
                                nghttp2_data_source*, void* user) {
  auto* c = static_cast<H2Connection*>(user);
  H2Stream* st = c->stream_of(stream_id);
  if (!st) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const ssize_t n = st->out.read(c->ng_, stream_id, buf, length, flags);
  if (n >= 0 && st->out.queued() < kResponseHighWater) st->notify();  // room for the upstream's next bytes
  return n;
}

bool H2Connection::start() {
  nghttp2_session_callbacks* cbs;
  if (nghttp2_session_callbacks_new(&cbs) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
  nghttp2_option* opt;
  nghttp2_option_new(&opt);
  // The window is given back as body bytes go upstream, so a slow backend slows the client
  // instead of filling memory.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  // Rapid reset (CVE-2023-44487): the connection's own bucket (take_reset_token) answers
  // with ENHANCE_YOUR_CALM; nghttp2's, twice as large, is a backstop.
  nghttp2_option_set_stream_reset_rate_limit(opt, 2 * static_cast<uint64_t>(kResetBurst), 2 * static_cast<uint64_t>(kResetsPerSecond));
  // CONTINUATION flood (CVE-2024-27316): a header block in at most this many frames.
  nghttp2_option_set_max_continuations(opt, 16);
  // SETTINGS flood: entries in one frame; unanswered SETTINGS and PING acks are capped by
  // nghttp2 (max_outbound_ack, 1000) and a flood ends the connection.
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  const int rv = nghttp2_session_server_new2(&ng_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) return false;
  // No SETTINGS_MAX_HEADER_LIST_SIZE: nghttp2 would refuse a larger list with
  // REFUSED_STREAM, which clients retry (curl five times); over the limit is 431 instead.
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
  };
  nghttp2_submit_settings(ng_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(ng_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  return true;
}

void H2Connection::rearm() {
  const ProxyOptions& opt = s_.worker_.options();
  if (writing_) return;  // the write's own deadline holds
  if (streams_.empty() && active_ == 0) s_.arm(last_active_ + opt.idle_timeout);
  else s_.disarm();  // each stream's upstream has its own deadlines
}

void H2Connection::kick() {
  if (writing_ || broken_ || !ng_ || !nghttp2_session_want_write(ng_)) return;
  writing_ = true;
  asio::co_spawn(s_.worker_.ioc(), flush(shared_from_this()), asio::detached);
}

awaitable<void> H2Connection::flush(std::shared_ptr<H2Connection> self) {
  const ProxyOptions& opt = s_.worker_.options();
  // After what runs now (co_spawn would start it inline, inside nghttp2's receive
  // callbacks): the frames of every stream answered meanwhile go in one write.
  co_await asio::post(s_.worker_.ioc().get_executor(), use_nothrow);
  for (; !broken_;) {
    wbuf_.clear();
    while (wbuf_.size() < kWriteBatch) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(ng_, &data);
      if (n < 0) {
        broken_ = true;
        break;
      }
      if (n == 0) break;
      wbuf_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (wbuf_.empty()) break;
    s_.arm(Clock::now() + opt.write_timeout);
    auto [ec, n] = co_await asio::async_write(s_.stream_, asio::buffer(wbuf_), use_nothrow);
    if (ec) {
      broken_ = true;
      s_.stream_.cancel();  // the reader stops too
      break;
    }
  }
  writing_ = false;
  // A GOAWAY that ends the session (a flood, a protocol error) is out: nghttp2 wants no
  // more bytes, so the read still waiting for some is cut.
  if (!broken_ && !nghttp2_session_want_read(ng_) && !nghttp2_session_want_write(ng_)) s_.stream_.cancel();
  rearm();
  maybe_wake_reader();
}

void H2Connection::maybe_wake_reader() {
  // The reader waits for the streams after the client stopped sending (or a drain); the
  // last one to finish lets it end the connection.
  if (finished()) done_.cancel();
  // After a drain's GOAWAY the connection ends once its streams have: the read that waits
  // for more is cut short.
  if (goaway_ && finished()) s_.stream_.cancel();
  // A drain that found the connection busy: now that it is not, the reader sends GOAWAY.
  else if (!goaway_ && s_.closing() && finished()) s_.stream_.cancel();
}

awaitable<void> H2Connection::wait(H2Stream& st) {
  st.wake.expires_at(Clock::time_point::max());
  co_await st.wake.async_wait(use_nothrow);
}

awaitable<bool> H2Connection::wait(H2Stream& st, Clock::time_point deadline) {
  if (Clock::now() >= deadline) co_return false;
  st.wake.expires_at(deadline);
  auto [ec] = co_await st.wake.async_wait(use_nothrow);
  co_return ec == asio::error::operation_aborted || Clock::now() < deadline;
}

awaitable<bool> H2Connection::retry_after(H2Stream& st, RetryBudget& retries) {
  const std::optional<std::chrono::milliseconds> wait = retries.take(s_.worker_.random());
  if (!wait) co_return false;
  ++st.log.retries;
  if (wait->count() > 0) {
    Timer t(s_.worker_.ioc(), *wait);
    co_await t.async_wait(use_nothrow);
  }
  co_return !st.closed;
}

void H2Connection::consume(H2Stream& st, size_t n) {
  if (n == 0 || broken_) return;
  if (st.closed) nghttp2_session_consume_connection(ng_, n);
  else nghttp2_session_consume(ng_, st.id, n);
  kick();
}

void H2Connection::reset(H2Stream& st, uint32_t code) {
  if (st.closed || broken_) return;
  nghttp2_submit_rst_stream(ng_, NGHTTP2_FLAG_NONE, st.id, code);
  kick();
}

void H2Connection::respond(H2Stream& st, unsigned status, std::vector<nghttp2_nv> fields, std::string body) {
  st.log.status = status;
  if (st.closed || broken_) return;
  char code[4];
  std::snprintf(code, sizeof code, "%03u", status);
  fields.insert(fields.begin(), nv(":status", std::string_view(code, 3)));
  const bool head = st.method == "HEAD";
  st.log.bytes_out = head ? 0 : body.size();
  if (body.empty() || head) {
    nghttp2_submit_response(ng_, st.id, fields.data(), fields.size(), nullptr);
  } else {
    st.out.data = std::move(body);
    st.out.at = 0;
    st.out.done = true;
    nghttp2_data_provider provider{};
    provider.read_callback = read_body;
    nghttp2_submit_response(ng_, st.id, fields.data(), fields.size(), &provider);
  }
  kick();
}

void H2Connection::respond_error(H2Stream& st, ProxyError error, std::string_view detail) {
  if (st.grpc) {
    // Trailers-only: one HEADERS frame with the status, ending the stream.
    const std::string code = std::to_string(grpc_status_of(error)), message = grpc_message(error, detail);
    respond(st, 200, {nv("content-type", "application/grpc"), nv("grpc-status", code), nv("grpc-message", message)}, {});
    return;
  }
  std::string body = error_body(error, detail);
  char length[24];
  std::snprintf(length, sizeof length, "%zu", body.size());
  respond(st, status_of(error),
          {nv("server", "gantry"), nv("content-type", "text/plain; charset=utf-8"), nv("content-length", length)},
          std::move(body));
}

void H2Connection::queue_body(H2Stream& st, const char* data, size_t n, bool last) {
  if (st.closed || broken_) return;
  st.out.data.append(data, n);
  st.log.bytes_out += n;
  if (last) st.out.done = true;
  if (st.out.deferred) {
    st.out.deferred = false;
    nghttp2_session_resume_data(ng_, st.id);
  }
  kick();
}

awaitable<void> H2Connection::run() {
  if (!start()) co_return;
  s_.h2_ = this;
  struct Detach {
    Session& s;
    ~Detach() { s.h2_ = nullptr; }
  } detach{s_};
  // What the session read before it knew this was HTTP/2 (the preface, for h2c).
  bool refused = false;  // no more reading: the GOAWAY the writer sends is the last word
  {
    auto data = s_.buffer_.data();
    const ssize_t rv = nghttp2_session_mem_recv(ng_, static_cast<const uint8_t*>(data.data()), data.size());
    s_.buffer_.consume(s_.buffer_.size());
    if (rv < 0) {
      nghttp2_session_terminate_session(
          ng_, rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS ? NGHTTP2_ENHANCE_YOUR_CALM
                                                                                 : NGHTTP2_PROTOCOL_ERROR);
      refused = true;
    }
  }
  kick();
  std::array<char, 16 * 1024> in;
  // Reading ends when nghttp2 wants no more (a GOAWAY either way); what it still has to
  // send, the writer sends below.
  while (!refused && !broken_ && nghttp2_session_want_read(ng_)) {
    if (s_.closing() && !goaway_) {
      begin_shutdown();
      if (finished()) break;
    }
    rearm();
    s_.idle_ = streams_.empty() && active_ == 0;  // a drain may end an idle connection at once
    auto [ec, n] = co_await s_.stream_.async_read_some(asio::buffer(in), use_nothrow);
    s_.idle_ = false;
    if (ec) {
      // A drain's cancel of an idle connection, or of one whose streams are done after GOAWAY.
      if (ec == asio::error::operation_aborted && s_.closing() && !goaway_) continue;
      break;
    }
    last_active_ = Clock::now();
    const ssize_t rv = nghttp2_session_mem_recv(ng_, reinterpret_cast<const uint8_t*>(in.data()), n);
    if (rv < 0) {
      // A protocol error or a flood: GOAWAY (nghttp2 may have queued one already), then the end.
      nghttp2_session_terminate_session(
          ng_, rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS ? NGHTTP2_ENHANCE_YOUR_CALM
                                                                                 : NGHTTP2_PROTOCOL_ERROR);
      kick();
      break;
    }
    kick();
  }
  // No more requests: streams still running end with their upstreams cut, and the
  // writer sends what it holds (a GOAWAY, a last response).
  for (auto& [id, st] : streams_) {
    st->closed = true;
    if (st->upstream) st->upstream->stream.cancel();
    st->notify();
  }
  streams_.clear();
  kick();
  while (!finished()) {
    done_.expires_at(Clock::time_point::max());
    co_await done_.async_wait(use_nothrow);
  }
}

awaitable<void> H2Connection::serve(StreamPtr stp, std::shared_ptr<H2Connection> self) {
  H2Stream& st = *stp;
  const ProxyOptions& opt = s_.worker_.options();
  const bool logging = s_.worker_.access_log_on();
  if (st.closed) {  // reset before its turn came
    --active_;
    maybe_wake_reader();
    co_return;
  }
  st.log.begin(Clock::now(), logging);
  s_.worker_.counters().requests.add();
  if (logging) {
    st.log.method = st.method;
    st.log.path = st.path;
    st.log.authority = st.authority;
  }
  Request req(std::piecewise_construct, std::make_tuple(), std::make_tuple(ArenaAllocator<char>(&st.arena)));
  std::string target;
  const bool has_body = !st.bodyless;
  if (st.too_large) {
    respond_error(st, ProxyError::HeadersTooLarge, {});
  } else if (st.method == "CONNECT") {
    respond_error(st, ProxyError::NotImplemented, "CONNECT over HTTP/2");
  } else {
    req.method_string(st.method);
    req.version(11);
    std::string cookie;  // RFC 9113 section 8.2.3: crumbs joined again for HTTP/1.1
    for (auto& [name, value] : st.fields) {
      if (name == "cookie") {
        if (!cookie.empty()) cookie += "; ";
        cookie += value;
      } else if (name != "host" || st.authority.empty()) {
        req.insert(name, value);
      }
    }
    if (!cookie.empty()) req.insert(http::field::cookie, cookie);
    // :authority is the host (RFC 9113 section 8.3.1); Host only when it is absent.
    if (!st.authority.empty()) req.set(http::field::host, st.authority);
    if (st.path.empty()) st.path = "/";
    req.target(st.path);
    std::optional<Refusal> refused = check_head(req, RequestLimits{opt.max_headers, opt.max_target});
    if (!refused && opt.normalize_paths) {
      if (!normalize_target(req.target(), opt.merge_slashes, target))
        refused = Refusal{ProxyError::BadRequest, "the path climbs above the root or is not a valid path"};
      else if (!target.empty())
        req.target(target);
    }
    if (refused) {
      respond_error(st, refused->error, refused->detail);
    } else {
      PinnedPtr pinned = s_.worker_.pinned();
      char host_buf[256];
      std::string_view host;
      const ExchangePlan plan = s_.plan_request(req, st.log, pinned.get(), host_buf, host);
      switch (plan.answer) {
        case Answer::Error:
          respond_error(st, plan.error, plan.detail);
          break;
        case Answer::Preflight: {
          auto res = cors_preflight_response(*plan.route->filters.cors, req);
          std::vector<std::string> names;
          names.reserve(32);
          std::vector<nghttp2_nv> fields;
          for (const auto& f : res) {
            std::string& name = names.emplace_back(f.name_string());
            lowercase(name);
            if (!h2_connection_specific(name)) fields.push_back(nv(name, f.value()));
          }
          respond(st, res.result_int(), std::move(fields), {});
          break;
        }
        case Answer::Redirect: {
          std::string_view path, query;
          routing::split_target(req.target(), path, query);
          const routing::Route& route = *plan.route;
          std::string_view prefix = route.match.path.type == routing::PathMatchType::PathPrefix
                                        ? std::string_view(route.match.path.value)
                                        : std::string_view{};
          const std::string location = routing::redirect_location(*plan.redirect, s_.stream_.is_tls() ? "https" : "http",
                                                                  host, plan.scope->port, prefix, path, query);
          respond(st, plan.redirect->status,
                  {nv("location", location), nv("server", "gantry"), nv("content-length", "0")}, {});
          break;
        }
        case Answer::Forward:
          co_await forward(st, req, plan, has_body);
          break;
      }
    }
  }
  // A body the exchange did not take is given back to the window unread, and so is any
  // that still comes.
  st.done = true;
  consume(st, st.body.size());
  st.body.clear();
  s_.account(st.log, Clock::now());
  --active_;
  rearm();
  maybe_wake_reader();
}

awaitable<void> H2Connection::forward(H2Stream& st, Request& req, const ExchangePlan& plan, bool has_body) {
  const ProxyOptions& opt = s_.worker_.options();
  const routing::Route& route = *plan.route;
  // The upstream connection lives in this frame: a reset must not reach it after.
  struct Forget {
    H2Stream& st;
    ~Forget() { st.upstream = nullptr; }
  } forget{st};
  std::string origin;
  if (route.filters.cors)
    if (auto o = req.find(http::field::origin); o != req.end()) origin = o->value();
  const bool is_head = req.method() == http::verb::head;

  // The route's body limit: a declared length over it is refused before anything goes upstream.
  const uint64_t limit = route.body_limit ? route.body_limit : opt.max_body_size;
  std::optional<uint64_t> declared;
  if (auto cl = req.find(http::field::content_length); cl != req.end()) {
    uint64_t v = 0;
    auto sv = std::string_view(cl->value());
    auto [p, e] = std::from_chars(sv.data(), sv.data() + sv.size(), v);
    if (e == std::errc{} && p == sv.data() + sv.size()) declared = v;
  }
  if (limit && declared && *declared > limit) {
    respond_error(st, ProxyError::PayloadTooLarge, {});
    co_return;
  }
  prepare_upstream_request(req, s_.client_ip_, s_.stream_.is_tls(), false);
  apply_request_filters(route, plan.backend_filters, req);
  // RequestMirror: copies as for HTTP/1.1 (mirror.cc), sent once the body has passed.
  Mirrors mirrors;
  if (!route.filters.mirrors.empty())
    s_.collect_mirrors(*s_.worker_.pinned()->snapshot, route.filters.mirrors, st.path, req, mirrors.copies);
  if (plan.backend_filters && !plan.backend_filters->mirrors.empty())
    s_.collect_mirrors(*s_.worker_.pinned()->snapshot, plan.backend_filters->mirrors, req.target(), req, mirrors.copies);
  if (!mirrors.copies.empty()) {
    if (has_body) mirrors.tap.emplace().limit = opt.mirror_body_limit;
    else s_.launch_mirrors(mirrors.copies, nullptr);
  }
  // HTTP/2 frames the body itself; HTTP/1.1 needs a length or chunks.
  if (has_body && !declared) req.chunked(true);
  const OutFraming framing{has_body && !declared};

  const auto started = st.log.start;
  const UpstreamTimeouts limits(route.timeouts, opt, started);
  const auto request_deadline = limits.request_deadline;
  auto bounded = [&](std::chrono::milliseconds t) { return limits.bounded(t); };

  char sni_buf[256];
  std::string_view sni;
  if (route.upstream_tls)
    if (auto h = req.find(http::field::host); h != req.end()) sni = routing::normalize_host(h->value(), sni_buf, sizeof sni_buf);
  UpstreamPool& pool = s_.worker_.upstreams();
  const routing::Endpoint& ep = pool.choose(*plan.cluster, s_.worker_.next_endpoint(plan.cluster_index));
  PoolKey pk;
  pk.set(pool, ep, route.upstream_tls, sni);
  const std::string_view key = pk.key;
  EndpointState* health = pk.health;
  EndpointState* pool_state = pk.connections;
  if (s_.worker_.access_log_on()) st.log.upstream = key;
  // A pooled connection that turns out dead before any answer gets one fresh try, when no
  // body byte was taken from the client yet. The route's retry policy applies while the
  // request is whole: no body, or all of it arrived before the first try (kept to resend).
  // As for HTTP/1.1 (--request-buffer), a body that fits (and fits the stream's window)
  // is received whole before the first try, so that a try can be made again. To an
  // HTTP/2 backend only for a route with retries, and never for gRPC: its streams are
  // messages both ways at once, a call may wait for an answer before it sends more.
  const bool to_h2 = route.upstream_h2 || (plan.cluster && plan.cluster->protocol == routing::UpstreamProtocol::H2c);
  const bool gather = !to_h2 || (route.retry.attempts > 0 && !st.grpc);
  if (gather && has_body && !st.ended && opt.request_buffer > 0 && (!declared || *declared <= opt.request_buffer)) {
    const size_t room = std::min<size_t>(opt.request_buffer, kStreamWindow);
    const auto until = Clock::now() + opt.body_timeout;
    while (!st.ended && !st.closed && st.body.size() < room)
      if (!co_await wait(st, until)) {
        respond_error(st, ProxyError::RequestTimeout, "the request body stalled");
        co_return;
      }
    if (st.closed) co_return;
  }
  if (to_h2) {
    co_await forward_h2(st, req, plan, ep, sni, limits, has_body, origin, mirrors);
    co_return;
  }
  auto failed = [&] {
    if (!pool.record_failure(*health, plan.cluster, Clock::now())) return;
    s_.worker_.note_ejection(*health);
    if (st.log.backend_stats) st.log.backend_stats->ejections.add();
  };

  std::string head;
  head.reserve(1024);
  append_head(req, head);
  UpstreamPtr conn;
  std::optional<ResponseParser> rp;
  const bool whole = !has_body || st.ended;
  RetryBudget retries(route.retry, whole, request_deadline);
  std::string resend;
  auto may_retry = [&]() -> awaitable<bool> { return retry_after(st, retries); };
  for (bool fresh_only = false, first_try = true;; fresh_only = true, first_try = false) {
    bool reused = false;
    conn.reset();
    if (!fresh_only) conn = pool.acquire(*pool_state, started);
    if (conn) {
      reused = true;
      if (st.log.backend_stats) st.log.backend_stats->reuses.add();
    } else {
      if (!pool.may_open(*pool_state)) {
        if (st.log.backend_stats) st.log.backend_stats->overflows.add();
        const std::string detail = "connection limit of " + std::string(key) + " reached";
        respond_error(st, ProxyError::NoEndpoint, detail);
        co_return;
      }
      conn = std::make_unique<UpstreamConnection>(s_.worker_.ioc(), *pool_state, st.log.backend_stats);
      st.upstream = conn.get();
      error_code ec = co_await connect_upstream(*conn, ep, bounded(limits.connect),
                                                route.upstream_tls ? s_.worker_.upstream_tls() : nullptr, sni);
      if (st.closed) co_return;
      if (ec) {
        if (st.log.backend_stats) st.log.backend_stats->connect_failures.add();
        failed();
        if (co_await may_retry()) continue;
        if (st.closed) co_return;
        const std::string detail = retries.timed_out ? "timeouts.request ran out" : "connect to " + std::string(key) + ": " + ec.message();
        respond_error(st, ec == beast::error::timeout || retries.timed_out ? ProxyError::UpstreamTimeout
                                                                           : ProxyError::UpstreamBroken,
                      detail);
        co_return;
      }
    }
    st.upstream = conn.get();
    const auto sent_at = Clock::now();
    // The head with the body received so far; then the rest as it comes.
    bool sent_body = false;
    bool body_sent_whole = !has_body;
    uint64_t sent = 0;
    for (bool first_write = true; first_write || !body_sent_whole; first_write = false) {
      if (!first_write && st.body.empty() && !st.ended) {
        co_await wait(st);
        if (st.closed) co_return;
        continue;
      }
      std::string chunk;
      if (first_try) {
        chunk = std::move(st.body);
        st.body.clear();
        if (first_write && retries.left() > 0) resend = chunk;
      } else if (first_write) {
        chunk = resend;  // the whole body again
      }
      const bool last = has_body && st.ended;
      sent += chunk.size();
      if (limit && sent > limit) {
        // Part of the body may have gone upstream: that connection is not reused, and the
        // client hears 413 (the rest of its DATA is dropped).
        respond_error(st, ProxyError::PayloadTooLarge, {});
        co_return;
      }
      FramedWrite w(first_write ? std::string_view(head) : std::string_view{}, chunk.data(), chunk.size(), last, framing);
      if (!w.empty()) {
        conn->stream.expires_after(bounded(limits.send));
        auto [wec, wn] = co_await asio::async_write(conn->stream, w.buffers(), use_nothrow);
        if (st.closed) co_return;
        if (wec) {
          if (first_write && reused && !has_body) break;  // a stale pooled connection: below
          const std::string detail = (first_write ? "" : "sending the request body: ") + wec.message();
          respond_error(st, wec == beast::error::timeout ? ProxyError::UpstreamTimeout : ProxyError::UpstreamBroken,
                        detail);
          co_return;
        }
      }
      if (first_try) {
        st.log.bytes_in += chunk.size();
        consume(st, chunk.size());
      }
      sent_body = sent_body || !chunk.empty();
      body_sent_whole = !has_body || last;
      mirrors.take(s_, chunk.data(), chunk.size(), has_body && last);
    }
    error_code rec;
    for (;;) {
      emplace_parser(rp, st.arena);
      rp->header_limit(static_cast<uint32_t>(opt.header_limit));
      rp->body_limit(boost::none);
      if (is_head) rp->skip(true);
      conn->stream.expires_after(bounded(limits.read));
      auto [ec, n] = co_await http::async_read_header(conn->stream, conn->buffer, *rp, use_nothrow);
      rec = ec;
      if (ec) break;
      if (rp->get().result_int() >= 200) break;  // 1xx: read past (101 included: no upgrade over HTTP/2)
    }
    if (st.closed) co_return;
    if (rec) {
      const bool stale = reused && (rec == asio::error::eof || rec == http::error::end_of_stream ||
                                    rec == asio::error::connection_reset || rec == http::error::partial_message);
      if (stale && !sent_body && !has_body) continue;
      if (!stale) failed();
      if (Clock::now() < request_deadline && co_await may_retry()) continue;
      if (st.closed) co_return;
      if (rec == beast::error::timeout || Clock::now() >= request_deadline || retries.timed_out) {
        respond_error(st, ProxyError::UpstreamTimeout, Clock::now() >= request_deadline ? "timeouts.request ran out" : "");
        co_return;
      }
      const std::string detail = "reading the response header: " + rec.message();
      respond_error(st, ProxyError::UpstreamBroken, detail);
      co_return;
    }
    const auto answered = Clock::now();
    st.log.upstream_us = std::chrono::duration_cast<std::chrono::microseconds>(answered - sent_at).count();
    // A listed status: the connection goes with its unread body, and the request again.
    if (const unsigned got = rp->get().result_int(); retries.listed(got)) {
      if (co_await may_retry()) {
        if (got == 502 || got == 503 || got == 504) failed();
        continue;
      }
      if (st.closed) co_return;
      if (retries.timed_out) {
        respond_error(st, ProxyError::UpstreamTimeout, "timeouts.request ran out");
        co_return;
      }
    }
    break;
  }
  Response& res = rp->get();
  const unsigned status = res.result_int();
  if (status == 502 || status == 503 || status == 504) failed();
  else pool.record_success(*health, Clock::now());
  if (Clock::now() > request_deadline) {
    respond_error(st, ProxyError::UpstreamTimeout, "timeouts.request ran out");
    co_return;
  }
  apply_response_filters(route, plan.backend_filters, res);
  if (route.filters.cors && !origin.empty()) add_cors_headers(*route.filters.cors, origin, res);

  st.log.status = status;
  const bool body_allowed = !is_head && status != 204 && status != 304;
  const bool upstream_keep_alive = rp->keep_alive();
  if (!body_allowed || rp->is_done()) {
    submit_head(st, res, false);
  } else {
    submit_head(st, res, true);
    auto& body = rp->get().body();
    // The stream's own: streams of one connection read their upstreams at once.
    std::unique_ptr<char[]> relay = s_.worker_.take_relay_buffer();
    char* buf = relay.get();
    struct GiveBack {
      Worker& w;
      std::unique_ptr<char[]>& b;
      ~GiveBack() { w.give_relay_buffer(std::move(b)); }
    } give_back{s_.worker_, relay};
    for (;;) {
      while (st.out.queued() >= kResponseHighWater && !st.closed) co_await wait(st);
      if (st.closed) co_return;
      body.data = buf;
      body.size = opt.relay_buffer;
      conn->stream.expires_after(bounded(limits.read));
      auto [ec, got] = co_await http::async_read_some(conn->stream, conn->buffer, *rp, use_nothrow);
      if (ec == http::error::need_buffer) ec = {};
      if (st.closed) co_return;
      if (ec) {
        // The response has begun: the stream can only be cut.
        reset(st, NGHTTP2_INTERNAL_ERROR);
        co_return;
      }
      const size_t n = opt.relay_buffer - body.size;
      if (n || rp->is_done()) queue_body(st, buf, n, rp->is_done());
      if (rp->is_done()) break;
    }
  }
  st.upstream = nullptr;
  if (upstream_keep_alive && rp->is_done() && !(has_body && !st.ended)) pool.release(*pool_state, std::move(conn), Clock::now());
}

void H2Connection::submit_head(H2Stream& st, const Response& res, bool with_body) {
  // nghttp2 copies the fields: the lowercased names live in the stream's arena, the list
  // in the connection's (reused) vector.
  std::vector<nghttp2_nv>& fields = nv_scratch_;
  fields.clear();
  char code[3];
  const unsigned status = res.result_int() % 1000;
  code[0] = static_cast<char>('0' + status / 100);
  code[1] = static_cast<char>('0' + status / 10 % 10);
  code[2] = static_cast<char>('0' + status % 10);
  fields.push_back(nv(":status", std::string_view(code, 3)));
  for (const auto& f : res) {
    const std::string_view given = f.name_string();
    char* name = static_cast<char*>(st.arena.allocate(given.size() + 1, 1));
    for (size_t i = 0; i < given.size(); ++i) {
      const char c = given[i];
      name[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    const std::string_view lower(name, given.size());
    if (h2_connection_specific(lower)) continue;
    fields.push_back(nv(lower, f.value()));
  }
  nghttp2_data_provider provider{};
  provider.read_callback = read_body;
  nghttp2_submit_response(ng_, st.id, fields.data(), fields.size(), with_body ? &provider : nullptr);
  kick();
}

awaitable<void> H2Connection::forward_h2(H2Stream& st, Request& req, const ExchangePlan& plan,
                                         const routing::Endpoint& endpoint, std::string_view sni,
                                         const UpstreamTimeouts& limits, bool has_body, std::string_view origin,
                                         Mirrors& mirrors) {
  const ProxyOptions& opt = s_.worker_.options();
  const routing::Route& route = *plan.route;
  const bool is_head = req.method() == http::verb::head;
  UpstreamPool& pool = s_.worker_.upstreams();
  const routing::Endpoint* ep = &endpoint;
  PoolKey pk;
  pk.set(pool, *ep, route.upstream_tls, sni);
  auto failed = [&] {
    if (!pool.record_failure(*pk.health, plan.cluster, Clock::now())) return;
    s_.worker_.note_ejection(*pk.health);
    if (st.log.backend_stats) st.log.backend_stats->ejections.add();
  };
  H2Head head;
  h2_request_head(req, route.upstream_tls, head);
  struct Forget {
    H2Stream& st;
    ~Forget() { st.call = nullptr; }
  } forget{st};
  // The route's retry policy while the body is whole (all of it came before the first
  // try and is kept to send again), each retry to the cluster's next endpoint; a stream
  // the backend refused (REFUSED_STREAM: never processed, RFC 9113 section 8.7) goes
  // once more without counting.
  const bool whole = !has_body || st.ended;
  RetryBudget retries(route.retry, whole, limits.request_deadline);
  bool free_retry = whole;
  std::string resend;
  if (has_body && whole && retries.left() > 0) resend = st.body;
  auto may_retry = [&](bool free) -> awaitable<bool> {
    if (free && free_retry) {
      free_retry = false;
      co_return !st.closed;
    }
    if (retries.left() > 0 && plan.cluster && plan.cluster->endpoints.size() > 1) {
      ep = &pool.choose(*plan.cluster, s_.worker_.next_endpoint(plan.cluster_index));
      pk.set(pool, *ep, route.upstream_tls, sni);
      if (s_.worker_.access_log_on()) st.log.upstream = pk.key;
    }
    const bool again = co_await retry_after(st, retries);
    co_return again;
  };
  const uint64_t limit = route.body_limit ? route.body_limit : opt.max_body_size;
  std::optional<H2Call> call;
  for (bool first = true;; first = false) {
    st.call = nullptr;
    call.emplace(s_.worker_.ioc());  // a previous try's stream is reset (CANCEL) as it goes
    const auto sent_at = Clock::now();
    const error_code ec = co_await s_.worker_.h2_upstreams().start(
        *call, pk, *ep, route.upstream_tls ? s_.worker_.upstream_tls() : nullptr, sni, limits.bounded(limits.connect),
        head.fields, has_body, st.log.backend_stats);
    if (st.closed) co_return;
    if (ec) {
      if (st.log.backend_stats) st.log.backend_stats->connect_failures.add();
      failed();
      if (co_await may_retry(false)) continue;
      if (st.closed) co_return;
      const std::string detail = retries.timed_out ? "timeouts.request ran out"
                                                   : "connect to " + std::string(pk.key) + " (HTTP/2): " + ec.message();
      respond_error(st, ec == beast::error::timeout || retries.timed_out ? ProxyError::UpstreamTimeout
                                                                         : ProxyError::UpstreamBroken,
                    detail);
      co_return;
    }
    st.call = &*call;
    bool request_done = !has_body, head_sent = false, again = false;
    if (!first && has_body) {  // the whole body again
      call->send(resend.data(), resend.size(), true, &st.trailers);
      request_done = true;
    }
    Clock::time_point progress = Clock::now();
    for (;;) {
      if (st.closed) co_return;  // the client reset it: the call's end resets the backend's
      bool moved = false;
      // Request: the client's DATA as the upstream stream takes it, then its trailers.
      if (!request_done && !st.body.empty() && call->unsent() < kStreamWindow) {
        st.log.bytes_in += st.body.size();
        if (limit && st.log.bytes_in > limit) {
          if (!head_sent) respond_error(st, ProxyError::PayloadTooLarge, {});
          else reset(st, NGHTTP2_CANCEL);
          co_return;
        }
        const size_t n = st.body.size();
        call->send(st.body.data(), n, st.ended, &st.trailers);
        request_done = st.ended;
        mirrors.take(s_, st.body.data(), n, request_done);
        st.body.clear();
        consume(st, n);
        moved = true;
      } else if (!request_done && st.ended && st.body.empty()) {
        call->send(nullptr, 0, true, &st.trailers);
        request_done = true;
        mirrors.take(s_, nullptr, 0, true);
      }
      // Response: the head once, then the body as the client's window and queue allow.
      if (!head_sent && call->head_done) {
        const unsigned status = call->status;
        if (status == 502 || status == 503 || status == 504) failed();
        else pool.record_success(*pk.health, Clock::now());
        // A listed status: the request again, this answer dropped (its stream reset).
        if (retries.listed(status)) {
          if (co_await may_retry(false)) {
            again = true;
            break;
          }
          if (st.closed) co_return;
          if (retries.timed_out) {
            respond_error(st, ProxyError::UpstreamTimeout, "timeouts.request ran out");
            co_return;
          }
        }
        st.log.upstream_us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at).count();
        Response res(std::piecewise_construct, std::make_tuple(), std::make_tuple(ArenaAllocator<char>(&st.arena)));
        h2_response_into(*call, res);
        apply_response_filters(route, plan.backend_filters, res);
        if (route.filters.cors && !origin.empty()) add_cors_headers(*route.filters.cors, origin, res);
        st.log.status = status;
        const bool bodyless = call->ended && call->body.empty() && call->trailers.empty();
        submit_head(st, res, !bodyless && !is_head);
        head_sent = true;
        moved = true;
        if (bodyless || is_head) break;
      }
      if (head_sent && (!call->body.empty() || call->ended) && st.out.queued() < kResponseHighWater) {
        const size_t n = call->body.size();
        if (call->ended) st.out.trailers = std::move(call->trailers);
        queue_body(st, call->body.data(), n, call->ended);
        call->body.clear();
        call->consume(n);
        if (call->ended) break;
        moved = true;
      }
      if (call->failed()) {
        if (!call->refused()) failed();
        if (head_sent) {
          reset(st, call->reset && call->reset != NGHTTP2_REFUSED_STREAM ? call->reset : NGHTTP2_INTERNAL_ERROR);
          co_return;
        }
        const bool safe_again = call->refused() || (call->ec && idempotent(req.method()));
        if (co_await may_retry(safe_again)) {
          again = true;
          break;
        }
        if (st.closed) co_return;
        const std::string detail =
            retries.timed_out ? "timeouts.request ran out"
            : call->ec        ? "HTTP/2 connection to " + std::string(pk.key) + ": " + call->ec.message()
                              : "the backend reset the stream (HTTP/2 error " + std::to_string(call->reset) + ")";
        respond_error(st, retries.timed_out ? ProxyError::UpstreamTimeout : ProxyError::UpstreamBroken, detail);
        co_return;
      }
      if (moved) {
        progress = Clock::now();
        continue;
      }
      // Waiting: for the backend's head within timeouts.request and the read timeout, for
      // its next bytes within the read timeout; a backend that takes no more of the body
      // has the send timeout.
      const bool client_slow = head_sent && st.out.queued() >= kResponseHighWater;
      const bool backend_full = !request_done && call->unsent() >= kStreamWindow;
      Clock::time_point deadline =
          progress + (client_slow ? opt.write_timeout : limits.bounded(backend_full ? limits.send : limits.read));
      if (!head_sent) deadline = std::min(deadline, limits.request_deadline);
      if (!co_await call->wait(deadline)) {
        if (st.closed) co_return;
        failed();
        if (head_sent) {
          reset(st, NGHTTP2_CANCEL);
          co_return;
        }
        if (!backend_full && Clock::now() < limits.request_deadline && co_await may_retry(false)) {
          again = true;
          break;
        }
        if (st.closed) co_return;
        const bool whole_request = Clock::now() >= limits.request_deadline || retries.timed_out;
        const std::string_view why = whole_request  ? "timeouts.request ran out"
                                     : backend_full ? "sending the request body (HTTP/2)"
                                                    : "";
        respond_error(st, ProxyError::UpstreamTimeout, why);
        co_return;
      }
    }
    if (!again) break;
  }
}

void h2_begin_shutdown(H2Connection& connection) { connection.begin_shutdown(); }

awaitable<void> serve_h2(Session& session) {
  auto c = std::make_shared<H2Connection>(session.shared_from_this());
  co_await c->run();
}

}  // namespace gantry::proxy
