// The echo's h2c port (and, with --tls-h2, HTTP/2 by ALPN on its TLS port): each stream
// answered as the HTTP/1.1 port answers a request, with "proto": "HTTP/2.0"; request
// trailers are reported in the JSON, and a path under /trailers gets a response trailer
// (x-echo-trailer: sent) after its body.
#include <nghttp2/nghttp2.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>

#include "echo.h"

namespace echo {

extern std::mutex g_retry_mutex;
extern std::map<std::string, int> g_retry_counts;

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

nghttp2_nv nv(const std::string& n, const std::string& v) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())), reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())),
          n.size(), v.size(), NGHTTP2_NV_FLAG_NONE};
}

struct Stream {
  std::string method, path, authority;
  FieldList headers, trailers;
  bool headers_done = false;
  bool grpc = false;  // content-type application/grpc: its messages are echoed back
  std::string data;   // a gRPC request's body
  uint64_t bytes = 0, sum = 0;
  // The response: its fields (kept alive for nghttp2), body and trailers.
  FieldList response;
  std::string body;
  size_t body_at = 0;
  FieldList response_trailers;
};

template <class Socket>
class Connection : public std::enable_shared_from_this<Connection<Socket>> {
 public:
  using std::enable_shared_from_this<Connection<Socket>>::shared_from_this;
  explicit Connection(Socket socket) : socket_(std::move(socket)), connection_(next_connection()) {}
  ~Connection() {
    if (ng_) nghttp2_session_del(ng_);
  }

  asio::awaitable<void> run() {
    std::array<char, 16 * 1024> in;
    size_t have = 0;
    // The preface decides: HTTP/2, or the contract's 400.
    while (have < kPreface.size()) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in.data() + have, in.size() - have), nothrow);
      if (ec) co_return;
      have += n;
      if (std::string_view(in.data(), std::min(have, kPreface.size())) != kPreface.substr(0, std::min(have, kPreface.size()))) {
        static constexpr std::string_view k400 =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
            "Expected h2c request";
        co_await asio::async_write(socket_, asio::buffer(k400), nothrow);
        boost::system::error_code ignored;
        socket_.lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
    if (!start()) co_return;
    if (nghttp2_session_mem_recv(ng_, reinterpret_cast<const uint8_t*>(in.data()), have) < 0) co_return;
    kick();
    while (!broken_ && (nghttp2_session_want_read(ng_) || nghttp2_session_want_write(ng_))) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in), nothrow);
      if (ec) break;
      if (nghttp2_session_mem_recv(ng_, reinterpret_cast<const uint8_t*>(in.data()), n) < 0) break;
      kick();
    }
    broken_ = true;
  }

 private:
  bool start() {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) {
      if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        static_cast<Connection*>(u)->streams_[f->hd.stream_id];
      return 0;
    });
    nghttp2_session_callbacks_set_on_header_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* name, size_t namelen, const uint8_t* value,
                size_t valuelen, uint8_t, void* u) {
          auto* c = static_cast<Connection*>(u);
          auto it = c->streams_.find(f->hd.stream_id);
          if (it == c->streams_.end()) return 0;
          Stream& s = it->second;
          std::string n(reinterpret_cast<const char*>(name), namelen), v(reinterpret_cast<const char*>(value), valuelen);
          if (s.headers_done) s.trailers.emplace_back(std::move(n), std::move(v));
          else if (n == ":method") s.method = v;
          else if (n == ":path") s.path = v;
          else if (n == ":authority") s.authority = v;
          else if (n[0] != ':') {
            if (n == "content-type" && v.rfind("application/grpc", 0) == 0) s.grpc = true;
            s.headers.emplace_back(std::move(n), std::move(v));
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* u) {
          auto* c = static_cast<Connection*>(u);
          if (auto it = c->streams_.find(id); it != c->streams_.end()) {
            it->second.bytes += len;
            for (size_t i = 0; i < len; ++i) it->second.sum += data[i];
            if (it->second.grpc) it->second.data.append(reinterpret_cast<const char*>(data), len);
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) {
      auto* c = static_cast<Connection*>(u);
      auto it = c->streams_.find(f->hd.stream_id);
      if (it == c->streams_.end()) return 0;
      if (f->hd.type == NGHTTP2_HEADERS) it->second.headers_done = true;
      if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        c->answer(f->hd.stream_id);
      return 0;
    });
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, [](nghttp2_session*, int32_t id, uint32_t, void* u) {
      static_cast<Connection*>(u)->streams_.erase(id);
      return 0;
    });
    const int rv = nghttp2_session_server_new(&ng_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) return false;
    const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
    nghttp2_submit_settings(ng_, NGHTTP2_FLAG_NONE, settings, 1);
    return true;
  }

  void answer(int32_t id) {
    Stream& s = streams_[id];
    const std::string target = s.path;
    const std::string path = target.substr(0, target.find('?'));
    std::cout << "Echoing back request made to " << target << " to client (h2c)" << std::endl;
    std::cout << "Request method for " << target << ": " << s.method << std::endl;
    if (s.bytes) std::cout << "Request body for " << target << ": " << s.bytes << " bytes, sum " << s.sum << std::endl;
    std::cout << "Request host for " << target << ": " << s.authority << std::endl;
    std::chrono::milliseconds delay{0};
    if (std::string d = query_param(target, "delay"); !d.empty()) delay = parse_duration(d);
    for (const auto& [n, v] : s.headers)
      if (n == "x-echo-delay") delay = parse_duration(v);  // gRPC paths carry no query
    if (delay.count() == 0) return respond(id);
    asio::co_spawn(socket_.get_executor(), later(id, delay, shared_from_this()), asio::detached);
  }

  asio::awaitable<void> later(int32_t id, std::chrono::milliseconds delay, std::shared_ptr<Connection> self) {
    asio::steady_timer t(socket_.get_executor(), delay);
    co_await t.async_wait(nothrow);
    if (!broken_ && streams_.count(id)) respond(id);
  }

  void respond(int32_t id) {
    Stream& s = streams_[id];
    const std::string target = s.path;
    const std::string path = target.substr(0, target.find('?'));
    unsigned status = 200;
    bool json = false;
    if (s.grpc) {
      // gRPC: the request's length-prefixed messages come back as they are, then
      // grpc-status (x-echo-grpc-status asks for another than 0). The pod and the path
      // it saw are response metadata.
      s.body = std::move(s.data);
      s.response.emplace_back("content-type", "application/grpc");
      s.response.emplace_back("x-echo-pod", g_config.pod);
      s.response.emplace_back("x-echo-path", target);
      std::string code = "0";
      for (const auto& [n, v] : s.headers)
        if (n == "x-echo-grpc-status") code = v;
      s.response_trailers.emplace_back("grpc-status", code);
      if (code != "0") s.response_trailers.emplace_back("grpc-message", "asked for by x-echo-grpc-status");
    } else if (path == "/health") {
      s.body = "OK";
    } else if (path.rfind("/status/", 0) == 0) {
      status = static_cast<unsigned>(std::atoi(path.c_str() + 8));
    } else {
      json = true;
      if (path.rfind("/retry/", 0) == 0 && !query_param(target, "uuid").empty()) {
        int seen;
        {
          std::lock_guard lock(g_retry_mutex);
          seen = ++g_retry_counts[query_param(target, "uuid")];
        }
        if (seen <= std::atoi(query_param(target, "succeedAfter").c_str())) {
          const std::string code = query_param(target, "responseCode");
          if (code.empty()) {  // the HTTP/1.1 port's connection reset, as a stream reset
            nghttp2_submit_rst_stream(ng_, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
            return kick();
          }
          status = static_cast<unsigned>(std::atoi(code.c_str()));
          json = false;
        }
      }
    }
    if (json) {
      EchoRequest r{target, s.authority, s.method, "HTTP/2.0", s.headers, s.trailers};
      r.connection = connection_;
      r.body_bytes = s.bytes;
      r.body_sum = s.sum;
      s.body = echo_body(r);
      s.response.emplace_back("content-type", "application/json");
    }
    if (!s.grpc && path.rfind("/trailers", 0) == 0) s.response_trailers.emplace_back("x-echo-trailer", "sent");
    for (const auto& [n, v] : s.headers)
      if (n == "x-echo-set-header")
        for (auto [name, value] : set_headers(v)) {
          for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          s.response.emplace_back(std::move(name), std::move(value));
        }
    // With trailers the body has no declared length, as a gRPC server's has none.
    if (s.response_trailers.empty())
      s.response.emplace_back("content-length", std::to_string(s.method == "HEAD" ? 0 : s.body.size()));
    s.response.insert(s.response.begin(), {":status", std::to_string(status)});
    std::vector<nghttp2_nv> fields;
    for (const auto& [n, v] : s.response) fields.push_back(nv(n, v));
    nghttp2_data_provider provider{};
    provider.read_callback = [](nghttp2_session* ng, int32_t sid, uint8_t* buf, size_t length, uint32_t* flags,
                                nghttp2_data_source*, void* u) -> ssize_t {
      auto* c = static_cast<Connection*>(u);
      auto it = c->streams_.find(sid);
      if (it == c->streams_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      Stream& st = it->second;
      const size_t n = std::min(length, st.body.size() - st.body_at);
      std::memcpy(buf, st.body.data() + st.body_at, n);
      st.body_at += n;
      if (st.body_at == st.body.size()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (!st.response_trailers.empty()) {
          *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
          std::vector<nghttp2_nv> t;
          for (const auto& [tn, tv] : st.response_trailers) t.push_back(nv(tn, tv));
          nghttp2_submit_trailer(ng, sid, t.data(), t.size());
        }
      }
      return static_cast<ssize_t>(n);
    };
    const bool bodyless = s.method == "HEAD" || (s.body.empty() && s.response_trailers.empty());
    nghttp2_submit_response(ng_, id, fields.data(), fields.size(), bodyless ? nullptr : &provider);
    kick();
  }

  void kick() {
    if (writing_ || broken_ || !nghttp2_session_want_write(ng_)) return;
    writing_ = true;
    asio::co_spawn(socket_.get_executor(), flush(shared_from_this()), asio::detached);
  }

  asio::awaitable<void> flush(std::shared_ptr<Connection> self) {
    for (;;) {
      wbuf_.clear();
      for (;;) {
        const uint8_t* data;
        const ssize_t n = nghttp2_session_mem_send(ng_, &data);
        if (n <= 0) break;
        wbuf_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      }
      if (wbuf_.empty()) break;
      auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(wbuf_), nothrow);
      if (ec) {
        broken_ = true;
        break;
      }
    }
    writing_ = false;
  }

  Socket socket_;
  uint64_t connection_;
  nghttp2_session* ng_ = nullptr;
  std::map<int32_t, Stream> streams_;
  bool writing_ = false, broken_ = false;
  std::string wbuf_;
};

}  // namespace

asio::awaitable<void> serve_h2c(tcp::socket socket) {
  auto c = std::make_shared<Connection<tcp::socket>>(std::move(socket));
  co_await c->run();
}

asio::awaitable<void> serve_h2_tls(asio::ssl::stream<tcp::socket> socket) {
  auto c = std::make_shared<Connection<asio::ssl::stream<tcp::socket>>>(std::move(socket));
  co_await c->run();
}

}  // namespace echo
