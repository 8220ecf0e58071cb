// A bounded load: a few client threads sending keep-alive GETs through gantry until
// stopped, counting every answer that is not a 200 (and every transport error) as a
// failure, and which pod served each 200.
#pragma once

#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gantry::test {

class LoadLoop {
 public:
  LoadLoop(uint16_t port, std::string host, std::string path, int threads) {
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this, port, host, path] {
        httplib::Client client("127.0.0.1", port);
        client.set_keep_alive(true);
        client.set_read_timeout(5, 0);
        client.set_connection_timeout(2, 0);
        while (!stop_) {
          auto res = client.Get(path, httplib::Headers{{"Host", host}});
          std::lock_guard lock(mutex_);
          ++sent_;
          if (!res) {
            failures_.push_back("transport: " + httplib::to_string(res.error()));
            continue;
          }
          if (res->status != 200) {
            failures_.push_back(std::to_string(res->status) + ": " + res->body.substr(0, 200));
            continue;
          }
          ++by_pod_[pod_of(res->body)];
        }
      });
  }
  ~LoadLoop() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  size_t sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::vector<std::string> failures() {
    std::lock_guard lock(mutex_);
    return failures_;
  }
  size_t served_by(const std::string& pod) {
    std::lock_guard lock(mutex_);
    return by_pod_[pod];
  }

 private:
  static std::string pod_of(const std::string& body) {
    auto at = body.find("\"pod\":\"");
    if (at == std::string::npos) return "";
    at += 7;
    return body.substr(at, body.find('"', at) - at);
  }
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  size_t sent_ = 0;
  std::vector<std::string> failures_;
  std::map<std::string, size_t> by_pod_;
  std::vector<std::thread> threads_;
};

}  // namespace gantry::test
