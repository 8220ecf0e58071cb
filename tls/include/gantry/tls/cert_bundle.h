// CertBundle: a validated certificate chain and private key in PEM.
#pragma once

#include <string>
#include <vector>

#include "gantry/common/result.h"

namespace gantry::tls {

struct CertBundle {
  std::string cert_pem;
  std::string key_pem;
  std::vector<std::string> dns_names;  // subjectAltName DNS entries of the leaf
};

// Checks that cert_pem holds at least one certificate, key_pem a private key, and
// that the key belongs to the leaf. The message names what is wrong.
Result<CertBundle> parse_cert_bundle(std::string cert_pem, std::string key_pem);

}  // namespace gantry::tls
