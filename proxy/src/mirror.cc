// RequestMirror: a copy of the request goes to one endpoint of each mirror backend, on this
// worker, fire and forget: the copy owns everything it needs, its answer is read and
// dropped, and nothing it does reaches the primary request. A request with a body is
// copied once its body has passed to the primary (whole, up to mirror_body_limit; larger
// bodies are not mirrored), so a body the primary never read is never mirrored either.

#include "dial.h"
#include "session.h"

namespace gantry::proxy {
namespace {

constexpr int kMaxMirrorsInFlight = 1024;  // per worker: a dead mirror cannot pile up work
thread_local int g_mirrors_in_flight = 0;

awaitable<void> send_copy(asio::io_context& ioc, routing::Endpoint endpoint,
                          std::shared_ptr<http::request<http::string_body>> copy, std::chrono::milliseconds timeout) {
  ++g_mirrors_in_flight;
  DeadlineSocket stream(ioc);
  if (!co_await dial(stream, endpoint, timeout)) {
    stream.expires_after(timeout);
    auto [wec, wn] = co_await http::async_write(stream, *copy, use_nothrow);
    if (!wec) {
      beast::flat_buffer buffer;
      http::response_parser<http::empty_body> rp;
      rp.skip(true);
      co_await http::async_read_header(stream, buffer, rp, use_nothrow);
    }
  }
  stream.close();
  --g_mirrors_in_flight;
}

}  // namespace

void Session::collect_mirrors(const routing::Snapshot& snapshot, const std::vector<routing::Mirror>& mirrors,
                              std::string_view original_target, const Request& req, std::vector<MirrorCopy>& out) {
  for (const routing::Mirror& m : mirrors) {
    if (m.numerator < m.denominator && worker_.random() % m.denominator >= m.numerator) continue;
    if (m.cluster >= snapshot.clusters.size()) continue;
    const routing::Cluster& cluster = snapshot.clusters[m.cluster];
    if (cluster.endpoints.empty()) continue;
    MirrorCopy copy;
    copy.endpoint = cluster.endpoints[worker_.next_endpoint(m.cluster) % cluster.endpoints.size()];
    // Its own fields: the copy outlives the request whose arena holds the original's.
    copy.request = std::make_shared<http::request<http::string_body>>();
    copy.request->method_string(req.method_string());  // a verb Beast does not know included
    copy.request->target(req.target());
    copy.request->version(req.version());
    for (const auto& f : req) copy.request->insert(f.name_string(), f.value());
    copy.request->erase(http::field::transfer_encoding);
    copy.request->erase(http::field::expect);
    copy.request->keep_alive(false);
    if (!m.target.empty()) copy.request->target(routing::expand_template(m.target, "http", m.host, original_target));
    if (!m.host.empty()) copy.request->set(http::field::host, m.host);
    copy.body = m.body;
    out.push_back(std::move(copy));
  }
}

void Session::launch_mirrors(std::vector<MirrorCopy>& copies, const BodyTap* body) {
  for (MirrorCopy& c : copies) {
    if (!c.body) body = nullptr;  // mirror-request-body: off
    if ((body && body->overflow) || g_mirrors_in_flight >= kMaxMirrorsInFlight) {
      worker_.counters().mirrors_skipped.add();
      continue;
    }
    if (body) c.request->body() = body->data;
    c.request->prepare_payload();
    worker_.counters().mirrors_sent.add();
    asio::co_spawn(worker_.ioc(),
                   send_copy(worker_.ioc(), std::move(c.endpoint), std::move(c.request), worker_.options().response_timeout),
                   asio::detached);
  }
  copies.clear();
}

}  // namespace gantry::proxy
