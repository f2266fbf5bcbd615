// The buffer policy: where a connection's bytes live between the transport and the provider.
//
// A buffer policy owns two byte queues, `input()` and `output()`. The vocabulary is Beast's
// DynamicBuffer, restricted to one contiguous region so that the provider can hand TLS records
// to the engine in place:
//
//   input():  the transport writes received bytes into prepare(n) and commit()s them; the provider
//             reads whole TLS records from data() and consume()s what the engine took. Whatever
//             stays is an incomplete record (SECBUFFER_MISSING) or surplus bytes for the next call
//             or for the application (SECBUFFER_EXTRA). The policy owns these bytes.
//   output(): the provider appends token / record bytes with prepare(n) + commit(n); the loop
//             writes data() to the transport and consume()s what the transport took. Bytes stay
//             owned by the policy until they are consumed.
//
// byte_queue requirements, for a queue q:
//   q.prepare(n)  -> std::span<std::byte>: writable space of at least n bytes directly after
//                    data(), or an empty span if the queue cannot provide it (fixed capacity
//                    reached, pool exhausted, allocation failed). Never throws. Invalidates earlier
//                    spans.
//   q.commit(n)   appends the first n bytes of the last prepare()d span to data(); n <= its size.
//   q.data()      -> std::span<const std::byte>: the readable bytes, in order, contiguous.
//   q.consume(n)  removes the first n readable bytes; n <= size().
//   q.size()      -> std::size_t: data().size().
//   q.max_size()  -> std::size_t: the most bytes the queue can ever hold; a prepare() beyond it
//                    fails, and the loop reports errc::token_too_large rather than out_of_memory.
//   q.release()   the connection is idle at this point: a queue whose size() is 0 may give its
//                 memory back (a pooled policy returns it to the pool). Never throws.
//
// buffer_policy requirements, for a policy b: b.input() and b.output() return byte_queue references
// that stay valid for the policy's lifetime. A policy is moved into the handshake and, later, into
// the secure channel; moving must keep the queued bytes.
#pragma once

#include "secctx/error.hpp"

#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

namespace secctx {

// clang-format off
template <class Q>
concept byte_queue = requires(Q& q, const Q& cq, std::size_t n) {
    { q.prepare(n) } noexcept -> std::same_as<std::span<std::byte>>;
    { q.commit(n) } noexcept;
    { cq.data() } noexcept -> std::same_as<std::span<const std::byte>>;
    { q.consume(n) } noexcept;
    { cq.size() } noexcept -> std::same_as<std::size_t>;
    { cq.max_size() } noexcept -> std::same_as<std::size_t>;
    { q.release() } noexcept;
};
// clang-format on

namespace detail {

// clang-format off
template <class B>
concept has_queue_accessors = requires(B& b) {
    requires std::is_lvalue_reference_v<decltype(b.input())>;
    requires std::is_lvalue_reference_v<decltype(b.output())>;
};
// clang-format on

template <class B>
using input_of = std::remove_reference_t<decltype(std::declval<B&>().input())>;

template <class B>
using output_of = std::remove_reference_t<decltype(std::declval<B&>().output())>;

} // namespace detail

// Written as a conjunction so that a failing queue requirement is reported by name.
template <class B>
concept buffer_policy = std::movable<B> && detail::has_queue_accessors<B> &&
    byte_queue<detail::input_of<B>> && byte_queue<detail::output_of<B>>;

template <buffer_policy B>
using input_queue_t = detail::input_of<B>;

template <buffer_policy B>
using output_queue_t = detail::output_of<B>;

// The largest record a peer may send: a 5-byte header and 2^14 + 2048 bytes of body (RFC 5246
// 6.2.3; TLS 1.3 records carry at most 2^14 + 256, and OpenSSL 3 takes at most 2^14 + 320 without
// compression: a TLS 1.2 CBC record with a SHA-384 MAC and 256 bytes of padding is 16,709 bytes).
// An input queue that can hold this many bytes never fails on a record's size; every policy
// secctx ships can, by default.
inline constexpr std::size_t channel_input_capacity = 5 + 16384 + 2048;

// Why q.prepare(n) returned too little: more than the queue can ever hold (the token or record is
// too large for this policy), or memory ran out.
template <byte_queue Q>
std::error_code prepare_failure(const Q& q, std::size_t n) noexcept {
    return n > q.max_size() - q.size() ? errc::token_too_large : errc::out_of_memory;
}

} // namespace secctx
