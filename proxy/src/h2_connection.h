// H2Connection: a downstream HTTP/2 connection (h2 by ALPN over TLS, h2c with prior
// knowledge on a plain listener), framed by nghttp2. Each stream is one exchange: the
// same normalization, route, filters, upstream pool and metrics as an HTTP/1.1 request,
// its request body streamed upstream under HTTP/2 flow control (a window is given back
// only as bytes leave for the backend), its response body streamed back as it arrives.
//
// The connection's limits (RFC 9113 section 10.5 and the floods since): concurrent
// streams, header list size, resets per connection (CVE-2023-44487), CONTINUATION frames
// per header block (CVE-2024-27316), SETTINGS and PING floods; a drain or the listener's
// removal sends GOAWAY and lets the open streams finish.
#pragma once

#include <memory>
#include <string_view>

#include "asio.h"

namespace gantry::proxy {

class Session;

// What a client with prior knowledge sends first (RFC 9113 section 3.4).
inline constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Serves HTTP/2 on the session's connection until it ends; the session's read buffer
// holds what was read so far (the preface, for h2c).
awaitable<void> serve_h2(Session& session);

class H2Connection;
// A drain or the listener's removal while streams are open: GOAWAY (NO_ERROR, the last
// stream seen), the open streams finish, then the connection ends.
void h2_begin_shutdown(H2Connection& connection);

}  // namespace gantry::proxy
