// DeadlineSocket on a real loopback connection: a read past its deadline ends with
// beast::error::timeout; a deadline moved later while a read waits is honoured at the
// later time (the timer fires early and sets itself again); one moved earlier re-arms;
// no deadline never times out; a socket destroyed with its timer armed leaves nothing
// behind that fires into freed memory.
#include "../../../proxy/src/deadline_socket.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <sys/socket.h>

namespace gantry::proxy {
namespace {

using namespace std::chrono_literals;

struct Pair {
  asio::io_context ioc;
  Acceptor acceptor{ioc.get_executor(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  Socket server{ioc.get_executor()};
  std::unique_ptr<DeadlineSocket> client = std::make_unique<DeadlineSocket>(ioc);

  Pair() {
    client->socket().connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
};

// Runs one read on the client; returns its error and how long it took.
std::pair<error_code, Clock::duration> timed_read(Pair& p, const std::function<void()>& after_start = {}) {
  char byte;
  error_code result = asio::error::would_block;
  const auto start = Clock::now();
  Clock::time_point done;
  p.client->async_read_some(asio::buffer(&byte, 1), [&](error_code ec, size_t) {
    result = ec;
    done = Clock::now();
  });
  if (after_start) after_start();
  while (result == asio::error::would_block && p.ioc.run_one_for(5s)) {
  }
  return {result, done - start};
}

TEST(DeadlineSocket, AReadPastItsDeadlineTimesOut) {
  Pair p;
  p.client->expires_after(50ms);
  auto [ec, took] = timed_read(p);
  EXPECT_EQ(ec, beast::error::timeout) << ec.message();
  EXPECT_GE(took, 45ms);
  EXPECT_LT(took, 1s);
  // The socket stays open: the owner decides, as after tcp_stream's timeout it could not.
  EXPECT_TRUE(p.client->socket().is_open());
}

TEST(DeadlineSocket, ADeadlineMovedLaterIsHonouredAtTheLaterTime) {
  Pair p;
  p.client->expires_after(30ms);
  auto [ec, took] = timed_read(p, [&] { p.client->expires_after(200ms); });
  EXPECT_EQ(ec, beast::error::timeout) << ec.message();
  EXPECT_GE(took, 190ms);
}

TEST(DeadlineSocket, ADeadlineMovedEarlierReArms) {
  Pair p;
  p.client->expires_after(3s);
  char byte;
  // A first read arms the timer for 3 s; the data ends it at once.
  asio::write(p.server, asio::buffer("x", 1));
  error_code first = asio::error::would_block;
  p.client->async_read_some(asio::buffer(&byte, 1), [&](error_code ec, size_t) { first = ec; });
  while (first == asio::error::would_block && p.ioc.run_one_for(1s)) {
  }
  ASSERT_FALSE(first) << first.message();
  p.client->expires_after(40ms);
  auto [ec, took] = timed_read(p);
  EXPECT_EQ(ec, beast::error::timeout) << ec.message();
  EXPECT_LT(took, 1s);
}

TEST(DeadlineSocket, NoDeadlineNeverTimesOutAndDataCompletesTheRead) {
  Pair p;
  p.client->expires_after(30ms);
  p.client->expires_never();
  Timer later(p.ioc.get_executor());
  later.expires_after(150ms);
  later.async_wait([&](error_code) { asio::write(p.server, asio::buffer("y", 1)); });
  auto [ec, took] = timed_read(p);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_GE(took, 140ms);
}

TEST(DeadlineSocket, ACancelIsNotATimeout) {
  Pair p;
  p.client->expires_after(2s);
  auto [ec, took] = timed_read(p, [&] { p.client->cancel(); });
  EXPECT_EQ(ec, asio::error::operation_aborted) << ec.message();
}

TEST(DeadlineSocket, DestroyedWithItsTimerArmedNothingFiresLater) {
  Pair p;
  p.client->expires_after(20ms);
  char byte;
  error_code seen;
  p.client->async_read_some(asio::buffer(&byte, 1), [&](error_code ec, size_t) { seen = ec; });
  p.ioc.poll();
  p.client.reset();  // closes the socket: the read ends aborted
  p.ioc.run_for(200ms);
  EXPECT_EQ(seen, asio::error::operation_aborted) << seen.message();
  // The peer sees the close.
  error_code rec;
  p.server.read_some(asio::buffer(&byte, 1), rec);
  EXPECT_EQ(rec, asio::error::eof);
}

TEST(DeadlineSocket, AConnectPastItsDeadlineTimesOut) {
  asio::io_context ioc;
  DeadlineSocket s(ioc);
  // A listener that never accepts, with its backlog filled, leaves the next SYN unanswered.
  Acceptor full(ioc.get_executor());
  full.open(tcp::v4());
  full.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  full.listen(0);
  std::vector<std::unique_ptr<Socket>> fillers;
  for (int i = 0; i < 8; ++i) {
    fillers.push_back(std::make_unique<Socket>(ioc.get_executor()));
    fillers.back()->open(tcp::v4());
    fillers.back()->non_blocking(true);
    // The system call itself: Asio's connect would wait for the answer that never comes.
    const auto to = full.local_endpoint();
    ::connect(fillers.back()->native_handle(), to.data(), static_cast<socklen_t>(to.size()));
  }
  s.expires_after(100ms);
  error_code result = asio::error::would_block;
  s.async_connect(full.local_endpoint(), [&](error_code ec) { result = ec; });
  while (result == asio::error::would_block && ioc.run_one_for(5s)) {
  }
  EXPECT_EQ(result, beast::error::timeout) << result.message();
}

}  // namespace
}  // namespace gantry::proxy
