#include "gantry/controller/sources/kube_config.h"

#include "gantry/controller/objects/base64.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gantry::controller {
namespace fs = std::filesystem;
namespace {

Result<std::string> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error{p.string() + ": cannot be read"};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::string> base64(const std::string& text, const std::string& what) {
  auto decoded = base64_decode(text);
  if (!decoded) return Error{what + " is not base64"};
  return std::move(*decoded);
}

// `name` as a file (relative to `base`) or `name-data` as base64, whichever is set.
Result<std::string> file_or_data(const YAML::Node& node, const std::string& name, const fs::path& base) {
  if (const auto data = node[name + "-data"]; data && data.IsScalar()) return base64(data.as<std::string>(), name + "-data");
  if (const auto file = node[name]; file && file.IsScalar()) {
    fs::path p = file.as<std::string>();
    return read_all(p.is_absolute() ? p : base / p);
  }
  return std::string();
}

const YAML::Node find_named(const YAML::Node& list, const std::string& name, const char* field) {
  if (list && list.IsSequence())
    for (const auto& item : list)
      if (item["name"] && item["name"].as<std::string>() == name) return item[field];
  return YAML::Node();
}

// "https://host:port" (the port defaults to 443); IPv6 literals keep their brackets off.
Result<bool> parse_server(const std::string& server, KubeConfig& out) {
  std::string rest = server;
  if (rest.starts_with("https://")) rest = rest.substr(8);
  else return Error{"server " + server + ": only https:// API servers are supported"};
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  std::string host = rest, port;
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string::npos) return Error{"server " + server + ": unbalanced ["};
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  out.host = host;
  if (!port.empty()) {
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (*end || p < 1 || p > 65535) return Error{"server " + server + ": bad port"};
    out.port = static_cast<int>(p);
  }
  return true;
}

}  // namespace

std::string KubeConfig::bearer() const {
  if (!token_file.empty()) {
    auto t = read_all(token_file);
    if (t) {
      std::string s = *t;
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
      return s;
    }
  }
  return token;
}

Result<KubeConfig> load_kubeconfig(const std::string& path) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Error{path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
  const fs::path base = fs::path(path).parent_path();
  if (!doc["current-context"]) return Error{path + ": no current-context"};
  const std::string current = doc["current-context"].as<std::string>();
  const YAML::Node context = find_named(doc["contexts"], current, "context");
  if (!context) return Error{path + ": context " + current + " not found"};
  const std::string cluster_name = context["cluster"] ? context["cluster"].as<std::string>() : "";
  const std::string user_name = context["user"] ? context["user"].as<std::string>() : "";
  const YAML::Node cluster = find_named(doc["clusters"], cluster_name, "cluster");
  if (!cluster || !cluster["server"]) return Error{path + ": cluster " + cluster_name + " has no server"};

  KubeConfig out;
  if (context["namespace"]) out.ns = context["namespace"].as<std::string>();
  if (auto ok = parse_server(cluster["server"].as<std::string>(), out); !ok) return Error{path + ": " + ok.error().message};
  if (cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>()) out.verify = false;
  auto ca = file_or_data(cluster, "certificate-authority", base);
  if (!ca) return Error{path + ": " + ca.error().message};
  out.ca_pem = *ca;

  const YAML::Node user = find_named(doc["users"], user_name, "user");
  if (user) {
    if (user["token"]) out.token = user["token"].as<std::string>();
    if (user["tokenFile"]) {
      fs::path p = user["tokenFile"].as<std::string>();
      out.token_file = (p.is_absolute() ? p : base / p).string();
    }
    auto cert = file_or_data(user, "client-certificate", base);
    auto key = file_or_data(user, "client-key", base);
    if (!cert) return Error{path + ": " + cert.error().message};
    if (!key) return Error{path + ": " + key.error().message};
    out.client_cert_pem = *cert;
    out.client_key_pem = *key;
    if (out.client_cert_pem.empty() != out.client_key_pem.empty())
      return Error{path + ": user " + user_name + " has a client certificate without its key, or a key without its certificate"};
  }
  return out;
}

Result<KubeConfig> in_cluster_config(const std::string& dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host) return Error{"--in-cluster: KUBERNETES_SERVICE_HOST is not set (not in a pod?)"};
  KubeConfig out;
  std::string server = std::string("https://") + (std::string(host).find(':') != std::string::npos ? "[" + std::string(host) + "]" : host) +
                       ":" + (port && *port ? port : "443");
  if (auto ok = parse_server(server, out); !ok) return Error{"--in-cluster: " + ok.error().message};
  auto ca = read_all(fs::path(dir) / "ca.crt");
  if (!ca) return Error{"--in-cluster: " + ca.error().message};
  out.ca_pem = *ca;
  out.token_file = (fs::path(dir) / "token").string();
  if (auto ns = read_all(fs::path(dir) / "namespace"); ns && !ns->empty()) {
    out.ns = *ns;
    while (!out.ns.empty() && std::isspace(static_cast<unsigned char>(out.ns.back()))) out.ns.pop_back();
  }
  return out;
}

}  // namespace gantry::controller
