// The global operator new and delete, every replaceable form, routed to two functions that the
// program including this header defines, so that each benchmark counts the C++ side's heap its own
// way (include it in one translation unit of the program):
//   void* secctx::bench::counted_new(std::size_t size, std::size_t alignment);  // never null
//   void secctx::bench::counted_delete(void* p) noexcept;
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace secctx::bench {

void* counted_new(std::size_t size, std::size_t alignment);
void counted_delete(void* p) noexcept;

// What operator new does without the counting: malloc, or posix_memalign for an over-aligned
// type; std::bad_alloc when the heap has nothing left.
inline void* allocate(std::size_t size, std::size_t alignment) {
    size = size == 0 ? 1 : size;
    void* p = nullptr;
    if (alignment <= alignof(std::max_align_t))
        p = std::malloc(size);
    else if (posix_memalign(&p, alignment, size) != 0)
        p = nullptr;
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}

} // namespace secctx::bench

void* operator new(std::size_t size) {
    return secctx::bench::counted_new(size, 0);
}
void* operator new[](std::size_t size) {
    return secctx::bench::counted_new(size, 0);
}
void* operator new(std::size_t size, std::align_val_t a) {
    return secctx::bench::counted_new(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
    return secctx::bench::counted_new(size, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
    secctx::bench::counted_delete(p);
}
void operator delete[](void* p) noexcept {
    secctx::bench::counted_delete(p);
}
void operator delete(void* p, std::size_t) noexcept {
    secctx::bench::counted_delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    secctx::bench::counted_delete(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    secctx::bench::counted_delete(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    secctx::bench::counted_delete(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    secctx::bench::counted_delete(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    secctx::bench::counted_delete(p);
}
