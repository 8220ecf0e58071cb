// UpstreamPool: idle keep-alive connections of one worker, per endpoint, reused LIFO
// (the most recently used connection is the one most likely still open, as in nginx).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "asio.h"
#include "maybe_tls_stream.h"
#include "gantry/routing/host_index.h"
#include "gantry/routing/snapshot.h"

namespace gantry::proxy {

struct UpstreamConnection {
  // Reads take what the buffer has room for: room for a full relay chunk keeps large
  // bodies moving in few syscalls.
  explicit UpstreamConnection(asio::io_context& ioc) : stream(ioc) { buffer.reserve(16 * 1024); }
  MaybeTlsStream stream;  // TLS for backend-protocol HTTPS routes
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;
};

using UpstreamPtr = std::unique_ptr<UpstreamConnection>;

// "host:port" written into a caller's buffer: lookups allocate nothing.
std::string_view endpoint_key(const routing::Endpoint& ep, char* buf, size_t cap);

class UpstreamPool {
 public:
  UpstreamPool(size_t max_idle_per_endpoint, std::chrono::milliseconds max_idle)
      : max_idle_per_endpoint_(max_idle_per_endpoint), max_idle_(max_idle) {}

  // An idle connection that is still open, or nullptr.
  UpstreamPtr acquire(std::string_view key);
  void release(std::string_view key, UpstreamPtr conn);
  void clear() { idle_.clear(); }

 private:
  size_t max_idle_per_endpoint_;
  std::chrono::milliseconds max_idle_;
  std::unordered_map<std::string, std::vector<UpstreamPtr>, routing::StringHash, std::equal_to<>> idle_;
};

}  // namespace gantry::proxy
