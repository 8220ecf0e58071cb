// Session::pass_through: a TLS listener in Passthrough mode. The ClientHello is read
// (not answered), its server name picks the TLSRoute as a Host picks an HTTPRoute
// (plan_exchange: the listener's scopes, the route's hostnames, its backends' weights),
// and from then on the bytes flow both ways unopened: the certificate the client sees is
// the backend's own. No server name that a route takes, or no endpoint: the connection
// is closed, as there is no TLS of ours to send an alert in. An Ingress HTTPS listener
// does the same for its ssl-passthrough hosts and terminates the others.
#include "client_hello.h"
#include "dial.h"
#include "session.h"

namespace gantry::proxy {

namespace {
constexpr std::chrono::milliseconds kPeekPause{5};  // a ClientHello cut across segments: rare
}  // namespace

awaitable<ClientHello> Session::peek_client_hello(std::string& bytes) {
  // Peeked, not read: a connection that is terminated after all (an Ingress host without
  // ssl-passthrough) hands OpenSSL the socket with its ClientHello still in it.
  const auto deadline = Clock::now() + worker_.options().header_timeout;
  // Most ClientHellos fit a few KiB; the buffer grows only for one that does not.
  bytes.resize(4096);
  size_t seen = 0;
  for (;;) {
    arm(deadline);
    auto [ec] = co_await stream_.socket().async_wait(Socket::wait_read, use_nothrow);
    disarm();
    if (ec) co_return ClientHello{ClientHello::State::NotTls, {}};
    error_code rec;
    const size_t n = stream_.socket().receive(asio::buffer(bytes), Socket::message_peek, rec);
    if (rec || n == 0) co_return ClientHello{ClientHello::State::NotTls, {}};
    const ClientHello hello = parse_client_hello(std::string_view(bytes.data(), n));
    if (hello.state != ClientHello::State::NeedMore) co_return hello;
    if (n == bytes.size() && bytes.size() < kMaxClientHello + 16 * 1024) {
      bytes.resize(std::min(bytes.size() * 4, kMaxClientHello + 16 * 1024));
      continue;  // the same bytes and more, peeked again at once
    }
    if (n >= bytes.size() || Clock::now() >= deadline) co_return ClientHello{ClientHello::State::NotTls, {}};
    if (n == seen) {
      // Readable, and nothing new: the rest is on its way. Peeking does not consume, so
      // the readiness would repeat at once; a short pause instead.
      Timer pause(worker_.ioc(), kPeekPause);
      co_await pause.async_wait(use_nothrow);
    }
    seen = n;
  }
}

awaitable<bool> Session::maybe_pass_through() {
  PinnedPtr pinned = worker_.pinned();
  const routing::Listener* listener = pinned ? find_listener(*pinned->snapshot, listener_) : nullptr;
  if (!listener || (!listener->passthrough && listener->sni_passthrough.empty())) co_return false;
  std::string bytes;
  const ClientHello hello = co_await peek_client_hello(bytes);
  char sni_buf[256];
  const std::string_view sni = hello.state == ClientHello::State::Complete
                                   ? routing::normalize_host(hello.server_name, sni_buf, sizeof sni_buf)
                                   : std::string_view{};
  if (listener->passthrough) {
    co_await pass_through(*pinned, *listener, hello.state == ClientHello::State::Complete, sni, nullptr);
    co_return true;
  }
  if (hello.state == ClientHello::State::Complete)
    if (auto i = listener->passthrough_index.find(sni)) {
      co_await pass_through(*pinned, *listener, true, sni, &listener->sni_passthrough[*i]);
      co_return true;
    }
  co_return false;  // terminated here as any HTTPS connection (a bad ClientHello fails its handshake)
}

awaitable<void> Session::pass_through(const PinnedSnapshot& pinned, const routing::Listener& listener, bool hello_ok,
                                      std::string_view sni, const routing::SniPassthrough* ingress_host) {
  const ProxyOptions& opt = worker_.options();
  RequestLog& rl = log();
  rl.begin(Clock::now(), worker_.access_log_on());
  worker_.counters().requests.add();
  if (!hello_ok) {
    rl.status = 400;
    account(rl, Clock::now());
    co_return;
  }
  if (worker_.access_log_on()) {
    rl.method = "TLS";
    rl.authority = sni;
  }
  const routing::Snapshot& snap = *pinned.snapshot;
  const routing::Cluster* cluster = nullptr;
  uint32_t cluster_index = routing::kInvalidCluster;
  if (ingress_host) {
    cluster_index = ingress_host->cluster;
    if (cluster_index < snap.clusters.size()) cluster = &snap.clusters[cluster_index];
  } else {
    ExchangeRequest ask;
    ask.host = sni;
    ask.view.path = "/";
    ask.client_addr = client_addr_.data();
    ask.client_addr_len = client_addr_len_;
    const uint64_t pick_draw = worker_.random(), canary_draw = worker_.random();
    const ExchangePlan plan = plan_exchange(&snap, &listener, ask, pick_draw, canary_draw);
    if (plan.route) rl.route_stats = worker_.stats().route(*plan.route);
    if (plan.answer != Answer::Forward) {
      rl.status = status_of(plan.error);
      account(rl, Clock::now());
      co_return;
    }
    cluster = plan.cluster;
    cluster_index = plan.cluster_index;
  }
  if (!cluster || cluster->endpoints.empty()) {
    rl.status = 503;
    account(rl, Clock::now());
    co_return;
  }
  rl.backend_stats = worker_.stats().backend(snap, cluster_index);
  if (worker_.access_log_on()) rl.backend = cluster->name;
  UpstreamPool& pool = worker_.upstreams();
  const routing::Endpoint& ep = pool.choose(*cluster, worker_.next_endpoint(cluster_index));
  PoolKey pk;
  pk.set(pool, ep, false, {});
  if (worker_.access_log_on()) rl.upstream = pk.key;
  UpstreamConnection upstream(worker_.ioc(), *pk.connections, rl.backend_stats);
  const error_code ec = co_await connect_upstream(upstream, ep, opt.connect_timeout, nullptr, {});
  if (ec) {
    if (rl.backend_stats) rl.backend_stats->connect_failures.add();
    if (pool.record_failure(*pk.health, cluster, Clock::now())) worker_.note_ejection(*pk.health);
    rl.status = 502;
    account(rl, Clock::now());
    co_return;
  }
  pool.record_success(*pk.health, Clock::now());
  // The access log's status for a relayed stream: 200, it was handed over.
  rl.status = 200;
  co_await tunnel(upstream);
  account(rl, Clock::now());
}

}  // namespace gantry::proxy
