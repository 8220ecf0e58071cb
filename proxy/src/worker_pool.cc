#include "gantry/proxy/worker_pool.h"

#include <chrono>
#include <thread>

#include "gantry/common/log.h"
#include "worker.h"

namespace gantry::proxy {

WorkerPool::WorkerPool(ProxyOptions options) : options_(options) {
  if (options_.workers < 1) options_.workers = 1;
  for (int i = 0; i < options_.workers; ++i) workers_.push_back(std::make_unique<Worker>(i, options_));
}

WorkerPool::~WorkerPool() {
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
}

void WorkerPool::start() {
  for (auto& w : workers_) w->start();
}

void WorkerPool::publish(routing::SnapshotPtr snapshot) {
  ++published_;
  // Same listeners (an endpoints-only change): the same certificates, no PEM parsed again.
  if (!tls_ || tls_->listeners() != snapshot->listeners.get()) {
    std::vector<std::string> errors;
    tls_ = TlsContexts::build(snapshot, errors);
    for (const auto& e : errors) log::error("TLS: " + e);
  }
  for (auto& w : workers_) w->post_snapshot(snapshot, tls_, published_);
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
  return workers_.empty() ? std::vector<std::string>{} : workers_.front()->bind_errors();
}

Counters WorkerPool::counters() const {
  Counters c;
  for (const auto& w : workers_) {
    auto& wc = w->counters();
    c.connections += wc.connections.load(std::memory_order_relaxed);
    c.requests += wc.requests.load(std::memory_order_relaxed);
    c.upstream_connects += wc.upstream_connects.load(std::memory_order_relaxed);
    c.upstream_reuses += wc.upstream_reuses.load(std::memory_order_relaxed);
    c.mirrors_sent += wc.mirrors_sent.load(std::memory_order_relaxed);
    c.mirrors_skipped += wc.mirrors_skipped.load(std::memory_order_relaxed);
    c.tls_handshake_failures += wc.tls_handshake_failures.load(std::memory_order_relaxed);
    for (int i = 0; i < 6; ++i) c.responses[i] += wc.responses[i].load(std::memory_order_relaxed);
  }
  return c;
}

}  // namespace gantry::proxy
