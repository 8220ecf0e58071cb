#include "gantry/routing/host_index.h"

#include <gtest/gtest.h>

namespace gantry::routing {
namespace {

struct Case {
  std::string name;
  WildcardDepth depth;
  std::vector<std::string> patterns;  // value = index
  std::string host;
  int want;  // -1: no match
};

class HostIndexTest : public ::testing::TestWithParam<Case> {};

TEST_P(HostIndexTest, Finds) {
  const Case& c = GetParam();
  HostIndex index(c.depth);
  for (size_t i = 0; i < c.patterns.size(); ++i) index.add(c.patterns[i], static_cast<uint32_t>(i));
  auto got = index.find(c.host);
  EXPECT_EQ(got ? static_cast<int>(*got) : -1, c.want);
}

const auto A = WildcardDepth::AnyLabels;
const auto O = WildcardDepth::OneLabel;

INSTANTIATE_TEST_SUITE_P(
    Table, HostIndexTest,
    ::testing::Values(
        Case{"exact_host_matches", A, {"foo.com"}, "foo.com", 0},
        Case{"exact_host_rejects_other", A, {"foo.com"}, "bar.com", -1},
        Case{"exact_beats_wildcard", A, {"*.foo.com", "a.foo.com"}, "a.foo.com", 1},
        Case{"wildcard_matches_one_label", A, {"*.foo.com"}, "a.foo.com", 0},
        Case{"gateway_wildcard_matches_many_labels", A, {"*.foo.com"}, "a.b.foo.com", 0},
        Case{"ingress_wildcard_matches_one_label_only", O, {"*.foo.com"}, "a.b.foo.com", -1},
        Case{"ingress_wildcard_matches_one_label", O, {"*.foo.com"}, "a.foo.com", 0},
        Case{"wildcard_never_matches_bare_suffix", A, {"*.foo.com"}, "foo.com", -1},
        Case{"wildcard_needs_a_label", A, {"*.foo.com"}, ".foo.com", -1},
        Case{"longest_wildcard_wins", A, {"*.com", "*.foo.com"}, "a.foo.com", 1},
        Case{"catch_all_last", A, {"", "*.foo.com"}, "bar.org", 0},
        Case{"catch_all_loses_to_wildcard", A, {"", "*.foo.com"}, "a.foo.com", 1},
        Case{"patterns_are_lowercased", A, {"FOO.com"}, "foo.com", 0},
        Case{"first_duplicate_wins", A, {"foo.com", "foo.com"}, "foo.com", 0}),
    [](const auto& info) { return info.param.name; });

struct NormalizeCase {
  std::string name, in, want;
};
class NormalizeHostTest : public ::testing::TestWithParam<NormalizeCase> {};

TEST_P(NormalizeHostTest, Normalizes) {
  char buf[256];
  EXPECT_EQ(normalize_host(GetParam().in, buf, sizeof buf), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Table, NormalizeHostTest,
                         ::testing::Values(NormalizeCase{"strips_port", "Foo.COM:8080", "foo.com"},
                                           NormalizeCase{"keeps_plain", "foo.com", "foo.com"},
                                           NormalizeCase{"ipv6_keeps_brackets", "[::1]:80", "[::1]"},
                                           NormalizeCase{"drops_trailing_dot", "foo.com.", "foo.com"},
                                           NormalizeCase{"empty_stays_empty", "", ""}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace gantry::routing
