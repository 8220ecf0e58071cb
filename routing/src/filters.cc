#include "gantry/routing/filters.h"
#include "gantry/routing/path_match.h"
#include "gantry/routing/request_view.h"

#include <re2/re2.h>

#include <algorithm>

namespace gantry::routing {

std::optional<std::string> rewrite_target(const PathModifier& m, const PathMatch& route_path, std::string_view target) {
  if (m.type == PathModifierType::None) return std::nullopt;
  std::string_view path, query;
  split_target(target, path, query);
  if (m.type == PathModifierType::RegexReplace) {
    // nginx `rewrite ... break`: the replacement is the new path; the query is kept,
    // after the replacement's own when it has one.
    if (!route_path.regex) return std::nullopt;
    auto replaced = regex_replace_path(*route_path.regex, m.value, path);
    if (!replaced) return std::nullopt;
    if (!query.empty()) {
      *replaced += replaced->find('?') == std::string::npos ? '?' : '&';
      *replaced += query;
    }
    if (replaced->empty() || replaced->front() != '/') replaced->insert(replaced->begin(), '/');
    return replaced;
  }
  std::string_view prefix =
      route_path.type == PathMatchType::PathPrefix ? std::string_view(route_path.value) : std::string_view{};
  std::string out = modify_path(m, prefix, path);
  if (!query.empty()) {
    out += '?';
    out += query;
  }
  return out;
}
namespace {

std::string_view trim_trailing_slash(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : scheme == "http" ? 80 : 0; }

}  // namespace

std::string modify_path(const PathModifier& m, std::string_view matched_prefix, std::string_view path) {
  switch (m.type) {
    case PathModifierType::None: return std::string(path);
    case PathModifierType::ReplaceFullPath: return m.value.empty() ? "/" : m.value;
    case PathModifierType::RegexReplace: return std::string(path);  // needs the regex: regex_replace_path
    case PathModifierType::ReplacePrefixMatch: {
      std::string_view prefix = trim_trailing_slash(matched_prefix);
      std::string_view rest = path.size() >= prefix.size() ? path.substr(prefix.size()) : std::string_view{};
      std::string out(trim_trailing_slash(m.value));
      if (!rest.empty() && rest.front() != '/') out += '/';
      out += rest;
      if (out.empty()) out = "/";
      return out;
    }
  }
  return std::string(path);
}

std::optional<std::string> regex_replace_path(const re2::RE2& re, std::string_view tmpl, std::string_view path) {
  constexpr int kMax = 10;
  re2::StringPiece groups[kMax];
  const int n = std::min(kMax, re.NumberOfCapturingGroups() + 1);
  if (!re.Match(re2::StringPiece(path.data(), path.size()), 0, path.size(), re2::RE2::ANCHOR_BOTH, groups, n))
    return std::nullopt;
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '$' && i + 1 < tmpl.size() && tmpl[i + 1] >= '0' && tmpl[i + 1] <= '9') {
      int g = tmpl[++i] - '0';
      if (g < n) out.append(groups[g].data(), groups[g].size());  // an absent group is empty, as in nginx
      continue;
    }
    out += tmpl[i];
  }
  return out;
}

std::string expand_template(std::string_view tmpl, std::string_view scheme, std::string_view host,
                            std::string_view request_uri) {
  static constexpr std::pair<std::string_view, int> kVars[] = {{"$request_uri", 0}, {"$scheme", 1}, {"$host", 2}};
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    bool replaced = false;
    if (tmpl[i] == '$') {
      for (const auto& [name, which] : kVars) {
        if (tmpl.substr(i).starts_with(name)) {
          out += which == 0 ? request_uri : which == 1 ? scheme : host;
          i += name.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += tmpl[i++];
  }
  return out;
}

std::string redirect_location(const Redirect& r, std::string_view request_scheme, std::string_view request_host,
                              uint16_t listener_port, std::string_view matched_prefix, std::string_view path,
                              std::string_view query) {
  if (!r.url.empty() || r.to_https) {
    std::string uri(path);
    if (!query.empty()) {
      uri += '?';
      uri += query;
    }
    if (!r.url.empty()) return expand_template(r.url, request_scheme, request_host, uri);
    // ingress-nginx drops one trailing '/' of the request URI unless told to keep it.
    if (!r.keep_trailing_slash && !uri.empty() && uri.back() == '/') uri.pop_back();
    return "https://" + std::string(request_host) + uri;
  }
  std::string scheme = r.scheme.empty() ? std::string(request_scheme) : r.scheme;
  std::string host = r.hostname.empty() ? std::string(request_host) : r.hostname;
  // HTTPRequestRedirectFilter.port: an explicit port; else the scheme's well-known port
  // when the scheme is set; else the listener's port. A scheme's own port is left out.
  uint16_t port = r.port;
  if (port == 0) port = !r.scheme.empty() && default_port(r.scheme) ? default_port(r.scheme) : listener_port;
  std::string out = scheme + "://" + host;
  if (port != 0 && port != default_port(scheme)) out += ":" + std::to_string(port);
  out += modify_path(r.path, matched_prefix, path);
  if (!query.empty()) {
    out += '?';
    out += query;
  }
  return out;
}

namespace {
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == text;
  std::string_view head = pattern.substr(0, star), tail = pattern.substr(star + 1);
  if (!text.starts_with(head)) return false;
  text.remove_prefix(head.size());
  for (size_t i = 0; i <= text.size(); ++i)
    if (glob_match(tail, text.substr(i))) return true;
  return false;
}
}  // namespace

bool cors_origin_allowed(const Cors& cors, std::string_view origin) {
  if (origin.empty()) return false;
  for (const std::string& allowed : cors.allow_origins)
    if (allowed == "*" || glob_match(allowed, origin)) return true;
  return false;
}

std::optional<uint64_t> parse_duration_ms(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  while (!text.empty()) {
    size_t i = 0;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == 0) return std::nullopt;
    double v = std::stod(std::string(text.substr(0, i)));
    text.remove_prefix(i);
    size_t j = 0;
    while (j < text.size() && text[j] >= 'a' && text[j] <= 'z') ++j;
    std::string_view unit = text.substr(0, j);
    text.remove_prefix(j);
    if (unit == "h") total += v * 3'600'000;
    else if (unit == "m") total += v * 60'000;
    else if (unit == "s") total += v * 1000;
    else if (unit == "ms") total += v;
    else return std::nullopt;
  }
  return static_cast<uint64_t>(total);
}

uint32_t retry_backoff_ms(const RetryPolicy& policy, uint32_t retry, uint64_t random) {
  if (policy.backoff_ms) return *policy.backoff_ms;
  uint32_t full = kDefaultRetryBackoffMs << std::min<uint32_t>(retry, 4);
  full = std::min(full, kMaxDefaultRetryBackoffMs);
  const uint32_t half = full / 2;
  return half + static_cast<uint32_t>(random % (full - half + 1));
}

}  // namespace gantry::routing
