// Body relay through a fixed buffer (Beast's relay pattern): bodies are streamed, never
// held whole, whatever their size or framing (Content-Length, chunked, until EOF).
#pragma once

#include <array>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

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

// The body's framing on the way out, from the outgoing head: byte for byte as it arrived
// (Content-Length, or until close), or chunked again (the parser took the chunks apart).
// A message that may not have a body (HEAD's response, 204, 304) gets none.
struct OutFraming {
  bool chunked = false;
};

// One write of a relayed message: what is left of its head, then a piece of body framed
// as `f` says (`last`: the body ends with it). Not copyable: its buffers point into it.
class FramedWrite {
 public:
  FramedWrite(std::string_view head, const char* data, size_t n, bool last, OutFraming f) {
    if (!head.empty()) bufs_[k_++] = asio::buffer(head.data(), head.size());
    if (f.chunked && n) {
      const int len = std::snprintf(size_line_, sizeof size_line_, "%zx\r\n", n);
      bufs_[k_++] = asio::buffer(size_line_, static_cast<size_t>(len));
    }
    if (n) bufs_[k_++] = asio::buffer(data, n);
    if (f.chunked) {
      static constexpr std::string_view kEnd = "\r\n0\r\n\r\n";  // a chunk's CRLF, then the last chunk
      if (n && last) bufs_[k_++] = asio::buffer(kEnd.data(), kEnd.size());
      else if (n) bufs_[k_++] = asio::buffer(kEnd.data(), 2);
      else if (last) bufs_[k_++] = asio::buffer(kEnd.data() + 2, kEnd.size() - 2);
    }
  }
  FramedWrite(const FramedWrite&) = delete;
  FramedWrite& operator=(const FramedWrite&) = delete;
  bool empty() const { return k_ == 0; }
  std::span<const asio::const_buffer> buffers() const { return {bufs_.data(), k_}; }

 private:
  std::array<asio::const_buffer, 4> bufs_;
  size_t k_ = 0;
  char size_line_[24];
};

// Writes `head` (if any) and then the body that `p` reads from `in`, through `buf`, framed
// as `out_framing` says: the head goes with the first body bytes in one write, each chunk
// read becomes one write, and the last chunk rides with the last bytes. Each read and
// write has its own timeout.
template <bool isRequest, class In, class Out>
awaitable<RelayResult> relay_body(In& in, beast::flat_buffer& in_buffer,
                                  http::parser<isRequest, http::buffer_body, ArenaAllocator<char>>& p,
                                  Out& out, std::string_view head, OutFraming out_framing, char* buf, size_t size,
                                  std::chrono::milliseconds read_timeout, std::chrono::milliseconds write_timeout,
                                  BodyTap* tap = nullptr) {
  auto& body = p.get().body();
  uint64_t moved = 0;
  for (;;) {
    size_t n = 0;
    if (!p.is_done()) {
      body.data = buf;
      body.size = size;
      in.expires_after(read_timeout);
      // read_some: forward what has arrived instead of waiting for a full buffer, so a
      // stream flows at its own pace and a broken upstream still delivers what it sent.
      auto [ec, got] = co_await http::async_read_some(in, in_buffer, p, use_nothrow);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return RelayResult{RelayFailure::Input, ec, moved};
      n = size - body.size;
      moved += n;
      // A read that only consumed framing (a chunk header) has nothing to pass on yet.
      if (n == 0 && !p.is_done()) continue;
      if (tap && n) tap->take(buf, n);
    }
    FramedWrite w(head, buf, n, p.is_done(), out_framing);
    head = {};
    if (!w.empty()) {
      out.expires_after(write_timeout);
      auto [ec, wrote] = co_await asio::async_write(out, w.buffers(), use_nothrow);
      if (ec) co_return RelayResult{RelayFailure::Output, ec, moved};
    }
    if (p.is_done()) co_return RelayResult{RelayFailure::None, {}, moved};
  }
}

}  // namespace gantry::proxy
