#include "cors.h"

namespace gantry::proxy {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ", ";
    out += i;
  }
  return out;
}

bool has_star(const std::vector<std::string>& items) {
  return std::find(items.begin(), items.end(), "*") != items.end();
}

}  // namespace

http::response<http::empty_body> cors_preflight_response(const routing::Cors& cors, const Request& req) {
  http::response<http::empty_body> res{http::status::no_content, req.version()};
  res.set(http::field::server, "gantry");
  std::string_view origin = req[http::field::origin];
  if (!routing::cors_origin_allowed(cors, origin)) return res;
  // The origin is echoed (never "*"), which is right with and without credentials.
  res.set(http::field::access_control_allow_origin, origin);
  res.set(http::field::vary, "Origin");
  res.set(http::field::access_control_allow_methods,
          has_star(cors.allow_methods) ? std::string(req[http::field::access_control_request_method])
                                       : join(cors.allow_methods));
  if (has_star(cors.allow_headers)) {
    if (auto h = req.find(http::field::access_control_request_headers); h != req.end())
      res.set(http::field::access_control_allow_headers, h->value());
  } else if (!cors.allow_headers.empty()) {
    res.set(http::field::access_control_allow_headers, join(cors.allow_headers));
  }
  if (!cors.expose_headers.empty()) res.set(http::field::access_control_expose_headers, join(cors.expose_headers));
  if (cors.max_age >= 0) res.set(http::field::access_control_max_age, std::to_string(cors.max_age));
  if (cors.allow_credentials) res.set(http::field::access_control_allow_credentials, "true");
  return res;
}

void add_cors_headers(const routing::Cors& cors, std::string_view origin, Response& res) {
  if (!routing::cors_origin_allowed(cors, origin)) return;
  res.set(http::field::access_control_allow_origin, origin);
  res.set(http::field::vary, "Origin");
  if (cors.allow_credentials) res.set(http::field::access_control_allow_credentials, "true");
  if (!cors.expose_headers.empty()) res.set(http::field::access_control_expose_headers, join(cors.expose_headers));
}

}  // namespace gantry::proxy
