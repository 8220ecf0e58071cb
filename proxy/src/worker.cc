#include "worker.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gantry/common/log.h"
#include "session.h"

namespace gantry::proxy {

Worker::Worker(int index, const ProxyOptions& options)
    : index_(index),
      options_(options),
      rng_(0x5DEECE66Dull * static_cast<uint64_t>(index + 1)),
      upstreams_(options.max_idle_per_endpoint, options.upstream_idle_timeout) {
  if (auto ctx = tls::make_client_context()) upstream_tls_ = *ctx;
}

Worker::~Worker() { join(); }

void Worker::start() {
  guard_.emplace(ioc_.get_executor());
  thread_ = std::thread([this] {
    ioc_.run();
    // Pooled upstream connections and acceptors die with their owner, on this thread.
    upstreams_.clear();
    acceptors_.clear();
    finished_.store(true);
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::post_snapshot(routing::SnapshotPtr snapshot, std::shared_ptr<const TlsContexts> tls, uint64_t version) {
  asio::post(ioc_, [this, snapshot = std::move(snapshot), tls = std::move(tls), version]() mutable {
    apply(std::move(snapshot), std::move(tls), version);
  });
}

void Worker::post_drain() {
  asio::post(ioc_, [this] { drain(); });
}

std::vector<std::string> Worker::bind_errors() const {
  std::lock_guard lock(errors_mutex_);
  return bind_errors_;
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

void Worker::apply(routing::SnapshotPtr snapshot, std::shared_ptr<const TlsContexts> tls, uint64_t version) {
  if (draining_) return;
  std::vector<std::string> errors;
  std::map<std::string, std::shared_ptr<tcp::acceptor>> next;
  for (const routing::Listener& l : *snapshot->listeners) {
    if (auto it = acceptors_.find(l.name); it != acceptors_.end()) {
      next.emplace(l.name, it->second);
      continue;
    }
    error_code ec;
    auto address = asio::ip::make_address(l.address, ec);
    if (ec) {
      errors.push_back(l.name + ": " + ec.message());
      continue;
    }
    auto acceptor = std::make_shared<tcp::acceptor>(ioc_);
    tcp::endpoint ep(address, l.port);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      // Every worker binds its own socket on the same address; the kernel spreads
      // connections among them.
      int one = 1;
      if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        ec = error_code(errno, boost::system::system_category());
    }
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(4096, ec);
    if (ec) {
      errors.push_back("bind " + l.name + ": " + ec.message());
      continue;
    }
    next.emplace(l.name, acceptor);
    asio::co_spawn(ioc_, accept_loop(acceptor, l.name), asio::detached);
  }
  for (auto& [name, acceptor] : acceptors_) {
    if (!next.count(name)) {
      error_code ec;
      acceptor->close(ec);
    }
  }
  acceptors_ = std::move(next);
  pinned_ = std::make_shared<const PinnedSnapshot>(PinnedSnapshot{std::move(snapshot), std::move(tls)});
  rr_.assign(pinned_->snapshot->clusters.size(), 0);
  if (index_ == 0)
    for (const auto& e : errors) log::error(e);
  unbound_.store(errors.size(), std::memory_order_release);
  {
    std::lock_guard lock(errors_mutex_);
    bind_errors_ = std::move(errors);
  }
  applied_version_.store(version, std::memory_order_release);
}

awaitable<void> Worker::accept_loop(std::shared_ptr<tcp::acceptor> acceptor, std::string listener) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // Out of descriptors or a connection reset before accept: back off briefly, go on.
      asio::steady_timer t(ioc_, std::chrono::milliseconds(10));
      co_await t.async_wait(use_nothrow);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(*this, std::move(socket), listener);
    asio::co_spawn(ioc_, session->run(), asio::detached);
  }
}

void Worker::drain() {
  draining_ = true;
  for (auto& [name, acceptor] : acceptors_) {
    error_code ec;
    acceptor->close(ec);
  }
  acceptors_.clear();
  for (Session* s : sessions_) s->cancel_if_idle();
  upstreams_.clear();
  guard_.reset();  // run() returns once the last in-flight request is done
}

}  // namespace gantry::proxy
