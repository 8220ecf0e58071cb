#include "gantry/controller/cluster/leader_election.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "gantry/common/log.h"
#include "gantry/controller/cluster/status_writer.h"
#include "gantry/controller/sources/kube_client.h"

namespace gantry::controller {
namespace json = boost::json;

LeaderElector::LeaderElector(KubeConfig config, Options options)
    : config_(std::move(config)), options_(std::move(options)) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

LeaderElector::~LeaderElector() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void LeaderElector::start() {
  client_ = std::make_unique<KubeClient>(config_);
  thread_ = std::thread([this] { run(); });
}

void LeaderElector::drain_wake() {
  uint64_t n;
  (void)!::read(wake_fd_, &n, sizeof n);
}

void LeaderElector::set_leading(bool leading) {
  if (leading_.exchange(leading) == leading) return;
  if (leading) ++transitions_;
  log::info(std::string(leading ? "became the leader" : "no longer the leader") + " (Lease " + options_.ns + "/" +
            options_.name + ", identity " + options_.identity + ")");
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void LeaderElector::run() {
  using namespace std::chrono;
  const auto lease = seconds(options_.lease_seconds);
  // client-go's defaults in proportion: 15 s lease, renew deadline 10 s, retry every 2 s.
  const auto retry = duration_cast<milliseconds>(lease) * 2 / 15;
  const auto renew_deadline = duration_cast<milliseconds>(lease) * 2 / 3;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
    }
    const bool ok = try_acquire_or_renew();
    const auto now = steady_clock::now();
    if (ok) {
      renewed_at_ = now;
      set_leading(true);
    } else if (leading_ && now - renewed_at_ > renew_deadline) {
      set_leading(false);  // could not renew in time: another may hold it by now
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, retry, [&] { return stop_; });
  }
}

bool LeaderElector::try_acquire_or_renew() {
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + options_.ns + "/leases/" + options_.name;
  const std::string now = rfc3339_now(true);
  // A leader renews the Lease its last update returned, without reading it first: one
  // request per renewal. A 409 (someone else wrote it) falls back to reading it.
  if (leading_ && !last_lease_.empty()) {
    boost::system::error_code ec;
    auto doc = json::parse(last_lease_, ec);
    if (!ec && doc.is_object() && doc.as_object().contains("spec")) {
      doc.as_object()["spec"].as_object()["renewTime"] = now;
      auto res = client_->send("PUT", path, json::serialize(doc));
      if (res.status == 200) {
        last_lease_ = std::move(res.body);
        return true;
      }
    }
    last_lease_.clear();
  }
  auto got = client_->get(path);
  if (got.status == 404) {
    json::object lease{{"apiVersion", "coordination.k8s.io/v1"},
                       {"kind", "Lease"},
                       {"metadata", json::object{{"name", options_.name}, {"namespace", options_.ns}}},
                       {"spec", json::object{{"holderIdentity", options_.identity},
                                             {"leaseDurationSeconds", options_.lease_seconds},
                                             {"acquireTime", now},
                                             {"renewTime", now},
                                             {"leaseTransitions", 0}}}};
    auto res = client_->send("POST", "/apis/coordination.k8s.io/v1/namespaces/" + options_.ns + "/leases",
                             json::serialize(lease));
    if (res.status != 201 && res.status != 200) return false;
    last_lease_ = std::move(res.body);
    return true;
  }
  if (got.status != 200) {
    if (got.status == 0) log::error("leader election: " + got.error);
    else log::error("leader election: GET " + path + " answered " + std::to_string(got.status));
    return false;
  }
  boost::system::error_code ec;
  auto doc = json::parse(got.body, ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("spec")) return false;
  json::object lease = doc.as_object();
  json::object& spec = lease["spec"].as_object();
  auto text = [&](const char* k) {
    const auto* v = spec.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const std::string holder = text("holderIdentity");
  const int64_t duration = spec.contains("leaseDurationSeconds") && spec.at("leaseDurationSeconds").is_int64()
                               ? spec.at("leaseDurationSeconds").as_int64()
                               : options_.lease_seconds;
  const auto steady = std::chrono::steady_clock::now();
  if (!holder.empty() && holder != options_.identity) {
    // Expired only by our own clock: how long since the record last changed.
    const std::string record = holder + "|" + text("renewTime");
    if (record != observed_record_) {
      observed_record_ = record;
      observed_at_ = steady;
    }
    if (steady - observed_at_ < std::chrono::seconds(duration)) return false;
  }
  if (holder != options_.identity) {
    spec["acquireTime"] = now;
    const auto* t = spec.if_contains("leaseTransitions");
    spec["leaseTransitions"] = (t && t->is_int64() ? t->as_int64() : 0) + 1;
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = options_.lease_seconds;
  spec["renewTime"] = now;
  // PUT with the resourceVersion read: a replica that updated it first makes this a 409.
  auto res = client_->send("PUT", path, json::serialize(lease));
  if (res.status != 200) return false;
  last_lease_ = std::move(res.body);
  return true;
}

void LeaderElector::release() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!leading_) return;
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + options_.ns + "/leases/" + options_.name;
  auto got = client_->get(path);
  boost::system::error_code ec;
  auto doc = got.status == 200 ? json::parse(got.body, ec) : json::value();
  if (!ec && doc.is_object() && doc.as_object().contains("spec")) {
    json::object lease = doc.as_object();
    json::object& spec = lease["spec"].as_object();
    if (spec.contains("holderIdentity") && spec.at("holderIdentity") == json::value(options_.identity)) {
      spec["holderIdentity"] = "";
      spec["leaseDurationSeconds"] = 1;
      spec["renewTime"] = rfc3339_now(true);
      auto res = client_->send("PUT", path, json::serialize(lease));
      if (res.status == 200) log::info("released the Lease " + options_.ns + "/" + options_.name);
    }
  }
  set_leading(false);
}

}  // namespace gantry::controller
