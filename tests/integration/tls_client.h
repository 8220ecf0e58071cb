// A TLS client for tests: one exchange over TLS with SNI, verifying the server against a
// given PEM as the only trust anchor (a self-signed leaf is accepted as one).
#pragma once

#include <string>

#include "harness.h"

namespace gantry::test {

// `sni` empty: no server name is sent and the name is not checked. `trust_pem` empty: the
// certificate is not verified. The first certificate the server presented is returned
// in `peer_pem` when asked for.
RawResult tls_exchange(const std::string& address, uint16_t port, const std::string& sni,
                       const std::string& trust_pem, const std::string& request, std::chrono::milliseconds timeout,
                       std::string* peer_pem = nullptr);

// The subject of the certificate `openssl s_client` is shown on 127.0.0.1:`port` for
// `servername` (empty: no SNI), as openssl x509 prints it; "" when no handshake.
std::string served_subject(uint16_t port, const std::string& servername);

}  // namespace gantry::test
