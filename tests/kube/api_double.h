// ApiDouble: a Kubernetes API server for tests, over TLS on 127.0.0.1, speaking the wire
// protocol the client relies on (Kubernetes API conventions): JSON lists with
// metadata.resourceVersion and metadata.continue ("Retrieving large results sets in
// chunks"), 401 without the right bearer token or client certificate, 410 Gone for a
// continue token whose snapshot expired. It grows with cluster mode (watch, status, Lease).
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <boost/json.hpp>
#include <map>
#include <mutex>
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
  std::vector<std::string> targets() const;  // every request's path and query, in order

 private:
  void list(const httplib::Request& req, httplib::Response& res, const std::string& collection);
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
