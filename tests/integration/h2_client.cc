#include "h2_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "tls_client.h"

namespace gantry::test {

struct H2Client::Impl {
  int fd = -1;  // plain; with TLS the connection's own
  std::unique_ptr<TlsConnection> tls;
  nghttp2_session* session = nullptr;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds timeout{0};
  // The stream being waited for.
  int32_t stream = -1;
  H2Response* response = nullptr;
  bool stream_closed = false;
  std::string upload;
  size_t upload_at = 0;

  ~Impl() {
    if (session) nghttp2_session_del(session);
    if (fd >= 0 && !tls) ::close(fd);
  }
  ssize_t send_bytes(const uint8_t* data, size_t n) {
    if (tls) return SSL_write(tls->ssl, data, static_cast<int>(n));
    return ::send(fd, data, n, MSG_NOSIGNAL);
  }
  ssize_t recv_bytes(uint8_t* data, size_t n) {
    if (tls) return SSL_read(tls->ssl, data, static_cast<int>(n));
    return ::recv(fd, data, n, 0);
  }
  bool flush() {
    for (;;) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session, &data);
      if (n < 0) return false;
      if (n == 0) return true;
      for (ssize_t sent = 0; sent < n;) {
        ssize_t w = send_bytes(data + sent, static_cast<size_t>(n - sent));
        if (w <= 0) return false;
        sent += w;
      }
    }
  }
  // Reads and feeds until the awaited stream closes; false on EOF, timeout or error.
  bool pump(std::string& error) {
    uint8_t buf[16384];
    while (!stream_closed) {
      if (!flush()) {
        error = "write failed";
        return false;
      }
      if (stream_closed) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        error = "timeout";
        return false;
      }
      ssize_t n = recv_bytes(buf, sizeof buf);
      if (n <= 0) {
        error = "connection closed";
        return false;
      }
      if (nghttp2_session_mem_recv(session, buf, static_cast<size_t>(n)) < 0) {
        error = "protocol error";
        return false;
      }
    }
    return true;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (frame->hd.stream_id != self->stream || !self->response) return 0;
    std::string n(reinterpret_cast<const char*>(name), namelen), v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") self->response->status = std::atoi(v.c_str());
    else self->response->headers.emplace_back(std::move(n), std::move(v));
    return 0;
  }
  static int on_data(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (id == self->stream && self->response) self->response->body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int on_close(nghttp2_session*, int32_t id, uint32_t code, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (id != self->stream) return 0;
    self->stream_closed = true;
    if (self->response && code != NGHTTP2_NO_ERROR) self->response->reset = code;
    return 0;
  }
  static ssize_t read_upload(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                             nghttp2_data_source*, void* user) {
    auto* self = static_cast<Impl*>(user);
    size_t n = std::min(length, self->upload.size() - self->upload_at);
    std::memcpy(buf, self->upload.data() + self->upload_at, n);
    self->upload_at += n;
    if (self->upload_at == self->upload.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

H2Client::H2Client(const std::string& address, uint16_t port, const Tls* tls, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  if (tls) {
    static constexpr std::string_view kAlpn("\x02h2", 3);
    impl_->tls = tls_connect(address, port, tls->sni, tls->trust_pem, kAlpn, timeout);
    if (!impl_->tls->connected) error_ = "connect failed";
    else if (!impl_->tls->error.empty()) error_ = impl_->tls->error;
    alpn_ = impl_->tls->alpn;
    if (error_.empty() && alpn_ != "h2") error_ = "the server did not choose h2 (ALPN '" + alpn_ + "')";
    impl_->fd = impl_->tls->fd;
  } else {
    impl_->fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(impl_->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(impl_->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1 ||
        ::connect(impl_->fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      error_ = "connect failed";
  }
  if (!error_.empty()) return;
  nghttp2_session_callbacks* cbs;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs, Impl::on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, Impl::on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Impl::on_close);
  nghttp2_session_client_new(&impl_->session, cbs, impl_.get());
  nghttp2_session_callbacks_del(cbs);
  nghttp2_submit_settings(impl_->session, NGHTTP2_FLAG_NONE, nullptr, 0);
  if (!impl_->flush()) error_ = "write failed";
}

H2Client::~H2Client() = default;

H2Response H2Client::request(const std::string& method, const std::string& authority, const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  H2Response r;
  if (!error_.empty()) {
    r.error = error_;
    return r;
  }
  auto nv = [](const std::string& n, const std::string& v) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE};
  };
  const std::string scheme = impl_->tls ? "https" : "http";
  const std::string k_method = ":method", k_scheme = ":scheme", k_authority = ":authority", k_path = ":path";
  std::vector<nghttp2_nv> nva{nv(k_method, method), nv(k_scheme, scheme), nv(k_authority, authority), nv(k_path, path)};
  for (const auto& [n, v] : headers) nva.push_back(nv(n, v));
  impl_->upload = body;
  impl_->upload_at = 0;
  nghttp2_data_provider provider{};
  provider.read_callback = Impl::read_upload;
  impl_->response = &r;
  impl_->stream_closed = false;
  impl_->stream = nghttp2_submit_request(impl_->session, nullptr, nva.data(), nva.size(), body.empty() ? nullptr : &provider,
                                         nullptr);
  impl_->deadline = std::chrono::steady_clock::now() + impl_->timeout;
  if (impl_->stream < 0) {
    r.error = "submit failed";
  } else if (!impl_->pump(r.error)) {
    error_ = r.error;  // the connection is no longer usable
  }
  impl_->response = nullptr;
  return r;
}

}  // namespace gantry::test
