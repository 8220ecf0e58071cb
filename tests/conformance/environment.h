// Environment: what a cluster would give the conformance suite, made of files and
// processes. Manifests go into a directory gantry serves; echo Deployments become
// gantry-echo processes; their Services get EndpointSlices; status is read from /status.
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../integration/harness.h"

namespace gantry::conformance {

namespace json = boost::json;

inline constexpr const char* kClassName = "gateway-conformance";
inline constexpr const char* kControllerName = "gantry.dev/gateway-controller";

struct EchoInstance {
  std::string ns, deployment, pod;
  std::map<std::string, std::string> labels;
  uint16_t port = 0;      // the contract's HTTP_PORT (3000)
  uint16_t h2c_port = 0;  // its H2C_PORT (3001)
  std::filesystem::path log;
  std::unique_ptr<test::Process> process;
};

class Environment {
 public:
  Environment(std::filesystem::path corpus, std::filesystem::path work);
  ~Environment();

  // Fixtures, manifests.yaml, echo processes, EndpointSlices, gantry. Empty on success.
  std::string start();

  // Case objects: loaded from corpus files (placeholders substituted) into case.yaml.
  std::string apply_case(const std::vector<std::string>& files);
  void clear_case();
  bool patch(const std::string& kind, const std::string& ns, const std::string& name, const json::value& merge_patch);
  bool remove(const std::string& kind, const std::string& ns, const std::string& name);
  // Sets a slice's endpoints to a Deployment's echo instances (runtime_patches).
  bool set_slice_endpoints(const std::string& ns, const std::string& name, const std::string& deploy_ns,
                           const std::string& deployment);

  json::array status() const;  // the items of /status
  std::optional<json::object> object_status(const std::string& kind, const std::string& ns,
                                            const std::string& name) const;
  std::optional<int64_t> generation(const std::string& kind, const std::string& ns, const std::string& name) const;
  std::string gateway_address(const std::string& ns, const std::string& name) const;
  uint16_t mapped_port(int port) const;
  const std::vector<std::unique_ptr<EchoInstance>>& echoes() const { return echoes_; }
  std::string gantry_log() const;
  // tls.crt of a Secret generated from fixtures.yaml; empty when there is none.
  std::string certificate(const std::string& ns, const std::string& name) const;
  // Gateways the readiness wait leaves out: those annotated
  // gateway-api/skip-this-for-readiness.
  bool readiness_exempt(const std::string& ns, const std::string& name) const;

 private:
  std::string load(const std::string& file, std::vector<json::value>& out) const;
  std::string generate_secrets();
  void write_case();
  void write_base();
  std::vector<json::value> slices_for(const std::vector<json::value>& docs) const;
  json::value* find(const std::string& kind, const std::string& ns, const std::string& name);

  std::filesystem::path corpus_, work_, manifests_;
  std::vector<json::value> base_;
  std::vector<json::value> case_;
  std::vector<std::unique_ptr<EchoInstance>> echoes_;
  std::set<int> ports_;
  std::map<std::string, std::string> certificates_;  // "namespace/name" -> tls.crt of generated Secrets
  std::unique_ptr<test::Process> gantry_;
  uint16_t admin_ = 0;
};

}  // namespace gantry::conformance
