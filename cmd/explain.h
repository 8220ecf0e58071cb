// The offline subcommands that read manifests and answer questions about routing:
// explain (explain.cc), diff (diff.cc).
#pragma once

#include <string>
#include <vector>

#include "flags.h"
#include "gantry/routing/request_view.h"

namespace gantry::cmd {

// Request headers given on the command line (names lowercase), as routing reads them.
using HeaderList = routing::HeaderPairs;

// gantry explain --manifests PATH... --url URL [-H 'Name: value']... [--method M] [--output json]
int run_explain(const std::vector<std::string>& args);
// gantry diff --manifests OLD... --against NEW...; 0: routing unchanged, 1: changed, 2: bad usage.
int run_diff(const std::vector<std::string>& args);
// gantry migrate --manifests PATH... [--gateway-name N] [--gateway-namespace NS]
int run_migrate(const std::vector<std::string>& args);

}  // namespace gantry::cmd
