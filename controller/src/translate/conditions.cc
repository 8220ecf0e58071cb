#include <re2/re2.h>

#include "context.h"

namespace gantry::controller::translate_detail {

json::object condition(std::string_view type, bool status, std::string_view reason, std::string_view message,
                       int64_t generation) {
  // lastTransitionTime is left out: translation has no clock, and `gantry translate`
  // must print the same bytes on every run.
  return json::object{{"type", type},
                      {"status", status ? "True" : "False"},
                      {"reason", reason},
                      {"message", message},
                      {"observedGeneration", generation}};
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::shared_ptr<const re2::RE2> compile_regex(const Context& ctx, const std::string& pattern) {
  if (ctx.options.regex_cache) return ctx.options.regex_cache->regex(pattern);
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  return std::make_shared<const re2::RE2>(pattern, opts);
}

json::object status_item(std::string_view kind, const ObjectMeta& meta, json::object status) {
  return status_item(std::string(kGatewayGroup) + "/v1", kind, meta, std::move(status));
}

json::object status_item(std::string_view api_version, std::string_view kind, const ObjectMeta& meta,
                         json::object status) {
  json::object md;
  if (!meta.ns.empty()) md["namespace"] = meta.ns;
  md["name"] = meta.name;
  md["generation"] = meta.generation;
  return json::object{{"apiVersion", api_version},
                      {"kind", kind},
                      {"metadata", std::move(md)},
                      {"status", std::move(status)}};
}

}  // namespace gantry::controller::translate_detail
