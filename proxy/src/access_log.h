// AccessLog: one JSON line per request, written off the request path. Each worker appends
// lines to a batch of its own and hands a full (or old) batch to its slot here; a writer
// thread empties the slots into the sink. A worker never waits for the sink: when its slot
// is still full because the sink is slow, the batch is dropped and its lines counted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace gantry::proxy {

class AccessLog {
 public:
  // `fd`: where lines go (not closed here); one slot per worker.
  AccessLog(int fd, size_t workers);
  ~AccessLog();  // writes what the workers handed over, then stops
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Worker `w`'s batch (`lines` of them) for the writer; `batch` comes back empty with its
  // capacity kept.
  void hand_over(size_t w, std::string& batch, size_t lines);
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  // A worker's batch goes to the writer when it holds this much (or at its next sweep).
  static constexpr size_t kBatchBytes = 32 * 1024;

 private:
  struct Slot {
    std::mutex mutex;  // the worker's hand-over against the writer's swap: once per batch
    std::string data;
    size_t lines = 0;
  };
  void run();

  int fd_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::atomic<uint64_t> written_{0}, dropped_{0};
  std::thread writer_;
};

// `s` as the inside of a JSON string: quotes, backslashes, control characters and bytes
// outside ASCII escaped (\u00XX, one per byte), so a hostile header cannot break a line.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace gantry::proxy
