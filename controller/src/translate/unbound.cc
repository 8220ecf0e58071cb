// A listener the data plane could not bind (the port is taken, the address is not local)
// is reported where its owners look: the Gateway listener's Accepted=False with reason
// PortUnavailable (Gateway API, ListenerConditionReason) and Programmed=False, and a
// warning on each Ingress when an ingress listener is the one. The other listeners serve.
#include "context.h"

namespace gantry::controller {
namespace {

using translate_detail::condition;
namespace json = boost::json;

void set_condition(json::array& conditions, json::object c) {
  for (auto& existing : conditions) {
    if (existing.as_object().at("type") == c.at("type")) {
      existing = std::move(c);
      return;
    }
  }
  conditions.push_back(std::move(c));
}

}  // namespace

StatusItems mark_unbound(StatusItems status, const routing::Listeners& listeners,
                         const std::map<std::string, std::string>& failures) {
  if (failures.empty()) return status;
  std::map<std::string, std::string> scopes;  // "namespace/gateway/listener" -> why
  std::string ingress_problem;
  for (const routing::Listener& l : listeners) {
    auto f = failures.find(l.name);
    if (f == failures.end()) continue;
    if (l.ingress) ingress_problem = f->second;
    for (const routing::ListenerScope& s : l.scopes) scopes[s.name] = f->second;
  }
  for (auto& shared : status) {
    if (shared->at("kind") != "Ingress" && shared->at("kind") != "Gateway") continue;
    auto copy = std::make_shared<json::object>(*shared);  // the others' items stay shared
    json::object& item = *copy;
    shared = copy;
    const json::object& md = item.at("metadata").as_object();
    const json::value* namespace_ = md.if_contains("namespace");  // none: cluster-scoped
    const std::string ns(namespace_ ? namespace_->as_string() : ""), name(md.at("name").as_string());
    const int64_t gen = md.at("generation").to_number<int64_t>();
    if (item.at("kind") == "Ingress" && !ingress_problem.empty()) {
      item["warnings"].as_array().push_back(json::object{{"reason", "ListenerNotBound"}, {"message", ingress_problem}});
      continue;
    }
    if (item.at("kind") != "Gateway") continue;
    json::object& st = item["status"].as_object();
    if (!st.contains("listeners")) continue;
    for (auto& lv : st["listeners"].as_array()) {
      json::object& ls = lv.as_object();
      auto why = scopes.find(ns + "/" + name + "/" + std::string(ls.at("name").as_string()));
      if (why == scopes.end()) continue;
      json::array& conds = ls["conditions"].as_array();
      set_condition(conds, condition("Accepted", false, "PortUnavailable", why->second, gen));
      set_condition(conds, condition("Programmed", false, "Pending", why->second, gen));
    }
  }
  return status;
}

}  // namespace gantry::controller
