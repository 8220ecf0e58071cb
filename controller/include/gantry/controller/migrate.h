// Migrate: the Ingresses Gantry serves (with their ingress-nginx annotations) written as
// Gateway API objects, and the proof that both sets route alike.
//
// The objects are written from the Ingress translation's own routes, so what the
// translator decides (paths merged per host, the oldest Ingress winning a conflict,
// default backends, canaries, host-wide regex mode, from-to-www, app-root, ssl-redirect)
// is what is carried over: one Gateway (an HTTP listener, an HTTPS listener per TLS host),
// an HTTPRoute per Ingress and host (a second one on HTTP where ssl-redirect sends plain
// requests to HTTPS), ReferenceGrants for certificates in other namespaces. What Gateway
// API cannot say is a comment at the HTTPRoute and a note in `notes`.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gantry/common/result.h"
#include "gantry/controller/store/object_store.h"
#include "gantry/controller/translate/translator.h"

namespace gantry::controller {

struct MigrateOptions {
  std::string gateway_name = "gantry";
  std::string gateway_namespace = "default";
  std::string gateway_class = "gantry";
};

struct MigrateResult {
  std::string yaml;                // multi-document, comments included
  std::vector<std::string> notes;  // "Ingress ns/name: what did not carry over"
};

MigrateResult migrate_ingresses(const ObjectStore& store, const TranslateOptions& translate,
                                const MigrateOptions& options);

// One request of the proof, derived from an Ingress route: its host, a path at, inside or
// just outside the route's path, and the canary header or cookie it carries.
struct MigrationProbe {
  bool https = false;
  std::string host, target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string describe() const;
};

// A probe the two sets decide differently. `listed`: a difference the notes already name
// (Gateway API cannot express it), with the reason; it does not fail the proof.
struct MigrationDifference {
  MigrationProbe probe;
  std::string ingress, gateway;
  std::string listed;
};

struct MigrationProof {
  size_t compared = 0;
  std::vector<MigrationDifference> differences;
  size_t unlisted() const;
};

// Translates `store` and `store` with its Ingresses replaced by `migrated`, and routes every
// probe on the Ingress listeners and on the new Gateway's. An error when the migrated
// objects do not parse.
Result<MigrationProof> prove_migration(const ObjectStore& store, const TranslateOptions& translate,
                                       const MigrateOptions& options, const MigrateResult& migrated);

}  // namespace gantry::controller
