// Command-line flags of `gantry serve` and `gantry translate` (DESIGN.md, "The command line").
#pragma once

#include <string>
#include <vector>

#include "gantry/common/result.h"
#include "gantry/controller/translate/translator.h"
#include "gantry/proxy/options.h"

namespace gantry::cmd {

struct Flags {
  std::vector<std::string> manifests;
  std::string admin = "127.0.0.1:9901";
  controller::TranslateOptions translate;
  proxy::ProxyOptions proxy;
  int scan_interval_ms = 250;
  bool help = false;
};

// argv after the subcommand. Errors name the flag and what it wants.
Result<Flags> parse_flags(const std::vector<std::string>& args);
std::string serve_help();

}  // namespace gantry::cmd
