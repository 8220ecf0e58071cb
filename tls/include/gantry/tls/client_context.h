// Client-side OpenSSL context for TLS to upstream endpoints (ingress-nginx
// backend-protocol HTTPS): TLS 1.2 and 1.3, no certificate verification, as
// ingress-nginx does unless proxy-ssl-verify asks for it.
#pragma once

#include <memory>

#include "gantry/common/result.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace gantry::tls {

using ClientContextPtr = std::shared_ptr<SSL_CTX>;

Result<ClientContextPtr> make_client_context();

}  // namespace gantry::tls
