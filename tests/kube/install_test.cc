// The install manifests (crds/): their RBAC grants exactly what the client requests
// (the collections cluster mode lists and watches, as discovery against the API double
// chooses them; PATCH on the status subresources; the Lease), and the Deployment meets
// the restricted Pod Security Standard (kubernetes.io/docs/concepts/security/
// pod-security-standards, "Restricted") and the hardening the README promises.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>
#include <tuple>

#include "api_double.h"
#include "double_config.h"
#include "gantry/controller/sources/cluster_resources.h"

namespace gantry::test {
namespace {
namespace fs = std::filesystem;
using Grant = std::tuple<std::string, std::string, std::string>;  // group, resource, verb

std::vector<YAML::Node> documents(const std::string& file) {
  return YAML::LoadAllFromFile((fs::path(CRDS_DIR) / file).string());
}

YAML::Node find(const std::string& file, const std::string& kind) {
  for (const auto& d : documents(file))
    if (d["kind"].as<std::string>() == kind) return d;
  return {};
}

// "/apis/gateway.networking.k8s.io/v1/httproutes?x" -> {"gateway.networking.k8s.io", "httproutes"}
std::pair<std::string, std::string> group_resource(const std::string& path) {
  std::string p = path.substr(0, path.find('?'));
  std::string resource = p.substr(p.rfind('/') + 1);
  if (p.starts_with("/api/")) return {"", resource};
  return {p.substr(6, p.find('/', 6) - 6), resource};
}

std::set<Grant> rules_of(const YAML::Node& role) {
  std::set<Grant> out;
  for (const auto& rule : role["rules"])
    for (const auto& g : rule["apiGroups"])
      for (const auto& r : rule["resources"])
        for (const auto& v : rule["verbs"]) out.insert({g.as<std::string>(), r.as<std::string>(), v.as<std::string>()});
  return out;
}

TEST(Install, KustomizationListsEveryManifest) {
  YAML::Node k = YAML::LoadFile((fs::path(CRDS_DIR) / "kustomization.yaml").string());
  std::set<std::string> listed, present;
  for (const auto& r : k["resources"]) listed.insert(r.as<std::string>());
  for (const auto& e : fs::directory_iterator(CRDS_DIR))
    if (e.path().extension() == ".yaml" && e.path().filename() != "kustomization.yaml") present.insert(e.path().filename());
  EXPECT_EQ(listed, present);
}

TEST(Install, RbacGrantsExactlyWhatTheClientRequests) {
  ApiDouble api({"t", ""});
  controller::KubeClient client(config_for(api));
  auto resources = controller::cluster_resources(client);
  ASSERT_TRUE(resources) << resources.error().message;

  std::set<Grant> used;
  for (const auto& r : *resources) {
    auto [group, resource] = group_resource(r.path);
    for (const char* verb : {"get", "list", "watch"}) used.insert({group, resource, verb});  // get: a 409's re-read
  }
  for (const char* status : {"gatewayclasses/status", "gateways/status", "httproutes/status", "grpcroutes/status", "tlsroutes/status"})
    used.insert({"gateway.networking.k8s.io", status, "patch"});
  used.insert({"networking.k8s.io", "ingresses/status", "patch"});
  EXPECT_EQ(rules_of(find("rbac.yaml", "ClusterRole")), used);

  // The Lease: get, create, update, in Gantry's namespace only.
  YAML::Node role = find("rbac.yaml", "Role");
  EXPECT_EQ(role["metadata"]["namespace"].as<std::string>(), "gantry-system");
  EXPECT_EQ(rules_of(role), (std::set<Grant>{{"coordination.k8s.io", "leases", "get"},
                                             {"coordination.k8s.io", "leases", "create"},
                                             {"coordination.k8s.io", "leases", "update"}}));
  // Both bound to the Deployment's service account.
  const std::string sa = find("deployment.yaml", "Deployment")["spec"]["template"]["spec"]["serviceAccountName"].as<std::string>();
  for (const char* kind : {"ClusterRoleBinding", "RoleBinding"}) {
    YAML::Node b = find("rbac.yaml", kind);
    EXPECT_EQ(b["subjects"][0]["name"].as<std::string>(), sa) << kind;
    EXPECT_EQ(b["subjects"][0]["namespace"].as<std::string>(), "gantry-system") << kind;
  }
  EXPECT_TRUE(find("serviceaccount.yaml", "ServiceAccount")["metadata"]["name"].as<std::string>() == sa);
}

bool is_true(const YAML::Node& n) { return n && n.as<bool>(); }

TEST(Install, TheDeploymentPassesTheRestrictedPodSecurityStandard) {
  YAML::Node d = find("deployment.yaml", "Deployment");
  ASSERT_TRUE(d);
  EXPECT_EQ(d["spec"]["replicas"].as<int>(), 2);
  YAML::Node pod = d["spec"]["template"]["spec"];
  for (const char* host : {"hostNetwork", "hostPID", "hostIPC"}) EXPECT_FALSE(is_true(pod[host])) << host;
  for (const auto& v : pod["volumes"]) EXPECT_FALSE(v["hostPath"]) << "hostPath volumes are not allowed";
  YAML::Node psc = pod["securityContext"];
  ASSERT_GE(pod["containers"].size(), 1u);
  for (const auto& c : pod["containers"]) {
    YAML::Node sc = c["securityContext"];
    ASSERT_TRUE(sc) << "every container sets its securityContext";
    EXPECT_FALSE(is_true(sc["privileged"]));
    EXPECT_TRUE(sc["allowPrivilegeEscalation"] && !sc["allowPrivilegeEscalation"].as<bool>());
    EXPECT_TRUE(is_true(sc["runAsNonRoot"]) || is_true(psc["runAsNonRoot"]));
    YAML::Node user = sc["runAsUser"] ? sc["runAsUser"] : psc["runAsUser"];
    EXPECT_TRUE(!user || user.as<int>() != 0);
    YAML::Node seccomp = sc["seccompProfile"] ? sc["seccompProfile"] : psc["seccompProfile"];
    ASSERT_TRUE(seccomp);
    EXPECT_TRUE(seccomp["type"].as<std::string>() == "RuntimeDefault" || seccomp["type"].as<std::string>() == "Localhost");
    std::set<std::string> dropped;
    for (const auto& cap : sc["capabilities"]["drop"]) dropped.insert(cap.as<std::string>());
    EXPECT_TRUE(dropped.count("ALL"));
    for (const auto& cap : sc["capabilities"]["add"]) EXPECT_EQ(cap.as<std::string>(), "NET_BIND_SERVICE");
    for (const auto& p : c["ports"]) EXPECT_FALSE(p["hostPort"]);
    // Beyond the standard: what the README promises.
    EXPECT_TRUE(is_true(sc["readOnlyRootFilesystem"]));
    EXPECT_TRUE(c["resources"]["requests"]["cpu"] && c["resources"]["requests"]["memory"]);
    EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
    EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
    std::vector<std::string> args;
    for (const auto& a : c["args"]) args.push_back(a.as<std::string>());
    auto has = [&](const std::string& a) { return std::find(args.begin(), args.end(), a) != args.end(); };
    EXPECT_TRUE(has("--in-cluster") && has("--leader-elect") && has("--publish-service"));
    // The published Service is the install's own.
    auto at = std::find(args.begin(), args.end(), "--publish-service");
    YAML::Node svc = find("service.yaml", "Service");
    EXPECT_EQ(*(at + 1), svc["metadata"]["namespace"].as<std::string>() + "/" + svc["metadata"]["name"].as<std::string>());
  }
  // The namespace enforces what the pods pass.
  EXPECT_EQ(find("namespace.yaml", "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"].as<std::string>(),
            "restricted");
}

}  // namespace
}  // namespace gantry::test
