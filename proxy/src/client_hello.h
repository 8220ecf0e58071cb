// The server name of a TLS ClientHello, read without terminating TLS (passthrough
// listeners): RFC 8446 section 4.1.2 inside a TLS record (section 5.1), the server_name
// extension of RFC 6066 section 3. Only what the SNI needs is checked; the bytes go to
// the backend as they came, and the backend's TLS judges the rest.
#pragma once

#include <string_view>

namespace gantry::proxy {

struct ClientHello {
  enum class State {
    NeedMore,  // a prefix of a ClientHello: read more
    Complete,  // `server_name` is set (empty: the client sent none)
    NotTls,    // not a TLS handshake, or a malformed or oversized ClientHello
  };
  State state = State::NeedMore;
  std::string_view server_name;  // points into the bytes parsed
};

// A ClientHello may span several records; its handshake message is at most kMaxClientHello bytes.
inline constexpr size_t kMaxClientHello = 64 * 1024;

ClientHello parse_client_hello(std::string_view bytes);

}  // namespace gantry::proxy
