// The exposition writer: label escaping, cumulative histogram buckets, bucket bounds; its
// output read back by the strict parser the integration tests use.
#include "gantry/common/prometheus.h"

#include <gtest/gtest.h>

#include "../../support/prom_text.h"

namespace gantry::prom {
namespace {

TEST(Prometheus, EscapesLabelValuesAndHelp) {
  Exposition out;
  out.family("x_total", "counter", "a help with \\ and\na newline");
  out.sample("x_total", {{"route", "ns/a\"b\\c\nd"}}, uint64_t{3});
  EXPECT_EQ(out.text(), "# HELP x_total a help with \\\\ and\\na newline\n# TYPE x_total counter\n"
                        "x_total{route=\"ns/a\\\"b\\\\c\\nd\"} 3\n");
  auto parsed = test::parse_prom(out.text());
  EXPECT_TRUE(parsed.errors.empty()) << parsed.errors.front();
  EXPECT_EQ(parsed.families["x_total"].samples.at(0).labels.at("route"), "ns/a\"b\\c\nd");
}

TEST(Prometheus, HistogramBucketsAreCumulativeWithInf) {
  Histogram h;
  for (uint64_t us : {100u, 500u, 501u, 2'000u, 20'000'000u}) {
    h.counts[bucket_of_us(us)]++;
    h.sum += static_cast<double>(us) / 1e6;
  }
  EXPECT_EQ(bucket_of_us(500), 0u);  // le is "less or equal"
  EXPECT_EQ(bucket_of_us(501), 1u);
  EXPECT_EQ(bucket_of_us(20'000'000), kSecondsBounds.size());  // +Inf
  Exposition out;
  out.family("d_seconds", "histogram", "durations");
  out.histogram("d_seconds", {{"route", "r"}}, h);
  const std::string& t = out.text();
  EXPECT_NE(t.find("d_seconds_bucket{route=\"r\",le=\"0.0005\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("d_seconds_bucket{route=\"r\",le=\"0.001\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("d_seconds_bucket{route=\"r\",le=\"0.0025\"} 4\n"), std::string::npos) << t;
  EXPECT_NE(t.find("d_seconds_bucket{route=\"r\",le=\"+Inf\"} 5\n"), std::string::npos) << t;
  EXPECT_NE(t.find("d_seconds_count{route=\"r\"} 5\n"), std::string::npos) << t;
  auto parsed = test::parse_prom(t);
  EXPECT_TRUE(parsed.errors.empty()) << parsed.errors.front();
  EXPECT_NEAR(parsed.sum("d_seconds_sum"), 20.003101, 1e-9);
}

TEST(Prometheus, TheTestParserRefusesWhatPrometheusRefuses) {
  for (const char* bad : {"x 1\n",                                                    // no TYPE
                          "# HELP x h\n# TYPE x counter\nx 1\n",                      // counter without _total
                          "# HELP x_total h\n# TYPE x_total counter\nx_total{a=b} 1\n",  // unquoted
                          "# HELP x_total h\n# TYPE x_total counter\nx_total 1\nx_total 2\n",  // duplicate
                          "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n"}) {
    EXPECT_FALSE(test::parse_prom(bad).errors.empty()) << bad;
  }
}

}  // namespace
}  // namespace gantry::prom
