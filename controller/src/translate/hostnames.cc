#include "context.h"

namespace gantry::controller::translate_detail {
namespace {

bool is_wildcard(std::string_view h) { return h.starts_with("*."); }

// Does the wildcard `w` ("*.example.com") cover `h` (a name or a narrower wildcard)?
bool covers(std::string_view w, std::string_view h) {
  std::string_view suffix = w.substr(1);  // ".example.com"
  return h.size() > suffix.size() && h.ends_with(suffix) && h.substr(0, h.size() - suffix.size()) != "*";
}

}  // namespace

std::vector<std::string> intersect_hostnames(const std::optional<std::string>& listener,
                                             const std::vector<std::string>& route) {
  std::vector<std::string> out;
  auto add = [&](std::string h) {
    for (const auto& e : out) if (e == h) return;
    out.push_back(std::move(h));
  };
  if (route.empty()) {
    add(listener.value_or(""));
    return out;
  }
  for (const std::string& r : route) {
    if (!listener || listener->empty()) add(r);
    else if (*listener == r) add(r);
    else if (is_wildcard(*listener) && covers(*listener, r)) add(r);
    else if (is_wildcard(r) && covers(r, *listener)) add(*listener);
  }
  return out;
}

bool selector_matches(const LabelSelector& selector, const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector.match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& req : selector.match_expressions) {
    auto it = labels.find(req.key);
    bool has = it != labels.end();
    bool in = has && std::find(req.values.begin(), req.values.end(), it->second) != req.values.end();
    if (req.op == "In" && !in) return false;
    if (req.op == "NotIn" && in) return false;
    if (req.op == "Exists" && !has) return false;
    if (req.op == "DoesNotExist" && has) return false;
  }
  return true;
}

bool reference_granted(const ObjectStore& store, std::string_view from_group, std::string_view from_kind,
                       std::string_view from_ns, std::string_view to_group, std::string_view to_kind,
                       std::string_view to_ns, std::string_view to_name) {
  for (const auto& [key, grant] : store.reference_grants) {
    if (grant.meta.ns != to_ns) continue;
    bool from_ok = false;
    for (const auto& f : grant.from)
      if (f.group == from_group && f.kind == from_kind && f.ns == from_ns) from_ok = true;
    if (!from_ok) continue;
    for (const auto& t : grant.to)
      if (t.group == to_group && t.kind == to_kind && (!t.name || *t.name == to_name)) return true;
  }
  return false;
}

}  // namespace gantry::controller::translate_detail
