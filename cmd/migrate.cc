// gantry migrate: Ingresses out as Gateway API objects on stdout (controller::migrate_ingresses),
// notes on stderr, then the proof (controller::prove_migration): every request decided
// differently is printed; exit 0 only when each difference is one the notes list.
#include <iostream>

#include "explain.h"
#include "gantry/controller/migrate.h"
#include "gantry/controller/sources/file_source.h"

namespace gantry::cmd {

int run_migrate(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << command_help("migrate");
    return 0;
  }
  controller::MigrateOptions mopt;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--gateway-name" || args[i] == "--gateway-namespace" || args[i] == "--gateway-class") {
      if (i + 1 >= args.size()) {
        std::cerr << "gantry migrate: " << args[i] << " needs a value\n";
        return 2;
      }
      std::string& to = args[i] == "--gateway-name" ? mopt.gateway_name
                        : args[i] == "--gateway-namespace" ? mopt.gateway_namespace
                                                           : mopt.gateway_class;
      to = args[++i];
      continue;
    }
    rest.push_back(args[i]);
  }
  auto flags = parse_flags(rest);
  if (!flags) {
    std::cerr << "gantry migrate: " << flags.error().message << "\n";
    return 2;
  }
  if (flags->manifests.empty()) {
    std::cerr << "gantry migrate: --manifests PATH... is required\n";
    return 2;
  }
  controller::FileSource source(flags->manifests);
  controller::ScanReport scan = source.scan();
  for (const auto& e : scan.errors) std::cerr << e << "\n";
  if (!scan.errors.empty()) return 2;
  const auto& store = source.store();
  if (store.gateways.count(mopt.gateway_namespace + "/" + mopt.gateway_name)) {
    std::cerr << "gantry migrate: a Gateway " << mopt.gateway_namespace << "/" << mopt.gateway_name
              << " is already in the manifests; name another with --gateway-name\n";
    return 2;
  }
  if (auto gc = store.gateway_classes.find(mopt.gateway_class);
      gc != store.gateway_classes.end() && gc->second.controller_name != flags->translate.controller_name) {
    std::cerr << "gantry migrate: the GatewayClass " << mopt.gateway_class << " belongs to " << gc->second.controller_name
              << "; name another with --gateway-class\n";
    return 2;
  }
  controller::MigrateResult migrated = controller::migrate_ingresses(source.store(), flags->translate, mopt);
  std::cout << migrated.yaml << std::flush;
  for (const auto& n : migrated.notes) std::cerr << "note: " << n << "\n";

  auto proof = controller::prove_migration(source.store(), flags->translate, mopt, migrated);
  if (!proof) {
    std::cerr << "gantry migrate: " << proof.error().message << "\n";
    return 1;
  }
  size_t listed = proof->differences.size() - proof->unlisted();
  for (bool want_listed : {false, true}) {
    bool first = true;
    for (const auto& d : proof->differences) {
      if (d.listed.empty() == want_listed) continue;
      if (first)
        std::cerr << (want_listed ? "listed differences (Gateway API cannot say what the Ingress does):\n"
                                  : "routing differences (Ingress -> Gateway API):\n");
      first = false;
      std::cerr << "  " << d.probe.describe() << "\n      ingress: " << d.ingress << "\n      gateway: " << d.gateway
                << "\n";
      if (want_listed) std::cerr << "      why:     " << d.listed << "\n";
    }
  }
  std::cerr << proof->compared << " requests compared, " << proof->unlisted() << " routed differently, " << listed
            << " listed; " << migrated.notes.size() << " notes\n";
  return proof->unlisted() == 0 ? 0 : 1;
}

}  // namespace gantry::cmd
