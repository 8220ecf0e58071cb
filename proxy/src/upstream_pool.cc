#include "upstream_pool.h"

#include <sys/socket.h>

#include <cstdio>
#include <cstring>

namespace gantry::proxy {
namespace {

// A pooled connection the upstream closed shows EOF (or unexpected bytes) to a peek.
// One syscall here saves a failed request later.
bool still_open(UpstreamConnection& c) {
  if (c.buffer.size() != 0) return false;
  char byte;
  ssize_t n = ::recv(c.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::string_view endpoint_key(const routing::Endpoint& ep, char* buf, size_t cap) {
  int n = std::snprintf(buf, cap, "%s:%u", ep.host.c_str(), static_cast<unsigned>(ep.port));
  if (n < 0 || static_cast<size_t>(n) >= cap) return {};
  return {buf, static_cast<size_t>(n)};
}

UpstreamPtr UpstreamPool::acquire(std::string_view key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& stack = it->second;
  auto now = std::chrono::steady_clock::now();
  while (!stack.empty()) {
    UpstreamPtr c = std::move(stack.back());
    stack.pop_back();
    auto idle = now - c->idle_since;
    if (idle >= max_idle_) continue;
    // A connection back in the pool for under a second is taken on trust (a peek is a
    // syscall per request); a request that finds it dead is retried when it can be.
    if (idle < std::chrono::seconds(1) || still_open(*c)) return c;
  }
  return nullptr;
}

void UpstreamPool::release(std::string_view key, UpstreamPtr conn) {
  auto it = idle_.find(key);
  if (it == idle_.end()) it = idle_.emplace(std::string(key), std::vector<UpstreamPtr>{}).first;
  if (it->second.size() >= max_idle_per_endpoint_) return;  // closes it
  conn->idle_since = std::chrono::steady_clock::now();
  conn->stream.expires_never();
  it->second.push_back(std::move(conn));
}

}  // namespace gantry::proxy
