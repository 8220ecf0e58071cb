// The offline subcommands that read manifests and answer questions about routing:
// explain (explain.cc), diff (diff.cc).
#pragma once

#include <string>
#include <vector>

#include "flags.h"
#include "gantry/routing/request_view.h"

namespace gantry::cmd {

// Request headers given on the command line (names lowercase), as routing reads them.
struct HeaderList {
  std::vector<std::pair<std::string, std::string>> list;
  void attach(routing::RequestView& view) const {
    view.headers = this;
    view.header = &find;
  }
  static std::string_view find(const void* self, std::string_view name, bool& found) {
    for (const auto& [k, v] : static_cast<const HeaderList*>(self)->list)
      if (k == name) {
        found = true;
        return v;
      }
    found = false;
    return {};
  }
  bool operator<(const HeaderList& o) const { return list < o.list; }
};

// gantry explain --manifests PATH... --url URL [-H 'Name: value']... [--method M] [--output json]
int run_explain(const std::vector<std::string>& args);
// gantry diff --manifests OLD... --against NEW...; 0: routing unchanged, 1: changed, 2: bad usage.
int run_diff(const std::vector<std::string>& args);

}  // namespace gantry::cmd
