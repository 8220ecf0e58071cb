// A TLS client for tests: one exchange over TLS with SNI, verifying the server against a
// given PEM as the only trust anchor (a self-signed leaf is accepted as one).
#pragma once

#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

#include "harness.h"

namespace gantry::test {

// A TLS connection over a blocking socket (reads and writes time out after `timeout`),
// verified as tls_exchange says; `alpn` in wire format ("\x02h2"). `connected`: the TCP
// connect worked; `error`: why the handshake or the verification failed, empty when not.
struct TlsConnection {
  ~TlsConnection();
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  bool connected = false;
  std::string error;
  std::string alpn;      // the protocol the server chose; empty: none
  std::string peer_pem;  // the server's first certificate
};
std::unique_ptr<TlsConnection> tls_connect(const std::string& address, uint16_t port, const std::string& sni,
                                           const std::string& trust_pem, std::string_view alpn,
                                           std::chrono::milliseconds timeout);

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
