// Limits that protect a server from a peer, whatever the transport. Exceeding one fails the
// handshake with its own error code.
#pragma once

#include <chrono>
#include <cstddef>

namespace secctx {

struct handshake_limits {
    // From the first step() to the end of the handshake; errc::timed_out after it.
    // std::chrono::milliseconds::max() means no deadline. The protocol sets no time limit: this
    // bounds how long a peer can hold a connection that is not yet one. It is nginx's default
    // (ssl_handshake_timeout): slow peers sending very large hellos in many records need more
    // than the 10 s that a test suite's peer ran into.
    std::chrono::milliseconds timeout = std::chrono::seconds(60);
    // Bytes received from the peer during the handshake, record headers included;
    // errc::handshake_too_large beyond it. The default refuses no handshake the engine accepts in
    // unpadded records: the most OpenSSL 3 takes from a client is two ClientHellos of 131,400
    // bytes (with a HelloRetryRequest), a certificate list of 102,404 (its max_cert_list) and a
    // CertificateVerify of 16,388, which records of one byte each (TLS allows them) make about
    // 4.3 MB on the wire. TLS 1.3 records may also carry up to 16 KiB of padding each, which would
    // let a peer send gigabytes; this is what bounds that, and the engine's work for a hostile
    // peer (docs/reliability.md measures it).
    std::size_t max_bytes_received = std::size_t{8} << 20;
    // Changes of direction (our flight, their flight, ...); errc::too_many_flights beyond it.
    // A full TLS 1.2 handshake is 4 flights, TLS 1.3 with a HelloRetryRequest 5.
    unsigned max_flights = 8;
};

} // namespace secctx
