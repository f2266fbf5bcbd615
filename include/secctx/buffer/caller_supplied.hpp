// The caller-supplied buffer policy: two regions of memory the user owns (a server's arena, a
// slab per connection), used in place. Same semantics as the fixed-capacity policy: prepare(n)
// compacts and returns an empty span when n exceeds the room left, so the loop reports
// errc::token_too_large; release() does nothing; the policy never allocates.
//
// Non-owning: the regions must outlive the handshake and the channel that use them, and the two
// regions must not overlap. Moving hands the regions (and the bytes in them) to the new object;
// the moved-from queue is left empty, with no region.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/buffer/detail/byte_window.hpp"

#include <cstring>
#include <span>
#include <utility>

namespace secctx {

class caller_supplied_queue {
public:
    caller_supplied_queue() noexcept = default;
    explicit caller_supplied_queue(std::span<std::byte> region) noexcept : region_(region) {}

    caller_supplied_queue(caller_supplied_queue&& other) noexcept
        : region_(std::exchange(other.region_, {})), window_(std::exchange(other.window_, {})) {}
    caller_supplied_queue& operator=(caller_supplied_queue&& other) noexcept {
        if (this == &other)
            return *this;
        window_.wipe(region_.data());
        region_ = std::exchange(other.region_, {});
        window_ = std::exchange(other.window_, {});
        return *this;
    }
    // Two queues over one region would overwrite each other's bytes.
    caller_supplied_queue(const caller_supplied_queue&) = delete;
    caller_supplied_queue& operator=(const caller_supplied_queue&) = delete;
    // The user's region is handed back without the connection's bytes in it.
    ~caller_supplied_queue() { window_.wipe(region_.data()); }

    std::span<std::byte> prepare(std::size_t n) noexcept {
        const std::size_t capacity = region_.size();
        if (capacity - window_.end < n) {
            if (n > capacity - size())
                return {};
            window_.compact(region_.data());
        }
        return region_.subspan(window_.end);
    }

    void commit(std::size_t n) noexcept { window_.commit(n); }
    std::span<const std::byte> data() const noexcept { return window_.in(region_.data()); }
    void consume(std::size_t n) noexcept { window_.consume(n); }
    std::size_t size() const noexcept { return window_.size(); }
    std::size_t max_size() const noexcept { return region_.size(); }
    std::size_t capacity() const noexcept { return region_.size(); }
    void release() noexcept {}

    // The user's region this queue works in.
    std::span<std::byte> region() const noexcept { return region_; }

private:
    std::span<std::byte> region_;
    detail::byte_window window_;
};

class caller_supplied_buffer {
public:
    caller_supplied_buffer() noexcept = default;
    caller_supplied_buffer(std::span<std::byte> input, std::span<std::byte> output) noexcept
        : input_(input), output_(output) {}

    caller_supplied_queue& input() noexcept { return input_; }
    caller_supplied_queue& output() noexcept { return output_; }
    const caller_supplied_queue& input() const noexcept { return input_; }
    const caller_supplied_queue& output() const noexcept { return output_; }

private:
    caller_supplied_queue input_;
    caller_supplied_queue output_;
};

static_assert(byte_queue<caller_supplied_queue>);
static_assert(buffer_policy<caller_supplied_buffer>);

} // namespace secctx
