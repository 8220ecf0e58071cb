// Waits until `done()` holds, polling, for at most `limit`; returns whether it held. For
// effects that cross a process or a thread (a watch event, a status write).
#pragma once

#include <chrono>
#include <thread>

namespace gantry::test {

template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(5)))
    if (done()) return true;
  return done();
}

}  // namespace gantry::test
