// FileWatch: inotify on every --manifests path, so a change is seen when it happens
// instead of at the next poll. Directories are watched recursively, a file path through
// its directory (editors replace files by renaming a temporary over them, and Kubernetes'
// ConfigMap and Secret volumes swap a `..data` symlink: both show as events in the
// directory). What changed is not decided here: any event makes the file source look
// again, and it re-reads only the files that differ.
#pragma once

#include <string>
#include <vector>

namespace gantry::controller {

class FileWatch {
 public:
  explicit FileWatch(std::vector<std::string> paths);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // False when inotify is not available (the caller polls instead); `error` says why.
  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }  // readable when events are pending

  // Reads every pending event without blocking; true if any arrived. New directories
  // are watched from now on.
  bool drain();

 private:
  void watch_tree();

  std::vector<std::string> paths_;
  int fd_ = -1;
  std::string error_;
};

}  // namespace gantry::controller
