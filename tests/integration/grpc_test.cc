// GRPCRoute through the real proxy with a real gRPC client (grpcio) to gantry-echo's h2c
// port, which echoes gRPC messages: service and method matching and their precedence,
// header matches, weights, header modifiers, and the errors a gRPC client reads from
// grpc-status (UNIMPLEMENTED, UNAVAILABLE, DEADLINE_EXCEEDED) in trailers-only answers.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

#include "harness.h"

namespace gantry::test {
namespace {
namespace json = boost::json;

std::string grpc_route(const std::string& name, const std::string& host, const std::string& rules) {
  return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: " + name +
         ", namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [" + host + "]\n  rules:\n" + rules;
}

class GrpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto manifests = dir_->path() / "manifests";
    std::filesystem::create_directories(manifests);
    for (const char* pod : {"say-1-a", "any-1-a", "canary-1-a"}) echoes_.push_back(Echo::with_h2c(pod, dir_->path()).release());
    std::string m = gateway_manifest();
    // Plain Service ports: a GRPCRoute's backends speak HTTP/2 whatever their appProtocol.
    m += service_manifest("say", {echoes_[0]->h2c_port});
    m += service_manifest("any", {echoes_[1]->h2c_port});
    m += service_manifest("canary", {echoes_[2]->h2c_port});
    m += service_manifest("dead", {closed_port()});
    m += service_manifest("web", {echoes_[1]->port});  // HTTP/1.1
    m += grpc_route("echo", "grpc.example",
                    "  - matches: [{method: {service: gantry.Echo}}]\n"
                    "    backendRefs: [{name: any, port: 8080}]\n"
                    "  - matches: [{method: {service: gantry.Echo, method: Say}}]\n"
                    "    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-added, value: yes}]}},\n"
                    "              {type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: x-via, value: gantry}]}}]\n"
                    "    backendRefs: [{name: say, port: 8080}]\n"
                    "  - matches: [{method: {service: gantry.Echo}, headers: [{name: x-canary, value: \"on\"}]}]\n"
                    "    backendRefs: [{name: canary, port: 8080}]\n"
                    "  - matches: [{method: {type: RegularExpression, service: 'gantry\\.Re.*', method: 'Get.*'}}]\n"
                    "    backendRefs: [{name: say, port: 8080, weight: 1}, {name: canary, port: 8080, weight: 1}]\n"
                    "  - matches: [{method: {service: gantry.Dead}}]\n"
                    "    backendRefs: [{name: dead, port: 8080}]\n"
                    "  - matches: [{method: {service: gantry.Missing}}]\n"
                    "    backendRefs: [{name: nowhere, port: 8080}]\n");
    // GEP-1016: an HTTPRoute keeps the hostname; the GRPCRoute on it is not accepted.
    m += route_manifest("web", "shared.example", "  - backendRefs: [{name: web, port: 8080}]\n");
    m += grpc_route("clash", "shared.example", "  - backendRefs: [{name: say, port: 8080}]\n");
    write_file(manifests / "all.yaml", m);
    gantry_ = new Gantry(manifests, {"--response-timeout", "700"});
    ASSERT_TRUE(gantry_->wait_ready()) << gantry_->log();
  }
  static void TearDownTestSuite() {
    delete gantry_;
    for (Echo* e : echoes_) delete e;
    echoes_.clear();
    delete dir_;
  }
  void TearDown() override { ASSERT_TRUE(gantry_->process->running()) << "gantry died: " << gantry_->log(); }

  static uint16_t closed_port() {
    static uint16_t p = free_port();
    return p;
  }
  // One call (or `count`), each a JSON object.
  static std::vector<json::object> call(const std::string& method, const std::string& extra = "", int count = 1,
                                        const std::string& authority = "grpc.example") {
    auto r = run("/usr/bin/python3 " GRPC_CALL " 127.0.0.1:" + std::to_string(gantry_->port) + " " + method +
                 " --authority " + authority + " --count " + std::to_string(count) + " " + extra + " 2>&1");
    std::vector<json::object> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      boost::system::error_code ec;
      auto v = json::parse(line, ec);
      if (!ec && v.is_object()) out.push_back(v.as_object());
    }
    EXPECT_EQ(out.size(), static_cast<size_t>(count)) << r.out;
    return out;
  }
  static std::string str(const json::object& o, const char* a, const char* b = nullptr) {
    const json::value* v = o.if_contains(a);
    if (v && b) v = v->is_object() ? v->as_object().if_contains(b) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }

  static TempDir* dir_;
  static std::vector<Echo*> echoes_;
  static Gantry* gantry_;
};
TempDir* GrpcTest::dir_;
std::vector<Echo*> GrpcTest::echoes_;
Gantry* GrpcTest::gantry_;

TEST_F(GrpcTest, AServiceAndMethodMatchBeatsAServiceMatchAndFiltersApply) {
  auto say = call("/gantry.Echo/Say", "--message ping");
  ASSERT_FALSE(say.empty());
  EXPECT_EQ(str(say[0], "code"), "OK") << json::serialize(say[0]);
  EXPECT_EQ(str(say[0], "initial", "x-echo-pod"), "say-1-a");
  EXPECT_EQ(str(say[0], "initial", "x-echo-path"), "/gantry.Echo/Say");
  EXPECT_EQ(str(say[0], "initial", "x-via"), "gantry");
  EXPECT_NE(str(say[0], "response").find("ping"), std::string::npos);
  EXPECT_EQ(str(say[0], "trailing", "grpc-status"), "");  // read by the client, not metadata
  auto other = call("/gantry.Echo/Other");
  ASSERT_FALSE(other.empty());
  EXPECT_EQ(str(other[0], "initial", "x-echo-pod"), "any-1-a") << json::serialize(other[0]);
}

TEST_F(GrpcTest, AHeaderMatchOutranksTheSameServiceWithout) {
  auto r = call("/gantry.Echo/Other", "--metadata x-canary=on");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(str(r[0], "initial", "x-echo-pod"), "canary-1-a") << json::serialize(r[0]);
}

TEST_F(GrpcTest, RegularExpressionMatchesSplitByWeight) {
  auto r = call("/gantry.Reports/GetOne", "", 40);
  int say = 0, canary = 0;
  for (const auto& o : r) {
    EXPECT_EQ(str(o, "code"), "OK") << json::serialize(o);
    say += str(o, "initial", "x-echo-pod") == "say-1-a";
    canary += str(o, "initial", "x-echo-pod") == "canary-1-a";
  }
  EXPECT_EQ(say + canary, 40);
  EXPECT_GT(say, 5);
  EXPECT_GT(canary, 5);
  // Not a Get method: no rule of the route takes it.
  EXPECT_EQ(str(call("/gantry.Reports/Put")[0], "code"), "UNIMPLEMENTED");
}

TEST_F(GrpcTest, TheBackendsStatusReachesTheClient) {
  auto r = call("/gantry.Echo/Say", "--metadata x-echo-grpc-status=5");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(str(r[0], "code"), "NOT_FOUND") << json::serialize(r[0]);
  EXPECT_EQ(str(r[0], "details"), "asked for by x-echo-grpc-status");
}

TEST_F(GrpcTest, GatewayErrorsAreGrpcStatuses) {
  auto none = call("/other.Service/Call");
  ASSERT_FALSE(none.empty());
  EXPECT_EQ(str(none[0], "code"), "UNIMPLEMENTED") << json::serialize(none[0]);
  EXPECT_NE(str(none[0], "details").find("no route"), std::string::npos);
  auto dead = call("/gantry.Dead/Call");
  ASSERT_FALSE(dead.empty());
  EXPECT_EQ(str(dead[0], "code"), "UNAVAILABLE") << json::serialize(dead[0]);
  auto missing = call("/gantry.Missing/Call");  // its backendRef names no Service
  ASSERT_FALSE(missing.empty());
  EXPECT_EQ(str(missing[0], "code"), "UNAVAILABLE") << json::serialize(missing[0]);
  auto late = call("/gantry.Echo/Say", "--metadata x-echo-delay=3s");
  ASSERT_FALSE(late.empty());
  EXPECT_EQ(str(late[0], "code"), "DEADLINE_EXCEEDED") << json::serialize(late[0]);
}

TEST_F(GrpcTest, StatusSaysWhichRoutesAreAcceptedAndListenersCountThem) {
  auto status = json::parse(gantry_->admin_get("/status"));
  std::string grpc_accepted, clash_accepted, clash_reason;
  int64_t attached = -1;
  bool grpc_kind = false;
  for (const auto& item : status.at("items").as_array()) {
    const auto& o = item.as_object();
    if (o.at("kind") == "Gateway") {
      const auto& l = o.at("status").at("listeners").at(0).as_object();
      attached = l.at("attachedRoutes").as_int64();
      for (const auto& k : l.at("supportedKinds").as_array()) grpc_kind = grpc_kind || k.at("kind") == "GRPCRoute";
    }
    if (o.at("kind") != "GRPCRoute") continue;
    const auto& cond = o.at("status").at("parents").at(0).at("conditions").at(0).as_object();
    const std::string name(o.at("metadata").at("name").as_string());
    if (name == "echo") grpc_accepted = cond.at("status").as_string();
    if (name == "clash") {
      clash_accepted = cond.at("status").as_string();
      clash_reason = cond.at("reason").as_string();
    }
  }
  EXPECT_EQ(grpc_accepted, "True");
  EXPECT_EQ(clash_accepted, "False");
  EXPECT_EQ(clash_reason, "NotAllowedByListeners");
  EXPECT_TRUE(grpc_kind);
  EXPECT_EQ(attached, 2);  // echo and web; the refused GRPCRoute is not attached
  // The HTTPRoute keeps serving its hostname.
  EXPECT_EQ(curl_status(gantry_->port, "shared.example", "/"), 200);
}

}  // namespace
}  // namespace gantry::test
