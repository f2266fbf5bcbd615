// The secctx variants: basic_handshake<client|server, memory_transport, Buffers> on either engine,
// both ends stepped in turn over one memory_link that is clear()ed and reused; transfer() through
// the channels' write_some()/read_some().
//
//   secctx-dynamic, secctx-fixed, secctx-pooled  the OpenSSL provider with dynamic_buffer,
//                                                 fixed_buffer (inline queues of one record each)
//                                                 and pooled_buffer (on a pool reserved up front);
//   secctx-gnutls-fixed, secctx-gnutls-pooled     the GnuTLS provider with the last two.
#pragma once

#include "../pki.hpp"
#include "secctx/buffer/dynamic.hpp"
#include "secctx/buffer/fixed.hpp"
#include "secctx/buffer/pooled.hpp"
#include "secctx/channel.hpp"
#include "secctx/handshake.hpp"
#include "secctx/transport/memory.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <utility>

namespace secctx::bench {

// One loop, any engine, any of three buffer policies.

// Each policy's buffers for one end. The fixed queues hold one full record each way (what a
// channel needs; a handshake flight is far smaller), inline. The pool holds blocks for both ends
// up front, so steady-state handshakes and records take every block from it.
struct dynamic_buffers {
    dynamic_buffer make() { return dynamic_buffer(); }
};

struct fixed_buffers {
    using type = fixed_buffer<channel_input_capacity>;
    type make() { return type(); }
};

struct pooled_buffers {
    pooled_buffers() { pool.reserve(4); }
    pooled_buffer make() { return pooled_buffer{pool}; }
    buffer_pool pool{8};
};

template <class Engine, class Buffers>
class secctx_loop {
    using buffer_type = decltype(std::declval<Buffers&>().make());
    using client = typename Engine::client;
    using server = typename Engine::server;
    using client_handshake = basic_handshake<client, memory_transport, buffer_type>;
    using server_handshake = basic_handshake<server, memory_transport, buffer_type>;

public:
    // A link with room for a few records in flight, so that it never grows inside a measurement.
    explicit secctx_loop(const pki& p) : pki_(p) { link_.reserve(4 * 16384); }

    bool handshake() {
        return handshake_then([](client_handshake&, server_handshake&) { return true; });
    }

    // Establishes the connection that transfer() uses.
    bool connect() {
        return handshake_then([this](client_handshake& c, server_handshake& s) {
            client_.emplace(std::move(c));
            server_.emplace(std::move(s));
            return true;
        });
    }

    // The client sends `message` (one record when it is at most 16 KiB), the server reads it into
    // `into` (of the same size).
    bool transfer(std::span<const std::byte> message, std::span<std::byte> into) {
        for (std::size_t sent = 0, got = 0; got < into.size();) {
            if (sent < message.size()) {
                const io_result put = client_->write_some(message.subspan(sent));
                if (put.error)
                    return false;
                sent += put.bytes;
            }
            const io_result read = server_->read_some(into.subspan(got));
            if (read.error && read.error != errc::would_block)
                return false;
            got += read.bytes;
        }
        return true;
    }

private:
    // A new pair of ends over the cleared link, handshaking, then `then(c, s)` if it succeeded.
    template <class Then>
    bool handshake_then(Then then) {
        link_.clear();
        client_handshake c{client{Engine::client_credentials(pki_), server_name},
                           link_.client_end(), buffers_.make()};
        server_handshake s{server{Engine::server_credentials(pki_)}, link_.server_end(),
                           buffers_.make()};
        return run(c, s) && then(c, s);
    }

    static bool run(client_handshake& c, server_handshake& s) {
        for (int round = 0; round < max_rounds; ++round) {
            const step_status cs = c.step().status;
            const step_status ss = s.step().status;
            if (cs == step_status::failed || ss == step_status::failed)
                return false;
            if (cs == step_status::done && ss == step_status::done)
                return true;
        }
        return false;
    }

    const pki& pki_;
    memory_link link_;
    Buffers buffers_;
    std::optional<basic_channel_for<client_handshake>> client_;
    std::optional<basic_channel_for<server_handshake>> server_;
};

} // namespace secctx::bench
