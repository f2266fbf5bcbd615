// The dynamic buffer policy: two growing queues on an allocator (std::allocator by default;
// std::pmr::polymorphic_allocator<std::byte> works). Like Beast's flat_buffer: one contiguous
// region per queue, compacted before it grows, grown geometrically up to max_size().
//
// The queues keep their memory when the connection goes idle (release() only frees a queue that
// has grown past its initial capacity), so a busy connection does not allocate per record; the
// pooled policy is the one that gives memory back between records.
//
// A queue moved into one whose allocator is unequal and does not propagate (std::pmr, one
// resource per connection) copies the bytes into memory of its own allocator. If that allocation
// fails the bytes are lost, and the queue says so: every later prepare() fails, so the handshake
// or channel fails with errc::out_of_memory instead of going on without them.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/buffer/detail/byte_window.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

namespace secctx {

template <class Allocator = std::allocator<std::byte>>
class basic_dynamic_queue {
    using traits = typename std::allocator_traits<Allocator>::template rebind_traits<std::byte>;
    using allocator_type = typename traits::allocator_type;

public:
    // Enough for the first flight of a TLS 1.3 handshake with a typical ECDSA chain.
    static constexpr std::size_t initial_capacity = 4096;
    // A handshake message may span many records; 1 MiB is far above any real certificate chain.
    static constexpr std::size_t default_max_size = std::size_t{1} << 20;

    explicit basic_dynamic_queue(std::size_t max_size = default_max_size,
                                 const Allocator& allocator = Allocator()) noexcept
        : allocator_(allocator), max_size_(max_size) {}

    basic_dynamic_queue(basic_dynamic_queue&& other) noexcept
        : allocator_(std::move(other.allocator_)), storage_(std::exchange(other.storage_, nullptr)),
          capacity_(std::exchange(other.capacity_, 0)), window_(std::exchange(other.window_, {})),
          max_size_(other.max_size_), lost_(std::exchange(other.lost_, false)) {}

    basic_dynamic_queue& operator=(basic_dynamic_queue&& other) noexcept {
        if (this == &other)
            return *this;
        max_size_ = other.max_size_;
        if constexpr (!traits::propagate_on_container_move_assignment::value) {
            if (allocator_ != other.allocator_) {
                // Our allocator cannot free the other's memory: copy the bytes instead.
                copy_from(other);
                return *this;
            }
        }
        deallocate();
        if constexpr (traits::propagate_on_container_move_assignment::value)
            allocator_ = std::move(other.allocator_);
        storage_ = std::exchange(other.storage_, nullptr);
        capacity_ = std::exchange(other.capacity_, 0);
        window_ = std::exchange(other.window_, {});
        lost_ = std::exchange(other.lost_, false);
        return *this;
    }

    basic_dynamic_queue(const basic_dynamic_queue&) = delete;
    basic_dynamic_queue& operator=(const basic_dynamic_queue&) = delete;

    ~basic_dynamic_queue() { deallocate(); }

    std::span<std::byte> prepare(std::size_t n) noexcept {
        if (capacity_ - window_.end < n && !make_room(n))
            return {};
        return {storage_ + window_.end, capacity_ - window_.end};
    }

    void commit(std::size_t n) noexcept { window_.commit(n); }
    std::span<const std::byte> data() const noexcept { return window_.in(storage_); }
    void consume(std::size_t n) noexcept { window_.consume(n); }
    std::size_t size() const noexcept { return window_.size(); }
    std::size_t max_size() const noexcept { return max_size_; }
    std::size_t capacity() const noexcept { return capacity_; }

    void release() noexcept {
        if (size() == 0 && capacity_ > initial_capacity)
            deallocate();
    }

private:
    // Our own memory is kept when it can hold the other's bytes, so the copy needs no allocation;
    // otherwise it is freed before the new region is asked for, which leaves the allocator (a
    // bounded per-connection resource) the most room to grant it.
    void copy_from(basic_dynamic_queue& other) noexcept {
        const auto bytes = other.data();
        window_.wipe(storage_);
        lost_ = false;
        if (bytes.size() > capacity_) {
            deallocate();
            lost_ = !make_room(bytes.size());
        }
        if (!lost_ && !bytes.empty()) {
            std::memcpy(storage_, bytes.data(), bytes.size());
            window_.commit(bytes.size());
        }
        lost_ = lost_ || other.lost_;
        other.deallocate();
        other.lost_ = false;
    }

    // Reached by every prepare() of a queue that lost its bytes: such a queue holds no memory.
    bool make_room(std::size_t n) noexcept {
        const std::size_t used = size();
        if (lost_ || n > max_size_ - used)
            return false;
        if (capacity_ - used >= n) {
            window_.compact(storage_);
            return true;
        }
        const std::size_t wanted =
            std::min(max_size_, std::max({capacity_ * 2, used + n, initial_capacity}));
        std::byte* fresh = nullptr;
        // Whatever the allocator throws (a custom one need not throw std::bad_alloc) is a failed
        // allocation: nothing may leave a noexcept prepare().
        try {
            fresh = traits::allocate(allocator_, wanted);
        } catch (...) {
            return false;
        }
        if (used != 0)
            std::memcpy(fresh, data().data(), used);
        deallocate();
        storage_ = fresh;
        capacity_ = wanted;
        window_.commit(used);
        return true;
    }

    // The bytes go before the memory does: the allocator may hand it to anyone next.
    void deallocate() noexcept {
        window_.wipe(storage_);
        if (storage_ != nullptr)
            traits::deallocate(allocator_, storage_, capacity_);
        storage_ = nullptr;
        capacity_ = 0;
    }

    [[no_unique_address]] allocator_type allocator_;
    std::byte* storage_ = nullptr;
    std::size_t capacity_ = 0;
    detail::byte_window window_;
    std::size_t max_size_;
    bool lost_ = false; // a move could not copy the bytes: see the note at the top
};

template <class Allocator = std::allocator<std::byte>>
class basic_dynamic_buffer {
public:
    using queue_type = basic_dynamic_queue<Allocator>;

    explicit basic_dynamic_buffer(std::size_t max_size = queue_type::default_max_size,
                                  const Allocator& allocator = Allocator()) noexcept
        : input_(max_size, allocator), output_(max_size, allocator) {}

    queue_type& input() noexcept { return input_; }
    queue_type& output() noexcept { return output_; }
    const queue_type& input() const noexcept { return input_; }
    const queue_type& output() const noexcept { return output_; }

private:
    queue_type input_;
    queue_type output_;
};

using dynamic_buffer = basic_dynamic_buffer<>;

static_assert(buffer_policy<dynamic_buffer>);

} // namespace secctx
