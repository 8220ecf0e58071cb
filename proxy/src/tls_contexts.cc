#include "tls_contexts.h"

#include <openssl/ssl.h>

#include "gantry/tls/self_signed.h"

namespace gantry::proxy {
namespace {

// SNI picks the listener scope the way Host does for plain HTTP (most specific
// hostname), and with it the scope's certificate; no name or an unknown one gets the
// listener's fallback. Called for every ClientHello, with or without SNI.
int pick_certificate(SSL* ssl, int*, void* arg) {
  const auto* l = static_cast<const TlsContexts::PerListener*>(arg);
  SSL_CTX* chosen = l->fallback.get();
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
    char buf[256];
    std::string_view host = routing::normalize_host(name, buf, sizeof buf);
    if (l->listener->ingress) {
      // Ingress TLS: the host's own certificate (exact, then one-label wildcard).
      if (auto i = l->listener->sni_index.find(host); i && *i < l->sni.size() && l->sni[*i]) chosen = l->sni[*i].get();
    } else if (auto scope = l->listener->scope_index.find(host);
               scope && *scope < l->scopes.size() && l->scopes[*scope]) {
      chosen = l->scopes[*scope].get();
    }
  }
  SSL_set_SSL_CTX(ssl, chosen);  // never null: a listener has an entry only with a fallback
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::shared_ptr<const TlsContexts> TlsContexts::build(const routing::SnapshotPtr& snapshot,
                                                      std::vector<std::string>& errors, const TlsContexts* previous) {
  auto out = std::make_shared<TlsContexts>();
  out->listeners_alive_ = snapshot->listeners;
  auto context_for = [&](const std::string& cert, const std::string& key, const std::string& what) {
    std::string bytes = cert + "\n" + key;
    if (auto it = out->by_bytes_.find(bytes); it != out->by_bytes_.end()) return it->second;
    tls::ServerContextPtr ctx;
    if (previous)
      if (auto it = previous->by_bytes_.find(bytes); it != previous->by_bytes_.end()) ctx = it->second;
    if (!ctx) {
      auto made = tls::make_server_context(cert, key);
      if (!made) {
        errors.push_back(what + ": " + made.error().message);
        return tls::ServerContextPtr{};
      }
      ctx = *made;
      ++out->made_;
    }
    out->by_bytes_.emplace(std::move(bytes), ctx);
    return ctx;
  };
  for (const routing::Listener& l : *snapshot->listeners) {
    auto per = std::make_unique<PerListener>();
    per->listener = &l;
    if (l.tls && l.ingress) {
      for (const routing::SniCertificate& c : l.sni_certificates)
        per->sni.push_back(context_for(c.certificate.cert_pem, c.certificate.key_pem, l.name + " " + c.host));
      const tls::CertBundle& fallback = tls::fallback_certificate();
      per->fallback = context_for(fallback.cert_pem, fallback.key_pem, l.name + ": the fallback certificate");
    } else if (l.tls) {
      for (const routing::ListenerScope& scope : l.scopes) {
        tls::ServerContextPtr ctx;
        if (!scope.certificates.empty()) {
          const routing::TlsCertificate& c = scope.certificates.front();
          ctx = context_for(c.cert_pem, c.key_pem, scope.name);
        }
        // The catch-all scope's certificate, else the first one, serves clients without SNI.
        if (ctx && (!per->fallback || scope.hostname.empty())) per->fallback = ctx;
        per->scopes.push_back(std::move(ctx));
      }
    }
    if (l.tls && per->fallback) {
      auto entry = tls::make_entry_context();
      if (entry) {
        per->entry = *entry;
        SSL_CTX_set_tlsext_servername_callback(per->entry.get(), pick_certificate);
        SSL_CTX_set_tlsext_servername_arg(per->entry.get(), per.get());
      } else {
        errors.push_back(l.name + ": " + entry.error().message);
      }
    }
    out->listeners_.push_back(std::move(per));
  }
  return out;
}

SSL* TlsContexts::new_connection(size_t index) const {
  if (index >= listeners_.size() || !listeners_[index]->entry) return nullptr;
  return SSL_new(listeners_[index]->entry.get());
}

}  // namespace gantry::proxy
