// Rules no request can reach (routing::shadowed_routes), said where their owners look: a
// condition on each of an HTTPRoute's parents, a warning on an Ingress. The condition type
// is ours (domain-prefixed, as Kubernetes conventions ask of conditions outside the spec).
#include "gantry/routing/shadow.h"

#include <set>

#include "context.h"

namespace gantry::controller {
namespace {

namespace json = boost::json;
using translate_detail::condition;

std::string rule_name(const routing::SourceRef& s) {
  if (s.rule < 0) return "the default backend";
  return "rule " + std::to_string(s.rule) + " match " + std::to_string(s.match);
}

}  // namespace

std::map<std::string, std::vector<std::string>> shadowed_rules(const routing::Listeners& listeners) {
  std::map<std::string, std::set<std::string>> found;
  for (const routing::Listener& l : listeners)
    for (const routing::ListenerScope& scope : l.scopes)
      for (const auto& vhost : scope.vhosts)
        for (const routing::Shadowed& s : routing::shadowed_routes(*vhost)) {
          const routing::SourceRef& r = s.route->source;
          const routing::SourceRef& by = s.by->source;
          std::string who = by.kind + " " + by.ns + "/" + by.name + " " + rule_name(by);
          if (by.kind == r.kind && by.ns == r.ns && by.name == r.name) who = "its own " + rule_name(by);
          found[r.kind + "/" + r.ns + "/" + r.name].insert(
              rule_name(r) + " on host " + (vhost->hostname.empty() ? "*" : vhost->hostname) +
              " is never used: " + who + " matches every request it matches and comes first");
        }
  std::map<std::string, std::vector<std::string>> out;
  for (auto& [key, messages] : found) out[key].assign(messages.begin(), messages.end());
  return out;
}

StatusItems mark_shadowed(StatusItems status, const routing::Listeners& listeners) {
  auto shadowed = shadowed_rules(listeners);
  if (shadowed.empty()) return status;
  for (auto& shared : status) {
    const json::value& kind = shared->at("kind");
    if (kind != "HTTPRoute" && kind != "Ingress") continue;
    const json::object& md = shared->at("metadata").as_object();
    auto it = shadowed.find(std::string(kind.as_string()) + "/" + std::string(md.at("namespace").as_string()) + "/" +
                            std::string(md.at("name").as_string()));
    if (it == shadowed.end()) continue;
    std::string message;
    for (const auto& m : it->second) message += (message.empty() ? "" : "; ") + m;
    auto copy = std::make_shared<json::object>(*shared);
    shared = copy;
    json::object& item = *copy;
    if (kind == "Ingress") {
      item["warnings"].as_array().push_back(json::object{{"reason", "RulesShadowed"}, {"message", message}});
      continue;
    }
    const int64_t gen = md.at("generation").to_number<int64_t>();
    json::object& st = item["status"].as_object();
    if (!st.contains("parents")) continue;
    for (auto& p : st["parents"].as_array())
      p.as_object()["conditions"].as_array().push_back(
          condition("gantry.dev/ShadowedRules", true, "RulesShadowed", message, gen));
  }
  return status;
}

}  // namespace gantry::controller
