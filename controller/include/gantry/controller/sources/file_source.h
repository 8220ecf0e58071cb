// FileSource: the objects of every *.yaml / *.yml file under the given paths.
// A file that fails to parse keeps its last good objects; the error is reported.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gantry/controller/objects/decode.h"
#include "gantry/controller/store/object_store.h"

namespace gantry::controller {

struct ScanReport {
  bool changed = false;               // the set of objects differs from the last scan
  std::set<std::string> changed_kinds;  // kinds of the objects added, removed or changed
  std::vector<std::string> errors;    // "file:line: message", one per bad file
  std::vector<std::string> notes;     // unknown kinds ignored, files added or removed
};

class FileSource {
 public:
  explicit FileSource(std::vector<std::string> paths) : paths_(std::move(paths)) {}

  // Looks at every file again; re-reads those whose identity (device, inode), size or
  // modification time changed: an editor's rename or a volume's `..data` swap gives a
  // new inode even when size and time match.
  ScanReport scan();

  // The objects of the last good version of every file. In file mode the controller keeps
  // metadata.generation itself: 1 when an object first appears, +1 when its spec changes.
  ObjectStore build_store();

 private:
  struct FileState {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0;
    std::vector<DecodedObject> objects;  // last good
  };
  struct Generation {
    std::string spec;
    int64_t generation = 1;
  };

  std::vector<std::string> paths_;
  std::map<std::string, FileState> files_;
  std::map<std::string, Generation> generations_;  // "Kind/namespace/name"
};

}  // namespace gantry::controller
