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
#include "gantry/controller/sources/source.h"
#include "gantry/controller/store/object_store.h"

namespace gantry::controller {

using ScanReport = ChangeReport;

class FileSource : public Source {
 public:
  explicit FileSource(std::vector<std::string> paths) : paths_(std::move(paths)) {}

  // Looks at every file again; re-reads those whose identity (device, inode), size or
  // modification time changed: an editor's rename or a volume's `..data` swap gives a
  // new inode even when size and time match.
  ScanReport scan();
  ChangeReport changes() override { return scan(); }

  // The objects of the last good version of every file, kept up to date by scan(): a
  // changed file upserts and deletes only its own objects, so the cost of a change is the
  // size of the file, not of the whole tree. In file mode the controller keeps
  // metadata.generation itself: 1 when an object first appears, +1 when its spec changes.
  // An object defined in two files is the later file's (by path) while both hold it.
  const ObjectStore& store() const override { return store_; }

 private:
  // What a file's last good version held: the objects themselves live in the store only.
  struct Held {
    std::string id;  // "Kind/namespace/name"
    uint64_t hash = 0;
  };
  struct FileState {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0;
    std::vector<Held> objects;  // last good
  };
  struct Generation {
    uint64_t spec_hash = 0;
    int64_t generation = 1;
  };

  // Applies one file's new objects over its old ones (either may be empty).
  // Returns what the file now holds.
  std::vector<Held> apply(const std::string& file, const std::vector<Held>& before, std::vector<DecodedObject> after,
                          std::set<std::string>& changed_kinds, std::set<std::string>& changed_objects);

  std::vector<std::string> paths_;
  std::map<std::string, FileState> files_;
  std::map<std::string, Generation> generations_;  // "Kind/namespace/name"
  std::map<std::string, std::set<std::string>> owners_;  // "Kind/namespace/name" -> files holding it
  ObjectStore store_;
  bool namespace_erased_ = false;
};

}  // namespace gantry::controller
