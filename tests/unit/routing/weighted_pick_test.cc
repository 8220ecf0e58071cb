#include "gantry/routing/weighted_pick.h"

#include <gtest/gtest.h>

namespace gantry::routing {
namespace {

struct Case {
  std::string name;
  std::vector<uint32_t> weights;
};

class WeightedPickTest : public ::testing::TestWithParam<Case> {};

// Over many draws from a seeded generator each backend's share is within 1 percentage
// point of its weight's share; zero weights are never picked.
TEST_P(WeightedPickTest, DistributionFollowsWeights) {
  std::vector<WeightedCluster> backends;
  uint64_t total = 0;
  for (size_t i = 0; i < GetParam().weights.size(); ++i) {
    backends.push_back({static_cast<uint32_t>(i), GetParam().weights[i], nullptr});
    total += GetParam().weights[i];
  }
  FastRandom rng(42);
  constexpr int kDraws = 200'000;
  std::vector<int> counts(backends.size());
  for (int i = 0; i < kDraws; ++i) {
    int pick = pick_weighted(backends, total, rng.next());
    ASSERT_GE(pick, 0);
    counts[pick]++;
  }
  for (size_t i = 0; i < backends.size(); ++i) {
    double want = static_cast<double>(backends[i].weight) / static_cast<double>(total);
    double got = static_cast<double>(counts[i]) / kDraws;
    EXPECT_NEAR(got, want, 0.01) << "backend " << i;
    if (backends[i].weight == 0) {
      EXPECT_EQ(counts[i], 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, WeightedPickTest,
                         ::testing::Values(Case{"seventy_thirty", {70, 30}},
                                           Case{"with_zero_weight", {70, 30, 0}},
                                           Case{"single_backend", {5}},
                                           Case{"many_uneven", {1, 2, 3, 4, 90}}),
                         [](const auto& info) { return info.param.name; });

TEST(WeightedPick, AllZeroWeightsPickNothing) {
  std::vector<WeightedCluster> backends{{0, 0, nullptr}, {1, 0, nullptr}};
  EXPECT_EQ(pick_weighted(backends, 0, 12345), -1);
}

}  // namespace
}  // namespace gantry::routing
