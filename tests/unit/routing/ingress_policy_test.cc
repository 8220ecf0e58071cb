// The per-request parts of the ingress-nginx annotations: canary choice, source ranges,
// regex rewrites and redirect templates.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <map>

#include "gantry/routing/canary.h"
#include "gantry/routing/filters.h"
#include "gantry/routing/source_range.h"

namespace gantry::routing {
namespace {

std::string_view header(const void* h, std::string_view name, bool& found) {
  const auto& m = *static_cast<const std::map<std::string, std::string, std::less<>>*>(h);
  auto it = m.find(name);
  found = it != m.end();
  return found ? std::string_view(it->second) : std::string_view{};
}

struct CanaryRow {
  const char* name;
  std::map<std::string, std::string, std::less<>> headers;
  uint64_t random;
  bool want;
};

Canary sample() {
  Canary c;
  c.header = "x-canary";
  c.cookie = "canary";
  c.weight = 30;
  c.weight_total = 100;
  return c;
}

class CanaryChoice : public ::testing::TestWithParam<CanaryRow> {};
TEST_P(CanaryChoice, FollowsIngressNginxOrder) {
  RequestView v;
  v.headers = &GetParam().headers;
  v.header = &header;
  EXPECT_EQ(canary_chosen(sample(), v, GetParam().random), GetParam().want);
}
INSTANTIATE_TEST_SUITE_P(
    Rows, CanaryChoice,
    ::testing::Values(CanaryRow{"HeaderAlways", {{"x-canary", "always"}}, 99, true},
                      CanaryRow{"HeaderNeverStopsEvaluation", {{"x-canary", "never"}, {"cookie", "canary=always"}}, 0, false},
                      CanaryRow{"OtherHeaderValueFallsThrough", {{"x-canary", "maybe"}, {"cookie", "canary=always"}}, 99, true},
                      CanaryRow{"CookieNever", {{"cookie", "a=1; canary=never"}}, 0, false},
                      CanaryRow{"WeightInside", {}, 29, true},
                      CanaryRow{"WeightOutside", {}, 30, false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CanaryChoice, HeaderValueAndPattern) {
  Canary c;
  c.header = "x-v";
  c.header_value = "blue";
  std::map<std::string, std::string, std::less<>> h{{"x-v", "always"}};
  RequestView v;
  v.headers = &h;
  v.header = &header;
  EXPECT_FALSE(canary_chosen(c, v, 0));  // with a value set, "always" is just another value
  h["x-v"] = "blue";
  EXPECT_TRUE(canary_chosen(c, v, 0));
  c.header_value.clear();
  c.header_pattern = std::make_shared<const re2::RE2>("^v2");
  h["x-v"] = "v2.3";
  EXPECT_TRUE(canary_chosen(c, v, 0));
  c.header_pattern.reset();
  c.pattern_invalid = true;
  EXPECT_FALSE(canary_chosen(c, v, 0));  // a pattern that did not compile means main
}

TEST(SourceRange, ParseAndMatch) {
  std::vector<SourceRange> r;
  for (const char* t : {"10.0.0.0/8", "192.168.1.7", "2001:db8::/32"}) r.push_back(*parse_source_range(t));
  const uint8_t in[4] = {10, 1, 2, 3}, out[4] = {11, 0, 0, 1}, host[4] = {192, 168, 1, 7};
  const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 9, 9, 9};
  const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_TRUE(source_allowed(r, in, 4));
  EXPECT_FALSE(source_allowed(r, out, 4));
  EXPECT_TRUE(source_allowed(r, host, 4));
  EXPECT_TRUE(source_allowed(r, mapped, 16));
  EXPECT_TRUE(source_allowed(r, v6, 16));
  EXPECT_TRUE(source_allowed({}, out, 4));
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "host", "10.0.0.0/", "::/129"}) EXPECT_FALSE(parse_source_range(bad)) << bad;
}

TEST(RegexReplace, CapturesAsNginxRewrite) {
  re2::RE2 re("(?i)(?:/something(/|$)(.*)).*");
  EXPECT_EQ(regex_replace_path(re, "/$2", "/something/new/path").value_or("x"), "/new/path");
  EXPECT_EQ(regex_replace_path(re, "/$2", "/something").value_or("x"), "/");
  EXPECT_EQ(regex_replace_path(re, "/x/$1$2$9", "/SOMETHING/a").value_or("x"), "/x//a");
  EXPECT_FALSE(regex_replace_path(re, "/$2", "/other"));
}

TEST(RedirectTemplates, UrlAndHttps) {
  Redirect r;
  r.url = "$scheme://$host/app$request_uri";
  EXPECT_EQ(redirect_location(r, "http", "a.io", 80, "", "/p", "q=1"), "http://a.io/app/p?q=1");
  Redirect s;
  s.to_https = true;
  EXPECT_EQ(redirect_location(s, "http", "a.io", 80, "", "/p/", ""), "https://a.io/p");
  EXPECT_EQ(redirect_location(s, "http", "a.io", 80, "", "/", ""), "https://a.io");
  s.keep_trailing_slash = true;
  EXPECT_EQ(redirect_location(s, "http", "a.io", 80, "", "/p/", "x=1"), "https://a.io/p/?x=1");
}

}  // namespace
}  // namespace gantry::routing
