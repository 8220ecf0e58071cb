#include "client_hello.h"

#include <cstdint>
#include <string>

namespace gantry::proxy {
namespace {

// A reader over the handshake message that fails (rather than reads past) at its end.
struct Cursor {
  std::string_view s;
  bool ok = true;
  uint32_t take(size_t n) {
    if (!ok || s.size() < n) {
      ok = false;
      return 0;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
    s.remove_prefix(n);
    return v;
  }
  std::string_view bytes(size_t n) {
    if (!ok || s.size() < n) {
      ok = false;
      return {};
    }
    std::string_view v = s.substr(0, n);
    s.remove_prefix(n);
    return v;
  }
};

}  // namespace

ClientHello parse_client_hello(std::string_view in) {
  using State = ClientHello::State;
  // The handshake message may be split across records: gather its bytes from each.
  // Records are small in count (a ClientHello rarely needs two); a string keeps it simple,
  // and only the first record is needed when it holds the whole message (the views then
  // point into `in`).
  thread_local std::string joined;
  joined.clear();
  std::string_view message;
  size_t need = 0;  // the handshake message's length, once its header is seen
  bool single = true, first_record = true;
  std::string_view rest = in;
  for (;;) {
    if (rest.size() < 5) return {State::NeedMore, {}};
    const auto type = static_cast<uint8_t>(rest[0]);
    const auto major = static_cast<uint8_t>(rest[1]);
    const size_t length = (static_cast<uint8_t>(rest[3]) << 8) | static_cast<uint8_t>(rest[4]);
    if (type != 22 || major != 3 || length == 0 || length > 16384 + 2048) return {State::NotTls, {}};
    if (rest.size() < 5 + length) {
      // Enough of the header to refuse what is not a ClientHello before waiting for more.
      if (first_record && rest.size() >= 6 && static_cast<uint8_t>(rest[5]) != 1) return {State::NotTls, {}};
      return {State::NeedMore, {}};
    }
    std::string_view fragment = rest.substr(5, length);
    rest.remove_prefix(5 + length);
    if (first_record) {
      message = fragment;
      first_record = false;
    } else {
      if (single) joined.assign(message.data(), message.size());
      single = false;
      joined.append(fragment.data(), fragment.size());
      message = joined;
    }
    if (message.size() >= 4) {
      if (static_cast<uint8_t>(message[0]) != 1) return {State::NotTls, {}};  // not a ClientHello
      need = 4 + ((static_cast<uint8_t>(message[1]) << 16) | (static_cast<uint8_t>(message[2]) << 8) |
                  static_cast<uint8_t>(message[3]));
      if (need > kMaxClientHello) return {State::NotTls, {}};
      if (message.size() >= need) break;
    }
  }
  Cursor c{message.substr(4, need - 4)};
  c.take(2);           // legacy_version
  c.bytes(32);         // random
  c.bytes(c.take(1));  // legacy_session_id
  c.bytes(c.take(2));  // cipher_suites
  c.bytes(c.take(1));  // legacy_compression_methods
  if (!c.ok) return {State::NotTls, {}};
  if (c.s.empty()) return {State::Complete, {}};  // no extensions at all
  Cursor ext{c.bytes(c.take(2))};
  if (!c.ok) return {State::NotTls, {}};
  while (ext.ok && !ext.s.empty()) {
    const uint32_t type = ext.take(2);
    Cursor body{ext.bytes(ext.take(2))};
    if (!ext.ok) break;
    if (type != 0) continue;  // server_name
    Cursor list{body.bytes(body.take(2))};
    while (list.ok && !list.s.empty()) {
      const uint32_t name_type = list.take(1);
      const std::string_view name = list.bytes(list.take(2));
      if (!list.ok) break;
      if (name_type == 0) {  // host_name
        if (!single) {
          // The views must outlive `joined`'s next use: copy into a second buffer.
          thread_local std::string kept;
          kept.assign(name.data(), name.size());
          return {State::Complete, kept};
        }
        return {State::Complete, name};
      }
    }
    return {State::NotTls, {}};  // a server_name extension with no host_name
  }
  if (!ext.ok) return {State::NotTls, {}};
  return {State::Complete, {}};
}

}  // namespace gantry::proxy
