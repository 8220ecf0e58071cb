// Backends made of raw sockets, for what a well-behaved server never does: fixed
// (malformed, truncated) replies, and connects that stall.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace gantry::test {

// A backend that answers every connection with fixed bytes and then closes: for
// malformed and truncated responses.
class RawBackend {
 public:
  explicit RawBackend(std::string reply) : reply_(std::move(reply)) {
    fd_ = listen_loopback(64, port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        char buf[4096];
        ::recv(c, buf, sizeof buf, 0);  // the request header
        ::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~RawBackend() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port = 0;

 private:
  std::string reply_;
  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A listening socket that never accepts, its backlog filled: connects to it stall.
class BlackHole {
 public:
  BlackHole() {
    fd_ = listen_loopback(0, port);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 8; ++i) {
      int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      fillers_.push_back(c);
    }
    std::this_thread::sleep_for(100ms);
  }
  ~BlackHole() {
    for (int c : fillers_) ::close(c);
    ::close(fd_);
  }
  uint16_t port = 0;

 private:
  int fd_;
  std::vector<int> fillers_;
};

// A backend that records every byte it receives and answers each request head with a
// 200 (then closes): to show what reached a backend, and that a refused request did not.
class RecordingBackend {
 public:
  RecordingBackend() {
    fd_ = listen_loopback(64, port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        std::string got;
        char buf[4096];
        for (;;) {
          pollfd q{c, POLLIN, 0};
          if (::poll(&q, 1, 300) <= 0) break;  // a body that never ends: stop listening
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          got.append(buf, static_cast<size_t>(n));
          {
            std::lock_guard lock(mutex_);
            seen_.append(buf, static_cast<size_t>(n));
          }
          if (complete(got)) {
            const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
            ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
            break;
          }
        }
        ::close(c);
      }
    });
  }
  ~RecordingBackend() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string take() {
    std::lock_guard lock(mutex_);
    return std::exchange(seen_, {});
  }
  uint16_t port = 0;

 private:
  // The head and, as its framing says, the whole body.
  static bool complete(const std::string& got) {
    const size_t end = got.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    const std::string head = got.substr(0, end);
    if (head.find("Transfer-Encoding: chunked") != std::string::npos) return got.ends_with("0\r\n\r\n");
    if (size_t cl = head.find("Content-Length: "); cl != std::string::npos)
      return got.size() >= end + 4 + std::stoul(head.substr(cl + 16));
    return true;
  }
  int fd_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::string seen_;
  std::thread thread_;
};

}  // namespace gantry::test
