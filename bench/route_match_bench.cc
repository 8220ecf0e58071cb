// Router alone: ns per match at 1, 1k, 10k and 100k routes of each kind.
#include <benchmark/benchmark.h>

#include <memory>
#include <re2/re2.h>
#include <string>
#include <vector>

#include "gantry/routing/route_matcher.h"
#include "gantry/routing/snapshot.h"
#include "gantry/routing/weighted_pick.h"

using namespace gantry::routing;

namespace {

enum Kind { kHosts, kPrefixes, kExact, kRegex, kHeaders, kQuery, kHeaderRegex };

std::string_view header_fn(const void* tenant, std::string_view name, bool& found) {
  found = name == "x-tenant";
  return found ? *static_cast<const std::string*>(tenant) : std::string_view();
}

std::unique_ptr<Snapshot> build(Kind kind, int n) {
  auto s = std::make_unique<Snapshot>();
  s->clusters.push_back({"be", {{"127.0.0.1", 8080}}});
  Listener l;
  ListenerScope scope;
  auto route = [&](RouteMatch m, int i) {
    Route r;
    r.match = std::move(m);
    r.backends = {{0, 1}};
    r.precedence = make_precedence_key(r.match, "", "ns/r" + std::to_string(i), 0, 0);
    return r;
  };
  if (kind == kHosts) {
    for (int i = 0; i < n; ++i) {
      VirtualHost v;
      v.hostname = "h" + std::to_string(i) + ".example.com";
      v.routes.push_back(route(RouteMatch{}, i));
      scope.vhosts.push_back(make_vhost(std::move(v)));
    }
  } else {
    VirtualHost v;
    for (int i = 0; i < n; ++i) {
      RouteMatch m;
      switch (kind) {
        case kPrefixes: m.path = {PathMatchType::PathPrefix, "/svc" + std::to_string(i) + "/", nullptr}; break;
        case kExact: m.path = {PathMatchType::Exact, "/svc" + std::to_string(i), nullptr}; break;
        case kRegex: {
          std::string re = "/re" + std::to_string(i) + "/[0-9]+";
          m.path = {PathMatchType::RegularExpression, re, std::make_shared<re2::RE2>(re)};
          break;
        }
        case kHeaders:
          m.path = {PathMatchType::PathPrefix, "/", nullptr};
          m.headers.push_back({ValueMatchType::Exact, "x-tenant", "t" + std::to_string(i), nullptr});
          break;
        case kQuery:
          m.path = {PathMatchType::PathPrefix, "/", nullptr};
          m.query.push_back({ValueMatchType::Exact, "tenant", "t" + std::to_string(i), nullptr});
          break;
        case kHeaderRegex: {
          m.path = {PathMatchType::PathPrefix, "/", nullptr};
          std::string re = "t" + std::to_string(i) + "(-[a-z]+)?";
          m.headers.push_back({ValueMatchType::RegularExpression, "x-tenant", re, std::make_shared<re2::RE2>(re)});
          break;
        }
        default: break;
      }
      v.routes.push_back(route(std::move(m), i));
    }
    scope.vhosts.push_back(make_vhost(std::move(v)));
  }
  l.scopes.push_back(std::move(scope));
  Listeners listeners;
  listeners.push_back(std::move(l));
  finalize(listeners);
  s->listeners = std::make_shared<const Listeners>(std::move(listeners));
  return s;
}

void BM_Match(benchmark::State& state) {
  Kind kind = static_cast<Kind>(state.range(0));
  int n = static_cast<int>(state.range(1));
  auto snap = build(kind, n);
  FastRandom rng(1);
  std::vector<std::string> paths, hosts, tenants, queries;
  for (int i = 0; i < 1024; ++i) {
    int k = static_cast<int>(rng.next() % n);
    hosts.push_back("h" + std::to_string(k) + ".example.com");
    tenants.push_back("t" + std::to_string(k) + (kind == kHeaderRegex ? "-eu" : ""));
    queries.push_back("a=1&tenant=t" + std::to_string(k));
    switch (kind) {
      case kExact: paths.push_back("/svc" + std::to_string(k)); break;
      case kRegex: paths.push_back("/re" + std::to_string(k) + "/123"); break;
      default: paths.push_back("/svc" + std::to_string(k) + "/item/42"); break;
    }
  }
  size_t i = 0, found = 0;
  for (auto _ : state) {
    RequestView req;
    req.method = "GET";
    req.path = paths[i & 1023];
    req.query = queries[i & 1023];
    req.header = &header_fn;
    req.headers = &tenants[i & 1023];
    const Route* r = match_route((*snap->listeners)[0], hosts[i & 1023], req);
    found += r != nullptr;
    benchmark::DoNotOptimize(r);
    ++i;
  }
  state.counters["found"] = static_cast<double>(found) / static_cast<double>(i ? i : 1);
}

}  // namespace

BENCHMARK(BM_Match)
    ->ArgNames({"kind", "routes"})
    ->ArgsProduct({{kHosts, kPrefixes, kExact, kRegex, kHeaders, kQuery, kHeaderRegex}, {1, 1000, 10000, 100000}})
    ->Unit(benchmark::kNanosecond);
BENCHMARK_MAIN();
