// Ingress translation, one row per rule of the Ingress spec or of ingress-nginx: manifests
// in, a request, and which Ingress path serves it (or none). The snapshot is matched with
// the same routing code the proxy runs.
#include <gtest/gtest.h>

#include "gantry/controller/objects/decode.h"
#include "gantry/controller/translate/translator.h"
#include "gantry/routing/route_matcher.h"

namespace gantry::controller {
namespace {

const char* kClass = R"(
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: gantry, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: gantry.dev/gateway-controller}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: default}
spec: {ports: [{name: http, port: 80}]}
)";

// An Ingress whose paths are "TYPE PATH" pairs under `host`, backend svc:80.
std::string ing(const std::string& name, const std::string& host, const std::vector<std::string>& paths,
                const std::string& extra_meta = "", const std::string& extra_spec = "") {
  std::string out = "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
                    "\n  namespace: default\n" + extra_meta + "spec:\n" + extra_spec;
  if (paths.empty()) return out;
  out += "  rules:\n  - host: '" + host + "'\n    http:\n      paths:\n";
  for (const std::string& p : paths) {
    size_t sp = p.find(' ');
    out += "      - {pathType: " + p.substr(0, sp) + ", path: '" + p.substr(sp + 1) +
           "', backend: {service: {name: svc, port: {number: 80}}}}\n";
  }
  return out;
}
const std::string kDefault = "  defaultBackend: {service: {name: svc, port: {number: 80}}}\n";

struct Row {
  const char* name;
  std::string manifests;
  std::string host, path;
  std::string want;  // "name/rule/path" of the serving Ingress path, "name/default" for a default backend, "" for none
};

std::string serve(const Row& row) {
  auto parsed = parse_manifest("t.yaml", kClass + row.manifests);
  if (!parsed) return "parse error: " + parsed.error().message;
  ObjectStore store;
  for (auto& d : parsed->objects) store.upsert(std::move(d.object));
  store.complete_namespaces();
  TranslateResult result = translate(store, TranslateOptions{});
  for (const routing::Listener& l : *result.snapshot.listeners) {
    if (l.name != "0.0.0.0:80") continue;
    char buf[256];
    std::string_view host = routing::normalize_host(row.host, buf, sizeof buf);
    routing::RequestView view;
    view.method = "GET";
    routing::split_target(row.path, view.path, view.query);
    const routing::Route* r = routing::match_route(l, host, view);
    if (!r) return "";
    if (r->source.rule < 0) return r->source.name + "/default";
    return r->source.name + "/" + std::to_string(r->source.rule) + "/" + std::to_string(r->source.match);
  }
  return "";
}

class IngressRouting : public ::testing::TestWithParam<Row> {};

TEST_P(IngressRouting, ServesThePathItShould) { EXPECT_EQ(serve(GetParam()), GetParam().want); }

const std::string kTs1 = "  creationTimestamp: '2026-01-01T00:00:00Z'\n";
const std::string kTs2 = "  creationTimestamp: '2026-02-01T00:00:00Z'\n";
const std::string kRegex = "  annotations: {nginx.ingress.kubernetes.io/use-regex: 'true'}\n";
const std::string kCanary = "  annotations: {nginx.ingress.kubernetes.io/canary: 'true'}\n";

INSTANTIATE_TEST_SUITE_P(
    Rows, IngressRouting,
    ::testing::Values(
        Row{"PrefixIsElementWise", ing("a", "x.io", {"Prefix /foo"}), "x.io", "/foo/bar", "a/0/0"},
        Row{"PrefixNeverMatchesALongerSegment", ing("a", "x.io", {"Prefix /foo"}), "x.io", "/foobar", ""},
        Row{"PrefixTrailingSlashIgnored", ing("a", "x.io", {"Prefix /foo/"}), "x.io", "/foo", "a/0/0"},
        Row{"ImplementationSpecificIsPrefix", ing("a", "x.io", {"ImplementationSpecific /foo"}), "x.io", "/foo/x", "a/0/0"},
        Row{"ExactOnlyExact", ing("a", "x.io", {"Exact /foo"}), "x.io", "/foo/", ""},
        Row{"LongestPrefixWins", ing("a", "x.io", {"Prefix /", "Prefix /foo", "Prefix /foo/bar"}), "x.io", "/foo/bar/baz", "a/0/2"},
        Row{"ExactBeatsPrefix", ing("a", "x.io", {"Prefix /foo", "Exact /foo"}), "x.io", "/foo", "a/0/1"},
        Row{"QueryDoesNotTakePart", ing("a", "x.io", {"Exact /foo"}), "x.io", "/foo?a=b", "a/0/0"},
        Row{"HostIsCaseInsensitiveAndPortless", ing("a", "X.io", {"Prefix /"}), "x.IO:8080", "/", "a/0/0"},
        Row{"WildcardOneLabel", ing("a", "*.x.io", {"Prefix /"}), "a.x.io", "/", "a/0/0"},
        Row{"WildcardNotTwoLabels", ing("a", "*.x.io", {"Prefix /"}), "a.b.x.io", "/", ""},
        Row{"WildcardNotTheBareDomain", ing("a", "*.x.io", {"Prefix /"}), "x.io", "/", ""},
        Row{"ExactHostBeatsWildcard", ing("a", "*.x.io", {"Prefix /"}) + ing("b", "a.x.io", {"Prefix /"}), "a.x.io", "/", "b/0/0"},
        Row{"HostlessRuleAnyHost", ing("a", "", {"Prefix /any"}), "who.io", "/any", "a/0/0"},
        Row{"HostRuleNeverFallsThrough", ing("a", "", {"Prefix /any"}) + ing("b", "x.io", {"Prefix /b"}), "x.io", "/any", ""},
        Row{"PathsOfTwoIngressesMerge", ing("a", "x.io", {"Prefix /a"}) + ing("b", "x.io", {"Prefix /b"}), "x.io", "/b", "b/0/0"},
        Row{"OldestIngressWinsAPath", ing("young", "x.io", {"Prefix /p"}, kTs2) + ing("old", "x.io", {"Prefix /p"}, kTs1), "x.io", "/p", "old/0/0"},
        Row{"DefaultBackendServesItsHostsUnmatchedPaths", ing("a", "x.io", {"Prefix /a"}, "", kDefault), "x.io", "/zzz", "a/default"},
        Row{"DefaultBackendNotOtherHosts", ing("a", "x.io", {"Prefix /a"}, "", kDefault), "y.io", "/zzz", ""},
        Row{"CatchAllEveryHost", ing("all", "", {}, "", kDefault), "y.io", "/zzz", "all/default"},
        Row{"CatchAllUnmatchedPathsToo", ing("all", "", {}, "", kDefault) + ing("a", "x.io", {"Exact /a"}), "x.io", "/b", "all/default"},
        Row{"OldestCatchAll", ing("c2", "", {}, kTs2, kDefault) + ing("c1", "", {}, kTs1, kDefault), "y.io", "/", "c1/default"},
        Row{"NoCatchAllUnknownHostIs404", ing("a", "x.io", {"Prefix /"}), "y.io", "/", ""},
        Row{"CanaryAloneCreatesNothing", ing("c", "x.io", {"Prefix /"}, kCanary), "x.io", "/", ""},
        Row{"RegexModeHostWide", ing("r", "x.io", {"ImplementationSpecific /r/[0-9]+"}, kRegex) + ing("p", "x.io", {"Prefix /foo"}), "x.io", "/foobar", "p/0/0"},
        Row{"RegexModeCaseInsensitive", ing("r", "x.io", {"ImplementationSpecific /r/[0-9]+"}, kRegex), "x.io", "/R/12/x", "r/0/0"},
        Row{"RegexModeLongestFirst", ing("r", "x.io", {"ImplementationSpecific /foo/bar/bar", "ImplementationSpecific /foo/bar/[A-Z0-9]{3}"}, kRegex), "x.io", "/foo/bar/bar", "r/0/1"},
        Row{"RegexModeOnlyThatHost", ing("r", "x.io", {"ImplementationSpecific /r.*"}, kRegex) + ing("p", "y.io", {"Prefix /foo"}), "y.io", "/foobar", ""},
        Row{"OtherClassIgnored", ing("a", "x.io", {"Prefix /"}, "", "  ingressClassName: nginx\n"), "x.io", "/", ""},
        Row{"LegacyAnnotationOurs", ing("a", "x.io", {"Prefix /"}, "  annotations: {kubernetes.io/ingress.class: gantry}\n", "  ingressClassName: nginx\n"), "x.io", "/", "a/0/0"},
        Row{"LegacyAnnotationOther", ing("a", "x.io", {"Prefix /"}, "  annotations: {kubernetes.io/ingress.class: nginx}\n"), "x.io", "/", ""},
        Row{"OurClassByName", ing("a", "x.io", {"Prefix /"}, "", "  ingressClassName: gantry\n"), "x.io", "/", "a/0/0"},
        Row{"NotDefaultClassIgnoresClassless",
            std::string("---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: gantry}\n"
                        "spec: {controller: gantry.dev/gateway-controller}\n") + ing("a", "x.io", {"Prefix /"}),
            "x.io", "/", ""},
        Row{"OtherControllersClassWithOurName",
            std::string("---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: gantry}\n"
                        "spec: {controller: k8s.io/ingress-nginx}\n") + ing("a", "x.io", {"Prefix /"}, "", "  ingressClassName: gantry\n"),
            "x.io", "/", ""}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gantry::controller
