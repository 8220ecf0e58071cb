// CORS (HTTPCORSFilter): preflights are answered by the gateway; actual requests from an
// allowed origin get the Access-Control-* response headers added.
#pragma once

#include "asio.h"
#include "gantry/routing/filters.h"

namespace gantry::proxy {

// The preflight answer: 204, with the Access-Control-* headers when the origin is allowed.
http::response<http::empty_body> cors_preflight_response(const routing::Cors& cors, const Request& req);
void add_cors_headers(const routing::Cors& cors, std::string_view origin, Response& res);

}  // namespace gantry::proxy
