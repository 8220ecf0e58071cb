#include "access_log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace gantry::proxy {
namespace {

// A slot holds at most this much: a sink this far behind loses lines, not memory.
constexpr size_t kSlotBytes = 1 << 20;

void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a sink that fails loses the lines; the proxy goes on
    done += static_cast<size_t>(n);
  }
}

}  // namespace

AccessLog::AccessLog(int fd, size_t workers) : fd_(fd) {
  for (size_t i = 0; i < workers; ++i) slots_.push_back(std::make_unique<Slot>());
  writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(wake_mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void AccessLog::hand_over(size_t w, std::string& batch, size_t lines) {
  if (batch.empty() || w >= slots_.size()) return;
  Slot& slot = *slots_[w];
  {
    std::lock_guard lock(slot.mutex);
    if (slot.data.size() + batch.size() > kSlotBytes) {
      dropped_.fetch_add(lines, std::memory_order_relaxed);
      batch.clear();
      return;
    }
    if (slot.data.empty()) {
      slot.data.swap(batch);  // the writer's emptied buffer comes back as the next batch
    } else {
      slot.data += batch;
    }
    slot.lines += lines;
  }
  batch.clear();
  wake_.notify_one();
}

void AccessLog::run() {
  std::string out;
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(wake_mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      stopping = stop_;
    }
    for (auto& slot : slots_) {
      size_t lines;
      {
        std::lock_guard lock(slot->mutex);
        out.swap(slot->data);
        lines = slot->lines;
        slot->lines = 0;
      }
      if (out.empty()) continue;
      write_all(fd_, out);
      written_.fetch_add(lines, std::memory_order_relaxed);
      out.clear();
    }
    if (stopping) return;
  }
}

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
}

}  // namespace gantry::proxy
