#include "gantry/controller/cluster/status_patch.h"

namespace gantry::controller {
namespace json = boost::json;
namespace {

const json::array* array_in(const json::value& v, std::string_view key) {
  if (!v.is_object()) return nullptr;
  const auto* a = v.as_object().if_contains(key);
  return a && a->is_array() ? &a->as_array() : nullptr;
}

// Each condition takes the time the object's condition of that type has when its status
// is unchanged, else `now`.
json::array stamp(const json::array& desired, const json::array* current, const std::string& now) {
  json::array out;
  for (const auto& d : desired) {
    json::object c = d.as_object();
    std::string time = now;
    if (current)
      for (const auto& e : *current) {
        if (!e.is_object()) continue;
        const auto& o = e.as_object();
        if (o.if_contains("type") && *o.if_contains("type") == c.at("type") && o.if_contains("status") &&
            *o.if_contains("status") == c.at("status") && o.if_contains("lastTransitionTime") &&
            o.at("lastTransitionTime").is_string())
          time = std::string(o.at("lastTransitionTime").as_string());
      }
    c["lastTransitionTime"] = time;
    out.push_back(std::move(c));
  }
  return out;
}

// The entry of `current[list]` that `match` says is the same as `d` (a listener by name,
// a route parent by parentRef and controller).
template <class Match>
const json::value* counterpart(const json::value& current, std::string_view list, const json::object& d, Match match) {
  if (const auto* a = array_in(current, list))
    for (const auto& e : *a)
      if (e.is_object() && match(e.as_object(), d)) return &e;
  return nullptr;
}

void stamp_entries(json::object& status, const json::value& current, std::string_view list,
                   bool (*match)(const json::object&, const json::object&), const std::string& now) {
  auto* entries = status.if_contains(list);
  if (!entries || !entries->is_array()) return;
  for (auto& e : entries->as_array()) {
    auto& o = e.as_object();
    const json::value* c = counterpart(current, list, o, match);
    if (const auto* conds = o.if_contains("conditions"); conds && conds->is_array())
      o["conditions"] = stamp(conds->as_array(), c ? array_in(*c, "conditions") : nullptr, now);
  }
}

bool same_listener(const json::object& a, const json::object& b) {
  return a.if_contains("name") && b.if_contains("name") && a.at("name") == b.at("name");
}

bool same_parent(const json::object& a, const json::object& b) {
  return a.if_contains("parentRef") && b.if_contains("parentRef") && a.at("parentRef") == b.at("parentRef") &&
         a.if_contains("controllerName") && b.if_contains("controllerName") &&
         a.at("controllerName") == b.at("controllerName");
}

}  // namespace

std::optional<json::object> status_patch(const std::string& kind, const json::object& desired,
                                         const json::value& current, const std::string& controller_name,
                                         const std::string& now) {
  json::object status = desired;
  if (const auto* conds = status.if_contains("conditions"); conds && conds->is_array())
    status["conditions"] = stamp(conds->as_array(), array_in(current, "conditions"), now);
  stamp_entries(status, current, "listeners", same_listener, now);
  if (kind == "HTTPRoute" || kind == "GRPCRoute" || kind == "TLSRoute") {
    stamp_entries(status, current, "parents", same_parent, now);
    // Other controllers' entries stay, ahead of ours, in the order the object has them.
    json::array parents;
    if (const auto* a = array_in(current, "parents"))
      for (const auto& e : *a)
        if (e.is_object() && !(e.as_object().if_contains("controllerName") &&
                               e.as_object().at("controllerName") == json::value(controller_name)))
          parents.push_back(e);
    if (const auto* ours = status.if_contains("parents"); ours && ours->is_array())
      for (const auto& e : ours->as_array()) parents.push_back(e);
    status["parents"] = std::move(parents);
  }
  // A merge patch leaves keys it does not name alone, so only the keys we write count.
  if (current.is_object()) {
    const auto& c = current.as_object();
    bool same = true;
    for (const auto& [k, v] : status)
      if (!c.if_contains(k) || c.at(k) != v) same = false;
    if (same) return std::nullopt;
  }
  return status;
}

}  // namespace gantry::controller
