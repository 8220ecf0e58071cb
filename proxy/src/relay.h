// Body relay through a fixed buffer (Beast's relay pattern): bodies are streamed, never
// held whole, whatever their size or framing (Content-Length, chunked, until EOF).
#pragma once

#include <string>

#include "asio.h"

namespace gantry::proxy {

enum class RelayFailure { None, Input, Output };

struct RelayResult {
  RelayFailure failure = RelayFailure::None;
  error_code ec;
  uint64_t bytes = 0;  // body bytes read from `in` (for the access log)
};

// A copy of the body as it passes, up to `limit` bytes (RequestMirror). Past the limit the
// copy is dropped and `overflow` set: a cut body would be a different request.
struct BodyTap {
  std::string data;
  size_t limit = 0;
  bool overflow = false;
  void take(const char* p, size_t n) {
    if (overflow) return;
    if (data.size() + n > limit) {
      overflow = true;
      std::string().swap(data);
      return;
    }
    data.append(p, n);
  }
};

// Writes the rest of the message whose header `sr` already wrote, reading body chunks
// from `in` into `buf`. Each read and write has its own timeout.
template <bool isRequest, class In, class Out>
awaitable<RelayResult> relay_body(In& in, beast::flat_buffer& in_buffer, http::parser<isRequest, http::buffer_body>& p,
                                  Out& out, http::serializer<isRequest, http::buffer_body>& sr, char* buf,
                                  size_t size, std::chrono::milliseconds read_timeout,
                                  std::chrono::milliseconds write_timeout, BodyTap* tap = nullptr) {
  auto& body = p.get().body();
  uint64_t moved = 0;
  for (;;) {
    if (!p.is_done()) {
      body.data = buf;
      body.size = size;
      in.expires_after(read_timeout);
      // read_some: forward what has arrived instead of waiting for a full buffer, so a
      // stream flows at its own pace and a broken upstream still delivers what it sent.
      auto [ec, n] = co_await http::async_read_some(in, in_buffer, p, use_nothrow);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return RelayResult{RelayFailure::Input, ec, moved};
      body.size = size - body.size;
      moved += body.size;
      // A read that only consumed framing (a chunk header) has nothing to pass on yet.
      if (body.size == 0 && !p.is_done()) continue;
      // An empty final read must look like "no data" (nullptr): a zero-length buffer would
      // make the chunked serializer emit the last chunk twice.
      body.data = body.size ? buf : nullptr;
      body.more = !p.is_done();
      if (tap && body.size) tap->take(buf, body.size);
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    out.expires_after(write_timeout);
    auto [ec, n] = co_await http::async_write(out, sr, use_nothrow);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return RelayResult{RelayFailure::Output, ec, moved};
    if (sr.is_done()) co_return RelayResult{RelayFailure::None, {}, moved};
  }
}

}  // namespace gantry::proxy
