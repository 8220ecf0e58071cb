#include "gantry/routing/route_series.h"

#include <mutex>
#include <string>
#include <unordered_map>

namespace gantry::routing {

uint32_t route_series_id(const SourceRef& source) {
  // Translations may run on more than one thread (the serve loop, tests, tools).
  static std::mutex mutex;
  static std::unordered_map<std::string, uint32_t> ids;
  std::string key;
  key.reserve(source.kind.size() + source.ns.size() + source.name.size() + 16);
  key.append(source.kind).append(1, '\0').append(source.ns).append(1, '\0').append(source.name).append(1, '\0');
  key.append(std::to_string(source.rule));
  std::lock_guard lock(mutex);
  return ids.try_emplace(std::move(key), static_cast<uint32_t>(ids.size())).first->second;
}

}  // namespace gantry::routing
