// gantry migrate end to end: the real binary writes the Gateway API objects for a set of
// Ingresses, then two real gantry processes serve the Ingresses and the migrated objects
// to the same gantry-echo backends, and real curl requests must get the same answers
// from both (status, Location, backend, the path and Host it saw).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "harness.h"

namespace gantry::test {
namespace {
namespace json = boost::json;

std::string ingress(const std::string& name, const std::string& annotations, const std::string& host,
                    const std::string& path, const std::string& type, const std::string& service) {
  return "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
         "\n  namespace: default\n  annotations: {" + annotations + "}\nspec:\n  rules:\n  - host: " + host +
         "\n    http:\n      paths:\n      - {path: '" + path + "', pathType: " + type + ", backend: {service: {name: " +
         service + ", port: {number: 8080}}}}\n";
}

class MigrateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto in = dir_->path() / "in", out = dir_->path() / "out";
    std::filesystem::create_directories(in);
    std::filesystem::create_directories(out);
    for (const char* pod : {"web-1-a", "next-1-a", "api-1-a"}) echoes_.push_back(new Echo(pod, dir_->path()));
    std::string services = service_manifest("web", {echoes_[0]->port}) + service_manifest("next", {echoes_[1]->port}) +
                           service_manifest("api", {echoes_[2]->port});
    write_file(in / "services.yaml", services);
    write_file(out / "services.yaml", services);
    std::string n = "nginx.ingress.kubernetes.io/";
    write_file(in / "ingresses.yaml",
               "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: gantry\n"
               "  annotations: {ingressclass.kubernetes.io/is-default-class: \"true\"}\n"
               "spec: {controller: gantry.dev/gateway-controller}\n" +
                   ingress("app", "", "app.example.com", "/", "Prefix", "web") +
                   ingress("app-canary",
                           n + "canary: 'true', " + n + "canary-by-header: X-Beta, " + n + "canary-by-cookie: beta",
                           "app.example.com", "/", "Prefix", "next") +
                   ingress("exact", "", "app.example.com", "/exact", "Exact", "api") +
                   ingress("api", n + "rewrite-target: /$2, " + n + "upstream-vhost: api.internal", "api.example.com",
                           "/v1(/|$)(.*)", "ImplementationSpecific", "api") +
                   ingress("old", n + "permanent-redirect: https://app.example.com$request_uri", "old.example.com", "/",
                           "Prefix", "web") +
                   ingress("root", n + "app-root: /start", "root.example.com", "/", "Prefix", "web"));

    migrated_ = new CommandResult(run(std::string(GANTRY_BIN) + " migrate --manifests " + in.string() + " 2>" +
                                      (dir_->path() / "notes.txt").string()));
    write_file(out / "migrated.yaml", migrated_->out);
    ingress_ = new Gantry(in, {"--ingress-http", "127.0.0.1:80", "--ingress-https", "127.0.0.1:" + std::to_string(free_port())});
    gateway_ = new Gantry(out);
    ASSERT_TRUE(ingress_->wait_ready()) << ingress_->log();
    ASSERT_TRUE(gateway_->wait_ready()) << gateway_->log();
  }
  static void TearDownTestSuite() {
    delete ingress_;
    delete gateway_;
    for (Echo* e : echoes_) delete e;
    echoes_.clear();
    delete migrated_;
    delete dir_;
  }

  // What one gantry answers: status and Location, or the backend and what it saw.
  static std::string answer(const Gantry& g, const std::string& host, const std::string& path, const std::string& args = "") {
    CommandResult r = curl(g.port, host, path, args + " -w '\\n%{http_code} %{redirect_url}'");
    size_t nl = r.out.rfind('\n');
    std::string status = nl == std::string::npos ? r.out : r.out.substr(nl + 1);
    if (!status.starts_with("200")) return status;
    boost::system::error_code ec;
    auto v = json::parse(r.out.substr(0, nl), ec);
    if (ec || !v.is_object()) return status + " (not an echo: " + r.out.substr(0, 80) + ")";
    const json::object& o = v.as_object();
    return status + " " + std::string(o.at("pod").get_string()) + " " + std::string(o.at("host").get_string()) + " " +
           std::string(o.at("path").get_string());
  }

  static TempDir* dir_;
  static std::vector<Echo*> echoes_;
  static CommandResult* migrated_;
  static Gantry* ingress_;
  static Gantry* gateway_;
};
TempDir* MigrateTest::dir_ = nullptr;
std::vector<Echo*> MigrateTest::echoes_;
CommandResult* MigrateTest::migrated_ = nullptr;
Gantry* MigrateTest::ingress_ = nullptr;
Gantry* MigrateTest::gateway_ = nullptr;

TEST_F(MigrateTest, TheProofPassesAndTheNotesAreOnStandardError) {
  EXPECT_EQ(migrated_->exit_code, 0);
  std::string notes = read_file(dir_->path() / "notes.txt");
  EXPECT_NE(notes.find(" 0 routed differently"), std::string::npos) << notes;
  EXPECT_NE(notes.find("note: Ingress default/api: the regex path /v1(/|$)(.*) is written as PathPrefix /v1"),
            std::string::npos) << notes;
  EXPECT_EQ(migrated_->out.find("note:"), std::string::npos) << "notes belong on stderr";
  EXPECT_NE(migrated_->out.find("kind: HTTPRoute"), std::string::npos);
}

TEST_F(MigrateTest, BothSetsAnswerAlike) {
  struct Probe {
    std::string host, path, args, want;  // want: a part of the answer, so the test knows what it compares
  };
  const Probe probes[] = {
      {"app.example.com", "/", "", "web-1-a"},
      {"app.example.com", "/deep/path?q=1", "", "web-1-a app.example.com /deep/path?q=1"},
      {"app.example.com", "/x", "-H 'X-Beta: always'", "next-1-a"},
      {"app.example.com", "/x", "-H 'X-Beta: never' -b 'beta=always'", "web-1-a"},
      {"app.example.com", "/x", "-H 'X-Beta: maybe' -b 'a=1; beta=always'", "next-1-a"},
      {"app.example.com", "/x", "-b 'beta=never'", "web-1-a"},
      {"app.example.com", "/exact", "", "api-1-a"},
      {"app.example.com", "/exact/more", "", "web-1-a"},
      {"api.example.com", "/v1/users/7", "", "api-1-a api.internal /users/7"},
      {"api.example.com", "/v1", "", "api-1-a api.internal /"},
      {"api.example.com", "/v1x", "", "404"},
      {"old.example.com", "/p?q=1", "", "301 https://app.example.com/p?q=1"},
      {"root.example.com", "/", "", "302 http://root.example.com/start"},
      {"root.example.com", "/other", "", "web-1-a root.example.com /other"},
      {"nowhere.example.com", "/", "", "404"},
  };
  for (const Probe& p : probes) {
    std::string was = answer(*ingress_, p.host, p.path, p.args);
    std::string now = answer(*gateway_, p.host, p.path, p.args);
    EXPECT_NE(was.find(p.want), std::string::npos) << p.host << p.path << " " << p.args << ": " << was;
    EXPECT_EQ(was, now) << p.host << p.path << " " << p.args;
  }
}

TEST_F(MigrateTest, TheMigratedObjectsAreAcceptedWithTheirReferencesResolved) {
  json::value status = json::parse(gateway_->admin_get("/status"));
  size_t routes = 0;
  for (const auto& item : status.at("items").as_array()) {
    const json::object& o = item.as_object();
    if (o.at("kind").as_string() != "HTTPRoute") continue;
    ++routes;
    for (const auto& parent : o.at("status").at("parents").as_array())
      for (const auto& c : parent.at("conditions").as_array())
        EXPECT_EQ(c.at("status").as_string(), "True") << json::serialize(o);
  }
  EXPECT_EQ(routes, 5u) << "app (with its canary), exact, api, old, root";
}

TEST(MigrateUsage, BadUsageExitsTwoWithAMessage) {
  CommandResult none = run(std::string(GANTRY_BIN) + " migrate 2>&1");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.out.find("--manifests"), std::string::npos) << none.out;
  CommandResult dangling = run(std::string(GANTRY_BIN) + " migrate --manifests x --gateway-name 2>&1");
  EXPECT_EQ(dangling.exit_code, 2);
  EXPECT_NE(dangling.out.find("--gateway-name needs a value"), std::string::npos) << dangling.out;
  TempDir dir;
  write_file(dir.path() / "broken.yaml", "kind: Ingress\nmetadata: [\n");
  CommandResult broken = run(std::string(GANTRY_BIN) + " migrate --manifests " + (dir.path() / "broken.yaml").string() + " 2>&1");
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.out.find("broken.yaml"), std::string::npos) << broken.out;
  // The Gateway it would write is already there: refused rather than replaced.
  write_file(dir.path() / "broken.yaml", gateway_manifest("gantry"));
  CommandResult taken = run(std::string(GANTRY_BIN) + " migrate --manifests " + (dir.path() / "broken.yaml").string() + " 2>&1");
  EXPECT_EQ(taken.exit_code, 2);
  EXPECT_NE(taken.out.find("--gateway-name"), std::string::npos) << taken.out;
  // A GatewayClass of that name that another controller owns: refused, not taken over.
  write_file(dir.path() / "broken.yaml",
             "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gantry}\n"
             "spec: {controllerName: example.com/other}\n");
  CommandResult other = run(std::string(GANTRY_BIN) + " migrate --manifests " + (dir.path() / "broken.yaml").string() + " 2>&1");
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.out.find("belongs to example.com/other"), std::string::npos) << other.out;
  CommandResult help = run(std::string(GANTRY_BIN) + " migrate --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(help.out.starts_with("usage: gantry migrate --manifests")) << help.out;
}

}  // namespace
}  // namespace gantry::test
