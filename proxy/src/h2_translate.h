// HTTP/1.1 <-> HTTP/2 heads for the upstream side (RFC 9113 section 8.2 and 8.3): the
// request's pseudo-fields from its method, target and Host, names lowercased,
// connection-specific fields dropped; a response's :status and fields back into a Beast
// head, where the route's response filters apply as to any response.
#pragma once

#include <string>
#include <vector>

#include "asio.h"
#include "h2_upstream.h"

namespace gantry::proxy {

struct H2Head {
  std::vector<H2Field> fields;
  std::string storage;  // the lowercased names and the status digits the fields point into
};

// `tls`: the scheme upstream. TE goes as "trailers" (gRPC requires it; the trailers
// that come back are passed on either way).
void h2_request_head(const Request& req, bool tls, H2Head& out);

// The call's status and fields into `res`.
void h2_response_into(const H2Call& call, Response& res);

// RFC 9113 section 8.2.2: connection-specific fields never cross into HTTP/2.
bool h2_connection_specific(std::string_view lowercase_name);

}  // namespace gantry::proxy
