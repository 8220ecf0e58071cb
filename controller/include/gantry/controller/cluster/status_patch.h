// What status write-back sends: the status translation computed, merged into what the
// object holds, or nothing when they already agree. Pure: no clock (the time is given),
// no I/O, so the rules are unit-tested.
//
// API conventions, "Typical status properties": a condition's lastTransitionTime moves
// only when its status changes, so a condition that holds keeps the time the object has.
// Gateway API, HTTPRoute status: `parents` is shared by every controller whose Gateways a
// route names; entries with another controllerName are kept as they are.
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace gantry::controller {

// `desired`: the status translation made for one object of `kind`; `current`: the
// object's status in the cluster (null if none). Returns the whole status to write, or
// nullopt when writing it would change nothing. `now` is RFC 3339 ("2026-12-01T14:00:00Z").
std::optional<boost::json::object> status_patch(const std::string& kind, const boost::json::object& desired,
                                                const boost::json::value& current, const std::string& controller_name,
                                                const std::string& now);

}  // namespace gantry::controller
