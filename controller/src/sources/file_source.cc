#include "gantry/controller/sources/file_source.h"

#include <fstream>
#include <set>
#include <sstream>

namespace gantry::controller {
namespace fs = std::filesystem;
namespace {

bool is_manifest(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

std::set<std::string> list_files(const std::vector<std::string>& paths, std::vector<std::string>& errors) {
  std::set<std::string> out;
  for (const std::string& path : paths) {
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      errors.push_back(path + ": no such file or directory");
      continue;
    }
    if (fs::is_regular_file(status)) {
      out.insert(path);
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      // Editors write dot-files beside the one being saved; they are not manifests.
      if (it->path().filename().string().starts_with(".")) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && is_manifest(it->path())) out.insert(it->path().string());
    }
  }
  return out;
}

}  // namespace

ScanReport FileSource::scan() {
  ScanReport report;
  std::set<std::string> present = list_files(paths_, report.errors);
  for (auto it = files_.begin(); it != files_.end();) {
    if (!present.count(it->first)) {
      report.notes.push_back(it->first + ": removed");
      it = files_.erase(it);
      report.changed = true;
    } else {
      ++it;
    }
  }
  for (const std::string& path : present) {
    std::error_code ec;
    auto mtime = fs::last_write_time(path, ec);
    auto size = fs::file_size(path, ec);
    if (ec) continue;  // vanished between listing and reading; the next scan sees it
    auto found = files_.find(path);
    if (found != files_.end() && found->second.mtime == mtime && found->second.size == size) continue;
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = parse_manifest(path, text.str());
    FileState& state = files_[path];
    state.mtime = mtime;
    state.size = size;
    if (!parsed) {
      report.errors.push_back(parsed.error().message);
      continue;  // keep the last good objects of this file
    }
    for (auto& note : parsed->ignored) report.notes.push_back(std::move(note));
    state.objects = std::move(parsed->objects);
    report.changed = true;
  }
  return report;
}

ObjectStore FileSource::build_store() {
  ObjectStore store;
  std::set<std::string> seen;
  for (auto& [path, state] : files_) {
    for (const DecodedObject& d : state.objects) {
      Object object = d.object;
      ObjectMeta& meta = meta_of(object);
      std::string id = d.kind + "/" + key_of(meta);
      seen.insert(id);
      auto [gen, inserted] = generations_.try_emplace(id, Generation{d.spec, 1});
      if (!inserted && gen->second.spec != d.spec) {
        gen->second.spec = d.spec;
        ++gen->second.generation;
      }
      meta.generation = gen->second.generation;
      store.upsert(std::move(object));
    }
  }
  // An object deleted and created again starts over at generation 1, as in a cluster.
  for (auto it = generations_.begin(); it != generations_.end();)
    it = seen.count(it->first) ? std::next(it) : generations_.erase(it);
  store.complete_namespaces();
  return store;
}

}  // namespace gantry::controller
