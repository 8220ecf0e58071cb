// Session::pass_through: a TLS listener in Passthrough mode. The ClientHello is read
// (not answered), its server name picks the TLSRoute as a Host picks an HTTPRoute
// (plan_exchange: the listener's scopes, the route's hostnames, its backends' weights),
// and from then on the bytes flow both ways unopened: the certificate the client sees is
// the backend's own. No server name that a route takes, or no endpoint: the connection
// is closed, as there is no TLS of ours to send an alert in.
#include "client_hello.h"
#include "dial.h"
#include "session.h"

namespace gantry::proxy {

bool Session::passthrough_listener() {
  PinnedPtr pinned = worker_.pinned();
  const routing::Listener* listener = pinned ? find_listener(*pinned->snapshot, listener_) : nullptr;
  return listener && listener->passthrough;
}

awaitable<void> Session::pass_through() {
  const ProxyOptions& opt = worker_.options();
  RequestLog& rl = log();
  rl.begin(Clock::now(), worker_.access_log_on());
  worker_.counters().requests.add();
  // The ClientHello, within the header timeout.
  arm(Clock::now() + opt.header_timeout);
  ClientHello hello;
  for (;;) {
    const std::string_view got(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    hello = parse_client_hello(got);
    if (hello.state != ClientHello::State::NeedMore) break;
    if (buffer_.size() > kMaxClientHello + 1024) {
      hello.state = ClientHello::State::NotTls;
      break;
    }
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(16 * 1024), use_nothrow);
    if (ec) {
      disarm();
      co_return;
    }
    buffer_.commit(n);
  }
  disarm();
  if (hello.state != ClientHello::State::Complete) {
    rl.status = 400;
    account(rl, Clock::now());
    co_return;
  }
  char sni_buf[256];
  const std::string_view sni = routing::normalize_host(hello.server_name, sni_buf, sizeof sni_buf);
  if (worker_.access_log_on()) {
    rl.method = "TLS";
    rl.authority = sni;
  }
  PinnedPtr pinned = worker_.pinned();
  const routing::Snapshot* snap = pinned ? pinned->snapshot.get() : nullptr;
  const routing::Listener* listener = snap ? find_listener(*snap, listener_) : nullptr;
  ExchangeRequest ask;
  ask.host = sni;
  ask.view.path = "/";
  ask.client_addr = client_addr_.data();
  ask.client_addr_len = client_addr_len_;
  const uint64_t pick_draw = worker_.random(), canary_draw = worker_.random();
  const ExchangePlan plan = plan_exchange(snap, listener, ask, pick_draw, canary_draw);
  if (plan.route) rl.route_stats = worker_.stats().route(*plan.route);
  if (plan.answer != Answer::Forward || !plan.cluster || plan.cluster->endpoints.empty()) {
    rl.status = plan.answer == Answer::Forward ? 503 : status_of(plan.error);
    account(rl, Clock::now());
    co_return;
  }
  rl.backend_stats = worker_.stats().backend(*snap, plan.cluster_index);
  if (worker_.access_log_on()) rl.backend = plan.cluster->name;
  UpstreamPool& pool = worker_.upstreams();
  const routing::Endpoint& ep = pool.choose(*plan.cluster, worker_.next_endpoint(plan.cluster_index));
  PoolKey pk;
  pk.set(pool, ep, false, {});
  if (worker_.access_log_on()) rl.upstream = pk.key;
  UpstreamConnection upstream(worker_.ioc(), *pk.connections, rl.backend_stats);
  const error_code ec = co_await connect_upstream(upstream, ep, opt.connect_timeout, nullptr, {});
  if (ec) {
    if (rl.backend_stats) rl.backend_stats->connect_failures.add();
    if (pool.record_failure(*pk.health, plan.cluster, Clock::now())) worker_.note_ejection(*pk.health);
    rl.status = 502;
    account(rl, Clock::now());
    co_return;
  }
  pool.record_success(*pk.health, Clock::now());
  // The access log's status for a relayed stream: 200, it was handed over.
  rl.status = 200;
  rl.bytes_in = buffer_.size();
  co_await tunnel(upstream);
  account(rl, Clock::now());
}

}  // namespace gantry::proxy
