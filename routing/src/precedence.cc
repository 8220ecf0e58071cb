#include "gantry/routing/precedence.h"

#include "gantry/routing/snapshot.h"

namespace gantry::routing {

PrecedenceKey make_precedence_key(const RouteMatch& match, std::string created, std::string route_id,
                                  int rule, int match_index) {
  PrecedenceKey k;
  switch (match.path.type) {
    case PathMatchType::Exact: k.path_kind = 0; break;
    case PathMatchType::PathPrefix: k.path_kind = 1; break;
    case PathMatchType::RegularExpression: k.path_kind = 2; break;
  }
  std::string_view v = match.path.value;
  if (match.path.type == PathMatchType::PathPrefix)
    while (v.size() > 1 && v.back() == '/') v.remove_suffix(1);
  k.neg_path_length = -static_cast<int64_t>(v.size());
  k.no_method = match.method.empty() ? 1 : 0;
  k.neg_headers = -static_cast<int64_t>(match.headers.size());
  k.neg_query = -static_cast<int64_t>(match.query.size());
  k.created = std::move(created);
  k.route_id = std::move(route_id);
  k.rule = rule;
  k.match = match_index;
  return k;
}

PrecedenceKey make_grpc_precedence_key(int64_t service_length, int64_t method_length, size_t headers,
                                       std::string created, std::string route_id, int rule, int match_index) {
  PrecedenceKey k;
  k.neg_path_length = -service_length;
  k.neg_grpc_method = -method_length;
  k.neg_headers = -static_cast<int64_t>(headers);
  k.created = std::move(created);
  k.route_id = std::move(route_id);
  k.rule = rule;
  k.match = match_index;
  return k;
}

}  // namespace gantry::routing
