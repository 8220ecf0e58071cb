#include "environment.h"

#include <httplib.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "../support/self_signed.h"
#include "gantry/controller/objects/decode.h"

namespace gantry::conformance {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string str(const json::value* v) { return v && v->is_string() ? std::string(v->get_string()) : ""; }

std::string kind_of(const json::value& d) { return str(d.as_object().if_contains("kind")); }
std::string ns_of(const json::value& d) {
  const auto* md = d.as_object().if_contains("metadata");
  return md && md->is_object() ? str(md->as_object().if_contains("namespace")) : "";
}
std::string name_of(const json::value& d) {
  const auto* md = d.as_object().if_contains("metadata");
  return md && md->is_object() ? str(md->as_object().if_contains("name")) : "";
}

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void merge(json::value& target, const json::value& patch) {  // RFC 7386
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object{};
  for (const auto& kv : patch.as_object()) {
    if (kv.value().is_null()) target.as_object().erase(kv.key());
    else merge(target.as_object()[kv.key()], kv.value());
  }
}

void collect_ports(const std::vector<json::value>& docs, std::set<int>& ports) {
  for (const auto& d : docs) {
    if (kind_of(d) != "Gateway") continue;
    const auto* spec = d.as_object().if_contains("spec");
    const auto* ls = spec && spec->is_object() ? spec->as_object().if_contains("listeners") : nullptr;
    if (ls && ls->is_array())
      for (const auto& l : ls->as_array())
        if (const auto* p = l.as_object().if_contains("port"); p && p->is_int64()) ports.insert(static_cast<int>(p->as_int64()));
  }
}

std::string write_docs(const std::vector<json::value>& docs) {
  std::string out;
  for (const auto& d : docs) out += "---\n" + json::serialize(d) + "\n";
  return out;
}

}  // namespace

Environment::Environment(fs::path corpus, fs::path work)
    : corpus_(std::move(corpus)), work_(std::move(work)), manifests_(work_ / "manifests") {
  fs::create_directories(manifests_);
}

Environment::~Environment() = default;

std::string Environment::load(const std::string& file, std::vector<json::value>& out) const {
  std::string text = read(corpus_ / "manifests" / file);
  if (text.empty()) return "cannot read manifests/" + file;
  for (auto [from, to] : {std::pair{"{GATEWAY_CLASS_NAME}", kClassName}, std::pair{"{GATEWAY_CONTROLLER_NAME}", kControllerName}})
    for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p)) text.replace(p, std::strlen(from), to);
  auto docs = controller::parse_documents(text);
  if (!docs) return file + ":" + docs.error().message;
  for (auto& d : *docs) {
    if (!d.is_object()) continue;
    // Upstream forces these on what it applies.
    if (kind_of(d) == "Gateway") d.as_object()["spec"].as_object()["gatewayClassName"] = kClassName;
    out.push_back(std::move(d));
  }
  return {};
}

std::vector<json::value> Environment::slices_for(const std::vector<json::value>& docs) const {
  std::vector<json::value> out;
  for (const auto& d : docs) {
    if (kind_of(d) != "Service") continue;
    const auto& spec = d.as_object().at("spec").as_object();
    const auto* sel = spec.if_contains("selector");
    if (!sel || !sel->is_object() || sel->as_object().empty()) continue;
    json::array endpoints;
    const EchoInstance* echo = nullptr;
    for (const auto& e : echoes_) {
      if (e->ns != ns_of(d)) continue;
      bool match = true;
      for (const auto& kv : sel->as_object()) {
        auto it = e->labels.find(kv.key());
        if (it == e->labels.end() || it->second != str(&kv.value())) match = false;
      }
      if (match) {
        echo = e.get();
        endpoints.push_back(json::object{{"addresses", json::array{"127.0.0.1"}}, {"conditions", {{"ready", true}}}});
        break;  // one instance per Deployment: every echo listens on 127.0.0.1
      }
    }
    if (endpoints.empty()) continue;
    json::array ports;
    for (const auto& p : spec.at("ports").as_array()) {
      const auto* target = p.as_object().if_contains("targetPort");
      // The echo's HTTP port (3000) and h2c port (3001) exist here; no other gets an endpoint.
      const int64_t t = target && target->is_int64() ? target->as_int64() : 3000;
      if (t != 3000 && t != 3001) continue;
      ports.push_back(json::object{{"name", str(p.as_object().if_contains("name"))},
                                   {"port", t == 3001 ? echo->h2c_port : echo->port}});
    }
    out.push_back(json::object{
        {"apiVersion", "discovery.k8s.io/v1"},
        {"kind", "EndpointSlice"},
        {"metadata", {{"name", name_of(d) + "-runner"}, {"namespace", ns_of(d)},
                      {"labels", {{"kubernetes.io/service-name", name_of(d)}}}}},
        {"addressType", "IPv4"},
        {"endpoints", std::move(endpoints)},
        {"ports", std::move(ports)}});
  }
  return out;
}

std::string Environment::start() {
  base_.push_back(json::object{{"apiVersion", "gateway.networking.k8s.io/v1"},
                               {"kind", "GatewayClass"},
                               {"metadata", {{"name", kClassName}}},
                               {"spec", {{"controllerName", kControllerName}}}});
  if (auto e = generate_secrets(); !e.empty()) return e;
  if (auto e = load("manifests.yaml", base_); !e.empty()) return e;
  // Echo Deployments become processes; pods are named <deployment>-<hash>-<hash>.
  int index = 0;
  for (const auto& d : base_) {
    if (kind_of(d) != "Deployment") continue;
    const auto& tpl = d.as_object().at("spec").as_object().at("template").as_object();
    const auto& containers = tpl.at("spec").as_object().at("containers").as_array();
    std::string image = str(containers.at(0).as_object().if_contains("image"));
    if (image.find("echo-basic") == std::string::npos) continue;  // TLS, gRPC, TCP backends: not needed
    auto e = std::make_unique<EchoInstance>();
    e->ns = ns_of(d);
    e->deployment = name_of(d);
    e->pod = e->deployment + "-7d9c6b5f4-" + std::to_string(10000 + index++);
    for (const auto& kv : tpl.at("metadata").as_object().at("labels").as_object()) e->labels[kv.key()] = str(&kv.value());
    e->port = test::free_port();
    e->h2c_port = test::free_port();
    e->log = work_ / ("echo-" + e->ns + "-" + e->deployment + ".log");
    e->process = std::make_unique<test::Process>(
        std::vector<std::string>{ECHO_BIN, "--port", std::to_string(e->port), "--h2c-port", std::to_string(e->h2c_port),
                                 "--namespace", e->ns, "--pod", e->pod},
        e->log);
    echoes_.push_back(std::move(e));
  }
  for (const auto& e : echoes_)
    if (!test::wait_for_port(e->port, 5s) || !test::wait_for_port(e->h2c_port, 5s))
      return "echo " + e->deployment + " did not start";
  write_base();

  // Every listener port any manifest names is served on 20000 + port, so no privileges
  // are needed; the runner connects there and still sends the Host a client would.
  for (const auto& entry : fs::directory_iterator(corpus_ / "manifests")) {
    std::vector<json::value> docs;
    if (load(entry.path().filename().string(), docs).empty()) collect_ports(docs, ports_);
  }
  std::string port_map;
  for (int p : ports_) port_map += (port_map.empty() ? "" : ",") + std::to_string(p) + ":" + std::to_string(mapped_port(p));
  admin_ = test::free_port();
  gantry_ = std::make_unique<test::Process>(
      std::vector<std::string>{GANTRY_BIN, "serve", "--manifests", manifests_.string(), "--address-pool",
                               "127.0.1.0/24", "--port-map", port_map, "--admin", "127.0.0.1:" + std::to_string(admin_),
                               "--controller-name", kControllerName, "--workers", "2", "--scan-interval", "50"},
      work_ / "gantry.log");
  for (int i = 0; i < 200; ++i) {
    httplib::Client c("127.0.0.1", admin_);
    if (auto res = c.Get("/healthz"); res && res->status == 200) return {};
    std::this_thread::sleep_for(50ms);
  }
  return "gantry did not start: " + gantry_log();
}

// fixtures.yaml's self-signed TLS Secrets (the ones the included cases use), made with the
// openssl command line as the fixture describes them: RSA 2048 in PKCS#1, CN=default,
// O=Acme Co, server auth, not a CA, the listed DNS names.
std::string Environment::generate_secrets() {
  YAML::Node fixtures = YAML::LoadFile((corpus_ / "fixtures.yaml").string());
  int index = 0;
  for (const auto& s : fixtures["generated_secrets"]) {
    if (!s["self_signed"] || !s["self_signed"].as<bool>()) continue;
    const std::string ns = s["namespace"].as<std::string>(), name = s["name"].as<std::string>();
    std::vector<std::string> dns;
    for (const auto& d : s["dns_names"]) dns.push_back(d.as<std::string>());
    auto cert = test::make_self_signed("/CN=default/O=Acme Co", dns, "rsa:2048",
                                       "-addext 'keyUsage=critical,digitalSignature,keyEncipherment' "
                                       "-addext extendedKeyUsage=serverAuth -addext 'basicConstraints=critical,CA:FALSE'");
    if (!cert) return "openssl could not make the certificate of Secret " + ns + "/" + name;
    // The fixture writes the key as PKCS#1 ("RSA PRIVATE KEY").
    const fs::path key = work_ / ("secret-" + std::to_string(index++) + ".key");
    test::write_file(key, cert->key_pem);
    auto r = test::run("openssl rsa -in '" + key.string() + "' -traditional 2>/dev/null");
    if (r.exit_code != 0) return "openssl could not convert the key of Secret " + ns + "/" + name;
    certificates_[ns + "/" + name] = cert->crt_pem;
    base_.push_back(json::object{{"apiVersion", "v1"},
                                 {"kind", "Secret"},
                                 {"metadata", {{"name", name}, {"namespace", ns}}},
                                 {"type", "kubernetes.io/tls"},
                                 {"data", {{"tls.crt", base64(cert->crt_pem)}, {"tls.key", base64(r.out)}}}});
  }
  return {};
}

std::string Environment::certificate(const std::string& ns, const std::string& name) const {
  auto it = certificates_.find(ns + "/" + name);
  return it == certificates_.end() ? std::string{} : it->second;
}

void Environment::write_base() {
  std::vector<json::value> docs = base_;
  for (auto& s : slices_for(base_)) docs.push_back(std::move(s));
  test::write_file(manifests_ / "base.yaml", write_docs(docs));
}

void Environment::write_case() {
  std::vector<json::value> docs = case_;
  for (auto& s : slices_for(case_)) docs.push_back(std::move(s));
  if (docs.empty()) fs::remove(manifests_ / "case.yaml");
  else test::write_file(manifests_ / "case.yaml", write_docs(docs));
}

std::string Environment::apply_case(const std::vector<std::string>& files) {
  case_.clear();
  for (const auto& f : files) {
    if (f == "manifests.yaml") continue;
    if (auto e = load(f, case_); !e.empty()) return e;
  }
  write_case();
  return {};
}

void Environment::clear_case() {
  case_.clear();
  write_case();
}

json::value* Environment::find(const std::string& kind, const std::string& ns, const std::string& name) {
  for (auto* docs : {&case_, &base_})
    for (auto& d : *docs)
      if (kind_of(d) == kind && name_of(d) == name && (ns.empty() || ns_of(d) == ns)) return &d;
  return nullptr;
}

bool Environment::patch(const std::string& kind, const std::string& ns, const std::string& name,
                        const json::value& merge_patch) {
  json::value* d = find(kind, ns, name);
  if (!d) return false;
  merge(*d, merge_patch);
  write_case();
  write_base();
  return true;
}

bool Environment::remove(const std::string& kind, const std::string& ns, const std::string& name) {
  for (auto* docs : {&case_, &base_})
    for (auto it = docs->begin(); it != docs->end(); ++it)
      if (kind_of(*it) == kind && name_of(*it) == name && (ns.empty() || ns_of(*it) == ns)) {
        docs->erase(it);
        write_case();
        write_base();
        return true;
      }
  return false;
}

bool Environment::set_slice_endpoints(const std::string& ns, const std::string& name, const std::string& deploy_ns,
                                      const std::string& deployment) {
  json::value* d = find("EndpointSlice", ns, name);
  if (!d) return false;
  for (const auto& e : echoes_) {
    if (e->ns != deploy_ns || e->deployment != deployment) continue;
    auto& o = d->as_object();
    o["endpoints"] = json::array{json::object{{"addresses", json::array{"127.0.0.1"}}, {"conditions", {{"ready", true}}}}};
    if (auto* ports = o.if_contains("ports"); ports && ports->is_array())
      for (auto& p : ports->as_array()) p.as_object()["port"] = e->port;
    write_case();
    return true;
  }
  return false;
}

json::array Environment::status() const {
  httplib::Client c("127.0.0.1", admin_);
  auto res = c.Get("/status");
  if (!res || res->status != 200) return {};
  boost::system::error_code ec;
  auto v = json::parse(res->body, ec);
  if (ec) return {};
  return v.as_object().at("items").as_array();
}

std::optional<json::object> Environment::object_status(const std::string& kind, const std::string& ns,
                                                       const std::string& name) const {
  for (const auto& item : status()) {
    const auto& o = item.as_object();
    if (str(o.if_contains("kind")) != kind) continue;
    const auto& md = o.at("metadata").as_object();
    if (str(md.if_contains("name")) != name || str(md.if_contains("namespace")) != ns) continue;
    return o;
  }
  return std::nullopt;
}

std::optional<int64_t> Environment::generation(const std::string& kind, const std::string& ns,
                                               const std::string& name) const {
  auto o = object_status(kind, ns, name);
  if (!o) return std::nullopt;
  return o->at("metadata").as_object().at("generation").as_int64();
}

std::string Environment::gateway_address(const std::string& ns, const std::string& name) const {
  auto o = object_status("Gateway", ns, name);
  if (!o) return {};
  const auto* addrs = o->at("status").as_object().if_contains("addresses");
  if (!addrs || !addrs->is_array() || addrs->as_array().empty()) return {};
  return str(addrs->as_array()[0].as_object().if_contains("value"));
}

bool Environment::readiness_exempt(const std::string& ns, const std::string& name) const {
  for (const auto* docs : {&case_, &base_})
    for (const auto& d : *docs) {
      if (kind_of(d) != "Gateway" || name_of(d) != name || ns_of(d) != ns) continue;
      const auto& md = d.as_object().at("metadata").as_object();
      if (const auto* a = md.if_contains("annotations"); a && a->is_object())
        if (str(a->as_object().if_contains("gateway-api/skip-this-for-readiness")) == "true") return true;
      return false;
    }
  return false;
}

uint16_t Environment::mapped_port(int port) const { return static_cast<uint16_t>(20000 + port); }

std::string Environment::gantry_log() const { return read(work_ / "gantry.log"); }

}  // namespace gantry::conformance
