// Helpers that drive two handshakes against each other from one thread.
#pragma once

#include "secctx/secctx.hpp"

#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace secctx::test {

using bytes = std::vector<std::byte>;

using client_handshake = basic_handshake<client, memory_transport, dynamic_buffer>;
using server_handshake = basic_handshake<server, memory_transport, dynamic_buffer>;

inline constexpr tls_version versions[] = {tls_version::tls1_3, tls_version::tls1_2};

inline const char* name_of(tls_version version) {
    return version == tls_version::tls1_3 ? "TLSv1.3" : "TLSv1.2";
}

inline bytes random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    bytes out(n);
    for (auto& b : out)
        b = std::byte{static_cast<std::uint8_t>(rng())};
    return out;
}

// Sized once and copied into: inserting into a vector built from `a` made GCC 12 at -O3 warn
// (-Warray-bounds) about the copy, a false positive that stopped a -Werror Release build.
inline bytes concat(std::span<const std::byte> a, std::span<const std::byte> b) {
    bytes out(a.size() + b.size());
    if (!a.empty())
        std::memcpy(out.data(), a.data(), a.size());
    if (!b.empty())
        std::memcpy(out.data() + a.size(), b.data(), b.size());
    return out;
}

// "secctx: the peer's certificate has expired": comparable and readable in a failure message.
inline std::string text(std::error_code ec) {
    return ec ? std::string(ec.category().name()) + ": " + ec.message() : "success";
}

inline bytes to_bytes(std::string_view text) {
    bytes out(text.size());
    std::memcpy(out.data(), text.data(), text.size());
    return out;
}

inline bytes to_bytes(std::span<const std::byte> span) {
    return bytes(span.begin(), span.end());
}

inline bool finished(const step_result& r) {
    return r.status == step_status::done || r.status == step_status::failed;
}

// Steps both ends in turn until neither can make progress. Returns the last results.
template <class Client, class Server>
std::pair<step_result, step_result> drive(Client& client, Server& server, int max_rounds = 64) {
    step_result c, s;
    for (int round = 0; round < max_rounds; ++round) {
        c = client.step();
        s = server.step();
        if (finished(c) && finished(s))
            break;
    }
    return {c, s};
}

// Reads everything a memory end has pending.
inline bytes drain(memory_transport& end) {
    bytes out;
    std::byte chunk[4096];
    for (;;) {
        const io_result r = end.read_some(chunk);
        if (r.error)
            return out;
        out.insert(out.end(), chunk, chunk + r.bytes);
    }
}

inline void put(memory_transport& end, std::span<const std::byte> data) {
    while (!data.empty()) {
        const io_result r = end.write_some(data);
        if (r.error)
            return;
        data = data.subspan(r.bytes);
    }
}

} // namespace secctx::test
