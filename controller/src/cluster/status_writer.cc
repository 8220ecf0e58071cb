#include "gantry/controller/cluster/status_writer.h"

#include <time.h>

#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "gantry/common/log.h"
#include "gantry/controller/cluster/status_patch.h"
#include "gantry/controller/sources/kube_client.h"

namespace gantry::controller {
namespace json = boost::json;

std::string rfc3339_now(bool micro) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (micro) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1'000'000;
    n += std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(us));
  }
  return std::string(buf, n) + "Z";
}

namespace {

std::string id_of(const json::object& item) {
  const auto& md = item.at("metadata").as_object();
  std::string id = std::string(item.at("kind").as_string()) + "/";
  if (const auto* ns = md.if_contains("namespace"); ns && ns->is_string() && !ns->as_string().empty())
    id += std::string(ns->as_string()) + "/";
  return id + std::string(md.at("name").as_string());
}

// The "message" of a Status the API server answered with, else the body's start.
std::string message_of(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object())
    if (const auto* m = v.as_object().if_contains("message"); m && m->is_string()) return std::string(m->as_string());
  return body.substr(0, 200);
}

bool has_our_parent(const json::value& status, const std::string& controller_name) {
  const auto* parents = status.is_object() ? status.as_object().if_contains("parents") : nullptr;
  if (!parents || !parents->is_array()) return false;
  for (const auto& p : parents->as_array())
    if (p.is_object() && p.as_object().if_contains("controllerName") &&
        p.as_object().at("controllerName") == json::value(controller_name))
      return true;
  return false;
}

}  // namespace

StatusWriter::StatusWriter(KubeConfig config, Options options) : config_(std::move(config)), options_(std::move(options)) {}

StatusWriter::~StatusWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void StatusWriter::start() {
  tokens_ = options_.burst;
  refilled_ = std::chrono::steady_clock::now();
  for (int i = 0; i < std::max(1, options_.connections); ++i) threads_.emplace_back([this] { run(); });
}

void StatusWriter::set_leading(bool leading) {
  std::lock_guard lock(mutex_);
  leading_ = leading;
  if (!leading) queue_.clear();
  sent_.clear();  // a new term compares everything afresh
}

size_t StatusWriter::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t StatusWriter::offer(const StatusItems& desired, const std::map<std::string, KubeSource::Observed>& observed) {
  if (!leading_) return 0;
  const std::string now = rfc3339_now();
  size_t queued = 0;
  {
    std::lock_guard lock(mutex_);
    std::set<std::string> offered;
    auto consider = [&](const std::string& kind, const std::string& id, const KubeSource::Observed& o,
                        const json::object& status) {
      if (!status_patch(kind, status, o.status, options_.controller_name, now)) {
        queue_.erase(id);
        return;
      }
      // Being written, or written already and the object has not come back from the watch since.
      if (auto f = in_flight_.find(id); f != in_flight_.end() && f->second == status) return;
      if (auto s = sent_.find(id); s != sent_.end() && s->second.first == status && s->second.second == o.resource_version)
        return;
      queue_[id] = Write{kind, id, o.path, status, o.status, o.resource_version};
      ++queued;
    };
    for (const auto& item : desired) {
      const std::string_view kind = item->at("kind").as_string();
      if (!KubeSource::observes(kind)) continue;
      const std::string id = id_of(*item);
      auto o = observed.find(id);
      if (o == observed.end()) continue;  // not in the cluster (any more)
      offered.insert(id);
      consider(std::string(kind), id, o->second, item->at("status").as_object());
    }
    // A route no Gateway of ours takes any more still carries our parent entries: they go
    // (Gateway API, RouteParentStatus: a controller removes the entries it no longer owns).
    static const json::object kNoParents{{"parents", json::array{}}};
    for (const std::string kind : {"HTTPRoute", "GRPCRoute", "TLSRoute"}) {
      const std::string prefix = kind + "/";
      for (auto it = observed.lower_bound(prefix); it != observed.end() && it->first.starts_with(prefix); ++it)
        if (!offered.count(it->first) && has_our_parent(it->second.status, options_.controller_name))
          consider(kind, it->first, it->second, kNoParents);
    }
  }
  if (queued) wake_.notify_all();
  return queued;
}

void StatusWriter::run() {
  KubeClient client(config_);
  using Clock = std::chrono::steady_clock;
  for (;;) {
    Write w;
    Clock::duration wait{};
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      auto first = queue_.begin();
      w = std::move(first->second);
      queue_.erase(first);
      in_flight_[w.id] = w.desired;
      // The token bucket, shared by the connections: the pace is the writer's, not each one's.
      auto now = Clock::now();
      tokens_ = std::min<double>(options_.burst, tokens_ + std::chrono::duration<double>(now - refilled_).count() *
                                                               options_.writes_per_second);
      refilled_ = now;
      tokens_ -= 1;
      if (tokens_ < 0)
        wait = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / options_.writes_per_second));
    }
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
    const std::string id = w.id;
    write(client, std::move(w));
    std::lock_guard lock(mutex_);
    in_flight_.erase(id);
  }
}

void StatusWriter::write(KubeClient& client, Write w) {
  for (int attempt = 0; attempt < 5 && !stop_ && leading_; ++attempt) {
    auto patch = status_patch(w.kind, w.desired, w.current, options_.controller_name, rfc3339_now());
    if (!patch) return;  // the object holds it already
    json::object body{{"status", std::move(*patch)}};
    // The version the merge was computed from: a newer object is a 409, never overwritten.
    if (!w.resource_version.empty()) body["metadata"] = json::object{{"resourceVersion", w.resource_version}};
    auto res = client.send("PATCH", w.path + "/status", json::serialize(body), "application/merge-patch+json");
    if (res.status >= 200 && res.status < 300) {
      ++writes_;
      std::lock_guard lock(mutex_);
      sent_[w.id] = {w.desired, w.resource_version};
      return;
    }
    if (res.status == 409 || res.status == 0 || res.status == 429 || res.status >= 500) {
      if (res.status == 409) ++conflicts_;
      else std::this_thread::sleep_for(std::chrono::milliseconds(res.status == 429 ? 1000 : 200 << attempt));
      // Read the object again and merge into what it holds now.
      auto got = client.get(w.path);
      if (got.status == 404) return;  // deleted meanwhile
      if (got.status != 200) continue;
      boost::system::error_code ec;
      auto obj = json::parse(got.body, ec);
      if (ec || !obj.is_object()) continue;
      const auto* st = obj.as_object().if_contains("status");
      w.current = st ? *st : json::value();
      const auto& md = obj.as_object().at("metadata").as_object();
      w.resource_version = md.contains("resourceVersion") ? std::string(md.at("resourceVersion").as_string()) : "";
      continue;
    }
    if (res.status == 404) return;  // deleted meanwhile: nothing to report on
    ++failures_;
    log::error("status of " + w.id + " not written: " + std::to_string(res.status) + " " + message_of(res.body));
    return;
  }
  if (!stop_ && leading_) {
    ++failures_;
    log::error("status of " + w.id + " not written: the API server kept refusing or not answering");
  }
}

}  // namespace gantry::controller
