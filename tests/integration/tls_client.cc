#include "tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <vector>

namespace gantry::test {
namespace {

std::string last_error(const char* what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return std::string(what) + (e ? std::string(": ") + buf : "");
}

std::vector<std::string> labels(const std::string& name) {
  std::vector<std::string> out(1);
  for (char c : name) {
    if (c == '.') out.emplace_back();
    else out.back() += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Host name check as Go's crypto/x509 does it (the conformance suite's client): the same
// number of labels, a leftmost "*" standing for one label. OpenSSL's own check refuses
// wildcards like "*.org" that the suite's certificates use.
bool name_matches(const X509* cert, const std::string& host) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  bool match = false;
  const auto want = labels(host);
  for (int i = 0; names && !match && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_DNS) continue;
    std::string pattern(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                        static_cast<size_t>(ASN1_STRING_length(n->d.dNSName)));
    auto have = labels(pattern);
    if (have.size() != want.size()) continue;
    match = true;
    for (size_t l = 0; l < have.size() && match; ++l) match = (l == 0 && have[l] == "*") || have[l] == want[l];
  }
  GENERAL_NAMES_free(names);
  return match;
}

}  // namespace

TlsConnection::~TlsConnection() {
  if (ssl) SSL_free(ssl);
  if (ctx) SSL_CTX_free(ctx);
  if (fd >= 0) ::close(fd);
}

std::unique_ptr<TlsConnection> tls_connect(const std::string& address, uint16_t port, const std::string& sni,
                                           const std::string& trust_pem, std::string_view alpn,
                                           std::chrono::milliseconds timeout) {
  auto c = std::make_unique<TlsConnection>();
  c->ctx = SSL_CTX_new(TLS_client_method());
  if (!trust_pem.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(c->ctx);
    BIO* bio = BIO_new_mem_buf(trust_pem.data(), static_cast<int>(trust_pem.size()));
    while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, x);
      X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error();
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, nullptr);
  }
  SSL_CTX_set_alpn_protos(c->ctx, reinterpret_cast<const unsigned char*>(alpn.data()), static_cast<unsigned>(alpn.size()));

  c->fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1 ||
      ::connect(c->fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return c;
  c->connected = true;
  c->ssl = SSL_new(c->ctx);
  SSL_set_fd(c->ssl, c->fd);
  if (!sni.empty()) SSL_set_tlsext_host_name(c->ssl, sni.c_str());
  if (SSL_connect(c->ssl) != 1) {
    long verify = SSL_get_verify_result(c->ssl);
    c->error = verify != X509_V_OK ? std::string("certificate: ") + X509_verify_cert_error_string(verify)
                                   : last_error("handshake");
    return c;
  }
  X509* peer = SSL_get1_peer_certificate(c->ssl);
  if (!trust_pem.empty() && !sni.empty() && !(peer && name_matches(peer, sni))) c->error = "certificate: not valid for " + sni;
  if (peer) {
    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(out, peer);
    char* data = nullptr;
    long n = BIO_get_mem_data(out, &data);
    c->peer_pem.assign(data, static_cast<size_t>(n));
    BIO_free(out);
    X509_free(peer);
  }
  const unsigned char* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(c->ssl, &proto, &len);
  c->alpn.assign(reinterpret_cast<const char*>(proto), len);
  return c;
}

RawResult tls_exchange(const std::string& address, uint16_t port, const std::string& sni,
                       const std::string& trust_pem, const std::string& request, std::chrono::milliseconds timeout,
                       std::string* peer_pem) {
  RawResult r;
  auto start = std::chrono::steady_clock::now();
  static constexpr std::string_view kAlpn("\x08http/1.1", 9);
  auto c = tls_connect(address, port, sni, trust_pem, kAlpn, timeout);
  r.connected = c->connected;
  if (!c->connected) return r;
  r.tls_error = c->error;
  if (r.tls_error.empty()) {
    if (peer_pem) *peer_pem = c->peer_pem;
    size_t sent = 0;
    while (sent < request.size()) {
      int n = SSL_write(c->ssl, request.data() + sent, static_cast<int>(request.size() - sent));
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    char buf[65536];
    for (;;) {
      if (std::chrono::steady_clock::now() - start >= timeout) break;
      int n = SSL_read(c->ssl, buf, sizeof buf);
      if (n <= 0) {
        r.closed = true;
        break;
      }
      r.response.append(buf, static_cast<size_t>(n));
    }
  }
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return r;
}

std::string served_subject(uint16_t port, const std::string& servername) {
  return run("echo | openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
             (servername.empty() ? " -noservername" : " -servername " + servername) +
             " 2>/dev/null | openssl x509 -noout -subject 2>/dev/null")
      .out;
}

}  // namespace gantry::test
