// The client's configuration for the API double: its address, its CA, a bearer token.
#pragma once

#include "api_double.h"
#include "gantry/controller/sources/kube_config.h"

namespace gantry::test {

inline controller::KubeConfig config_for(const ApiDouble& api, const std::string& token = "t") {
  controller::KubeConfig c;
  c.host = "127.0.0.1";
  c.port = api.port();
  c.ca_pem = api.ca_pem();
  c.token = token;
  return c;
}

}  // namespace gantry::test
