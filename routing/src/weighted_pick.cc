#include "gantry/routing/weighted_pick.h"

namespace gantry::routing {

int pick_weighted(std::span<const WeightedCluster> backends, uint64_t total_weight, uint64_t random) {
  if (total_weight == 0) return -1;
  if (backends.size() == 1) return 0;
  uint64_t point = random % total_weight;
  for (size_t i = 0; i < backends.size(); ++i) {
    if (point < backends[i].weight) return static_cast<int>(i);
    point -= backends[i].weight;
  }
  return -1;  // unreachable while total_weight is the sum of the weights
}

}  // namespace gantry::routing
