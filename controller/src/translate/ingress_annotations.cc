// ingress-nginx annotations -> values, following its user guide ("Annotations"). What
// ingress-nginx would have done with an annotation Gantry does not act on is said in a note,
// never dropped silently.
#include "ingress_annotations.h"

#include "context.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace gantry::controller::translate_detail {
namespace {

// Raw nginx configuration: refused outright (CVE-2021-25742, CVE-2023-5044, CVE-2025-1974).
const std::set<std::string, std::less<>> kRefused = {"configuration-snippet", "server-snippet", "auth-snippet",
                                                     "stream-snippet", "modsecurity-snippet"};

std::optional<bool> parse_bool(std::string_view v) {
  // Go's strconv.ParseBool, which ingress-nginx uses.
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view v) {
  if (v.empty() || v.size() > 12) return std::nullopt;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string item = trim(v.substr(0, comma));
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::optional<uint64_t> parse_nginx_size(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t mult = 1;
  char last = text.back();
  if (last == 'k' || last == 'K') mult = 1024;
  else if (last == 'm' || last == 'M') mult = 1024 * 1024;
  else if (last == 'g' || last == 'G') mult = 1024ull * 1024 * 1024;
  if (mult != 1) text.remove_suffix(1);
  auto n = parse_int(text);
  if (!n) return std::nullopt;
  return static_cast<uint64_t>(*n) * mult;
}

std::optional<uint64_t> parse_nginx_seconds_ms(std::string_view text) {
  if (auto n = parse_int(text)) return static_cast<uint64_t>(*n) * 1000;
  return routing::parse_duration_ms(text);
}

IngressAnnotations parse_ingress_annotations(const std::map<std::string, std::string>& annotations,
                                             std::vector<AnnotationNote>& notes) {
  IngressAnnotations a;
  std::map<std::string, std::string, std::less<>> ours;
  for (const auto& [k, v] : annotations)
    if (k.starts_with(kNginxPrefix)) ours[k.substr(std::string_view(kNginxPrefix).size())] = v;

  auto invalid = [&](const std::string& name, const std::string& why) {
    notes.push_back({name, "InvalidValue", "'" + ours[name] + "' " + why + "; the annotation is not applied"});
  };
  std::set<std::string, std::less<>> used;
  auto get = [&](const std::string& name) -> const std::string* {
    auto it = ours.find(name);
    if (it == ours.end()) return nullptr;
    used.insert(name);
    return &it->second;
  };
  auto flag = [&](const std::string& name, bool& out) {
    if (const std::string* v = get(name)) {
      if (auto b = parse_bool(*v)) out = *b;
      else invalid(name, "is not true or false");
    }
  };
  auto number = [&](const std::string& name, uint32_t& out, int64_t min, int64_t max) {
    if (const std::string* v = get(name)) {
      auto n = parse_int(*v);
      if (n && *n >= min && *n <= max) out = static_cast<uint32_t>(*n);
      else invalid(name, "is not a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    }
  };
  auto seconds = [&](const std::string& name, uint32_t& out) {
    if (const std::string* v = get(name)) {
      auto ms = parse_nginx_seconds_ms(*v);
      if (ms && *ms > 0 && *ms <= 86'400'000) out = static_cast<uint32_t>(*ms);
      else invalid(name, "is not a timeout in seconds");
    }
  };
  auto text = [&](const std::string& name, std::string& out) {
    if (const std::string* v = get(name)) out = *v;
  };

  flag("canary", a.canary);
  text("canary-by-header", a.canary_header);
  a.canary_header = lower(std::move(a.canary_header));
  text("canary-by-header-value", a.canary_header_value);
  text("canary-by-header-pattern", a.canary_header_pattern);
  text("canary-by-cookie", a.canary_cookie);
  number("canary-weight-total", a.canary_weight_total, 1, 1'000'000);
  number("canary-weight", a.canary_weight, 0, 1'000'000);
  if (a.canary_weight > a.canary_weight_total) a.canary_weight = a.canary_weight_total;

  if (const std::string* v = get("mirror-target")) a.mirror_target = *v;
  text("mirror-host", a.mirror_host);
  if (const std::string* v = get("mirror-request-body")) {
    if (*v == "on") a.mirror_body = true;
    else if (*v == "off") a.mirror_body = false;
    else invalid("mirror-request-body", "is not on or off");
  }

  flag("use-regex", a.use_regex);
  if (const std::string* v = get("rewrite-target")) a.rewrite_target = *v;
  if (const std::string* v = get("app-root")) {
    if (v->starts_with("/")) a.app_root = *v;
    else invalid("app-root", "must be a path starting with /");
  }
  if (const std::string* v = get("ssl-redirect")) {
    if (auto b = parse_bool(*v)) a.ssl_redirect = *b;
    else invalid("ssl-redirect", "is not true or false");
  }
  flag("force-ssl-redirect", a.force_ssl_redirect);
  flag("preserve-trailing-slash", a.preserve_trailing_slash);
  flag("from-to-www-redirect", a.from_to_www);
  flag("ssl-passthrough", a.ssl_passthrough);

  // A temporal redirect is looked at first, as ingress-nginx's redirect parser does.
  auto redirect = [&](const std::string& name, unsigned fallback_code, unsigned max_code) -> bool {
    const std::string* url = get(name);
    uint32_t code = fallback_code;
    number(name + "-code", code, 300, max_code);
    if (!url) return false;
    if (url->empty()) return false;
    routing::Redirect r;
    r.url = *url;
    r.status = code;
    a.redirect = std::move(r);
    return true;
  };
  if (redirect("temporal-redirect", 302, 307)) {
    if (const std::string* p = get("permanent-redirect"); p && !p->empty())
      notes.push_back({"permanent-redirect", "Ignored", "temporal-redirect is set and takes precedence"});
    uint32_t unused = 301;
    number("permanent-redirect-code", unused, 300, 308);
  } else {
    redirect("permanent-redirect", 301, 308);
  }

  if (const std::string* v = get("backend-protocol")) {
    std::string p = *v;
    std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    // GRPC and GRPCS are HTTP/2 to the backend, cleartext (prior knowledge) or over TLS.
    if (p == "HTTPS" || p == "GRPCS") a.backend_https = true;
    if (p == "GRPC" || p == "GRPCS") a.backend_h2 = true;
    else if (p != "HTTP" && p != "HTTPS")
      notes.push_back({"backend-protocol", "NotSupported",
                       "'" + *v + "' is not supported (HTTP, HTTPS, GRPC and GRPCS are); HTTP is used"});
  }
  text("upstream-vhost", a.upstream_vhost);
  if (const std::string* v = get("proxy-body-size")) {
    if (auto n = parse_nginx_size(*v)) a.body_limit = *n;
    else invalid("proxy-body-size", "is not an nginx size (bytes, or a number with k, m or g)");
  }
  seconds("proxy-connect-timeout", a.connect_ms);
  seconds("proxy-send-timeout", a.send_ms);
  seconds("proxy-read-timeout", a.read_ms);

  bool cors = false;
  flag("enable-cors", cors);
  routing::Cors c;
  c.allow_origins = {"*"};
  c.allow_methods = {"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"};
  c.allow_headers = {"DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since", "Cache-Control",
                     "Content-Type", "Authorization"};
  c.allow_credentials = true;
  c.max_age = 1728000;
  if (const std::string* v = get("cors-allow-origin")) c.allow_origins = split_list(*v);
  if (const std::string* v = get("cors-allow-methods")) c.allow_methods = split_list(*v);
  if (const std::string* v = get("cors-allow-headers")) c.allow_headers = split_list(*v);
  if (const std::string* v = get("cors-expose-headers")) c.expose_headers = split_list(*v);
  flag("cors-allow-credentials", c.allow_credentials);
  if (const std::string* v = get("cors-max-age")) {
    if (auto n = parse_int(*v)) c.max_age = *n;
    else invalid("cors-max-age", "is not a number of seconds");
  }
  if (cors) a.cors = std::move(c);

  for (const char* name : {"whitelist-source-range", "allowlist-source-range"}) {
    const std::string* v = get(name);
    if (!v) continue;
    for (const std::string& item : split_list(*v)) {
      if (auto r = routing::parse_source_range(item)) a.source_ranges.push_back(std::move(*r));
      else notes.push_back({name, "InvalidValue", "'" + item + "' is not an IP address or CIDR; it is left out"});
    }
  }

  for (const auto& [name, value] : ours) {
    if (used.count(name)) continue;
    if (kRefused.count(name))
      notes.push_back({name, "Refused", "raw nginx configuration is never applied; the Ingress is served without it"});
    else
      notes.push_back({name, "NotSupported", "not supported by Gantry; the Ingress is served as if it were absent"});
  }
  // A canary Ingress offers a backend, nothing else (ingress-nginx ignores the rest).
  if (a.canary) {
    for (const auto& [name, value] : ours)
      if (used.count(name) && !name.starts_with("canary"))
        notes.push_back({name, "Ignored", "annotations other than canary-* are ignored on a canary Ingress"});
  }
  std::sort(notes.begin(), notes.end(), [](const AnnotationNote& x, const AnnotationNote& y) {
    return std::tie(x.annotation, x.reason, x.message) < std::tie(y.annotation, y.reason, y.message);
  });
  return a;
}

}  // namespace gantry::controller::translate_detail
