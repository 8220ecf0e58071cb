#include "gantry/controller/sources/file_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gantry::controller {
namespace fs = std::filesystem;
namespace {

constexpr uint32_t kMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                           IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;  // a --manifests path that is a link is followed

}  // namespace

FileWatch::FileWatch(std::vector<std::string> paths) : paths_(std::move(paths)) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) {
    error_ = std::string("inotify: ") + std::strerror(errno);
    return;
  }
  watch_tree();
}

FileWatch::~FileWatch() {
  if (fd_ >= 0) ::close(fd_);
}

void FileWatch::watch_tree() {
  // Adding a watch twice returns the same descriptor, so walking again is harmless.
  for (const std::string& p : paths_) {
    std::error_code ec;
    fs::path path(p);
    if (!fs::is_directory(path, ec)) {
      // A file (or one not there yet): its directory shows it being replaced or created.
      fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
      inotify_add_watch(fd_, dir.c_str(), kMask);
      continue;
    }
    inotify_add_watch(fd_, path.c_str(), kMask);
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
      // `..2026_01_01...` data directories of a mounted volume change by swapping the
      // `..data` link in the parent, which is watched; other dot-directories are skipped
      // as the file source skips them.
      if (it->path().filename().string().starts_with(".")) {
        it.disable_recursion_pending();
        continue;
      }
      inotify_add_watch(fd_, it->path().c_str(), kMask);
    }
  }
}

bool FileWatch::drain() {
  if (fd_ < 0) return false;
  bool any = false, new_dir = false;
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;  // EAGAIN: nothing more for now
    for (char* p = buf; p < buf + n;) {
      auto* e = reinterpret_cast<inotify_event*>(p);
      any = true;
      if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO))) new_dir = true;
      if (e->mask & IN_Q_OVERFLOW) new_dir = true;  // events were lost: look at everything again
      p += sizeof(inotify_event) + e->len;
    }
  }
  if (new_dir) watch_tree();
  return any;
}

}  // namespace gantry::controller
