#include "gantry/tls/cert_bundle.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gantry::tls {
namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class CertBundleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("gantry-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    for (const char* name : {"a", "b"}) {
      std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                        "-subj /CN=test -addext subjectAltName=DNS:example.com,DNS:*.example.com -keyout " +
                        (dir_ / (std::string(name) + ".key")).string() + " -out " +
                        (dir_ / (std::string(name) + ".crt")).string() + " 2>/dev/null";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl is needed for this test";
    }
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::filesystem::path dir_;
};
std::filesystem::path CertBundleTest::dir_;

TEST_F(CertBundleTest, AcceptsMatchingPairAndReadsNames) {
  auto r = parse_cert_bundle(read(dir_ / "a.crt"), read(dir_ / "a.key"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->dns_names, (std::vector<std::string>{"example.com", "*.example.com"}));
}

TEST_F(CertBundleTest, RejectsKeyOfAnotherCertificate) {
  auto r = parse_cert_bundle(read(dir_ / "a.crt"), read(dir_ / "b.key"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "tls.key does not belong to the certificate in tls.crt");
}

TEST_F(CertBundleTest, RejectsGarbage) {
  EXPECT_EQ(parse_cert_bundle("nope", read(dir_ / "a.key")).error().message, "tls.crt holds no PEM certificate");
  EXPECT_EQ(parse_cert_bundle(read(dir_ / "a.crt"), "nope").error().message, "tls.key holds no PEM private key");
}

}  // namespace
}  // namespace gantry::tls
