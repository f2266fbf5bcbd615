// `secctx server --stdio`: TLS on the process's own stdin and stdout, for one connection.
#pragma once

#include "../options.hpp"
#include "responder.hpp"
#include "settings.hpp"

#include "secctx/buffer/dynamic.hpp"
#include "secctx/channel.hpp"
#include "secctx/handshake.hpp"
#include "secctx/transport/pipe.hpp"

#include <cstdio>
#include <span>
#include <string>

namespace secctx::tool {

// One connection over this process's stdin/stdout (pipe transport), blocking.
template <class Engine>
int serve_stdio(const typename Engine::credentials& creds, const settings& s) {
    using server = typename Engine::server;
    using stdio_handshake = basic_handshake<server, pipe_transport, dynamic_buffer>;
    handshake_limits limits;
    limits.timeout = s.handshake_timeout;
    stdio_handshake handshake{server{creds}, pipe_transport::standard_streams(), dynamic_buffer(),
                              limits};
    if (const auto ec = handshake.run()) {
        std::fprintf(stderr, "stdio handshake failed: %s\n",
                     describe(ec, handshake.error_detail()).c_str());
        return 1;
    }
    basic_channel_for<stdio_handshake> channel{std::move(handshake)};
    const auto attributes = channel.attributes();
    std::fprintf(stderr, "stdio %s %s alpn=%s\n", attributes.protocol.c_str(),
                 attributes.cipher.c_str(),
                 attributes.alpn.empty() ? "-" : attributes.alpn.c_str());
    responder reply(s.answer);
    std::byte buffer[16384];
    for (;;) {
        const io_result r = channel.read(buffer, clock::time_point::max());
        if (r.error == errc::end_of_stream) {
            std::fprintf(stderr, "stdio closed by the peer (close_notify)\n");
            return channel.shutdown_send() ? 1 : 0;
        }
        if (r.error) {
            std::fprintf(stderr, "stdio %s\n", describe(r.error, channel.error_detail()).c_str());
            return 1;
        }
        std::string out;
        const bool close = reply.answer({reinterpret_cast<const char*>(buffer), r.bytes}, out);
        if (const auto ec =
                channel.write_all(std::as_bytes(std::span(out)), clock::time_point::max()))
            return 1;
        if (close) {
            channel.shutdown_send();
            return 0;
        }
    }
}

} // namespace secctx::tool
