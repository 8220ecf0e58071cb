#include "gantry/tls/cert_bundle.h"

#include <gtest/gtest.h>

#include "../../support/self_signed.h"

namespace gantry::tls {
namespace {

class CertBundleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (auto* cert : {&a_, &b_}) {
      auto made = test::make_self_signed("/CN=test", {"example.com", "*.example.com"});
      ASSERT_TRUE(made) << "openssl is needed for this test";
      *cert = *made;
    }
  }
  static test::SelfSigned a_, b_;
};
test::SelfSigned CertBundleTest::a_, CertBundleTest::b_;

TEST_F(CertBundleTest, AcceptsMatchingPairAndReadsNames) {
  auto r = parse_cert_bundle(a_.crt_pem, a_.key_pem);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->dns_names, (std::vector<std::string>{"example.com", "*.example.com"}));
}

TEST_F(CertBundleTest, RejectsKeyOfAnotherCertificate) {
  auto r = parse_cert_bundle(a_.crt_pem, b_.key_pem);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "tls.key does not belong to the certificate in tls.crt");
}

TEST_F(CertBundleTest, RejectsGarbage) {
  EXPECT_EQ(parse_cert_bundle("nope", a_.key_pem).error().message, "tls.crt holds no PEM certificate");
  EXPECT_EQ(parse_cert_bundle(a_.crt_pem, "nope").error().message, "tls.key holds no PEM private key");
}

}  // namespace
}  // namespace gantry::tls
