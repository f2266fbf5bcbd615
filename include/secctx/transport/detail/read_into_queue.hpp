// The one receive path of the handshake and the channel: make room for what the provider says is
// missing, refuse what can never fit, read once, and commit what arrived.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/error.hpp"
#include "secctx/transport/transport.hpp"

#include <algorithm>
#include <cstddef>

namespace secctx::detail {

// Reads from `t` into `input`, asking for room for at least `missing` bytes (and one). Returns the
// bytes committed (> 0), or one error, each a different next step for the caller:
//   errc::would_block      nothing now (the transport would block, was interrupted, or gave 0);
//   errc::token_too_large  the policy can never hold the peer's token: the peer is owed an alert;
//   errc::out_of_memory    the policy cannot hold it now: a local failure the peer is not told;
//   errc::end_of_stream    the peer closed its side;
//   anything else          the transport's failure.
template <class Transport, class Queue>
io_result read_into_queue(Transport& t, Queue& input, std::size_t missing) noexcept {
    const std::size_t want = std::max<std::size_t>(missing, 1);
    const auto room = input.prepare(want);
    if (room.size() < want)
        return {0, prepare_failure(input, want)};
    const io_result got = t.read_some(room);
    if (no_progress(got))
        return {0, errc::would_block};
    if (got.error)
        return {0, got.error};
    input.commit(got.bytes);
    return got;
}

} // namespace secctx::detail
