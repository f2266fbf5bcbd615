// Appending an engine's bytes to a buffer policy's queue, through a plain function pointer: the one
// indirection that lets an engine's single I/O callback serve every buffer policy.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"

#include <cstring>
#include <system_error>

namespace secctx::detail {

// Type-erased signature both engines' I/O callbacks hold.
using append_function = std::error_code (*)(void* queue, const void* data,
                                            std::size_t size) noexcept;

// All of `size` bytes, or nothing and why (prepare_failure: too large, or out of memory).
template <byte_queue Queue>
std::error_code append_to(void* queue, const void* data, std::size_t size) noexcept {
    auto& q = *static_cast<Queue*>(queue);
    const auto room = q.prepare(size);
    if (room.size() < size)
        return prepare_failure(q, size);
    std::memcpy(room.data(), data, size);
    q.commit(size);
    return {};
}

} // namespace secctx::detail
