#include "gantry/tls/server_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

namespace gantry::tls {
namespace {

struct BioFree { void operator()(BIO* b) const { BIO_free(b); } };
struct X509Free { void operator()(X509* x) const { X509_free(x); } };
struct PkeyFree { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return e ? buf : "unknown OpenSSL error";
}

// ALPN: h2 when the client offers it (HTTP/2 over TLS, RFC 9113 section 3.2), else http/1.1;
// a client offering neither gets no ALPN and speaks HTTP/1.1 by default.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void*) {
  static const unsigned char kPreferred[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kPreferred, sizeof kPreferred, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

Result<ServerContextPtr> make_entry_context() {
  ServerContextPtr ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return Error{"SSL_CTX_new: " + openssl_error()};
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
  return ctx;
}

Result<ServerContextPtr> make_server_context(const std::string& cert_pem, const std::string& key_pem) {
  auto made = make_entry_context();
  if (!made) return made;
  ServerContextPtr ctx = *made;

  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  std::unique_ptr<X509, X509Free> leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) return Error{"no certificate in tls.crt"};
  if (SSL_CTX_use_certificate(ctx.get(), leaf.get()) != 1) return Error{"certificate: " + openssl_error()};
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    SSL_CTX_add0_chain_cert(ctx.get(), extra);  // the context owns it now
  ERR_clear_error();  // the loop ends on "no start line"

  std::unique_ptr<BIO, BioFree> key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Error{"no private key in tls.key"};
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1)
    return Error{"private key: " + openssl_error()};
  return ctx;
}

}  // namespace gantry::tls
