// The rules a request head must pass before anything is routed or forwarded (RFC 9110,
// RFC 9112), and the one normalization of its target that matching and forwarding both
// use. Each refusal names the rule, so the client's 4xx/5xx says what was wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "asio.h"
#include "proxy_error.h"

namespace gantry::proxy {

struct Refusal {
  ProxyError error;
  std::string_view detail;  // static text
};

struct RequestLimits {
  size_t max_headers = 100;      // header fields in one request (431 beyond)
  size_t max_target = 8 * 1024;  // bytes of request-target (414 beyond)
};

// RequestView's header accessor over a Request's fields (`fields` is a const Fields*).
std::string_view find_field(const void* fields, std::string_view lower_name, bool& found);

// Where the head ends in `bytes` (the index just past its empty line), or npos if it has
// not all arrived. Both CRLF and bare LF line ends count (RFC 9112 §2.2). `from`: bytes
// before it were scanned already (a head arriving a byte at a time costs linear time).
size_t head_end(std::string_view bytes, size_t from = 0);
// A line of the head that starts with a space or tab: obs-fold, or whitespace before
// the first field (RFC 9112 §5.2, §2.2). Either way: 400, never forwarded.
bool has_folded_line(std::string_view head);

// Framing and syntax of a parsed head: one Host, at most one Content-Length, a
// Transfer-Encoding that is exactly "chunked" (RFC 9112 §6.1, §6.3), counts and sizes.
std::optional<Refusal> check_head(const Request& req, const RequestLimits& limits);

// An absolute-form target ("http://host:port/path?q", RFC 9112 §3.2.2): its authority
// replaces Host, and it is forwarded in origin form. Returns false when the target is
// absolute but not an http(s) URI with an authority.
bool take_absolute_form(Request& req);

// The path normalization policy (README, "Security"): percent-encoded unreserved
// characters decoded, other percent-encodings upper-cased and kept (so %2F and %5C stay
// data, never separators), dot segments (also %2e spellings) removed as RFC 3986
// §5.2.4 says, duplicate slashes merged when `merge_slashes`; a path that would climb
// above the root is refused. The query is kept as it is. Returns false to refuse;
// `out` is the normalized target when it differs from `target` (else left empty).
bool normalize_target(std::string_view target, bool merge_slashes, std::string& out);

}  // namespace gantry::proxy
