#include "gantry/controller/sources/kube_client.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/json/parse.hpp>

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
}

KubeClient::~KubeClient() = default;

KubeClient::Response KubeClient::get(const std::string& target) {
  httplib::Headers headers{{"Accept", "application/json"}};
  if (std::string token = config_.bearer(); !token.empty()) headers.emplace("Authorization", "Bearer " + token);
  Response out;
  auto res = http_->Get(target.c_str(), headers);
  if (!res) {
    if (res.error() == httplib::Error::SSLServerVerification)
      out.error = "GET " + target + ": the API server's certificate does not verify against the configured CA (" +
                  X509_verify_cert_error_string(http_->get_openssl_verify_result()) + ")";
    else
      out.error = "GET " + target + ": " + httplib::to_string(res.error());
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

}  // namespace gantry::controller
