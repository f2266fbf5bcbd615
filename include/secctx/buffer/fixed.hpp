// The fixed-capacity buffer policy: each queue is an inline array whose size is a template
// parameter. No heap, ever: a connection's buffers live wherever the handshake or channel object
// lives (the stack, a slab, a vector of connections).
//
// prepare(n) compacts (moves the live bytes to the front) when the space after them is too small,
// and returns an empty span when n exceeds what the queue can still hold; the loop then reports
// errc::token_too_large (prepare_failure()) and the alert the engine owes is sent where it can
// be. Nothing is written past the array. release() does nothing: there is nothing to give back.
// Moving copies the live bytes (memcpy of data()), so a policy moved into the handshake and then
// into the channel keeps every queued byte.
//
// Capacities a handshake needs with typical chains are measured in docs/concepts.md; a channel
// needs at least one full record of input (16384 + 256 + 5 bytes under TLS 1.3; 18437,
// channel_input_capacity, for any record TLS 1.2 allows) and, for output, the records of one write
// chunk (basic_channel::max_write_chunk, about 65.7 KB).
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/buffer/detail/byte_window.hpp"

#include <cstring>
#include <span>

namespace secctx {

template <std::size_t Capacity>
class basic_fixed_queue {
    static_assert(Capacity > 0, "a fixed queue needs room for at least one byte");

public:
    static constexpr std::size_t capacity_value = Capacity;

    basic_fixed_queue() noexcept = default;

    basic_fixed_queue(const basic_fixed_queue& other) noexcept { assign(other); }
    basic_fixed_queue(basic_fixed_queue&& other) noexcept { take(other); }
    basic_fixed_queue& operator=(const basic_fixed_queue& other) noexcept {
        if (this != &other)
            assign(other);
        return *this;
    }
    basic_fixed_queue& operator=(basic_fixed_queue&& other) noexcept {
        if (this != &other)
            take(other);
        return *this;
    }
    // The bytes a connection left here are wiped, not left in memory that outlives it.
    ~basic_fixed_queue() { window_.wipe(storage_); }

    std::span<std::byte> prepare(std::size_t n) noexcept {
        if (Capacity - window_.end < n) {
            if (n > Capacity - size())
                return {};
            window_.compact(storage_);
        }
        return {storage_ + window_.end, Capacity - window_.end};
    }

    void commit(std::size_t n) noexcept { window_.commit(n); }
    std::span<const std::byte> data() const noexcept { return window_.in(storage_); }
    void consume(std::size_t n) noexcept { window_.consume(n); }
    std::size_t size() const noexcept { return window_.size(); }
    std::size_t max_size() const noexcept { return Capacity; }
    std::size_t capacity() const noexcept { return Capacity; }
    void release() noexcept {}

private:
    // The live bytes go to the front of this queue's own array.
    void assign(const basic_fixed_queue& other) noexcept {
        const std::size_t used = other.size();
        if (used != 0)
            std::memcpy(storage_, other.data().data(), used);
        window_.begin = window_.end = 0;
        window_.commit(used);
    }

    void take(basic_fixed_queue& other) noexcept {
        assign(other);
        other.window_.consume(other.size());
    }

    detail::byte_window window_;
    std::byte storage_[Capacity]; // left uninitialized: only the window's bytes are ever read
};

template <std::size_t InputCapacity, std::size_t OutputCapacity = InputCapacity>
class fixed_buffer {
public:
    using input_queue_type = basic_fixed_queue<InputCapacity>;
    using output_queue_type = basic_fixed_queue<OutputCapacity>;

    input_queue_type& input() noexcept { return input_; }
    output_queue_type& output() noexcept { return output_; }
    const input_queue_type& input() const noexcept { return input_; }
    const output_queue_type& output() const noexcept { return output_; }

private:
    input_queue_type input_;
    output_queue_type output_;
};

static_assert(byte_queue<basic_fixed_queue<1>>);
static_assert(buffer_policy<fixed_buffer<channel_input_capacity>>);

} // namespace secctx
