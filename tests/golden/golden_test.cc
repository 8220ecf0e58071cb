// Golden translation cases: tests/golden/<case>/in.yaml translated (with the options in
// <case>/address-pool, port-map, publish-status-address, publish-service, merge-gateways, if any) must equal <case>/out.yaml. UPDATE_GOLDEN=1 rewrites out.yaml.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gantry/controller/dump.h"
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

std::vector<std::string> cases() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(GOLDEN_DIR))
    if (e.is_directory() && fs::exists(e.path() / "in.yaml")) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, TranslationMatches) {
  fs::path dir = fs::path(GOLDEN_DIR) / GetParam();
  TranslateOptions options;
  if (fs::exists(dir / "address-pool")) options.address_pool = *parse_address_pool(read(dir / "address-pool").substr(0, read(dir / "address-pool").find('\n')));
  if (fs::exists(dir / "port-map")) options.port_map = *parse_port_map(read(dir / "port-map").substr(0, read(dir / "port-map").find('\n')));
  if (fs::exists(dir / "publish-status-address"))
    options.publish_status_address = read(dir / "publish-status-address").substr(0, read(dir / "publish-status-address").find('\n'));
  // Cluster mode's options: one data plane for every Gateway, the published Service.
  options.merge_gateways = fs::exists(dir / "merge-gateways");
  if (fs::exists(dir / "publish-service"))
    options.publish_service = read(dir / "publish-service").substr(0, read(dir / "publish-service").find('\n'));
  FileSource source({(dir / "in.yaml").string()});
  ScanReport report = source.scan();
  ASSERT_TRUE(report.errors.empty()) << report.errors.front();
  TranslateResult result = translate(source.store(), options);
  boost::json::object doc{{"snapshot", snapshot_to_json(result.snapshot)}, {"status", controller::to_array(result.status)}};
  std::string got = to_yaml(doc);
  if (std::getenv("UPDATE_GOLDEN")) {
    std::ofstream(dir / "out.yaml") << got;
    return;
  }
  ASSERT_TRUE(fs::exists(dir / "out.yaml")) << "run with UPDATE_GOLDEN=1 to create " << (dir / "out.yaml");
  EXPECT_EQ(got, read(dir / "out.yaml")) << "golden " << GetParam() << " differs; review, then UPDATE_GOLDEN=1";
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string n = info.param;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

}  // namespace
}  // namespace gantry::controller
