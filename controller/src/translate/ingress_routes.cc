// The paths of each Ingress host -> routes of one ingress listener: path matching by
// pathType (or host-wide regex mode), the annotations as filters and route settings.
#include <re2/re2.h>

#include "backends.h"
#include "ingress.h"

namespace gantry::controller::translate_detail {
namespace {

struct MirrorUrl {
  std::string scheme, host, path;
  uint16_t port = 0;
};

// "scheme://host[:port][/path]"; the path may hold $request_uri.
std::optional<MirrorUrl> parse_mirror_url(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  MirrorUrl m;
  m.scheme = lower(std::string(url.substr(0, sep)));
  if (m.scheme != "http" && m.scheme != "https") return std::nullopt;
  url.remove_prefix(sep + 3);
  size_t slash = url.find_first_of("/$?");  // "http://svc.ns.svc$request_uri" has no '/'
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) m.path = std::string(url.substr(slash));
  m.port = m.scheme == "https" ? 443 : 80;
  size_t colon = authority.rfind(':'), bracket = authority.find(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    unsigned long p = std::strtoul(std::string(authority.substr(colon + 1)).c_str(), nullptr, 10);
    if (p == 0 || p > 65535) return std::nullopt;
    m.port = static_cast<uint16_t>(p);
    authority = authority.substr(0, colon);
  }
  if (authority.starts_with("[") && authority.ends_with("]")) authority = authority.substr(1, authority.size() - 2);
  if (authority.empty()) return std::nullopt;
  m.host = lower(std::string(authority));
  return m;
}

// mirror-target -> a Mirror: a Service named by its cluster DNS name resolves through the
// store (never DNS); any other name or address is dialled as written.
std::optional<routing::Mirror> make_mirror(Context& ctx, OurIngress& o) {
  const IngressAnnotations& a = o.annotations;
  auto url = parse_mirror_url(*a.mirror_target);
  const std::string prefix = std::string(kNginxPrefix) + "mirror-target: ";
  if (!url) {
    o.warn("AnnotationInvalidValue", prefix + "'" + *a.mirror_target + "' is not an http:// or https:// URL; nothing is mirrored");
    return std::nullopt;
  }
  if (url->scheme == "https") {
    o.warn("AnnotationNotSupported", prefix + "https mirror targets are not supported yet; nothing is mirrored");
    return std::nullopt;
  }
  routing::Mirror m;
  std::string_view h = url->host;
  for (std::string_view suffix : {".svc.cluster.local", ".svc"}) {
    if (!h.ends_with(suffix)) continue;
    std::string_view svc_ns = h.substr(0, h.size() - suffix.size());
    size_t dot = svc_ns.find('.');
    if (dot == std::string_view::npos || svc_ns.find('.', dot + 1) != std::string_view::npos) break;
    IngressServiceBackend b{std::string(svc_ns.substr(0, dot)), url->port, ""};
    std::string problem;
    m.cluster = resolve_ingress_backend(ctx, std::string(svc_ns.substr(dot + 1)), b, problem);
    if (!problem.empty()) o.warn("BackendNotFound", "mirror-target: " + problem);
    h = {};
    break;
  }
  if (!h.empty()) m.cluster = fixed_cluster(ctx, "mirror:" + url->host + ":" + std::to_string(url->port), {{url->host, url->port}});
  m.target = url->path;
  std::string default_host = url->host;
  if (url->port != 80) default_host += ":" + std::to_string(url->port);
  m.host = a.mirror_host.empty() ? default_host : a.mirror_host;
  m.body = a.mirror_body;
  return m;
}

std::shared_ptr<const re2::RE2> ingress_regex(const Context& ctx, const std::string& path, std::string& problem) {
  // nginx `location ~* "^path"`: case-insensitive, anchored at the start only. The routing
  // table matches whole paths, so the rest of the path is allowed explicitly; captures keep
  // their numbers. The flags are in the text because the path index compiles the text.
  auto re = compile_regex(ctx, "(?i)(?:" + path + ").*");
  if (!re->ok()) {
    problem = re->error();
    return nullptr;
  }
  return re;
}

}  // namespace

void emit_ingress_routes(Context& ctx, const std::map<std::string, IngressHost>& hosts, bool https,
                         routing::ListenerScope& scope) {
  for (const auto& [host, h] : hosts) {
    routing::VirtualHost vhost;
    vhost.hostname = host;
    const bool regex_mode = h.regex_cause != nullptr;
    if (h.redirect_to) {
      routing::Route r;
      r.match.path = {routing::PathMatchType::PathPrefix, "/", nullptr};
      routing::Redirect redirect;
      redirect.url = "$scheme://" + *h.redirect_to + "$request_uri";
      redirect.status = 308;
      r.filters.redirect = std::move(redirect);
      const Ingress& by = *h.redirect_owner->ingress;
      r.source = {"Ingress", by.meta.ns, by.meta.name, -1, 0};
      r.precedence = routing::make_precedence_key(r.match, by.meta.creation_timestamp, key_of(by.meta), -1, 0);
      vhost.routes.push_back(std::move(r));
    }
    std::set<const OurIngress*> app_roots;
    for (const IngressPath& p : h.paths) {
      OurIngress& o = *p.owner;
      const IngressAnnotations& a = o.annotations;
      const Ingress& ing = *o.ingress;
      routing::Route r;
      if (regex_mode) {
        std::string problem;
        auto re = ingress_regex(ctx, p.path, problem);
        if (!re) {
          if (!https) o.warn("InvalidPath", "host " + (host.empty() ? "*" : host) + ": path " + p.path +
                                                " is not a valid regular expression (" + problem + "): not routed");
          continue;
        }
        r.match.path = {routing::PathMatchType::RegularExpression, re->pattern(), re};
      } else if (p.type == "Exact") {
        r.match.path = {routing::PathMatchType::Exact, p.path, nullptr};
      } else {
        r.match.path = {routing::PathMatchType::PathPrefix, p.path, nullptr};
      }
      r.backends.push_back({p.cluster, 1, nullptr});
      r.canary = p.canary;
      r.source = {"Ingress", ing.meta.ns, ing.meta.name, p.rule, p.index};
      r.precedence = routing::make_precedence_key(r.match, ing.meta.creation_timestamp, key_of(ing.meta), p.rule, p.index);

      if (a.redirect) {
        r.filters.redirect = a.redirect;
      } else if (!https && ((h.tls && a.ssl_redirect.value_or(true)) || a.force_ssl_redirect)) {
        routing::Redirect redirect;
        redirect.to_https = true;
        redirect.keep_trailing_slash = a.preserve_trailing_slash;
        redirect.status = 308;
        r.filters.redirect = std::move(redirect);
      }
      if (a.rewrite_target || !a.upstream_vhost.empty()) {
        routing::UrlRewrite rw;
        rw.hostname = a.upstream_vhost;
        if (a.rewrite_target && r.match.path.regex) rw.path = {routing::PathModifierType::RegexReplace, *a.rewrite_target};
        r.filters.rewrite = std::move(rw);
      }
      if (a.mirror_target) {
        if (!o.mirror) o.mirror = make_mirror(ctx, o);  // once per Ingress, whatever the listeners
        if (*o.mirror) r.filters.mirrors.push_back(**o.mirror);
      }
      r.filters.cors = a.cors;
      r.timeouts.connect_ms = a.connect_ms;
      r.timeouts.send_ms = a.send_ms;
      r.timeouts.read_ms = a.read_ms;
      r.body_limit = a.body_limit;
      r.source_ranges = a.source_ranges;
      r.upstream_tls = a.backend_https;
      r.upstream_h2 = a.backend_h2;

      // app-root: "/" itself redirects (302) to the application's root; the rest is served.
      if (a.app_root && p.rule >= 0 && app_roots.insert(&o).second) {
        routing::Route root = r;
        root.match.path = {routing::PathMatchType::Exact, "/", nullptr};
        routing::Redirect redirect;
        redirect.url = "$scheme://$host" + *a.app_root;
        redirect.status = 302;
        root.filters.redirect = std::move(redirect);
        root.canary.reset();
        root.precedence = routing::make_precedence_key(root.match, ing.meta.creation_timestamp, key_of(ing.meta), -2, 0);
        vhost.routes.push_back(std::move(root));
      }
      vhost.routes.push_back(std::move(r));
    }
    if (vhost.routes.empty()) continue;
    scope.vhosts.push_back(routing::make_vhost(std::move(vhost), ctx.options.regex_cache));
  }
}

}  // namespace gantry::controller::translate_detail
