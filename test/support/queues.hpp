// Helpers for the buffer policies' tests: byte patterns, comparison, and appending to a queue the
// way a transport does.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace secctx::test {

inline std::vector<std::byte> pattern(std::size_t n, std::uint8_t start = 0) {
    std::vector<std::byte> out(n);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = std::byte{static_cast<std::uint8_t>(start + i * 31)};
    return out;
}

inline bool equal(std::span<const std::byte> a, std::span<const std::byte> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// Appends `data` the way a transport does: prepare, copy, commit.
template <class Q>
bool append(Q& q, std::span<const std::byte> data) {
    const auto room = q.prepare(data.size());
    if (room.size() < data.size())
        return false;
    std::copy(data.begin(), data.end(), room.begin());
    q.commit(data.size());
    return true;
}

} // namespace secctx::test
