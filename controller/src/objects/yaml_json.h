// Internal: yaml-cpp nodes to Boost.JSON values, and the line of every value.
#pragma once

#include <yaml-cpp/yaml.h>

#include <boost/json/value.hpp>
#include <unordered_map>

namespace gantry::controller {

struct SourceLines {
  std::unordered_map<const boost::json::value*, int> line;  // 1-based
  int find(const boost::json::value* v, int fallback) const {
    auto it = line.find(v);
    return it == line.end() ? fallback : it->second;
  }
};

// At most `budget` values: aliases let a few lines stand for billions of them (a "billion
// laughs" document), so a document that expands past its budget is an error.
// At most kMaxDepth levels of nesting: a Kubernetes object needs a few dozen, and an
// alias that refers to itself would otherwise nest without end.
inline constexpr int kMaxDepth = 100;
boost::json::value node_to_json(const YAML::Node& node, size_t& budget, int depth = 0);
// The budget of a text: ten values for each of its bytes, plus room for small ones.
inline size_t value_budget(size_t text_bytes) { return 10 * text_bytes + 10'000; }
// Records the line of each value; call after the value is complete (addresses are stable).
// `first_line`: the line of the file the node's document starts on, minus one.
void record_lines(const YAML::Node& node, const boost::json::value& value, SourceLines& lines, int first_line = 0);

}  // namespace gantry::controller
