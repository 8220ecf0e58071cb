#include <thread>

#include "checks.h"

namespace gantry::conformance {
namespace {

std::string s(const json::value* v) { return v && v->is_string() ? std::string(v->get_string()) : ""; }
std::string y(const YAML::Node& n, const char* key, std::string fallback = "") {
  return n[key] ? n[key].as<std::string>() : fallback;
}

// A condition of `type` in `conds` with the wanted status (and reason, if asked).
std::string find_condition(const json::value* conds, const YAML::Node& check, const std::string& where) {
  std::string type = y(check, "type"), status = y(check, "status"), reason = y(check, "reason");
  if (!conds || !conds->is_array()) return where + ": no conditions";
  for (const auto& c : conds->as_array()) {
    if (s(c.as_object().if_contains("type")) != type) continue;
    std::string got_status = s(c.as_object().if_contains("status")), got_reason = s(c.as_object().if_contains("reason"));
    if (!status.empty() && got_status != status) return where + ": " + type + " is " + got_status + "/" + got_reason + ", want " + status;
    if (!reason.empty() && got_reason != reason) return where + ": " + type + " reason is " + got_reason + ", want " + reason;
    return {};
  }
  return where + ": no " + type + " condition";
}

std::string generations_current(const json::value* conds, int64_t generation, const std::string& where) {
  if (!conds || !conds->is_array()) return {};
  for (const auto& c : conds->as_array()) {
    const auto* og = c.as_object().if_contains("observedGeneration");
    if (!og || !og->is_int64() || og->as_int64() != generation)
      return where + ": " + s(c.as_object().if_contains("type")) + " observedGeneration is not " + std::to_string(generation);
  }
  return {};
}

std::string route_check(const Environment& env, const YAML::Node& check) {
  std::string ns = y(check, "namespace"), name = y(check, "name");
  auto o = env.object_status("HTTPRoute", ns, name);
  std::string where = "HTTPRoute " + ns + "/" + name;
  const json::array* parents = nullptr;
  if (o)
    if (const auto* p = o->at("status").as_object().if_contains("parents"); p && p->is_array()) parents = &p->as_array();
  if (check["no_accepted_parents"]) {
    if (!parents || parents->empty()) return {};
    if (parents->size() == 1) {
      YAML::Node acc;
      acc["type"] = "Accepted";
      acc["status"] = "False";
      if (find_condition(parents->at(0).as_object().if_contains("conditions"), acc, where).empty()) return {};
    }
    return where + ": has accepted parents";
  }
  if (!o) return where + ": no status";
  int64_t gen = o->at("metadata").as_object().at("generation").as_int64();
  std::string pns = y(check["parent"], "namespace"), pname = y(check["parent"], "name");
  bool full = y(check, "parent_match") == "full";
  if (!parents) return where + ": no status.parents";
  for (const auto& p : *parents) {
    const auto& ref = p.as_object().at("parentRef").as_object();
    if (s(ref.if_contains("name")) != pname) continue;
    const auto* rns = ref.if_contains("namespace");
    if (rns && s(rns) != pns) continue;
    if (full) {
      if (s(p.as_object().if_contains("controllerName")) != kControllerName) return where + ": controllerName differs";
      if (s(ref.if_contains("group")) != "gateway.networking.k8s.io" || s(ref.if_contains("kind")) != "Gateway")
        return where + ": parentRef group/kind not set explicitly";
      if (!rns && (ns != pns || check["namespace_required"])) return where + ": parentRef.namespace not set";
    }
    for (const auto& q : *parents)
      if (auto e = generations_current(q.as_object().if_contains("conditions"), gen, where); !e.empty()) return e;
    return find_condition(p.as_object().if_contains("conditions"), check, where + " parent " + pname);
  }
  return where + ": no parent " + pns + "/" + pname;
}

std::string gateway_check(const Environment& env, const YAML::Node& check) {
  std::string ns = y(check, "namespace"), name = y(check, "name");
  std::string where = "Gateway " + ns + "/" + name;
  auto o = env.object_status("Gateway", ns, name);
  if (!o) return where + ": no status";
  const auto& st = o->at("status").as_object();
  int64_t gen = o->at("metadata").as_object().at("generation").as_int64();
  const auto* listeners = st.if_contains("listeners");
  if (check["address_assigned"]) {
    const auto* a = st.if_contains("addresses");
    return a && a->is_array() && !a->as_array().empty() ? "" : where + ": no address";
  }
  if (check["zero_attached_routes"]) {
    if (!listeners || listeners->as_array().empty()) return {};
    if (listeners->as_array().size() == 1 && listeners->as_array()[0].as_object().at("attachedRoutes").as_int64() == 0)
      return {};
    return where + ": routes are attached";
  }
  if (check["listeners"]) {
    if (auto e = generations_current(st.if_contains("conditions"), gen, where); !e.empty()) return e;
    const auto& want = check["listeners"];
    if (!listeners || listeners->as_array().size() != want.size())
      return where + ": " + std::to_string(listeners ? listeners->as_array().size() : 0) + " listeners in status, want " +
             std::to_string(want.size());
    for (const auto& wl : want) {
      std::string lname = y(wl, "name");
      const json::object* got = nullptr;
      for (const auto& l : listeners->as_array())
        if (s(l.as_object().if_contains("name")) == lname) got = &l.as_object();
      if (!got) return where + ": no listener " + lname;
      if (wl["attached_routes"] && got->at("attachedRoutes").as_int64() != wl["attached_routes"].as<int64_t>())
        return where + " listener " + lname + ": attachedRoutes " + std::to_string(got->at("attachedRoutes").as_int64()) +
               ", want " + wl["attached_routes"].as<std::string>();
      if (wl["supported_kinds"]) {
        const auto& kinds = got->at("supportedKinds").as_array();
        if (wl["supported_kinds"].size() == 0 && !kinds.empty()) return where + " listener " + lname + ": supportedKinds not empty";
        for (const auto& k : wl["supported_kinds"]) {
          bool found = false;
          for (const auto& gk : kinds) found = found || s(gk.as_object().if_contains("kind")) == k.as<std::string>();
          if (!found) return where + " listener " + lname + ": supportedKinds lacks " + k.as<std::string>();
        }
      }
      for (const auto& c : wl["conditions"])
        if (auto e = find_condition(got->if_contains("conditions"), c, where + " listener " + lname); !e.empty()) return e;
    }
    return {};
  }
  if (check["listener"]) {
    std::string lname = y(check, "listener");
    if (!listeners || listeners->as_array().empty()) return where + ": no listeners in status";
    bool any = false;
    for (const auto& l : listeners->as_array()) {
      if (lname != "*" && s(l.as_object().if_contains("name")) != lname) continue;
      any = true;
      if (auto e = find_condition(l.as_object().if_contains("conditions"), check,
                                  where + " listener " + s(l.as_object().if_contains("name")));
          !e.empty())
        return e;
    }
    return any ? "" : where + ": no listener " + lname;
  }
  if (auto e = generations_current(st.if_contains("conditions"), gen, where); !e.empty()) return e;
  return find_condition(st.if_contains("conditions"), check, where);
}

}  // namespace

std::string check_status_once(const Environment& env, const YAML::Node& check) {
  std::string kind = y(check, "kind");
  if (kind == "HTTPRoute") return route_check(env, check);
  if (kind == "Gateway") return gateway_check(env, check);
  if (kind == "GatewayClass") {
    auto o = env.object_status("GatewayClass", "", y(check, "name"));
    if (!o) return "GatewayClass " + y(check, "name") + ": no status";
    return find_condition(o->at("status").as_object().if_contains("conditions"), check, "GatewayClass " + y(check, "name"));
  }
  return "unknown status check kind " + kind;
}

std::string wait_status(const Environment& env, const YAML::Node& checks, const Limits& limits) {
  if (!checks) return {};
  auto deadline = std::chrono::steady_clock::now() + limits.status_wait;
  for (;;) {
    std::string failure;
    for (const auto& c : checks) {
      failure = check_status_once(env, c);
      if (!failure.empty()) break;
    }
    if (failure.empty() || std::chrono::steady_clock::now() > deadline) return failure;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string check_latest_generation_once(const Environment& env, const YAML::Node& list) {
  if (!list) return {};
  for (const auto& item : list) {
    std::string kind = y(item, "kind"), ns = y(item, "namespace"), name = y(item, "name");
    auto o = env.object_status(kind, ns, name);
    if (!o) return kind + " " + name + ": no status";
    int64_t gen = o->at("metadata").as_object().at("generation").as_int64();
    const auto& st = o->at("status").as_object();
    std::string where = kind + " " + ns + "/" + name;
    if (kind == "HTTPRoute") {
      if (const auto* ps = st.if_contains("parents"))
        for (const auto& p : ps->as_array())
          if (auto e = generations_current(p.as_object().if_contains("conditions"), gen, where); !e.empty()) return e;
    } else if (auto e = generations_current(st.if_contains("conditions"), gen, where); !e.empty()) {
      return e;
    }
  }
  return {};
}

std::string check_latest_generation(const Environment& env, const YAML::Node& list, const Limits& limits) {
  auto deadline = std::chrono::steady_clock::now() + limits.status_wait;
  for (;;) {
    std::string failure = check_latest_generation_once(env, list);
    if (failure.empty() || std::chrono::steady_clock::now() > deadline) return failure;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string wait_namespaces_ready(const Environment& env, const YAML::Node& namespaces, const Limits& limits) {
  if (!namespaces) return {};
  auto deadline = std::chrono::steady_clock::now() + limits.status_wait;
  for (;;) {
    std::string failure;
    for (const auto& item : env.status()) {
      const auto& o = item.as_object();
      if (s(o.if_contains("kind")) != "Gateway") continue;
      std::string ns = s(o.at("metadata").as_object().if_contains("namespace"));
      bool wanted = false;
      for (const auto& n : namespaces) wanted = wanted || n.as<std::string>() == ns;
      if (!wanted || env.readiness_exempt(ns, s(o.at("metadata").as_object().if_contains("name")))) continue;
      int64_t gen = o.at("metadata").as_object().at("generation").as_int64();
      YAML::Node acc, prog;
      acc["type"] = "Accepted";
      acc["status"] = "True";
      prog["type"] = "Programmed";
      prog["status"] = "True";
      std::string where = "Gateway " + ns + "/" + s(o.at("metadata").as_object().if_contains("name"));
      const auto* conds = o.at("status").as_object().if_contains("conditions");
      for (auto e : {find_condition(conds, acc, where), find_condition(conds, prog, where), generations_current(conds, gen, where)})
        if (failure.empty() && !e.empty()) failure = e;
    }
    if (failure.empty() || std::chrono::steady_clock::now() > deadline) return failure;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace gantry::conformance
