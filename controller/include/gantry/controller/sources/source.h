// Source: where objects come from: manifest files (FileSource) or the API server (KubeSource).
// The reconciler asks a source what changed since it last asked and reads the store the
// source keeps up to date; it never knows which kind of source it has, so translation
// never does either. A source wakes the controller thread through a descriptor of its own
// (inotify for files), which the serve loop polls beside the signals.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "gantry/controller/store/object_store.h"

namespace gantry::controller {

struct ChangeReport {
  bool changed = false;                   // the set of objects differs from the last report
  bool status_changed = false;            // an object's status alone changed (cluster mode)
  std::set<std::string> changed_kinds;    // kinds of the objects added, removed or changed
  std::set<std::string> changed_objects;  // and the objects themselves: "Kind/namespace/name"
  std::vector<std::string> errors;        // what could not be read ("file:line: message"); its last good objects stay
  std::vector<std::string> notes;         // unknown kinds ignored, files added or removed
};

class Source {
 public:
  virtual ~Source() = default;
  // What changed since the last call, applied to store() already.
  virtual ChangeReport changes() = 0;
  virtual const ObjectStore& store() const = 0;
  // Whether the store holds a whole first view of its objects; until then the reconciler
  // publishes nothing (a half-listed cluster would serve 404s for routes it has).
  virtual bool synced() const { return true; }
};

}  // namespace gantry::controller
