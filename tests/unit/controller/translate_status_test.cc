// One row per status reason: manifests in, the condition an object must carry out.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "gantry/controller/sources/file_source.h"
#include "gantry/controller/translate/translator.h"
#include "../../support/self_signed.h"

namespace gantry::controller {
namespace {
namespace json = boost::json;

const char* kBase = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gantry}
spec: {controllerName: gantry.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: gantry
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}
  - name: shared
    port: 8080
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: Selector
        selector: {matchLabels: {kubernetes.io/metadata.name: team-a}}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: infra}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: team-a}
spec: {ports: [{port: 8080}]}
)";

std::string route(const std::string& ns, const std::string& parent, const std::string& extra_spec,
                  const std::string& backend = "{name: svc, port: 8080}") {
  return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: " + ns +
         "}\nspec:\n  parentRefs: [" + parent + "]\n" + extra_spec + "  rules:\n  - backendRefs: [" + backend + "]\n";
}

struct Case {
  std::string name;
  std::string manifests;  // appended to kBase
  std::string kind;
  std::string object;     // "namespace/name"
  std::string listener;   // for Gateway listener conditions; "" for object-level
  std::string type, status, reason;
};

json::array translate_text(const std::string& text) {
  auto parsed = parse_manifest("t.yaml", text);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  ObjectStore store;
  if (parsed.ok())
    for (auto& d : parsed->objects) store.upsert(std::move(d.object));
  store.complete_namespaces();
  return to_array(translate(store, TranslateOptions{}).status);
}

const json::object* find_condition(const json::array& items, const Case& c) {
  for (const auto& item : items) {
    const auto& o = item.get_object();
    const auto& md = o.at("metadata").get_object();
    std::string key = md.contains("namespace") ? std::string(md.at("namespace").get_string()) + "/" : "";
    key += std::string(md.at("name").get_string());
    if (o.at("kind").get_string() != c.kind || key != c.object) continue;
    const auto& status = o.at("status").get_object();
    std::vector<const json::array*> lists;
    if (c.kind == "HTTPRoute") {
      for (const auto& p : status.at("parents").get_array()) lists.push_back(&p.get_object().at("conditions").get_array());
    } else if (!c.listener.empty()) {
      for (const auto& l : status.at("listeners").get_array())
        if (l.get_object().at("name").get_string() == c.listener)
          lists.push_back(&l.get_object().at("conditions").get_array());
    } else {
      lists.push_back(&status.at("conditions").get_array());
    }
    for (const auto* list : lists)
      for (const auto& cond : *list)
        if (cond.get_object().at("type").get_string() == c.type) return &cond.get_object();
  }
  return nullptr;
}

// A Secret of type kubernetes.io/tls with a fresh self-signed certificate; rows name it
// as "{TLS_SECRET <namespace> <name>}" and get it substituted here.
std::string tls_secret(const std::string& ns, const std::string& name) {
  static const std::optional<test::SelfSigned> cert = test::make_self_signed("/CN=t", {"*.example.com"});
  EXPECT_TRUE(cert) << "openssl is needed for this test";
  return "---\napiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n" + test::indent_block(cert ? cert->crt_pem : "") +
         "  tls.key: |\n" + test::indent_block(cert ? cert->key_pem : "");
}

std::string with_secrets(std::string text) {
  for (size_t at; (at = text.find("{TLS_SECRET ")) != std::string::npos;) {
    size_t end = text.find('}', at);
    std::string spec = text.substr(at + 12, end - at - 12);
    std::string ns = spec.substr(0, spec.find(' ')), name = spec.substr(spec.find(' ') + 1);
    text.replace(at, end - at + 1, tls_secret(ns, name));
  }
  return text;
}

// An HTTPS Gateway "tls" in infra on its own address whose listener takes `tls_yaml`.
std::string https_gateway(const std::string& tls_yaml, const std::string& extra_listener = "") {
  return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: tls, namespace: infra}\n"
         "spec:\n  gatewayClassName: gantry\n  addresses: [{value: 127.0.0.7}]\n  listeners:\n"
         "  - {name: https, port: 443, protocol: HTTPS" + (tls_yaml.empty() ? "" : ", tls: " + tls_yaml) + "}\n" +
         extra_listener;
}

class TranslateStatusTest : public ::testing::TestWithParam<Case> {};

TEST_P(TranslateStatusTest, SetsCondition) {
  const Case& c = GetParam();
  json::array items = translate_text(with_secrets(std::string(kBase) + c.manifests));
  const json::object* cond = find_condition(items, c);
  ASSERT_NE(cond, nullptr) << "no " << c.type << " condition on " << c.kind << " " << c.object << " in "
                           << json::serialize(items);
  EXPECT_EQ(cond->at("status").get_string(), c.status) << json::serialize(*cond);
  EXPECT_EQ(cond->at("reason").get_string(), c.reason) << json::serialize(*cond);
}

const std::string kGw = "{name: gw, namespace: infra}";

INSTANTIATE_TEST_SUITE_P(
    Table, TranslateStatusTest,
    ::testing::Values(
        Case{"gateway_class_accepted", "", "GatewayClass", "gantry", "", "Accepted", "True", "Accepted"},
        Case{"gateway_accepted", "", "Gateway", "infra/gw", "", "Accepted", "True", "Accepted"},
        Case{"gateway_programmed", "", "Gateway", "infra/gw", "", "Programmed", "True", "Programmed"},
        Case{"route_accepted", route("infra", kGw, "  hostnames: [a.example.com]\n"), "HTTPRoute", "infra/r", "",
             "Accepted", "True", "Accepted"},
        Case{"route_refs_resolved", route("infra", kGw, ""), "HTTPRoute", "infra/r", "", "ResolvedRefs", "True",
             "ResolvedRefs"},
        Case{"route_from_other_namespace_not_allowed",
             route("team-b", "{name: gw, namespace: infra, sectionName: http}", ""), "HTTPRoute", "team-b/r", "",
             "Accepted", "False", "NotAllowedByListeners"},
        Case{"route_from_selected_namespace_allowed",
             route("team-a", "{name: gw, namespace: infra, sectionName: shared}", ""), "HTTPRoute", "team-a/r", "",
             "Accepted", "True", "Accepted"},
        Case{"route_hostname_outside_listener",
             route("infra", "{name: gw, sectionName: http}", "  hostnames: [a.example.org]\n"), "HTTPRoute", "infra/r",
             "", "Accepted", "False", "NoMatchingListenerHostname"},
        Case{"route_section_name_unknown", route("infra", "{name: gw, sectionName: nope}", ""), "HTTPRoute", "infra/r",
             "", "Accepted", "False", "NoMatchingParent"},
        Case{"route_port_unknown", route("infra", "{name: gw, port: 9999}", ""), "HTTPRoute", "infra/r", "", "Accepted",
             "False", "NoMatchingParent"},
        Case{"backend_not_found", route("infra", kGw, "", "{name: missing, port: 8080}"), "HTTPRoute", "infra/r", "",
             "ResolvedRefs", "False", "BackendNotFound"},
        Case{"backend_port_not_found", route("infra", kGw, "", "{name: svc, port: 1}"), "HTTPRoute", "infra/r", "",
             "ResolvedRefs", "False", "BackendNotFound"},
        Case{"backend_wrong_kind", route("infra", kGw, "", "{kind: ConfigMap, name: svc, port: 8080}"), "HTTPRoute",
             "infra/r", "", "ResolvedRefs", "False", "InvalidKind"},
        Case{"cross_namespace_backend_needs_grant",
             route("infra", kGw, "", "{name: svc, namespace: team-a, port: 8080}"), "HTTPRoute", "infra/r", "",
             "ResolvedRefs", "False", "RefNotPermitted"},
        Case{"cross_namespace_backend_with_grant",
             route("infra", kGw, "", "{name: svc, namespace: team-a, port: 8080}") +
                 "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, "
                 "namespace: team-a}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: "
                 "infra}]\n  to: [{group: '', kind: Service}]\n",
             "HTTPRoute", "infra/r", "", "ResolvedRefs", "True", "ResolvedRefs"},
        Case{"listener_unsupported_protocol",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: udp, namespace: infra}\n"
             "spec:\n  gatewayClassName: gantry\n  listeners: [{name: u, port: 53, protocol: UDP}]\n",
             "Gateway", "infra/udp", "u", "Accepted", "False", "UnsupportedProtocol"},
        Case{"gateway_without_valid_listener",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: udp, namespace: infra}\n"
             "spec:\n  gatewayClassName: gantry\n  listeners: [{name: u, port: 53, protocol: UDP}]\n",
             "Gateway", "infra/udp", "", "Accepted", "False", "ListenersNotValid"},
        Case{"listeners_conflict_on_hostname",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: dup, namespace: infra}\n"
             "spec:\n  gatewayClassName: gantry\n  addresses: [{value: 127.0.0.9}]\n  listeners:\n"
             "  - {name: a, port: 80, protocol: HTTP}\n  - {name: b, port: 80, protocol: HTTP}\n",
             "Gateway", "infra/dup", "a", "Conflicted", "True", "HostnameConflict"},
        Case{"invalid_regex_is_unsupported_value",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: infra}\n"
             "spec:\n  parentRefs: [{name: gw}]\n  rules:\n  - matches: [{path: {type: RegularExpression, value: "
             "'/a(['}}]\n    backendRefs: [{name: svc, port: 8080}]\n",
             "HTTPRoute", "infra/r", "", "Accepted", "False", "UnsupportedValue"},
        Case{"unknown_filter_is_unsupported_value",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: infra}\n"
             "spec:\n  parentRefs: [{name: gw}]\n  rules:\n  - filters: [{type: ExtensionRef}]\n"
             "    backendRefs: [{name: svc, port: 8080}]\n",
             "HTTPRoute", "infra/r", "", "Accepted", "False", "UnsupportedValue"},
        Case{"mirror_to_missing_service_is_backend_not_found",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: infra}\n"
             "spec:\n  parentRefs: [{name: gw}]\n  rules:\n  - filters: [{type: RequestMirror, requestMirror: "
             "{backendRef: {name: gone, port: 80}}}]\n    backendRefs: [{name: svc, port: 8080}]\n",
             "HTTPRoute", "infra/r", "", "ResolvedRefs", "False", "BackendNotFound"},
        Case{"listener_with_unsupported_route_kind",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: k, namespace: infra}\n"
             "spec:\n  gatewayClassName: gantry\n  addresses: [{value: 127.0.0.8}]\n  listeners:\n"
             "  - {name: h, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: TCPRoute}]}}\n",
             "Gateway", "infra/k", "h", "ResolvedRefs", "False", "InvalidRouteKinds"},
        Case{"parameters_ref_is_invalid_parameters",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: p, namespace: infra}\n"
             "spec:\n  gatewayClassName: gantry\n  infrastructure: {parametersRef: {group: x.io, kind: X, name: y}}\n"
             "  listeners: [{name: h, port: 80, protocol: HTTP}]\n",
             "Gateway", "infra/p", "", "Accepted", "False", "InvalidParameters"},
        Case{"unsupported_address_type",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: a, namespace: infra}\n"
             "spec:\n  gatewayClassName: gantry\n  addresses: [{type: Hostname, value: gw.example}]\n"
             "  listeners: [{name: h, port: 80, protocol: HTTP}]\n",
             "Gateway", "infra/a", "", "Accepted", "False", "UnsupportedAddress"},
        Case{"https_listener_with_its_secret_is_programmed",
             https_gateway("{certificateRefs: [{name: cert}]}") + "{TLS_SECRET infra cert}", "Gateway", "infra/tls",
             "https", "Programmed", "True", "Programmed"},
        Case{"https_secret_missing", https_gateway("{certificateRefs: [{name: gone}]}"), "Gateway", "infra/tls",
             "https", "ResolvedRefs", "False", "InvalidCertificateRef"},
        Case{"https_secret_missing_not_programmed", https_gateway("{certificateRefs: [{name: gone}]}"), "Gateway",
             "infra/tls", "https", "Programmed", "False", "Invalid"},
        Case{"https_without_certificate_refs", https_gateway(""), "Gateway", "infra/tls", "https", "ResolvedRefs",
             "False", "InvalidCertificateRef"},
        Case{"https_certificate_ref_of_other_group",
             https_gateway("{certificateRefs: [{group: x.io, kind: Secret, name: cert}]}") + "{TLS_SECRET infra cert}",
             "Gateway", "infra/tls", "https", "ResolvedRefs", "False", "InvalidCertificateRef"},
        Case{"https_secret_not_a_certificate",
             https_gateway("{certificateRefs: [{name: junk}]}") +
                 "---\napiVersion: v1\nkind: Secret\nmetadata: {name: junk, namespace: infra}\n"
                 "data: {tls.crt: SGVsbG8gd29ybGQ=, tls.key: SGVsbG8gd29ybGQ=}\n",
             "Gateway", "infra/tls", "https", "ResolvedRefs", "False", "InvalidCertificateRef"},
        Case{"https_secret_in_other_namespace_needs_grant",
             https_gateway("{certificateRefs: [{name: cert, namespace: team-a}]}") + "{TLS_SECRET team-a cert}",
             "Gateway", "infra/tls", "https", "ResolvedRefs", "False", "RefNotPermitted"},
        Case{"https_secret_in_other_namespace_with_grant",
             https_gateway("{certificateRefs: [{name: cert, namespace: team-a}]}") + "{TLS_SECRET team-a cert}" +
                 "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, "
                 "namespace: team-a}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: "
                 "infra}]\n  to: [{group: '', kind: Secret, name: cert}]\n",
             "Gateway", "infra/tls", "https", "ResolvedRefs", "True", "ResolvedRefs"},
        Case{"https_passthrough_is_unsupported",
             https_gateway("{mode: Passthrough}"), "Gateway", "infra/tls", "https", "Accepted", "False",
             "UnsupportedProtocol"},
        Case{"http_and_https_on_one_port_conflict",
             https_gateway("{certificateRefs: [{name: cert}]}", "  - {name: plain, port: 443, protocol: HTTP, hostname: a.example.com}\n") +
                 "{TLS_SECRET infra cert}",
             "Gateway", "infra/tls", "plain", "Conflicted", "True", "ProtocolConflict"},
        Case{"listener_without_conflicts", "", "Gateway", "infra/gw", "http", "Conflicted", "False", "NoConflicts"},
        Case{"listener_port_out_of_range",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: big, namespace: infra}\n"
             "spec:\n  gatewayClassName: gantry\n  addresses: [{value: 127.0.0.6}]\n"
             "  listeners: [{name: h, port: 70000, protocol: HTTP}]\n",
             "Gateway", "infra/big", "h", "Accepted", "False", "PortUnavailable"},
        Case{"unsupported_address_is_not_assigned",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: a, namespace: infra}\n"
             "spec:\n  gatewayClassName: gantry\n  addresses: [{type: Hostname, value: gw.example}]\n"
             "  listeners: [{name: h, port: 80, protocol: HTTP}]\n",
             "Gateway", "infra/a", "", "Programmed", "False", "AddressNotAssigned"},
        Case{"later_gateway_loses_contested_port",
             "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: zz, namespace: infra}\n"
             "spec:\n  gatewayClassName: gantry\n  listeners: [{name: h, port: 80, protocol: HTTP}]\n",
             "Gateway", "infra/zz", "", "Programmed", "False", "AddressNotUsable"}),
    [](const auto& info) { return info.param.name; });

TEST(TranslateStatus, GatewayOfAnotherClassGetsNoStatus) {
  json::array items = translate_text(
      std::string(kBase) +
      "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: theirs, namespace: infra}\n"
      "spec:\n  gatewayClassName: other\n  listeners: [{name: h, port: 80, protocol: HTTP}]\n");
  for (const auto& item : items)
    EXPECT_NE(item.at("metadata").at("name").get_string(), "theirs") << json::serialize(item);
}

TEST(FileSource, GenerationGrowsWhenSpecChanges) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("gantry-gen-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& port) {
    std::ofstream(dir / "s.yaml") << "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: " << port
                                  << "}]}\n";
    // A fresh mtime is not enough on coarse clocks: the size changes too.
  };
  FileSource source({dir.string()});
  write("80");
  ASSERT_TRUE(source.scan().changed);
  EXPECT_EQ(source.store().services.at("default/s").meta.generation, 1);
  write("8080");
  ASSERT_TRUE(source.scan().changed);
  EXPECT_EQ(source.store().services.at("default/s").meta.generation, 2);
  std::ofstream(dir / "s.yaml") << "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 8080}]\n";
  ScanReport bad = source.scan();
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].find("s.yaml:"), std::string::npos) << bad.errors[0];
  // The broken file keeps its last good objects.
  EXPECT_EQ(source.store().services.at("default/s").meta.generation, 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gantry::controller
