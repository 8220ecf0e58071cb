// LeaderElector against the API double, two replicas at a time. API conventions:
// "Concurrency Control and Consistency" (the Lease is replaced with the resourceVersion
// read: of two replicas updating at once, one gets 409), and the Lease's MicroTime
// fields; client-go's leaderelection for the rules: a held Lease is taken over only once
// its record has not moved for leaseDurationSeconds of the taker's clock, and a leader
// that releases it hands over at once.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "api_double.h"
#include "../support/eventually.h"
#include "double_config.h"
#include "gantry/controller/cluster/leader_election.h"

namespace gantry::test {
namespace {
using controller::LeaderElector;
using namespace std::chrono_literals;

constexpr const char* kLeases = "/apis/coordination.k8s.io/v1/leases";

std::string holder(const ApiDouble& api) {
  auto lease = api.get(kLeases, "gantry-system", "gantry-leader");
  return lease ? std::string(lease->at("spec").at("holderIdentity").as_string()) : "";
}

std::unique_ptr<LeaderElector> elector(const ApiDouble& api, const std::string& id) {
  auto e = std::make_unique<LeaderElector>(config_for(api), LeaderElector::Options{"gantry-system", "gantry-leader", id, 2});
  e->start();
  return e;
}

TEST(LeaderElection, OneLeadsAndAReleaseHandsOverAtOnce) {
  ApiDouble api({"t", ""});
  auto a = elector(api, "a");
  ASSERT_TRUE(eventually([&] { return a->leading(); }, 3s));
  auto b = elector(api, "b");
  std::this_thread::sleep_for(2500ms);  // longer than the lease: a renews, so b waits
  EXPECT_TRUE(a->leading());
  EXPECT_FALSE(b->leading());
  EXPECT_EQ(holder(api), "a");
  auto lease = api.get(kLeases, "gantry-system", "gantry-leader");
  const std::regex micro(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(std::string(lease->at("spec").at("renewTime").as_string()), micro));
  EXPECT_EQ(lease->at("spec").at("leaseDurationSeconds"), 2);

  auto released = std::chrono::steady_clock::now();
  a->release();
  EXPECT_FALSE(a->leading());
  ASSERT_TRUE(eventually([&] { return b->leading(); }, 2s));
  // Within a retry period, not after the lease duration.
  EXPECT_LT(std::chrono::steady_clock::now() - released, 1500ms);
  EXPECT_EQ(holder(api), "b");
  EXPECT_EQ(api.get(kLeases, "gantry-system", "gantry-leader")->at("spec").at("leaseTransitions"), 1);
}

TEST(LeaderElection, ALeaderThatVanishesIsReplacedAfterTheLeaseExpires) {
  ApiDouble api({"t", ""});
  auto a = elector(api, "a");
  ASSERT_TRUE(eventually([&] { return a->leading(); }, 3s));
  auto b = elector(api, "b");
  std::this_thread::sleep_for(500ms);
  auto gone = std::chrono::steady_clock::now();
  a.reset();  // stops renewing, releases nothing (a crash)
  ASSERT_TRUE(eventually([&] { return b->leading(); }, 6s));
  auto waited = std::chrono::steady_clock::now() - gone;
  EXPECT_GE(waited, 1500ms);  // the 2 s lease, less what had passed since the last renewal
  EXPECT_EQ(holder(api), "b");
}

TEST(LeaderElection, ALeaderThatCannotRenewStepsDown) {
  // Renewals refused (its credentials revoked): within the renew deadline (2/3 of the
  // lease) it stops counting itself leader, before another could take over.
  ApiDouble api({"t", ""});
  auto a = elector(api, "a");
  ASSERT_TRUE(eventually([&] { return a->leading(); }, 3s));
  api.set_token("revoked");
  auto refused = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return !a->leading(); }, 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - refused, 2s);  // the 2 s lease
}

TEST(LeaderElection, ReplicasStartingTogetherElectExactlyOne) {
  ApiDouble api({"t", ""});
  std::vector<std::unique_ptr<LeaderElector>> replicas;
  for (const char* id : {"a", "b", "c"}) replicas.push_back(elector(api, id));
  ASSERT_TRUE(eventually([&] { return holder(api) != ""; }, 3s));
  for (int i = 0; i < 20; ++i) {
    int leaders = 0;
    for (auto& r : replicas) leaders += r->leading();
    EXPECT_LE(leaders, 1);
    std::this_thread::sleep_for(100ms);
  }
  int leaders = 0;
  for (auto& r : replicas) leaders += r->leading();
  EXPECT_EQ(leaders, 1);
}

TEST(LeaderElection, AConflictLosesTheRoundAndTheNextOneWins) {
  ApiDouble api({"t", ""});
  // A Lease given up by an earlier leader; another replica replaces it first (409).
  api.add(kLeases, boost::json::object{
                       {"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"},
                       {"metadata", boost::json::object{{"name", "gantry-leader"}, {"namespace", "gantry-system"}}},
                       {"spec", boost::json::object{{"holderIdentity", ""}, {"leaseDurationSeconds", 1}, {"leaseTransitions", 4}}}});
  api.conflict_next_put();
  auto a = elector(api, "a");
  ASSERT_TRUE(eventually([&] { return a->leading(); }, 3s));
  EXPECT_EQ(api.writes()["PUT 409"], 1);
  EXPECT_EQ(holder(api), "a");
  EXPECT_EQ(api.get(kLeases, "gantry-system", "gantry-leader")->at("spec").at("leaseTransitions"), 5);
}

}  // namespace
}  // namespace gantry::test
