#include "gantry/controller/sources/kube_client.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

namespace gantry::controller {
namespace {

struct BioFree { void operator()(BIO* b) const { BIO_free(b); } };

// Every certificate of a PEM bundle, in a store the client's SSL_CTX takes over.
X509_STORE* store_of(const std::string& pem) {
  X509_STORE* store = X509_STORE_new();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
  }
  return store;
}

}  // namespace

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

KubeClient::KubeClient(KubeConfig config) : config_(std::move(config)) {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  if (!config_.client_cert_pem.empty()) {
    std::unique_ptr<BIO, BioFree> c(BIO_new_mem_buf(config_.client_cert_pem.data(), static_cast<int>(config_.client_cert_pem.size())));
    std::unique_ptr<BIO, BioFree> k(BIO_new_mem_buf(config_.client_key_pem.data(), static_cast<int>(config_.client_key_pem.size())));
    cert = PEM_read_bio_X509(c.get(), nullptr, nullptr, nullptr);
    key = PEM_read_bio_PrivateKey(k.get(), nullptr, nullptr, nullptr);
  }
  http_ = cert && key ? std::make_unique<httplib::SSLClient>(config_.host, config_.port, cert, key)
                      : std::make_unique<httplib::SSLClient>(config_.host, config_.port);
  X509_free(cert);
  EVP_PKEY_free(key);
  http_->enable_server_certificate_verification(config_.verify);
  if (config_.verify && !config_.ca_pem.empty()) http_->set_ca_cert_store(store_of(config_.ca_pem));
  http_->set_connection_timeout(5, 0);
  http_->set_read_timeout(30, 0);
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);  // a request's head and body go as two writes: no Nagle wait between them
}

KubeClient::~KubeClient() = default;

void KubeClient::stop() { http_->stop(); }

namespace {

// What an answerless request says: a certificate that does not verify is named as such.
std::string failure(const std::string& what, httplib::Error error, httplib::SSLClient& http) {
  if (error == httplib::Error::SSLServerVerification)
    return what + ": the API server's certificate does not verify against the configured CA (" +
           X509_verify_cert_error_string(http.get_openssl_verify_result()) + ")";
  return what + ": " + httplib::to_string(error);
}

httplib::Headers headers_for(const KubeConfig& config) {
  httplib::Headers headers{{"Accept", "application/json"}};
  if (std::string token = config.bearer(); !token.empty()) headers.emplace("Authorization", "Bearer " + token);
  return headers;
}

}  // namespace

KubeClient::Response KubeClient::get(const std::string& target) {
  Response out;
  auto res = http_->Get(target.c_str(), headers_for(config_));
  if (!res) {
    out.error = failure("GET " + target, res.error(), *http_);
    return out;
  }
  out.status = res->status;
  out.body = std::move(res->body);
  return out;
}

KubeClient::Response KubeClient::send(const std::string& method, const std::string& target, const std::string& body,
                                      const std::string& content_type) {
  Response out;
  httplib::Result res = method == "POST"  ? http_->Post(target.c_str(), headers_for(config_), body, content_type.c_str())
                        : method == "PUT" ? http_->Put(target.c_str(), headers_for(config_), body, content_type.c_str())
                                          : http_->Patch(target.c_str(), headers_for(config_), body, content_type.c_str());
  if (!res) {
    out.error = failure(method + " " + target, res.error(), *http_);
    return out;
  }
  out.status = res->status;
  out.body = std::move(res->body);
  return out;
}

Result<KubeClient::List> KubeClient::list(const std::string& path, int page_size) {
  const char sep = path.find('?') == std::string::npos ? '?' : '&';
  for (int attempt = 0; attempt < 3; ++attempt) {
    List out;
    std::string cont;
    bool expired = false;
    do {
      std::string target = path + sep + "limit=" + std::to_string(page_size);
      if (!cont.empty()) target += "&continue=" + url_encode(cont);
      Response r = get(target);
      if (r.status == 0) return Error{r.error};
      if (r.status == 410 && !cont.empty()) {
        expired = true;  // the snapshot the pages came from is gone: from the start
        break;
      }
      if (r.status != 200) return Error{"GET " + target + ": " + std::to_string(r.status) + " " + r.body.substr(0, 200)};
      boost::system::error_code ec;
      auto v = boost::json::parse(r.body, ec);
      if (ec || !v.is_object()) return Error{"GET " + target + ": the answer is not a JSON object"};
      const auto& o = v.as_object();
      const auto* md = o.if_contains("metadata");
      const auto* items = o.if_contains("items");
      if (items && items->is_array())
        for (const auto& item : items->as_array()) out.items.push_back(item);
      cont.clear();
      if (md && md->is_object()) {
        if (const auto* c = md->as_object().if_contains("continue"); c && c->is_string()) cont = c->as_string();
        if (const auto* rv = md->as_object().if_contains("resourceVersion"); rv && rv->is_string() && out.resource_version.empty())
          out.resource_version = rv->as_string();
      }
    } while (!cont.empty());
    if (!expired) return out;
  }
  return Error{"LIST " + path + ": the continue token kept expiring"};
}

KubeClient::WatchEnd KubeClient::watch(const std::string& path, const std::string& resource_version,
                                       int timeout_seconds,
                                       const std::function<bool(const boost::json::object& event)>& on_event) {
  std::string target = path + (path.find('?') == std::string::npos ? "?" : "&") +
                       "watch=1&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(timeout_seconds);
  if (!resource_version.empty()) target += "&resourceVersion=" + url_encode(resource_version);
  const httplib::Headers headers = headers_for(config_);

  WatchEnd end;
  boost::json::stream_parser parser;
  std::string error_body;  // a non-200 answer's body, for the message
  bool stopped = false, broken = false;
  int status = 0;
  // The server's own timeout ends the stream; ours only guards against a silent one.
  http_->set_read_timeout(timeout_seconds + 30, 0);
  auto res = http_->Get(
      target.c_str(), headers,
      [&](const httplib::Response& r) {
        status = r.status;
        return true;
      },
      [&](const char* data, size_t size) {
        if (status != 200) {
          error_body.append(data, std::min<size_t>(size, 512));
          return true;
        }
        // Events are JSON objects back to back (newline-separated); one may span chunks and
        // one chunk may hold several.
        while (size > 0) {
          boost::system::error_code ec;
          size_t used = parser.write_some(data, size, ec);
          if (ec) {
            broken = true;
            return false;
          }
          data += used;
          size -= used;
          if (!parser.done()) continue;
          boost::json::value v = parser.release();
          parser.reset();
          if (!v.is_object()) continue;
          const auto& event = v.as_object();
          if (const auto* obj = event.if_contains("object"); obj && obj->is_object())
            if (const auto* md = obj->as_object().if_contains("metadata"); md && md->is_object())
              if (const auto* rv = md->as_object().if_contains("resourceVersion"); rv && rv->is_string())
                end.last_resource_version = rv->as_string();
          if (!on_event(event)) {
            stopped = true;
            return false;
          }
          // Whitespace between events is skipped by the next value's parse.
        }
        return true;
      });
  http_->set_read_timeout(30, 0);
  end.status = status;
  if (broken) {
    end.status = 0;
    end.error = "GET " + target + ": the watch stream is not JSON";
  } else if (!res && !stopped) {
    // Cut mid-stream (or never answered): the caller reconnects from the last version seen.
    end.error = "GET " + target + ": " + httplib::to_string(res.error());
    if (status == 0) end.status = 0;
  } else if (status != 200) {
    end.error = "GET " + target + ": " + std::to_string(status) + " " + error_body;
  }
  return end;
}

}  // namespace gantry::controller
