#include "gantry/controller/objects/base64.h"

#include <openssl/evp.h>

#include <cctype>

namespace gantry::controller {

std::optional<std::string> base64_decode(std::string_view text) {
  std::string in;
  in.reserve(text.size());
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) in += c;
  if (in.size() % 4 != 0) return std::nullopt;
  // '=' only as the last one or two characters: EVP_DecodeBlock would take "ab=c".
  const size_t first_pad = in.find('=');
  const size_t pad = first_pad == std::string::npos ? 0 : in.size() - first_pad;
  if (pad > 2 || (pad && in.find_first_not_of('=', first_pad) != std::string::npos)) return std::nullopt;
  if (in.empty()) return std::string();
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return out;
}

}  // namespace gantry::controller
