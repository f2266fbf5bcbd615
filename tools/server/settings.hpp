// What `secctx server`'s options set for its event loops, and the process limits they meet.
#pragma once

#include "responder.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace secctx::tool {

struct settings {
    mode answer = mode::echo;
    unsigned threads = 1;
    std::size_t max_connections = 1024;
    std::chrono::milliseconds handshake_timeout{60'000}; // nginx's ssl_handshake_timeout
    std::chrono::milliseconds idle_timeout{60'000};
    // Plaintext answered but not yet taken by the peer; beyond it the peer is not reading.
    std::size_t max_output = std::size_t{256} * 1024;
};

inline std::string peer_name(int fd) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
        return "?";
    char text[INET6_ADDRSTRLEN] = "local";
    unsigned port = 0;
    if (address.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
        ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        port = ntohs(v4->sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        port = ntohs(v6->sin6_port);
    }
    return std::string(text) + ":" + std::to_string(port);
}

// The descriptors the process may open: raised to the hard limit, and --max-connections kept
// under it with room for the listener, the loops' epoll and reserve descriptors and stdio, so
// that accepting never runs out of descriptors while connections are counted.
inline std::size_t connections_that_fit(std::size_t wanted, unsigned threads) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return wanted;
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
    const std::size_t spare = 16 + 2 * std::size_t{threads};
    const std::size_t fit = limit.rlim_cur > spare ? limit.rlim_cur - spare : 1;
    if (wanted > fit)
        std::fprintf(stderr,
                     "secctx server: --max-connections lowered to %zu (RLIMIT_NOFILE %llu)\n", fit,
                     static_cast<unsigned long long>(limit.rlim_cur));
    return std::min(wanted, fit);
}

} // namespace secctx::tool
