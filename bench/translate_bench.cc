// translate() alone, on N host + N prefix + N regex routes (the shapes bench/gen-routes.sh
// writes), without and with the regex cache the serve loop keeps: what a full translation
// costs when a route is added; and translate_routes(), what the serve loop pays instead
// when only that route changed (one new host route, added and removed in turn).
#include <benchmark/benchmark.h>

#include <string>

#include "gantry/controller/objects/decode.h"
#include "gantry/controller/translate/translator.h"

namespace {
using namespace gantry;

controller::ObjectStore make_store(int n) {
  std::string y =
      "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gantry}\n"
      "spec: {controllerName: gantry.dev/gateway-controller}\n---\n"
      "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: bench, namespace: default}\n"
      "spec:\n  gatewayClassName: gantry\n  listeners:\n"
      "  - {name: prefix, port: 9031, protocol: HTTP}\n  - {name: hosts, port: 9033, protocol: HTTP}\n"
      "  - {name: regex, port: 9035, protocol: HTTP}\n---\n"
      "apiVersion: v1\nkind: Service\nmetadata: {name: be, namespace: default}\nspec: {ports: [{port: 8080}]}\n";
  for (int r = 0; r < n; r += 16) {
    for (const char* kind : {"prefix", "hosts", "regex"}) {
      y += "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + std::string(kind) +
           "-" + std::to_string(r) + ", namespace: default}\nspec:\n  parentRefs: [{name: bench, sectionName: " + kind +
           "}]\n";
      if (std::string(kind) == "hosts") {
        y += "  hostnames: [";
        for (int i = r; i < std::min(n, r + 16); ++i) y += (i > r ? ", h" : "h") + std::to_string(i) + ".example.com";
        y += "]\n  rules: [{backendRefs: [{name: be, port: 8080}]}]\n";
        continue;
      }
      y += "  rules:\n";
      for (int i = r; i < std::min(n, r + 16); ++i)
        y += std::string(kind) == "prefix"
                 ? "  - {matches: [{path: {type: PathPrefix, value: /svc" + std::to_string(i) + "/}}], backendRefs: [{name: be, port: 8080}]}\n"
                 : "  - {matches: [{path: {type: RegularExpression, value: \"/re" + std::to_string(i) + "/[0-9]+\"}}], backendRefs: [{name: be, port: 8080}]}\n";
    }
  }
  controller::ObjectStore store;
  auto parsed = controller::parse_manifest("bench.yaml", y);
  if (parsed)
    for (auto& d : parsed->objects) store.upsert(std::move(d.object));
  store.complete_namespaces();
  return store;
}

void BM_Translate(benchmark::State& state) {
  controller::ObjectStore store = make_store(static_cast<int>(state.range(0)));
  routing::RegexCache cache;
  controller::TranslateOptions options;
  if (state.range(1)) options.regex_cache = &cache;
  for (auto _ : state) {
    auto result = controller::translate(store, options);
    benchmark::DoNotOptimize(result.snapshot.listeners->size());
  }
}
void BM_TranslateRoutes(benchmark::State& state) {
  controller::ObjectStore store = make_store(static_cast<int>(state.range(0)));
  routing::RegexCache cache;
  controller::TranslateOptions options;
  options.regex_cache = &cache;
  options.keep_state = true;
  auto first = controller::translate(store, options);
  auto live = std::make_shared<const routing::Snapshot>(std::move(first.snapshot));
  auto parsed = controller::parse_manifest(
      "new.yaml",
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: new, namespace: default}\n"
      "spec:\n  parentRefs: [{name: bench, sectionName: hosts}]\n  hostnames: [new.example.com]\n"
      "  rules: [{backendRefs: [{name: be, port: 8080}]}]\n");
  const controller::Object added = parsed->objects.front().object;
  bool present = false;
  for (auto _ : state) {
    if (present) store.erase("HTTPRoute", "default/new");
    else store.upsert(added);
    present = !present;
    auto result = controller::translate_routes(store, options, *first.state, *live, {"default/new"});
    live = std::make_shared<const routing::Snapshot>(std::move(result.snapshot));
  }
}

BENCHMARK(BM_TranslateRoutes)->Arg(1000)->Arg(5000)->ArgNames({"routes"})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Translate)->ArgsProduct({{1000, 5000}, {0, 1}})->ArgNames({"routes", "cache"})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
