// parse_client_hello against real ClientHellos (OpenSSL's, made in memory BIOs), cut and
// re-framed every way a network can deliver them, and against bytes that are not one.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <string>

#include "../../../proxy/src/client_hello.h"

namespace gantry::proxy {
namespace {

// The first flight of an OpenSSL client: its ClientHello records.
std::string client_hello(const char* server_name, bool big = false) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  if (server_name) SSL_set_tlsext_host_name(ssl, server_name);
  if (big) {
    // ALPN padded out so the ClientHello needs two records.
    std::string alpn;
    for (int i = 0; i < 90; ++i) alpn += std::string(1, static_cast<char>(200)) + std::string(200, 'p');
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn.data()), static_cast<unsigned>(alpn.size()));
  }
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_connect(ssl);  // wants to read the ServerHello: the ClientHello is in `out`
  std::string bytes;
  char buf[4096];
  for (int n; (n = BIO_read(out, buf, sizeof buf)) > 0;) bytes.append(buf, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return bytes;
}

// The same handshake message in records of at most `size` bytes each.
std::string reframe(const std::string& records, size_t size) {
  std::string message;
  for (size_t at = 0; at + 5 <= records.size();) {
    const size_t len = (static_cast<uint8_t>(records[at + 3]) << 8) | static_cast<uint8_t>(records[at + 4]);
    message += records.substr(at + 5, len);
    at += 5 + len;
  }
  std::string out;
  for (size_t at = 0; at < message.size(); at += size) {
    const std::string part = message.substr(at, size);
    out += std::string{22, 3, 1, static_cast<char>(part.size() >> 8), static_cast<char>(part.size() & 0xff)} + part;
  }
  return out;
}

TEST(ClientHello, TheServerNameOfARealClientHello) {
  const std::string hello = client_hello("shop.example.com");
  const ClientHello got = parse_client_hello(hello);
  ASSERT_EQ(got.state, ClientHello::State::Complete);
  EXPECT_EQ(got.server_name, "shop.example.com");
}

TEST(ClientHello, EveryPrefixAsksForMore) {
  const std::string hello = client_hello("shop.example.com");
  for (size_t n = 0; n < hello.size(); ++n)
    ASSERT_EQ(parse_client_hello(std::string_view(hello).substr(0, n)).state, ClientHello::State::NeedMore) << n;
}

TEST(ClientHello, NoServerNameIsCompleteWithNone) {
  const ClientHello got = parse_client_hello(client_hello(nullptr));
  EXPECT_EQ(got.state, ClientHello::State::Complete);
  EXPECT_TRUE(got.server_name.empty());
}

TEST(ClientHello, AMessageSplitAcrossRecords) {
  const std::string hello = client_hello("api.example.com");
  for (size_t size : {1, 7, 64, 300}) {
    const std::string split = reframe(hello, size);
    const ClientHello got = parse_client_hello(split);
    ASSERT_EQ(got.state, ClientHello::State::Complete) << size;
    EXPECT_EQ(got.server_name, "api.example.com") << size;
    EXPECT_EQ(parse_client_hello(std::string_view(split).substr(0, split.size() - 1)).state,
              ClientHello::State::NeedMore);
  }
  const std::string big = client_hello("big.example.com", true);  // OpenSSL itself needs two records
  EXPECT_GT(big.size(), 16384u);
  EXPECT_EQ(parse_client_hello(big).server_name, "big.example.com");
}

TEST(ClientHello, WhatIsNotAClientHelloIsSaidAtOnce) {
  EXPECT_EQ(parse_client_hello("GET / HTTP/1.1\r\n").state, ClientHello::State::NotTls);
  EXPECT_EQ(parse_client_hello(std::string("\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00", 10)).state,
            ClientHello::State::NotTls);  // a ServerHello
  EXPECT_EQ(parse_client_hello(std::string("\x17\x03\x03\x00\x01\x00", 6)).state, ClientHello::State::NotTls);
  // A ClientHello whose lengths run past its end.
  std::string hello = client_hello("x.example.com");
  hello[5 + 4 + 2 + 32] = static_cast<char>(0xff);  // legacy_session_id's length
  EXPECT_EQ(parse_client_hello(hello).state, ClientHello::State::NotTls);
}

}  // namespace
}  // namespace gantry::proxy
