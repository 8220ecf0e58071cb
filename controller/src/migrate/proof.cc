// The proof of a migration: both sets translated, and every probe routed on the Ingress
// listeners and on the new Gateway's with routing::match_route, the proxy's own matcher.
// A decision is the backends and their shares, a redirect's Location, or an error status,
// with the path and Host the backend would see.
#include <map>
#include <set>

#include "forms.h"
#include "gantry/controller/migrate.h"
#include "gantry/controller/objects/decode.h"
#include "gantry/routing/canary.h"
#include "gantry/routing/route_matcher.h"

namespace gantry::controller {
namespace {

// One Location, however written: "/x" is "http://host/x", "https://host" is "https://host/".
std::string location(std::string url, std::string_view scheme, std::string_view host) {
  if (url.starts_with("/")) url = std::string(scheme) + "://" + std::string(host) + url;
  size_t authority = url.find("://");
  if (authority != std::string::npos && url.find('/', authority + 3) == std::string::npos) {
    size_t q = url.find('?', authority + 3);
    url.insert(q == std::string::npos ? url.size() : q, "/");
  }
  return url;
}

// Shares in millionths, printed as percentages: "default/web:80 99.5%".
std::string percent(uint64_t millionths) {
  std::string out = std::to_string(millionths / 10000);
  if (uint64_t frac = millionths % 10000) {
    std::string f = std::to_string(frac);
    f = std::string(4 - f.size(), '0') + f;
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "%";
}

// What a listener does with a probe. `nearest`: what it does in the nearest form Gateway
// API can say, each step away from the Ingress's behaviour added to `why`.
std::string decide(const routing::Snapshot& snap, const routing::Listener& l, const MigrationProbe& p, bool nearest,
                   std::string* why) {
  auto because = [&](const char* reason) {
    if (why && why->find(reason) == std::string::npos) *why += std::string(why->empty() ? "" : "; ") + reason;
  };
  routing::RequestView view;
  view.method = "GET";
  std::string_view path, query;
  routing::split_target(p.target, path, query);
  view.path = path;
  view.query = query;
  routing::HeaderPairs headers;
  for (const auto& [k, v] : p.headers) {
    std::string name = k;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers.list.emplace_back(std::move(name), v);
  }
  headers.attach(view);
  const std::string_view scheme = p.https ? "https" : "http";
  const routing::ListenerScope* scope = nullptr;
  const routing::Route* r = routing::match_route(l, p.host, view, &scope);
  if (!r) return "404";
  if (r->filters.redirect) {
    routing::Redirect d = *r->filters.redirect;
    std::string_view prefix =
        r->match.path.type == routing::PathMatchType::PathPrefix ? std::string_view(r->match.path.value) : std::string_view{};
    if (nearest && d.to_https && !d.keep_trailing_slash && path.size() > 1 && path.ends_with("/")) {
      d.keep_trailing_slash = true;
      because("ssl-redirect drops a trailing /, a RequestRedirect keeps the path");
    }
    if (nearest && !d.url.empty() && !migrate_detail::redirect_fields(d.url)) {
      d.url = "$scheme://$host$request_uri";
      because("the redirect URL has no RequestRedirect form (see the notes)");
    }
    if (nearest && !migrate_detail::redirect_code(d.status)) {
      d.status = 302;
      because("the redirect code is not one Gateway API allows");
    }
    return std::to_string(d.status) + " to " +
           location(routing::redirect_location(d, scheme, p.host, scope ? scope->port : l.port, prefix, path, query),
                    scheme, p.host);
  }

  constexpr uint64_t kAll = 1000000;
  std::map<std::string, uint64_t> shares;  // cluster name -> millionths
  auto add = [&](uint32_t cluster, uint64_t share) {
    if (share) shares[snap.clusters[cluster].name] += share;
  };
  auto main = [&](uint64_t share) {
    for (const auto& b : r->backends)
      if (b.cluster != routing::kInvalidCluster && r->total_weight) add(b.cluster, share * b.weight / r->total_weight);
  };
  if (r->canary) {
    // The header and the cookie decide first; a request neither decides goes by weight.
    const routing::Canary& canary = *r->canary;
    routing::Canary c = canary;
    c.weight = 0;
    const bool to_canary = routing::canary_chosen(c, view, 0);
    c.weight = c.weight_total = 1;
    const bool undecided = !to_canary && routing::canary_chosen(c, view, 0);
    if (to_canary) {
      add(canary.cluster, kAll);
    } else if (!undecided || canary.weight == 0 || canary.weight_total == 0) {
      main(kAll);
    } else {
      uint64_t w = std::min<uint64_t>(kAll, uint64_t{canary.weight} * kAll / canary.weight_total);
      add(canary.cluster, w);
      main(kAll - w);
    }
  } else {
    main(kAll);
  }
  if (shares.empty()) return "500 (no backend)";
  if (nearest)
    for (const auto& [name, share] : shares)
      for (const auto& c : snap.clusters)
        if (c.name == name && c.endpoints.empty() && l.ingress) {
          because("a Service that is not found answers 500 under Gateway API, 503 from an Ingress");
          return "500 (no backend)";
        }

  std::string target(p.target), host(p.host);
  if (r->filters.rewrite) {
    const routing::UrlRewrite& rw = *r->filters.rewrite;
    if (!rw.hostname.empty()) host = rw.hostname;
    const bool expressible = rw.path.type != routing::PathModifierType::RegexReplace ||
                             migrate_detail::rewrite_expressible(r->match.path.value, rw.path.value);
    if (nearest && !expressible) {
      because("rewrite-target with captures has no URLRewrite form (see the notes)");
    } else if (auto t = routing::rewrite_target(rw.path, r->match.path, target)) {
      target = *t;
    }
  }
  std::string out = "GET " + host + target + " to";
  for (const auto& [c, s] : shares) out += " " + c + " " + percent(s);
  return out;
}

// The listener of the migrated Gateway that takes plain (or TLS) requests.
const routing::Listener* gateway_listener(const routing::Snapshot& s, bool tls, const std::string& gateway) {
  for (const auto& l : *s.listeners)
    if (l.tls == tls)
      for (const auto& scope : l.scopes)
        if (scope.name.starts_with(gateway + "/")) return &l;
  return nullptr;
}

// Paths at, inside and just outside a route's path: "/cart", "/cart/", "/cart/sample",
// "/cartx"; for a regex, its literal head.
std::vector<std::string> paths_for(const routing::PathMatch& m) {
  std::string base = m.value;
  if (m.type == routing::PathMatchType::RegularExpression) {
    // "(?i)(?:/v1(/|$)(.*)).*" (an Ingress regex) -> "/v1"
    std::string_view v = m.value;
    if (v.starts_with("(?i)")) v.remove_prefix(4);
    if (v.starts_with("(?:")) v.remove_prefix(3);
    base.clear();
    for (char c : v) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '-' && c != '_') break;
      base += c;
    }
    if (!base.starts_with("/")) base = "/";
  }
  if (base.empty()) base = "/";
  std::vector<std::string> out{base};
  if (base == "/") {
    out.push_back("/sample");
    return out;
  }
  std::string dir = base.ends_with("/") ? base : base + "/";
  out.push_back(dir);
  out.push_back(dir + "sample");
  if (!base.ends_with("/")) out.push_back(base + "x");
  return out;
}

}  // namespace

std::string MigrationProbe::describe() const {
  std::string s = std::string(https ? "https://" : "http://") + host + target;
  for (const auto& [k, v] : headers) s += " [" + k + ": " + v + "]";
  return s;
}

size_t MigrationProof::unlisted() const {
  size_t n = 0;
  for (const auto& d : differences) n += d.listed.empty();
  return n;
}

Result<MigrationProof> prove_migration(const ObjectStore& store, const TranslateOptions& translate_options,
                                       const MigrateOptions& options, const MigrateResult& migrated) {
  ObjectStore next = store;
  next.ingresses.clear();
  auto parsed = parse_manifest("migrated", migrated.yaml);
  if (!parsed) return Error{"the migrated objects do not parse: " + parsed.error().message};
  for (auto& o : parsed->objects) next.upsert(std::move(o.object));
  next.complete_namespaces();
  TranslateResult before = translate(store, translate_options);
  TranslateResult after = translate(next, translate_options);
  const std::string gateway = options.gateway_namespace + "/" + options.gateway_name;

  MigrationProof proof;
  std::set<std::string> seen;
  for (const auto& l : *before.snapshot.listeners) {
    if (!l.ingress) continue;
    // On HTTPS only the hosts with a certificate of their own: the Gateway has a listener
    // for each of them, and the notes say the others are served on HTTP only.
    std::set<std::string> tls_hosts;
    for (const auto& c : l.sni_certificates) tls_hosts.insert(c.host);
    const routing::Listener* now = gateway_listener(after.snapshot, l.tls, gateway);
    for (const auto& scope : l.scopes)
      for (const auto& v : scope.vhosts) {
        if (l.tls && !tls_hosts.count(v->hostname)) continue;
        std::vector<std::string> hosts{v->hostname.empty() ? "any.example" : v->hostname};
        if (v->hostname.starts_with("*.")) hosts = {"sample" + v->hostname.substr(1)};
        for (const auto& r : v->routes)
          for (const std::string& host : hosts)
            for (const std::string& target : paths_for(r.match.path)) {
              MigrationProbe p{l.tls, host, target, {}};
              std::vector<std::vector<std::pair<std::string, std::string>>> variants{{}};
              if (r.canary) {
                const routing::Canary& c = *r.canary;
                if (!c.header.empty()) {
                  for (const char* v : {"always", "never", "other"}) variants.push_back({{c.header, v}});
                  if (!c.header_value.empty()) variants.push_back({{c.header, c.header_value}});
                }
                if (!c.cookie.empty()) {
                  variants.push_back({{"Cookie", "a=1; " + c.cookie + "=always"}});
                  variants.push_back({{"Cookie", c.cookie + "=never; b=2"}});
                  if (!c.header.empty()) variants.push_back({{c.header, "never"}, {"Cookie", c.cookie + "=always"}});
                }
              }
              for (auto& headers : variants) {
                p.headers = headers;
                if (!seen.insert(p.describe()).second) continue;
                ++proof.compared;
                std::string was = decide(before.snapshot, l, p, false, nullptr);
                std::string is = now ? decide(after.snapshot, *now, p, false, nullptr) : "no listener";
                if (was == is) continue;
                std::string why;
                std::string listed = decide(before.snapshot, l, p, true, &why) == is ? why : "";
                proof.differences.push_back({p, was, is, listed});
              }
            }
      }
  }
  return proof;
}

}  // namespace gantry::controller
