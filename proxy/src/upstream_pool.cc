#include "upstream_pool.h"

#include "stats.h"

#include <sys/socket.h>

#include <charconv>
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

UpstreamConnection::UpstreamConnection(asio::io_context& ioc, EndpointState& o, BackendStats* s)
    : stream(ioc), owner(&o), stats(s) {
  buffer.reserve(16 * 1024);
  ++owner->open;
  if (stats) {
    stats->connects.add();
    stats->opened.add();
  }
}

UpstreamConnection::~UpstreamConnection() {
  --owner->open;
  if (stats) stats->closed.add();
}

std::string_view endpoint_key(const routing::Endpoint& ep, char* buf, size_t cap) {
  // "host:port", made on every request: no snprintf (2% of an HTTP/2 request's instructions).
  if (ep.host.size() + 7 > cap) return {};
  std::memcpy(buf, ep.host.data(), ep.host.size());
  char* p = buf + ep.host.size();
  *p++ = ':';
  p = std::to_chars(p, buf + cap, static_cast<unsigned>(ep.port)).ptr;
  return {buf, static_cast<size_t>(p - buf)};
}

void PoolKey::set(UpstreamPool& pool, const routing::Endpoint& ep, bool tls, std::string_view sni) {
  key = endpoint_key(ep, buf, sizeof buf);
  health = &pool.state(key);
  connections = health;
  if (tls && key.size() + 5 + sni.size() < sizeof buf) {
    std::memcpy(buf + key.size(), "|tls|", 5);
    std::memcpy(buf + key.size() + 5, sni.data(), sni.size());
    key = std::string_view(buf, key.size() + 5 + sni.size());
    connections = &pool.state(key);
  }
}

EndpointState& UpstreamPool::state(std::string_view key) {
  auto it = endpoints_.find(key);
  if (it == endpoints_.end()) {
    it = endpoints_.emplace(std::string(key), EndpointState{}).first;
    it->second.key = it->first;
  }
  return it->second;
}

const EndpointState* UpstreamPool::find(std::string_view key) const {
  auto it = endpoints_.find(key);
  return it == endpoints_.end() ? nullptr : &it->second;
}

UpstreamPtr UpstreamPool::acquire(EndpointState& st, Clock::time_point now) {
  auto& stack = st.idle;
  while (!stack.empty()) {
    UpstreamPtr c = std::move(stack.back());
    stack.pop_back();
    auto idle = now - c->idle_since;
    if (idle >= limits_.max_idle) continue;
    // A connection back in the pool for under a second is taken on trust (a peek is a
    // syscall per request); a request that finds it dead is retried when it can be.
    if (idle < std::chrono::seconds(1) || still_open(*c)) return c;
  }
  return nullptr;
}

void UpstreamPool::release(EndpointState& st, UpstreamPtr conn, Clock::time_point now) {
  if (st.idle.size() >= limits_.max_idle_per_endpoint) return;  // closes it
  conn->idle_since = now;
  conn->stream.expires_never();
  st.idle.push_back(std::move(conn));
}

bool UpstreamPool::ejected(const routing::Endpoint& ep, Clock::time_point now) const {
  char buf[300];
  const EndpointState* st = find(endpoint_key(ep, buf, sizeof buf));
  return st && st->ejected(now);
}

bool UpstreamPool::record_failure(EndpointState& st, const routing::Cluster* cluster, Clock::time_point now) {
  if (limits_.eject_after == 0 || st.ejected(now)) return false;
  if (++st.failures < limits_.eject_after) return false;
  if (cluster) {
    size_t healthy_others = 0;
    for (const routing::Endpoint& ep : cluster->endpoints) {
      char buf[300];
      if (endpoint_key(ep, buf, sizeof buf) == st.key) continue;
      if (!ejected(ep, now)) ++healthy_others;
    }
    if (healthy_others == 0) return false;
  }
  const uint32_t doublings = std::min<uint32_t>(st.ejections, 16);
  auto span = std::min(limits_.base_ejection * (1u << doublings), limits_.max_ejection);
  st.ejected_until = now + span;
  ++st.ejections;
  st.failures = 0;
  st.idle.clear();  // its pooled connections are as suspect as the endpoint
  ejections_end_ = std::max(ejections_end_, st.ejected_until);
  return true;
}

void UpstreamPool::record_success(EndpointState& st, Clock::time_point now) {
  st.failures = 0;
  // Healthy for a whole max ejection since it came back: its next ejection starts short.
  if (st.ejections && now >= st.ejected_until + limits_.max_ejection) st.ejections = 0;
}

const routing::Endpoint& UpstreamPool::choose(const routing::Cluster& cluster, uint32_t start) const {
  const auto& eps = cluster.endpoints;
  const routing::Endpoint& first = eps[start % eps.size()];
  if (!any_ejected()) return first;
  const auto now = Clock::now();
  for (size_t i = 0; i < eps.size(); ++i) {
    const routing::Endpoint& ep = eps[(start + i) % eps.size()];
    if (!ejected(ep, now)) return ep;
  }
  return first;
}

void UpstreamPool::clear() {
  for (auto& [key, st] : endpoints_) st.idle.clear();
}

void UpstreamPool::prune(Clock::time_point now) {
  std::erase_if(endpoints_, [this, now](const auto& e) {
    const EndpointState& st = e.second;
    // An endpoint's ejection history lasts a max ejection past its last ejection.
    return st.open == 0 && st.failures == 0 && now >= st.ejected_until + (st.ejections ? limits_.max_ejection : Clock::duration{});
  });
}

}  // namespace gantry::proxy
