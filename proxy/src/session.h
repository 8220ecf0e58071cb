// Session: one downstream connection. A tight loop: read a request header, route it,
// forward it (or answer an error), write the response, repeat while keep-alive holds.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "asio.h"
#include "client_hello.h"
#include "exchange.h"
#include "maybe_tls_stream.h"
#include "proxy_error.h"
#include "relay.h"
#include "worker.h"

namespace gantry::proxy {

class H2Connection;

// What the access log says of the request being served. The strings are reused from
// request to request, so they stop allocating once they have grown.
struct RequestLog {
  bool active = false;
  std::chrono::system_clock::time_point at;
  Clock::time_point start;
  unsigned status = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  int64_t upstream_us = -1;  // request sent to response head read, of the last try
  uint32_t retries = 0;
  std::string method, authority, path, route, backend, upstream, request_id;
  RouteStats* route_stats = nullptr;  // the route and backend that served it, if any
  BackendStats* backend_stats = nullptr;
  // `now`: the request's start, read once and reused for its deadlines; the wall clock
  // is read only for an access log line.
  void begin(Clock::time_point now, bool wall_clock) {
    active = true;
    if (wall_clock) at = std::chrono::system_clock::now();
    start = now;
    status = 0;
    bytes_in = bytes_out = 0;
    upstream_us = -1;
    retries = 0;
    route_stats = nullptr;
    backend_stats = nullptr;
    for (std::string* s : {&method, &authority, &path, &route, &backend, &upstream, &request_id}) s->clear();
  }
};

struct RequestState {
  // The fields of the request and of its upstream responses; declared before the parser
  // so that it outlives it.
  HeaderArena arena;
  std::optional<RequestParser> parser;
  RequestLog log;
  std::string scratch;  // a normalized target, when normalization changed it
  std::string up_head, down_head;  // the heads Gantry writes upstream and downstream
};

class Session : public std::enable_shared_from_this<Session> {
  friend class H2Connection;  // an HTTP/2 connection is a session's stream, its client and its accounting

 public:
  // `stats`: the listener's series, which counts the connection as active until it ends.
  Session(Worker& worker, Socket socket, std::string listener, ListenerStats* stats);
  ~Session();

  awaitable<void> run();
  // Drain: a session waiting for its next request ends now; a busy one after its response.
  void cancel_if_idle();
  // Its listener is gone from the snapshot: end like a drain; close_now() at the deadline.
  void retire() {
    retired_ = true;
    cancel_if_idle();
  }
  bool retired() const { return retired_; }
  // The worker's sweep: a wait past its deadline is cancelled and completes with
  // beast::error::timeout (not closed: the client can still be told 408).
  void expire(Clock::time_point now) { stream_.tcp_layer().expire(now); }
  void close_now() { stream_.close(); }
  const std::string& listener() const { return listener_; }

 private:
  // HTTPS listeners: the TLS handshake, before the first request; false ends the session.
  awaitable<bool> handshake();
  // Between requests: pools given back, the idle deadline armed.
  void begin_idle();
  // Idle, plain: waits for readability with a handler, no coroutine; readable, it starts
  // run() again (with `readable_` set), else it closes.
  void wait_readable();
  // Reads the next request's first bytes (TLS, or plain once readable); false: the end.
  awaitable<bool> await_request();
  void close_plain();
  // HTTP/2: chosen by ALPN on a TLS connection; on a plain one, the client's first bytes
  // are the connection preface (prior knowledge, as the h2c conformance case sends it).
  bool alpn_h2();
  awaitable<bool> h2c_preface();
  awaitable<bool> serve_one();
  // TLS passthrough (passthrough.cc): on a passthrough listener, or for an Ingress
  // ssl-passthrough host, the ClientHello's server name picks the backend and the bytes
  // are relayed unopened; true when the connection was passed through (it is over).
  awaitable<bool> maybe_pass_through();
  awaitable<ClientHello> peek_client_hello(std::string& bytes);
  awaitable<void> pass_through(const PinnedSnapshot& pinned, const routing::Listener& listener, bool hello_ok,
                               std::string_view sni, const routing::SniPassthrough* ingress_host);
  // No keep-alive from here on: the worker drains or the listener was removed.
  bool closing() const { return retired_ || worker_.draining(); }
  // What the route decided for the request being served; the pinned snapshot keeps it alive.
  struct Plan {
    const routing::Route* route = nullptr;
    const routing::Filters* backend_filters = nullptr;
    const routing::Cluster* cluster = nullptr;  // for a second try on another endpoint
    uint32_t cluster_index = 0;
    BackendStats* backend_stats = nullptr;
  };
  // The route's body limit: a declared length over it is refused before anything goes
  // upstream, a chunked body is cut off when it passes it.
  std::optional<ProxyError> refuse_body(const routing::Route& route);
  // After the head's checks, for either carrier: x-request-id (the client's, else one made
  // here), the exchange's plan on `pinned`, and the route and backend series in `log`;
  // `host` (in `host_buf`) is the normalized Host.
  ExchangePlan plan_request(Request& req, RequestLog& log, const PinnedSnapshot* pinned, char (&host_buf)[256],
                            std::string_view& host);
  awaitable<bool> forward(const routing::Endpoint& endpoint, const Plan& plan);
  struct MirrorCopy;
  // What forward() knows of the body when the cluster speaks HTTP/2 (forwarder_h2.cc).
  struct H2Body {
    bool has_body = false;
    bool whole = false;  // `buffered` is all of it
    bool expect_continue = false;
    unsigned client_version = 11;  // the request's, before it was made HTTP/1.1 for upstream
    bool client_keep_alive = true;
    std::string& buffered;
    std::string_view origin;  // for CORS response headers
    std::vector<MirrorCopy>* mirrors = nullptr;  // launched once the body is sent
    BodyTap* mirror_body = nullptr;
  };
  awaitable<bool> forward_h2(const routing::Endpoint& endpoint, const Plan& plan, H2Body body);
  awaitable<bool> send_redirect(const routing::Redirect& redirect, const routing::Route& route, uint16_t listener_port,
                                std::string_view host);
  // RequestMirror copies of the request being served (mirror.cc).
  struct MirrorCopy {
    routing::Endpoint endpoint;
    std::shared_ptr<http::request<http::string_body>> request;
    bool body = true;
  };
  // `original_target`: the request target before any rewrite ($request_uri).
  // `req`: the request as it goes upstream (an HTTP/1.1 request's, an HTTP/2 stream's).
  void collect_mirrors(const routing::Snapshot& snapshot, const std::vector<routing::Mirror>& mirrors,
                       std::string_view original_target, const Request& req, std::vector<MirrorCopy>& out);
  // Sends the copies, with `body` when the request had one; empties `copies`.
  void launch_mirrors(std::vector<MirrorCopy>& copies, const BodyTap* body);
  awaitable<bool> send_error(ProxyError error, std::string_view detail);
  // The request just served (nothing when none was begun): counted in the metrics, and
  // its access log line written.
  void finish_request();
  // A request `log` describes, finished at `finished`: counted, and its line written.
  // HTTP/2 streams (H2Connection) are accounted the same way.
  void account(RequestLog& log, Clock::time_point finished);
  void log_request(const RequestLog& log, int64_t duration_us);
  awaitable<void> tunnel(UpstreamConnection& upstream);

  // Reads the next chunk of a body into the relay buffer; false on error.
  template <class Parser, class Stream>
  awaitable<error_code> read_body_chunk(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                                        std::chrono::milliseconds timeout);
  char* relay();

  Worker& worker_;
  ClientStream stream_;
  beast::flat_buffer buffer_;
  std::string listener_;
  ListenerStats* listener_stats_;
  std::string client_ip_;
  std::array<uint8_t, 16> client_addr_{};  // network order; 4 or 16 bytes used
  uint8_t client_addr_len_ = 0;
  std::string sni_;  // TLS server name the client sent, lowercased
  // The request being served: its parser, what its log line says, a normalized target.
  // Taken from the worker thread's pool when a request begins and given back when the
  // connection goes idle, so an idle connection holds none of it.
  std::unique_ptr<RequestState> st_;
  // This request's, taken from the pool on first use (take_state).
  RequestState& state() { return st_ ? *st_ : take_state(); }
  RequestState& take_state();
  void release_state();
  std::optional<RequestParser>& parser() { return state().parser; }
  RequestLog& log() { return state().log; }
  std::unique_ptr<char[]> relay_;
  H2Connection* h2_ = nullptr;  // set while the connection speaks HTTP/2
  bool idle_ = false;
  // A client read (the next request, the rest of a head, a buffered body) with a
  // deadline of the phase it belongs to rather than of the one read.
  void arm(Clock::time_point deadline) { stream_.tcp_layer().expires_at(deadline); }
  void disarm() { stream_.tcp_layer().expires_never(); }
  // When the last request finished: the idle deadline counts from it (one clock read).
  Clock::time_point finished_at_{};
  bool first_ = true;
  bool retired_ = false;
  bool started_ = false;   // run() has done the handshake
  bool readable_ = false;  // wait_readable saw the socket readable
};

}  // namespace gantry::proxy
