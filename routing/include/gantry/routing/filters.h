// Filters as data (Gateway API HTTPRouteFilter), decided at translation, applied by the
// proxy: header modifiers, redirects, URL rewrites, mirrors; and the rule's timeouts and
// retry policy. The string work they need is here too, pure and testable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gantry/routing/boxed.h"

namespace re2 { class RE2; }

namespace gantry::routing {

struct HeaderModifier {
  std::vector<std::pair<std::string, std::string>> set;  // replaces every value
  std::vector<std::pair<std::string, std::string>> add;  // appends a value
  std::vector<std::string> remove;
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
};

// RegexReplace (ingress-nginx rewrite-target): the whole path becomes `value` with $1..$9
// taken from the route's path regex, as nginx's `rewrite` does.
enum class PathModifierType { None, ReplaceFullPath, ReplacePrefixMatch, RegexReplace };

struct PathModifier {
  PathModifierType type = PathModifierType::None;
  std::string value;
};

struct Redirect {
  // A fixed Location (ingress-nginx permanent-redirect, temporal-redirect, app-root) in
  // which $scheme, $host and $request_uri are replaced; when set, the fields below but
  // status are not used.
  std::string url;
  // ingress-nginx ssl-redirect: https, the same host without port, the request URI with its
  // trailing '/' dropped unless `keep_trailing_slash` (preserve-trailing-slash).
  bool to_https = false;
  bool keep_trailing_slash = false;
  std::string scheme;    // "" keeps the request's
  std::string hostname;  // "" keeps the request's
  uint16_t port = 0;     // 0: derived (HTTPRequestRedirectFilter.port rules)
  PathModifier path;
  unsigned status = 302;
};

struct UrlRewrite {
  std::string hostname;  // "" keeps the Host
  PathModifier path;
};

struct Mirror {
  uint32_t cluster = 0;
  uint64_t numerator = 1;  // the share mirrored: numerator / denominator
  uint64_t denominator = 1;
  // ingress-nginx mirror-target: the copy's target, "$request_uri" replaced by the
  // request's; "" sends the request's own target.
  std::string target;
  std::string host;   // the copy's Host; "" keeps the request's
  bool body = true;   // mirror-request-body: off sends the copy without its body
};

// HTTPCORSFilter. Origins may hold "*" (any) or a pattern whose "*" stands for any run
// of characters ("https://*.example.com").
struct Cors {
  std::vector<std::string> allow_origins;
  std::vector<std::string> allow_methods;  // "*" echoes the requested method
  std::vector<std::string> allow_headers;  // "*" echoes the requested headers
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;
  int64_t max_age = -1;  // seconds; -1: not sent
};

bool cors_origin_allowed(const Cors& cors, std::string_view origin);

struct Filters {
  Boxed<Cors> cors;
  HeaderModifier request_headers;
  HeaderModifier response_headers;
  Boxed<Redirect> redirect;
  Boxed<UrlRewrite> rewrite;
  std::vector<Mirror> mirrors;
  bool empty() const {
    return !cors && request_headers.empty() && response_headers.empty() && !redirect && !rewrite && mirrors.empty();
  }
};

// HTTPRouteRetry leaves the backoff without `backoff` to the implementation. Without one,
// retries against a backend that fails fast land back to back, and a request budget that
// the failures alone just fill (the conformance case: 4 x 100 ms in a 400 ms timeouts.request)
// is decided by scheduling noise. The default grows from 25 ms, doubling up to 250 ms.
inline constexpr uint32_t kDefaultRetryBackoffMs = 25;
inline constexpr uint32_t kMaxDefaultRetryBackoffMs = 250;

struct RetryPolicy {
  uint32_t attempts = 0;          // total tries beyond the first; 0: no retry
  std::vector<unsigned> codes;    // response statuses that are retried
  std::optional<uint32_t> backoff_ms;  // HTTPRouteRetry.backoff: fixed; unset: the growing default
};

// The wait before retry number `retry` (0 for the first). A set backoff is used as is; the
// default doubles per retry, capped, and is jittered into [half, full] by `random` so that
// clients failing together do not retry together.
uint32_t retry_backoff_ms(const RetryPolicy& policy, uint32_t retry, uint64_t random);

struct Timeouts {
  uint32_t request_ms = 0;          // whole request, 0: none
  uint32_t backend_request_ms = 0;  // each upstream try, 0: the proxy default
  // ingress-nginx proxy-connect-timeout, proxy-send-timeout, proxy-read-timeout: connect,
  // each write of the request and each read of the response; 0: the proxy default.
  uint32_t connect_ms = 0;
  uint32_t send_ms = 0;
  uint32_t read_ms = 0;
};

// The path after a ReplaceFullPath or ReplacePrefixMatch; `matched_prefix` is the route's
// PathPrefix value. Query strings are not part of `path`.
std::string modify_path(const PathModifier& m, std::string_view matched_prefix, std::string_view path);

// RegexReplace: `tmpl` with $0..$9 replaced by the captures of `re` (which must match the
// whole `path`); nullopt when it does not match.
std::optional<std::string> regex_replace_path(const re2::RE2& re, std::string_view tmpl, std::string_view path);

// The request target after a URLRewrite's path, its query kept; nullopt when the path stays
// (no path modifier, or a RegexReplace whose regex does not hold). `route_path` is the
// matched route's path match: its prefix or regex is what the modifier refers to.
struct PathMatch;
std::optional<std::string> rewrite_target(const PathModifier& m, const PathMatch& route_path, std::string_view target);

// "$request_uri" in a mirror or redirect template replaced by the request's target; for
// redirects also "$scheme" and "$host".
std::string expand_template(std::string_view tmpl, std::string_view scheme, std::string_view host,
                            std::string_view request_uri);

// The Location of a redirect. request_host has no port; listener_port is the Gateway
// listener's port (what the client connected to, before any --port-map).
std::string redirect_location(const Redirect& r, std::string_view request_scheme, std::string_view request_host,
                              uint16_t listener_port, std::string_view matched_prefix, std::string_view path,
                              std::string_view query);

// Gateway API durations: "1h", "10s", "500ms", "1m30s". nullopt when malformed.
std::optional<uint64_t> parse_duration_ms(std::string_view text);

}  // namespace gantry::routing
