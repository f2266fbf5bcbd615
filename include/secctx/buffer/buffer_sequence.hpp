// Buffer sequences: several byte segments read or written as one, for the channel's gather
// write_some() and scatter read_some(). A sequence is any input range (standard or range-v3) whose
// elements are contiguous, sized ranges of std::byte: a std::vector or std::array of std::span,
// ranges::views::chunk(bytes, n) over a std::vector<std::byte>, ranges::views::concat of such
// views, and so on. The caller owns every segment; the channel only reads from (gather) or writes
// into (scatter) them during the call, in order, and keeps no reference.
#pragma once

#include <cstddef>
#include <ranges>
#include <span>
#include <type_traits>

namespace secctx {

namespace detail {

template <class R>
concept byte_segment = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
    std::same_as<std::remove_cv_t<std::ranges::range_value_t<R>>, std::byte>;

template <class R>
concept mutable_byte_segment =
    byte_segment<R> && !std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>;

} // namespace detail

// Segments the channel reads from.
template <class S>
concept const_buffer_sequence =
    std::ranges::input_range<S> && detail::byte_segment<std::ranges::range_reference_t<S>>;

// Segments the channel writes into.
template <class S>
concept mutable_buffer_sequence =
    std::ranges::input_range<S> && detail::mutable_byte_segment<std::ranges::range_reference_t<S>>;

// One segment as a span, whatever range type carries it.
template <detail::byte_segment R>
auto as_bytes_span(R&& segment) noexcept {
    using element = std::remove_reference_t<std::ranges::range_reference_t<R>>;
    return std::span<element>(std::ranges::data(segment), std::ranges::size(segment));
}

} // namespace secctx
