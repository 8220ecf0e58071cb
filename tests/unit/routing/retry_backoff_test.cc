#include "gantry/routing/filters.h"

#include <gtest/gtest.h>

namespace gantry::routing {
namespace {

TEST(RetryBackoff, SetBackoffIsUsedAsIs) {
  RetryPolicy p;
  p.backoff_ms = 100;
  for (uint32_t retry = 0; retry < 5; ++retry) EXPECT_EQ(retry_backoff_ms(p, retry, 12345 * retry), 100u);
  p.backoff_ms = 0;
  EXPECT_EQ(retry_backoff_ms(p, 3, 7), 0u);
}

TEST(RetryBackoff, DefaultDoublesWithinJitterAndIsCapped) {
  struct Row {
    uint32_t retry, low, high;
  } rows[] = {{0, 12, 25}, {1, 25, 50}, {2, 50, 100}, {3, 100, 200}, {4, 125, 250}, {9, 125, 250}};
  RetryPolicy p;
  for (const Row& r : rows) {
    uint32_t seen_low = UINT32_MAX, seen_high = 0;
    for (uint64_t random = 0; random < 1000; ++random) {
      uint32_t ms = retry_backoff_ms(p, r.retry, random * 0x9E3779B97F4A7C15ull);
      seen_low = std::min(seen_low, ms);
      seen_high = std::max(seen_high, ms);
    }
    EXPECT_EQ(seen_low, r.low) << "retry " << r.retry;
    EXPECT_EQ(seen_high, r.high) << "retry " << r.retry;
  }
}

}  // namespace
}  // namespace gantry::routing
