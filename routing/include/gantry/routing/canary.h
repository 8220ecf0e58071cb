// Canary: an ingress-nginx canary Ingress as an alternative backend of a main route, and
// the choice per request in ingress-nginx's order: header, then cookie, then weight.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gantry/routing/request_view.h"

namespace re2 { class RE2; }

namespace gantry::routing {

struct Canary {
  uint32_t cluster = 0;
  std::string source;  // "namespace/name" of the canary Ingress, for the config dump
  std::string header;  // canary-by-header, lowercase; "" when not set
  std::string header_value;  // canary-by-header-value: only this value routes to the canary
  // canary-by-header-pattern (used when no header_value): a search, unanchored. A pattern
  // that did not compile is kept as `pattern_invalid`, and then the header never matches.
  std::shared_ptr<const re2::RE2> header_pattern;
  bool pattern_invalid = false;
  std::string cookie;  // canary-by-cookie; "" when not set
  uint32_t weight = 0;  // canary-weight, out of weight_total
  uint32_t weight_total = 100;
};

// True when this request goes to the canary. `random` is uniform over uint64.
//   header: with header_value, equal -> canary; with a pattern, a match -> canary; else
//           "always" -> canary, "never" -> main (and nothing else is looked at);
//           any other value falls through;
//   cookie: "always" -> canary, "never" -> main; other values fall through;
//   weight: canary with probability weight / weight_total.
bool canary_chosen(const Canary& canary, const RequestView& request, uint64_t random);

// The value of cookie `name` in a Cookie header ("a=1; b=2"); false when absent.
bool find_cookie(std::string_view cookie_header, std::string_view name, std::string_view& value);

}  // namespace gantry::routing
