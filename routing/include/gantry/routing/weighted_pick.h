// Weighted choice among a route's backends from an injected random number.
#pragma once

#include <cstdint>
#include <span>

#include "gantry/routing/snapshot.h"

namespace gantry::routing {

// Returns the index of the chosen backend, or -1 when every weight is zero (the
// Gateway API asks for a 500 then).
int pick_weighted(std::span<const WeightedCluster> backends, uint64_t total_weight, uint64_t random);

// xorshift64*: a fast per-worker generator; seeded, so tests are repeatable.
class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }

 private:
  uint64_t state_;
};

}  // namespace gantry::routing
