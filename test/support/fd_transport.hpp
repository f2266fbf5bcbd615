// A minimal transport over a connected, non-blocking POSIX descriptor, for tests that need a real
// peer (openssl s_server / s_client) before the library's own socket transport exists.
#pragma once

#include "secctx/transport/transport.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace secctx::test {

class fd_transport {
public:
    explicit fd_transport(int fd) noexcept : fd_(fd) {
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    }
    fd_transport(fd_transport&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    fd_transport& operator=(fd_transport&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~fd_transport() {
        if (fd_ >= 0)
            ::close(fd_);
    }

    io_result read_some(std::span<std::byte> into) noexcept {
        for (;;) {
            const ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
            if (n > 0)
                return {static_cast<std::size_t>(n), {}};
            if (n == 0)
                return {0, errc::end_of_stream};
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return {0, errc::would_block};
            return {0, std::error_code(errno, std::system_category())};
        }
    }

    io_result write_some(std::span<const std::byte> from) noexcept {
        for (;;) {
            const ssize_t n = ::send(fd_, from.data(), from.size(), MSG_NOSIGNAL);
            if (n >= 0)
                return {static_cast<std::size_t>(n), {}};
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return {0, errc::would_block};
            return {0, std::error_code(errno, std::system_category())};
        }
    }

    std::error_code wait(wait_for what, clock::time_point deadline) noexcept {
        pollfd p{fd_, static_cast<short>(what == wait_for::readable ? POLLIN : POLLOUT), 0};
        for (;;) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
            const int ms = deadline == clock::time_point::max()
                               ? -1
                               : static_cast<int>(std::clamp<long long>(left.count(), 0, 60'000));
            const int r = ::poll(&p, 1, ms);
            if (r > 0)
                return {};
            if (r == 0 && clock::now() >= deadline)
                return errc::timed_out;
            if (r < 0 && errno != EINTR)
                return std::error_code(errno, std::system_category());
        }
    }

    // Connects to 127.0.0.1:port, retrying until `deadline` (a server that is still starting).
    static std::error_code connect_loopback(unsigned short port, clock::time_point deadline,
                                            fd_transport& out) {
        for (;;) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(port);
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
                out = fd_transport(fd);
                return {};
            }
            const int error = errno;
            ::close(fd);
            if (clock::now() >= deadline)
                return std::error_code(error, std::system_category());
            ::usleep(20'000);
        }
    }

private:
    int fd_ = -1;
};

} // namespace secctx::test
