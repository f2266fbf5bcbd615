// The byte lanes of the best hand-written loops (openssl-custom-bio, gnutls-push-pull): one fixed
// array per direction, written by one end's engine callback and read by the other's, so the only
// copies are the ones the engines' callback interfaces force (into the lane on write, out of it on
// read).
#pragma once

#include "../pki.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

namespace secctx::bench {

struct lane {
    std::size_t head = 0;
    std::size_t tail = 0;
    std::array<std::byte, 32 * 1024> bytes;

    bool empty() const noexcept { return head == tail; }
    void clear() noexcept { head = tail = 0; }

    // All of `data`, or nothing when it does not fit.
    bool write(const void* data, std::size_t size) noexcept {
        if (size > bytes.size() - tail)
            return false;
        std::memcpy(bytes.data() + tail, data, size);
        tail += size;
        return true;
    }

    // Up to `size` bytes; 0 when the lane is empty.
    std::size_t read(void* data, std::size_t size) noexcept {
        const std::size_t n = std::min(size, tail - head);
        std::memcpy(data, bytes.data() + head, n);
        head += n;
        if (head == tail)
            clear();
        return n;
    }
};

// One end's view of the two lanes.
struct lane_end {
    lane* in;
    lane* out;
};

// A handshake by turns over the two lanes: the client once to start, then each side only when it
// has something new to read, until both are done. `client_step(done)` and `server_step(done)`
// make one engine call for their end (setting `done` when its handshake is complete) and return
// false on anything but progress or waiting for the peer.
template <class ClientStep, class ServerStep>
bool take_turns(const lane& to_server, const lane& to_client, ClientStep client_step,
                ServerStep server_step) {
    bool c_done = false;
    bool s_done = false;
    if (!client_step(c_done))
        return false;
    for (int round = 0; round < max_rounds && !(c_done && s_done); ++round) {
        const bool s_turn = !s_done && !to_server.empty();
        if (s_turn && !server_step(s_done))
            return false;
        const bool c_turn = !c_done && !to_client.empty();
        if (c_turn && !client_step(c_done))
            return false;
        if (!s_turn && !c_turn)
            return false;
    }
    return c_done && s_done;
}

} // namespace secctx::bench
