#include "gantry/controller/sources/cluster_resources.h"

#include <boost/json/parse.hpp>

namespace gantry::controller {
namespace {

constexpr const char* kGateway = "/apis/gateway.networking.k8s.io/";

// The resource names a discovery document (an APIResourceList) holds; empty when the
// group version is not served (404).
Result<std::vector<std::string>> served(KubeClient& client, const std::string& group_version) {
  auto res = client.get(group_version);
  if (res.status == 404) return std::vector<std::string>{};
  if (res.status != 200)
    return Error{"discovery " + group_version + ": " + (res.status ? "answered " + std::to_string(res.status) : res.error)};
  boost::system::error_code ec;
  auto doc = boost::json::parse(res.body, ec);
  std::vector<std::string> names;
  if (ec || !doc.is_object()) return Error{"discovery " + group_version + ": not JSON"};
  if (const auto* list = doc.as_object().if_contains("resources"); list && list->is_array())
    for (const auto& r : list->as_array())
      if (r.is_object() && r.as_object().contains("name") && r.as_object().at("name").is_string())
        names.emplace_back(r.as_object().at("name").as_string());
  return names;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

Result<std::vector<KubeResource>> cluster_resources(KubeClient& client) {
  auto v1 = served(client, std::string(kGateway) + "v1");
  if (!v1) return v1.error();
  if (!has(*v1, "gateways") || !has(*v1, "httproutes") || !has(*v1, "gatewayclasses"))
    return Error{"the API server does not serve gateway.networking.k8s.io/v1 gatewayclasses, gateways and httproutes: "
                 "install the Gateway API CRDs first (see the README)"};
  std::string grants = std::string(kGateway) + "v1/referencegrants";
  if (!has(*v1, "referencegrants")) {
    auto beta = served(client, std::string(kGateway) + "v1beta1");
    if (!beta) return beta.error();
    grants = has(*beta, "referencegrants") ? std::string(kGateway) + "v1beta1/referencegrants" : "";
  }
  std::vector<KubeResource> out{
      {"Namespace", "/api/v1/namespaces"},
      {"Service", "/api/v1/services"},
      {"EndpointSlice", "/apis/discovery.k8s.io/v1/endpointslices"},
      {"Secret", "/api/v1/secrets?fieldSelector=" + url_encode("type=kubernetes.io/tls")},
      {"GatewayClass", std::string(kGateway) + "v1/gatewayclasses"},
      {"Gateway", std::string(kGateway) + "v1/gateways"},
      {"HTTPRoute", std::string(kGateway) + "v1/httproutes"},
      {"IngressClass", "/apis/networking.k8s.io/v1/ingressclasses"},
      {"Ingress", "/apis/networking.k8s.io/v1/ingresses"},
  };
  if (!grants.empty()) out.push_back({"ReferenceGrant", grants});
  // GRPCRoute is Standard since v1.1; a cluster with older CRDs has none to watch.
  if (has(*v1, "grpcroutes")) out.push_back({"GRPCRoute", std::string(kGateway) + "v1/grpcroutes"});
  // TLSRoute: v1 since v1.5 (standard), else the experimental v1alpha2.
  if (has(*v1, "tlsroutes")) {
    out.push_back({"TLSRoute", std::string(kGateway) + "v1/tlsroutes"});
  } else if (auto alpha = served(client, std::string(kGateway) + "v1alpha2"); alpha && has(*alpha, "tlsroutes")) {
    out.push_back({"TLSRoute", std::string(kGateway) + "v1alpha2/tlsroutes"});
  }
  return out;
}

}  // namespace gantry::controller
