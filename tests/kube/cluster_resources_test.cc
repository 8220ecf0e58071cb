// What cluster mode lists, as discovery decides (API conventions, "API discovery": a
// group version's APIResourceList): ReferenceGrant at v1, or v1beta1 where the CRDs are
// older; a cluster without the Gateway API is refused with a message that says so; and
// only Secrets of type kubernetes.io/tls reach the store (a field selector).
#include <gtest/gtest.h>

#include <thread>

#include "api_double.h"
#include "double_config.h"
#include "gantry/controller/sources/cluster_resources.h"

namespace gantry::test {
namespace {
using namespace std::chrono_literals;

std::string path_of(const std::vector<controller::KubeResource>& rs, const std::string& kind) {
  for (const auto& r : rs)
    if (r.kind == kind) return r.path;
  return "";
}

TEST(ClusterResources, ReferenceGrantAtV1ElseV1beta1) {
  ApiDouble api({"t", ""});
  controller::KubeClient client(config_for(api));
  auto v1 = controller::cluster_resources(client);
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_EQ(path_of(*v1, "ReferenceGrant"), "/apis/gateway.networking.k8s.io/v1/referencegrants");
  EXPECT_EQ(v1->size(), 12u);  // GRPCRoute and TLSRoute included: the double serves both

  api.unserve("/apis/gateway.networking.k8s.io/v1/referencegrants");
  auto beta = controller::cluster_resources(client);
  ASSERT_TRUE(beta);
  EXPECT_EQ(path_of(*beta, "ReferenceGrant"), "/apis/gateway.networking.k8s.io/v1beta1/referencegrants");

  api.unserve("/apis/gateway.networking.k8s.io/v1beta1/referencegrants");
  auto none = controller::cluster_resources(client);
  ASSERT_TRUE(none);
  EXPECT_EQ(path_of(*none, "ReferenceGrant"), "");  // none served: none listed, nothing waits for it
}

TEST(ClusterResources, GrpcRoutesAreWatchedWhereServed) {
  ApiDouble api({"t", ""});
  controller::KubeClient client(config_for(api));
  auto served = controller::cluster_resources(client);
  ASSERT_TRUE(served);
  EXPECT_EQ(path_of(*served, "GRPCRoute"), "/apis/gateway.networking.k8s.io/v1/grpcroutes");
  api.unserve("/apis/gateway.networking.k8s.io/v1/grpcroutes");
  auto older = controller::cluster_resources(client);
  ASSERT_TRUE(older) << older.error().message;  // CRDs before v1.1: no GRPCRoute, not an error
  EXPECT_EQ(path_of(*older, "GRPCRoute"), "");
}

TEST(ClusterResources, NoGatewayApiIsRefusedWithTheReason) {
  ApiDouble api({"t", ""});
  api.unserve("/apis/gateway.networking.k8s.io/v1/httproutes");
  controller::KubeClient client(config_for(api));
  auto r = controller::cluster_resources(client);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("install the Gateway API CRDs first"), std::string::npos) << r.error().message;
}

TEST(ClusterResources, OnlyTlsSecretsAreListed) {
  ApiDouble api({"t", ""});
  auto secret = [](const std::string& name, const std::string& type) {
    return boost::json::object{{"apiVersion", "v1"}, {"kind", "Secret"}, {"type", type},
                               {"metadata", boost::json::object{{"name", name}, {"namespace", "default"}}},
                               {"data", boost::json::object{}}};
  };
  api.add("/api/v1/secrets", secret("cert", "kubernetes.io/tls"));
  api.add("/api/v1/secrets", secret("password", "Opaque"));
  controller::KubeClient client(config_for(api));
  auto resources = controller::cluster_resources(client);
  ASSERT_TRUE(resources);
  controller::KubeSource source(config_for(api), {{"Secret", path_of(*resources, "Secret")}}, 30);
  source.start();
  for (int i = 0; i < 500 && !source.synced(); ++i) {
    source.changes();
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(source.synced());
  EXPECT_TRUE(source.store().secrets.count("default/cert"));
  EXPECT_FALSE(source.store().secrets.count("default/password"));
}

}  // namespace
}  // namespace gantry::test
