#include "gantry/routing/path_match.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

namespace gantry::routing {
namespace {

struct Case {
  std::string name;
  PathMatchType type;
  std::string value;
  std::string path;
  bool want;
};

class PathMatchTest : public ::testing::TestWithParam<Case> {};

TEST_P(PathMatchTest, Matches) {
  const Case& c = GetParam();
  PathMatch m{c.type, c.value, nullptr};
  if (c.type == PathMatchType::RegularExpression) m.regex = std::make_shared<re2::RE2>(c.value);
  EXPECT_EQ(path_matches(m, c.path), c.want);
}

const auto P = PathMatchType::PathPrefix;
const auto E = PathMatchType::Exact;
const auto R = PathMatchType::RegularExpression;

INSTANTIATE_TEST_SUITE_P(
    Table, PathMatchTest,
    ::testing::Values(Case{"prefix_matches_itself", P, "/foo", "/foo", true},
                      Case{"prefix_matches_trailing_slash", P, "/foo", "/foo/", true},
                      Case{"prefix_matches_subpath", P, "/foo", "/foo/bar", true},
                      Case{"prefix_is_segment_aware", P, "/foo", "/foobar", false},
                      Case{"prefix_with_trailing_slash_matches_bare", P, "/foo/", "/foo", true},
                      Case{"prefix_with_trailing_slash_is_segment_aware", P, "/foo/", "/foobar", false},
                      Case{"root_prefix_matches_all", P, "/", "/anything", true},
                      Case{"prefix_is_case_sensitive", P, "/foo", "/FOO", false},
                      Case{"exact_matches", E, "/one", "/one", true},
                      Case{"exact_rejects_trailing_slash", E, "/one", "/one/", false},
                      Case{"exact_rejects_subpath", E, "/one", "/one/example", false},
                      Case{"regex_matches_whole_path", R, "/v[0-9]+/.*", "/v2/x", true},
                      Case{"regex_is_anchored", R, "/v[0-9]+", "/v2/x", false}),
    [](const auto& info) { return info.param.name; });

struct QueryCase {
  std::string name, query, key;
  bool found;
  std::string value;
};
class QueryParamTest : public ::testing::TestWithParam<QueryCase> {};

TEST_P(QueryParamTest, Finds) {
  std::string_view v;
  EXPECT_EQ(find_query_param(GetParam().query, GetParam().key, v), GetParam().found);
  if (GetParam().found) {
    EXPECT_EQ(v, GetParam().value);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, QueryParamTest,
                         ::testing::Values(QueryCase{"first_param", "a=1&b=2", "a", true, "1"},
                                           QueryCase{"last_param", "a=1&b=2", "b", true, "2"},
                                           QueryCase{"missing", "a=1", "b", false, ""},
                                           QueryCase{"no_value", "flag&a=1", "flag", true, ""},
                                           QueryCase{"first_occurrence_wins", "a=1&a=2", "a", true, "1"},
                                           QueryCase{"names_are_case_sensitive", "A=1", "a", false, ""}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace gantry::routing
