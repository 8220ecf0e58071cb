#include "proxy_error.h"

namespace gantry::proxy {

unsigned status_of(ProxyError e) {
  switch (e) {
    case ProxyError::BadRequest: return 400;
    case ProxyError::Forbidden: return 403;
    case ProxyError::NoRoute: return 404;
    case ProxyError::Misdirected: return 421;
    case ProxyError::RequestTimeout: return 408;
    case ProxyError::HeadersTooLarge: return 431;
    case ProxyError::UriTooLong: return 414;
    case ProxyError::NotImplemented: return 501;
    case ProxyError::PayloadTooLarge: return 413;
    case ProxyError::InvalidBackend: return 500;
    case ProxyError::UpstreamBroken: return 502;
    case ProxyError::NoEndpoint: return 503;
    case ProxyError::UpstreamTimeout: return 504;
  }
  return 500;
}

std::string_view reason_of(ProxyError e) {
  switch (e) {
    case ProxyError::BadRequest: return "malformed request";
    case ProxyError::Forbidden: return "this client's address is not allowed on this route";
    case ProxyError::NoRoute: return "no route matches this request";
    case ProxyError::Misdirected: return "this connection's TLS server name belongs to another listener than the Host";
    case ProxyError::RequestTimeout: return "request header not received in time";
    case ProxyError::HeadersTooLarge: return "request header fields too large";
    case ProxyError::UriTooLong: return "request target too long";
    case ProxyError::NotImplemented: return "not implemented";
    case ProxyError::PayloadTooLarge: return "request body larger than this route allows";
    case ProxyError::InvalidBackend: return "the route's backend reference is invalid";
    case ProxyError::UpstreamBroken: return "the upstream failed to answer";
    case ProxyError::NoEndpoint: return "the backend has no ready endpoint";
    case ProxyError::UpstreamTimeout: return "the upstream did not answer in time";
  }
  return "error";
}

std::string error_body(ProxyError e, std::string_view detail) {
  std::string body = "gantry: ";
  body += reason_of(e);
  if (!detail.empty()) {
    body += ": ";
    body += detail;
  }
  body += "\n";
  return body;
}

bool is_grpc_content_type(std::string_view ct) {
  return ct.starts_with("application/grpc") &&
         (ct.size() == 16 || ct[16] == '+' || ct[16] == ';');
}

unsigned grpc_status_of(ProxyError e) {
  switch (e) {
    case ProxyError::BadRequest: return 13;       // INTERNAL
    case ProxyError::Forbidden: return 7;         // PERMISSION_DENIED
    case ProxyError::NoRoute: return 12;          // UNIMPLEMENTED
    case ProxyError::Misdirected: return 14;      // UNAVAILABLE: another connection will do
    case ProxyError::RequestTimeout: return 4;    // DEADLINE_EXCEEDED
    case ProxyError::HeadersTooLarge: return 8;   // RESOURCE_EXHAUSTED
    case ProxyError::UriTooLong: return 13;
    case ProxyError::NotImplemented: return 12;
    case ProxyError::PayloadTooLarge: return 8;
    case ProxyError::InvalidBackend: return 14;   // GRPCRouteRule.backendRefs: all invalid is UNAVAILABLE
    case ProxyError::UpstreamBroken: return 14;
    case ProxyError::NoEndpoint: return 14;
    case ProxyError::UpstreamTimeout: return 4;
  }
  return 2;  // UNKNOWN
}

std::string grpc_message(ProxyError e, std::string_view detail) {
  std::string text = "gantry: " + std::string(reason_of(e));
  if (!detail.empty()) text.append(": ").append(detail);
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace gantry::proxy
