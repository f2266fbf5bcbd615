// Overwrites memory that held a connection's bytes before it is reused or freed, so that neither
// another connection nor a later reader of the heap sees them. The store goes through a volatile
// function pointer, as OPENSSL_cleanse does, so the compiler cannot drop it as dead.
#pragma once

#include <cstddef>
#include <cstring>

namespace secctx::detail {

inline void wipe(void* bytes, std::size_t n) noexcept {
    static void* (*const volatile set)(void*, int, std::size_t) = std::memset;
    if (n != 0)
        set(bytes, 0, n);
}

} // namespace secctx::detail
