#include <iostream>
#include <string>
#include <vector>

#include "explain.h"
#include "flags.h"
#include "serve.h"

namespace {

constexpr const char* kVersion = "0.1.0";

void usage(std::ostream& out) {
  out << "usage: gantry <command> [flags]\n\n"
         "  serve       serve manifests, reload on change (gantry serve --help)\n"
         "  translate   print the snapshot and every object's status as YAML, then exit\n"
         "  explain     which listener, route and backend would serve a URL, and why others did not\n"
         "  diff        what a change of manifests does to routing (exit 1 when anything changes)\n"
         "  migrate     Ingresses as Gateway API objects, with the proof that both route alike\n"
         "  version     print the version\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "version" || command == "--version") {
    std::cout << "gantry " << kVersion << "\n";
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    usage(std::cout);
    return 0;
  }
  if (command == "explain") return gantry::cmd::run_explain(args);
  if (command == "diff") return gantry::cmd::run_diff(args);
  if (command == "migrate") return gantry::cmd::run_migrate(args);
  if (command != "serve" && command != "translate") {
    std::cerr << "gantry: unknown command '" << command << "'\n";
    usage(std::cerr);
    return 2;
  }
  auto flags = gantry::cmd::parse_flags(args);
  if (!flags) {
    std::cerr << "gantry " << command << ": " << flags.error().message << "\n";
    return 2;
  }
  if (flags->help) {
    std::cout << gantry::cmd::serve_help();
    return 0;
  }
  return command == "serve" ? gantry::cmd::run_serve(*flags) : gantry::cmd::run_translate(*flags);
}
