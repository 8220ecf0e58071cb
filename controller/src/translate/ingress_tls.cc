// Ingress spec.tls: one certificate per host, from a kubernetes.io/tls Secret in the
// Ingress's namespace; the oldest Ingress naming a host decides its certificate.
#include "gantry/tls/cert_bundle.h"
#include "ingress.h"

namespace gantry::controller::translate_detail {
namespace {

// Does a certificate name ("a.example.com", "*.example.com") cover `host`? A wildcard
// covers exactly one label (RFC 6125).
bool name_covers(std::string_view name, std::string_view host) {
  if (name == host) return true;
  if (!name.starts_with("*.")) return false;
  std::string_view suffix = name.substr(1);
  if (host.starts_with("*.")) return host.substr(1) == suffix;
  return host.size() > suffix.size() && host.ends_with(suffix) &&
         host.substr(0, host.size() - suffix.size()).find('.') == std::string_view::npos;
}

}  // namespace

void resolve_ingress_tls(const Context& ctx, std::vector<OurIngress>& ours, std::map<std::string, IngressHost>& hosts,
                         std::vector<routing::SniCertificate>& out) {
  std::set<std::string> decided;
  for (OurIngress& o : ours) {
    if (o.annotations.canary) continue;
    const Ingress& ing = *o.ingress;
    for (const IngressTLS& t : ing.tls) {
      std::optional<tls::CertBundle> bundle;
      std::string problem;
      if (t.secret_name.empty()) {
        problem = "no secretName";
      } else if (auto it = ctx.store.secrets.find(ing.meta.ns + "/" + t.secret_name); it == ctx.store.secrets.end()) {
        problem = "Secret " + ing.meta.ns + "/" + t.secret_name + " not found";
      } else {
        auto crt = it->second.data.find("tls.crt"), key = it->second.data.find("tls.key");
        if (crt == it->second.data.end() || key == it->second.data.end()) {
          problem = "Secret " + ing.meta.ns + "/" + t.secret_name + " has no tls.crt and tls.key";
        } else if (auto b = tls::parse_cert_bundle(crt->second, key->second); !b) {
          problem = "Secret " + ing.meta.ns + "/" + t.secret_name + ": " + b.error().message;
        } else {
          bundle = std::move(*b);
        }
      }
      for (const std::string& raw : t.hosts) {
        std::string host = lower(raw);
        hosts[host].tls = true;
        if (!bundle) {
          o.warn("TLSSecretUnusable", "host " + host + ": " + problem + "; HTTPS for it uses the self-signed fallback certificate");
          continue;
        }
        bool covered = false;
        for (const std::string& n : bundle->dns_names) covered = covered || name_covers(lower(n), host);
        if (!covered) {
          o.warn("TLSCertificateMismatch", "host " + host + ": the certificate of Secret " + ing.meta.ns + "/" +
                                               t.secret_name + " does not name it; HTTPS for it uses the self-signed fallback certificate");
          continue;
        }
        if (!decided.insert(host).second) continue;  // an older Ingress already gave this host its certificate
        out.push_back({host, {bundle->cert_pem, bundle->key_pem, bundle->dns_names}});
      }
    }
  }
  // A host no Ingress names in spec.tls is still answered on the HTTPS listener, as
  // ingress-nginx does, with the fallback certificate.
  for (OurIngress& o : ours) {
    if (o.annotations.canary) continue;
    std::set<std::string> said;
    for (const IngressRule& r : o.ingress->rules) {
      std::string host = lower(r.host);
      auto it = hosts.find(host);
      if (host.empty() || (it != hosts.end() && it->second.tls) || !said.insert(host).second) continue;
      o.warn("NoTLS", "host " + host + " has no spec.tls entry: HTTPS connections for it get the self-signed fallback certificate");
    }
  }
}

}  // namespace gantry::controller::translate_detail
