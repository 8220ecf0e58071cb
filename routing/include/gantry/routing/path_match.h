// Path, header, query and method matchers. Compiled once by the table builder;
// evaluated per request without allocation.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 { class RE2; }

namespace gantry::routing {

enum class PathMatchType { Exact, PathPrefix, RegularExpression };

struct PathMatch {
  PathMatchType type = PathMatchType::PathPrefix;
  std::string value = "/";
  std::shared_ptr<const re2::RE2> regex;  // set for RegularExpression
};

enum class ValueMatchType { Exact, RegularExpression };

// A header (name lowercased) or query parameter (name as written: query names are
// case-sensitive) that must be present with a matching value.
struct ValueMatch {
  ValueMatchType type = ValueMatchType::Exact;
  std::string name;
  std::string value;
  std::shared_ptr<const re2::RE2> regex;
};

// Gateway API PathPrefix: the prefix matches whole path segments, so "/foo" matches
// "/foo", "/foo/" and "/foo/bar" but not "/foobar"; a trailing "/" in the prefix is ignored.
bool path_prefix_matches(std::string_view prefix, std::string_view path);
bool path_matches(const PathMatch& m, std::string_view path);
bool value_matches(const ValueMatch& m, std::string_view value);

// Finds `name` in a raw query string ("a=1&b=2"); the first occurrence wins.
bool find_query_param(std::string_view query, std::string_view name, std::string_view& value);

}  // namespace gantry::routing
