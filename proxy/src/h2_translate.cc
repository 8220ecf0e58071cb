#include "h2_translate.h"

namespace gantry::proxy {

bool h2_connection_specific(std::string_view n) {
  return n == "connection" || n == "keep-alive" || n == "proxy-connection" || n == "transfer-encoding" ||
         n == "upgrade" || n == "te" || n == "host";
}

void h2_request_head(const Request& req, bool tls, H2Head& out) {
  out.fields.clear();
  out.storage.clear();
  size_t names = 0, count = 0;
  for (const auto& f : req) {
    names += f.name_string().size();
    ++count;
  }
  out.storage.resize(names);  // never reallocated below: the views stay valid
  out.fields.reserve(count + 5);
  std::string_view authority;
  if (auto h = req.find(http::field::host); h != req.end()) authority = h->value();
  out.fields.push_back({":method", req.method_string()});
  out.fields.push_back({":scheme", tls ? "https" : "http"});
  out.fields.push_back({":authority", authority});
  out.fields.push_back({":path", req.target()});
  char* at = out.storage.data();
  for (const auto& f : req) {
    const std::string_view name = f.name_string();
    for (size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      at[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    const std::string_view lower(at, name.size());
    at += name.size();
    if (h2_connection_specific(lower)) continue;
    out.fields.push_back({lower, f.value()});
  }
  out.fields.push_back({"te", "trailers"});
}

void h2_response_into(const H2Call& call, Response& res) {
  res.result(call.status);
  res.version(11);
  for (const auto& [name, value] : call.headers) res.insert(name, value);
}

}  // namespace gantry::proxy
