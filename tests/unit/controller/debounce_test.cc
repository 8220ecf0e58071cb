// Debounce: a burst is one translation, due after the hold-off or at the maximum delay.
#include <gtest/gtest.h>

#include "gantry/controller/pipeline/debounce.h"

namespace gantry::controller {
namespace {
using namespace std::chrono_literals;
using Clock = Debounce::Clock;

TEST(Debounce, NothingPendingNothingDue) {
  Debounce d(5ms, 100ms);
  EXPECT_FALSE(d.due());
  EXPECT_FALSE(d.take(Clock::now()));
}

TEST(Debounce, DueAfterTheHoldOffFromTheLastEvent) {
  Debounce d(5ms, 100ms);
  Clock::time_point t0{};
  d.event(t0);
  d.event(t0 + 3ms);
  EXPECT_EQ(*d.due(), t0 + 8ms);
  EXPECT_FALSE(d.take(t0 + 7ms));
  EXPECT_TRUE(d.take(t0 + 8ms));
  EXPECT_FALSE(d.pending());  // taken: the next event starts a new burst
}

TEST(Debounce, AStreamOfEventsStillPublishesAtTheMaximumDelay) {
  Debounce d(5ms, 100ms);
  Clock::time_point t0{};
  for (int i = 0; i < 50; ++i) d.event(t0 + std::chrono::milliseconds(i * 3));  // never 5 ms quiet
  EXPECT_EQ(*d.due(), t0 + 100ms);
  EXPECT_TRUE(d.take(t0 + 150ms));
}

}  // namespace
}  // namespace gantry::controller
