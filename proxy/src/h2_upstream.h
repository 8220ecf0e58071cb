// HTTP/2 towards backends: clusters whose Service port says appProtocol
// kubernetes.io/h2c, and Ingress backend-protocol GRPC (h2c) or GRPCS (h2 over TLS, ALPN).
// Each worker keeps a few multiplexed connections per endpoint (H2Upstreams); a request
// is one stream on one of them (H2Call), framed by nghttp2. Either carrier (an HTTP/1.1
// request, an HTTP/2 stream) drives a call the same way: start it with the head, send
// the body, wait for the response's head, body and trailers, and give back the window
// (consume) as the bytes reach the client, so a slow client slows its backend stream
// instead of filling memory.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asio.h"
#include "h2_outbox.h"
#include "gantry/routing/host_index.h"
#include "gantry/routing/snapshot.h"
#include "upstream_pool.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace gantry::proxy {

class H2UpstreamConnection;
struct BackendStats;

// A field of a head or of trailers; names lowercase (RFC 9113 section 8.2.1).
struct H2Field {
  std::string_view name, value;
};

// One request on an upstream HTTP/2 connection.
class H2Call {
 public:
  explicit H2Call(asio::io_context& ioc);
  ~H2Call();  // a call not finished is reset (CANCEL): its backend stops working on it
  H2Call(const H2Call&) = delete;
  H2Call& operator=(const H2Call&) = delete;

  // The response, as it arrives. `body` holds bytes received and not yet taken.
  unsigned status = 0;
  H2FieldList headers, trailers;
  std::string body;
  bool head_done = false;  // a final (non-1xx) head came
  bool ended = false;      // END_STREAM: the body and trailers are whole
  // The call failed: the connection was lost (`ec`), or the stream was reset (`reset`,
  // the RST_STREAM code; REFUSED_STREAM when the backend never processed it, RFC 9113
  // section 8.7, so it may go again).
  error_code ec;
  uint32_t reset = 0;
  bool failed() const { return ec || reset != 0; }
  bool refused() const;

  // The request body: queued for DATA frames; `last` ends it (with `trailers`, if any).
  void send(const char* data, size_t n, bool last, const H2FieldList* request_trailers = nullptr);
  size_t unsent() const { return out_.queued(); }
  // Response body bytes taken from `body` and passed on: the stream's window reopens.
  void consume(size_t n);
  // Until something changes (response bytes, a head, the end, room to send, a failure)
  // or `deadline`; false at the deadline.
  awaitable<bool> wait(Clock::time_point deadline);
  // The exchange is over before the response ended (the client left, a timeout).
  void cancel();
  // Ends a wait early: the caller has news of its own (the client's bytes, its reset).
  void notify() { wake_.cancel(); }

 private:
  friend class H2UpstreamConnection;
  friend class H2Upstreams;

  std::shared_ptr<H2UpstreamConnection> conn_;
  int32_t id_ = -1;
  H2Outbox out_;           // the request's body and trailers
  bool closed_ = false;    // nghttp2 closed the stream
  bool interim_ = false;   // the head being read is a 1xx: dropped
  Timer wake_;
};

// The worker's HTTP/2 connections to backends, by endpoint (and server name, over TLS).
class H2Upstreams {
 public:
  explicit H2Upstreams(asio::io_context& ioc) : ioc_(ioc) {}

  // Starts `call` with `head` (pseudo-fields first) on a connection to `ep`: the least
  // busy open one, or a new one while there are fewer than kConnectionsPerEndpoint (each
  // holds as many streams as its peer allows; nghttp2 queues any beyond). `tls` (the
  // worker's client context) means h2 over TLS with `sni`. An error: nothing was sent.
  awaitable<error_code> start(H2Call& call, const PoolKey& key, const routing::Endpoint& ep, SSL_CTX* tls,
                              std::string_view sni, std::chrono::milliseconds connect_timeout, std::span<const H2Field> head,
                              bool has_body, BackendStats* stats);
  // Connections with no stream close now; the others take no new streams and close
  // after their last (a drain, the worker's end).
  void clear();
  size_t connections() const;

  static constexpr size_t kConnectionsPerEndpoint = 2;

 private:
  asio::io_context& ioc_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<H2UpstreamConnection>>, routing::StringHash,
                     std::equal_to<>>
      by_key_;
};

}  // namespace gantry::proxy
