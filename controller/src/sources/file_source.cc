#include "gantry/controller/sources/file_source.h"

#include <dirent.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

namespace gantry::controller {
namespace fs = std::filesystem;
namespace {

bool is_manifest(std::string_view p) { return p.ends_with(".yaml") || p.ends_with(".yml"); }

// One directory level by readdir's d_type: no stat per entry unless the type is a link
// or unknown (a scan runs on every change; std::filesystem's iterator stats each entry).
// Directory links are not followed (as std::filesystem's default), file links are.
void walk(const std::string& dir, std::set<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    // Editors write dot-files beside the one being saved, volumes keep their data in dot
    // directories; neither are manifests. "." and ".." go with them.
    if (e->d_name[0] == '.') continue;
    std::string path = dir + "/" + e->d_name;
    unsigned char type = e->d_type;
    if (type == DT_LNK || type == DT_UNKNOWN) {
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) continue;
      if (S_ISREG(st.st_mode)) type = DT_REG;
      else if (S_ISDIR(st.st_mode) && e->d_type == DT_UNKNOWN) type = DT_DIR;
      else continue;
    }
    if (type == DT_DIR) walk(path, out);
    else if (type == DT_REG && is_manifest(path)) out.insert(std::move(path));
  }
  ::closedir(d);
}

std::set<std::string> list_files(const std::vector<std::string>& paths, std::vector<std::string>& errors) {
  std::set<std::string> out;
  for (const std::string& path : paths) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      errors.push_back(path + ": no such file or directory");
      continue;
    }
    if (S_ISREG(st.st_mode)) out.insert(path);
    else if (S_ISDIR(st.st_mode)) walk(path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path, out);
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
      apply(it->first, it->second.objects, {}, report.changed_kinds, report.changed_objects);
      it = files_.erase(it);
      report.changed = true;
    } else {
      ++it;
    }
  }
  for (const std::string& path : present) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;  // vanished between listing and reading; the next scan sees it
    const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    auto found = files_.find(path);
    if (found != files_.end() && found->second.dev == st.st_dev && found->second.ino == st.st_ino &&
        found->second.size == static_cast<uint64_t>(st.st_size) && found->second.mtime_ns == mtime_ns)
      continue;
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = parse_manifest(path, text.str());
    FileState& state = files_[path];
    state.dev = st.st_dev;
    state.ino = st.st_ino;
    state.size = static_cast<uint64_t>(st.st_size);
    state.mtime_ns = mtime_ns;
    if (!parsed) {
      report.errors.push_back(parsed.error().message);
      continue;  // keep the last good objects of this file
    }
    for (auto& note : parsed->ignored) report.notes.push_back(std::move(note));
    std::set<std::string> kinds;
    state.objects = apply(path, state.objects, std::move(parsed->objects), kinds, report.changed_objects);
    if (kinds.empty()) continue;  // rewritten with the same objects (a touch, a reformat)
    report.changed_kinds.insert(kinds.begin(), kinds.end());
    report.changed = true;
  }
  if (namespace_erased_) store_.complete_namespaces();
  namespace_erased_ = false;
  return report;
}

std::vector<FileSource::Held> FileSource::apply(const std::string& file, const std::vector<Held>& before,
                                                std::vector<DecodedObject> after, std::set<std::string>& changed_kinds,
                                                std::set<std::string>& changed_objects) {
  std::map<std::string, uint64_t> old;
  for (const Held& h : before) old[h.id] = h.hash;
  std::vector<Held> now;
  for (DecodedObject& d : after) {
    std::string id = d.kind + "/" + key_of(meta_of(d.object));
    now.push_back({id, d.hash});
    auto was = old.find(id);
    const bool same = was != old.end() && was->second == d.hash;
    if (was != old.end()) old.erase(was);
    owners_[id].insert(file);
    if (same) continue;
    changed_kinds.insert(d.kind);
    changed_objects.insert(id);
    auto [gen, inserted] = generations_.try_emplace(id, Generation{d.spec_hash, 1});
    if (!inserted && gen->second.spec_hash != d.spec_hash) {
      gen->second.spec_hash = d.spec_hash;
      ++gen->second.generation;
    }
    meta_of(d.object).generation = gen->second.generation;
    const std::string ns = d.kind == "Namespace" ? meta_of(d.object).name : meta_of(d.object).ns;
    store_.upsert(std::move(d.object));
    store_.ensure_namespace(ns);
  }
  // What this file no longer holds: gone, unless another file still defines it (then that
  // file's version is read again on its next change; until then the last one stays).
  for (const auto& [id, hash] : old) {
    auto owners = owners_.find(id);
    if (owners != owners_.end()) owners->second.erase(file);
    if (owners != owners_.end() && !owners->second.empty()) continue;
    owners_.erase(id);
    size_t slash = id.find('/');
    changed_kinds.insert(id.substr(0, slash));
    changed_objects.insert(id);
    store_.erase(id.substr(0, slash), id.substr(slash + 1));
    // Its objects keep their namespace (implicit again, as it was before it was declared).
    if (id.starts_with("Namespace/")) namespace_erased_ = true;
    // An object deleted and created again starts over at generation 1, as in a cluster.
    generations_.erase(id);
  }
  return now;
}

}  // namespace gantry::controller
