// faulty_transport<Inner>: any transport, with the faults a real network produces on demand, so
// that tests reach every error path of the handshake and the channel without a real network.
//
//   max_read / max_write     fragment: each call moves at most that many bytes (1 gives the
//                            shortest reads and writes there are)
//   read_error_after +       reads fail with `read_error` once that many bytes were read;
//   read_error               the bytes before it are delivered
//   write_error_after +      writes fail with `write_error` once that many bytes were written
//   write_error
//   end_of_stream_after      reads report errc::end_of_stream once that many bytes were read
//   would_block_every_other  every other read_some / write_some returns errc::would_block
//                            without touching the inner transport (the want_read / want_write
//                            paths, with bytes actually waiting)
//   delay                    wait() sleeps this long first (never past its deadline); for
//                            demonstrations, tests must not depend on it
//
// Faults are sticky: once an error or the end was reported, every later call reports it again.
// The inner transport is owned; inner() reaches it.
#pragma once

#include "secctx/transport/transport.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>
#include <thread>
#include <type_traits>
#include <utility>

namespace secctx {

struct fault_plan {
    static constexpr std::size_t never = std::numeric_limits<std::size_t>::max();

    std::size_t max_read = never;
    std::size_t max_write = never;
    std::size_t read_error_after = never;
    std::error_code read_error{ECONNRESET, std::system_category()};
    std::size_t write_error_after = never;
    std::error_code write_error{EPIPE, std::system_category()};
    std::size_t end_of_stream_after = never;
    bool would_block_every_other = false;
    std::chrono::milliseconds delay{0};
};

template <transport Inner>
class faulty_transport {
public:
    explicit faulty_transport(Inner inner, fault_plan plan = {}) noexcept(
        std::is_nothrow_move_constructible_v<Inner>)
        : inner_(std::move(inner)), plan_(plan) {}

    io_result read_some(std::span<std::byte> into) {
        if (plan_.would_block_every_other && (reads_++ % 2) == 0)
            return {0, errc::would_block};
        if (bytes_read_ >= plan_.read_error_after)
            return {0, plan_.read_error};
        if (bytes_read_ >= plan_.end_of_stream_after)
            return {0, errc::end_of_stream};
        const std::size_t limit = std::min({plan_.max_read, plan_.read_error_after - bytes_read_,
                                            plan_.end_of_stream_after - bytes_read_, into.size()});
        const io_result r = inner_.read_some(into.first(limit));
        if (!r.error)
            bytes_read_ += r.bytes;
        return r;
    }

    io_result write_some(std::span<const std::byte> from) {
        if (plan_.would_block_every_other && (writes_++ % 2) == 0)
            return {0, errc::would_block};
        if (bytes_written_ >= plan_.write_error_after)
            return {0, plan_.write_error};
        const std::size_t limit =
            std::min({plan_.max_write, plan_.write_error_after - bytes_written_, from.size()});
        const io_result r = inner_.write_some(from.first(limit));
        if (!r.error)
            bytes_written_ += r.bytes;
        return r;
    }

    std::error_code wait(wait_for what, clock::time_point deadline) {
        if (plan_.delay.count() > 0)
            std::this_thread::sleep_until(std::min(deadline, clock::now() + plan_.delay));
        // A fault that is due is reported by the next call: no need to wait for the inner
        // transport (which may never become ready).
        if (what == wait_for::readable &&
            (bytes_read_ >= plan_.read_error_after || bytes_read_ >= plan_.end_of_stream_after))
            return {};
        if (what == wait_for::writable && bytes_written_ >= plan_.write_error_after)
            return {};
        // An injected would_block with the inner transport ready: the wait returns at once.
        return inner_.wait(what, deadline);
    }

    std::size_t bytes_read() const noexcept { return bytes_read_; }
    std::size_t bytes_written() const noexcept { return bytes_written_; }
    const fault_plan& plan() const noexcept { return plan_; }
    void set_plan(const fault_plan& plan) noexcept { plan_ = plan; }
    Inner& inner() noexcept { return inner_; }
    const Inner& inner() const noexcept { return inner_; }

private:
    Inner inner_;
    fault_plan plan_;
    std::size_t bytes_read_ = 0;
    std::size_t bytes_written_ = 0;
    unsigned reads_ = 0;
    unsigned writes_ = 0;
};

} // namespace secctx
