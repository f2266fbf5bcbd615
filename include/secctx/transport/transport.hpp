// The transport policy: moves bytes between this end and the peer. It knows nothing of TLS.
//
// Requirements, for a transport t:
//   t.read_some(into)   -> io_result. Copies up to into.size() received bytes into `into`, which
//                          the caller (the buffer policy) owns. Must not block: with nothing to
//                          read it returns errc::would_block. After the peer's last byte it returns
//                          errc::end_of_stream. Any other error is the transport's own
//                          (std::system_category for sockets and pipes) and is final.
//   t.write_some(from)  -> io_result. Takes up to from.size() bytes; `from` stays owned by the
//                          caller and only the reported count was taken (short writes are normal).
//                          Must not block: errc::would_block when nothing can be taken now.
//   t.wait(what, deadline) -> std::error_code. Blocks until the transport is readable or writable
//                          (as `what` says) or until `deadline`, whichever is first: success, or
//                          errc::timed_out, or the transport's error. It is the only call that
//                          blocks; run() uses it between non-blocking step()s.
// The three are noexcept: a transport reports every failure as an error code (wrap a throwing API
// and translate), since the handshake and channel loops that call them promise not to throw.
// io_result.bytes is meaningful only when io_result.error is empty. A call interrupted by a signal
// should be retried by the transport itself (secctx's own do); one that reports it anyway
// (std::errc::interrupted, from any of the three calls) is taken as "nothing happened": the loops
// treat it as errc::would_block, and a wait() that reports it is waited again.
#pragma once

#include "secctx/error.hpp"

#include <chrono>
#include <concepts>
#include <cstddef>
#include <span>
#include <system_error>

namespace secctx {

using clock = std::chrono::steady_clock;

struct io_result {
    std::size_t bytes = 0;
    std::error_code error;
};

enum class wait_for { readable, writable };

// A read or write that moved nothing and failed nothing: errc::would_block, an interruption the
// transport passed on, or zero bytes without an error. Every loop treats the three alike.
inline bool no_progress(const io_result& r) noexcept {
    return r.error == errc::would_block || r.error == std::errc::interrupted ||
           (!r.error && r.bytes == 0);
}

// clang-format off
template <class T>
concept transport = requires(T& t, std::span<std::byte> into, std::span<const std::byte> from,
                             wait_for what, clock::time_point deadline) {
    { t.read_some(into) } noexcept -> std::same_as<io_result>;
    { t.write_some(from) } noexcept -> std::same_as<io_result>;
    { t.wait(what, deadline) } noexcept -> std::same_as<std::error_code>;
};
// clang-format on

} // namespace secctx
