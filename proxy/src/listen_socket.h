// A listening socket for one worker's acceptor, made on the control thread before the
// snapshot that needs it is published: a port that cannot be bound is known (and put in
// the status) before any worker switches, and a worker never fails half-way through.
#pragma once

#include <cstdint>
#include <string>

#include "gantry/common/result.h"

namespace gantry::proxy {

// SO_REUSEADDR and SO_REUSEPORT (every worker binds its own socket on the same address;
// the kernel spreads connections among them), bound and listening, non-blocking.
Result<int> open_listen_socket(const std::string& address, uint16_t port, int backlog = 4096);

}  // namespace gantry::proxy
