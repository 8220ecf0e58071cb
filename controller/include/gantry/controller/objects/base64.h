// RFC 4648 base64 as Kubernetes writes it (Secret data, kubeconfig *-data fields):
// decoded by OpenSSL, not by hand: a parser of hostile bytes is where a well-kept library
// pays most. Line breaks and spaces are ignored; padding is required where RFC 4648 puts
// it and nowhere else.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gantry::controller {

std::optional<std::string> base64_decode(std::string_view text);

}  // namespace gantry::controller
