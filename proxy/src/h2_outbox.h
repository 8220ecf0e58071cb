// H2Outbox: the body bytes queued for one stream's DATA frames, and the trailers that
// follow them: what an nghttp2 data source reads, for a response to a client (an
// H2Connection stream) and for a request to a backend (an H2Call) alike.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

typedef struct nghttp2_session nghttp2_session;

namespace gantry::proxy {

using H2FieldList = std::vector<std::pair<std::string, std::string>>;

struct H2Outbox {
  std::string data;
  size_t at = 0;           // what of `data` nghttp2 has taken
  bool done = false;       // nothing follows what is queued
  bool deferred = false;   // the data source said "later": resume it when bytes come
  H2FieldList trailers;    // sent after the last DATA, when any
  size_t queued() const { return data.size() - at; }
  // nghttp2's data source read for stream `id`: up to `length` bytes into `buf`; at the
  // end EOF, with the trailers submitted; NGHTTP2_ERR_DEFERRED while empty and not done.
  ssize_t read(nghttp2_session* ng, int32_t id, uint8_t* buf, size_t length, uint32_t* flags);
};

}  // namespace gantry::proxy
