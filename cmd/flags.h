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
  std::string access_log = "stdout";  // off, stdout or a file (appended to)
  // Cluster mode (DESIGN.md): the API server instead of manifest files.
  std::string kubeconfig;
  bool in_cluster = false;
  std::string publish_service;  // "namespace/name"
  bool leader_elect = false;
  std::string leader_election_namespace;  // default: the kubeconfig context's or the pod's namespace
  std::string leader_election_id = "gantry-leader";
  int lease_seconds = 15;  // leaseDurationSeconds; renewed every third of it
  bool cluster() const { return in_cluster || !kubeconfig.empty(); }
  bool help = false;
};

// argv after the subcommand. Errors name the flag and what it wants.
Result<Flags> parse_flags(const std::vector<std::string>& args);
std::string serve_help();
// One command's part of serve_help(): from "usage: gantry COMMAND" to the next usage line.
std::string command_help(const std::string& command);
// True when args ask for help (--help, -h): the caller prints command_help and exits 0.
bool wants_help(const std::vector<std::string>& args);

}  // namespace gantry::cmd
