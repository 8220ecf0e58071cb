// The Kubernetes API client against the API double (real TLS, real HTTP): kubeconfig
// parsing, bearer tokens and their rotation, client certificates, server verification,
// and chunked lists. Kubernetes API conventions followed: "Retrieving large results sets
// in chunks" (limit, continue, 410 Gone on an expired token means starting over), and the
// client-go rules for kubeconfig (current-context; files relative to the kubeconfig;
// -data fields as base64).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "../support/self_signed.h"
#include "api_double.h"
#include "gantry/controller/sources/kube_client.h"

namespace gantry::test {
namespace {
namespace fs = std::filesystem;
using controller::KubeClient;
using controller::KubeConfig;

std::string b64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

boost::json::object service(const std::string& name) {
  return boost::json::object{{"apiVersion", "v1"}, {"kind", "Service"},
                             {"metadata", boost::json::object{{"name", name}, {"namespace", "default"}}}};
}

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gantry-kube-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A kubeconfig with two contexts, the current one pointing at `port`.
  std::string kubeconfig(uint16_t port, const std::string& cluster_extra, const std::string& user) {
    std::string text = "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                       "clusters:\n"
                       "- name: other\n  cluster: {server: \"https://10.255.255.1:6443\"}\n"
                       "- name: double\n  cluster:\n    server: \"https://127.0.0.1:" + std::to_string(port) + "\"\n" + cluster_extra +
                       "contexts:\n"
                       "- name: elsewhere\n  context: {cluster: other, user: nobody}\n"
                       "- name: test\n  context: {cluster: double, user: me, namespace: gantry-system}\n"
                       "users:\n- name: me\n  user:\n" + user;
    fs::path p = dir_ / "kubeconfig";
    std::ofstream(p) << text;
    return p.string();
  }

  // The usual kubeconfig: the double's CA inline and a bearer token.
  KubeConfig token_config(const ApiDouble& api, const std::string& token) {
    auto config = controller::load_kubeconfig(
        kubeconfig(api.port(), "    certificate-authority-data: " + b64(api.ca_pem()) + "\n", "    token: " + token + "\n"));
    EXPECT_TRUE(config.ok()) << config.error().message;
    return config.ok() ? *config : KubeConfig{};
  }
  // Waits (bounded) until the double has a watch open.
  static void until_watching(const ApiDouble& api) {
    for (int i = 0; i < 500 && api.open_watches() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  fs::path dir_;
};

TEST_F(KubeClientTest, ListsEveryPageWithATokenAndTheClustersCa) {
  ApiDouble api({"s3cret", ""});
  for (int i = 0; i < 7; ++i) api.add("/api/v1/services", service("s" + std::to_string(i)));
  auto config = controller::load_kubeconfig(
      kubeconfig(api.port(), "    certificate-authority-data: " + b64(api.ca_pem()) + "\n", "    token: s3cret\n"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ns, "gantry-system");
  KubeClient client(*config);
  auto list = client.list("/api/v1/services", 3);
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->items.size(), 7u);
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(list->items[i].at("metadata").at("name").as_string(), "s" + std::to_string(i));
  EXPECT_EQ(list->resource_version, "1007");
  EXPECT_EQ(api.requests(), 3);  // 3 + 3 + 1
  // The continue token came back as it was given, through URL encoding ('/' and '=').
  EXPECT_EQ(api.targets()[1], "/api/v1/services?continue=c1/3=&limit=3");
}

TEST_F(KubeClientTest, ATokenFileIsReadAgainAfterItRotates) {
  ApiDouble api({"first", ""});
  api.add("/api/v1/namespaces", boost::json::object{{"metadata", boost::json::object{{"name", "default"}}}});
  std::ofstream(dir_ / "token") << "first\n";
  std::ofstream(dir_ / "ca.crt") << api.ca_pem();
  // Relative file names are relative to the kubeconfig's directory.
  auto config = controller::load_kubeconfig(
      kubeconfig(api.port(), "    certificate-authority: ca.crt\n", "    tokenFile: token\n"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  KubeClient client(*config);
  ASSERT_TRUE(client.list("/api/v1/namespaces").ok());
  api.set_token("second");
  EXPECT_EQ(client.get("/api/v1/namespaces").status, 401);
  std::ofstream(dir_ / "token") << "second\n";
  auto again = client.list("/api/v1/namespaces");
  EXPECT_TRUE(again.ok()) << again.error().message;
}

TEST_F(KubeClientTest, AClientCertificateAuthenticates) {
  auto me = make_self_signed("/CN=gantry", {});
  ASSERT_TRUE(me);
  ApiDouble api({"", me->crt_pem});
  api.add("/apis/gateway.networking.k8s.io/v1/httproutes", service("r"));
  std::ofstream(dir_ / "me.key") << me->key_pem;
  auto config = controller::load_kubeconfig(kubeconfig(
      api.port(), "    certificate-authority-data: " + b64(api.ca_pem()) + "\n",
      "    client-certificate-data: " + b64(me->crt_pem) + "\n    client-key: me.key\n"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto list = KubeClient(*config).list("/apis/gateway.networking.k8s.io/v1/httproutes");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->items.size(), 1u);
  // Without the certificate the TLS handshake itself is refused.
  config->client_cert_pem.clear();
  config->client_key_pem.clear();
  EXPECT_FALSE(KubeClient(*config).list("/apis/gateway.networking.k8s.io/v1/httproutes").ok());
}

TEST_F(KubeClientTest, AServerTheCaDidNotSignIsRefused) {
  ApiDouble api({"t", ""});
  auto stranger = make_self_signed("/CN=stranger", {"stranger.example"});
  ASSERT_TRUE(stranger);
  auto config = controller::load_kubeconfig(
      kubeconfig(api.port(), "    certificate-authority-data: " + b64(stranger->crt_pem) + "\n", "    token: t\n"));
  ASSERT_TRUE(config.ok());
  auto r = KubeClient(*config).get("/api/v1/services");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("does not verify against the configured CA"), std::string::npos) << r.error;
  EXPECT_EQ(api.requests(), 0);
  // insecure-skip-tls-verify is honoured, as kubectl does.
  config = controller::load_kubeconfig(kubeconfig(api.port(), "    insecure-skip-tls-verify: true\n", "    token: t\n"));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(KubeClient(*config).get("/api/v1/services").status, 200);
}

TEST_F(KubeClientTest, AnExpiredContinueTokenStartsTheListOver) {
  ApiDouble api({"t", ""});
  for (int i = 0; i < 5; ++i) api.add("/api/v1/secrets", service("x" + std::to_string(i)));
  KubeClient client(token_config(api, "t"));
  // The first page hands out a token; it expires before the second page is asked for.
  auto first = client.get("/api/v1/secrets?limit=2");
  ASSERT_EQ(first.status, 200);
  api.expire_continue_tokens();
  EXPECT_EQ(client.get("/api/v1/secrets?limit=2&continue=" + controller::url_encode("c1/2=")).status, 410);
  auto list = client.list("/api/v1/secrets", 2);
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->items.size(), 5u);
}

// In a pod: the service host and port from the environment, the service account's token,
// CA and namespace from its mounted directory (the token re-read on each request).
TEST_F(KubeClientTest, InClusterConfigUsesTheServiceAccount) {
  ApiDouble api({"sa-token", ""});
  api.add("/api/v1/services", service("kubernetes"));
  std::ofstream(dir_ / "token") << "sa-token";
  std::ofstream(dir_ / "ca.crt") << api.ca_pem();
  std::ofstream(dir_ / "namespace") << "gantry-system\n";
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", std::to_string(api.port()).c_str(), 1);
  auto config = controller::in_cluster_config(dir_.string());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ns, "gantry-system");
  auto list = KubeClient(*config).list("/api/v1/services");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->items.size(), 1u);
  EXPECT_FALSE(controller::in_cluster_config(dir_.string()).ok()) << "without KUBERNETES_SERVICE_HOST";
}

// Watch events arrive one by one, whatever the chunk boundaries (7-byte and 1-byte pieces
// here), each as soon as its last byte is in; the stream ends when the server closes it.
TEST_F(KubeClientTest, WatchEventsArriveWholeAcrossOddChunks) {
  ApiDouble api({"t", ""});
  KubeClient client(token_config(api, "t"));
  std::vector<std::string> seen;
  std::thread feeder([&] {
    until_watching(api);
    api.emit("/api/v1/services", "ADDED", service("a"));
    api.emit("/api/v1/services", "MODIFIED", service("a"), 1);
    api.emit("/api/v1/services", "BOOKMARK", boost::json::object{{"metadata", boost::json::object{}}}, 3);
    api.emit("/api/v1/services", "DELETED", service("a"), 1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    api.close_watches();
  });
  auto end = client.watch("/api/v1/services", "1000", 30, [&](const boost::json::object& e) {
    seen.push_back(std::string(e.at("type").as_string()));
    return true;
  });
  feeder.join();
  EXPECT_EQ(end.status, 200) << end.error;
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED", "MODIFIED", "BOOKMARK", "DELETED"}));
  EXPECT_EQ(end.last_resource_version, "1004");
  EXPECT_EQ(api.targets().back(), "/api/v1/services?watch=1&resourceVersion=1000");
}

// A watch cut mid-event says so (the caller reconnects from the last version it saw); one
// from a compacted resourceVersion gets the ERROR event with a 410 Status (then relist).
TEST_F(KubeClientTest, ACutWatchAndAnExpiredOneAreReported) {
  ApiDouble api({"t", ""});
  KubeClient client(token_config(api, "t"));
  int events = 0;
  std::thread feeder([&] {
    until_watching(api);
    api.emit("/api/v1/services", "ADDED", service("b"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    api.cut_watches();
  });
  auto cut = client.watch("/api/v1/services", "", 30, [&](const boost::json::object&) {
    ++events;
    return true;
  });
  feeder.join();
  EXPECT_EQ(events, 1);
  EXPECT_FALSE(cut.error.empty()) << "a stream cut mid-event must not look like a clean end";
  EXPECT_EQ(cut.last_resource_version, "1001");

  api.compact(2000);
  int code = 0;
  auto expired = client.watch("/api/v1/services", "1001", 30, [&](const boost::json::object& e) {
    if (e.at("type") == "ERROR") code = static_cast<int>(e.at("object").at("code").to_number<int64_t>());
    return true;
  });
  EXPECT_EQ(code, 410);
  EXPECT_EQ(expired.status, 200) << expired.error;
}

// A watch the server refuses ends at once with its status and says why; no event is seen.
TEST_F(KubeClientTest, ARefusedWatchReportsItsStatus) {
  ApiDouble api({"right", ""});
  KubeClient client(token_config(api, "wrong"));
  int events = 0;
  auto end = client.watch("/api/v1/services", "", 30, [&](const boost::json::object&) {
    ++events;
    return true;
  });
  EXPECT_EQ(end.status, 401);
  EXPECT_NE(end.error.find("401"), std::string::npos) << end.error;
  EXPECT_NE(end.error.find("Unauthorized"), std::string::npos) << end.error;
  EXPECT_EQ(events, 0);
}

TEST(KubeConfigFile, ErrorsNameTheFileAndWhatIsMissing) {
  fs::path p = fs::temp_directory_path() / ("gantry-kc-" + std::to_string(::getpid()));
  std::ofstream(p) << "apiVersion: v1\nkind: Config\nclusters: []\n";
  auto none = controller::load_kubeconfig(p.string());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no current-context"), std::string::npos) << none.error().message;
  std::ofstream(p) << "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
                      "clusters: [{name: c, cluster: {server: \"http://127.0.0.1:8080\"}}]\n";
  auto plain = controller::load_kubeconfig(p.string());
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("only https://"), std::string::npos) << plain.error().message;
  std::ofstream(p) << "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
                      "clusters: [{name: c, cluster: {server: \"https://[::1]:6443\"}}]\n"
                      "users: [{name: u, user: {client-certificate-data: eA==}}]\n";
  auto half = controller::load_kubeconfig(p.string());
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().message.find("without its key"), std::string::npos) << half.error().message;
  fs::remove(p);
}

}  // namespace
}  // namespace gantry::test
