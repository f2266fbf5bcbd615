// The byte lanes of the best hand-written loops (openssl-custom-bio, gnutls-push-pull): one fixed
// array per direction, written by one end's engine callback and read by the other's, so the only
// copies are the ones the engines' callback interfaces force (into the lane on write, out of it on
// read).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

namespace secctx::bench {

struct lane {
    std::size_t head = 0;
    std::size_t tail = 0;
    std::array<std::byte, 32 * 1024> bytes;

    bool empty() const noexcept { return head == tail; }
    void clear() noexcept { head = tail = 0; }

    // All of `data`, or nothing when it does not fit.
    bool write(const void* data, std::size_t size) noexcept {
        if (size > bytes.size() - tail)
            return false;
        std::memcpy(bytes.data() + tail, data, size);
        tail += size;
        return true;
    }

    // Up to `size` bytes; 0 when the lane is empty.
    std::size_t read(void* data, std::size_t size) noexcept {
        const std::size_t n = std::min(size, tail - head);
        std::memcpy(data, bytes.data() + head, n);
        head += n;
        if (head == tail)
            clear();
        return n;
    }
};

// One end's view of the two lanes.
struct lane_end {
    lane* in;
    lane* out;
};

} // namespace secctx::bench
