#include "gantry/routing/regex_cache.h"

#include <re2/re2.h>
#include <re2/set.h>

namespace gantry::routing {

std::shared_ptr<const void> build_regex_set(const std::vector<const std::string*>& patterns) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(int64_t{256} << 20);
  auto set = std::make_shared<re2::RE2::Set>(opts, re2::RE2::ANCHOR_BOTH);
  for (const std::string* p : patterns)
    if (set->Add(*p, nullptr) < 0) return nullptr;
  if (!set->Compile()) return nullptr;
  return set;
}

std::shared_ptr<const re2::RE2> RegexCache::regex(const std::string& pattern) {
  auto& e = regexes_[pattern];
  if (!e.value) {
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    e.value = std::make_shared<const re2::RE2>(pattern, opts);
  }
  e.used = epoch_;
  return e.value;
}

std::shared_ptr<const void> RegexCache::regex_set(const std::vector<const std::string*>& patterns) {
  std::string key;
  for (const std::string* p : patterns) {
    key += *p;
    key += '\0';
  }
  auto [it, inserted] = sets_.try_emplace(std::move(key));
  if (inserted) it->second.value = build_regex_set(patterns);
  it->second.used = epoch_;
  return it->second.value;
}

void RegexCache::sweep() {
  for (auto it = regexes_.begin(); it != regexes_.end();) it = it->second.used == epoch_ ? std::next(it) : regexes_.erase(it);
  for (auto it = sets_.begin(); it != sets_.end();) it = it->second.used == epoch_ ? std::next(it) : sets_.erase(it);
  ++epoch_;
}

}  // namespace gantry::routing
