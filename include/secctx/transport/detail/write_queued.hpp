// The one loop that hands a queue's bytes to a transport, for the handshake's flights, the
// channel's records and the alerts both owe the peer.
#pragma once

#include "secctx/transport/transport.hpp"

#include <cstddef>
#include <system_error>

namespace secctx::detail {

// Writes the front of `queue` to `t` until the queue is empty (success), the transport takes
// nothing now (errc::would_block) or fails (its error); `written` grows by what it took.
template <class Transport, class Queue>
std::error_code write_queued(Transport& t, Queue& queue, std::size_t& written) noexcept {
    while (queue.size() != 0) {
        const io_result put = t.write_some(queue.data());
        if (no_progress(put))
            return errc::would_block;
        if (put.error)
            return put.error;
        queue.consume(put.bytes);
        written += put.bytes;
    }
    return {};
}

} // namespace secctx::detail
