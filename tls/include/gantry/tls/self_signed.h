// The fallback certificate: self-signed, made once per process, served by the Ingress
// HTTPS listener to names without a usable certificate of their own (ingress-nginx's
// "Fake Certificate").
#pragma once

#include "gantry/common/result.h"
#include "gantry/tls/cert_bundle.h"

namespace gantry::tls {

inline constexpr const char* kFallbackCommonName = "Gantry Ingress Fallback Certificate";

// A new P-256 key and a certificate for it, valid for ten years from now.
Result<CertBundle> make_self_signed(const std::string& common_name);

// The process's fallback certificate, made on the first call.
const CertBundle& fallback_certificate();

}  // namespace gantry::tls
