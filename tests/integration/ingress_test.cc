// Ingress through the real proxy, with ingress-nginx's annotations: path types, canaries
// by header, cookie and weight, mirroring, rewrites, every redirect, TLS by SNI with the
// fallback certificate, body limits, timeouts and source ranges. Real curl, openssl
// s_client and gantry-echo backends.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "../support/self_signed.h"
#include "harness.h"
#include "tls_client.h"

namespace gantry::test {
namespace {
namespace json = boost::json;

std::string ingress(const std::string& name, const std::string& annotations, const std::string& spec) {
  return "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
         "\n  namespace: default\n  annotations: {" + annotations + "}\nspec:\n" + spec;
}
// One rule: host, paths "TYPE PATH SERVICE" separated by ';'.
std::string rule(const std::string& host, const std::vector<std::string>& paths) {
  std::string out = "  - host: '" + host + "'\n    http:\n      paths:\n";
  for (const std::string& p : paths) {
    std::istringstream in(p);
    std::string type, path, svc;
    in >> type >> path >> svc;
    out += "      - {path: '" + path + "', pathType: " + type + ", backend: {service: {name: " + svc +
           ", port: {number: 8080}}}}\n";
  }
  return out;
}

class IngressTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto manifests = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests);
    for (const char* pod : {"web-1-a", "canary-1-a", "copy-1-a", "other-1-a"}) echoes_.push_back(new Echo(pod, dir_->path()));
    auto cert = make_self_signed("/CN=secure", {"secure.example.com"});
    ASSERT_TRUE(cert);
    write_file(dir_->path() / "secure.crt", cert->crt_pem);
    std::string m =
        "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: gantry\n"
        "  annotations: {ingressclass.kubernetes.io/is-default-class: \"true\"}\n"
        "spec: {controller: gantry.dev/gateway-controller}\n";
    m += "---\napiVersion: v1\nkind: Secret\nmetadata: {name: secure, namespace: default}\ntype: kubernetes.io/tls\n"
         "stringData:\n  tls.crt: |\n" + indent_block(cert->crt_pem) + "  tls.key: |\n" + indent_block(cert->key_pem);
    m += service_manifest("web", {echoes_[0]->port});
    m += service_manifest("canary", {echoes_[1]->port});
    m += service_manifest("copy", {echoes_[2]->port});
    m += service_manifest("other", {echoes_[3]->port});
    // An HTTPS backend: gantry-echo with a certificate of its own (backend-protocol HTTPS).
    auto be = make_self_signed("/CN=backend", {"backend.internal"});
    ASSERT_TRUE(be);
    write_file(dir_->path() / "be.crt", be->crt_pem);
    write_file(dir_->path() / "be.key", be->key_pem);
    uint16_t be_port = free_port();
    tls_echo_ = new Process({ECHO_BIN, "--port", std::to_string(be_port), "--pod", "secure-be-1-a", "--tls-cert",
                             (dir_->path() / "be.crt").string(), "--tls-key", (dir_->path() / "be.key").string()},
                            dir_->path() / "echo-secure-be.log");
    ASSERT_TRUE(wait_for_port(be_port, 5s));
    m += service_manifest("securebe", {be_port});
    // The same certificate, and h2 offered by ALPN (backend-protocol GRPCS).
    uint16_t h2_be_port = free_port();
    tls_h2_echo_ = new Process({ECHO_BIN, "--port", std::to_string(h2_be_port), "--pod", "secure-h2-be-1-a",
                                "--tls-cert", (dir_->path() / "be.crt").string(), "--tls-key",
                                (dir_->path() / "be.key").string(), "--tls-h2"},
                               dir_->path() / "echo-secure-h2-be.log");
    ASSERT_TRUE(wait_for_port(h2_be_port, 5s));
    m += service_manifest("secureh2be", {h2_be_port});
    // A gRPC-style backend: h2c on a Service port that says nothing of it (backend-protocol GRPC does).
    grpc_echo_ = Echo::with_h2c("grpc-be-1-a", dir_->path()).release();
    m += service_manifest("grpcbe", {grpc_echo_->h2c_port});
    m += ingress("to-grpc", "nginx.ingress.kubernetes.io/backend-protocol: GRPC",
                 "  rules:\n" + rule("grpc.example.com", {"Prefix / grpcbe"}));
    m += ingress("passed", "nginx.ingress.kubernetes.io/ssl-passthrough: \"true\"",
                 "  rules:\n" + rule("pass.example.com", {"Prefix / securebe"}));
    m += ingress("to-grpcs", "nginx.ingress.kubernetes.io/backend-protocol: GRPCS",
                 "  rules:\n" + rule("grpcs.example.com", {"Prefix / securebe"}));
    m += ingress("to-grpcs-h2", "nginx.ingress.kubernetes.io/backend-protocol: GRPCS",
                 "  rules:\n" + rule("grpcs-h2.example.com", {"Prefix / secureh2be"}));
    m += ingress("to-tls", "nginx.ingress.kubernetes.io/backend-protocol: HTTPS",
                 "  rules:\n" + rule("tlsbe.example.com", {"Prefix / securebe"}) + rule("tlsplain.example.com", {"Prefix / web"}));
    m += ingress("to-tls-vhost", "nginx.ingress.kubernetes.io/backend-protocol: https, nginx.ingress.kubernetes.io/upstream-vhost: backend.internal",
                 "  rules:\n" + rule("tlsvhost.example.com", {"Prefix / securebe"}));
    m += ingress("paths", "", "  rules:\n" +
                 rule("paths.example.com", {"Prefix /foo other", "Exact /exact other", "Prefix /app/ other"}) +
                 rule("*.wild.example.com", {"Prefix / other"}) + rule("", {"Prefix /anyhost other"}));
    m += ingress("main", "", "  rules:\n" + rule("canary.example.com", {"Prefix / web"}));
    m += ingress("main-canary",
                 "nginx.ingress.kubernetes.io/canary: \"true\", nginx.ingress.kubernetes.io/canary-by-header: X-Canary,"
                 " nginx.ingress.kubernetes.io/canary-by-cookie: canary, nginx.ingress.kubernetes.io/canary-weight: \"30\"",
                 "  rules:\n" + rule("canary.example.com", {"Prefix / canary"}));
    m += ingress("pattern", "", "  rules:\n" + rule("pattern.example.com", {"Prefix / web"}));
    m += ingress("pattern-canary",
                 "nginx.ingress.kubernetes.io/canary: \"true\", nginx.ingress.kubernetes.io/canary-by-header: X-Version,"
                 " nginx.ingress.kubernetes.io/canary-by-header-pattern: \"^v2\"",
                 "  rules:\n" + rule("pattern.example.com", {"Prefix / canary"}));
    m += ingress("mirrored",
                 "nginx.ingress.kubernetes.io/mirror-target: \"http://copy.default.svc.cluster.local:8080/copy$request_uri\","
                 " nginx.ingress.kubernetes.io/mirror-host: mirror.example.com",
                 "  rules:\n" + rule("mirror.example.com", {"Prefix / web"}));
    m += ingress("mirror-dead", "nginx.ingress.kubernetes.io/mirror-target: \"http://127.0.0.1:" +
                                    std::to_string(closed_port()) + "$request_uri\"",
                 "  rules:\n" + rule("deadmirror.example.com", {"Prefix / web"}));
    m += ingress("rewrite", "nginx.ingress.kubernetes.io/rewrite-target: /$2",
                 "  rules:\n" + rule("rewrite.example.com", {"ImplementationSpecific /something(/|$)(.*) web"}));
    m += ingress("regex-other", "", "  rules:\n" + rule("rewrite.example.com", {"Prefix /plain other"}));
    m += ingress("secure", "", "  tls: [{hosts: [secure.example.com], secretName: secure}]\n  rules:\n" +
                                   rule("secure.example.com", {"Prefix / web"}));
    m += ingress("keep-slash", "nginx.ingress.kubernetes.io/preserve-trailing-slash: \"true\"",
                 "  tls: [{hosts: [keep.example.com], secretName: missing}]\n  rules:\n" + rule("keep.example.com", {"Prefix / web"}));
    m += ingress("no-redirect", "nginx.ingress.kubernetes.io/ssl-redirect: \"false\"",
                 "  tls: [{hosts: [plain.example.com], secretName: secure}]\n  rules:\n" + rule("plain.example.com", {"Prefix / web"}));
    m += ingress("forced", "nginx.ingress.kubernetes.io/force-ssl-redirect: \"true\"",
                 "  rules:\n" + rule("forced.example.com", {"Prefix / web"}));
    m += ingress("approot", "nginx.ingress.kubernetes.io/app-root: /app1",
                 "  rules:\n" + rule("approot.example.com", {"Prefix / web"}));
    m += ingress("moved", "nginx.ingress.kubernetes.io/permanent-redirect: \"https://new.example.com$request_uri\","
                          " nginx.ingress.kubernetes.io/permanent-redirect-code: \"308\"",
                 "  rules:\n" + rule("moved.example.com", {"Prefix / web"}));
    m += ingress("elsewhere", "nginx.ingress.kubernetes.io/temporal-redirect: https://elsewhere.example.com/",
                 "  rules:\n" + rule("elsewhere.example.com", {"Prefix / web"}));
    m += ingress("www", "nginx.ingress.kubernetes.io/from-to-www-redirect: \"true\"",
                 "  rules:\n" + rule("www.shop.example.com", {"Prefix / web"}));
    m += ingress("limits", "nginx.ingress.kubernetes.io/proxy-body-size: 1k, nginx.ingress.kubernetes.io/proxy-read-timeout: \"1\"",
                 "  rules:\n" + rule("limits.example.com", {"Prefix / web"}));
    m += ingress("allowed", "nginx.ingress.kubernetes.io/whitelist-source-range: \"10.0.0.0/8, 127.0.0.0/8\"",
                 "  rules:\n" + rule("allowed.example.com", {"Prefix / web"}));
    m += ingress("denied", "nginx.ingress.kubernetes.io/allowlist-source-range: 10.0.0.0/8, "
                           "nginx.ingress.kubernetes.io/configuration-snippet: \"more_set_headers 'X: y';\"",
                 "  rules:\n" + rule("denied.example.com", {"Prefix / web"}));
    write_file(manifests / "all.yaml", m);
    http_ = free_port();
    https_ = free_port();
    gantry_ = new Gantry(manifests, {"--ingress-http", "127.0.0.1:" + std::to_string(http_), "--ingress-https",
                                     "127.0.0.1:" + std::to_string(https_), "--workers", "1"});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
    ASSERT_NE(gantry_->admin_get("/status").find("\"kind\":\"Ingress\""), std::string::npos) << gantry_->log();
  }
  static void TearDownTestSuite() {
    delete gantry_;
    delete tls_echo_;
    delete tls_h2_echo_;
    delete grpc_echo_;
    for (auto* e : echoes_) delete e;
    echoes_.clear();
    delete dir_;
  }
  void TearDown() override { ASSERT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log(); }

  static uint16_t closed_port() {
    static uint16_t p = free_port();  // nothing listens there
    return p;
  }
  static json::object echo(const std::string& host, const std::string& path, const std::string& args = "") {
    auto r = curl(http_, host, path, args);
    boost::system::error_code ec;
    auto v = json::parse(r.out, ec);
    return !ec && v.is_object() ? v.get_object() : json::object{};
  }
  static std::string pod(const json::object& o) { return o.contains("pod") ? std::string(o.at("pod").get_string()) : ""; }
  static std::string pod_of(const std::string& host, const std::string& path, const std::string& args = "") {
    return pod(echo(host, path, args));
  }
  // Status and Location of a request, as "308 https://..."
  static std::string redirect(const std::string& host, const std::string& path) {
    return run("curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: " + host + "' 'http://127.0.0.1:" +
               std::to_string(http_) + path + "'").out;
  }
  static std::string subject(const std::string& servername) { return served_subject(https_, servername); }
  static bool logged(size_t echo, const std::string& needle, std::chrono::milliseconds within = 3s) {
    auto until = std::chrono::steady_clock::now() + within;
    std::string log = dir_->path() / ("echo-" + std::string(echo == 2 ? "copy" : "web") + "-1-a.log");
    do {
      if (read_file(log).find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < until);
    return false;
  }

  static TempDir* dir_;
  static std::vector<Echo*> echoes_;
  static Gantry* gantry_;
  static Process* tls_echo_;
  static Process* tls_h2_echo_;
  static Echo* grpc_echo_;
  static uint16_t http_, https_;
};
Process* IngressTest::tls_echo_;
Process* IngressTest::tls_h2_echo_;
Echo* IngressTest::grpc_echo_;
TempDir* IngressTest::dir_;
std::vector<Echo*> IngressTest::echoes_;
Gantry* IngressTest::gantry_;
uint16_t IngressTest::http_, IngressTest::https_;

TEST_F(IngressTest, PathTypesFollowTheIngressSpec) {
  EXPECT_EQ(pod_of("paths.example.com", "/foo"), "other-1-a");
  EXPECT_EQ(pod_of("paths.example.com", "/foo/bar"), "other-1-a");
  EXPECT_EQ(curl_status(http_, "paths.example.com", "/foobar"), 404);  // element-wise, not a string prefix
  EXPECT_EQ(pod_of("paths.example.com", "/app"), "other-1-a");         // the rule's trailing / is ignored
  EXPECT_EQ(pod_of("paths.example.com", "/exact"), "other-1-a");
  EXPECT_EQ(curl_status(http_, "paths.example.com", "/exact/more"), 404);
  EXPECT_EQ(pod_of("paths.example.com", "/foo?x=/exact"), "other-1-a");  // the query never takes part
  EXPECT_EQ(pod_of("PATHS.example.com:8080", "/foo"), "other-1-a");     // host: case and port ignored
  EXPECT_EQ(pod_of("a.wild.example.com", "/"), "other-1-a");
  EXPECT_EQ(curl_status(http_, "a.b.wild.example.com", "/"), 404);  // a wildcard spans one label
  EXPECT_EQ(pod_of("unknown.example.com", "/anyhost"), "other-1-a");  // a rule without host
  // A host with rules never falls through to the host-less rules.
  EXPECT_EQ(curl_status(http_, "paths.example.com", "/anyhost"), 404);
  EXPECT_EQ(curl_status(http_, "unknown.example.com", "/"), 404);
}

TEST_F(IngressTest, CanaryByHeaderThenCookieThenWeight) {
  EXPECT_EQ(pod_of("canary.example.com", "/", "-H 'X-Canary: always'"), "canary-1-a");
  // "never" stops evaluation: the cookie is not looked at.
  EXPECT_EQ(pod_of("canary.example.com", "/", "-H 'X-Canary: never' -H 'Cookie: canary=always'"), "web-1-a");
  EXPECT_EQ(pod_of("canary.example.com", "/", "-H 'Cookie: a=1; canary=always'"), "canary-1-a");
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(pod_of("canary.example.com", "/", "-H 'Cookie: canary=never'"), "web-1-a");
  EXPECT_EQ(pod_of("pattern.example.com", "/", "-H 'X-Version: v2.1'"), "canary-1-a");
  EXPECT_EQ(pod_of("pattern.example.com", "/", "-H 'X-Version: v1'"), "web-1-a");
  EXPECT_EQ(pod_of("pattern.example.com", "/", "-H 'X-Version: always'"), "web-1-a");  // a pattern replaces always
  // canary-weight 30: over 400 requests, 30 % +- 7 % (the binomial sd is 2.3 %).
  auto r = run("for i in $(seq 400); do curl -s -H 'Host: canary.example.com' http://127.0.0.1:" + std::to_string(http_) +
               "/ ; echo; done | grep -c canary-1-a");
  int canary = std::atoi(r.out.c_str());
  EXPECT_GT(canary, 92) << canary;
  EXPECT_LT(canary, 148) << canary;
}

TEST_F(IngressTest, MirrorCopiesArriveWithTheirTargetHostAndBody) {
  auto r = curl(http_, "mirror.example.com", "/orders?id=7", "--data-binary hello-mirror");
  ASSERT_NE(r.out.find("web-1-a"), std::string::npos) << r.out;
  EXPECT_TRUE(logged(2, "Echoing back request made to /copy/orders?id=7 "));
  EXPECT_TRUE(logged(2, "Request body for /copy/orders?id=7: 12 bytes"));
  EXPECT_TRUE(logged(2, "Request host for /copy/orders?id=7: mirror.example.com"));
  // A mirror nobody listens on changes nothing for the client, and delays nothing.
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(pod_of("deadmirror.example.com", "/x"), "web-1-a");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  }
}

TEST_F(IngressTest, RewriteTargetUsesCapturesAndMakesTheHostRegex) {
  auto o = echo("rewrite.example.com", "/something/new/path?q=1");
  EXPECT_EQ(pod(o), "web-1-a");
  EXPECT_EQ(std::string(o.at("path").get_string()), "/new/path?q=1");
  EXPECT_EQ(std::string(echo("rewrite.example.com", "/SOMETHING").at("path").get_string()), "/");
  // Host-wide regex mode: another Ingress's Prefix /plain is now a case-insensitive regex
  // anchored at the start only, so it also matches /plainer (the documented pitfall, reproduced).
  EXPECT_EQ(pod_of("rewrite.example.com", "/plainer"), "other-1-a");
  EXPECT_EQ(pod_of("rewrite.example.com", "/PLAIN/x"), "other-1-a");
  auto status = gantry_->admin_get("/status");
  EXPECT_NE(status.find("RegexModeHost"), std::string::npos);
}

TEST_F(IngressTest, Redirects) {
  EXPECT_EQ(redirect("secure.example.com:80", "/a/b/?x=1"), "308 https://secure.example.com/a/b/?x=1");
  EXPECT_EQ(redirect("secure.example.com", "/a/b/"), "308 https://secure.example.com/a/b");  // trailing / dropped
  EXPECT_EQ(redirect("keep.example.com", "/a/b/"), "308 https://keep.example.com/a/b/");  // fallback cert, kept /
  EXPECT_EQ(pod_of("plain.example.com", "/"), "web-1-a");  // ssl-redirect: "false"
  EXPECT_EQ(redirect("forced.example.com", "/x"), "308 https://forced.example.com/x");
  EXPECT_EQ(redirect("approot.example.com", "/"), "302 http://approot.example.com/app1");
  EXPECT_EQ(pod_of("approot.example.com", "/app1"), "web-1-a");
  EXPECT_EQ(redirect("moved.example.com", "/p?q=1"), "308 https://new.example.com/p?q=1");
  EXPECT_EQ(redirect("elsewhere.example.com", "/p"), "302 https://elsewhere.example.com/");
  EXPECT_EQ(redirect("shop.example.com", "/cart?x=1"), "308 http://www.shop.example.com/cart?x=1");
  EXPECT_EQ(pod_of("www.shop.example.com", "/cart"), "web-1-a");
}

TEST_F(IngressTest, TlsBySniWithTheFallbackCertificate) {
  EXPECT_NE(subject("secure.example.com").find("CN = secure"), std::string::npos);
  EXPECT_NE(subject("keep.example.com").find("Fallback"), std::string::npos);   // Secret missing
  EXPECT_NE(subject("canary.example.com").find("Fallback"), std::string::npos); // no TLS section
  EXPECT_NE(subject("").find("Fallback"), std::string::npos);                   // no SNI
  auto r = run("curl -s --max-time 10 --cacert " + (dir_->path() / "secure.crt").string() + " --resolve secure.example.com:" +
               std::to_string(https_) + ":127.0.0.1 https://secure.example.com:" + std::to_string(https_) + "/tls");
  boost::system::error_code ec;
  auto v = json::parse(r.out, ec);
  ASSERT_FALSE(ec) << r.out;
  EXPECT_EQ(std::string(v.at("pod").get_string()), "web-1-a");
  EXPECT_EQ(std::string(v.at("headers").at("X-Forwarded-Proto").at(0).get_string()), "https");
  auto status = gantry_->admin_get("/status");
  EXPECT_NE(status.find("TLSSecretUnusable"), std::string::npos);
  EXPECT_NE(status.find("\"loadBalancer\":{\"ingress\":[{\"ip\":\"127.0.0.1\"}]}"), std::string::npos) << status;
}

TEST_F(IngressTest, BodyLimitAndReadTimeout) {
  write_file(dir_->path() / "big", std::string(2000, 'x'));
  std::string big = "@" + (dir_->path() / "big").string();
  EXPECT_EQ(curl_status(http_, "limits.example.com", "/upload-length", "--data-binary " + big), 413);
  EXPECT_EQ(curl_status(http_, "limits.example.com", "/upload-chunked",
                        "-H 'Transfer-Encoding: chunked' --data-binary " + big),
            413);
  EXPECT_FALSE(logged(0, "Echoing back request made to /upload-length ", 200ms));  // it reached no backend
  EXPECT_EQ(curl_status(http_, "limits.example.com", "/small", "--data-binary 0123456789"), 200);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(curl_status(http_, "limits.example.com", "/slow?delay=3s"), 504);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GT(took, 900ms);
  EXPECT_LT(took, 2500ms);
}

TEST_F(IngressTest, BackendProtocolHttpsSpeaksTlsWithTheHostAsSni) {
  auto o = echo("tlsbe.example.com", "/over-tls");
  EXPECT_EQ(pod(o), "secure-be-1-a");
  ASSERT_TRUE(o.contains("tlsServerName"));
  EXPECT_EQ(std::string(o.at("tlsServerName").get_string()), "tlsbe.example.com");
  o = echo("tlsvhost.example.com", "/vhost");
  EXPECT_EQ(std::string(o.at("tlsServerName").get_string()), "backend.internal");  // upstream-vhost is the SNI too
  EXPECT_EQ(std::string(o.at("host").get_string()), "backend.internal");
  // Pooled: a second request reuses the TLS connection.
  auto r = run("curl -s -H 'Host: tlsbe.example.com' http://127.0.0.1:" + std::to_string(http_) + "/a http://127.0.0.1:" +
               std::to_string(http_) + "/b");
  auto first = r.out.find("\"connection\":"), second = r.out.rfind("\"connection\":");
  ASSERT_NE(first, second) << r.out;
  EXPECT_EQ(r.out.substr(first, r.out.find(',', first) - first), r.out.substr(second, r.out.find(',', second) - second));
  // A plain-HTTP endpoint behind backend-protocol HTTPS fails the handshake: 502, no hang.
  EXPECT_EQ(curl_status(http_, "tlsplain.example.com", "/", "--max-time 5"), 502);
}

TEST_F(IngressTest, BackendProtocolGrpcSpeaksH2cAndGrpcsNeedsH2ByAlpn) {
  auto r = curl(http_, "grpc.example.com", "/pkg.Service/Call", "-X POST --data-binary x");
  EXPECT_NE(r.out.find("\"proto\":\"HTTP/2.0\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"pod\":\"grpc-be-1-a\""), std::string::npos) << r.out;
  // GRPCS is h2 over TLS: a TLS backend that offers no h2 in ALPN is refused, 502.
  auto s = curl(http_, "grpcs.example.com", "/", "--max-time 5 -w '\\n%{http_code}'");
  EXPECT_EQ(s.out.substr(s.out.rfind('\n') + 1), "502") << s.out;
  EXPECT_NE(s.out.find("Protocol not available"), std::string::npos) << s.out;
  // One that offers h2 answers over it, from an HTTP/1.1 and an HTTP/2 client.
  for (const std::string proto : {"--http1.1", "--http2-prior-knowledge"}) {
    auto ok = curl(http_, "grpcs-h2.example.com", "/pkg.Service/Call", proto + " -X POST --data-binary xyz");
    EXPECT_NE(ok.out.find("\"proto\":\"HTTP/2.0\""), std::string::npos) << proto << ": " << ok.out;
    EXPECT_NE(ok.out.find("\"pod\":\"secure-h2-be-1-a\""), std::string::npos) << proto << ": " << ok.out;
  }
}

TEST_F(IngressTest, SslPassthroughHandsTheHostsTlsToItsBackendUnopened) {
  auto subject = [](const std::string& name) {
    return run("echo | timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(https_) + " -servername " +
               name + " 2>/dev/null | openssl x509 -noout -subject 2>/dev/null")
        .out;
  };
  // The backend's own certificate for the passed-through host, Gantry's for the others.
  EXPECT_NE(subject("pass.example.com").find("CN = backend"), std::string::npos);
  EXPECT_NE(subject("secure.example.com").find("CN = secure"), std::string::npos);
  auto r = run("curl -s --max-time 10 -k --resolve pass.example.com:" + std::to_string(https_) +
               ":127.0.0.1 https://pass.example.com:" + std::to_string(https_) + "/inside");
  EXPECT_NE(r.out.find("\"pod\":\"secure-be-1-a\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"tlsServerName\":\"pass.example.com\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("X-Forwarded-For"), std::string::npos) << r.out;  // never opened
}

TEST_F(IngressTest, SourceRangesAndRefusedSnippets) {
  EXPECT_EQ(pod_of("allowed.example.com", "/"), "web-1-a");
  EXPECT_EQ(curl_status(http_, "denied.example.com", "/"), 403);
  auto status = gantry_->admin_get("/status");
  EXPECT_NE(status.find("AnnotationRefused"), std::string::npos);
  EXPECT_NE(status.find("configuration-snippet"), std::string::npos);
}

}  // namespace
}  // namespace gantry::test
