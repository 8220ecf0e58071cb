// Kubernetes object metadata and conditions, in the API's own vocabulary.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace gantry::controller {

struct ObjectMeta {
  std::string ns;  // metadata.namespace ("" for cluster-scoped kinds)
  std::string name;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  int64_t generation = 1;
  std::string creation_timestamp;  // RFC 3339; "" when the manifest has none
  std::string source;              // "file:line" where the object was read, for messages
};

// "namespace/name", or "name" for cluster-scoped objects.
inline std::string key_of(const ObjectMeta& m) { return m.ns.empty() ? m.name : m.ns + "/" + m.name; }

}  // namespace gantry::controller
