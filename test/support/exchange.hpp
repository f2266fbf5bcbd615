// The exchange every transport must carry: a full handshake, data both ways, and a clean
// shutdown in which each side receives the other's close_notify. The server echoes what the
// client sends; both ends are driven by the blocking API (run(), write_all(), read_exactly(),
// shutdown()) within one deadline, so a transport that loses a wakeup times out instead of
// hanging.
#pragma once

#include "support/drive.hpp"
#include "support/pki.hpp"

#include <string>

namespace secctx::test {

struct exchange_result {
    std::error_code error;
    std::string where; // which stage failed, for the test's message
};

// Server: handshake, read `size` bytes, send them back, read the client's close_notify, send its
// own.
template <transport Transport>
exchange_result serve_echo(Transport transport, const credentials& creds, std::size_t size,
                           clock::time_point deadline) {
    basic_handshake<server, Transport, dynamic_buffer> handshake{server{creds},
                                                                 std::move(transport)};
    if (const auto ec = handshake.run(deadline))
        return {ec, "server handshake: " + handshake.error_detail()};
    basic_channel_for<decltype(handshake)> channel{std::move(handshake)};
    bytes data(size);
    if (const auto ec = channel.read_exactly(data, deadline))
        return {ec, "server read"};
    if (const auto ec = channel.write_all(data, deadline))
        return {ec, "server write"};
    std::byte more[16];
    if (const auto r = channel.read(more, deadline); r.error != errc::end_of_stream)
        return {r.error ? r.error : make_error_code(errc::protocol_error),
                "server waiting for close_notify"};
    if (const auto ec = channel.shutdown(deadline))
        return {ec, "server shutdown"};
    return {};
}

// Client: handshake, send `size` random bytes, read the same bytes back, shut down.
template <transport Transport>
exchange_result echo_client(Transport transport, const credentials& creds, std::size_t size,
                            clock::time_point deadline) {
    basic_handshake<client, Transport, dynamic_buffer> handshake{client{creds, "localhost"},
                                                                 std::move(transport)};
    if (const auto ec = handshake.run(deadline))
        return {ec, "client handshake: " + handshake.error_detail()};
    basic_channel_for<decltype(handshake)> channel{std::move(handshake)};
    const bytes sent = random_bytes(size, static_cast<std::uint32_t>(size));
    if (const auto ec = channel.write_all(sent, deadline))
        return {ec, "client write"};
    bytes echoed(size);
    if (const auto ec = channel.read_exactly(echoed, deadline))
        return {ec, "client read"};
    if (echoed != sent)
        return {make_error_code(errc::protocol_error), "the echo differs from what was sent"};
    if (const auto ec = channel.shutdown(deadline))
        return {ec, "client shutdown"};
    return {};
}

} // namespace secctx::test
