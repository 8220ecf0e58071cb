// StatusWriter against the API double. API conventions followed, by test:
// - "Spec and Status" / "Typical status properties": status goes to the /status
//   subresource; a condition's lastTransitionTime moves only when its status does.
// - "Concurrency Control and Consistency": every write carries the resourceVersion it
//   was computed from; a 409 is read again and merged again, never overwritten.
// - "Patch operations": JSON merge patch (custom resources refuse strategic merge, 415).
// - "API request validation" (422): an invalid status is reported, not retried forever.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "api_double.h"
#include "../support/eventually.h"
#include "double_config.h"
#include "gantry/controller/cluster/status_writer.h"
#include "gantry/controller/sources/kube_client.h"

namespace gantry::test {
namespace {
namespace json = boost::json;
using controller::KubeSource;
using controller::StatusWriter;
using namespace std::chrono_literals;

constexpr const char* kRoutes = "/apis/gateway.networking.k8s.io/v1/httproutes";
constexpr const char* kOurs = "gantry.dev/gateway-controller";

json::object route(const std::string& name, json::value status = nullptr) {
  json::object r{{"apiVersion", "gateway.networking.k8s.io/v1"},
                 {"kind", "HTTPRoute"},
                 {"metadata", json::object{{"name", name}, {"namespace", "default"}, {"generation", 3}}},
                 {"spec", json::object{}}};
  if (!status.is_null()) r["status"] = status;
  return r;
}

// `stamped`: as the object holds it (lastTransitionTime set), not as translation makes it.
json::object parent(const std::string& gateway, const std::string& controller, bool accepted, bool stamped = false) {
  json::object p{{"parentRef", json::object{{"name", gateway}}},
                      {"controllerName", controller},
                      {"conditions", json::array{json::object{{"type", "Accepted"},
                                                              {"status", accepted ? "True" : "False"},
                                                              {"reason", accepted ? "Accepted" : "NotAllowedByListeners"},
                                                              {"message", "m"},
                                                              {"observedGeneration", 3}},
                                                 json::object{{"type", "ResolvedRefs"},
                                                              {"status", "True"},
                                                              {"reason", "ResolvedRefs"},
                                                              {"message", "m"},
                                                              {"observedGeneration", 3}}}}};
  if (stamped)
    for (auto& c : p["conditions"].as_array()) c.as_object()["lastTransitionTime"] = "2026-01-01T00:00:00Z";
  return p;
}

// What translation hands over: a status item per object.
controller::StatusItems desired(const std::vector<std::pair<std::string, bool>>& routes) {
  controller::StatusItems items;
  for (const auto& [name, accepted] : routes) {
    json::object item = route(name, json::object{{"parents", json::array{parent("gw", kOurs, accepted)}}});
    item.erase("spec");
    items.push_back(std::make_shared<const json::object>(std::move(item)));
  }
  return items;
}

// The cluster's view of the routes, as KubeSource keeps it.
std::map<std::string, KubeSource::Observed> observed(const ApiDouble& api, const std::vector<std::string>& names) {
  std::map<std::string, KubeSource::Observed> out;
  for (const auto& n : names) {
    auto o = api.get(kRoutes, "default", n);
    if (!o) continue;
    out["HTTPRoute/default/" + n] = {o->contains("status") ? o->at("status") : json::value(),
                                      std::string(o->at("metadata").at("resourceVersion").as_string()),
                                      "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/" + n};
  }
  return out;
}

const json::array& parents_of(const json::object& o) { return o.at("status").at("parents").as_array(); }

TEST(StatusWriter, WritesOncePerChangeKeepingOtherControllersEntries) {
  ApiDouble api({"t", ""});
  // Another controller's Gateway is this route's parent too.
  api.add(kRoutes, route("r", json::object{{"parents", json::array{parent("theirs", "example.com/other", true, true)}}}));
  StatusWriter writer(config_for(api), {kOurs});
  writer.start();
  writer.set_leading(true);

  EXPECT_EQ(writer.offer(desired({{"r", true}}), observed(api, {"r"})), 1u);
  ASSERT_TRUE(eventually([&] { return writer.writes() == 1; }));
  auto patches = api.patches();
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].content_type, "application/merge-patch+json");
  EXPECT_EQ(patches[0].path, "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/r/status");
  auto r = api.get(kRoutes, "default", "r");
  ASSERT_EQ(parents_of(*r).size(), 2u);
  EXPECT_EQ(parents_of(*r)[0].at("controllerName"), "example.com/other");
  EXPECT_EQ(parents_of(*r)[1].at("controllerName"), kOurs);
  const std::string resolved_at(parents_of(*r)[1].at("conditions").at(1).at("lastTransitionTime").as_string());

  // The same status again, with the object as it now is: nothing to write.
  EXPECT_EQ(writer.offer(desired({{"r", true}}), observed(api, {"r"})), 0u);
  // A change: one write; the condition that kept its status keeps its time.
  std::this_thread::sleep_for(1100ms);  // lastTransitionTime has a resolution of seconds
  EXPECT_EQ(writer.offer(desired({{"r", false}}), observed(api, {"r"})), 1u);
  ASSERT_TRUE(eventually([&] { return writer.writes() == 2; }));
  r = api.get(kRoutes, "default", "r");
  const auto& conds = parents_of(*r)[1].at("conditions").as_array();
  EXPECT_EQ(conds.at(0).at("status"), "False");
  EXPECT_NE(conds.at(0).at("lastTransitionTime").as_string(), resolved_at);
  EXPECT_EQ(conds.at(1).at("lastTransitionTime").as_string(), resolved_at);
  EXPECT_EQ(api.patches().size(), 2u);
  EXPECT_EQ(writer.failures(), 0u);
}

TEST(StatusWriter, ARouteLeavingOurGatewaysLosesOnlyOurEntries) {
  ApiDouble api({"t", ""});
  api.add(kRoutes, route("r", json::object{{"parents", json::array{parent("theirs", "example.com/other", true, true),
                                                                    parent("gw", kOurs, true, true)}}}));
  StatusWriter writer(config_for(api), {kOurs});
  writer.start();
  writer.set_leading(true);
  // Translation has nothing to say of r: none of its parents is ours now.
  EXPECT_EQ(writer.offer({}, observed(api, {"r"})), 1u);
  ASSERT_TRUE(eventually([&] { return writer.writes() == 1; }));
  auto r = api.get(kRoutes, "default", "r");
  ASSERT_EQ(parents_of(*r).size(), 1u);
  EXPECT_EQ(parents_of(*r)[0].at("controllerName"), "example.com/other");
  EXPECT_EQ(writer.offer({}, observed(api, {"r"})), 0u);  // and then nothing more
}

TEST(StatusWriter, AConflictIsReadAgainAndMergedNotOverwritten) {
  ApiDouble api({"t", ""});
  api.add(kRoutes, route("r"));
  StatusWriter writer(config_for(api), {kOurs});
  writer.start();
  writer.set_leading(true);
  auto stale = observed(api, {"r"});
  // Another controller writes its entry after we looked.
  api.emit(kRoutes, "MODIFIED", route("r", json::object{{"parents", json::array{parent("theirs", "example.com/other", true, true)}}}));
  writer.offer(desired({{"r", true}}), stale);
  ASSERT_TRUE(eventually([&] { return writer.writes() == 1; }));
  EXPECT_EQ(writer.conflicts(), 1u);
  EXPECT_EQ(api.writes()["PATCH 409"], 1);
  auto r = api.get(kRoutes, "default", "r");
  ASSERT_EQ(parents_of(*r).size(), 2u);
  EXPECT_EQ(parents_of(*r)[0].at("controllerName"), "example.com/other");
}

TEST(StatusWriter, AnOverloadedApiServerIsTriedAgain) {
  ApiDouble api({"t", ""});
  api.add(kRoutes, route("r"));
  api.fail_next_patch(503);
  StatusWriter writer(config_for(api), {kOurs});
  writer.start();
  writer.set_leading(true);
  writer.offer(desired({{"r", true}}), observed(api, {"r"}));
  ASSERT_TRUE(eventually([&] { return writer.writes() == 1; }));
  EXPECT_EQ(api.writes()["PATCH 503"], 1);
  EXPECT_EQ(writer.failures(), 0u);
}

TEST(StatusWriter, AnInvalidStatusIsReportedOnce) {
  ApiDouble api({"t", ""});
  api.add(kRoutes, route("r"));
  StatusWriter writer(config_for(api), {kOurs});
  writer.start();
  writer.set_leading(true);
  auto items = desired({{"r", true}});
  json::object bad = *items[0];
  bad["status"].as_object()["parents"].as_array()[0].as_object()["conditions"].as_array()[0].as_object()["status"] = "Maybe";
  writer.offer({std::make_shared<const json::object>(bad)}, observed(api, {"r"}));
  ASSERT_TRUE(eventually([&] { return writer.failures() == 1; }));
  EXPECT_EQ(api.writes()["PATCH 422"], 1);
  EXPECT_EQ(writer.writes(), 0u);
}

TEST(StatusWriter, AStrategicMergePatchOnACustomResourceIs415) {
  // What the double holds the writer to: custom resources take no strategic merge patch.
  ApiDouble api({"t", ""});
  api.add(kRoutes, route("r"));
  controller::KubeClient client(config_for(api));
  auto res = client.send("PATCH", "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/r/status",
                         R"({"status":{"parents":[]}})", "application/strategic-merge-patch+json");
  EXPECT_EQ(res.status, 415);
}

TEST(StatusWriter, OnlyALeaderWritesAndANewTermComparesAgain) {
  ApiDouble api({"t", ""});
  api.add(kRoutes, route("r"));
  StatusWriter writer(config_for(api), {kOurs});
  writer.start();
  EXPECT_EQ(writer.offer(desired({{"r", true}}), observed(api, {"r"})), 0u);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(api.patches().empty());
  writer.set_leading(true);
  EXPECT_EQ(writer.offer(desired({{"r", true}}), observed(api, {"r"})), 1u);
  ASSERT_TRUE(eventually([&] { return writer.writes() == 1; }));
}

TEST(StatusWriter, ThousandsOfRoutesSettleInSeconds) {
  ApiDouble api({"t", ""});
  std::vector<std::string> names;
  std::vector<std::pair<std::string, bool>> want;
  for (int i = 0; i < 2000; ++i) {
    names.push_back("r" + std::to_string(i));
    want.push_back({names.back(), true});
    api.add(kRoutes, route(names.back()));
  }
  StatusWriter writer(config_for(api), {kOurs});
  writer.start();
  writer.set_leading(true);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(writer.offer(desired(want), observed(api, names)), 2000u);
  ASSERT_TRUE(eventually([&] { return writer.writes() == 2000; }, 30s)) << writer.writes();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::cout << "2000 route statuses written in " << took.count() << " ms\n";
  // 500 a second after a burst of 500: about 3 s; bounded well below a minute.
  EXPECT_LT(took, 20s);
  EXPECT_GT(took, 2s);  // paced: a controller never floods the API server
}

}  // namespace
}  // namespace gantry::test
