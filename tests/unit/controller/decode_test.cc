#include "gantry/controller/objects/decode.h"
#include "gantry/controller/objects/base64.h"

#include <gtest/gtest.h>

#include "gantry/controller/sources/file_source.h"

namespace gantry::controller {
namespace {

struct ErrorCase {
  std::string name;
  std::string text;
  std::string want_prefix;  // the message starts with "file:line: ..."
  std::string want_part;    // and mentions this
};

class ManifestErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ManifestErrorTest, ReportsFileAndLine) {
  auto r = parse_manifest("m.yaml", GetParam().text);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.starts_with(GetParam().want_prefix)) << r.error().message;
  EXPECT_NE(r.error().message.find(GetParam().want_part), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ManifestErrorTest,
    ::testing::Values(
        ErrorCase{"bad_indentation", "kind: Service\n  name: x\n bad: [\n", "m.yaml:", "m.yaml:"},
        ErrorCase{"unclosed_flow_sequence", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports: [1, 2\n",
                  "m.yaml:", "m.yaml:"},
        ErrorCase{"port_not_a_number",
                  "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  listeners:\n"
                  "  - name: http\n    port: eighty\n    protocol: HTTP\n",
                  "m.yaml:8:", "spec.listeners[0].port: expected an integer"},
        ErrorCase{"listeners_not_a_list",
                  "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  listeners: 3\n",
                  "m.yaml:6:", "spec.listeners: expected a list"},
        ErrorCase{"second_document_bad",
                  "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata:\n"
                  "  name: s\nspec:\n  ports:\n  - port: [1]\n",
                  "m.yaml:11:", "Service (s): spec.ports[0].port"},
        // Documents are loaded one at a time; a syntax error keeps its line in the file.
        ErrorCase{"third_document_syntax",
                  "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\n"
                  "metadata: {name: b}\n--- # the third\napiVersion: v1\nkind: Namespace\nmetadata: {name: c\n  bad: [\n",
                  "m.yaml:12:", "m.yaml:12:"},
        ErrorCase{"missing_name", "apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n", "m.yaml:", "metadata.name"},
        ErrorCase{"document_not_a_mapping", "- a\n- b\n", "m.yaml:1:", "mapping"}),
    [](const auto& info) { return info.param.name; });

TEST(Manifest, UnknownKindsAreIgnoredWithANote) {
  auto r = parse_manifest("m.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->objects.empty());
  ASSERT_EQ(r->ignored.size(), 1u);
  EXPECT_EQ(r->ignored[0], "m.yaml:1: kind ConfigMap ignored");
}

TEST(Manifest, QuotedScalarsStayStrings) {
  auto v = yaml_to_json("a: \"80\"\nb: 80\nc: 'true'\nd: true\ne: ~\n");
  ASSERT_TRUE(v.ok());
  const auto& o = v->get_object();
  EXPECT_TRUE(o.at("a").is_string());
  EXPECT_TRUE(o.at("b").is_int64());
  EXPECT_TRUE(o.at("c").is_string());
  EXPECT_TRUE(o.at("d").is_bool());
  EXPECT_TRUE(o.at("e").is_null());
}

TEST(Manifest, DecodesAListOfObjects) {
  auto r = parse_manifest("m.yaml",
                          "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n"
                          "- apiVersion: v1\n  kind: Namespace\n  metadata: {name: b}\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->objects.size(), 2u);
}

TEST(Manifest, DefaultsFollowTheApi) {
  auto r = parse_manifest("m.yaml",
                          "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n"
                          "  parentRefs: [{name: g}]\n  rules:\n  - matches: [{headers: [{name: X, value: y}]}]\n"
                          "    backendRefs: [{name: s, port: 80}]\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& route = std::get<HTTPRoute>(r->objects.at(0).object);
  EXPECT_EQ(route.meta.ns, "default");
  EXPECT_EQ(route.meta.source, "m.yaml:1");
  EXPECT_EQ(route.parent_refs.at(0).kind, "Gateway");
  EXPECT_EQ(route.parent_refs.at(0).group, kGatewayGroup);
  EXPECT_EQ(route.rules.at(0).matches.at(0).path.type, "PathPrefix");
  EXPECT_EQ(route.rules.at(0).matches.at(0).path.value, "/");
  EXPECT_EQ(route.rules.at(0).matches.at(0).headers.at(0).type, "Exact");
  EXPECT_EQ(route.rules.at(0).backend_refs.at(0).weight, 1);
  EXPECT_EQ(route.rules.at(0).backend_refs.at(0).kind, "Service");
}

}  // namespace
}  // namespace gantry::controller

namespace gantry::controller {
namespace {

// Secret data and kubeconfig *-data fields: OpenSSL decodes, the padding rules are ours.
TEST(Base64, DecodesWhatKubernetesWritesAndRefusesTheRest) {
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode("aGVs\nbG8h"), "hell" "o!");
  EXPECT_EQ(base64_decode("aGk="), "hi");
  EXPECT_EQ(base64_decode("aA=="), "h");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_FALSE(base64_decode("aGVsbG8"));     // not a multiple of four
  EXPECT_FALSE(base64_decode("aG=sbG8="));    // padding inside
  EXPECT_FALSE(base64_decode("a==="));        // three pads
  EXPECT_FALSE(base64_decode("aGVs*G8="));    // not an alphabet character
  EXPECT_EQ(base64_decode(std::string("\0\0", 2)).has_value(), false);
}

}  // namespace
}  // namespace gantry::controller

// yaml-cpp's LoadAll loops forever on a ',' where a document should start (a fuzz_manifest
// find): each such text is an error with its line, at once.
TEST(Decode, AStrayCommaWhereADocumentStartsIsAnErrorNotAHang) {
  for (const char* text : {",", "\n,", "- a\n,", "\"a\"\n,", "{}\n,", "a: b\n---\n,", "kind: Service\n---\n--- |\n,x\n"}) {
    auto start = std::chrono::steady_clock::now();
    auto r = gantry::controller::parse_manifest("f.yaml", text);
    EXPECT_FALSE(r) << text;
    if (!r) {
      EXPECT_EQ(r.error().message.rfind("f.yaml:", 0), 0u) << r.error().message;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1)) << text;
  }
  // Commas inside flow collections, across lines, are YAML and stay so.
  auto ok = gantry::controller::parse_manifest("f.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a,\n  labels: {x: y}}\n");
  EXPECT_TRUE(ok) << ok.error().message;
}

// Aliases that expand exponentially ("billion laughs"): refused at once, not expanded.
TEST(Decode, ADocumentThatExpandsThroughAliasesIsRefused) {
  std::string text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\na0: &a0 [x,x,x,x,x,x,x,x,x,x]\n";
  for (int i = 1; i < 9; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += (j ? ",*a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  auto start = std::chrono::steady_clock::now();
  auto r = gantry::controller::parse_manifest("f.yaml", text);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("too many values"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // An alias inside the sequence it names is a cycle: refused, not walked forever.
  auto cycle = gantry::controller::parse_manifest(
      "f.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\na0: &a0 [x, x]\na1: &a1 [*a1, *a0]\n");
  ASSERT_FALSE(cycle);
  EXPECT_NE(cycle.error().message.find("alias refers to itself"), std::string::npos) << cycle.error().message;
  EXPECT_NE(cycle.error().message.find("f.yaml:"), std::string::npos) << cycle.error().message;
  // Deep nesting, but within the bound, is fine; past it, refused the same way.
  auto nested = [](int n) {
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {}\nx: " + std::string(n, '[') + "1" +
           std::string(n, ']') + "\n";
  };
  EXPECT_TRUE(gantry::controller::parse_manifest("f.yaml", nested(60)));
  EXPECT_FALSE(gantry::controller::parse_manifest("f.yaml", nested(150)));
  // A few aliases, as people use them, are fine.
  auto ok = gantry::controller::parse_manifest(
      "f.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels: &l {a: b}\n  annotations: *l\n");
  EXPECT_TRUE(ok) << ok.error().message;
}
