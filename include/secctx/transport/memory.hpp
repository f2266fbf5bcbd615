// The memory transport: an in-process duplex link between two ends, for tests, benchmarks and
// programs that carry TLS inside their own framing. Each direction is a locked byte queue, so the
// two ends can be stepped from one thread (reads return would_block when empty) or driven by run()
// from two threads (wait() sleeps on a condition variable).
//
// The link owns both directions and must outlive its ends; an end is a cheap non-owning handle.
#pragma once

#include "secctx/transport/transport.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace secctx {

namespace detail {

class memory_pipe {
public:
    explicit memory_pipe(std::size_t capacity) : capacity_(capacity) {}

    io_result read_some(std::span<std::byte> into) noexcept {
        std::lock_guard lock(mutex_);
        const std::size_t available = bytes_.size() - head_;
        if (available == 0)
            return {0, closed_ ? errc::end_of_stream : errc::would_block};
        const std::size_t n = std::min(available, into.size());
        std::memcpy(into.data(), bytes_.data() + head_, n);
        head_ += n;
        if (head_ == bytes_.size()) {
            bytes_.clear();
            head_ = 0;
        }
        writable_.notify_all();
        return {n, {}};
    }

    io_result write_some(std::span<const std::byte> from) noexcept {
        std::lock_guard lock(mutex_);
        if (closed_)
            return {0, std::make_error_code(std::errc::broken_pipe)};
        const std::size_t n = std::min(from.size(), capacity_ - (bytes_.size() - head_));
        if (n == 0)
            return {0, errc::would_block};
        if (head_ != 0 && bytes_.size() + n > bytes_.capacity()) {
            bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
        try {
            bytes_.insert(bytes_.end(), from.begin(),
                          from.begin() + static_cast<std::ptrdiff_t>(n));
        } catch (const std::bad_alloc&) {
            return {0, errc::out_of_memory};
        }
        readable_.notify_all();
        return {n, {}};
    }

    std::error_code wait(wait_for what, clock::time_point deadline) noexcept {
        std::unique_lock lock(mutex_);
        const auto ready = [&] {
            const std::size_t queued = bytes_.size() - head_;
            return closed_ || (what == wait_for::readable ? queued != 0 : queued < capacity_);
        };
        auto& condition = what == wait_for::readable ? readable_ : writable_;
        if (!condition.wait_until(lock, deadline, ready))
            return errc::timed_out;
        return {};
    }

    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        readable_.notify_all();
        writable_.notify_all();
    }

    void clear() {
        std::lock_guard lock(mutex_);
        bytes_.clear();
        head_ = 0;
        closed_ = false;
    }

    void reserve(std::size_t bytes) {
        std::lock_guard lock(mutex_);
        bytes_.reserve(std::min(bytes, capacity_));
    }

    std::size_t size() {
        std::lock_guard lock(mutex_);
        return bytes_.size() - head_;
    }

private:
    std::mutex mutex_;
    std::condition_variable readable_;
    std::condition_variable writable_;
    std::vector<std::byte> bytes_;
    std::size_t head_ = 0;
    std::size_t capacity_;
    bool closed_ = false;
};

} // namespace detail

class memory_transport {
public:
    memory_transport(detail::memory_pipe& incoming, detail::memory_pipe& outgoing) noexcept
        : incoming_(&incoming), outgoing_(&outgoing) {}

    io_result read_some(std::span<std::byte> into) noexcept { return incoming_->read_some(into); }
    io_result write_some(std::span<const std::byte> from) noexcept {
        return outgoing_->write_some(from);
    }
    std::error_code wait(wait_for what, clock::time_point deadline) noexcept {
        return (what == wait_for::readable ? incoming_ : outgoing_)->wait(what, deadline);
    }

    // Ends this side's output: the peer reads what was written, then errc::end_of_stream.
    void close() { outgoing_->close(); }

    // Bytes written by the peer and not yet read by this end.
    std::size_t pending() { return incoming_->size(); }

private:
    detail::memory_pipe* incoming_;
    detail::memory_pipe* outgoing_;
};

static_assert(transport<memory_transport>);

class memory_link {
public:
    // `capacity` bounds the bytes in flight in each direction; a full direction makes write_some
    // return would_block, which is how tests exercise want_write.
    explicit memory_link(std::size_t capacity = std::size_t{1} << 20)
        : to_server_(capacity), to_client_(capacity) {}

    memory_link(const memory_link&) = delete;
    memory_link& operator=(const memory_link&) = delete;

    memory_transport client_end() noexcept { return {to_client_, to_server_}; }
    memory_transport server_end() noexcept { return {to_server_, to_client_}; }

    // Drops everything in flight and reopens both directions, so one link can carry many
    // connections one after another without allocating again.
    void clear() {
        to_server_.clear();
        to_client_.clear();
    }

    // Allocates room for `bytes` in flight in each direction (at most the capacity) now, so that
    // no later write allocates while less than that is in flight: for measurements that count
    // allocations.
    void reserve(std::size_t bytes) {
        to_server_.reserve(bytes);
        to_client_.reserve(bytes);
    }

private:
    detail::memory_pipe to_server_;
    detail::memory_pipe to_client_;
};

} // namespace secctx
