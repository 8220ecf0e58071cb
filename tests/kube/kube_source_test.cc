// KubeSource against the API double: the first list, then watch events into the store;
// a watch cut and a resourceVersion gone (410) lead to a relist that deletes what the
// cluster no longer holds (client-go's reflector: list, watch, relist on 410); a failing
// server is retried with backoff, never in a tight loop. API conventions: "Efficient
// detection of changes" (watch from the list's resourceVersion, 410 Gone when too old).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <thread>

#include "api_double.h"
#include "double_config.h"
#include "gantry/controller/sources/kube_source.h"

namespace gantry::test {
namespace {
using controller::KubeSource;
using namespace std::chrono_literals;

boost::json::object service(const std::string& name, int port) {
  return boost::json::object{
      {"apiVersion", "v1"}, {"kind", "Service"},
      {"metadata", boost::json::object{{"name", name}, {"namespace", "default"}}},
      {"spec", boost::json::object{{"ports", boost::json::array{boost::json::object{{"port", port}}}}}}};
}

// Applies changes until `done` holds (bounded); what the reports said, merged.
template <class Done>
controller::ChangeReport settle(KubeSource& source, Done done, std::chrono::milliseconds limit = 5s) {
  controller::ChangeReport all;
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    auto r = source.changes();
    all.changed_objects.insert(r.changed_objects.begin(), r.changed_objects.end());
    for (auto& e : r.errors) all.errors.push_back(e);
    if (done()) break;
    std::this_thread::sleep_for(10ms);
  }
  return all;
}

int port_of(const controller::ObjectStore& store, const std::string& key) {
  auto it = store.services.find(key);
  return it == store.services.end() || it->second.ports.empty() ? -1 : static_cast<int>(it->second.ports[0].port);
}

TEST(KubeSource, ListsThenFollowsEveryEventType) {
  ApiDouble api({"t", ""});
  api.add("/api/v1/services", service("a", 80));
  api.add("/api/v1/services", service("b", 80));
  KubeSource source(config_for(api, "t"), {{"Service", "/api/v1/services"}, {"HTTPRoute", "/apis/gateway.networking.k8s.io/v1/httproutes"}}, 30);
  source.start();
  settle(source, [&] { return source.synced(); });
  ASSERT_TRUE(source.synced());
  EXPECT_EQ(source.store().services.size(), 2u);
  EXPECT_TRUE(source.store().namespaces.count("default"));

  for (int i = 0; i < 500 && api.open_watches() < 2; ++i) std::this_thread::sleep_for(10ms);
  api.emit("/api/v1/services", "ADDED", service("c", 80));
  api.emit("/api/v1/services", "MODIFIED", service("a", 8080), 3);
  api.emit("/api/v1/services", "DELETED", service("b", 80), 1);
  auto report = settle(source, [&] {
    return source.store().services.size() == 2 && port_of(source.store(), "default/a") == 8080 &&
           source.store().services.count("default/c");
  });
  EXPECT_EQ(port_of(source.store(), "default/a"), 8080);
  EXPECT_FALSE(source.store().services.count("default/b"));
  EXPECT_TRUE(report.changed_objects.count("Service/default/c"));
  EXPECT_TRUE(report.changed_objects.count("Service/default/b"));
}

TEST(KubeSource, ACutWatchAndAGoneVersionRelistAndDeleteWhatIsGone) {
  ApiDouble api({"t", ""});
  api.add("/api/v1/services", service("keep", 80));
  api.add("/api/v1/services", service("lost", 80));
  KubeSource source(config_for(api, "t"), {{"Service", "/api/v1/services"}}, 30);
  source.start();
  settle(source, [&] { return source.synced() && source.store().services.size() == 2; });
  ASSERT_EQ(source.store().services.size(), 2u);
  for (int i = 0; i < 500 && api.open_watches() < 1; ++i) std::this_thread::sleep_for(10ms);
  // While the watch is down, "lost" goes without an event and the history is compacted.
  api.erase_silently("/api/v1/services", "lost");
  api.compact(1'000'000);
  api.cut_watches();
  settle(source, [&] { return source.store().services.size() == 1; });
  EXPECT_EQ(source.store().services.size(), 1u);
  EXPECT_TRUE(source.store().services.count("default/keep"));
  // Listed once, watched, cut, watched again (410), listed again.
  int lists = 0;
  for (const auto& t : api.targets()) lists += t.find("watch=1") == std::string::npos;
  EXPECT_EQ(lists, 2);
}

TEST(KubeSource, AFailingServerIsRetriedWithBackoff) {
  ApiDouble api({"right", ""});
  KubeSource source(config_for(api, "wrong"), {{"Service", "/api/v1/services"}}, 30);
  source.start();
  auto report = settle(source, [] { return false; }, 1500ms);
  EXPECT_FALSE(source.synced());
  ASSERT_FALSE(report.errors.empty());
  EXPECT_NE(report.errors[0].find("401"), std::string::npos) << report.errors[0];
  // 100 ms doubling, with jitter: a handful of tries in 1.5 s, not hundreds.
  EXPECT_LE(api.requests(), 6);
  EXPECT_GE(api.requests(), 2);
}

}  // namespace
}  // namespace gantry::test
