// The WebSocket round trip the tunnel tests share: a small, a 100 kB and a last text
// message, each expected back unchanged from gantry-echo's /ws.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <string>
#include <vector>

namespace gantry::test {

template <class WebSocketStream>
void expect_websocket_echo(WebSocketStream& ws) {
  for (const std::string& msg : std::vector<std::string>{"hello", std::string(100000, 'x'), "bye"}) {
    ws.write(boost::asio::buffer(msg));
    boost::beast::flat_buffer buf;
    ws.read(buf);
    EXPECT_EQ(boost::beast::buffers_to_string(buf.data()), msg);
  }
}

}  // namespace gantry::test
