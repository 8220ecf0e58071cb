// dial: a TCP connection to an endpoint, an IP literal or a DNS name (ExternalName
// Services, mirror targets), resolved on the calling worker without blocking it. Shared
// by the forwarder and the mirrors so both reach a name the same way.
#pragma once

#include <chrono>

#include "asio.h"
#include "deadline_socket.h"
#include "gantry/routing/snapshot.h"

namespace gantry::proxy {

// Connects `stream` within `timeout` (resolution included) and sets TCP_NODELAY.
awaitable<error_code> dial(DeadlineSocket& stream, const routing::Endpoint& endpoint,
                           std::chrono::milliseconds timeout);

}  // namespace gantry::proxy
