// KubeConfig: where the Kubernetes API server is and how to prove who we are, from a
// kubeconfig file (its current context) or from inside a pod (the service account).
// The controller is not the hot path: this is read once; a token file is read again on
// every request so a rotated service-account token is used as soon as it lands.
#pragma once

#include <string>

#include "gantry/common/result.h"

namespace gantry::controller {

struct KubeConfig {
  std::string host;  // the API server's host name or address
  int port = 443;
  std::string ca_pem;  // the server's CA; empty: the server is not verified (insecure-skip-tls-verify)
  bool verify = true;
  std::string token;       // a bearer token given as is
  std::string token_file;  // or one read from this file on each request
  std::string client_cert_pem, client_key_pem;  // client-certificate authentication
  std::string ns = "default";                   // the context's namespace

  // The bearer token to send now ("" when there is none).
  std::string bearer() const;
};

// The kubeconfig at `path`: its current-context's cluster (server, certificate-authority
// or -data, insecure-skip-tls-verify) and user (token, tokenFile, client-certificate and
// client-key, as files or -data). Relative file names are relative to the kubeconfig.
Result<KubeConfig> load_kubeconfig(const std::string& path);

// Inside a pod: KUBERNETES_SERVICE_HOST/PORT and the service account's token, CA and
// namespace under `dir` (/var/run/secrets/kubernetes.io/serviceaccount).
Result<KubeConfig> in_cluster_config(const std::string& dir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace gantry::controller
