// Internal: what the Ingress translation steps share (ingress.cc, ingress_tls.cc,
// ingress_routes.cc).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "context.h"
#include "ingress_annotations.h"

namespace gantry::controller::translate_detail {

// One Ingress of our class, with its annotations read and the warnings it collects.
struct OurIngress {
  const Ingress* ingress = nullptr;
  IngressAnnotations annotations;
  json::array warnings;  // [{reason, message}]
  std::optional<std::optional<routing::Mirror>> mirror;  // mirror-target, once resolved
  void warn(std::string_view reason, std::string message) {
    warnings.push_back(json::object{{"reason", reason}, {"message", std::move(message)}});
  }
};

// One path of one host: an IngressRule path, or a default backend for the host's
// unmatched paths (`fallback`).
struct IngressPath {
  OurIngress* owner = nullptr;
  std::string path;
  std::string type;  // Exact, Prefix, ImplementationSpecific
  uint32_t cluster = routing::kInvalidCluster;
  int rule = 0, index = 0;  // in the owner's spec; rule -1 for a default backend
  routing::Boxed<routing::Canary> canary;
};

struct IngressHost {
  std::vector<IngressPath> paths;
  const OurIngress* regex_cause = nullptr;  // use-regex or rewrite-target on this host
  bool tls = false;                         // named in some Ingress's spec.tls
  std::optional<std::string> redirect_to;   // from-to-www-redirect: only a redirect to this host
  const OurIngress* redirect_owner = nullptr;  // the Ingress that asked for it
};

// Ingress TLS -> the certificates of the ingress HTTPS listener, chosen by SNI; hosts whose
// Secret is missing or unusable are warned about and get the fallback certificate.
void resolve_ingress_tls(const Context& ctx, std::vector<OurIngress>& ours, std::map<std::string, IngressHost>& hosts,
                         std::vector<routing::SniCertificate>& out);

// The hosts' paths as routes in one ingress listener's scope. `https`: the copy on the
// HTTPS listener (no ssl-redirect there).
void emit_ingress_routes(Context& ctx, const std::map<std::string, IngressHost>& hosts, bool https,
                         routing::ListenerScope& scope);


}  // namespace gantry::controller::translate_detail
