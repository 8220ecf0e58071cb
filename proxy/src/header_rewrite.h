// Header rewriting between hops (RFC 9110 section 7.6.1): hop-by-hop fields removed,
// X-Forwarded-For/-Proto/-Host set on the way up.
#pragma once

#include <string_view>

#include "asio.h"

namespace gantry::proxy {

bool is_upgrade_request(const Request& req);
void prepare_upstream_request(Request& req, std::string_view client_ip, bool upgrade);
void prepare_downstream_response(Response& res, unsigned version, bool keep_alive, bool upgrade);

}  // namespace gantry::proxy
