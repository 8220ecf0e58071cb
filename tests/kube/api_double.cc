#include "api_double.h"

#include <openssl/pem.h>

#include "../support/self_signed.h"

namespace gantry::test {
namespace {

void status_answer(httplib::Response& res, int code, const std::string& reason, const std::string& message) {
  res.status = code;
  res.set_content(boost::json::serialize(boost::json::object{{"kind", "Status"}, {"apiVersion", "v1"},
                                                             {"status", "Failure"}, {"reason", reason},
                                                             {"message", message}, {"code", code}}),
                  "application/json");
}

// RFC 7386: objects merge key by key, null removes, anything else replaces.
void merge_patch(boost::json::value& target, const boost::json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = boost::json::object{};
  for (const auto& [k, v] : patch.as_object()) {
    if (v.is_null()) target.as_object().erase(k);
    else merge_patch(target.as_object()[k], v);
  }
}

// What the CRDs' and core schemas require of a status's conditions (metav1.Condition).
std::string invalid_status(const boost::json::value& status) {
  if (!status.is_object()) return "status must be an object";
  std::string problem;
  auto conditions = [&](const boost::json::value& list, const std::string& where) {
    if (!list.is_array()) return (void)(problem = where + " must be a list");
    if (list.as_array().size() > 8) problem = where + ": at most 8 conditions";
    for (const auto& c : list.as_array()) {
      const auto* o = c.if_object();
      const auto* st = o ? o->if_contains("status") : nullptr;
      if (!o || !o->contains("type") || !st || !o->contains("reason") || !o->contains("message") ||
          !o->contains("lastTransitionTime"))
        problem = where + ": a condition needs type, status, reason, message and lastTransitionTime";
      else if (*st != "True" && *st != "False" && *st != "Unknown")
        problem = where + ": status must be True, False or Unknown";
    }
  };
  const auto& s = status.as_object();
  if (const auto* c = s.if_contains("conditions")) conditions(*c, "status.conditions");
  for (const char* list : {"listeners", "parents"})
    if (const auto* l = s.if_contains(list); l && l->is_array()) {
      if (std::string(list) == "parents" && l->as_array().size() > 32) problem = "status.parents: at most 32";
      for (const auto& e : l->as_array())
        if (const auto* c = e.is_object() ? e.as_object().if_contains("conditions") : nullptr)
          conditions(*c, std::string("status.") + list + "[].conditions");
    }
  return problem;
}

struct BioFree { void operator()(BIO* b) const { BIO_free(b); } };

std::unique_ptr<BIO, BioFree> bio_of(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

}  // namespace

ApiDouble::ApiDouble(Options options) : options_(std::move(options)) {
  auto cert = make_self_signed("/CN=kube-apiserver", {}, "ec", "-addext 'subjectAltName=IP:127.0.0.1'");
  if (!cert) throw std::runtime_error("openssl could not make the API server's certificate");
  ca_pem_ = cert->crt_pem;
  X509* x = PEM_read_bio_X509(bio_of(cert->crt_pem).get(), nullptr, nullptr, nullptr);
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio_of(cert->key_pem).get(), nullptr, nullptr, nullptr);
  X509_STORE* clients = nullptr;
  if (!options_.client_ca_pem.empty()) {
    clients = X509_STORE_new();
    X509* ca = PEM_read_bio_X509(bio_of(options_.client_ca_pem).get(), nullptr, nullptr, nullptr);
    X509_STORE_add_cert(clients, ca);
    X509_free(ca);
  }
  server_ = std::make_unique<httplib::SSLServer>(x, k, clients);
  server_->set_tcp_nodelay(true);
  // A watch holds its thread for as long as it is open: room for every watch of two
  // replicas, their lists and their writes at once (httplib's default is 8 threads).
  server_->new_task_queue = [] { return new httplib::ThreadPool(64); };
  X509_free(x);
  EVP_PKEY_free(k);
  // Every request under a group version: a collection (list, watch), discovery, an object
  // or its status.
  const std::string any = R"((/api/v1|/apis/[a-z0-9.]+/[a-z0-9]+)(/.*)?)";
  server_->Get(any, [this](const httplib::Request& req, httplib::Response& res) {
    const std::string base = req.matches[1], rest = req.matches[2];
    const size_t segments = std::count(rest.begin(), rest.end(), '/');
    if (rest.empty()) return discovery(req, res, base);
    if (segments == 1 && req.get_param_value("watch") == "1") return watch(req, res, req.path);
    if (segments == 1) return list(req, res, req.path);
    object(req, res);
  });
  server_->Put(any, [this](const httplib::Request& req, httplib::Response& res) { object(req, res); });
  server_->Patch(any, [this](const httplib::Request& req, httplib::Response& res) { object(req, res); });
  server_->Post(any, [this](const httplib::Request& req, httplib::Response& res) { create(req, res); });
  port_ = static_cast<uint16_t>(server_->bind_to_any_port("127.0.0.1"));
  // Bound and listening already: connections wait in the backlog until the loop accepts.
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

ApiDouble::~ApiDouble() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void ApiDouble::set_token(const std::string& token) {
  std::lock_guard lock(mutex_);
  options_.token = token;
}

void ApiDouble::add(const std::string& collection, boost::json::object item) {
  std::lock_guard lock(mutex_);
  item["metadata"].as_object()["resourceVersion"] = std::to_string(++resource_version_);
  collections_[collection].push_back(std::move(item));
}

void ApiDouble::expire_continue_tokens() {
  std::lock_guard lock(mutex_);
  expired_before_ = serial_;
}

std::vector<std::string> ApiDouble::targets() const {
  std::lock_guard lock(mutex_);
  return targets_;
}

// A collection's LIST: `limit` items from the offset the continue token carries. The token
// is opaque to clients (base64 with '=' and '/', so it must be URL-encoded to come back).
void ApiDouble::list(const httplib::Request& req, httplib::Response& res, const std::string& collection) {
  ++requests_;
  std::lock_guard lock(mutex_);
  std::string target = req.path;
  for (const auto& [k, v] : req.params) target += (target == req.path ? "?" : "&") + k + "=" + v;
  targets_.push_back(target);
  auto status = [&](int code, const std::string& reason, const std::string& message) {
    status_answer(res, code, reason, message);
  };
  if (!authorized(req, res)) return;
  if (unserved_.count(collection)) return status(404, "NotFound", "the server could not find the requested resource");
  size_t offset = 0;
  uint64_t serial = 0;
  if (req.has_param("continue")) {
    // "<serial>/<offset>=" in base64-ish clothing.
    if (std::sscanf(req.get_param_value("continue").c_str(), "c%lu/%zu=", &serial, &offset) != 2)
      return status(400, "BadRequest", "continue token not understood");
    if (serial <= expired_before_)
      return status(410, "Expired", "The provided continue parameter is too old to display a consistent list result.");
  }
  size_t limit = req.has_param("limit") ? std::stoul(req.get_param_value("limit")) : 0;
  // The one field selector the client uses: Secrets by type.
  std::vector<boost::json::object> all;
  const std::string selector = req.get_param_value("fieldSelector");
  for (const auto& o : collections_[collection])
    if (!selector.starts_with("type=") || (o.contains("type") && o.at("type") == boost::json::value(selector.substr(5)))) all.push_back(o);
  boost::json::array items;
  size_t end = limit ? std::min(all.size(), offset + limit) : all.size();
  for (size_t i = offset; i < end; ++i) items.push_back(all[i]);
  boost::json::object md{{"resourceVersion", std::to_string(resource_version_)}};
  if (end < all.size()) md["continue"] = "c" + std::to_string(++serial_) + "/" + std::to_string(end) + "=";
  res.set_content(boost::json::serialize(boost::json::object{{"kind", "List"}, {"apiVersion", "v1"},
                                                             {"metadata", std::move(md)}, {"items", std::move(items)}}),
                  "application/json");
}

void ApiDouble::emit(const std::string& collection, const std::string& type, boost::json::object object, size_t split) {
  std::lock_guard lock(mutex_);
  object["metadata"].as_object()["resourceVersion"] = std::to_string(++resource_version_);
  // The collection follows the events, so a later list agrees with them.
  if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") {
    auto& all = collections_[collection];
    const auto& name = object.at("metadata").at("name");
    std::erase_if(all, [&](const boost::json::object& o) { return o.at("metadata").at("name") == name; });
    if (type != "DELETED") all.push_back(object);
  }
  broadcast(collection, type, object, split);
}

void ApiDouble::broadcast(const std::string& collection, const std::string& type, const boost::json::object& object,
                          size_t split) {
  std::string line = boost::json::serialize(boost::json::object{{"type", type}, {"object", object}}) + "\n";
  for (auto& w : watches_)
    if (w->collection == collection) {
      w->pending += line;
      w->split = split;
    }
  wake_.notify_all();
}

void ApiDouble::add_token(const std::string& token) {
  std::lock_guard lock(mutex_);
  tokens_.insert(token);
}

bool ApiDouble::authorized(const httplib::Request& req, httplib::Response& res) {
  const std::string auth = req.get_header_value("Authorization");
  if (!options_.client_ca_pem.empty() || auth == "Bearer " + options_.token ||
      (auth.starts_with("Bearer ") && tokens_.count(auth.substr(7))))
    return true;
  status_answer(res, 401, "Unauthorized", "Unauthorized");
  return false;
}

void ApiDouble::unserve(const std::string& collection) {
  std::lock_guard lock(mutex_);
  unserved_.insert(collection);
}

std::vector<ApiDouble::Patch> ApiDouble::patches() const {
  std::lock_guard lock(mutex_);
  return patches_;
}

std::map<std::string, int> ApiDouble::writes() const {
  std::lock_guard lock(mutex_);
  return writes_;
}

boost::json::object* ApiDouble::find(const std::string& collection, const std::string& ns, const std::string& name) {
  for (auto& o : collections_[collection]) {
    const auto& md = o.at("metadata").as_object();
    const auto* n = md.if_contains("namespace");
    if (md.at("name") == boost::json::value(name) && (n ? n->as_string() == ns : ns.empty())) return &o;
  }
  return nullptr;
}

std::optional<boost::json::object> ApiDouble::get(const std::string& collection, const std::string& ns,
                                                  const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto* self = const_cast<ApiDouble*>(this);
  if (auto* o = self->find(collection, ns, name)) return *o;
  return std::nullopt;
}

// GET /apis/<group>/<version>: an APIResourceList of what the double serves there.
void ApiDouble::discovery(const httplib::Request& req, httplib::Response& res, const std::string& base) {
  ++requests_;
  std::lock_guard lock(mutex_);
  targets_.push_back(req.path);
  if (!authorized(req, res)) return;
  static const std::map<std::string, std::vector<std::string>> kServed{
      {"/apis/gateway.networking.k8s.io/v1", {"gatewayclasses", "gateways", "httproutes", "grpcroutes", "tlsroutes", "referencegrants"}},
      {"/apis/gateway.networking.k8s.io/v1beta1", {"gatewayclasses", "gateways", "httproutes", "referencegrants"}},
      {"/apis/networking.k8s.io/v1", {"ingresses", "ingressclasses"}},
      {"/apis/discovery.k8s.io/v1", {"endpointslices"}},
      {"/apis/coordination.k8s.io/v1", {"leases"}}};
  auto it = kServed.find(base);
  if (it == kServed.end()) return status_answer(res, 404, "NotFound", "the server could not find the requested resource");
  boost::json::array resources;
  for (const auto& name : it->second)
    if (!unserved_.count(base + "/" + name)) resources.push_back(boost::json::object{{"name", name}, {"namespaced", name != "gatewayclasses" && name != "ingressclasses"}});
  res.set_content(boost::json::serialize(boost::json::object{{"kind", "APIResourceList"}, {"groupVersion", base.substr(6)},
                                                             {"resources", std::move(resources)}}),
                  "application/json");
}

namespace {

// ".../namespaces/<ns>/<plural>/<name>[/status]" or ".../<plural>/<name>[/status]" under
// `base`: the collection (base + "/" + plural), namespace, name and whether it is status.
struct ObjectPath {
  std::string collection, ns, name;
  bool status = false;
  bool ok = false;
};

ObjectPath parse_object_path(const std::string& base, const std::string& rest) {
  std::vector<std::string> seg;
  for (size_t i = 1; i <= rest.size();) {
    size_t j = rest.find('/', i);
    if (j == std::string::npos) j = rest.size();
    seg.push_back(rest.substr(i, j - i));
    i = j + 1;
  }
  ObjectPath p;
  size_t at = 0;
  if (seg.size() >= 3 && seg[0] == "namespaces") {
    p.ns = seg[1];
    at = 2;
  }
  if (seg.size() < at + 2) return p;
  p.collection = base + "/" + seg[at];
  p.name = seg[at + 1];
  p.status = seg.size() == at + 3 && seg[at + 2] == "status";
  p.ok = seg.size() == at + 2 || p.status;
  return p;
}

}  // namespace

void ApiDouble::object(const httplib::Request& req, httplib::Response& res) {
  ++requests_;
  std::lock_guard lock(mutex_);
  targets_.push_back(req.method + " " + req.path);
  if (!authorized(req, res)) return;
  const ObjectPath p = parse_object_path(req.matches[1], req.matches[2]);
  auto answer = [&](int code) { ++writes_[req.method + " " + std::to_string(code)]; };
  if (!p.ok) return status_answer(res, 404, "NotFound", "no such path");
  boost::json::object* current = find(p.collection, p.ns, p.name);
  if (!current) {
    if (req.method != "GET") answer(404);
    return status_answer(res, 404, "NotFound", p.name + " not found");
  }
  if (req.method == "GET") return res.set_content(boost::json::serialize(*current), "application/json");
  boost::system::error_code ec;
  auto body = boost::json::parse(req.body, ec);
  const std::string type = req.get_header_value("Content-Type");
  const std::string token = req.get_header_value("Authorization").substr(std::min<size_t>(7, req.get_header_value("Authorization").size()));
  auto refuse = [&](int code, const std::string& reason, const std::string& message) {
    if (req.method == "PATCH") patches_.push_back({req.path, type, req.body, code, token});
    answer(code);
    status_answer(res, code, reason, message);
  };
  if (ec || !body.is_object()) return refuse(400, "BadRequest", "the body is not a JSON object");
  // Optimistic concurrency: a resourceVersion that is not the object's is a conflict.
  const auto* md = body.as_object().if_contains("metadata");
  const auto* rv = md && md->is_object() ? md->as_object().if_contains("resourceVersion") : nullptr;
  if (req.method == "PUT" && std::exchange(conflict_next_put_, false)) rv = nullptr;
  if ((rv || req.method == "PUT") && (!rv || *rv != current->at("metadata").at("resourceVersion")))
    return refuse(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
  if (req.method == "PUT") {
    if (p.status) return refuse(405, "MethodNotAllowed", "the double takes status as PATCH");
    boost::json::object next = body.as_object();
    next["metadata"].as_object()["resourceVersion"] = std::to_string(++resource_version_);
    *current = next;
  } else {
    if (!p.status) return refuse(405, "MethodNotAllowed", "the double takes PATCH on /status only");
    if (int code = std::exchange(fail_next_patch_, 0)) return refuse(code, "ServiceUnavailable", "try again later");
    const bool custom = p.collection.starts_with("/apis/gateway.networking.k8s.io/");
    if (type == "application/strategic-merge-patch+json" && custom)
      return refuse(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                                                 "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
    if (type != "application/merge-patch+json" && type != "application/strategic-merge-patch+json")
      return refuse(415, "UnsupportedMediaType", "the double takes merge patches");
    boost::json::value status = current->contains("status") ? current->at("status") : boost::json::value();
    if (const auto* s = body.as_object().if_contains("status")) merge_patch(status, *s);
    if (std::string problem = invalid_status(status); !problem.empty()) return refuse(422, "Invalid", problem);
    (*current)["status"] = status;
    (*current)["metadata"].as_object()["resourceVersion"] = std::to_string(++resource_version_);
    patches_.push_back({req.path, type, req.body, 200, token});
  }
  answer(200);
  res.set_content(boost::json::serialize(*current), "application/json");
  broadcast(p.collection, "MODIFIED", *current, 4096);
}

// POST <base>/namespaces/<ns>/<plural>: a new object; 409 AlreadyExists if it is there.
void ApiDouble::create(const httplib::Request& req, httplib::Response& res) {
  ++requests_;
  std::lock_guard lock(mutex_);
  targets_.push_back(req.method + " " + req.path);
  if (!authorized(req, res)) return;
  const std::string base = req.matches[1], rest = req.matches[2];
  const size_t plural = rest.rfind('/');
  const std::string collection = base + rest.substr(plural);
  boost::system::error_code ec;
  auto body = boost::json::parse(req.body, ec);
  if (ec || !body.is_object() || !body.as_object().contains("metadata")) {
    ++writes_["POST 400"];
    return status_answer(res, 400, "BadRequest", "the body is not an object with metadata");
  }
  auto& md = body.as_object()["metadata"].as_object();
  const std::string ns = rest.starts_with("/namespaces/") ? rest.substr(12, rest.find('/', 12) - 12) : "";
  if (!ns.empty()) md["namespace"] = ns;
  if (find(collection, ns, std::string(md.at("name").as_string()))) {
    ++writes_["POST 409"];
    return status_answer(res, 409, "AlreadyExists", std::string(md.at("name").as_string()) + " already exists");
  }
  md["resourceVersion"] = std::to_string(++resource_version_);
  collections_[collection].push_back(body.as_object());
  ++writes_["POST 201"];
  res.status = 201;
  res.set_content(boost::json::serialize(body), "application/json");
  broadcast(collection, "ADDED", body.as_object(), 4096);
}

void ApiDouble::erase_silently(const std::string& collection, const std::string& name) {
  std::lock_guard lock(mutex_);
  std::erase_if(collections_[collection], [&](const boost::json::object& o) { return o.at("metadata").at("name").as_string() == name; });
}

void ApiDouble::close_watches() {
  std::lock_guard lock(mutex_);
  for (auto& w : watches_) w->close = true;
  wake_.notify_all();
}

void ApiDouble::cut_watches() {
  std::lock_guard lock(mutex_);
  for (auto& w : watches_) {
    w->pending += R"({"type":"ADDED","object":{"metadata":{"na)";  // half an event, then gone
    w->cut = true;
  }
  wake_.notify_all();
}

int ApiDouble::open_watches() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(watches_.size());
}

// A watch: a chunked 200 whose body is one JSON event per line, written as events come.
void ApiDouble::watch(const httplib::Request& req, httplib::Response& res, const std::string& collection) {
  ++requests_;
  auto w = std::make_shared<Watch>();
  w->collection = collection;
  {
    std::lock_guard lock(mutex_);
    targets_.push_back(req.path + "?watch=1&resourceVersion=" + req.get_param_value("resourceVersion"));
    if (!authorized(req, res)) return;
    const std::string rv = req.get_param_value("resourceVersion");
    if (!rv.empty() && std::stoull(rv) < compacted_) {
      w->pending = R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
                   R"("message":"too old resource version","reason":"Expired","code":410}})" "\n";
      w->close = true;
    }
    watches_.push_back(w);
  }
  res.set_chunked_content_provider("application/json", [this, w](size_t, httplib::DataSink& sink) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_ || !w->pending.empty() || w->close; });
    auto gone = [&] { std::erase(watches_, w); };
    if (stopping_) {
      gone();
      return false;
    }
    while (!w->pending.empty()) {
      size_t n = std::min(w->split, w->pending.size());
      std::string piece = w->pending.substr(0, n);
      w->pending.erase(0, n);
      lock.unlock();
      bool ok = sink.write(piece.data(), piece.size());
      lock.lock();
      if (!ok) {
        gone();
        return false;
      }
    }
    if (w->cut) {
      gone();
      return false;  // the connection is dropped without the chunked terminator
    }
    if (w->close) {
      gone();
      sink.done();
    }
    return true;
  });
}

}  // namespace gantry::test
