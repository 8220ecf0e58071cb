#include "h2_upstream.h"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "dial.h"

namespace gantry::proxy {
namespace {

constexpr int32_t kStreamWindow = 256 * 1024;  // response bytes a backend may send ahead per stream
constexpr int32_t kConnectionWindow = 8 << 20;
constexpr size_t kWriteBatch = 64 * 1024;
constexpr uint32_t kStreamCap = 256;  // streams per connection, whatever the peer allows
constexpr std::string_view kAlpnH2 = "\x02h2";

nghttp2_nv nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

// One connection to a backend; alive while its reader runs or a call holds it.
class H2UpstreamConnection : public std::enable_shared_from_this<H2UpstreamConnection> {
 public:
  H2UpstreamConnection(asio::io_context& ioc, EndpointState& owner, BackendStats* stats)
      : transport_(ioc, owner, stats), ready_wait_(ioc.get_executor()), idle_(ioc.get_executor()) {}
  ~H2UpstreamConnection() {
    if (ng_) nghttp2_session_del(ng_);
  }

  // The first call connects; the calls that come meanwhile wait for it.
  awaitable<error_code> ready(const routing::Endpoint& ep, SSL_CTX* tls, std::string_view sni,
                              std::chrono::milliseconds timeout) {
    if (state_ == State::Connecting) {
      while (state_ == State::Connecting) {
        ready_wait_.expires_at(Clock::time_point::max());
        co_await ready_wait_.async_wait(use_nothrow);
      }
    }
    if (state_ == State::Ready) co_return error_code{};
    if (state_ == State::Dead) {
      error_code why = failure_;
      if (!why) why = asio::error::connection_aborted;
      co_return why;
    }
    state_ = State::Connecting;
    const std::string_view alpn = tls ? kAlpnH2 : std::string_view{};
    error_code ec = co_await connect_upstream(transport_, ep, timeout, tls, sni, alpn);
    transport_.stream.expires_never();
    if (!ec && tls) {
      const unsigned char* proto = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(transport_.stream.tls().native_handle(), &proto, &len);
      if (std::string_view(reinterpret_cast<const char*>(proto), proto ? len : 0) != "h2")
        ec = asio::error::no_protocol_option;  // the backend did not agree to HTTP/2
    }
    if (!ec && !start_session()) ec = asio::error::no_memory;
    if (ec) {
      fail(ec);
    } else {
      state_ = State::Ready;
      asio::co_spawn(transport_.stream.get_executor(), read_loop(shared_from_this()), asio::detached);
      kick();
    }
    ready_wait_.cancel();
    co_return ec;
  }

  bool usable() const { return state_ != State::Dead && !goaway_; }
  size_t load() const { return calls_.size(); }
  bool has_room() const {
    if (state_ != State::Ready) return true;  // still connecting: its SETTINGS are not known
    const uint32_t peer = nghttp2_session_get_remote_settings(ng_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    return calls_.size() < std::min(peer, kStreamCap);
  }

  error_code submit(H2Call& call, std::span<const H2Field> head, bool has_body) {
    if (state_ != State::Ready || goaway_) return asio::error::connection_aborted;
    std::vector<nghttp2_nv>& fields = nv_scratch_;  // nghttp2 copies the list: one vector for every call
    fields.clear();
    for (const H2Field& f : head) fields.push_back(nv(f.name, f.value));
    nghttp2_data_provider provider{};
    provider.read_callback = read_request_body;
    const int32_t id = nghttp2_submit_request(ng_, nullptr, fields.data(), fields.size(), has_body ? &provider : nullptr,
                                              &call);
    if (id < 0) return asio::error::connection_aborted;
    call.id_ = id;
    calls_.emplace(id, &call);
    idle_.cancel();
    kick();
    return {};
  }

  void resume(H2Call& call) {
    if (call.out_.deferred && !call.closed_ && state_ == State::Ready) {
      call.out_.deferred = false;
      nghttp2_session_resume_data(ng_, call.id_);
    }
    kick();
  }

  void consume(H2Call& call, size_t n) {
    if (state_ != State::Ready || n == 0) return;
    if (call.closed_) nghttp2_session_consume_connection(ng_, n);
    else nghttp2_session_consume(ng_, call.id_, n);
    kick();
  }

  void cancel(H2Call& call) {
    detach(call);
    if (!call.closed_ && state_ == State::Ready) {
      nghttp2_submit_rst_stream(ng_, NGHTTP2_FLAG_NONE, call.id_, NGHTTP2_CANCEL);
      kick();
    }
  }

  // The call's frame is going: nothing may reach it after.
  void detach(H2Call& call) {
    if (call.id_ < 0) return;
    auto it = calls_.find(call.id_);
    if (it != calls_.end() && it->second == &call) calls_.erase(it);
    if (!call.closed_ && state_ == State::Ready) {
      // Whatever it left unread still holds the connection's window.
      if (!call.body.empty()) nghttp2_session_consume_connection(ng_, call.body.size());
      nghttp2_session_set_stream_user_data(ng_, call.id_, nullptr);
    }
    maybe_idle();
  }

  // No new streams; the connection ends after its last one.
  void retire() {
    goaway_ = true;
    if (calls_.empty()) close();
  }

 private:
  enum class State { New, Connecting, Ready, Dead };

  bool start_session() {
    nghttp2_session_callbacks* cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0) return false;
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_option* opt;
    nghttp2_option_new(&opt);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_max_continuations(opt, 16);
    nghttp2_option_set_max_settings(opt, 32);
    const int rv = nghttp2_session_client_new2(&ng_, cbs, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) return false;
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
    };
    nghttp2_submit_settings(ng_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    nghttp2_session_set_local_window_size(ng_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
    return true;
  }

  static H2Call* call_of(nghttp2_session* ng, int32_t id) {
    return static_cast<H2Call*>(nghttp2_session_get_stream_user_data(ng, id));
  }

  static int on_header(nghttp2_session* ng, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void*) {
    H2Call* c = call_of(ng, frame->hd.stream_id);
    if (!c || frame->hd.type != NGHTTP2_HEADERS) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen), v(reinterpret_cast<const char*>(value), valuelen);
    if (c->head_done) {
      c->trailers.emplace_back(n, v);
    } else if (n == ":status") {
      unsigned s = 0;
      for (char ch : v) s = s * 10 + static_cast<unsigned>(ch - '0');
      c->interim_ = s < 200;
      if (!c->interim_) c->status = s;
    } else if (!c->interim_ && (n.empty() || n[0] != ':')) {
      c->headers.emplace_back(n, v);
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* ng, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<H2UpstreamConnection*>(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      // Streams past its last id are closed by nghttp2 as REFUSED_STREAM; the rest finish.
      self->goaway_ = true;
      return 0;
    }
    H2Call* c = call_of(ng, frame->hd.stream_id);
    if (!c) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (c->interim_) c->interim_ = false;
      else c->head_done = true;
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
      c->ended = true;
    c->notify();
    return 0;
  }

  static int on_data_chunk(nghttp2_session* ng, uint8_t, int32_t id, const uint8_t* data, size_t len, void*) {
    H2Call* c = call_of(ng, id);
    if (!c) {
      // A call that went away: its bytes still count against the connection's window.
      nghttp2_session_consume_connection(ng, len);
      return 0;
    }
    c->body.append(reinterpret_cast<const char*>(data), len);
    c->notify();
    return 0;
  }

  static int on_stream_close(nghttp2_session* ng, int32_t id, uint32_t code, void* user) {
    auto* self = static_cast<H2UpstreamConnection*>(user);
    H2Call* c = call_of(ng, id);
    if (!c) return 0;
    c->closed_ = true;
    if (!c->ended) c->reset = code ? code : NGHTTP2_INTERNAL_ERROR;
    c->notify();
    self->calls_.erase(id);
    self->maybe_idle();
    return 0;
  }

  static ssize_t read_request_body(nghttp2_session* ng, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                                   nghttp2_data_source*, void*) {
    H2Call* c = call_of(ng, id);
    if (!c) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const ssize_t n = c->out_.read(ng, id, buf, length, flags);
    if (n > 0) c->notify();  // room for more of the body
    return n;
  }

  void kick() {
    if (writing_ || state_ != State::Ready || !nghttp2_session_want_write(ng_)) return;
    writing_ = true;
    asio::co_spawn(transport_.stream.get_executor(), flush(shared_from_this()), asio::detached);
  }

  awaitable<void> flush(std::shared_ptr<H2UpstreamConnection> self) {
    // After what runs now: the frames of every call started meanwhile go in one write.
    co_await asio::post(transport_.stream.get_executor(), use_nothrow);
    for (;;) {
      wbuf_.clear();
      while (wbuf_.size() < kWriteBatch && state_ == State::Ready) {
        const uint8_t* data = nullptr;
        const ssize_t n = nghttp2_session_mem_send(ng_, &data);
        if (n < 0) {
          fail(asio::error::connection_aborted);
          break;
        }
        if (n == 0) break;
        wbuf_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      }
      if (wbuf_.empty()) break;
      // No deadline of its own (the socket's one deadline would cut the pending read):
      // each call's deadlines bound a stalled backend, and the idle close ends it.
      auto [ec, n] = co_await asio::async_write(transport_.stream, asio::buffer(wbuf_), use_nothrow);
      if (ec) {
        fail(ec);
        break;
      }
    }
    writing_ = false;
  }

  awaitable<void> read_loop(std::shared_ptr<H2UpstreamConnection> self) {
    std::array<char, 16 * 1024> in;
    while (state_ == State::Ready) {
      transport_.stream.expires_never();
      auto [ec, n] = co_await transport_.stream.async_read_some(asio::buffer(in), use_nothrow);
      if (state_ != State::Ready) break;
      if (ec) {
        fail(ec);
        break;
      }
      const ssize_t rv = nghttp2_session_mem_recv(ng_, reinterpret_cast<const uint8_t*>(in.data()), n);
      if (rv < 0) {
        fail(asio::error::connection_aborted);
        break;
      }
      kick();
      if (!nghttp2_session_want_read(ng_) && !nghttp2_session_want_write(ng_)) {
        fail(asio::error::eof);  // GOAWAY received and every stream done
        break;
      }
    }
    idle_.cancel();
  }

  void fail(error_code ec) {
    if (state_ == State::Dead) return;
    state_ = State::Dead;
    failure_ = ec;
    transport_.stream.close();
    auto calls = std::move(calls_);
    calls_.clear();
    for (auto& [id, c] : calls) {
      c->closed_ = true;
      if (!c->ended) c->ec = ec;
      c->notify();
    }
    idle_.cancel();
  }

  void close() { fail(asio::error::operation_aborted); }

  // With no stream left it waits, then ends: a backend keeps no idle connection forever.
  void maybe_idle() {
    if (!calls_.empty() || state_ != State::Ready) return;
    if (goaway_) return close();
    idle_.expires_after(std::chrono::seconds(60));
    idle_.async_wait([w = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = w.lock(); self && self->calls_.empty()) self->close();
    });
  }

  UpstreamConnection transport_;
  nghttp2_session* ng_ = nullptr;
  State state_ = State::New;
  error_code failure_;
  bool goaway_ = false;
  bool writing_ = false;
  std::vector<nghttp2_nv> nv_scratch_;
  std::string wbuf_;
  std::unordered_map<int32_t, H2Call*> calls_;
  Timer ready_wait_;
  Timer idle_;
};

H2Call::H2Call(asio::io_context& ioc) : wake_(ioc.get_executor()) {}

H2Call::~H2Call() {
  if (conn_ && !closed_) conn_->cancel(*this);
  else if (conn_) conn_->detach(*this);
}

bool H2Call::refused() const { return reset == NGHTTP2_REFUSED_STREAM; }

void H2Call::send(const char* data, size_t n, bool last, const H2FieldList* request_trailers) {
  if (out_.done) return;
  if (n) out_.data.append(data, n);
  if (last) {
    out_.done = true;
    if (request_trailers) out_.trailers = *request_trailers;
  }
  if (conn_) conn_->resume(*this);
}

void H2Call::consume(size_t n) {
  if (conn_) conn_->consume(*this, n);
}

awaitable<bool> H2Call::wait(Clock::time_point deadline) {
  if (Clock::now() >= deadline) co_return false;
  wake_.expires_at(deadline);
  auto [ec] = co_await wake_.async_wait(use_nothrow);
  co_return ec == asio::error::operation_aborted || Clock::now() < deadline;
}

void H2Call::cancel() {
  if (!conn_) return;
  conn_->cancel(*this);
  closed_ = true;
}

awaitable<error_code> H2Upstreams::start(H2Call& call, const PoolKey& key, const routing::Endpoint& ep, SSL_CTX* tls,
                                         std::string_view sni, std::chrono::milliseconds connect_timeout,
                                         std::span<const H2Field> head, bool has_body, BackendStats* stats) {
  auto it = by_key_.find(key.key);
  if (it == by_key_.end()) it = by_key_.emplace(std::string(key.key), std::vector<std::shared_ptr<H2UpstreamConnection>>{}).first;
  auto& list = it->second;
  std::erase_if(list, [](const auto& c) { return !c->usable(); });
  std::shared_ptr<H2UpstreamConnection> pick;
  for (const auto& c : list)
    if (c->has_room() && (!pick || c->load() < pick->load())) pick = c;
  if (!pick && list.size() < kConnectionsPerEndpoint) {
    pick = std::make_shared<H2UpstreamConnection>(ioc_, *key.connections, stats);
    list.push_back(pick);
  }
  if (!pick)  // every connection is full: the least busy one queues it (nghttp2 does)
    for (const auto& c : list)
      if (!pick || c->load() < pick->load()) pick = c;
  const error_code ec = co_await pick->ready(ep, tls, sni, connect_timeout);
  if (ec) co_return ec;
  if (const error_code sec = pick->submit(call, head, has_body)) co_return sec;
  call.conn_ = pick;
  co_return error_code{};
}

void H2Upstreams::clear() {
  for (auto& [key, list] : by_key_)
    for (auto& c : list) c->retire();
  by_key_.clear();
}

size_t H2Upstreams::connections() const {
  size_t n = 0;
  for (const auto& [key, list] : by_key_) n += list.size();
  return n;
}

}  // namespace gantry::proxy
