// TLS passthrough through the real proxy: a Gateway listener with protocol TLS and
// tls.mode Passthrough, TLSRoutes by server name to gantry-echo backends that terminate
// TLS themselves. openssl s_client checks that the certificate the client sees is the
// backend's own (Gantry holds none for these names), curl that requests get through
// whole; an unknown name, a client that is not TLS, a dead backend: the connection closes.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

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
    raw_fd_ = listen_loopback(4, raw_port_);  // a backend that only records the bytes it gets
    m += service_manifest("raw", {raw_port_});
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
    m += tls_route("raw", "raw.example.com", "raw");
    write_file(manifests / "all.yaml", m);
    tls_port_ = free_port();
    gantry_ = new Gantry(manifests, {"--port-map", "443:" + std::to_string(tls_port_)});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  static void TearDownTestSuite() {
    delete gantry_;
    for (auto*& b : backends_) delete b;
    ::close(raw_fd_);
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
  static int raw_fd_;
  static uint16_t raw_port_;
};
int TlsPassthroughTest::raw_fd_ = -1;
uint16_t TlsPassthroughTest::raw_port_ = 0;

// A ClientHello for `name` (TLS 1.3's one cipher suite), its padding extension (RFC 7685)
// making it `padding` bytes larger, in one record.
std::string client_hello(const std::string& name, size_t padding) {
  auto u16 = [](size_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; };
  std::string sni = std::string("\0", 1) + u16(name.size()) + name;
  sni = u16(sni.size()) + sni;
  std::string ext = std::string("\0\0", 2) + u16(sni.size()) + sni;
  ext += std::string("\0\x15", 2) + u16(padding) + std::string(padding, '\0');
  std::string body = std::string("\x03\x03", 2) + std::string(32, '\x5a') + std::string("\0", 1) + u16(2) +
                     std::string("\x13\x01", 2) + std::string("\x01\0", 2) + u16(ext.size()) + ext;
  std::string hs = std::string("\x01\0", 2) + u16(body.size()) + body;
  return std::string("\x16\x03\x01", 3) + u16(hs.size()) + hs;
}
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

TEST_F(TlsPassthroughTest, AClientHelloLargerThanThePeekBufferInPiecesIsRoutedWhole) {
  // 6 KiB: past the 4 KiB first peek; sent in three pieces, the name in the second.
  const std::string hello = client_hello("raw.example.com", 6000) + "after the hello";
  std::string got;
  std::thread backend([&] {
    pollfd p{raw_fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return;
    int c = ::accept(raw_fd_, nullptr, nullptr);
    char buf[4096];
    while (got.size() < hello.size()) {
      pollfd q{c, POLLIN, 0};
      if (::poll(&q, 1, 10000) != 1) break;
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    ::close(c);
  });
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(tls_port_);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const size_t cuts[] = {0, 30, 3000, hello.size()};
  for (size_t i = 0; i + 1 < std::size(cuts); ++i) {
    ASSERT_EQ(::write(fd, hello.data() + cuts[i], cuts[i + 1] - cuts[i]), static_cast<ssize_t>(cuts[i + 1] - cuts[i]));
    std::this_thread::sleep_for(100ms);
  }
  backend.join();
  ::close(fd);
  EXPECT_EQ(got.size(), hello.size());
  EXPECT_TRUE(got == hello) << "the bytes the backend got differ from those sent";
}

TEST_F(TlsPassthroughTest, StatusShowsTheRoutesAndTheListener) {
  const std::string status = gantry_->admin_get("/status");
  EXPECT_NE(status.find("\"kind\":\"TLSRoute\""), std::string::npos) << status;
  EXPECT_EQ(status.find("UnsupportedProtocol"), std::string::npos) << status;
  EXPECT_NE(status.find("{\"group\":\"gateway.networking.k8s.io\",\"kind\":\"TLSRoute\"}"), std::string::npos) << status;
}

}  // namespace
}  // namespace gantry::test
