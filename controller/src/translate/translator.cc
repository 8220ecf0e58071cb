#include "gantry/controller/translate/translator.h"

#include <arpa/inet.h>

#include "context.h"

namespace gantry::controller {

Result<AddressPool> parse_address_pool(std::string_view cidr) {
  size_t slash = cidr.find('/');
  std::string ip(cidr.substr(0, slash));
  AddressPool pool;
  in_addr a;
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return Error{"--address-pool: " + ip + " is not an IPv4 address"};
  if (slash != std::string_view::npos) {
    std::string bits(cidr.substr(slash + 1));
    char* end = nullptr;
    long p = std::strtol(bits.c_str(), &end, 10);
    if (bits.empty() || *end || p < 8 || p > 32) return Error{"--address-pool: prefix /" + bits + " must be 8-32"};
    pool.prefix = static_cast<int>(p);
  }
  uint32_t mask = pool.prefix == 32 ? 0xffffffffu : ~((1u << (32 - pool.prefix)) - 1);
  pool.network = ntohl(a.s_addr) & mask;
  return pool;
}

Result<std::map<uint16_t, uint16_t>> parse_port_map(std::string_view text) {
  std::map<uint16_t, uint16_t> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string item(text.substr(0, comma));
    unsigned from = 0, to = 0;
    char extra = 0;
    if (std::sscanf(item.c_str(), "%u:%u%c", &from, &to, &extra) != 2 || from == 0 || to == 0 || from > 65535 ||
        to > 65535)
      return Error{"--port-map: '" + item + "' is not FROM:TO with ports 1-65535"};
    out[static_cast<uint16_t>(from)] = static_cast<uint16_t>(to);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

TranslateResult translate(const ObjectStore& store, const TranslateOptions& options) {
  using namespace translate_detail;
  Context ctx{store, options, {}, {}, {}, {}, {}, {}, {}, {}};
  json::array classes, gateways, routes, ingresses;
  translate_gateway_classes(ctx, classes);
  translate_gateways(ctx);
  translate_http_routes(ctx, routes);
  write_gateway_status(ctx, gateways);
  translate_ingresses(ctx, ingresses);

  TranslateResult result;
  for (auto* part : {&classes, &gateways, &routes, &ingresses})
    for (auto& item : *part) result.status.push_back(std::move(item));
  routing::finalize(ctx.listeners, options.regex_cache);
  if (options.regex_cache) options.regex_cache->sweep();
  result.snapshot = std::move(ctx.snapshot);
  result.snapshot.listeners = std::make_shared<const routing::Listeners>(std::move(ctx.listeners));
  return result;
}

}  // namespace gantry::controller
