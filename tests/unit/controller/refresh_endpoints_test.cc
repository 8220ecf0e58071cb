// refresh_endpoints: an EndpointSlice change on a translated snapshot, one row per case.
#include <gtest/gtest.h>

#include "gantry/controller/objects/decode.h"
#include "gantry/controller/translate/translator.h"

namespace gantry::controller {
namespace {

ObjectStore store_of(const std::string& yaml) {
  ObjectStore store;
  auto parsed = parse_manifest("t.yaml", yaml);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  if (parsed)
    for (auto& d : parsed->objects) store.upsert(std::move(d.object));
  return store;
}

std::string service(const std::string& slice_ports, bool ready = true) {
  return "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: d}\nspec: {ports: [{name: http, port: 80}]}\n"
         "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1, namespace: d, labels: "
         "{kubernetes.io/service-name: s}}\naddressType: IPv4\nendpoints: [{addresses: [10.0.0.1], conditions: {ready: " +
         std::string(ready ? "true" : "false") + "}}]\nports: [" + slice_ports + "]\n";
}

routing::Snapshot snapshot_with(const std::string& name) {
  routing::Snapshot s;
  s.clusters.push_back({name, {{"10.9.9.9", 1}}});
  return s;
}

TEST(RefreshEndpoints, TakesTheSlicesEndpointsAgain) {
  auto s = snapshot_with("d/s:80");
  EXPECT_EQ(refresh_endpoints(store_of(service("{name: http, port: 8080}")), s), 1u);
  ASSERT_EQ(s.clusters[0].endpoints.size(), 1u);
  EXPECT_EQ(s.clusters[0].endpoints[0], (routing::Endpoint{"10.0.0.1", 8080}));
  EXPECT_EQ(refresh_endpoints(store_of(service("{name: http, port: 8080}")), s), 0u);  // nothing changed
}

TEST(RefreshEndpoints, NotReadyOrGoneMeansNoEndpoints) {
  auto s = snapshot_with("d/s:80");
  EXPECT_EQ(refresh_endpoints(store_of(service("{name: http, port: 8080}", false)), s), 1u);
  EXPECT_TRUE(s.clusters[0].endpoints.empty());
  auto t = snapshot_with("d/s:80");
  EXPECT_EQ(refresh_endpoints(ObjectStore{}, t), 1u);  // the Service is gone: 503 from now on
  EXPECT_TRUE(t.clusters[0].endpoints.empty());
}

TEST(RefreshEndpoints, LeavesMirrorTargetsAndUnknownPortsAlone) {
  routing::Snapshot s;
  s.clusters.push_back({"mirror:10.1.1.1:9000", {{"10.1.1.1", 9000}}});
  EXPECT_EQ(refresh_endpoints(store_of(service("{name: http, port: 8080}")), s), 0u);
  EXPECT_EQ(s.clusters[0].endpoints.size(), 1u);
  auto t = snapshot_with("d/s:http");  // a port that did not resolve stays without endpoints
  refresh_endpoints(store_of(service("{name: http, port: 8080}")), t);
  EXPECT_TRUE(t.clusters[0].endpoints.empty());
}

}  // namespace
}  // namespace gantry::controller

namespace gantry::controller {
namespace {

// A rolling update (KEP-1669): while any endpoint is ready only ready ones serve; when
// none is, those still serving while terminating do, and never those that stopped.
TEST(RefreshEndpoints, TerminatingEndpointsServeOnlyWhenNoneIsReady) {
  auto slice = [](const std::string& endpoints) {
    return "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: d}\nspec: {ports: [{name: http, port: 80}]}\n"
           "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1, namespace: d, labels: "
           "{kubernetes.io/service-name: s}}\naddressType: IPv4\nendpoints: [" + endpoints +
           "]\nports: [{name: http, port: 8080}]\n";
  };
  const std::string old_pod = "{addresses: [10.0.0.1], conditions: {ready: false, serving: true, terminating: true}}";
  const std::string stopped = "{addresses: [10.0.0.2], conditions: {ready: false, serving: false, terminating: true}}";
  const std::string new_pod = "{addresses: [10.0.0.3], conditions: {ready: true}}";
  auto s = snapshot_with("d/s:80");
  refresh_endpoints(store_of(slice(old_pod + ", " + stopped + ", " + new_pod)), s);
  EXPECT_EQ(s.clusters[0].endpoints, (std::vector<routing::Endpoint>{{"10.0.0.3", 8080}}));
  refresh_endpoints(store_of(slice(old_pod + ", " + stopped)), s);
  EXPECT_EQ(s.clusters[0].endpoints, (std::vector<routing::Endpoint>{{"10.0.0.1", 8080}}));
  refresh_endpoints(store_of(slice(stopped)), s);
  EXPECT_TRUE(s.clusters[0].endpoints.empty());
}

}  // namespace
}  // namespace gantry::controller
