// Header rewriting between hops (RFC 9110 section 7.6.1): hop-by-hop fields removed,
// X-Forwarded-For/-Proto/-Host set on the way up.
#pragma once

#include <string_view>

#include "asio.h"
#include "gantry/routing/filters.h"
#include "gantry/routing/snapshot.h"

namespace gantry::proxy {

bool is_upgrade_request(const Request& req);
void prepare_upstream_request(Request& req, std::string_view client_ip, bool tls, bool upgrade);
void prepare_downstream_response(Response& res, unsigned version, bool keep_alive, bool upgrade);

// RequestHeaderModifier / ResponseHeaderModifier: set replaces, add appends a value,
// remove drops every value (names are case-insensitive).
template <class Fields>
void apply_header_modifier(const routing::HeaderModifier& m, Fields& f) {
  for (const auto& [name, value] : m.set) f.set(name, value);
  for (const auto& [name, value] : m.add) f.insert(name, value);
  for (const auto& name : m.remove) f.erase(name);
}

// An exchange's filters on the message's fields, whatever carried it: the rule's first,
// then the chosen backendRef's (Gateway API order). Upstream: header modifiers and
// URLRewrite (the Host and the path; the query stays). Downstream: header modifiers.
void apply_request_filters(const routing::Route& route, const routing::Filters* backend, Request& req);
void apply_response_filters(const routing::Route& route, const routing::Filters* backend, Response& res);

}  // namespace gantry::proxy
