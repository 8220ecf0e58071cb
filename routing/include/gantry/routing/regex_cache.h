// RegexCache: compiled regular expressions kept across translations, keyed by pattern,
// so a config change recompiles only the patterns it adds (10,000 RE2 compiles and the
// RE2::Set automata of every virtual host are most of a full translation otherwise).
// Entries that a translation did not use are dropped at its end (sweep), so memory follows
// the live configuration. One translation at a time uses a cache; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace re2 { class RE2; }

namespace gantry::routing {

class RegexCache {
 public:
  // The compiled `pattern` (RE2 defaults, errors not logged); check ok() on the result.
  std::shared_ptr<const re2::RE2> regex(const std::string& pattern);
  // One automaton matching any of `patterns` anchored at both ends (PathIndex); null when
  // it cannot be built.
  std::shared_ptr<const void> regex_set(const std::vector<const std::string*>& patterns);
  // Ends a translation: what it did not ask for is released.
  void sweep();
  size_t size() const { return regexes_.size() + sets_.size(); }

 private:
  template <class T>
  struct Entry {
    T value;
    uint64_t used = 0;
  };
  uint64_t epoch_ = 1;
  std::unordered_map<std::string, Entry<std::shared_ptr<const re2::RE2>>> regexes_;
  std::unordered_map<std::string, Entry<std::shared_ptr<const void>>> sets_;  // key: patterns joined by '\0'
};

// Builds the set without a cache (PathIndex when none is given).
std::shared_ptr<const void> build_regex_set(const std::vector<const std::string*>& patterns);

}  // namespace gantry::routing
