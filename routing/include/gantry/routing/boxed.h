// Boxed<T>: an optional value kept out of line and shared by its copies. A route's rare
// parts (CORS, a redirect, a rewrite, a canary) cost a pointer when absent, and a rule
// that serves many hostnames holds one of each, not one per copy of its route. Reads
// look like std::optional's; the value never changes once set (set a new one instead).
#pragma once

#include <memory>
#include <utility>

namespace gantry::routing {

template <class T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(T value) : p_(std::make_shared<const T>(std::move(value))) {}  // NOLINT: as optional's

  explicit operator bool() const { return p_ != nullptr; }
  bool has_value() const { return p_ != nullptr; }
  const T& operator*() const { return *p_; }
  const T* operator->() const { return p_.get(); }
  void reset() { p_.reset(); }

 private:
  std::shared_ptr<const T> p_;
};

}  // namespace gantry::routing
