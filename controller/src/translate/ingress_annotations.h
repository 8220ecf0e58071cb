// Internal: the ingress-nginx annotations of one Ingress (nginx.ingress.kubernetes.io/*)
// read into values, with a note for every annotation Gantry does not act on as written:
// refused (raw nginx configuration), not supported, or an invalid value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gantry/routing/filters.h"
#include "gantry/routing/source_range.h"

namespace gantry::controller::translate_detail {

inline constexpr const char* kNginxPrefix = "nginx.ingress.kubernetes.io/";
// ingress-nginx's default proxy-body-size.
inline constexpr uint64_t kDefaultIngressBodyLimit = 1024 * 1024;

struct AnnotationNote {
  std::string annotation;  // without the prefix
  std::string reason;      // Refused, NotSupported, InvalidValue, Ignored
  std::string message;
};

struct IngressAnnotations {
  // canary-*
  bool canary = false;
  std::string canary_header, canary_header_value, canary_header_pattern, canary_cookie;
  uint32_t canary_weight = 0, canary_weight_total = 100;
  // mirror-*
  std::optional<std::string> mirror_target;
  std::string mirror_host;
  bool mirror_body = true;
  // paths and redirects
  bool use_regex = false;
  std::optional<std::string> rewrite_target;
  std::optional<std::string> app_root;
  std::optional<bool> ssl_redirect;  // unset: on for hosts with TLS
  bool force_ssl_redirect = false;
  bool preserve_trailing_slash = false;
  routing::Boxed<routing::Redirect> redirect;  // permanent-redirect or temporal-redirect
  bool from_to_www = false;
  bool ssl_passthrough = false;  // the host's TLS goes to the backend unopened
  // upstream
  bool backend_https = false;
  bool backend_h2 = false;  // GRPC, GRPCS
  std::string upstream_vhost;
  uint64_t body_limit = kDefaultIngressBodyLimit;  // 0: unlimited
  uint32_t connect_ms = 0, send_ms = 0, read_ms = 0;
  routing::Boxed<routing::Cors> cors;
  std::vector<routing::SourceRange> source_ranges;
};

IngressAnnotations parse_ingress_annotations(const std::map<std::string, std::string>& annotations,
                                             std::vector<AnnotationNote>& notes);

// nginx sizes: "8", "512k", "8m", "1g" (either case) -> bytes; nullopt when malformed.
std::optional<uint64_t> parse_nginx_size(std::string_view text);
// ingress-nginx timeouts: whole seconds ("60"), or nginx times ("500ms", "1m", "30s").
std::optional<uint64_t> parse_nginx_seconds_ms(std::string_view text);

}  // namespace gantry::controller::translate_detail
