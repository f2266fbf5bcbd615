// What the socket and pipe transports share: errno as a std::error_code, O_NONBLOCK, and a
// poll() that honours a deadline across EINTR. Not part of the public API.
#pragma once

#include "secctx/transport/transport.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <system_error>

namespace secctx::detail {

inline std::error_code errno_code(int value = errno) noexcept {
    return {value, std::system_category()};
}

inline std::error_code set_nonblocking(int fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0)
        return errno_code();
    if ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return errno_code();
    return {};
}

// The result of a read()/recv() that returned `n`, with errno as it left it.
inline io_result read_result(ssize_t n) noexcept {
    if (n > 0)
        return {static_cast<std::size_t>(n), {}};
    if (n == 0)
        return {0, errc::end_of_stream};
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return {0, errc::would_block};
    return {0, errno_code()};
}

inline io_result write_result(ssize_t n) noexcept {
    if (n >= 0)
        return {static_cast<std::size_t>(n), {}};
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return {0, errc::would_block};
    return {0, errno_code()};
}

// Waits until `fd` is ready for `events` or `deadline` passes. Ready includes POLLHUP and
// POLLERR: the next read or write then reports the end or the error itself. A signal (EINTR)
// restarts the wait with the time that is left.
inline std::error_code poll_until(int fd, short events, clock::time_point deadline) noexcept {
    pollfd p{fd, events, 0};
    for (;;) {
        int ms = -1;
        if (deadline != clock::time_point::max()) {
            const auto now = clock::now();
            // Long waits are cut into pieces of a minute, so the int never overflows (and a
            // deadline already past is never subtracted from, whatever its value).
            ms = deadline <= now
                     ? 0
                     : static_cast<int>(std::min<long long>(
                           std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count(),
                           60'000));
        }
        const int r = ::poll(&p, 1, ms);
        if (r > 0) {
            if (p.revents & POLLNVAL)
                return errno_code(EBADF);
            return {};
        }
        if (r == 0) {
            if (clock::now() >= deadline)
                return errc::timed_out;
            continue;
        }
        if (errno != EINTR)
            return errno_code();
    }
}

inline std::error_code poll_until(int fd, wait_for what, clock::time_point deadline) noexcept {
    return poll_until(fd, static_cast<short>(what == wait_for::readable ? POLLIN : POLLOUT),
                      deadline);
}

} // namespace secctx::detail
