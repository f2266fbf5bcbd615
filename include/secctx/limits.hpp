// Limits that protect a server from a peer, whatever the transport. Exceeding one fails the
// handshake with its own error code.
#pragma once

#include <chrono>
#include <cstddef>

namespace secctx {

struct handshake_limits {
    // From the first step() to the end of the handshake; errc::timed_out after it.
    // std::chrono::milliseconds::max() means no deadline.
    std::chrono::milliseconds timeout = std::chrono::seconds(30);
    // Bytes received from the peer during the handshake; errc::handshake_too_large beyond it.
    // Real TLS 1.3 handshakes with long chains stay under 16 KiB.
    std::size_t max_bytes_received = std::size_t{128} * 1024;
    // Changes of direction (our flight, their flight, ...); errc::too_many_flights beyond it.
    // A full TLS 1.2 handshake is 4 flights, TLS 1.3 with a HelloRetryRequest 5.
    unsigned max_flights = 8;
};

} // namespace secctx
