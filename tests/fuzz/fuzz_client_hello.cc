// The ClientHello reader of TLS passthrough listeners: any bytes a client sends first.
// It must answer NeedMore, Complete or NotTls without reading past its input, and a name
// it returns must lie inside that input (or be its own copy, for split records).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../../proxy/src/client_hello.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto got = gantry::proxy::parse_client_hello(in);
  volatile size_t sink = 0;
  for (char c : got.server_name) sink = sink + static_cast<unsigned char>(c);
  return 0;
}
