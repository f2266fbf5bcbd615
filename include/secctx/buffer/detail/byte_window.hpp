// Where a queue's readable bytes lie in its one contiguous region, the state every buffer policy's
// queue keeps: [begin, end) is readable, and the first `dirty` bytes of the region ever held a
// byte, which is what must be wiped before the region is reused or freed.
#pragma once

#include "secctx/buffer/detail/wipe.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>

namespace secctx::detail {

struct byte_window {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::size_t dirty = 0;

    std::size_t size() const noexcept { return end - begin; }

    std::span<const std::byte> in(const std::byte* region) const noexcept {
        return {region + begin, size()};
    }

    void commit(std::size_t n) noexcept {
        end += n;
        dirty = std::max(dirty, end);
    }

    void consume(std::size_t n) noexcept {
        begin += n;
        if (begin == end)
            begin = end = 0;
    }

    // Moves the readable bytes to the front of `region`, so that all the room is after them.
    void compact(std::byte* region) noexcept {
        const std::size_t used = size();
        if (used != 0)
            std::memmove(region, region + begin, used);
        begin = 0;
        end = used;
    }

    // The region is given up: what it held is wiped and the window starts empty.
    void wipe(std::byte* region) noexcept {
        detail::wipe(region, dirty);
        begin = end = dirty = 0;
    }
};

} // namespace secctx::detail
