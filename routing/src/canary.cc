#include "gantry/routing/canary.h"

#include <re2/re2.h>

namespace gantry::routing {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool find_cookie(std::string_view header, std::string_view name, std::string_view& value) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = trim(header.substr(0, semi));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
      value = trim(pair.substr(eq + 1));
      return true;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return false;
}

bool canary_chosen(const Canary& c, const RequestView& request, uint64_t random) {
  if (!c.header.empty()) {
    bool found = false;
    std::string_view v = request.find_header(c.header, found);
    if (found) {
      if (!c.header_value.empty()) {
        if (v == c.header_value) return true;
      } else if (c.header_pattern || c.pattern_invalid) {
        if (c.pattern_invalid) return false;  // ingress-nginx: a regex error means main
        if (re2::RE2::PartialMatch(re2::StringPiece(v.data(), v.size()), *c.header_pattern)) return true;
      } else if (v == "always") {
        return true;
      } else if (v == "never") {
        return false;
      }
    }
  }
  if (!c.cookie.empty()) {
    bool found = false;
    std::string_view header = request.find_header("cookie", found);
    std::string_view v;
    if (found && find_cookie(header, c.cookie, v)) {
      if (v == "always") return true;
      if (v == "never") return false;
    }
  }
  if (c.weight == 0 || c.weight_total == 0) return false;
  // math.random(total) <= weight in ingress-nginx: a draw from 1..total.
  return random % c.weight_total < c.weight;
}

}  // namespace gantry::routing
