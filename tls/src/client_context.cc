#include "gantry/tls/client_context.h"

#include <openssl/ssl.h>

namespace gantry::tls {

Result<ClientContextPtr> make_client_context() {
  ClientContextPtr ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return Error{"SSL_CTX_new for upstream TLS failed"};
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  // Resumed sessions make a new pooled connection to the same endpoint cheap.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT);
  return ctx;
}

}  // namespace gantry::tls
