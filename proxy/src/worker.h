// Worker: one thread, one io_context, its own acceptors, upstream pool, counters and
// pinned snapshot. Everything here is touched by its own thread only, except the atomics
// that the admin server reads.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "asio.h"
#include "gantry/proxy/options.h"
#include "gantry/proxy/worker_pool.h"
#include "gantry/routing/snapshot.h"
#include "gantry/routing/weighted_pick.h"
#include "gantry/tls/client_context.h"
#include "access_log.h"
#include "stats.h"
#include "tls_contexts.h"
#include "h2_upstream.h"
#include "upstream_pool.h"

namespace gantry::proxy {

class Session;

// A worker-local handle on the shared snapshot: sessions copy this pointer, whose
// reference count no other thread touches (Envoy's thread-local snapshot idea).
struct PinnedSnapshot {
  routing::SnapshotPtr snapshot;
  std::shared_ptr<const TlsContexts> tls;  // the snapshot's HTTPS listeners
};
using PinnedPtr = std::shared_ptr<const PinnedSnapshot>;

// What has no route or backend of its own: every request and response, mirrors.
struct WorkerCounters {
  LocalCounter requests, mirrors_sent, mirrors_skipped;
  ClassCounters responses;
  void count_response(unsigned status) { count_class(responses, status); }
};

class Worker {
 public:
  // `access_log`: where request lines go; null when the access log is off.
  Worker(int index, const ProxyOptions& options, AccessLog* access_log = nullptr);
  ~Worker();

  void start();
  // `sockets`: listening sockets for the snapshot's new listeners ("address:port" -> fd),
  // bound by the pool; this worker owns them from here on.
  void post_snapshot(routing::SnapshotPtr snapshot, std::shared_ptr<const TlsContexts> tls, uint64_t version,
                     std::map<std::string, int> sockets);
  void post_drain();
  void stop() { ioc_.stop(); }
  void join();
  bool finished() const { return finished_.load(); }

  // Read by the admin thread.
  uint64_t applied_version() const { return applied_version_.load(std::memory_order_acquire); }
  size_t unbound() const { return unbound_.load(std::memory_order_acquire); }
  WorkerCounters& counters() { return counters_; }
  const WorkerCounters& counters() const { return counters_; }
  WorkerStats& stats() { return stats_; }
  const WorkerStats& stats() const { return stats_; }

  // Used by sessions on this worker's thread.
  asio::io_context& ioc() { return ioc_; }
  const ProxyOptions& options() const { return options_; }
  const PinnedPtr& pinned() const { return pinned_; }
  uint64_t random() { return rng_.next(); }
  uint32_t next_endpoint(uint32_t cluster) { return cluster < rr_.size() ? rr_[cluster]++ : 0; }
  UpstreamPool& upstreams() { return upstreams_; }
  H2Upstreams& h2_upstreams() { return h2_upstreams_; }
  SSL_CTX* upstream_tls() const { return upstream_tls_.get(); }  // null if it could not be made
  bool draining() const { return draining_; }
  bool listener_tls(const std::string& name) const;
  void add_session(Session* s) { sessions_.insert(s); }
  void remove_session(Session* s) {
    sessions_.erase(s);
    // The last session of a drain: nothing is left for the sweep, and its timer would
    // hold run() open.
    if (draining_ && sessions_.empty()) sweep_timer_.cancel();
  }
  std::unique_ptr<char[]> take_relay_buffer();
  void give_relay_buffer(std::unique_ptr<char[]> buf);
  // The access log: a line is appended to log_batch() and then ended with log_line_done().
  bool access_log_on() const { return access_log_ != nullptr; }
  std::string& log_batch() { return log_batch_; }
  void log_line_done();
  // "2026-12-01T19:05:00.123Z" of `t`, formatted once per second and worker.
  void append_time(std::string& out, std::chrono::system_clock::time_point t);
  // An endpoint was ejected: counted, and kept for the admin thread's /config_dump.
  void note_ejection(const EndpointState& st);
  std::vector<EjectedEndpoint> ejected() const;  // any thread

 private:
  void apply(routing::SnapshotPtr snapshot, std::shared_ptr<const TlsContexts> tls, uint64_t version,
             std::map<std::string, int> sockets);
  void drain();
  // Ends connections idle past their deadline (Session::expire_idle), a few times a second.
  void sweep_idle();
  // Sessions accepted on a listener the new snapshot dropped: idle ones end now, busy ones
  // after their response, and whatever is still open after drain_timeout is closed.
  void retire_listener(const std::string& name);
  awaitable<void> accept_loop(std::shared_ptr<Acceptor> acceptor, std::string listener);

  int index_;
  const ProxyOptions& options_;
  // Declared before the io_context, so destroyed after it: its destruction destroys the
  // sessions still suspended in it (a drain that timed out), and each tells these that it
  // closed (its session set, relay buffer, and upstream connections' endpoint states).
  // The statistics go last of all: upstream connections count themselves closed in them.
  WorkerStats stats_;
  UpstreamPool upstreams_;
  H2Upstreams h2_upstreams_{ioc_};  // counted in upstreams_' endpoint states
  std::unordered_set<Session*> sessions_;
  std::vector<std::unique_ptr<char[]>> relay_free_;
  WorkerCounters counters_;
  // Only this thread touches its sockets, so the reactor needs no locks; posts from other
  // threads (publish, drain) still go through the locked scheduler queue.
  asio::io_context ioc_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::atomic<bool> finished_{false};

  PinnedPtr pinned_;
  std::vector<uint32_t> rr_;
  routing::FastRandom rng_;
  std::map<std::string, std::shared_ptr<Acceptor>> acceptors_;
  tls::ClientContextPtr upstream_tls_;
  std::vector<std::weak_ptr<Timer>> retire_timers_;
  Timer sweep_timer_{ioc_};
  bool draining_ = false;

  AccessLog* access_log_;
  std::string log_batch_;
  size_t log_lines_ = 0;
  int64_t time_second_ = -1;
  char time_prefix_[24] = {};  // "2026-12-01T19:05:00." of time_second_
  void flush_log();

  mutable std::mutex ejected_mutex_;  // taken when an endpoint is ejected, never per request
  std::map<std::string, std::pair<Clock::time_point, uint32_t>> ejected_;  // until, ejections

  std::atomic<uint64_t> applied_version_{0};
  std::atomic<size_t> unbound_{0};
};

}  // namespace gantry::proxy
