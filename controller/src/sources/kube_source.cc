#include "gantry/controller/sources/kube_source.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include <boost/json/serialize.hpp>

#include "gantry/controller/objects/decode.h"
#include "gantry/controller/sources/kube_client.h"

namespace gantry::controller {
namespace {

std::string key_in(const boost::json::object& object) {
  const auto* md = object.if_contains("metadata");
  if (!md || !md->is_object()) return "";
  const auto& m = md->as_object();
  std::string ns = m.if_contains("namespace") && m.at("namespace").is_string() ? std::string(m.at("namespace").as_string()) : "";
  std::string name = m.if_contains("name") && m.at("name").is_string() ? std::string(m.at("name").as_string()) : "";
  return ns.empty() ? name : ns + "/" + name;
}

// "/api/v1/services" -> "v1"; "/apis/gateway.networking.k8s.io/v1/httproutes" ->
// "gateway.networking.k8s.io/v1".
std::string api_version_of(const std::string& path) {
  if (path.starts_with("/api/")) return path.substr(5, path.find('/', 5) - 5);
  if (!path.starts_with("/apis/")) return "";
  size_t group_end = path.find('/', 6);
  size_t version_end = path.find('/', group_end + 1);
  return path.substr(6, version_end - 6);
}

// Items of a list carry no kind or apiVersion: the decoder needs both.
boost::json::object typed(boost::json::object object, const KubeResource& r) {
  if (!object.contains("kind")) object["kind"] = r.kind;
  if (!object.contains("apiVersion")) object["apiVersion"] = api_version_of(r.path);
  return object;
}

// An object's own URL from its collection's: namespaced collections are listed across
// namespaces at ".../<plural>", the object lives at ".../namespaces/<ns>/<plural>/<name>".
std::string object_path(const std::string& collection, const std::string& key) {
  const size_t slash = key.find('/');
  if (slash == std::string::npos) return collection + "/" + key;
  const size_t plural = collection.rfind('/');
  return collection.substr(0, plural) + "/namespaces/" + key.substr(0, slash) + collection.substr(plural) + "/" +
         key.substr(slash + 1);
}

// What translation reads of an object: all but status and the server's bookkeeping.
size_t shape_of(const boost::json::object& object) {
  boost::json::object copy = object;
  copy.erase("status");
  if (auto* md = copy.if_contains("metadata"); md && md->is_object()) {
    md->as_object().erase("resourceVersion");
    md->as_object().erase("managedFields");
  }
  return std::hash<std::string>{}(boost::json::serialize(copy));
}

}  // namespace

KubeSource::KubeSource(KubeConfig config, std::vector<KubeResource> resources, int watch_timeout_seconds)
    : config_(std::move(config)), resources_(std::move(resources)), watch_timeout_(watch_timeout_seconds) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

KubeSource::~KubeSource() {
  stop_ = true;
  {
    // A watch waiting for events would otherwise hold its thread until the server's timeout.
    std::lock_guard lock(mutex_);
    for (KubeClient* c : clients_) c->stop();
  }
  for (auto& t : threads_) t.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void KubeSource::start() {
  for (const KubeResource& r : resources_) threads_.emplace_back([this, &r] { run(r); });
}

void KubeSource::drain_wake() {
  uint64_t count;
  (void)!::read(wake_fd_, &count, sizeof count);
}

bool KubeSource::synced() const {
  std::lock_guard lock(mutex_);
  return applied_.size() == resources_.size();
}

void KubeSource::push(std::vector<Event> events, bool listed_kind, const std::string& kind) {
  {
    std::lock_guard lock(mutex_);
    for (auto& e : events) queue_.push_back(std::move(e));
    if (listed_kind) listed_.insert(kind);
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

// Jittered exponential backoff, 100 ms doubling to 10 s, in small steps so stop is prompt.
void KubeSource::sleep_backoff(int& attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  int base = std::min(10'000, 100 << std::min(attempt, 7));
  ++attempt;
  int ms = base / 2 + static_cast<int>(rng() % static_cast<unsigned>(base / 2 + 1));
  for (int waited = 0; waited < ms && !stop_; waited += 20) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void KubeSource::run(const KubeResource& resource) {
  KubeClient client(config_);
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    clients_.insert(&client);
  }
  struct Unregister {
    KubeSource* self;
    KubeClient* client;
    ~Unregister() {
      std::lock_guard lock(self->mutex_);
      self->clients_.erase(client);
    }
  } unregister{this, &client};
  const std::string collection = resource.path.substr(0, resource.path.find('?'));
  std::set<std::string> known;  // keys this resource holds in the store, as far as this thread knows
  std::string version;
  bool first = true;
  int attempt = 0;
  while (!stop_) {
    if (version.empty()) {
      auto list = client.list(resource.path);
      if (!list) {
        {
          std::lock_guard lock(mutex_);
          errors_.push_back(resource.kind + ": " + list.error().message);
        }
        push({}, false, resource.kind);
        sleep_backoff(attempt);
        continue;
      }
      // A relist replaces what the last one knew: what it no longer holds is deleted.
      std::vector<Event> events;
      std::set<std::string> now;
      for (auto& item : list->items) {
        if (!item.is_object()) continue;
        now.insert(key_in(item.as_object()));
        events.push_back({"ADDED", resource.kind, typed(std::move(item.as_object()), resource), collection});
      }
      for (const std::string& k : known) {
        if (now.count(k)) continue;
        size_t slash = k.find('/');
        boost::json::object md{{"name", slash == std::string::npos ? k : k.substr(slash + 1)}};
        if (slash != std::string::npos) md["namespace"] = k.substr(0, slash);
        events.push_back({"DELETED", resource.kind, boost::json::object{{"metadata", std::move(md)}}, collection});
      }
      known = std::move(now);
      version = list->resource_version;
      push(std::move(events), first, resource.kind);
      first = false;
    }
    bool expired = false;
    std::vector<Event> batch;
    auto end = client.watch(resource.path, version, watch_timeout_, [&](const boost::json::object& e) {
      const auto* type = e.if_contains("type");
      const auto* object = e.if_contains("object");
      if (!type || !type->is_string() || !object || !object->is_object()) return !stop_;
      const std::string t(type->as_string());
      if (t == "ERROR") {
        // A Status: 410 Expired means the version is gone; list again.
        const auto* code = object->as_object().if_contains("code");
        expired = code && code->is_int64() && code->as_int64() == 410;
        return false;
      }
      if (t == "BOOKMARK") return !stop_;
      const std::string key = key_in(object->as_object());
      if (t == "DELETED") known.erase(key);
      else known.insert(key);
      push({{t, resource.kind, typed(object->as_object(), resource), collection}}, false, resource.kind);
      return !stop_;
    });
    if (!end.last_resource_version.empty()) version = end.last_resource_version;
    if (expired || end.status == 410) {
      version.clear();
      // A version gone as soon as it was listed would relist in a loop: back off then.
      if (end.last_resource_version.empty()) sleep_backoff(attempt);
      continue;
    }
    if (end.status == 200 && end.error.empty()) {
      attempt = 0;
      continue;  // the server's timeout: watch again from where it ended
    }
    {
      std::lock_guard lock(mutex_);
      errors_.push_back(resource.kind + ": " + (end.error.empty() ? "watch ended with " + std::to_string(end.status) : end.error));
    }
    sleep_backoff(attempt);
  }
}

ChangeReport KubeSource::changes() {
  std::vector<Event> events;
  std::set<std::string> listed;
  ChangeReport report;
  drain_wake();  // before taking the queue: an event pushed after this wakes the loop again
  {
    std::lock_guard lock(mutex_);
    events.swap(queue_);
    listed = listed_;
    report.errors.swap(errors_);
  }
  for (Event& e : events) {
    const std::string key = key_in(e.object);
    const std::string id = e.kind + "/" + key;
    if (e.type == "DELETED") {
      observed_.erase(id);
      shapes_.erase(id);
      if (store_.erase(e.kind, key)) {
        report.changed = true;
        report.changed_kinds.insert(e.kind);
        report.changed_objects.insert(id);
      }
      continue;
    }
    if (observes(e.kind)) {
      Observed& o = observed_[id];
      const auto* status = e.object.if_contains("status");
      o.status = status ? *status : boost::json::value();
      const auto& md = e.object.at("metadata").as_object();
      o.resource_version = md.contains("resourceVersion") && md.at("resourceVersion").is_string()
                               ? std::string(md.at("resourceVersion").as_string())
                               : "";
      o.path = object_path(e.collection, key);
    }
    const size_t shape = shape_of(e.object);
    if (auto [it, fresh] = shapes_.try_emplace(id, shape); !fresh) {
      if (it->second == shape) {
        ++status_events_;
        report.status_changed = true;
        continue;
      }
      it->second = shape;
    }
    // The same decoder the files use: one meaning for an object wherever it came from.
    auto decoded = decode_object(boost::json::value(std::move(e.object)), "cluster " + id, nullptr);
    if (!decoded) {
      report.errors.push_back(decoded.error().message);
      continue;
    }
    if (!*decoded) continue;
    const std::string ns = (*decoded)->kind == "Namespace" ? meta_of((*decoded)->object).name : meta_of((*decoded)->object).ns;
    store_.upsert(std::move((*decoded)->object));
    store_.ensure_namespace(ns);
    report.changed = true;
    report.changed_kinds.insert(e.kind);
    report.changed_objects.insert(id);
  }
  {
    std::lock_guard lock(mutex_);
    applied_.insert(listed.begin(), listed.end());
  }
  return report;
}

}  // namespace gantry::controller
