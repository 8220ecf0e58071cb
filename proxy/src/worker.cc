#include "worker.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <ctime>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gantry/common/log.h"
#include "session.h"

namespace gantry::proxy {

Worker::Worker(int index, const ProxyOptions& options, AccessLog* access_log)
    : index_(index),
      options_(options),
      upstreams_(PoolLimits{options.max_idle_per_endpoint, options.max_per_endpoint, options.upstream_idle_timeout,
                            options.eject_after, options.base_ejection, options.max_ejection}),
      rng_(0x5DEECE66Dull * static_cast<uint64_t>(index + 1)),
      access_log_(access_log) {
  if (auto ctx = tls::make_client_context()) upstream_tls_ = *ctx;
}

Worker::~Worker() { join(); }

void Worker::start() {
  guard_.emplace(ioc_.get_executor());
  asio::post(ioc_, [this] { sweep_idle(); });
  thread_ = std::thread([this] {
    // Named, so top, perf and /proc tell the workers apart.
    char name[16];
    std::snprintf(name, sizeof name, "gantry-w%d", index_);
    pthread_setname_np(pthread_self(), name);
    if (!options_.cpu_affinity.empty()) {
      const int cpu = options_.cpu_affinity[static_cast<size_t>(index_) % options_.cpu_affinity.size()];
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set))
        log::warn("worker " + std::to_string(index_) + ": cannot pin to CPU " + std::to_string(cpu) + ": " +
                  std::strerror(err) + "; it runs unpinned");
    }
    ioc_.run();
    // Pooled upstream connections and acceptors die with their owner, on this thread.
    h2_upstreams_.clear();
    upstreams_.clear();
    acceptors_.clear();
    flush_log();
    finished_.store(true);
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::post_snapshot(routing::SnapshotPtr snapshot, std::shared_ptr<const TlsContexts> tls, uint64_t version,
                           std::map<std::string, int> sockets) {
  asio::post(ioc_, [this, snapshot = std::move(snapshot), tls = std::move(tls), version,
                    sockets = std::move(sockets)]() mutable {
    apply(std::move(snapshot), std::move(tls), version, std::move(sockets));
  });
}

void Worker::post_drain() {
  asio::post(ioc_, [this] { drain(); });
}

std::unique_ptr<char[]> Worker::take_relay_buffer() {
  if (relay_free_.empty()) return std::make_unique<char[]>(options_.relay_buffer);
  auto buf = std::move(relay_free_.back());
  relay_free_.pop_back();
  return buf;
}

void Worker::give_relay_buffer(std::unique_ptr<char[]> buf) {
  // Keep a few for the next requests; beyond that idle connections should not hold memory.
  if (relay_free_.size() < 64) relay_free_.push_back(std::move(buf));
}

void Worker::note_ejection(const EndpointState& st) {
  const auto now = Clock::now();
  std::lock_guard lock(ejected_mutex_);
  std::erase_if(ejected_, [now](const auto& e) { return e.second.first <= now; });
  ejected_[st.key] = {st.ejected_until, st.ejections};
}

std::vector<EjectedEndpoint> Worker::ejected() const {
  const auto now = Clock::now();
  std::vector<EjectedEndpoint> out;
  std::lock_guard lock(ejected_mutex_);
  for (const auto& [key, e] : ejected_) {
    if (e.first <= now) continue;
    out.push_back(EjectedEndpoint{key, index_, std::chrono::duration_cast<Millis>(e.first - now).count(), e.second});
  }
  return out;
}

void Worker::apply(routing::SnapshotPtr snapshot, std::shared_ptr<const TlsContexts> tls, uint64_t version,
                   std::map<std::string, int> sockets) {
  if (draining_) {
    for (auto& [name, fd] : sockets) ::close(fd);
    return;
  }
  size_t unbound = 0;
  std::map<std::string, std::shared_ptr<Acceptor>> next;
  for (const routing::Listener& l : *snapshot->listeners) {
    if (auto it = acceptors_.find(l.name); it != acceptors_.end()) {
      next.emplace(l.name, it->second);
      continue;
    }
    auto fd = sockets.find(l.name);
    if (fd == sockets.end()) {
      ++unbound;  // the pool could not bind it (and says why)
      continue;
    }
    auto acceptor = std::make_shared<Acceptor>(ioc_);
    error_code ec;
    acceptor->assign(l.address.find(':') != std::string::npos ? tcp::v6() : tcp::v4(), fd->second, ec);
    sockets.erase(fd);
    if (ec) {
      ++unbound;
      continue;
    }
    next.emplace(l.name, acceptor);
    asio::co_spawn(ioc_, accept_loop(acceptor, l.name), asio::detached);
  }
  for (auto& [name, fd] : sockets) ::close(fd);
  for (auto& [name, acceptor] : acceptors_) {
    if (!next.count(name)) {
      error_code ec;
      acceptor->close(ec);
      retire_listener(name);
    }
  }
  acceptors_ = std::move(next);
  pinned_ = std::make_shared<const PinnedSnapshot>(PinnedSnapshot{std::move(snapshot), std::move(tls)});
  rr_.assign(pinned_->snapshot->clusters.size(), 0);
  stats_.on_snapshot(*pinned_->snapshot);
  upstreams_.prune(Clock::now());
  unbound_.store(unbound, std::memory_order_release);
  applied_version_.store(version, std::memory_order_release);
}

awaitable<void> Worker::accept_loop(std::shared_ptr<Acceptor> acceptor, std::string listener) {
  ListenerStats* stats = stats_.listener(listener);
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // Out of descriptors or a connection reset before accept: back off briefly, go on.
      Timer t(ioc_, std::chrono::milliseconds(10));
      co_await t.async_wait(use_nothrow);
      continue;
    }
    error_code ignored;
    if (options_.max_connections && sessions_.size() >= options_.max_connections) {
      // Refused cleanly: a plain listener says why in one non-blocking write (a TLS one
      // could not read it), and the socket closes; the worker's memory stays bounded.
      stats->refused.add();
      if (!listener_tls(listener)) {
        static constexpr std::string_view kBusy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 29\r\n"
            "Connection: close\r\n\r\ngantry: too many connections\n";
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(kBusy), ignored);
      }
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(*this, std::move(socket), listener, stats);
    asio::co_spawn(ioc_, session->run(), asio::detached);
  }
}

bool Worker::listener_tls(const std::string& name) const {
  if (!pinned_) return false;
  for (const auto& l : *pinned_->snapshot->listeners)
    if (l.name == name) return l.tls;
  return false;
}

void Worker::retire_listener(const std::string& name) {
  bool any = false;
  for (Session* s : sessions_) {
    if (s->listener() != name) continue;
    s->retire();
    any = true;
  }
  if (!any) return;
  auto timer = std::make_shared<Timer>(ioc_, options_.drain_timeout);
  std::erase_if(retire_timers_, [](const auto& t) { return t.expired(); });
  retire_timers_.push_back(timer);
  timer->async_wait([this, timer, name](error_code ec) {
    if (ec) return;
    // Closing only fails the pending operations; no session is destroyed inside this loop.
    for (Session* s : sessions_)
      if (s->retired() && s->listener() == name) s->close_now();
  });
}

void Worker::log_line_done() {
  ++log_lines_;
  if (log_batch_.size() >= AccessLog::kBatchBytes) flush_log();
}

void Worker::flush_log() {
  if (!access_log_ || log_lines_ == 0) return;
  access_log_->hand_over(static_cast<size_t>(index_), log_batch_, log_lines_);
  log_lines_ = 0;
}

void Worker::append_time(std::string& out, std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const int64_t second = ms / 1000;
  if (second != time_second_) {
    std::time_t tt = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::strftime(time_prefix_, sizeof time_prefix_, "%Y-%m-%dT%H:%M:%S.", &tm);
    time_second_ = second;
  }
  out += time_prefix_;
  const int frac = static_cast<int>(ms % 1000);
  out += static_cast<char>('0' + frac / 100);
  out += static_cast<char>('0' + frac / 10 % 10);
  out += static_cast<char>('0' + frac % 10);
  out += 'Z';
}

void Worker::sweep_idle() {
  const auto now = Clock::now();
  for (Session* s : sessions_) s->expire(now);
  flush_log();  // a quiet worker's lines wait no longer than a sweep
  // Draining, the sweep goes on while sessions finish: their writes' deadlines are its.
  if (draining_ && sessions_.empty()) return;
  // A quarter of the shortest deadline: a connection outlives its deadline by at most
  // that much.
  auto every = std::min({Millis(1000), options_.header_timeout / 4, options_.idle_timeout / 4,
                         options_.body_timeout / 4, options_.write_timeout / 4});
  sweep_timer_.expires_after(std::max(every, Millis(10)));
  sweep_timer_.async_wait([this](error_code ec) {
    if (!ec) sweep_idle();
  });
}

void Worker::drain() {
  draining_ = true;
  if (sessions_.empty()) sweep_timer_.cancel();
  // The drain has its own deadline (WorkerPool::drain_and_stop); these would hold run() open.
  for (auto& t : retire_timers_)
    if (auto timer = t.lock()) timer->cancel();
  for (auto& [name, acceptor] : acceptors_) {
    error_code ec;
    acceptor->close(ec);
  }
  acceptors_.clear();
  for (Session* s : sessions_) s->cancel_if_idle();
  upstreams_.clear();
  h2_upstreams_.clear();
  guard_.reset();  // run() returns once the last in-flight request is done
}

}  // namespace gantry::proxy
