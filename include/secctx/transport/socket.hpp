// The socket transport: a connected stream socket (TCP over IPv4 or IPv6, or a Unix-domain
// stream socket), made non-blocking.
//
//   read_some / write_some  never block: errc::would_block when the socket cannot move bytes now
//                           (EAGAIN), errc::end_of_stream after the peer's FIN, EINTR retried.
//                           Any other failure is the socket's own errno in std::system_category,
//                           so a reset peer (ECONNRESET) is never taken for a clean end of stream.
//                           Writes use MSG_NOSIGNAL: SIGPIPE is never raised, a write to a closed
//                           peer returns EPIPE.
//   wait                    poll() until readable/writable or the deadline (errc::timed_out);
//                           a signal (EINTR) restarts it with the time that is left.
//
// A socket_transport owns its descriptor (closed by the destructor) unless it was made with
// socket_transport::borrow(), for a descriptor the application keeps owning. Either way the
// descriptor is set to O_NONBLOCK.
//
// connect_tcp / connect_unix and socket_listener make the descriptor for you and return a
// std::error_code; nothing here throws. Addresses are numeric ("127.0.0.1:443", "[::1]:443"):
// name resolution cannot honour a deadline and is left to the application.
#pragma once

#include "secctx/transport/detail/posix.hpp"
#include "secctx/transport/transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace secctx {

class socket_transport {
public:
    // An empty transport (no descriptor), to be assigned.
    socket_transport() noexcept = default;

    // Takes ownership of `fd`, a connected stream socket, and makes it non-blocking.
    explicit socket_transport(int fd) noexcept : fd_(fd), owned_(true) { prepare(); }

    // Uses `fd` without owning it: the application closes it, after this transport is gone.
    static socket_transport borrow(int fd) noexcept {
        socket_transport t;
        t.fd_ = fd;
        t.owned_ = false;
        t.prepare();
        return t;
    }

    socket_transport(socket_transport&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), owned_(std::exchange(other.owned_, false)),
          error_(other.error_) {}
    socket_transport& operator=(socket_transport&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
            owned_ = std::exchange(other.owned_, false);
            error_ = other.error_;
        }
        return *this;
    }
    socket_transport(const socket_transport&) = delete;
    socket_transport& operator=(const socket_transport&) = delete;
    ~socket_transport() { close(); }

    io_result read_some(std::span<std::byte> into) noexcept {
        if (error_)
            return {0, error_};
        for (;;) {
            const ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
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
        for (;;) {
            const ssize_t n = ::send(fd_, from.data(), from.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            return detail::write_result(n);
        }
    }

    std::error_code wait(wait_for what, clock::time_point deadline) noexcept {
        if (error_)
            return error_;
        return detail::poll_until(fd_, what, deadline);
    }

    // Half-close: the peer reads end-of-stream after what was sent; reading goes on.
    std::error_code shutdown_write() noexcept {
        if (::shutdown(fd_, SHUT_WR) < 0)
            return detail::errno_code();
        return {};
    }

    // Closes the descriptor if owned (a borrowed one is only forgotten).
    void close() noexcept {
        if (fd_ >= 0 && owned_)
            ::close(fd_);
        fd_ = -1;
        owned_ = false;
    }

    // Gives up ownership: the caller closes the returned descriptor.
    int release() noexcept {
        owned_ = false;
        return std::exchange(fd_, -1);
    }

    int native_handle() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    bool owns_descriptor() const noexcept { return owned_; }

private:
    // A descriptor that cannot be made non-blocking would make read_some block: every call
    // reports that error instead.
    void prepare() noexcept {
        error_ = fd_ < 0 ? detail::errno_code(EBADF) : detail::set_nonblocking(fd_);
    }

    int fd_ = -1;
    bool owned_ = false;
    std::error_code error_;
};

static_assert(transport<socket_transport>);

namespace detail {

struct socket_address {
    sockaddr_storage storage{};
    socklen_t size = 0;
    const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
    int family() const noexcept { return storage.ss_family; }
};

// "127.0.0.1:443" or "[::1]:443" (also "::1" with a separate port).
inline std::error_code parse_ip(std::string_view host, std::uint16_t port,
                                socket_address& out) noexcept {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    char text[INET6_ADDRSTRLEN] = {};
    if (host.size() >= sizeof text)
        return std::make_error_code(std::errc::invalid_argument);
    std::memcpy(text, host.data(), host.size());
    out = {};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (::inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out.size = sizeof(sockaddr_in);
        return {};
    }
    if (::inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        out.size = sizeof(sockaddr_in6);
        return {};
    }
    return std::make_error_code(std::errc::invalid_argument);
}

inline std::error_code parse_endpoint(std::string_view endpoint, socket_address& out) noexcept {
    const auto colon = endpoint.rfind(':');
    if (colon == std::string_view::npos)
        return std::make_error_code(std::errc::invalid_argument);
    const std::string_view host = endpoint.substr(0, colon);
    const std::string_view digits = endpoint.substr(colon + 1);
    std::uint16_t port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
        return std::make_error_code(std::errc::invalid_argument);
    // An IPv6 address needs its brackets when a port follows: "::1:443" is ambiguous.
    if (host.find(':') != std::string_view::npos && host.front() != '[')
        return std::make_error_code(std::errc::invalid_argument);
    return parse_ip(host, port, out);
}

inline std::error_code unix_address(std::string_view path, socket_address& out) noexcept {
    out = {};
    auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
    if (path.empty() || path.size() >= sizeof un->sun_path)
        return std::make_error_code(std::errc::filename_too_long);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    out.size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return {};
}

// A non-blocking connect, completed by poll() within the deadline.
inline std::error_code connect_to(const socket_address& address, clock::time_point deadline,
                                  socket_transport& out) noexcept {
    const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return errno_code();
    socket_transport connecting(fd); // closes the descriptor on every failure below
    // A non-blocking connect that is interrupted (EINTR) goes on in the background like one
    // in progress: both are completed by waiting for writability, then read from SO_ERROR.
    if (::connect(fd, address.get(), address.size) < 0) {
        if (errno != EINPROGRESS && errno != EINTR)
            return errno_code();
        if (const auto ec = poll_until(fd, wait_for::writable, deadline))
            return ec;
        int error = 0;
        socklen_t size = sizeof error;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0)
            return errno_code();
        if (error != 0)
            return errno_code(error);
    }
    if (address.family() != AF_UNIX) {
        // Handshake flights are small and latency-bound: send them at once.
        const int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    out = std::move(connecting);
    return {};
}

} // namespace detail

// Connects over TCP to a numeric "address:port" ("127.0.0.1:443", "[::1]:443") by `deadline`
// (errc::timed_out), or the connect's own error (ECONNREFUSED...).
inline std::error_code connect_tcp(std::string_view endpoint, clock::time_point deadline,
                                   socket_transport& out) noexcept {
    detail::socket_address address;
    if (const auto ec = detail::parse_endpoint(endpoint, address))
        return ec;
    return detail::connect_to(address, deadline, out);
}

// The same with the address ("127.0.0.1", "::1") and the port apart.
inline std::error_code connect_tcp(std::string_view address, std::uint16_t port,
                                   clock::time_point deadline, socket_transport& out) noexcept {
    detail::socket_address a;
    if (const auto ec = detail::parse_ip(address, port, a))
        return ec;
    return detail::connect_to(a, deadline, out);
}

// Connects to the Unix-domain stream socket at `path`.
inline std::error_code connect_unix(std::string_view path, clock::time_point deadline,
                                    socket_transport& out) noexcept {
    detail::socket_address address;
    if (const auto ec = detail::unix_address(path, address))
        return ec;
    return detail::connect_to(address, deadline, out);
}

// A listening stream socket (TCP v4/v6 or Unix) whose accept() waits until a deadline.
// A Unix listener does not remove its socket file: the application unlinks the path.
class socket_listener {
public:
    socket_listener() noexcept = default;
    socket_listener(socket_listener&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    socket_listener& operator=(socket_listener&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~socket_listener() { close(); }

    // Listens on a numeric "address:port"; port 0 picks a free one (see port()).
    static std::error_code listen_tcp(std::string_view endpoint, socket_listener& out,
                                      int backlog = SOMAXCONN) noexcept {
        detail::socket_address address;
        if (const auto ec = detail::parse_endpoint(endpoint, address))
            return ec;
        return out.open(address, backlog);
    }

    static std::error_code listen_unix(std::string_view path, socket_listener& out,
                                       int backlog = SOMAXCONN) noexcept {
        detail::socket_address address;
        if (const auto ec = detail::unix_address(path, address))
            return ec;
        return out.open(address, backlog);
    }

    // The next connection, by `deadline` (errc::timed_out).
    std::error_code accept(socket_transport& out,
                           clock::time_point deadline = clock::time_point::max()) noexcept {
        for (;;) {
            const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                sockaddr_storage local{};
                socklen_t local_size = sizeof local;
                if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) == 0 &&
                    local.ss_family != AF_UNIX) {
                    const int on = 1;
                    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                }
                out = socket_transport(fd);
                return {};
            }
            // A connection that went away before accept() (ECONNABORTED) is not our failure.
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return detail::errno_code();
            if (const auto ec = detail::poll_until(fd_, wait_for::readable, deadline))
                return ec;
        }
    }

    // The local port (TCP), 0 for a Unix listener or on error.
    std::uint16_t port() const noexcept {
        sockaddr_storage local{};
        socklen_t size = sizeof local;
        if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &size) < 0)
            return 0;
        if (local.ss_family == AF_INET)
            return ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
        if (local.ss_family == AF_INET6)
            return ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port);
        return 0;
    }

    void close() noexcept {
        if (fd_ >= 0)
            ::close(std::exchange(fd_, -1));
    }

    int native_handle() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }

private:
    std::error_code open(const detail::socket_address& address, int backlog) noexcept {
        close();
        const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            return detail::errno_code();
        fd_ = fd;
        if (address.family() != AF_UNIX) {
            const int on = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        }
        if (::bind(fd, address.get(), address.size) < 0 || ::listen(fd, backlog) < 0) {
            const auto ec = detail::errno_code();
            close();
            return ec;
        }
        return {};
    }

    int fd_ = -1;
};

} // namespace secctx
