// Server-side OpenSSL contexts for TLS termination, one per certificate.
#pragma once

#include <memory>
#include <string>

#include "gantry/common/result.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace gantry::tls {

using ServerContextPtr = std::shared_ptr<SSL_CTX>;

// An SSL_CTX serving `cert_pem` (leaf first, then its chain) with `key_pem`: TLS 1.2 and
// 1.3 only, no renegotiation, and ALPN that answers h2 when offered, else http/1.1.
Result<ServerContextPtr> make_server_context(const std::string& cert_pem, const std::string& key_pem);

// The same settings without a certificate: a listener's first context, whose SNI
// callback switches each connection to the certificate's own (shared) context.
Result<ServerContextPtr> make_entry_context();

}  // namespace gantry::tls
