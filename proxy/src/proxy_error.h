// ProxyError: every way a request can fail, with the status a client sees (DESIGN.md,
// "Errors a client sees").
#pragma once

#include <string>

#include <string_view>

namespace gantry::proxy {

enum class ProxyError {
  BadRequest,          // 400 malformed request
  Forbidden,           // 403 the client's address is outside the route's source ranges
  NoRoute,             // 404 no listener, host or path matched
  Misdirected,         // 421 over TLS, the Host belongs to another listener than the SNI
  RequestTimeout,      // 408 request header not complete in time
  HeadersTooLarge,     // 431
  UriTooLong,          // 414 request-target longer than the limit
  NotImplemented,      // 501 a transfer coding other than chunked
  PayloadTooLarge,     // 413 the request body is over the route's limit
  InvalidBackend,      // 500 the route's backendRef is invalid, or every weight is zero
  UpstreamBroken,      // 502 refused, reset or malformed upstream response
  NoEndpoint,          // 503 the backend has no ready endpoint
  UpstreamTimeout,     // 504 connect or response timeout
};

unsigned status_of(ProxyError e);
std::string_view reason_of(ProxyError e);
// The text/plain body of a gateway's own error answer: "gantry: <reason>[: <detail>]\n".
std::string error_body(ProxyError e, std::string_view detail);

// gRPC clients read errors from grpc-status, in a trailers-only response with HTTP status
// 200 (gRPC over HTTP/2, "Responses"): no route is UNIMPLEMENTED, an unreachable or
// invalid backend UNAVAILABLE, a timeout DEADLINE_EXCEEDED.
bool is_grpc_content_type(std::string_view content_type);
unsigned grpc_status_of(ProxyError e);
// grpc-message: the reason and detail, percent-encoded as the gRPC spec asks.
std::string grpc_message(ProxyError e, std::string_view detail);

}  // namespace gantry::proxy
