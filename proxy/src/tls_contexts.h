// TlsContexts: the OpenSSL contexts of one snapshot's HTTPS listeners, built once on the
// control thread when the snapshot is published and then only read by the workers.
// A certificate's context is keyed by its bytes (chain and key) and carried over from the
// previous build, so a change elsewhere parses no PEM and checks no key again. Each
// listener's connections start on an entry context of its own (no certificate, the SNI
// callback): a shared certificate context never points back into one snapshot.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gantry/routing/snapshot.h"
#include "gantry/tls/server_context.h"

typedef struct ssl_st SSL;

namespace gantry::proxy {

class TlsContexts {
 public:
  // Listeners whose certificates fail to load (the translator checked them, so this is
  // rare) get no context and refuse handshakes; `errors` says why. The contexts belong to
  // the snapshot's listeners: a snapshot with the same listeners can use them as they are.
  static std::shared_ptr<const TlsContexts> build(const routing::SnapshotPtr& snapshot,
                                                  std::vector<std::string>& errors,
                                                  const TlsContexts* previous = nullptr);

  // A new server-side SSL for a connection on listener `index` of the snapshot, or null
  // when that listener is plain HTTP. The certificate is chosen by SNI during the
  // handshake among the listener's scopes (Gateway listeners sharing the port).
  SSL* new_connection(size_t index) const;
  const routing::Listeners* listeners() const { return listeners_alive_.get(); }
  // Certificate contexts this build made from PEM; the others came from `previous`.
  size_t made() const { return made_; }

  struct PerListener {
    const routing::Listener* listener = nullptr;
    tls::ServerContextPtr entry;                // connections start here; holds the SNI callback
    std::vector<tls::ServerContextPtr> scopes;  // index-aligned with listener->scopes
    tls::ServerContextPtr fallback;             // for clients without (matching) SNI
    std::vector<tls::ServerContextPtr> sni;     // Ingress: index-aligned with listener->sni_certificates
  };

 private:
  std::shared_ptr<const routing::Listeners> listeners_alive_;  // the listeners the callbacks read
  std::vector<std::unique_ptr<PerListener>> listeners_;
  std::map<std::string, tls::ServerContextPtr, std::less<>> by_bytes_;  // cert_pem + "\n" + key_pem
  size_t made_ = 0;
};

}  // namespace gantry::proxy
