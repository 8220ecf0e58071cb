// TLS passthrough through the real proxy: a Gateway listener with protocol TLS and
// tls.mode Passthrough, TLSRoutes by server name to gantry-echo backends that terminate
// TLS themselves. openssl s_client checks that the certificate the client sees is the
// backend's own (Gantry holds none for these names), curl that requests get through
// whole; an unknown name, a client that is not TLS, a dead backend: the connection closes.
#include <gtest/gtest.h>

#include "harness.h"
#include "../support/self_signed.h"

namespace gantry::test {
namespace {

class TlsPassthroughTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto manifests = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests);
    std::string m = gateway_manifest();
    int i = 0;
    for (const std::string name : {"alpha", "beta"}) {
      auto cert = make_self_signed("/CN=" + name + "-backend", {name + ".example.com", "*.wild.example.com"});
      ASSERT_TRUE(cert);
      const auto crt = dir_->path() / (name + ".crt"), key = dir_->path() / (name + ".key");
      write_file(crt, cert->crt_pem);
      write_file(key, cert->key_pem);
      ports_[i] = free_port();
      backends_[i] = new Process({ECHO_BIN, "--port", std::to_string(ports_[i]), "--pod", name + "-1-a", "--tls-cert",
                                  crt.string(), "--tls-key", key.string()},
                                 dir_->path() / ("echo-" + name + ".log"));
      ASSERT_TRUE(wait_for_port(ports_[i], 5s));
      m += service_manifest(name, {ports_[i]});
      ++i;
    }
    m += service_manifest("dead", {free_port()});
    m += "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: default}\n"
         "spec:\n  gatewayClassName: gantry\n  addresses: [{type: IPAddress, value: 127.0.0.1}]\n  listeners:\n"
         "  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}\n";
    auto tls_route = [](const std::string& name, const std::string& hosts, const std::string& backend) {
      return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\nmetadata: {name: " + name +
             ", namespace: default}\nspec:\n  parentRefs: [{name: edge}]\n  hostnames: [" + hosts +
             "]\n  rules:\n  - backendRefs: [{name: " + backend + ", port: 8080}]\n";
    };
    m += tls_route("alpha", "alpha.example.com", "alpha");
    m += tls_route("beta", "beta.example.com, '*.wild.example.com'", "beta");
    m += tls_route("dead", "dead.example.com", "dead");
    write_file(manifests / "all.yaml", m);
    tls_port_ = free_port();
    gantry_ = new Gantry(manifests, {"--port-map", "443:" + std::to_string(tls_port_)});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  static void TearDownTestSuite() {
    delete gantry_;
    for (auto*& b : backends_) delete b;
    delete dir_;
  }
  void TearDown() override { ASSERT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log(); }

  // The subject of the certificate the client was shown, "" when the handshake failed.
  static std::string subject_for(const std::string& name) {
    auto r = run("echo | timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(tls_port_) +
                 " -servername " + name + " 2>/dev/null | openssl x509 -noout -subject 2>/dev/null");
    return r.out;
  }
  static CommandResult https(const std::string& name, const std::string& ca, const std::string& path = "/") {
    return run("curl -s --max-time 10 --cacert " + (dir_->path() / (ca + ".crt")).string() + " --resolve " + name +
               ":" + std::to_string(tls_port_) + ":127.0.0.1 -w '\\n%{http_code}' 'https://" + name + ":" +
               std::to_string(tls_port_) + path + "'");
  }

  static TempDir* dir_;
  static Process* backends_[2];
  static uint16_t ports_[2];
  static Gantry* gantry_;
  static uint16_t tls_port_;
};
TempDir* TlsPassthroughTest::dir_;
Process* TlsPassthroughTest::backends_[2];
uint16_t TlsPassthroughTest::ports_[2];
Gantry* TlsPassthroughTest::gantry_;
uint16_t TlsPassthroughTest::tls_port_;

TEST_F(TlsPassthroughTest, TheClientSeesTheBackendsOwnCertificate) {
  EXPECT_NE(subject_for("alpha.example.com").find("alpha-backend"), std::string::npos);
  EXPECT_NE(subject_for("beta.example.com").find("beta-backend"), std::string::npos);
  EXPECT_NE(subject_for("x.wild.example.com").find("beta-backend"), std::string::npos);  // a wildcard hostname
}

TEST_F(TlsPassthroughTest, RequestsPassWholeAndTheBackendSawTheServerName) {
  auto r = https("alpha.example.com", "alpha", "/through?q=1");
  ASSERT_EQ(r.out.substr(r.out.rfind('\n') + 1), "200") << r.out;
  EXPECT_NE(r.out.find("\"pod\":\"alpha-1-a\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"tlsServerName\":\"alpha.example.com\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"path\":\"/through?q=1\""), std::string::npos) << r.out;
  // No X-Forwarded-For: nothing was opened to add it.
  EXPECT_EQ(r.out.find("X-Forwarded-For"), std::string::npos) << r.out;
  // A body larger than any buffer on the way, both ways.
  auto big = run("head -c 3000000 /dev/zero | curl -s --max-time 20 --cacert " + (dir_->path() / "beta.crt").string() +
                 " --resolve beta.example.com:" + std::to_string(tls_port_) + ":127.0.0.1 --data-binary @- "
                 "-o /dev/null -w '%{http_code} %{size_upload}' 'https://beta.example.com:" + std::to_string(tls_port_) +
                 "/bytes/2000000'");
  EXPECT_EQ(big.out, "200 3000000") << big.out;
}

TEST_F(TlsPassthroughTest, AnUnknownNameANonTlsClientAndADeadBackendAreClosed) {
  EXPECT_EQ(subject_for("nobody.example.com"), "");
  EXPECT_EQ(subject_for("dead.example.com"), "");
  auto raw = raw_exchange(tls_port_, "GET / HTTP/1.1\r\nHost: alpha.example.com\r\n\r\n", 3s);
  EXPECT_TRUE(raw.closed);
  EXPECT_TRUE(raw.response.empty()) << raw.response;
  EXPECT_LT(raw.elapsed, 2s);  // refused at once, not at the header timeout
  // The listener still serves after them.
  EXPECT_NE(subject_for("alpha.example.com").find("alpha-backend"), std::string::npos);
}

TEST_F(TlsPassthroughTest, StatusShowsTheRoutesAndTheListener) {
  const std::string status = gantry_->admin_get("/status");
  EXPECT_NE(status.find("\"kind\":\"TLSRoute\""), std::string::npos) << status;
  EXPECT_EQ(status.find("UnsupportedProtocol"), std::string::npos) << status;
  EXPECT_NE(status.find("{\"group\":\"gateway.networking.k8s.io\",\"kind\":\"TLSRoute\"}"), std::string::npos) << status;
}

}  // namespace
}  // namespace gantry::test
