#include "api_double.h"

#include <openssl/pem.h>

#include "../support/self_signed.h"

namespace gantry::test {
namespace {

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
  X509_free(x);
  EVP_PKEY_free(k);
  server_->Get(R"((/api/v1/[a-z]+|/apis/[a-z0-9.]+/[a-z0-9]+/[a-z]+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 if (req.get_param_value("watch") == "1") watch(req, res, req.path);
                 else list(req, res, req.path);
               });
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
    res.status = code;
    res.set_content(boost::json::serialize(boost::json::object{{"kind", "Status"}, {"apiVersion", "v1"},
                                                               {"status", "Failure"}, {"reason", reason},
                                                               {"message", message}, {"code", code}}),
                    "application/json");
  };
  if (options_.client_ca_pem.empty() && req.get_header_value("Authorization") != "Bearer " + options_.token)
    return status(401, "Unauthorized", "Unauthorized");
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
  const auto& all = collections_[collection];
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
  std::string line = boost::json::serialize(boost::json::object{{"type", type}, {"object", std::move(object)}}) + "\n";
  for (auto& w : watches_)
    if (w->collection == collection) {
      w->pending += line;
      w->split = split;
    }
  wake_.notify_all();
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
    if (options_.client_ca_pem.empty() && req.get_header_value("Authorization") != "Bearer " + options_.token) {
      res.status = 401;
      res.set_content(R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401})",
                      "application/json");
      return;
    }
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
