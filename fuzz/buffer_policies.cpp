// Each buffer policy's queues (dynamic, fixed, pooled, caller-supplied) driven by a sequence of
// operations from the input and compared, after every one, with a reference model (a deque of
// bytes and the capacity the policy documents): the same bytes come out, prepare() fails exactly
// when the bytes would not fit, its space follows the readable bytes, moves carry the bytes, and
// no memory or pooled block is left behind.
//
// Input: a policy byte, a capacity byte, then operations: an op byte (bits 0-2 the operation,
// bit 3 which of the two queues) and its arguments.
#include "input.hpp"

#include "secctx/buffer/caller_supplied.hpp"
#include "secctx/buffer/dynamic.hpp"
#include "secctx/buffer/fixed.hpp"
#include "secctx/buffer/pooled.hpp"

#include <deque>
#include <memory_resource>
#include <optional>

using namespace secctx;

namespace {

// Counts what is outstanding, so a queue that forgets to free is caught even without LeakSanitizer;
// two of them compare unequal, which sends the dynamic queue's move assignment down its copy path.
class counting_resource : public std::pmr::memory_resource {
public:
    std::size_t outstanding = 0;

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        outstanding += bytes;
        return std::pmr::new_delete_resource()->allocate(bytes, alignment);
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
        outstanding -= bytes;
        std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
    }
    bool do_is_equal(const memory_resource& other) const noexcept override {
        return this == &other;
    }
};

struct model {
    std::deque<std::byte> bytes;
    std::size_t max_size = 0;
    bool holds_block = false; // pooled queues only
};

// Whether a queue knows which block it holds: only the pooled one gives it back when empty.
template <class Queue>
constexpr bool pooled = std::is_same_v<Queue, pooled_queue>;

template <class Queue>
void compare(const Queue& q, const model& m) {
    const auto data = q.data();
    fuzz::check(q.size() == m.bytes.size() && data.size() == m.bytes.size(), "size matches");
    fuzz::check(q.max_size() == m.max_size, "max_size matches");
    fuzz::check(std::equal(data.begin(), data.end(), m.bytes.begin()), "bytes match");
    if constexpr (pooled<Queue>)
        fuzz::check(q.holds_block() == m.holds_block, "holds a block when the model says so");
    if constexpr (std::is_same_v<Queue, caller_supplied_queue>) {
        const auto region = q.region();
        fuzz::check(data.empty() || (data.data() >= region.data() &&
                                     data.data() + data.size() <= region.data() + region.size()),
                    "a caller-supplied queue's bytes stay in its region");
    }
}

template <class Queue>
void prepare_commit(Queue& q, model& m, fuzz::input& in) {
    const std::size_t n = in.u16() % (m.max_size + 64);
    const bool fits = n <= m.max_size - m.bytes.size();
    const auto room = q.prepare(n);
    if (!fits) {
        fuzz::check(room.empty(), "prepare fails when the bytes would not fit");
        return;
    }
    fuzz::check(room.size() >= n, "prepare gives at least n bytes when they fit");
    if (q.size() != 0)
        fuzz::check(room.data() == q.data().data() + q.size(), "prepared space follows the data");
    if constexpr (pooled<Queue>)
        m.holds_block = true;
    // Commit up to the whole prepared span, which the contract allows, not just n.
    const std::size_t extra = room.size() - n;
    const std::size_t k = n + (extra == 0 ? 0 : in.byte() % (extra + 1));
    const std::byte fill{in.byte()};
    for (std::size_t i = 0; i < k; ++i) {
        room[i] = fill ^ std::byte{static_cast<unsigned char>(i)};
        m.bytes.push_back(room[i]);
    }
    q.commit(k);
}

template <class Queue>
void run(Queue& a, Queue& b, model& ma, model& mb, fuzz::input& in) {
    while (!in.empty()) {
        const std::uint8_t op = in.byte();
        const bool second = (op & 8) != 0;
        Queue& q = second ? b : a;
        Queue& other = second ? a : b;
        model& m = second ? mb : ma;
        model& mother = second ? ma : mb;
        switch (op % 5) {
        case 0:
            prepare_commit(q, m, in);
            break;
        case 1: {
            const std::size_t k = in.u16() % (m.bytes.size() + 1);
            q.consume(k);
            m.bytes.erase(m.bytes.begin(), m.bytes.begin() + static_cast<std::ptrdiff_t>(k));
            break;
        }
        case 2:
            q.release();
            if (m.bytes.empty())
                m.holds_block = false;
            break;
        case 3: // move assignment: the bytes (and a caller's region, a pool's block) go along
            q = std::move(other);
            m = std::exchange(mother, model{{}, mother.max_size, false});
            if constexpr (std::is_same_v<Queue, caller_supplied_queue>)
                mother.max_size = 0;
            break;
        case 4: { // move construction and back
            Queue moved(std::move(q));
            q = std::move(moved);
            break;
        }
        }
        compare(a, ma);
        compare(b, mb);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const std::uint8_t policy = in.byte();
    const std::size_t capacity = std::size_t{in.byte()} * 32 + 1;
    switch (policy % 4) {
    case 0: {
        counting_resource ra, rb;
        {
            using queue = basic_dynamic_queue<std::pmr::polymorphic_allocator<std::byte>>;
            // Bit 2: both queues on one resource, so move assignment takes the memory itself.
            queue a(capacity, &ra);
            queue b(capacity, (policy & 4) != 0 ? &ra : &rb);
            model ma{{}, capacity}, mb{{}, capacity};
            run(a, b, ma, mb, in);
        }
        fuzz::check(ra.outstanding == 0 && rb.outstanding == 0, "dynamic queues free everything");
        break;
    }
    case 1: {
        basic_fixed_queue<1024> a, b;
        model ma{{}, 1024}, mb{{}, 1024};
        run(a, b, ma, mb, in);
        break;
    }
    case 2: {
        buffer_pool pool(2, capacity);
        const std::size_t block = pool.block_size();
        {
            pooled_queue a(pool), b(pool);
            model ma{{}, block}, mb{{}, block};
            run(a, b, ma, mb, in);
            fuzz::check(pool.in_use() == std::size_t{ma.holds_block} + mb.holds_block,
                        "the pool counts the blocks the queues hold");
        }
        fuzz::check(pool.in_use() == 0, "pooled queues give every block back");
        break;
    }
    case 3: {
        // Two allocations, so that ASan sees a write past either region.
        std::vector<std::byte> first(capacity), second(capacity);
        caller_supplied_queue a(first), b(second);
        model ma{{}, capacity}, mb{{}, capacity};
        run(a, b, ma, mb, in);
        break;
    }
    }
    return 0;
}
