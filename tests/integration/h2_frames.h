// Raw HTTP/2 frames for tests: what no well-behaved client sends (floods, resets, blocks
// split by hand), and a parser for what the server answers. RFC 9113 section 4, RFC 7541.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gantry::test {

// Raw HTTP/2 frames, for what no well-behaved client sends.
inline std::string frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f;
  const size_t n = payload.size();
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  f += static_cast<char>(stream >> 24 & 0x7f);
  f += static_cast<char>(stream >> 16);
  f += static_cast<char>(stream >> 8);
  f += static_cast<char>(stream);
  return f + payload;
}
constexpr uint8_t kData = 0, kHeaders = 1, kRstStream = 3, kSettings = 4, kGoaway = 7, kContinuation = 9;
constexpr uint8_t kEndStream = 1, kEndHeaders = 4;
inline const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// HPACK: static-table entries and literals without indexing (RFC 7541 section 6.2.2).
inline std::string literal(uint8_t name_index, const std::string& value) {
  std::string out;
  out += static_cast<char>(name_index);  // 0000xxxx, index < 15
  out += static_cast<char>(value.size());  // < 127, no Huffman
  return out + value;
}
// A string with a 7-bit-prefix length (RFC 7541 section 5.1), no Huffman.
inline std::string hpack_string(const std::string& v) {
  std::string out;
  size_t n = v.size();
  if (n < 127) {
    out += static_cast<char>(n);
  } else {
    out += static_cast<char>(127);
    n -= 127;
    while (n >= 128) {
      out += static_cast<char>(n % 128 + 128);
      n /= 128;
    }
    out += static_cast<char>(n);
  }
  return out + v;
}
// A literal field with a new name, without indexing.
inline std::string literal_new(const std::string& name, const std::string& value) {
  return std::string(1, '\0') + hpack_string(name) + hpack_string(value);
}
inline std::string request_block(const std::string& method_byte, const std::string& authority, const std::string& path = "/") {
  // 0x82 :method GET, 0x83 :method POST; 0x86 :scheme http; :path (index 4), :authority (index 1).
  return method_byte + "\x86" + literal(4, path) + literal(1, authority);
}
inline std::string rst(uint32_t stream, uint32_t code) {
  std::string p;
  for (int s = 24; s >= 0; s -= 8) p += static_cast<char>(code >> s);
  return frame(kRstStream, 0, stream, p);
}

struct Frame {
  uint8_t type, flags;
  uint32_t stream;
  std::string payload;
};
inline std::vector<Frame> parse_frames(const std::string& bytes) {
  std::vector<Frame> out;
  size_t at = 0;
  while (at + 9 <= bytes.size()) {
    auto b = [&](size_t i) { return static_cast<uint8_t>(bytes[at + i]); };
    const size_t len = size_t(b(0)) << 16 | size_t(b(1)) << 8 | b(2);
    if (at + 9 + len > bytes.size()) break;
    out.push_back(Frame{b(3), b(4), (uint32_t(b(5)) & 0x7f) << 24 | uint32_t(b(6)) << 16 | uint32_t(b(7)) << 8 | b(8),
                        bytes.substr(at + 9, len)});
    at += 9 + len;
  }
  return out;
}
inline uint32_t be32(const std::string& s, size_t at) {
  return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 | uint32_t(uint8_t(s[at + 2])) << 8 |
         uint8_t(s[at + 3]);
}
inline const Frame* find_frame(const std::vector<Frame>& frames, uint8_t type, uint32_t stream = ~0u) {
  for (const Frame& f : frames)
    if (f.type == type && (stream == ~0u || f.stream == stream)) return &f;
  return nullptr;
}

}  // namespace gantry::test
