#include "h2_outbox.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>

namespace gantry::proxy {

ssize_t H2Outbox::read(nghttp2_session* ng, int32_t id, uint8_t* buf, size_t length, uint32_t* flags) {
  const size_t left = queued();
  const size_t n = std::min(length, left);
  std::memcpy(buf, data.data() + at, n);
  at += n;
  if (at == data.size()) {
    data.clear();
    at = 0;
  }
  if (n == left && done) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!trailers.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      std::vector<nghttp2_nv> t;
      t.reserve(trailers.size());
      for (const auto& [name, value] : trailers)
        t.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                               reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                               NGHTTP2_NV_FLAG_NONE});
      nghttp2_submit_trailer(ng, id, t.data(), t.size());
    }
  } else if (n == 0) {
    deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

}  // namespace gantry::proxy
