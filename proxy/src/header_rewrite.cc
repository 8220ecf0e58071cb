#include "header_rewrite.h"

#include <boost/beast/core/string.hpp>
#include <cstring>
#include <string>

namespace gantry::proxy {
namespace {

template <class Fields>
bool connection_has(const Fields& f, std::string_view token) {
  for (auto it = f.find(http::field::connection); it != f.end() && it->name() == http::field::connection; ++it) {
    for (auto t : http::token_list(it->value()))
      if (beast::iequals(t, token)) return true;
  }
  return false;
}

// Removes the hop-by-hop fields: the fixed set, and any the Connection field names.
// Transfer-Encoding stays: the relay frames the body the way it arrived (relay.h).
template <class Fields>
void strip_hop_by_hop(Fields& f, bool keep_upgrade) {
  char names[8][64];
  int n = 0;
  for (auto it = f.find(http::field::connection); it != f.end() && it->name() == http::field::connection; ++it) {
    for (auto t : http::token_list(it->value())) {
      if (n < 8 && t.size() < 64 && !beast::iequals(t, "close") && !beast::iequals(t, "keep-alive") &&
          !beast::iequals(t, "upgrade")) {
        std::memcpy(names[n], t.data(), t.size());
        names[n][t.size()] = 0;
        ++n;
      }
    }
  }
  for (int i = 0; i < n; ++i) f.erase(std::string_view(names[i]));
  f.erase(http::field::connection);
  f.erase(http::field::keep_alive);
  f.erase(http::field::proxy_connection);
  f.erase(http::field::te);
  f.erase(http::field::trailer);
  if (!keep_upgrade) f.erase(http::field::upgrade);
}

}  // namespace

bool is_upgrade_request(const Request& req) {
  return req.count(http::field::upgrade) > 0 && connection_has(req, "upgrade");
}

void prepare_upstream_request(Request& req, std::string_view client_ip, bool tls, bool upgrade) {
  strip_hop_by_hop(req, upgrade);
  if (upgrade) req.set(http::field::connection, "Upgrade");
  auto xff = req.find("X-Forwarded-For");
  if (xff == req.end()) {
    req.set("X-Forwarded-For", client_ip);
  } else {
    std::string joined(xff->value());
    joined += ", ";
    joined += client_ip;
    req.set("X-Forwarded-For", joined);
  }
  req.set("X-Forwarded-Proto", tls ? "https" : "http");
  if (auto host = req.find(http::field::host); host != req.end()) req.set("X-Forwarded-Host", host->value());
  req.version(11);
}

void prepare_downstream_response(Response& res, unsigned version, bool keep_alive, bool upgrade) {
  strip_hop_by_hop(res, upgrade);
  res.version(version);
  if (upgrade) {
    res.set(http::field::connection, "Upgrade");
    return;
  }
  res.keep_alive(keep_alive);
}

void apply_request_filters(const routing::Route& route, const routing::Filters* backend, Request& req) {
  for (const routing::Filters* f : {&route.filters, backend}) {
    if (!f) continue;
    apply_header_modifier(f->request_headers, req);
    if (const auto& rw = f->rewrite) {
      if (!rw->hostname.empty()) req.set(http::field::host, rw->hostname);
      if (auto target = routing::rewrite_target(rw->path, route.match.path, req.target())) req.target(*target);
    }
  }
}

void apply_response_filters(const routing::Route& route, const routing::Filters* backend, Response& res) {
  for (const routing::Filters* f : {&route.filters, backend})
    if (f) apply_header_modifier(f->response_headers, res);
}

}  // namespace gantry::proxy
