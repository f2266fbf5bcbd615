// The pipe transport: bytes in through one descriptor, out through another. Pipes to and from a
// child process, the process's own stdin/stdout, named FIFOs (or one descriptor for both ways).
//
// Same behaviour as the socket transport: read_some/write_some never block (both descriptors
// are set to O_NONBLOCK), errc::would_block on EAGAIN, errc::end_of_stream when every writer of
// the read end has closed it, EINTR retried, other failures as errno in std::system_category
// (EPIPE when the reader of the write end has gone), and SIGPIPE is never raised.
//
// O_NONBLOCK belongs to the open file, not to the descriptor: on stdin/stdout it is also seen by
// every other process sharing them (a shell, a terminal). Programs that hand their standard
// streams to a pipe_transport own them for the duration.
#pragma once

#include "secctx/transport/detail/posix.hpp"
#include "secctx/transport/transport.hpp"

#include <csignal>
#include <ctime>
#include <pthread.h>
#include <unistd.h>

#include <utility>

namespace secctx {

namespace detail {

// write(2) on a pipe has no MSG_NOSIGNAL: a write to a pipe without readers raises SIGPIPE,
// whose default action kills the process. A library cannot change the process's disposition
// (the application may rely on it, and other threads share it), so the standard technique is
// thread-local: block SIGPIPE in this thread around the write; if the write failed with EPIPE,
// the kernel made SIGPIPE pending for this thread, and we consume it with a zero-timeout
// sigtimedwait() before the old mask comes back (otherwise it would be delivered the moment the
// mask is restored). A SIGPIPE that was already pending before the write is not ours and is left
// alone.
inline io_result write_without_sigpipe(int fd, std::span<const std::byte> from) noexcept {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t old_mask;
    if (const int e = ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask); e != 0)
        return {0, errno_code(e)};
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;

    ssize_t n;
    do {
        n = ::write(fd, from.data(), from.size());
    } while (n < 0 && errno == EINTR);
    const int write_errno = errno;

    if (n < 0 && write_errno == EPIPE && !was_pending) {
        const timespec no_wait{0, 0};
        while (::sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {
        }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    errno = write_errno;
    return write_result(n);
}

} // namespace detail

class pipe_transport {
public:
    pipe_transport() noexcept = default;

    // Takes ownership of both descriptors (they may be the same one, closed once) and makes
    // them non-blocking.
    pipe_transport(int read_fd, int write_fd) noexcept
        : read_fd_(read_fd), write_fd_(write_fd), owned_(true) {
        prepare();
    }

    // Uses the descriptors without owning them: the application closes them.
    static pipe_transport borrow(int read_fd, int write_fd) noexcept {
        pipe_transport t;
        t.read_fd_ = read_fd;
        t.write_fd_ = write_fd;
        t.prepare();
        return t;
    }

    // The process's own stdin and stdout, borrowed.
    static pipe_transport standard_streams() noexcept {
        return borrow(STDIN_FILENO, STDOUT_FILENO);
    }

    pipe_transport(pipe_transport&& other) noexcept
        : read_fd_(std::exchange(other.read_fd_, -1)),
          write_fd_(std::exchange(other.write_fd_, -1)), owned_(std::exchange(other.owned_, false)),
          error_(other.error_) {}
    pipe_transport& operator=(pipe_transport&& other) noexcept {
        if (this != &other) {
            close();
            read_fd_ = std::exchange(other.read_fd_, -1);
            write_fd_ = std::exchange(other.write_fd_, -1);
            owned_ = std::exchange(other.owned_, false);
            error_ = other.error_;
        }
        return *this;
    }
    pipe_transport(const pipe_transport&) = delete;
    pipe_transport& operator=(const pipe_transport&) = delete;
    ~pipe_transport() { close(); }

    io_result read_some(std::span<std::byte> into) noexcept {
        if (error_)
            return {0, error_};
        if (read_fd_ < 0)
            return {0, detail::errno_code(EBADF)};
        for (;;) {
            const ssize_t n = ::read(read_fd_, into.data(), into.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0 && into.empty())
                return {0, {}};
            return detail::read_result(n);
        }
    }

    io_result write_some(std::span<const std::byte> from) noexcept {
        if (error_)
            return {0, error_};
        if (write_fd_ < 0)
            return {0, detail::errno_code(EPIPE)}; // after close_write()
        return detail::write_without_sigpipe(write_fd_, from);
    }

    std::error_code wait(wait_for what, clock::time_point deadline) noexcept {
        if (error_)
            return error_;
        const int fd = what == wait_for::readable ? read_fd_ : write_fd_;
        if (fd < 0)
            return detail::errno_code(EBADF);
        return detail::poll_until(fd, what, deadline);
    }

    // Half-close: closes (or, if borrowed, forgets) the write end, so the reader at the other
    // end sees end-of-stream; reading goes on.
    void close_write() noexcept {
        if (write_fd_ >= 0 && owned_ && write_fd_ != read_fd_)
            ::close(write_fd_);
        write_fd_ = -1;
    }

    void close() noexcept {
        close_write();
        if (read_fd_ >= 0 && owned_)
            ::close(read_fd_);
        read_fd_ = -1;
        owned_ = false;
    }

    int read_handle() const noexcept { return read_fd_; }
    int write_handle() const noexcept { return write_fd_; }
    bool owns_descriptors() const noexcept { return owned_; }

private:
    // A descriptor that cannot be made non-blocking would make the transport block: every call
    // reports that error instead.
    void prepare() noexcept {
        if (read_fd_ < 0 || write_fd_ < 0) {
            error_ = detail::errno_code(EBADF);
            return;
        }
        error_ = detail::set_nonblocking(read_fd_);
        if (!error_ && write_fd_ != read_fd_)
            error_ = detail::set_nonblocking(write_fd_);
    }

    int read_fd_ = -1;
    int write_fd_ = -1;
    bool owned_ = false;
    std::error_code error_;
};

static_assert(transport<pipe_transport>);

} // namespace secctx
