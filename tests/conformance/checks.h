// The checks of cases.yaml: status conditions and request entries. Each returns "" when
// it holds, or the first thing that did not, in words.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <string>

#include "environment.h"

namespace gantry::conformance {

struct Limits {
  std::chrono::milliseconds status_wait{15'000};   // upstream: 60 s routes, 180 s gateways
  std::chrono::milliseconds consistency{10'000};   // upstream MaxTimeToConsistency: 30 s
  int consecutive = 3;                             // upstream RequiredConsecutiveSuccesses
};

std::string check_status_once(const Environment& env, const YAML::Node& check);
std::string wait_status(const Environment& env, const YAML::Node& checks, const Limits& limits);
// Polls until every condition of the listed objects carries their latest generation.
std::string check_latest_generation(const Environment& env, const YAML::Node& list, const Limits& limits);
std::string wait_namespaces_ready(const Environment& env, const YAML::Node& namespaces, const Limits& limits);
std::string run_request(const Environment& env, const YAML::Node& kase, const YAML::Node& entry, const Limits& limits);

}  // namespace gantry::conformance
