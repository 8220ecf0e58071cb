// ApiDouble: a Kubernetes API server for tests, over TLS on 127.0.0.1, speaking the wire
// protocol the client relies on (Kubernetes API conventions): JSON lists with
// metadata.resourceVersion and metadata.continue ("Retrieving large results sets in
// chunks"), 401 without the right bearer token or client certificate, 410 Gone for a
// continue token whose snapshot expired; chunked watches; API discovery; objects read,
// created and replaced with optimistic concurrency (409 on a stale resourceVersion, as
// Leases need: "Concurrency Control and Consistency"); /status PATCH as JSON merge patch
// (415 for strategic merge patch on custom resources, 422 for an invalid status), each
// change sent to the watches as a MODIFIED event.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace gantry::test {

class ApiDouble {
 public:
  struct Options {
    std::string token;           // the bearer token accepted ("" accepts none)
    std::string client_ca_pem;   // set: a client certificate signed by it is required instead
  };
  explicit ApiDouble(Options options);
  ~ApiDouble();

  uint16_t port() const { return port_; }
  const std::string& ca_pem() const { return ca_pem_; }  // the server's (self-signed) certificate

  void set_token(const std::string& token);
  void add_token(const std::string& token);  // accepted beside the first (one per replica, to tell them apart)
  // An object of `collection` ("/api/v1/services"), listed in the order added.
  void add(const std::string& collection, boost::json::object item);
  // Continue tokens handed out so far answer 410 Gone from now on.
  void expire_continue_tokens();
  int requests() const { return requests_.load(); }

  // Watches (API conventions, "Efficient detection of changes"): every open watch on
  // `collection` gets the event, written in pieces of `split` bytes so that events straddle
  // chunks. A watch from a resourceVersion below compacted() gets an ERROR event with a
  // 410 Status, as the API server sends it.
  void emit(const std::string& collection, const std::string& type, boost::json::object object, size_t split = 7);
  // Removed without any event (what a watch that was down would have missed).
  void erase_silently(const std::string& collection, const std::string& name);
  void close_watches();  // each open watch ends cleanly (the server's timeout)
  void cut_watches();    // each open watch is dropped mid-event
  // History before `below` is gone; the current version is at least `below`.
  void compact(uint64_t below) {
    std::lock_guard lock(mutex_);
    compacted_ = below;
    resource_version_ = std::max(resource_version_, below);
  }
  int open_watches() const;

  // Discovery (GET /apis/<group>/<version>) leaves `collection` out, and its list is a 404.
  void unserve(const std::string& collection);
  struct Patch {
    std::string path, content_type, body;
    int status = 0;  // what the double answered
    std::string token;  // whose
  };
  std::vector<Patch> patches() const;  // every /status PATCH, in order
  // The object of `collection` with that namespace ("" for cluster-scoped) and name.
  std::optional<boost::json::object> get(const std::string& collection, const std::string& ns, const std::string& name) const;
  // Writes answered so far by kind of request: "PATCH 200", "PUT 409", "POST 201", ...
  std::map<std::string, int> writes() const;
  // The next /status PATCH answers `code` (503, 429: an API server under load).
  void fail_next_patch(int code) {
    std::lock_guard lock(mutex_);
    fail_next_patch_ = code;
  }
  // The next PUT answers 409, as if another client had replaced the object first.
  void conflict_next_put() {
    std::lock_guard lock(mutex_);
    conflict_next_put_ = true;
  }
  std::vector<std::string> targets() const;  // every request's path and query, in order

 private:
  void list(const httplib::Request& req, httplib::Response& res, const std::string& collection);
  bool authorized(const httplib::Request& req, httplib::Response& res);
  void discovery(const httplib::Request& req, httplib::Response& res, const std::string& base);
  void object(const httplib::Request& req, httplib::Response& res);  // GET, PUT, PATCH .../status
  void create(const httplib::Request& req, httplib::Response& res);
  boost::json::object* find(const std::string& collection, const std::string& ns, const std::string& name);
  void broadcast(const std::string& collection, const std::string& type, const boost::json::object& object, size_t split);
  std::set<std::string> unserved_;
  bool conflict_next_put_ = false;
  int fail_next_patch_ = 0;
  std::set<std::string> tokens_;
  std::vector<Patch> patches_;
  std::map<std::string, int> writes_;
  void watch(const httplib::Request& req, httplib::Response& res, const std::string& collection);
  struct Watch {
    std::string collection;
    std::string pending;  // bytes not yet written
    size_t split = 7;
    bool close = false, cut = false;
  };
  std::vector<std::shared_ptr<Watch>> watches_;
  std::condition_variable wake_;
  uint64_t compacted_ = 0;
  bool stopping_ = false;

  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::string ca_pem_;
  mutable std::mutex mutex_;
  Options options_;
  std::map<std::string, std::vector<boost::json::object>> collections_;
  uint64_t resource_version_ = 1000;
  uint64_t expired_before_ = 0;  // continue tokens issued at or below this serial are gone
  uint64_t serial_ = 0;
  std::atomic<int> requests_{0};
  std::vector<std::string> targets_;
};

}  // namespace gantry::test
