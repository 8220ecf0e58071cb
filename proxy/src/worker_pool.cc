#include "gantry/proxy/worker_pool.h"

#include <chrono>
#include <thread>

#include <unistd.h>

#include "gantry/common/log.h"
#include "access_log.h"
#include "listen_socket.h"
#include "worker.h"

namespace gantry::proxy {

WorkerPool::WorkerPool(ProxyOptions options) : options_(options) {
  if (options_.workers < 1) options_.workers = 1;
  if (options_.access_log_fd >= 0)
    access_log_ = std::make_unique<AccessLog>(options_.access_log_fd, static_cast<size_t>(options_.workers));
  for (int i = 0; i < options_.workers; ++i) workers_.push_back(std::make_unique<Worker>(i, options_, access_log_.get()));
}

WorkerPool::~WorkerPool() {
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
}

void WorkerPool::start() {
  for (auto& w : workers_) w->start();
}

std::map<std::string, std::string> WorkerPool::publish(routing::SnapshotPtr snapshot) {
  ++published_;
  // Same listeners (an endpoints-only change): the same certificates, no PEM parsed again.
  if (!tls_ || tls_->listeners() != snapshot->listeners.get()) {
    std::vector<std::string> errors;
    tls_ = TlsContexts::build(snapshot, errors, tls_.get());
    tls_built_.fetch_add(tls_->made(), std::memory_order_relaxed);
    for (const auto& e : errors) log::error("TLS: " + e);
  }
  std::set<std::string> wanted;
  std::map<std::string, std::string> failures;
  std::vector<std::map<std::string, int>> sockets(workers_.size());
  for (const routing::Listener& l : *snapshot->listeners) {
    wanted.insert(l.name);
    if (bound_.count(l.name)) continue;
    std::vector<int> fds;
    for (size_t w = 0; w < workers_.size(); ++w) {
      auto fd = open_listen_socket(l.address, l.port);
      if (!fd) {
        failures[l.name] = "listen on " + l.name + ": " + fd.error().message;
        break;
      }
      fds.push_back(*fd);
    }
    if (failures.count(l.name)) {
      for (int fd : fds) ::close(fd);
      continue;
    }
    for (size_t w = 0; w < workers_.size(); ++w) sockets[w][l.name] = fds[w];
    bound_.insert(l.name);
  }
  // A listener gone from the snapshot: its workers close their sockets when they switch.
  for (auto it = bound_.begin(); it != bound_.end();) it = wanted.count(*it) ? std::next(it) : bound_.erase(it);
  for (const auto& [name, why] : failures) log::error(why + " (its routes are not served until it can be bound)");
  {
    std::lock_guard lock(failures_mutex_);
    failures_ = failures;
  }
  last_ = snapshot;
  for (size_t w = 0; w < workers_.size(); ++w)
    workers_[w]->post_snapshot(snapshot, tls_, published_, std::move(sockets[w]));
  return failures;
}

std::map<std::string, std::string> WorkerPool::retry_binds() {
  {
    std::lock_guard lock(failures_mutex_);
    if (failures_.empty() || !last_) return failures_;
  }
  return publish(last_);
}

void WorkerPool::drain_and_stop() {
  for (auto& w : workers_) w->post_drain();
  auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
  for (;;) {
    bool all = true;
    for (auto& w : workers_) all = all && w->finished();
    if (all) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      log::warn("drain timeout reached; closing the connections still open");
      for (auto& w : workers_) w->stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& w : workers_) w->join();
}

bool WorkerPool::ready() const {
  if (published_ == 0) return false;
  for (const auto& w : workers_)
    if (w->applied_version() < published_ || w->unbound() > 0) return false;
  return true;
}

bool WorkerPool::caught_up() const {
  for (const auto& w : workers_)
    if (w->applied_version() < published_) return false;
  return true;
}

std::vector<std::string> WorkerPool::bind_errors() const {
  std::lock_guard lock(failures_mutex_);
  std::vector<std::string> out;
  for (const auto& [name, why] : failures_) out.push_back(why);
  return out;
}

std::vector<EjectedEndpoint> WorkerPool::ejected() const {
  std::vector<EjectedEndpoint> out;
  for (const auto& w : workers_) {
    auto e = w->ejected();
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

}  // namespace gantry::proxy
