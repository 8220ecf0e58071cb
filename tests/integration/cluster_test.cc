// Cluster mode end to end: the real gantry binary with --kubeconfig against the
// Kubernetes API double (tests/kube), real gantry-echo backends and real curl.
// What each part follows:
// - the same manifests served from files and from the cluster route the same and give the
//   same status (DESIGN.md: translation never knows which source an object came from);
// - status goes to the /status subresource once per change and never when nothing changed
//   (API conventions, "Spec and Status"; conditions keep lastTransitionTime while they hold);
// - /readyz only once every resource's first list is in ("Efficient detection of changes":
//   list, then watch from the list's resourceVersion);
// - a rotated service-account token is read again (bound service-account tokens);
// - of two replicas, only the Lease holder writes status, and the other takes over when
//   it stops ("Concurrency Control and Consistency" for the Lease's resourceVersion).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>

#include <boost/json.hpp>
#include <thread>

#include "../kube/api_double.h"
#include "gantry/controller/objects/decode.h"
#include "harness.h"
#include "../support/eventually.h"

namespace gantry::test {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  out.resize(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                             static_cast<int>(s.size())));
  return out;
}

// A kubeconfig for the double whose token is read from `token_file` on every request.
fs::path kubeconfig(const fs::path& dir, const ApiDouble& api, const std::string& name, const fs::path& token_file) {
  fs::path p = dir / (name + ".kubeconfig");
  write_file(p, "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                "contexts: [{name: test, context: {cluster: double, user: gantry, namespace: gantry-system}}]\n"
                "clusters: [{name: double, cluster: {server: 'https://127.0.0.1:" + std::to_string(api.port()) +
                "', certificate-authority-data: " + base64(api.ca_pem()) + "}}]\n"
                "users: [{name: gantry, user: {tokenFile: " + token_file.string() + "}}]\n");
  return p;
}

std::string collection_of(const std::string& kind) {
  static const std::map<std::string, std::string> kPaths{
      {"Namespace", "/api/v1/namespaces"},
      {"Service", "/api/v1/services"},
      {"Secret", "/api/v1/secrets"},
      {"EndpointSlice", "/apis/discovery.k8s.io/v1/endpointslices"},
      {"GatewayClass", "/apis/gateway.networking.k8s.io/v1/gatewayclasses"},
      {"Gateway", "/apis/gateway.networking.k8s.io/v1/gateways"},
      {"HTTPRoute", "/apis/gateway.networking.k8s.io/v1/httproutes"},
      {"ReferenceGrant", "/apis/gateway.networking.k8s.io/v1/referencegrants"},
      {"IngressClass", "/apis/networking.k8s.io/v1/ingressclasses"},
      {"Ingress", "/apis/networking.k8s.io/v1/ingresses"}};
  return kPaths.at(kind);
}

// Every object of a manifest text into the double, at generation 1 as file mode counts.
void load(ApiDouble& api, const std::string& manifests) {
  auto docs = controller::parse_documents(manifests);
  ASSERT_TRUE(docs) << docs.error().message;
  for (auto& d : *docs) {
    if (!d.is_object()) continue;
    json::object o = d.as_object();
    o["metadata"].as_object()["generation"] = 1;
    o["metadata"].as_object()["creationTimestamp"] = "2026-01-01T00:00:00Z";
    const std::string collection = collection_of(std::string(o.at("kind").as_string()));
    api.add(collection, std::move(o));
  }
}

constexpr const char* kClass =
    "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gantry}\n"
    "spec: {controllerName: gantry.dev/gateway-controller}\n"
    "---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: gantry}\n"
    "spec: {controller: gantry.dev/gateway-controller}\n";

std::string gateway(const std::string& name, const std::string& listeners) {
  return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: " + name +
         ", namespace: default}\nspec:\n  gatewayClassName: gantry\n  listeners: " + listeners + "\n";
}

std::string prefix_rule(const std::string& path, const std::string& service) {
  return "  - matches: [{path: {type: PathPrefix, value: " + path + "}}]\n    backendRefs: [{name: " + service +
         ", port: 8080}]\n";
}

// The shared set: a Gateway with two HTTPRoutes and an Ingress, each to its own echo.
std::string manifests(const Echo& a, const Echo& b, const Echo& c) {
  return std::string(kClass) + gateway("gw", "[{name: http, port: 80, protocol: HTTP}]") +
         service_manifest("svc-a", {a.port}) + service_manifest("svc-b", {b.port}) + service_manifest("svc-c", {c.port}) +
         route_manifest("route-a", "a.example", prefix_rule("/", "svc-a")) +
         route_manifest("route-b", "b.example", prefix_rule("/b", "svc-b")) +
         "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: ing, namespace: default}\n"
         "spec:\n  ingressClassName: gantry\n  rules:\n  - host: c.example\n    http:\n      paths:\n"
         "      - {path: /, pathType: Prefix, backend: {service: {name: svc-c, port: {number: 8080}}}}\n";
}

// The status items of /status, lastTransitionTime left out, keyed by kind/namespace/name.
std::map<std::string, json::value> statuses(const std::string& status_json) {
  std::map<std::string, json::value> out;
  auto doc = json::parse(status_json);
  for (auto& item : doc.at("items").as_array()) {
    const auto& md = item.at("metadata").as_object();
    std::string id = std::string(item.at("kind").as_string()) + "/" +
                     (md.contains("namespace") ? std::string(md.at("namespace").as_string()) + "/" : "") +
                     std::string(md.at("name").as_string());
    out[id] = item.at("status");
  }
  return out;
}

void strip_times(json::value& v) {
  if (v.is_object()) {
    v.as_object().erase("lastTransitionTime");
    for (auto& [k, x] : v.as_object()) strip_times(x);
  } else if (v.is_array()) {
    for (auto& x : v.as_array()) strip_times(x);
  }
}

std::string pod_of(uint16_t port, const std::string& host, const std::string& path) {
  auto r = curl(port, host, path);
  auto at = r.out.find("\"pod\":\"");
  return at == std::string::npos ? "" : r.out.substr(at + 7, r.out.find('"', at + 7) - at - 7);
}

// Ingresses on ports of their own (by default they share the Gateway's port 80, which a
// Gateway holds first).
std::vector<std::string> ingress_ports(std::vector<std::string> more = {}) {
  for (std::string f : std::vector<std::string>{"--ingress-http", "127.0.0.1:81", "--port-map", "81:" + std::to_string(free_port()),
                                                "--ingress-https", "127.0.0.1:82", "--port-map", "82:" + std::to_string(free_port())})
    more.push_back(f);
  return more;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_file_ = dir_.path() / "token";
    write_file(token_file_, "t1");
  }
  TempDir dir_;
  fs::path token_file_;
};

TEST_F(ClusterTest, ServesWhatFileModeServesAndWritesItsStatusOnce) {
  Echo a("pod-a", dir_.path()), b("pod-b", dir_.path()), c("pod-c", dir_.path());
  const std::string text = manifests(a, b, c);
  fs::create_directories(dir_.path() / "files");
  write_file(dir_.path() / "files" / "all.yaml", text);
  const uint16_t http = free_port();
  const std::vector<std::string> flags = ingress_ports({"--port-map", "80:" + std::to_string(http)});

  std::string file_dump, file_status;
  {
    Gantry files(dir_.path() / "files", flags);
    ASSERT_TRUE(files.wait_ready()) << files.log();
    file_dump = files.admin_get("/config_dump");
    file_status = files.admin_get("/status");
  }

  ApiDouble api({"t1", ""});
  load(api, text);
  auto cluster = Gantry::cluster(kubeconfig(dir_.path(), api, "gantry", token_file_), flags);
  ASSERT_TRUE(cluster->wait_ready()) << cluster->log();
  auto without_time = [](const std::string& dump) {
    json::value v = json::parse(dump);
    v.as_object().erase("publishedAt");
    return json::serialize(v);
  };
  EXPECT_EQ(without_time(cluster->admin_get("/config_dump")), without_time(file_dump));
  EXPECT_EQ(pod_of(http, "a.example", "/x"), "pod-a");
  EXPECT_EQ(pod_of(http, "b.example", "/b/1"), "pod-b");
  EXPECT_EQ(curl_status(http, "b.example", "/other"), 404);
  const uint16_t ingress_port = static_cast<uint16_t>(std::stoi(flags[5].substr(3)));
  EXPECT_EQ(pod_of(ingress_port, "c.example", "/"), "pod-c");

  // The status the cluster holds is the status file mode reports.
  auto want = statuses(file_status);
  ASSERT_TRUE(eventually([&] { return api.patches().size() >= want.size(); })) << api.patches().size();
  std::this_thread::sleep_for(1500ms);  // and nothing more arrives when nothing changes
  const size_t settled = api.patches().size();
  EXPECT_EQ(settled, want.size());
  for (auto& [id, status] : want) {
    std::string kind = id.substr(0, id.find('/')), rest = id.substr(id.find('/') + 1);
    std::string ns = rest.find('/') == std::string::npos ? "" : rest.substr(0, rest.find('/'));
    std::string name = rest.substr(rest.find('/') + 1);
    auto held = api.get(collection_of(kind), ns, name);
    ASSERT_TRUE(held && held->contains("status")) << id;
    json::value got = held->at("status");
    strip_times(got);
    EXPECT_EQ(json::serialize(got), json::serialize(status)) << id;
  }
  for (const auto& p : api.patches()) EXPECT_EQ(p.content_type, "application/merge-patch+json");
  // Our writes came back through the watch as status-only events: nothing was translated again.
  EXPECT_EQ(cluster->metric("gantry_translations_total"), 1u);
  EXPECT_GE(cluster->metric("gantry_status_only_events_total"), want.size());
  EXPECT_EQ(cluster->metric("gantry_status_writes_total"), want.size());

  // A route's change at the API: served within milliseconds, one status write (its own).
  auto changed = std::chrono::steady_clock::now();
  json::object route = *api.get(collection_of("HTTPRoute"), "default", "route-b");
  route["metadata"].as_object()["generation"] = 2;
  route["spec"].as_object()["rules"].as_array()[0].as_object()["matches"].as_array()[0].as_object()["path"].as_object()["value"] = "/moved";
  api.emit(collection_of("HTTPRoute"), "MODIFIED", route);
  ASSERT_TRUE(eventually([&] { return pod_of(http, "b.example", "/moved") == "pod-b"; }));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - changed);
  std::cout << "API change to route serving: " << took.count() << " ms (curl polls included)\n";
  ASSERT_TRUE(eventually([&] { return api.patches().size() == settled + 1; }));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(api.patches().size(), settled + 1);
  EXPECT_NE(api.patches().back().path.find("/httproutes/route-b/status"), std::string::npos);
  auto held = api.get(collection_of("HTTPRoute"), "default", "route-b");
  EXPECT_EQ(held->at("status").at("parents").at(0).at("conditions").at(0).at("observedGeneration"), 2);

  // A quiet spell: no requests but the open watches (GANTRY_QUIET_SECONDS=60 measures a minute).
  const char* quiet_env = std::getenv("GANTRY_QUIET_SECONDS");
  const int quiet = quiet_env ? std::atoi(quiet_env) : 2;
  const int before = api.requests();
  std::this_thread::sleep_for(std::chrono::seconds(quiet));
  std::cout << "API requests in " << quiet << " quiet seconds: " << api.requests() - before << "\n";
  if (quiet < 300) EXPECT_EQ(api.requests(), before);  // watches renew after 300 s
}

TEST_F(ClusterTest, ReadyOnlyAfterTheFirstListsAndARotatedTokenIsUsed) {
  Echo a("pod-a", dir_.path()), b("pod-b", dir_.path()), c("pod-c", dir_.path());
  ApiDouble api({"t1", ""});
  load(api, manifests(a, b, c));
  write_file(token_file_, "wrong");  // every list is refused until the right token lands
  auto g = Gantry::cluster(kubeconfig(dir_.path(), api, "gantry", token_file_), ingress_ports());
  EXPECT_FALSE(g->wait_ready(1500ms));
  httplib::Client admin("127.0.0.1", g->admin);
  auto res = admin.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("no configuration published yet"), std::string::npos) << res->body;
  EXPECT_EQ(curl_status(g->port, "a.example", "/"), 0) << "nothing listens before the first lists";

  write_file(token_file_, "t1");
  ASSERT_TRUE(g->wait_ready(15s)) << g->log();
  EXPECT_EQ(pod_of(g->port, "a.example", "/"), "pod-a");

  // The token rotates: the API server takes only the new one; watches cut so that gantry
  // must authenticate again.
  write_file(token_file_, "t2");
  api.set_token("t2");
  api.cut_watches();
  json::object route = *api.get(collection_of("HTTPRoute"), "default", "route-a");
  route["spec"].as_object()["hostnames"] = json::array{"rotated.example"};
  std::this_thread::sleep_for(300ms);  // the watches are open again, with the new token
  api.emit(collection_of("HTTPRoute"), "MODIFIED", route);
  EXPECT_TRUE(eventually([&] { return pod_of(g->port, "rotated.example", "/") == "pod-a"; }, 15s)) << g->log();
}

TEST_F(ClusterTest, OnlyTheLeaderWritesAndTheOtherTakesOverWhenItStops) {
  Echo a("pod-a", dir_.path()), b("pod-b", dir_.path()), c("pod-c", dir_.path());
  ApiDouble api({"t1", ""});
  api.add_token("t-two");
  load(api, manifests(a, b, c));
  const fs::path second_token = dir_.path() / "token-two";
  write_file(second_token, "t-two");
  const std::vector<std::string> elect = ingress_ports({"--leader-elect", "--leader-election-lease-duration", "2"});
  auto one = Gantry::cluster(kubeconfig(dir_.path(), api, "one", token_file_), elect);
  ASSERT_TRUE(one->wait_ready()) << one->log();
  ASSERT_TRUE(eventually([&] { return api.get("/apis/coordination.k8s.io/v1/leases", "gantry-system", "gantry-leader").has_value(); }));
  auto two = Gantry::cluster(kubeconfig(dir_.path(), api, "two", second_token), elect);
  ASSERT_TRUE(two->wait_ready()) << two->log();
  // Both serve traffic.
  EXPECT_EQ(pod_of(one->port, "a.example", "/"), "pod-a");
  EXPECT_EQ(pod_of(two->port, "a.example", "/"), "pod-a");
  ASSERT_TRUE(eventually([&] { return api.patches().size() >= 5; }));
  std::this_thread::sleep_for(1s);
  for (const auto& p : api.patches()) EXPECT_EQ(p.token, "t1") << p.path;  // the first holds the Lease

  one->process->signal(SIGTERM);  // it releases the Lease on the way out
  auto lease = [&] {
    auto l = api.get("/apis/coordination.k8s.io/v1/leases", "gantry-system", "gantry-leader");
    return l ? std::string(l->at("spec").at("holderIdentity").as_string()) : "";
  };
  ASSERT_TRUE(eventually([&] { return !lease().empty() && lease() != "" && api.writes()["PUT 200"] > 0 &&
                                      two->log().find("became the leader") != std::string::npos; }, 5s))
      << two->log();
  // A change now is written by the second replica.
  json::object route = *api.get(collection_of("HTTPRoute"), "default", "route-b");
  route["metadata"].as_object()["generation"] = 2;
  api.emit(collection_of("HTTPRoute"), "MODIFIED", route);
  ASSERT_TRUE(eventually([&] { return api.patches().back().token == "t-two"; })) << two->log();
  EXPECT_NE(api.patches().back().path.find("route-b"), std::string::npos);
}

TEST_F(ClusterTest, GatewaysOnOnePortAreMergedAndAHostnameClaimedTwiceIsConflicted) {
  Echo a("pod-a", dir_.path()), b("pod-b", dir_.path());
  ApiDouble api({"t1", ""});
  std::string text = std::string(kClass) +
                     gateway("team-a", "[{name: web, port: 80, protocol: HTTP, hostname: a.example}]") +
                     gateway("team-b", "[{name: web, port: 80, protocol: HTTP, hostname: b.example},"
                                       " {name: stolen, port: 80, protocol: HTTP, hostname: a.example}]") +
                     service_manifest("svc-a", {a.port}) + service_manifest("svc-b", {b.port});
  std::string route_a = route_manifest("route-a", "", prefix_rule("/", "svc-a"));
  std::string route_b = route_manifest("route-b", "", prefix_rule("/", "svc-b"));
  route_b.replace(route_b.find("parentRefs: [{name: gw}]"), 24, "parentRefs: [{name: team-b}]");
  route_a.replace(route_a.find("parentRefs: [{name: gw}]"), 24, "parentRefs: [{name: team-a}]");
  load(api, text + route_a + route_b);
  // team-a is the older Gateway: it keeps a.example.
  json::object older = *api.get(collection_of("Gateway"), "default", "team-a");
  older["metadata"].as_object()["creationTimestamp"] = "2025-01-01T00:00:00Z";
  api.emit(collection_of("Gateway"), "MODIFIED", older);
  auto g = Gantry::cluster(kubeconfig(dir_.path(), api, "gantry", token_file_), ingress_ports());
  ASSERT_TRUE(g->wait_ready()) << g->log();
  EXPECT_EQ(pod_of(g->port, "a.example", "/"), "pod-a");
  EXPECT_EQ(pod_of(g->port, "b.example", "/"), "pod-b");
  ASSERT_TRUE(eventually([&] {
    auto gw = api.get(collection_of("Gateway"), "default", "team-b");
    return gw && gw->contains("status") && gw->at("status").as_object().contains("listeners");
  }));
  const auto listeners = api.get(collection_of("Gateway"), "default", "team-b")->at("status").at("listeners").as_array();
  ASSERT_EQ(listeners.size(), 2u);
  EXPECT_EQ(listeners[1].at("name"), "stolen");
  EXPECT_EQ(listeners[1].at("conditions").at(1).at("type"), "Conflicted");
  EXPECT_EQ(listeners[1].at("conditions").at(1).at("status"), "True");
  EXPECT_EQ(listeners[1].at("conditions").at(1).at("reason"), "HostnameConflict");
  EXPECT_EQ(listeners[0].at("conditions").at(1).at("status"), "False");
}

}  // namespace
}  // namespace gantry::test
