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
//   fault + fault_at_call    one fault at the transport call numbered fault_at_call (reads and
//                            writes counted together, from 0), as a socket would produce it:
//                              would_block       EAGAIN: that call moves nothing
//                              interrupted       EINTR passed on: that call moves nothing
//                              short_io          that call moves at most one byte
//                              connection_reset  ECONNRESET from that call on, reads and writes
//                              broken_pipe       EPIPE on every write from that call on
//                              end_of_stream     the peer's EOF on every read from that call on
//
// Faults are sticky: once an error or the end was reported, every later call reports it again
// (but the three transient call faults, which happen once).
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

enum class call_fault {
    none,
    would_block,
    interrupted,
    short_io,
    connection_reset,
    broken_pipe,
    end_of_stream
};

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
    call_fault fault = call_fault::none;
    std::size_t fault_at_call = never;
};

template <transport Inner>
class faulty_transport {
public:
    explicit faulty_transport(Inner inner, fault_plan plan = {}) noexcept(
        std::is_nothrow_move_constructible_v<Inner>)
        : inner_(std::move(inner)), plan_(plan) {}

    io_result read_some(std::span<std::byte> into) noexcept {
        const call_fault now = next_call();
        if (plan_.would_block_every_other && (reads_++ % 2) == 0)
            return {0, errc::would_block};
        if (const auto r = injected(now, reads_fail_with()); r.error)
            return r;
        if (bytes_read_ >= plan_.read_error_after)
            return {0, plan_.read_error};
        if (bytes_read_ >= plan_.end_of_stream_after)
            return {0, errc::end_of_stream};
        const std::size_t limit =
            std::min({plan_.max_read, plan_.read_error_after - bytes_read_,
                      plan_.end_of_stream_after - bytes_read_, into.size(), most(now)});
        const io_result r = inner_.read_some(into.first(limit));
        if (!r.error)
            bytes_read_ += r.bytes;
        return r;
    }

    io_result write_some(std::span<const std::byte> from) noexcept {
        const call_fault now = next_call();
        if (plan_.would_block_every_other && (writes_++ % 2) == 0)
            return {0, errc::would_block};
        if (const auto r = injected(now, writes_fail_with()); r.error)
            return r;
        if (bytes_written_ >= plan_.write_error_after)
            return {0, plan_.write_error};
        const std::size_t limit = std::min(
            {plan_.max_write, plan_.write_error_after - bytes_written_, from.size(), most(now)});
        const io_result r = inner_.write_some(from.first(limit));
        if (!r.error)
            bytes_written_ += r.bytes;
        return r;
    }

    std::error_code wait(wait_for what, clock::time_point deadline) noexcept {
        if (plan_.delay.count() > 0)
            std::this_thread::sleep_until(std::min(deadline, clock::now() + plan_.delay));
        // A fault that is due is reported by the next call: no need to wait for the inner
        // transport (which may never become ready).
        if (what == wait_for::readable &&
            (bytes_read_ >= plan_.read_error_after || bytes_read_ >= plan_.end_of_stream_after ||
             reads_fail_with()))
            return {};
        if (what == wait_for::writable &&
            (bytes_written_ >= plan_.write_error_after || writes_fail_with()))
            return {};
        // An injected would_block with the inner transport ready: the wait returns at once.
        return inner_.wait(what, deadline);
    }

    std::size_t bytes_read() const noexcept { return bytes_read_; }
    // read_some() and write_some() calls so far: the range of fault_at_call worth trying.
    std::size_t calls() const noexcept { return calls_; }
    std::size_t bytes_written() const noexcept { return bytes_written_; }
    const fault_plan& plan() const noexcept { return plan_; }
    void set_plan(const fault_plan& plan) noexcept { plan_ = plan; }
    Inner& inner() noexcept { return inner_; }
    const Inner& inner() const noexcept { return inner_; }

private:
    // Counts the call; the planned fault when it is this one (sticky ones stay on from here).
    call_fault next_call() noexcept {
        const std::size_t call = calls_++;
        if (call != plan_.fault_at_call)
            return call_fault::none;
        switch (plan_.fault) {
        case call_fault::connection_reset:
        case call_fault::broken_pipe:
        case call_fault::end_of_stream:
            sticky_ = plan_.fault;
            return call_fault::none;
        default:
            return plan_.fault;
        }
    }

    std::error_code reads_fail_with() const noexcept {
        if (sticky_ == call_fault::connection_reset)
            return {ECONNRESET, std::system_category()};
        if (sticky_ == call_fault::end_of_stream)
            return errc::end_of_stream;
        return {};
    }

    std::error_code writes_fail_with() const noexcept {
        if (sticky_ == call_fault::connection_reset)
            return {ECONNRESET, std::system_category()};
        if (sticky_ == call_fault::broken_pipe)
            return {EPIPE, std::system_category()};
        return {};
    }

    static io_result injected(call_fault now, std::error_code sticky) noexcept {
        if (now == call_fault::would_block)
            return {0, errc::would_block};
        if (now == call_fault::interrupted)
            return {0, std::make_error_code(std::errc::interrupted)};
        return {0, sticky};
    }

    static std::size_t most(call_fault now) noexcept {
        return now == call_fault::short_io ? 1 : fault_plan::never;
    }

    Inner inner_;
    fault_plan plan_;
    call_fault sticky_ = call_fault::none;
    std::size_t calls_ = 0;
    std::size_t bytes_read_ = 0;
    std::size_t bytes_written_ = 0;
    unsigned reads_ = 0;
    unsigned writes_ = 0;
};

} // namespace secctx
