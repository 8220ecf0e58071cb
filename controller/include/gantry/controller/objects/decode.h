// Decoding: manifest text (YAML, possibly multi-document) -> Boost.JSON values -> typed
// objects. JSON from an API server enters at decode_object, so there is one decoder.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gantry/common/result.h"
#include "gantry/controller/objects/core.h"
#include "gantry/controller/objects/gateway_api.h"
#include "gantry/controller/objects/ingress.h"

namespace gantry::controller {

using Object = std::variant<Namespace, GatewayClass, Gateway, HTTPRoute, GRPCRoute, TLSRoute, ReferenceGrant, Service,
                            EndpointSlice, Secret, Ingress, IngressClass>;

struct DecodedObject {
  Object object;
  std::string kind;
  uint64_t spec_hash = 0;  // of the spec (or the whole object for kinds without one): generation tracking
  uint64_t hash = 0;       // of the whole object as written: tells a changed object from an unchanged one
};

const ObjectMeta& meta_of(const Object& object);
ObjectMeta& meta_of(Object& object);

// Where each value of a decoded document came from, for "file:line" messages.
struct SourceLines;

// Decodes one object. An unknown kind gives an empty optional and no error; a known kind
// with a malformed field gives an error naming the field.
Result<std::optional<DecodedObject>> decode_object(const boost::json::value& value, std::string_view file,
                                                   const SourceLines* lines = nullptr);

struct ManifestFile {
  std::vector<DecodedObject> objects;
  std::vector<std::string> ignored;  // "file:line: kind Foo ignored" for unknown kinds
};

// Parses every document of a manifest file. Any error rejects the whole file, so a
// half-written file never applies half of itself. Messages read "file:line: what".
Result<ManifestFile> parse_manifest(std::string_view file, const std::string& text);

// Every document of a YAML text as a JSON value (tools that edit manifests use this).
Result<std::vector<boost::json::value>> parse_documents(const std::string& text);

// YAML text of one document -> JSON value, scalars typed as YAML 1.2's core schema says
// (quoted scalars stay strings). Exposed for tests.
Result<boost::json::value> yaml_to_json(const std::string& text);

}  // namespace gantry::controller
