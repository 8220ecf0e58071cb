// Canonical dumps: a snapshot as JSON (for /config_dump and goldens) and any JSON value
// as block YAML (for `gantry translate`). Deterministic: keys keep their insertion order,
// which the translator makes sorted.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "gantry/routing/snapshot.h"

namespace gantry::controller {

boost::json::value snapshot_to_json(const routing::Snapshot& snapshot);
// One route as the dump shows it (match, backends by cluster name, filters, policies):
// what `gantry explain` prints and `gantry diff` compares.
boost::json::object route_to_json(const routing::Route& route, const routing::Snapshot& snapshot);
std::string to_yaml(const boost::json::value& value);

}  // namespace gantry::controller
