// dial: a TCP connection to an endpoint, an IP literal or a DNS name (ExternalName
// Services, mirror targets), resolved on the calling worker without blocking it; and
// connect_upstream, dial plus the TLS handshake of backend-protocol HTTPS. Shared by the
// HTTP/1.1 forwarder, the HTTP/2 streams and the mirrors so all reach a name the same way.
#pragma once

#include <chrono>

#include "asio.h"
#include "deadline_socket.h"
#include "gantry/routing/snapshot.h"
#include "upstream_pool.h"

namespace gantry::proxy {

// Connects `stream` within `timeout` (resolution included) and sets TCP_NODELAY.
awaitable<error_code> dial(DeadlineSocket& stream, const routing::Endpoint& endpoint,
                           std::chrono::milliseconds timeout);

// An upstream connection to `endpoint`: dialled, then, when `tls` (the worker's client
// context) is given, the TLS handshake with `sni` as the server name (never an address);
// the handshake shares the connect timeout. `alpn` (wire format, "\x02h2"): the protocols
// offered in the handshake; none when empty.
awaitable<error_code> connect_upstream(UpstreamConnection& c, const routing::Endpoint& endpoint,
                                       std::chrono::milliseconds timeout, SSL_CTX* tls, std::string_view sni,
                                       std::string_view alpn = {});

}  // namespace gantry::proxy
