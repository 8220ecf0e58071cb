#include "tls_contexts.h"

#include <openssl/ssl.h>

#include "gantry/tls/self_signed.h"

namespace gantry::proxy {
namespace {

// SNI picks the listener scope the way Host does for plain HTTP (most specific
// hostname), and with it the scope's certificate. Unknown names keep the fallback.
int pick_certificate(SSL* ssl, int*, void* arg) {
  const auto* l = static_cast<const TlsContexts::PerListener*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  char buf[256];
  std::string_view host = routing::normalize_host(name, buf, sizeof buf);
  if (l->listener->ingress) {
    // Ingress TLS: the host's own certificate (exact, then one-label wildcard); else the
    // fallback the connection started with.
    if (auto i = l->listener->sni_index.find(host); i && *i < l->sni.size() && l->sni[*i])
      SSL_set_SSL_CTX(ssl, l->sni[*i].get());
    return SSL_TLSEXT_ERR_OK;
  }
  if (auto scope = l->listener->scope_index.find(host); scope && *scope < l->scopes.size() && l->scopes[*scope])
    SSL_set_SSL_CTX(ssl, l->scopes[*scope].get());
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::shared_ptr<const TlsContexts> TlsContexts::build(const routing::SnapshotPtr& snapshot,
                                                      std::vector<std::string>& errors) {
  auto out = std::make_shared<TlsContexts>();
  out->listeners_alive_ = snapshot->listeners;
  for (const routing::Listener& l : *snapshot->listeners) {
    auto per = std::make_unique<PerListener>();
    per->listener = &l;
    if (l.tls && l.ingress) {
      for (const routing::SniCertificate& c : l.sni_certificates) {
        auto made = tls::make_server_context(c.certificate.cert_pem, c.certificate.key_pem);
        if (!made) errors.push_back(l.name + " " + c.host + ": " + made.error().message);
        per->sni.push_back(made ? *made : nullptr);
      }
      const tls::CertBundle& fallback = tls::fallback_certificate();
      auto made = tls::make_server_context(fallback.cert_pem, fallback.key_pem);
      if (made) per->fallback = *made;
      else errors.push_back(l.name + ": the fallback certificate: " + made.error().message);
      std::vector<tls::ServerContextPtr> all = per->sni;
      all.push_back(per->fallback);
      for (const auto& ctx : all) {
        if (!ctx) continue;
        SSL_CTX_set_tlsext_servername_callback(ctx.get(), pick_certificate);
        SSL_CTX_set_tlsext_servername_arg(ctx.get(), per.get());
      }
    } else if (l.tls) {
      for (const routing::ListenerScope& scope : l.scopes) {
        tls::ServerContextPtr ctx;
        if (!scope.certificates.empty()) {
          const routing::TlsCertificate& c = scope.certificates.front();
          auto made = tls::make_server_context(c.cert_pem, c.key_pem);
          if (made) ctx = *made;
          else errors.push_back(scope.name + ": " + made.error().message);
        }
        // The catch-all scope's certificate, else the first one, serves clients without SNI.
        if (ctx && (!per->fallback || scope.hostname.empty())) per->fallback = ctx;
        per->scopes.push_back(std::move(ctx));
      }
      for (const auto& ctx : per->scopes) {
        if (!ctx) continue;
        SSL_CTX_set_tlsext_servername_callback(ctx.get(), pick_certificate);
        SSL_CTX_set_tlsext_servername_arg(ctx.get(), per.get());
      }
    }
    out->listeners_.push_back(std::move(per));
  }
  return out;
}

SSL* TlsContexts::new_connection(size_t index) const {
  if (index >= listeners_.size() || !listeners_[index]->fallback) return nullptr;
  return SSL_new(listeners_[index]->fallback.get());
}

}  // namespace gantry::proxy
