// Golden translation cases: tests/golden/<case>/in.yaml translated (with the options in
// <case>/address-pool, port-map, publish-status-address, publish-service, merge-gateways,
// if any) must equal <case>/out.yaml. A case with Ingresses is also migrated: the Gateway
// API objects and notes must equal <case>/migrate.yaml, and the proof must find no
// difference but the listed ones. UPDATE_GOLDEN=1 rewrites out.yaml and migrate.yaml.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gantry/controller/dump.h"
#include "gantry/controller/migrate.h"
#include "gantry/controller/sources/file_source.h"
#include "gantry/controller/translate/translator.h"

namespace gantry::controller {
namespace {
namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The cases; `ingresses`: only those whose manifests hold Ingresses.
std::vector<std::string> cases(bool ingresses = false) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(GOLDEN_DIR))
    if (e.is_directory() && fs::exists(e.path() / "in.yaml") &&
        (!ingresses || read(e.path() / "in.yaml").find("\nkind: Ingress\n") != std::string::npos))
      out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};
class MigrateGoldenTest : public ::testing::TestWithParam<std::string> {};

TranslateOptions options_for(const fs::path& dir) {
  auto first_line = [&](const char* name) {
    std::string text = read(dir / name);
    return text.substr(0, text.find('\n'));
  };
  TranslateOptions options;
  if (fs::exists(dir / "address-pool")) options.address_pool = *parse_address_pool(first_line("address-pool"));
  if (fs::exists(dir / "port-map")) options.port_map = *parse_port_map(first_line("port-map"));
  if (fs::exists(dir / "publish-status-address")) options.publish_status_address = first_line("publish-status-address");
  // Cluster mode's options: one data plane for every Gateway, the published Service.
  options.merge_gateways = fs::exists(dir / "merge-gateways");
  if (fs::exists(dir / "publish-service")) options.publish_service = first_line("publish-service");
  return options;
}

void expect_golden(const fs::path& file, const std::string& got, const std::string& name) {
  if (std::getenv("UPDATE_GOLDEN")) {
    std::ofstream(file) << got;
    return;
  }
  ASSERT_TRUE(fs::exists(file)) << "run with UPDATE_GOLDEN=1 to create " << file;
  EXPECT_EQ(got, read(file)) << "golden " << name << " (" << file.filename() << ") differs; review, then UPDATE_GOLDEN=1";
}

TEST_P(GoldenTest, TranslationMatches) {
  fs::path dir = fs::path(GOLDEN_DIR) / GetParam();
  TranslateOptions options = options_for(dir);
  FileSource source({(dir / "in.yaml").string()});
  ScanReport report = source.scan();
  ASSERT_TRUE(report.errors.empty()) << report.errors.front();
  TranslateResult result = translate(source.store(), options);
  boost::json::object doc{{"snapshot", snapshot_to_json(result.snapshot)}, {"status", controller::to_array(result.status)}};
  expect_golden(dir / "out.yaml", to_yaml(doc), GetParam());
}

TEST_P(MigrateGoldenTest, MigrationMatchesAndRoutesAlike) {
  fs::path dir = fs::path(GOLDEN_DIR) / GetParam();
  TranslateOptions options = options_for(dir);
  FileSource source({(dir / "in.yaml").string()});
  ASSERT_TRUE(source.scan().errors.empty());
  ASSERT_FALSE(source.store().ingresses.empty());
  MigrateOptions migrate;
  MigrateResult migrated = migrate_ingresses(source.store(), options, migrate);
  std::string got = migrated.yaml;
  for (const auto& n : migrated.notes) got += "# note: " + n + "\n";
  expect_golden(dir / "migrate.yaml", got, GetParam());

  auto proof = prove_migration(source.store(), options, migrate, migrated);
  ASSERT_TRUE(proof) << proof.error().message;
  EXPECT_GT(proof->compared, 10u);
  for (const auto& d : proof->differences)
    EXPECT_FALSE(d.listed.empty()) << d.probe.describe() << "\n  ingress: " << d.ingress << "\n  gateway: " << d.gateway;
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}
INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Cases, MigrateGoldenTest, ::testing::ValuesIn(cases(true)), case_name);

}  // namespace
}  // namespace gantry::controller
