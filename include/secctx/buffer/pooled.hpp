// The pooled buffer policy: fixed-size blocks drawn from a pool shared by many connections, and
// given back whenever a queue is idle and empty, so an idle established connection holds no buffer
// memory at all.
//
// buffer_pool
//   - Blocks of one size (default: the largest record TLS allows, 5 + 16384 + 2048 bytes, rounded
//     up to 64).
//   - Thread-safe: a mutex-protected free list, with a per-thread fast path: each thread keeps a
//     small cache of blocks per pool (thread_cache blocks, at most max_thread_cache), taken and
//     returned without a lock. When a thread's cache overflows, half of it goes back to the shared
//     list; when the thread ends, all of it does.
//   - Bounded: at most max_blocks blocks are handed out at once. Exhaustion is not an abort: the
//     pool returns no block, the queue's prepare() returns an empty span and the handshake or
//     channel fails with errc::out_of_memory (back-pressure: the server can refuse or defer the
//     connection). The heap memory held by a pool is at most max_blocks blocks plus what sits in
//     the threads' caches (thread_cache blocks per thread that used the pool).
//   - reserve(n) allocates blocks up front, so that steady-state handshakes and records make no
//     heap allocation in the library.
//   - Counters for tests and benchmarks: in_use() (blocks held by queues), peak() (highest
//     in_use()), allocated() (blocks obtained from the heap and not yet freed).
//
// Lifetime: the pool must outlive every queue drawn from it (every handshake and channel using a
// pooled_buffer on it); a queue holds a plain pointer to its pool. The per-thread caches are safe
// when a pool dies first: each pool has a unique id (never reused, unlike its address), the live
// ids are kept in a process-wide registry, and a thread's cache checks the registry before handing
// blocks back. The pool's destructor frees its shared list and the destroying thread's cache;
// blocks cached by other threads for a dead pool are freed by those threads (when they end, or
// when their cache slot is reused) instead of being returned.
//
// pooled_queue holds at most one block at a time: one contiguous region, as byte_queue requires.
// max_size() is the block size, so a token or record that does not fit one block fails with
// errc::token_too_large (the buffers cannot chain blocks into one contiguous region). One default
// block holds any record TLS allows; a whole handshake flight is far smaller (TLS 1.3 ECDSA server
// flight about 1 KB, RSA-2048 chain about 2 KB). What needs more than a block: a certificate chain
// beyond ~18 KB in one flight, or the channel encrypting more than one block of records per write
// (its max_write_chunk is four records, so large writes need a queue bigger than one default
// block: write at most one record's plaintext at a time, or use larger blocks).
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/buffer/detail/byte_window.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace secctx {

class buffer_pool;

namespace detail::pool {

inline constexpr std::size_t block_alignment = 64;

// Zeroed once here; after that a queue wipes what it used before giving a block back, so a block
// waiting in a pool is all zeros and the next connection sees nothing of the previous one's (nor
// of whatever the heap held there before).
inline std::byte* allocate_block(std::size_t size) noexcept {
    auto* block = static_cast<std::byte*>(
        ::operator new (size, std::align_val_t{block_alignment}, std::nothrow));
    if (block != nullptr)
        std::memset(block, 0, size);
    return block;
}

inline void free_block(std::byte* block) noexcept {
    ::operator delete (block, std::align_val_t{block_alignment});
}

// The ids of the live pools. Never destroyed, so threads that end during static destruction can
// still consult it.
struct registry {
    std::mutex mutex;
    std::vector<std::uint64_t> live;
    std::uint64_t next_id = 1;

    static registry& get() noexcept {
        // Built in static storage and never destroyed (no heap, so nothing to fail or leak).
        alignas(registry) static unsigned char storage[sizeof(registry)];
        static registry* const instance = ::new (static_cast<void*>(storage)) registry;
        return *instance;
    }

    bool is_live(std::uint64_t id) const noexcept {
        return std::find(live.begin(), live.end(), id) != live.end();
    }
};

inline constexpr std::size_t max_thread_cache = 16;
inline constexpr std::size_t cache_slots = 4;

struct cache_slot {
    std::uint64_t id = 0; // 0: free
    buffer_pool* pool = nullptr;
    std::size_t count = 0;
    std::byte* blocks[max_thread_cache] = {};
};

// Where this thread's cache is in its life. Trivially destructible, so it can still be read while
// the thread's other thread_local objects are destroyed: one destroyed after the cache (made
// before the thread first used a pool) may release a block, and a pool that is itself such an
// object, or a static destroyed at exit, is destroyed then. Neither may touch the dead cache.
enum class cache_state : unsigned char { unborn, live, dead };
inline thread_local cache_state local_cache_state = cache_state::unborn;

struct thread_cache {
    cache_slot slots[cache_slots];

    thread_cache() noexcept { local_cache_state = cache_state::live; }

    cache_slot* find(std::uint64_t id) noexcept {
        for (auto& slot : slots)
            if (slot.id == id)
                return &slot;
        return nullptr;
    }

    ~thread_cache();
};

// Made on first use; call only while local_cache_state is not dead.
inline thread_cache& local_cache() noexcept {
    thread_local thread_cache cache;
    return cache;
}

} // namespace detail::pool

class buffer_pool {
public:
    // The largest record a peer may send (channel_input_capacity), rounded up to the block
    // alignment: 16 KiB of plaintext plus TLS 1.3's 256 bytes of expansion is not enough, since a
    // TLS 1.2 CBC record with SHA-384 and 256 bytes of padding is 16,709 bytes.
    static constexpr std::size_t default_block_size =
        (channel_input_capacity + detail::pool::block_alignment - 1) /
        detail::pool::block_alignment * detail::pool::block_alignment;
    static constexpr std::size_t default_max_blocks = 1024;
    static constexpr std::size_t default_thread_cache = 8;

    explicit buffer_pool(std::size_t max_blocks = default_max_blocks,
                         std::size_t block_size = default_block_size,
                         std::size_t thread_cache = default_thread_cache)
        : block_size_(std::max(block_size, sizeof(void*))), max_blocks_(max_blocks),
          thread_cache_(std::min(thread_cache, detail::pool::max_thread_cache)) {
        auto& reg = detail::pool::registry::get();
        const std::lock_guard lock(reg.mutex);
        id_ = reg.next_id++;
        reg.live.push_back(id_);
    }

    buffer_pool(const buffer_pool&) = delete;
    buffer_pool& operator=(const buffer_pool&) = delete;

    // Every queue drawn from the pool must be gone by now (see the lifetime note above): a block
    // still held would be given back to freed memory.
    ~buffer_pool() {
        assert(in_use() == 0 && "a buffer_pool destroyed while queues still hold its blocks");
        {
            auto& reg = detail::pool::registry::get();
            const std::lock_guard lock(reg.mutex);
            std::erase(reg.live, id_);
            // This thread's cache for the pool goes now; other threads free theirs themselves. A
            // cache that was never made holds nothing, and one already destroyed gave its blocks
            // back to the shared list freed below.
            if (detail::pool::local_cache_state == detail::pool::cache_state::live) {
                if (auto* slot = detail::pool::local_cache().find(id_)) {
                    for (std::size_t i = 0; i < slot->count; ++i)
                        free_counted(slot->blocks[i]);
                    *slot = {};
                }
            }
        }
        const std::lock_guard lock(mutex_);
        while (free_ != nullptr)
            free_counted(pop_free());
    }

    std::size_t block_size() const noexcept { return block_size_; }
    std::size_t max_blocks() const noexcept { return max_blocks_; }
    std::size_t in_use() const noexcept { return in_use_.load(std::memory_order_relaxed); }
    std::size_t peak() const noexcept { return peak_.load(std::memory_order_relaxed); }
    std::size_t allocated() const noexcept { return allocated_.load(std::memory_order_relaxed); }
    void reset_peak() noexcept { peak_.store(in_use(), std::memory_order_relaxed); }

    // Allocates blocks into the shared list until it holds `blocks` (at most max_blocks()), so
    // that later acquisitions make no heap allocation. Returns false if the heap said no.
    bool reserve(std::size_t blocks) noexcept {
        blocks = std::min(blocks, max_blocks_);
        const std::lock_guard lock(mutex_);
        while (free_count_ < blocks) {
            std::byte* block = allocate_counted();
            if (block == nullptr)
                return false;
            push_free(block);
        }
        return true;
    }

    // A block of block_size() bytes, or nullptr if max_blocks() are in use or the heap said no.
    std::byte* acquire() noexcept {
        std::size_t used = in_use_.load(std::memory_order_relaxed);
        do {
            if (used >= max_blocks_)
                return nullptr;
        } while (!in_use_.compare_exchange_weak(used, used + 1, std::memory_order_relaxed));
        std::size_t peak = peak_.load(std::memory_order_relaxed);
        while (used + 1 > peak &&
               !peak_.compare_exchange_weak(peak, used + 1, std::memory_order_relaxed)) {
        }
        if (auto* slot = cache_slot(); slot != nullptr && slot->count != 0)
            return slot->blocks[--slot->count];
        std::byte* block = nullptr;
        {
            const std::lock_guard lock(mutex_);
            block = free_ != nullptr ? pop_free() : allocate_counted();
        }
        if (block == nullptr)
            in_use_.fetch_sub(1, std::memory_order_relaxed);
        return block;
    }

    // Gives back a block acquire()d from this pool.
    void release(std::byte* block) noexcept {
        in_use_.fetch_sub(1, std::memory_order_relaxed);
        auto* slot = cache_slot();
        if (slot == nullptr) {
            const std::lock_guard lock(mutex_);
            push_free(block);
            return;
        }
        if (slot->count == thread_cache_) {
            // Overflow: half of the cache goes back to the shared list.
            const std::lock_guard lock(mutex_);
            while (slot->count > thread_cache_ / 2)
                push_free(slot->blocks[--slot->count]);
        }
        if (slot->count < thread_cache_)
            slot->blocks[slot->count++] = block;
        else {
            const std::lock_guard lock(mutex_);
            push_free(block);
        }
    }

private:
    friend struct detail::pool::thread_cache;

    struct free_node {
        free_node* next;
    };

    // This thread's cache for the pool, or nullptr (no per-thread cache configured, the thread is
    // ending and its cache is gone, or all of the thread's slots serve other live pools).
    detail::pool::cache_slot* cache_slot() noexcept {
        if (thread_cache_ == 0 ||
            detail::pool::local_cache_state == detail::pool::cache_state::dead)
            return nullptr;
        auto& cache = detail::pool::local_cache();
        if (auto* slot = cache.find(id_))
            return slot;
        // Slow path, once per thread and pool: claim a free slot, or one whose pool is gone.
        auto& reg = detail::pool::registry::get();
        const std::lock_guard lock(reg.mutex);
        for (auto& slot : cache.slots) {
            if (slot.id != 0 && reg.is_live(slot.id))
                continue;
            for (std::size_t i = 0; i < slot.count; ++i)
                detail::pool::free_block(slot.blocks[i]); // a dead pool's blocks
            slot = {};
            slot.id = id_;
            slot.pool = this;
            return &slot;
        }
        return nullptr;
    }

    // Called with the registry locked, from a thread that ends, for a live pool.
    void take_back(std::byte* const* blocks, std::size_t count) noexcept {
        const std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < count; ++i)
            push_free(blocks[i]);
    }

    std::byte* allocate_counted() noexcept {
        std::byte* block = detail::pool::allocate_block(block_size_);
        if (block != nullptr)
            allocated_.fetch_add(1, std::memory_order_relaxed);
        return block;
    }

    void free_counted(std::byte* block) noexcept {
        detail::pool::free_block(block);
        allocated_.fetch_sub(1, std::memory_order_relaxed);
    }

    void push_free(std::byte* block) noexcept {
        free_ = ::new (static_cast<void*>(block)) free_node{free_};
        ++free_count_;
    }

    std::byte* pop_free() noexcept {
        free_node* node = free_;
        free_ = node->next;
        --free_count_;
        std::memset(static_cast<void*>(node), 0, sizeof(free_node)); // the list's link, not data
        return reinterpret_cast<std::byte*>(node);
    }

    std::size_t block_size_;
    std::size_t max_blocks_;
    std::size_t thread_cache_;
    std::uint64_t id_ = 0;
    std::mutex mutex_;
    free_node* free_ = nullptr;  // guarded by mutex_
    std::size_t free_count_ = 0; // guarded by mutex_
    std::atomic<std::size_t> in_use_{0};
    std::atomic<std::size_t> peak_{0};
    std::atomic<std::size_t> allocated_{0};
};

inline detail::pool::thread_cache::~thread_cache() {
    local_cache_state = cache_state::dead;
    auto& reg = registry::get();
    const std::lock_guard lock(reg.mutex);
    for (auto& slot : slots) {
        if (slot.id == 0)
            continue;
        if (reg.is_live(slot.id))
            slot.pool->take_back(slot.blocks, slot.count);
        else
            for (std::size_t i = 0; i < slot.count; ++i)
                free_block(slot.blocks[i]);
        slot = {};
    }
}

// A byte_queue in one block of a buffer_pool, taken on the first prepare() and given back by
// release() (and the destructor) once the queue is empty.
class pooled_queue {
public:
    explicit pooled_queue(buffer_pool& pool) noexcept : pool_(&pool) {}

    pooled_queue(pooled_queue&& other) noexcept
        : pool_(other.pool_), block_(std::exchange(other.block_, nullptr)),
          window_(std::exchange(other.window_, {})) {}

    pooled_queue& operator=(pooled_queue&& other) noexcept {
        if (this == &other)
            return *this;
        give_back();
        pool_ = other.pool_;
        block_ = std::exchange(other.block_, nullptr);
        window_ = std::exchange(other.window_, {});
        return *this;
    }

    pooled_queue(const pooled_queue&) = delete;
    pooled_queue& operator=(const pooled_queue&) = delete;

    ~pooled_queue() { give_back(); }

    std::span<std::byte> prepare(std::size_t n) noexcept {
        const std::size_t capacity = pool_->block_size();
        if (n > capacity - size())
            return {};
        if (block_ == nullptr) {
            block_ = pool_->acquire();
            if (block_ == nullptr)
                return {};
        }
        if (capacity - window_.end < n)
            window_.compact(block_);
        return {block_ + window_.end, capacity - window_.end};
    }

    void commit(std::size_t n) noexcept { window_.commit(n); }
    std::span<const std::byte> data() const noexcept { return window_.in(block_); }
    void consume(std::size_t n) noexcept { window_.consume(n); }
    std::size_t size() const noexcept { return window_.size(); }
    std::size_t max_size() const noexcept { return pool_->block_size(); }
    bool holds_block() const noexcept { return block_ != nullptr; }
    buffer_pool& pool() const noexcept { return *pool_; }

    void release() noexcept {
        if (size() == 0)
            give_back();
    }

private:
    // The next connection to draw the block must not see this one's bytes: the part of the block
    // that held any is wiped first.
    void give_back() noexcept {
        if (block_ == nullptr)
            return;
        window_.wipe(block_);
        pool_->release(std::exchange(block_, nullptr));
    }

    buffer_pool* pool_;
    std::byte* block_ = nullptr;
    detail::byte_window window_;
};

// The buffer policy: an input and an output queue on one pool. At most two blocks per connection
// while it is busy, none while it is idle.
class pooled_buffer {
public:
    using queue_type = pooled_queue;

    explicit pooled_buffer(buffer_pool& pool) noexcept : input_(pool), output_(pool) {}

    queue_type& input() noexcept { return input_; }
    queue_type& output() noexcept { return output_; }
    const queue_type& input() const noexcept { return input_; }
    const queue_type& output() const noexcept { return output_; }

private:
    queue_type input_;
    queue_type output_;
};

static_assert(byte_queue<pooled_queue>);
static_assert(buffer_policy<pooled_buffer>);

} // namespace secctx
